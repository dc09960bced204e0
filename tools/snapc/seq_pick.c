/* One rule for whether a sequence can be restarted (seq_pick.h): restart-mpi's check of the
 * sequence it takes, ckpt-info --verify's verdict of each, and the other sequence both advise,
 * so that none names one the other refuses. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filem/filem.h"
#include "filem/files_save.h"
#include "filem/partner.h"
#include "filem/stage.h"
#include "snapc/util.h"
#include "tools/restart_wincheck.h"
#include "seq_pick.h"

int seq_pick_cache_path(const struct filem_meta *m, const char *seqdir, int r, int partner,
                        char *out, size_t len)
{
    char k[64], host[256] = "";
    snprintf(k, sizeof k, partner ? "rank.%d.partner.host" : "rank.%d.host", r);
    const char *h = filem_meta_get(m, k);
    const char *local = filem_meta_get(m, "ckpt.local");
    gethostname(host, sizeof host - 1);
    /* no ckpt.local (a snapshot older than it): each host's default, as the fetch takes it */
    if (!local)
        local = "default";
    if (!h || strcmp(h, host) != 0 || !strcmp(local, FILEM_LOCAL_NONE))
        return -1;
    char def[PATH_MAX], dir[PATH_MAX], err[REVIVE_TEXT_PATHS(2)];
    if (!strcmp(local, "default")) {
        if (filem_local_default(def, sizeof def, 0, err, sizeof err) < 0)
            return -1;
        local = def;
    }
    if (filem_local_seq_dir(local, seqdir, 0, dir, sizeof dir, err, sizeof err) < 0)
        return -1;
    snprintf(out, len, "%s/%s%d.img", dir, partner ? FILEM_PARTNER_PREFIX : "rank_", r);
    return access(out, F_OK) == 0 ? 0 : -2;
}

/* The hosts seq_pick_host_down was told of */
#define DOWN_MAX 64
static struct {
    char host[256], why[256];
} down[DOWN_MAX];
static int ndown;

static int files_unjudged;

void seq_pick_files_unjudged(void)
{
    files_unjudged = 1;
}

/* HOST's probe words when it was found down, else NULL */
static const char *found_down(const char *host)
{
    for (int i = 0; i < ndown; i++)
        if (!strcmp(down[i].host, host))
            return down[i].why;
    return NULL;
}

void seq_pick_host_down(const char *host, const char *why)
{
    if (!host || found_down(host) || ndown == DOWN_MAX)
        return;
    snprintf(down[ndown].host, sizeof down[ndown].host, "%s", host);
    snprintf(down[ndown].why, sizeof down[ndown].why, "%s", why ? why : "down");
    ndown++;
}

/* Rank r's image, missing from seqdir (damage NULL) or damaged there (damage: its check's
 * words): where restart-mpi's fetch would take a copy from. The copy this host's cache holds is
 * checked; one on another host is named (it cannot be read from here). A SEQ_COPY_ value, msg
 * saying it. Before (review9 F5) ckpt-info called such a snapshot damaged though restart-mpi
 * restarted it; then restart-mpi called it fetchable though no copy was left (newuser8 F4). */
static int find_copy(const struct filem_meta *m, const char *seqdir, int r, const char *damage,
                     char *msg, size_t len)
{
    /* DAMAGE: the image is in this directory but fails its check (these words): a good copy
     * elsewhere is fetched over it by restart-mpi as for a missing one (newuser9 F8: "only an
     * image with no good copy is damaged", docs/snapshots.md) */
    char here[REVIVE_TEXT_PATHS(3)];
    if (damage)
        snapc_fmt(here, sizeof here, "rank_%d.img in this directory is damaged (%s)", r, damage);
    else
        snapc_fmt(here, sizeof here, "rank_%d.img is not in this directory", r);
    char k[64], path[PATH_MAX + 64], err[REVIVE_TEXT_PATHS(2)], why[REVIVE_TEXT_PATHS(6)] = "";
    uint64_t want = 0;
    snprintf(k, sizeof k, "rank.%d.checksum", r);
    filem_meta_get_u64(m, k, &want);
    const char *local = filem_meta_get(m, "ckpt.local");
    if (local && !strcmp(local, FILEM_LOCAL_NONE)) {
        if (damage)
            snapc_fmt(msg, len, "%s, and the job kept no node-local copies (ckpt.local none)", here);
        else
            snprintf(msg, len, "rank_%d.img is missing, and the job kept no node-local copies "
                               "(ckpt.local none)", r);
        return SEQ_COPY_NONE;
    }
    for (int partner = 0; partner < 2; partner++) {
        if (seq_pick_cache_path(m, seqdir, r, partner, path, sizeof path) < 0)
            continue;
        if (filem_stage_verify(path, want, err, sizeof err) == 0) {
            snapc_fmt(msg, len, "%s; the copy in this host's node-local cache is good (%s, "
                               "every chunk verified): restart-mpi fetches it %sbefore the "
                               "launch", here, path, damage ? "over the damaged one " : "");
            return SEQ_COPY_HERE;
        }
        snapc_fmt(why + strlen(why), sizeof why - strlen(why), "%s%s fails its check (%s)",
                  why[0] ? "; " : "", path, err);
    }
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    struct snapc_sbuf others = {0}, lost = {0};
    for (int partner = 0; partner < 2; partner++) {
        snprintf(k, sizeof k, partner ? "rank.%d.partner.host" : "rank.%d.host", r);
        const char *h = filem_meta_get(m, k), *dw = h ? found_down(h) : NULL;
        if (h && strcmp(h, host) != 0)
            snapc_sb_printf(dw ? &lost : &others, "%s%s%s%s%s%s", (dw ? lost.len : others.len) ? " or " : "",
                            partner ? "the partner copy on " : "the node-local cache of ", h,
                            dw ? " (" : "", dw ? dw : "", dw ? ")" : "");
    }
    int rc = others.len ? SEQ_COPY_AWAY : SEQ_COPY_NONE;
    if (!others.len && lost.len) /* the only copies on hosts restart-mpi found down */
        snapc_fmt(why + strlen(why), sizeof why - strlen(why), "%s%s, found down by restart-mpi's "
                  "fetch", why[0] ? "; " : "", lost.p);
    snapc_sb_free(&lost);
    if (others.len)
        snapc_fmt(msg, len, "%s%s%s; restart-mpi would fetch %s from %s, which "
                            "ckpt-info cannot read from this host (run ckpt-info --verify there, "
                            "or restart-mpi --showme)",
                  here, why[0] ? " and " : "", why, damage ? "a good copy over it" : "it", others.p);
    else if (damage)
        snapc_fmt(msg, len, "%s, and in no other copy: %s", here,
                  why[0] ? why : "not in this host's node-local cache, the only one that held it");
    else
        snapc_fmt(msg, len, "rank_%d.img is missing, and in no copy: %s", r,
                  why[0] ? why : "not in this host's node-local cache, the only one that held it");
    snapc_sb_free(&others);
    return rc;
}

struct judging {
    const struct filem_meta *m;
    const char *seqdir;
    struct seq_pick_verdict *v;
    seq_pick_rank_fn each;
    filem_image_check_fn also;
    void *arg;
};

/* filem_verify_seq's check of each image that passed, on the image it opened: the rule's own
 * (an image no restart can use: a window whose memory no restart puts back, which each rank's
 * revive-restart-rank refuses only after the launch; before, ckpt-info --verify alone looked,
 * outside this rule: its index line said "restart-mpi takes N" of a sequence it had just said
 * cannot be restarted, and restart-mpi launched it), then the caller's look */
static int image_check(void *arg, int rank, const struct crs_image *img, const char *path,
                       char *msg, size_t len)
{
    struct judging *j = arg;
    if (restart_wincheck_img(img, path, 0, msg, len))
        return -ENOTRECOVERABLE;
    return j->also ? j->also(j->arg, rank, img, path, msg, len) : 0;
}

/* filem_verify_seq's report: each failing image looked for in the copies restart-mpi fetches */
static void judge_rank(void *arg, int rank, int status, const char *msg)
{
    struct judging *j = arg;
    struct seq_pick_verdict *v = j->v;
    int copy = SEQ_COPY_NOT_NEEDED;
    char alt[REVIVE_TEXT_PATHS(8)];
    if (status == -ENOENT || (status < 0 && filem_image_replaceable(j->m, j->seqdir, rank, status, 1))) {
        copy = find_copy(j->m, j->seqdir, rank, status == -ENOENT ? NULL : msg, alt, sizeof alt);
        v->here += copy == SEQ_COPY_HERE;
        v->away += copy == SEQ_COPY_AWAY;
        v->damaged += status != -ENOENT && copy != SEQ_COPY_NONE;
    }
    if (status < 0 && (copy == SEQ_COPY_NOT_NEEDED || copy == SEQ_COPY_NONE)) {
        v->unusable += status == -ENOTRECOVERABLE;
        if (!v->bad++)
            snapc_fmt(v->why, sizeof v->why, "rank %d: %s", rank,
                      copy == SEQ_COPY_NONE ? alt : msg);
    }
    if (j->each)
        j->each(j->arg, rank, status, msg, copy, copy == SEQ_COPY_NOT_NEEDED ? NULL : alt);
}

int seq_pick_judge(const char *jobdir, uint64_t seq, const struct filem_meta *m, int deep,
                   struct crs_file_stamp *stamps, seq_pick_rank_fn each, filem_image_check_fn also,
                   void *arg, struct seq_pick_verdict *v)
{
    char seqdir[PATH_MAX], err[REVIVE_TEXT_PATHS(8)];
    struct filem_meta own;
    memset(v, 0, sizeof *v);
    v->result = SEQ_PICK_BAD;
    filem_seq_path(seqdir, sizeof seqdir, jobdir, seq);
    if (!m) {
        if ((v->ve = filem_meta_read(seqdir, &own, err, sizeof err)) < 0) {
            snapc_fmt(v->why, sizeof v->why, "%s", err);
            return v->result;
        }
        m = &own;
    }
    struct judging j = {.m = m, .seqdir = seqdir, .v = v, .each = each, .also = also, .arg = arg};
    v->ve = filem_verify_seq(jobdir, seq, m, deep, judge_rank, image_check, &j, stamps, err, sizeof err);
    if (v->ve == 0)
        v->result = SEQ_PICK_OK;
    /* every failing image has a copy restart-mpi fetches (not another failure no rank
     * reported, as metadata without a number of ranks) */
    else if (v->ve != -EPERM && !v->bad && v->here + v->away > 0)
        v->result = SEQ_PICK_FETCH;
    else if (!v->bad || v->ve == -EPERM)
        snapc_fmt(v->why, sizeof v->why, "%s", err);
    /* the saved files restart-mpi puts back: a copy missing or damaged refuses it too */
    if (v->result != SEQ_PICK_BAD && !files_unjudged && filem_files_count(m) > 0 &&
        filem_files_verify(seqdir, m, NULL, err, sizeof err) < 0) {
        v->result = SEQ_PICK_BAD;
        v->files_bad = 1;
        snapc_fmt(v->why, sizeof v->why, "a file it saved (--save-files): %s", err);
    }
    if (m == &own)
        filem_meta_free(&own);
    return v->result;
}

int seq_pick_check(const char *jobdir, uint64_t seq, int deep, int *fetch, char *why, size_t wlen)
{
    struct seq_pick_verdict v;
    int r = seq_pick_judge(jobdir, seq, NULL, deep, NULL, NULL, NULL, NULL, &v);
    if (fetch)
        *fetch = r == SEQ_PICK_FETCH ? v.here + v.away : 0;
    if (why && wlen)
        snprintf(why, wlen, "%s", r == SEQ_PICK_BAD ? v.why : "");
    return r;
}

/* Before a deep check of another sequence (seq_pick_say) */
static void say_checking(const struct seq_pick_say *say, int *said, const char *jobdir, uint64_t seq)
{
    if (!say || !say->me)
        return;
    if (!*said && say->refusal) {
        /* the refusal's head ("REF is damaged"): its whole reason (hundreds of characters: the
         * image, the chunk, each copy) is the final message's, said once (newuser47 L3). The
         * head ends at the first ':' or '(' after the job directory's path, which may hold
         * either ("run:2026-12-07T03:17", "run (2)") */
        const char *in = strstr(say->refusal, jobdir);
        size_t from = in && *jobdir ? (size_t)(in - say->refusal) + strlen(jobdir) : 0;
        size_t head = from + strcspn(say->refusal + from, ":(");
        while (head > 0 && say->refusal[head - 1] == ' ')
            head--;
        fprintf(stderr, "%s: %.*s%s; checking sequence %llu of %s (reading every image of it "
                "through, as a restart does) to name one to restart from instead\n",
                say->me, (int)head, say->refusal, say->refusal[head] ? " (why: below)" : "",
                (unsigned long long)seq, jobdir);
    }
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
    /* the damaged ones, and what is wrong with each (said once, in the advice: newuser8 F4) */
    char bad[256] = "", defects[2048] = "", one[512] = "";
    for (int i = n - 1; i >= 0 && ok < 0; i--) {
        if (v[i].state != FILEM_SEQ_COMMITTED || (int64_t)v[i].seq == seq)
            continue;
        int f = 0;
        char why[REVIVE_TEXT_PATHS(2)] = "";
        int r = known ? known(arg, v[i].seq, &f, why, sizeof why) : -1;
        if (r < 0 && deep)
            say_checking(say, &said, jobdir, v[i].seq);
        if (r < 0)
            r = seq_pick_check(jobdir, v[i].seq, deep, &f, why, sizeof why);
        if (r == SEQ_PICK_OK)
            ok = (int64_t)v[i].seq;
        else if (r == SEQ_PICK_FETCH && fetchable < 0) {
            fetchable = (int64_t)v[i].seq;
            nfetch = f;
        } else if (r == SEQ_PICK_BAD) {
            size_t l = strlen(bad);
            if (l < sizeof bad - 32)
                snprintf(bad + l, sizeof bad - l, "%s%llu", nbad ? ", " : "", (unsigned long long)v[i].seq);
            l = strlen(defects);
            if (l < sizeof defects - 64)
                snprintf(defects + l, sizeof defects - l, "%ssequence %llu: %.400s%s", nbad ? "; " : "",
                         (unsigned long long)v[i].seq, why[0] ? why : "damaged",
                         strlen(why) > 400 ? "..." : "");
            if (!nbad) /* one alone is said without its number again */
                snprintf(one, sizeof one, "%.400s%s", why[0] ? why : "damaged",
                         strlen(why) > 400 ? "..." : "");
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
                 "%s); run the job again from its start",
                 jobdir, nbad == 1 ? "" : "s", bad, nbad == 1 ? "is" : "are",
                 nbad == 1 ? one : defects);
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
