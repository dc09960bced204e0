/* The sending end of restart-mpi's fetch of cached images (fetch.h). */
#define _GNU_SOURCE
#include "filem/fetch.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filem/filem.h"
#include "filem/local_meta.h"
#include "filem/partner.h"
#include "filem/stage.h"
#include "common/text.h"

/* One rank: its own node's copy first, then a partner copy; the first good one is sent. */
static void send_rank(const char *ldir, const char *lerr, int r, uint64_t seq, uint64_t want,
                      const char *addr, const char *secret, FILE *out)
{
    if (!ldir) {
        fprintf(out, "%s rank %d: none: %s\n", FILEM_FETCH_TAG, r, lerr);
        return;
    }
    char *why = NULL;
    size_t wl = 0;
    FILE *w = open_memstream(&why, &wl); /* what was found and refused, for the answer */
    static const char *const kinds[] = {"rank_", FILEM_PARTNER_PREFIX};
    int sent = 0;
    for (int k = 0; k < 2 && !sent; k++) {
        char path[PATH_MAX + 64], err[REVIVE_TEXT_PATHS(2)];
        snprintf(path, sizeof path, "%s/%s%d.img", ldir, kinds[k], r);
        if (access(path, F_OK) != 0)
            continue;
        /* a damaged copy is not sent: the receiver would refuse it after the whole transfer */
        if (filem_stage_verify(path, want, err, sizeof err) < 0) {
            if (w)
                fprintf(w, "%s%s fails its check (%s)", ftell(w) ? "; " : "", path, err);
            continue;
        }
        if (filem_partner_send(addr, secret, path, r, seq, want, err, sizeof err) == 0) {
            fprintf(out, "%s rank %d: sent %s\n", FILEM_FETCH_TAG, r, path);
            sent = 1;
        } else if (w)
            fprintf(w, "%ssending %s: %s", ftell(w) ? "; " : "", path, err);
    }
    if (w)
        fclose(w);
    if (!sent)
        fprintf(out, "%s rank %d: none: %s\n", FILEM_FETCH_TAG, r,
                why && *why ? why : "no copy in this host's cache");
    free(why);
}

/* SUMS ("R:VALUE,...") as rank.R.checksum keys of M. 0, or -EINVAL (none, or malformed). */
static int sums_meta(const char *sums, struct filem_meta *m)
{
    int n = 0;
    for (const char *p = sums; p && *p;) {
        char *end;
        long r = strtol(p, &end, 10);
        if (end == p || r < 0 || r >= (1L << 20) || *end != ':')
            return -EINVAL;
        p = end + 1;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 0);
        if (end == p || errno || (*end && *end != ','))
            return -EINVAL;
        char key[64];
        snprintf(key, sizeof key, "rank.%ld.checksum", r);
        if (filem_meta_set(m, key, "0x%016llx", v) < 0)
            return -EINVAL;
        n++;
        p = *end ? end + 1 : end;
    }
    return n ? 0 : -EINVAL;
}

int filem_fetch_send(const char *local, const char *seqdir, const char *ranks, const char *sums,
                     const char *addr,
                     const char *secret, FILE *out, char *err, size_t errlen)
{
    /* the launch got here: restart-mpi's start bound ends (the transfer's bound goes on) */
    fprintf(out, "%s\n", FILEM_FETCH_STARTED);
    fflush(out);
    if (!secret || strlen(secret) != 64) {
        snprintf(err, errlen, "no secret for the fetch (%s): run by restart-mpi only",
                 FILEM_FETCH_SECRET_ENV);
        return -EINVAL;
    }
    struct filem_meta m;
    filem_meta_init(&m);
    /* this host's cache of the sequence: none here is an answer, not an error */
    char ldef[PATH_MAX], ldir[PATH_MAX], lerr[REVIVE_TEXT_PATHS(2)] = "";
    const char *ld = NULL;
    int e = 0;
    if (!local || !*local || !strcmp(local, "default"))
        e = filem_local_default(ldef, sizeof ldef, 0, lerr, sizeof lerr), local = ldef;
    if (e == 0 && filem_local_seq_dir(local, seqdir, 0, ldir, sizeof ldir, lerr, sizeof lerr) == 0)
        ld = ldir;
    if (filem_meta_read(seqdir, &m, err, errlen) < 0) {
        /* SEQDIR is not seen here (re-created by restart-mpi --recreate-in on storage this
         * host does not see): the committed copy of snapshot.meta in this host's cached
         * sequence (local_meta.h) holds the same checksums, and restart-mpi checks every copy
         * it gets against its own */
        char e2[512];
        filem_meta_free(&m);
        filem_meta_init(&m);
        if (!ld || access(seqdir, F_OK) == 0 || filem_meta_read(ld, &m, e2, sizeof e2) < 0) {
            /* a sequence still staging has no snapshot.meta yet: the caller's checksums */
            filem_meta_free(&m);
            filem_meta_init(&m);
            if (!sums || sums_meta(sums, &m) < 0) {
                filem_meta_free(&m);
                if (sums)
                    snprintf(err, errlen, "bad checksum list '%s' (--sums R:0xHEX,...)", sums);
                return -EINVAL;
            }
        }
    }
    const char *base = strrchr(seqdir, '/');
    char *end;
    uint64_t seq = strtoull(base ? base + 1 : seqdir, &end, 10);
    if (*end || end == (base ? base + 1 : seqdir)) {
        filem_meta_free(&m);
        snprintf(err, errlen, "%s is not a sequence directory (.../<seq>)", seqdir);
        return -EINVAL;
    }
    for (const char *p = ranks; *p;) {
        long r = strtol(p, &end, 10);
        if (end == p || r < 0 || r >= (1L << 20) || (*end && *end != ',')) {
            filem_meta_free(&m);
            snprintf(err, errlen, "bad rank list '%s'", ranks);
            return -EINVAL;
        }
        p = *end ? end + 1 : end;
        char key[64];
        uint64_t want;
        snprintf(key, sizeof key, "rank.%ld.checksum", r);
        if (filem_meta_get_u64(&m, key, &want) < 0) {
            fprintf(out, "%s rank %ld: none: %s/snapshot.meta has no checksum for it\n",
                    FILEM_FETCH_TAG, r, seqdir);
            continue;
        }
        send_rank(ld, lerr, (int)r, seq, want, addr, secret, out);
        fflush(out);
    }
    filem_meta_free(&m);
    return 0;
}

static int seq_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* A write to the answer failed: the first failure's errno is kept (*werr), since later calls
 * (access of a missing mark) change errno before the end; EIO when the stream set none. */
static void note_write(int failed, int *werr)
{
    if (failed && !*werr)
        *werr = errno ? errno : EIO;
    errno = 0;
}

int filem_fetch_send_meta(const char *local, const char *jobdir, FILE *out, char *err,
                          size_t errlen)
{
    char ldef[PATH_MAX], cj[PATH_MAX + 256];
    if (!local || !*local || !strcmp(local, "default")) {
        if (filem_local_default(ldef, sizeof ldef, 0, err, errlen) < 0)
            return -EINVAL;
        local = ldef;
    }
    const char *job = strrchr(jobdir, '/');
    job = job ? job + 1 : jobdir;
    if (strncmp(job, FILEM_JOB_PREFIX, strlen(FILEM_JOB_PREFIX)) != 0) {
        snprintf(err, errlen, "%s is not a snapshot directory (%s<pid>.ckpt)", jobdir,
                 FILEM_JOB_PREFIX);
        return -EINVAL;
    }
    snprintf(cj, sizeof cj, "%s/%s", local, job);
    DIR *d = opendir(cj);
    uint64_t v[256];
    int nv = 0;
    if (!d && errno != ENOENT) {
        int e = errno;
        snprintf(err, errlen, "cannot read %s: %s", cj, strerror(e));
        return -e;
    }
    for (struct dirent *de; d && (de = readdir(d));) {
        const char *n = de->d_name;
        if (nv < 256 && *n && strspn(n, "0123456789") == strlen(n) && strlen(n) <= 18)
            v[nv++] = strtoull(n, NULL, 10);
    }
    if (d)
        closedir(d);
    qsort(v, (size_t)nv, sizeof v[0], seq_desc);
    int werr = 0;
    for (int i = 0; i < nv; i++) {
        char path[PATH_MAX + 300], why[512];
        char *b = NULL;
        size_t len = 0;
        snprintf(path, sizeof path, "%s/%llu/%s", cj, (unsigned long long)v[i], FILEM_META_NAME);
        if (access(path, F_OK) != 0 ||
            filem_read_private_file(path, FILEM_FILE_MAX, &b, &len, why, sizeof why) < 0)
            continue; /* none, or not the store's (restart-mpi hears of none) */
        errno = 0;
        note_write(fprintf(out, "%s sequence %llu bytes %zu\n", FILEM_META_TAG, (unsigned long long)v[i],
                           len) < 0, &werr);
        note_write(fwrite(b, 1, len, out) != len, &werr);
        free(b);
        b = NULL;
        /* its failed-restart mark, if any (local_failed.h) */
        snprintf(path, sizeof path, "%s/%llu/%s", cj, (unsigned long long)v[i],
                 FILEM_LOCAL_FAILED_NAME);
        if (access(path, F_OK) != 0 ||
            filem_read_private_file(path, FILEM_FILE_MAX, &b, &len, why, sizeof why) < 0)
            continue;
        errno = 0;
        note_write(fprintf(out, "%s failed %llu bytes %zu\n", FILEM_META_TAG, (unsigned long long)v[i], len) < 0,
                   &werr);
        note_write(fwrite(b, 1, len, out) != len, &werr);
        free(b);
    }
    errno = 0;
    note_write(fprintf(out, "%s end\n", FILEM_META_TAG) < 0, &werr);
    note_write(fflush(out) != 0, &werr);
    if (werr || ferror(out)) {
        /* an error flag with no failed call seen: no errno of it is known */
        int e = werr ? werr : EIO;
        snprintf(err, errlen, "cannot write its answer: %s", strerror(e));
        return -e;
    }
    return 0;
}
