/* The other sequence restart-mpi and ckpt-info advise (seq_pick.h): checked as restart-mpi
 * checks the one it takes, so that neither names a damaged one. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filem/filem.h"
#include "seq_pick.h"

struct tally {
    const struct filem_meta *m;
    const char *seqdir;
    int missing, fixable, other;
};

/* filem_verify_seq's report: what restart-mpi would fetch (a missing image, a damaged one a
 * good copy may replace: filem_image_replaceable, its own rule) and what it refuses */
static void tally(void *arg, int rank, int status, const char *msg)
{
    (void)msg;
    struct tally *t = arg;
    if (status == 0)
        return;
    if (status == -ENOENT)
        t->missing++;
    else if (filem_image_replaceable(t->m, t->seqdir, rank, status, 1))
        t->fixable++;
    else
        t->other++;
}

int seq_pick_check(const char *jobdir, uint64_t seq, int deep, int *fetch)
{
    char seqdir[PATH_MAX], err[REVIVE_TEXT_PATHS(3)];
    struct filem_meta m;
    if (fetch)
        *fetch = 0;
    filem_seq_path(seqdir, sizeof seqdir, jobdir, seq);
    if (filem_meta_read(seqdir, &m, err, sizeof err) < 0)
        return SEQ_PICK_BAD;
    struct tally t = {.m = &m, .seqdir = seqdir};
    int ve = filem_verify_seq(jobdir, seq, &m, deep, tally, &t, NULL, err, sizeof err);
    const char *ckl = filem_meta_get(&m, "ckpt.local");
    int r = SEQ_PICK_BAD;
    if (ve == 0)
        r = SEQ_PICK_OK;
    /* restart-mpi fetches these from the node-local caches (a job that kept none: refused) */
    else if (ve != -EPERM && t.other == 0 && t.missing + t.fixable > 0 && !(ckl && !strcmp(ckl, "none"))) {
        r = SEQ_PICK_FETCH;
        if (fetch)
            *fetch = t.missing + t.fixable;
    }
    filem_meta_free(&m);
    return r;
}

/* Before a deep check of another sequence (seq_pick_say) */
static void say_checking(const struct seq_pick_say *say, int *said, const char *jobdir, uint64_t seq)
{
    if (!say || !say->me)
        return;
    if (!*said && say->refusal)
        fprintf(stderr, "%s: %s; checking sequence %llu of %s (reading every image of it through, "
                "as a restart does) to name one to restart from instead\n",
                say->me, say->refusal, (unsigned long long)seq, jobdir);
    else
        fprintf(stderr, "%s: checking sequence %llu of %s (reading every image of it through)\n", say->me,
                (unsigned long long)seq, jobdir);
    fflush(stderr);
    *said = 1;
}

const char *seq_pick_hint(const char *jobdir, int64_t seq, int deep, seq_pick_known_fn known,
                          void *arg, const struct seq_pick_say *say, int64_t *named, char *buf,
                          size_t len)
{
    struct filem_seq_info *v;
    int n;
    char err[512];
    if (named)
        *named = -1;
    if (filem_scan(jobdir, &v, &n, err, sizeof err) < 0) {
        snprintf(buf, len, "ckpt-info --verify %s lists what else it holds", jobdir);
        return buf;
    }
    int64_t ok = -1, fetchable = -1;
    int nfetch = 0, nbad = 0, said = 0;
    char bad[256] = "";
    for (int i = n - 1; i >= 0 && ok < 0; i--) {
        if (v[i].state != FILEM_SEQ_COMMITTED || (int64_t)v[i].seq == seq)
            continue;
        int f = 0;
        int r = known ? known(arg, v[i].seq, &f) : -1;
        if (r < 0 && deep)
            say_checking(say, &said, jobdir, v[i].seq);
        if (r < 0)
            r = seq_pick_check(jobdir, v[i].seq, deep, &f);
        if (r == SEQ_PICK_OK)
            ok = (int64_t)v[i].seq;
        else if (r == SEQ_PICK_FETCH && fetchable < 0) {
            fetchable = (int64_t)v[i].seq;
            nfetch = f;
        } else if (r == SEQ_PICK_BAD) {
            size_t l = strlen(bad);
            if (l < sizeof bad - 32)
                snprintf(bad + l, sizeof bad - l, "%s%llu", nbad ? ", " : "", (unsigned long long)v[i].seq);
            nbad++;
        }
    }
    free(v);
    if (ok < 0 && fetchable >= 0) {
        snprintf(buf, len,
                 "sequence %lld beside it is committed, %d of its images to come from the "
                 "node-local caches (restart-mpi --seq %lld %s fetches them where a good copy is)",
                 (long long)fetchable, nfetch, (long long)fetchable, jobdir);
        ok = fetchable;
    } else if (ok >= 0)
        snprintf(buf, len, "sequence %lld beside it is committed (restart-mpi --seq %lld %s)", (long long)ok,
                 (long long)ok, jobdir);
    else if (nbad)
        snprintf(buf, len,
                 "%s holds no other intact committed sequence (sequence%s %s %s damaged too: "
                 "ckpt-info --verify %s says how); run the job again from its start",
                 jobdir, nbad == 1 ? "" : "s", bad, nbad == 1 ? "is" : "are", jobdir);
    else
        snprintf(buf, len, "%s holds no other committed sequence to restart from", jobdir);
    if (named)
        *named = ok;
    return buf;
}

const char *seq_pick_meta_damaged(const char *err, const char *jobdir, int64_t seq, int deep,
                                  const char *me, char *out, size_t len)
{
    const char *cut = strstr(err, "; this snapshot cannot be used");
    if (!cut) {
        snprintf(out, len, "%s", err);
        return out;
    }
    char hint[2 * PATH_MAX + 256], refusal[REVIVE_TEXT_PATHS(3)];
    int64_t named;
    snprintf(refusal, sizeof refusal, "%.*s; this snapshot cannot be used", (int)(cut - err), err);
    struct seq_pick_say say = {me, refusal};
    seq_pick_hint(jobdir, seq, deep, NULL, NULL, &say, &named, hint, sizeof hint);
    snprintf(out, len, "%.*s; this snapshot cannot be used%s%s", (int)(cut - err), err,
             named >= 0 ? ": " : ", and ", hint);
    return out;
}
