/* One sequence of a snapshot directory as ckpt-info shows it (ckpt_info.h info_show_seq):
 * refused, not committed (failed, staging, being written) or committed with its facts, each
 * rank's image and where its copies are (text or JSON), and with --verify every image checked
 * and where restart-mpi would fetch a missing or damaged one from. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "filem/filem.h"
#include "filem/files_save.h"
#include "filem/local_gc.h"
#include "filem/local_retain.h"
#include "filem/partner.h"
#include "filem/stage.h"
#include "filem/stage_mark.h"
#include "crs/base/shared_note.h"
#include "snapc/util.h"
#include "tools/snapc/snap_owner.h"


#include "tools/snapc/ckpt_info.h"
#include "tools/snapc/seq_pick.h"

static void when(const char *t, char *out, size_t len)
{
    time_t s = t ? (time_t)strtoll(t, NULL, 10) : 0;
    struct tm tm;
    if (!s || !localtime_r(&s, &tm) || !strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(out, len, "?");
}

static const char *get(const struct filem_meta *m, const char *k)
{
    const char *v = filem_meta_get(m, k);
    return v ? v : "?";
}

static void command_line(const struct filem_meta *m, struct snapc_sbuf *b)
{
    uint64_t argc = 0;
    filem_meta_get_u64(m, "launcher.argc", &argc);
    snapc_sb_printf(b, "mpirun -am ft-enable-cr");
    for (uint64_t i = 0; i < argc && i < 100000; i++) {
        char k[48];
        snprintf(k, sizeof k, "launcher.arg.%llu", (unsigned long long)i);
        snapc_sb_printf(b, " %s", get(m, k));
    }
}

struct vctx {
    struct snapc_sbuf *jb;
    int first;
};

/* seq_pick_judge's word on each rank (the rule restart-mpi takes and refuses by): a line each
 * (text) or an entry of "verify" (JSON) */
static void report(void *arg, int rank, int status, const char *msg, int copy, const char *copymsg)
{
    struct vctx *v = arg;
    if (copymsg)
        msg = copymsg;
    const char *word = status >= 0              ? "ok "
                       : copy == SEQ_COPY_HERE  ? "ok (cache)"
                       : copy == SEQ_COPY_AWAY  ? "ELSEWHERE"
                                                : "BAD";
    if (info_json) {
        snapc_sb_printf(v->jb, "%s{\"rank\":%d,\"ok\":%s,", v->first ? "" : ",", rank,
                        status >= 0 || copy == SEQ_COPY_HERE ? "true" : "false");
        if (copy == SEQ_COPY_HERE || copy == SEQ_COPY_AWAY)
            snapc_sb_printf(v->jb, "\"in_directory\":false,\"copy\":\"%s\",",
                            copy == SEQ_COPY_HERE ? "this host's cache (verified)"
                                                  : "another host's cache (not checked)");
        snapc_sb_printf(v->jb, "\"message\":");
        snapc_sb_json_str(v->jb, msg);
        snapc_sb_printf(v->jb, "}");
        v->first = 0;
    } else
        printf("  rank %d: %s %s\n", rank, word, msg);
}

/* The phases of a checkpoint snapshot.meta keeps the time of (src/snapc/coord_meta.c: seconds
 * since the epoch with milliseconds), each with its name in the text and JSON. */
static const char *const phase_key[] = {"requested", "pending", "running", "quiesced",
                                        "drained",   "captured", "established"};
#define N_PHASES (sizeof phase_key / sizeof phase_key[0])

/* time.PHASE in ms since the epoch, or -1 when not recorded or not a number. */
static long long phase_ms(const struct filem_meta *m, const char *phase)
{
    char k[32];
    snprintf(k, sizeof k, "time.%s", phase);
    const char *v = filem_meta_get(m, k);
    char *end;
    double s = v ? strtod(v, &end) : -1;
    if (!v || end == v || *end || !(s > 0 && s < 1e11))
        return -1;
    return (long long)(s * 1000 + 0.5);
}

/* The time of each phase (ckpt-info(1) promises it; review newuser7 M2: only the commit's was
 * shown). Text: one line of milliseconds from the request, as ckpt-mpirun's summary gives them;
 * JSON: "times" (seconds since the epoch) and "ms_from_request". A phase not recorded is left
 * out. */
static void show_phases(const struct filem_meta *m, struct snapc_sbuf *jb)
{
    long long t0 = phase_ms(m, "requested");
    if (jb) {
        snapc_sb_printf(jb, ",\"times\":{");
        int k = 0;
        for (size_t i = 0; i < N_PHASES; i++) {
            long long t = phase_ms(m, phase_key[i]);
            if (t >= 0)
                snapc_sb_printf(jb, "%s\"%s\":%lld.%03lld", k++ ? "," : "", phase_key[i],
                                t / 1000, t % 1000);
        }
        snapc_sb_printf(jb, "},\"ms_from_request\":{");
        k = 0;
        for (size_t i = 1; t0 >= 0 && i < N_PHASES; i++) {
            long long t = phase_ms(m, phase_key[i]);
            if (t >= 0)
                snapc_sb_printf(jb, "%s\"%s\":%lld", k++ ? "," : "", phase_key[i], t - t0);
        }
        snapc_sb_printf(jb, "}");
        return;
    }
    if (t0 < 0)
        return;
    char at[64];
    char s[32];
    snprintf(s, sizeof s, "%lld", t0 / 1000);
    when(s, at, sizeof at);
    printf("  requested %s.%03lld; ms from the request:", at, t0 % 1000);
    int k = 0;
    for (size_t i = 1; i < N_PHASES; i++) {
        long long t = phase_ms(m, phase_key[i]);
        if (t >= 0)
            printf("%s %s %lld", k++ ? "," : "",
                   !strcmp(phase_key[i], "established") ? "committed" : phase_key[i], t - t0);
    }
    printf("\n");
}

/* What a look at rank R's image in the sequence directory DIR tells, without reading it
 * (--verify does): IMG_HERE; IMG_AWAY not here, restart-mpi fetches it from a node-local cache;
 * IMG_SIZE here with another size than the metadata's; IMG_LOST not here and the job kept no
 * node-local copy. The last two are damage ckpt-info has seen itself: status 1 (review newuser7
 * M1: it listed an image "DAMAGED" and exited 0, its --json silent). *st: the image's stat when
 * here; *want: the metadata's size. */
enum { IMG_HERE, IMG_AWAY, IMG_SIZE, IMG_LOST };
static int image_state(const struct filem_meta *m, const char *dir, uint64_t r, struct stat *st,
                       uint64_t *want)
{
    char k[64], p[PATH_MAX + 32];
    *want = 0;
    snprintf(k, sizeof k, "rank.%llu.size", (unsigned long long)r);
    filem_meta_get_u64(m, k, want);
    snprintf(p, sizeof p, "%s/rank_%llu.img", dir, (unsigned long long)r);
    if (stat(p, st) == 0)
        return *want && (uint64_t)st->st_size != *want ? IMG_SIZE : IMG_HERE;
    const char *lc = filem_meta_get(m, "ckpt.local");
    return lc && !strcmp(lc, FILEM_LOCAL_NONE) ? IMG_LOST : IMG_AWAY;
}

/* The damage image_state finds in every rank of the sequence: the number of damaged images,
 * the first one's words in first. */
static int seq_damage(const struct filem_meta *m, const char *dir, uint64_t ranks, char *first,
                      size_t len)
{
    int n = 0;
    for (uint64_t r = 0; r < ranks && r < (1u << 20); r++) {
        struct stat st;
        uint64_t want;
        int s = image_state(m, dir, r, &st, &want);
        if (s != IMG_SIZE && s != IMG_LOST)
            continue;
        if (!n++ && s == IMG_SIZE)
            snprintf(first, len, "rank %llu: rank_%llu.img is %lld bytes, the metadata says %llu",
                     (unsigned long long)r, (unsigned long long)r, (long long)st.st_size,
                     (unsigned long long)want);
        else if (n == 1)
            snprintf(first, len, "rank %llu: rank_%llu.img is missing, and the job kept no "
                                 "node-local copies (ckpt.local none)",
                     (unsigned long long)r, (unsigned long long)r);
    }
    return n;
}

/* One sequence: its details (and verification). INFO_OK, INFO_DAMAGED, INFO_STAGING when it is
 * being copied to this directory now, or INFO_NONE when it is not committed. */
/* The ranks' writable shared file mappings whose pages the snapshot left to their files
 * (rank.<r>.shared_file.K "BYTES PATH", rank.<r>.shared_file.more N): a line each in text, else
 * ,"unsaved_shared":[{"rank":R,"bytes":B,"path":P},...] in jb. */
static void show_shared(const struct filem_meta *m, uint64_t ranks, struct snapc_sbuf *jb)
{
    int listed = 0;
    for (uint64_t r = 0; r < ranks && r < (1u << 20); r++) {
        char k[96], whom[32], w[PATH_MAX + 300];
        snprintf(whom, sizeof whom, "rank %llu", (unsigned long long)r);
        for (unsigned i = 0;; i++) {
            snprintf(k, sizeof k, "rank.%llu.shared_file.%u", (unsigned long long)r, i);
            const char *v = filem_meta_get(m, k);
            struct crs_shared_line l;
            if (!v || !crs_shared_note_next(&v, 0, &l))
                break;
            if (jb) {
                char path[PATH_MAX];
                snprintf(path, sizeof path, "%.*s", l.pathlen, l.path);
                snapc_sb_printf(jb, "%s{\"rank\":%llu,\"bytes\":%llu,\"path\":", listed ? "," : ",\"unsaved_shared\":[",
                                (unsigned long long)r, l.bytes);
                snapc_sb_json_str(jb, path);
                snapc_sb_printf(jb, "}");
            } else {
                crs_shared_warning(w, sizeof w, whom, &l, "snapshot", "--save-shared", NULL);
                printf("  warning: %s\n", w);
            }
            listed++;
        }
        snprintf(k, sizeof k, "rank.%llu.shared_file.more", (unsigned long long)r);
        const char *more = filem_meta_get(m, k);
        struct crs_shared_line l = {.more = more ? strtoull(more, NULL, 10) : 0};
        if (l.more && !jb) {
            crs_shared_warning(w, sizeof w, whom, &l, "snapshot", NULL, NULL);
            printf("  warning: %s\n", w);
        }
    }
    if (listed && jb)
        snapc_sb_printf(jb, "]");
}

/* A sequence directory others could change is refused by restart-mpi (filem_private_dir): said
 * here, with its words, rather than listed as good (issue 7 review F5: ckpt-info --verify of the
 * snapshot directory said OK for a 0755 newest sequence that restart-mpi refused). 1 when so
 * (said), 0 when not. */
static int seq_refused(const char *dir, uint64_t seq, struct snapc_sbuf *jb)
{
    char err[REVIVE_TEXT_PATHS(8)];
    int e = filem_private_dir(dir, 0, err, sizeof err);
    if (e < 0 && e != -ENOENT) {
        if (info_json) {
            snapc_sb_printf(jb, "{\"seq\":%llu,\"state\":\"refused\",\"error\":",
                            (unsigned long long)seq);
            snapc_sb_json_str(jb, err);
            snapc_sb_printf(jb, "}");
        } else {
            printf("%s\n  REFUSED by restart-mpi: %s\n", dir, err);
            fprintf(stderr, "%s: %s cannot be restarted: %s\n", info_me, dir, err);
        }
        return 1;
    }
    return 0;
}

/* A sequence without readable metadata (e: filem_meta_read's error, err its words): failed
 * (its staging's reason), staging, being written, not committed, or damaged; said, and the
 * status returned. */
static int seq_uncommitted(const char *jobdir, const char *dir, uint64_t seq, int e, char *err, size_t errlen,
                           struct snapc_sbuf *jb)
{
    /* a failed staging left its reason (review9 F5: only the listing of the snapshot
     * directory showed it) */
    char why[REVIVE_TEXT_PATHS(2)];
    int failed = e == -ENOENT && filem_stage_failed_reason(jobdir, seq, why, sizeof why);
    if (failed)
        snapc_fmt(err, errlen,
                  "%s is not committed: its staging failed: %s; restart-mpi skips it "
                  "(ckpt-info %s lists the committed sequences)",
                  dir, why, jobdir);
    /* being copied now (newuser9 F1: shown as "never finished or it failed") */
    int staging = e == -ENOENT && !failed && filem_phase_active(jobdir, seq, FILEM_PHASE_STAGING);
    if (staging)
        snapc_fmt(err, errlen,
                  "%s is staging: the running job's agents are copying its images to this "
                  "directory; it is committed once every image is verified there (until "
                  "then restart-mpi refuses it; ckpt-info %s says when, or ckpt-mpirun waits "
                  "for it without --no-wait-stage)",
                  dir, dir);
    /* its ranks still writing their images (closing31: "not committed", as one that never
     * finished) */
    int writing = e == -ENOENT && !failed && !staging && filem_phase_active(jobdir, seq, FILEM_PHASE_WRITING);
    if (writing)
        snapc_fmt(err, errlen,
                  "%s is being written: the running job's ranks are writing its images; it "
                  "is committed once they are all written and verified (until then restart-mpi "
                  "refuses it; ckpt-info %s says when)",
                  dir, dir);
    if (info_json) {
        snapc_sb_printf(jb, "{\"seq\":%llu,\"state\":\"%s\",\"error\":", (unsigned long long)seq,
                        failed    ? "failed"
                        : staging ? "staging"
                        : writing ? "writing"
                        : e == -ENOENT ? "uncommitted"
                                       : "damaged");
        snapc_sb_json_str(jb, failed ? why : err);
        snapc_sb_printf(jb, "}");
    } else {
        if (failed)
            printf("%s\n  failed: not committed, its images could not all be copied to this "
                   "directory: %s\n", dir, why);
        if (staging)
            printf("%s\n  staging: not committed yet, the running job's agents are copying "
                   "its images to this directory\n", dir);
        if (writing)
            printf("%s\n  writing: not committed yet, the running job's ranks are writing "
                   "its images\n", dir);
        fprintf(stderr, "%s: %s\n", info_me, err);
    }
    return staging || writing ? INFO_STAGING : e == -ENOENT ? INFO_NONE : INFO_DAMAGED;
}

/* One rank's entry of a committed sequence's "rank_images" (JSON). */
static void rank_json(const struct filem_meta *m, const char *dir, uint64_t r, struct snapc_sbuf *jb)
{
    char k1[64], k2[64], k3[64], k4[64];
    snprintf(k1, sizeof k1, "rank.%llu.size", (unsigned long long)r);
    snprintf(k2, sizeof k2, "rank.%llu.checksum", (unsigned long long)r);
    snprintf(k3, sizeof k3, "rank.%llu.host", (unsigned long long)r);
    snprintf(k4, sizeof k4, "rank.%llu.pid", (unsigned long long)r);
    snapc_sb_printf(jb, "%s{\"rank\":%llu,\"size\":%s,\"checksum\":", r ? "," : "",
                    (unsigned long long)r, get(m, k1));
    snapc_sb_json_str(jb, get(m, k2));
    /* not recorded (a rank gone at the commit, before review9 F7): null, not "?" (a
     * pid of ? was no JSON) */
    snapc_sb_printf(jb, ",\"host\":");
    if (filem_meta_get(m, k3))
        snapc_sb_json_str(jb, get(m, k3));
    else
        snapc_sb_printf(jb, "null");
    snapc_sb_printf(jb, ",\"pid\":%s", filem_meta_get(m, k4) ? get(m, k4) : "null");
    struct stat st;
    uint64_t want;
    int is = image_state(m, dir, r, &st, &want);
    snapc_sb_printf(jb, ",\"in_directory\":%s,\"damaged\":%s",
                    is == IMG_HERE || is == IMG_SIZE ? "true" : "false",
                    is == IMG_SIZE || is == IMG_LOST ? "true" : "false");
    if (is == IMG_SIZE)
        snapc_sb_printf(jb, ",\"size_here\":%lld", (long long)st.st_size);
    snprintf(k3, sizeof k3, "rank.%llu.gone", (unsigned long long)r);
    if (filem_meta_get(m, k3))   /* "ended": its node up (newuser9b N4) */
        snapc_sb_printf(jb, ",\"gone_at_commit\":true,\"node_lost\":%s",
                        strcmp(get(m, k3), "ended") ? "true" : "false");
    snprintf(k3, sizeof k3, "rank.%llu.gone.why", (unsigned long long)r);
    if (filem_meta_get(m, k3)) { /* what its host answered when asked (or its silence) */
        snapc_sb_printf(jb, ",\"gone_why\":");
        snapc_sb_json_str(jb, get(m, k3));
    }
    snprintf(k3, sizeof k3, "rank.%llu.partner.host", (unsigned long long)r);
    if (filem_meta_get(m, k3)) {
        snapc_sb_printf(jb, ",\"partner_host\":");
        snapc_sb_json_str(jb, get(m, k3));
    }
    snapc_sb_printf(jb, "}");
}

/* A committed sequence in JSON: its facts, each rank's image, the unsaved shared mappings,
 * its partner copies. */
static void seq_json(const struct filem_meta *m, const char *dir, uint64_t seq, uint64_t ranks, uint64_t bytes,
                     const char *command, struct snapc_sbuf *jb)
{
    snapc_sb_printf(jb, "{\"seq\":%llu,\"state\":\"committed\",\"reference\":",
                    (unsigned long long)seq);
    snapc_sb_json_str(jb, dir);
    snapc_sb_printf(jb, ",\"established\":");
    snapc_sb_json_str(jb, get(m, "time.established"));
    show_phases(m, jb);
    snapc_sb_printf(jb, ",\"ranks\":%llu,\"bytes\":%llu,\"hosts\":", (unsigned long long)ranks,
                    (unsigned long long)bytes);
    snapc_sb_json_str(jb, get(m, "hosts"));
    if (filem_meta_get(m, "hosts.lost")) {
        snapc_sb_printf(jb, ",\"hosts_lost\":");
        snapc_sb_json_str(jb, get(m, "hosts.lost"));
    }
    snapc_sb_printf(jb, ",\"flavor\":");
    snapc_sb_json_str(jb, get(m, "launcher.flavor"));
    snapc_sb_printf(jb, ",\"command\":");
    snapc_sb_json_str(jb, command);
    snapc_sb_printf(jb, ",\"cwd\":");
    snapc_sb_json_str(jb, get(m, "cwd"));
    snapc_sb_printf(jb, ",\"mpi_library\":");
    snapc_sb_json_str(jb, get(m, "mpi.path"));
    snapc_sb_printf(jb, ",\"app\":");
    snapc_sb_json_str(jb, get(m, "app.path"));
    if (filem_meta_get(m, "parent.jobdir")) {
        snapc_sb_printf(jb, ",\"parent\":");
        char p[PATH_MAX + 32];
        snprintf(p, sizeof p, "%s/%s", get(m, "parent.jobdir"), get(m, "parent.seq"));
        snapc_sb_json_str(jb, p);
    }
    info_ckpt_options(m, jb);
    snapc_sb_printf(jb, ",\"rank_images\":[");
    for (uint64_t r = 0; r < ranks && r < (1u << 20); r++)
        rank_json(m, dir, r, jb);
    snapc_sb_printf(jb, "]");
    show_shared(m, ranks, jb);
    if (filem_meta_get(m, "partner.state")) {
        snapc_sb_printf(jb, ",\"partner\":");
        snapc_sb_json_str(jb, get(m, "partner.state"));
        if (filem_meta_get(m, "partner.why")) {
            snapc_sb_printf(jb, ",\"partner_why\":");
            snapc_sb_json_str(jb, get(m, "partner.why"));
        }
    }
}

/* One rank's line of a committed sequence (text): its image, where it ran, its copies. */
static void rank_text(const struct filem_meta *m, const char *dir, uint64_t r)
{
    char k1[64], k2[64], k3[64], k4[64], rb[32];
    uint64_t sz = 0;
    snprintf(k1, sizeof k1, "rank.%llu.size", (unsigned long long)r);
    snprintf(k2, sizeof k2, "rank.%llu.checksum", (unsigned long long)r);
    snprintf(k3, sizeof k3, "rank.%llu.host", (unsigned long long)r);
    snprintf(k4, sizeof k4, "rank.%llu.pid", (unsigned long long)r);
    filem_meta_get_u64(m, k1, &sz);
    snapc_human_bytes(rb, sizeof rb, sz);
    const char *lc = filem_meta_get(m, "ckpt.local");
    int cached = lc && strcmp(lc, "none") != 0;
    char k5[64], k6[64];
    snprintf(k5, sizeof k5, "rank.%llu.partner.host", (unsigned long long)r);
    snprintf(k6, sizeof k6, "rank.%llu.staged.from", (unsigned long long)r);
    const char *from = filem_meta_get(m, k6);
    /* this host's cache copy, when it is the rank's node: staging made the image a
     * hard link to it when both are on one file system, and one file under two
     * names is one copy (review9 F5: "copies: this directory, the cache of vm", and
     * one truncate hit both); not in this directory, restart-mpi fetches it */
    char cp[PATH_MAX + 64];
    struct stat cs, ss;
    uint64_t want;
    int is = image_state(m, dir, r, &ss, &want);
    int here = is == IMG_HERE || is == IMG_SIZE;
    int cpr = cached ? seq_pick_cache_path(m, dir, (int)r, 0, cp, sizeof cp) : -1;
    int incache = cpr == 0 && stat(cp, &cs) == 0;
    int one = here && incache && cs.st_dev == ss.st_dev && cs.st_ino == ss.st_ino;
    /* a file here of another size is no copy (review10: a truncated image was
     * listed as "this directory", status 0, until --verify) */
    char wrong[128] = "";
    if (is == IMG_SIZE)
        snprintf(wrong, sizeof wrong,
                 " (DAMAGED: %lld bytes here, the metadata says %llu; ckpt-info "
                 "--verify checks it)", (long long)ss.st_size, (unsigned long long)sz);
    /* where it ran: a sequence committed after the rank's node was lost says so
     * (rank.N.gone); one written before the coordinator kept that (review9 F7:
     * "was pid ? on ?") says plainly that it is not recorded. "ended": it ended
     * before the commit with its node up (the launcher ended the job: newuser9b N4,
     * the coordinator's own host's ranks were called lost with their node) */
    char was[160], k7[64];
    snprintf(k7, sizeof k7, "rank.%llu.gone", (unsigned long long)r);
    const char *gone = filem_meta_get(m, k7);
    int ended = gone && !strcmp(gone, "ended");
    if (filem_meta_get(m, k3))
        snprintf(was, sizeof was, "was pid %s on %s%s", get(m, k4), get(m, k3),
                 ended  ? " (ended before the commit, its node up)"
                 : gone ? " (gone before the commit: its node lost)"
                        : "");
    else
        snprintf(was, sizeof was,
                 "its host and pid not recorded (the rank was gone at the commit)");
    printf("  rank %llu: rank_%llu.img %s, checksum %s, %s; copies: "
           "%s%s%s%s%s%s%s%s%s%s\n",
           (unsigned long long)r, (unsigned long long)r, rb, get(m, k2), was,
           is == IMG_LOST ? "none (MISSING: not in this directory, and the job "
                            "kept no node-local copies)"
           : !here        ? "not in this directory (restart-mpi fetches it from a cache)"
                          : "this directory",
           wrong,
           from ? " (staged from " : "", from ? from : "",
           from ? (ended ? ": it had ended)" : ": its node was lost)") : "",
           one ? " and the cache of " : cached ? ", the cache of " : "",
           cached ? (filem_meta_get(m, k3) ? get(m, k3) : "its node (not recorded)")
                  : "",
           one       ? ", one file under two names (a hard link: a single copy)"
           : incache    ? " (present)"
           : cpr == -2  ? " (no longer there)"
           /* another host's cache, not readable from here: "if not lost" only
            * when its node was lost or is not recorded (newuser9c C1: said of a
            * host that had answered at the commit) */
           : cached && filem_meta_get(m, k3) && !(gone && !ended)
                        ? " (on that host; not checked from here)"
           : cached     ? " (if not lost)"
                     : "",
           filem_meta_get(m, k5) ? ", partner copy on " : "",
           filem_meta_get(m, k5) ? get(m, k5) : "");
}

/* A committed sequence as text: its facts, the unsaved shared mappings, its partner copies,
 * and (without --verify, which lists them as it checks them) each rank's image. */
static void seq_text(const struct filem_meta *m, const char *dir, uint64_t ranks, const char *established,
                     const char *bytes, const char *command, int verify)
{
    const char *lost = filem_meta_get(m, "hosts.lost");
    printf("%s\n  committed %s, %llu ranks, %s on %s%s%s%s\n  %s (%s)\n  in %s\n", dir, established,
           (unsigned long long)ranks, bytes, get(m, "hosts"), lost ? " (lost before the commit: " : "",
           lost ? lost : "", lost ? ")" : "", command, get(m, "launcher.flavor"), get(m, "cwd"));
    show_phases(m, NULL);
    printf("  MPI library %s; application %s\n", get(m, "mpi.path"), get(m, "app.path"));
    if (filem_meta_get(m, "parent.jobdir"))
        printf("  restarted from %s/%s\n", get(m, "parent.jobdir"), get(m, "parent.seq"));
    info_ckpt_options(m, NULL);
    show_shared(m, ranks, NULL);
    /* where the copies are (issue 9): this directory, the ranks' node caches, partners */
    if (filem_meta_get(m, "partner.state")) {
        if (!strcmp(get(m, "partner.state"), "protected"))
            printf("  partner copies: protected (every rank's image also verified in another "
                   "node's cache)\n");
        else
            printf("  partner copies: NOT protected: %s\n", get(m, "partner.why"));
    }
    if (!verify)
        for (uint64_t r = 0; r < ranks && r < (1u << 20); r++)
            rank_text(m, dir, r);
}

/* --verify of a committed sequence: every image checked by the rule restart-mpi takes and
 * refuses by (seq_pick_judge; each said through report), then the outcome said, and kept in
 * *vd for the index line; *ndmg (the ranks found damaged without --verify) as the check
 * decides. Returns the status. */
static int seq_verify(const char *jobdir, uint64_t seq, const struct filem_meta *m, int *ndmg,
                      struct snapc_sbuf *jb, struct seq_pick_verdict *vd)
{
    struct vctx v = {.jb = jb, .first = 1};
    if (info_json)
        snapc_sb_printf(jb, ",\"verify\":[");
    int r = seq_pick_judge(jobdir, seq, m, 1, NULL, report, NULL, &v, vd);
    /* what restart-mpi fetches from other hosts' caches cannot be checked from here: status 1,
     * "not complete here" (not damaged) */
    int e = r == SEQ_PICK_OK || (r == SEQ_PICK_FETCH && !vd->away) ? 0 : -1;
    /* whole images no restart can use (a window whose memory no restart puts back): the
     * rule's verdict too, so the index line and restart-mpi say the same */
    int unusable = r == SEQ_PICK_BAD && vd->unusable && vd->unusable == vd->bad;
    if (info_json) {
        snapc_sb_printf(jb, "],\"verified\":%s", e < 0 ? "false" : "true");
        if (unusable) {
            snapc_sb_printf(jb, ",\"restartable\":false,\"why\":");
            snapc_sb_json_str(jb, vd->why);
        }
        if (vd->here || vd->away)
            snapc_sb_printf(jb, ",\"from_caches\":%d,\"not_checked\":%d",
                            vd->here + vd->away, vd->away);
    } else if (r == SEQ_PICK_BAD && vd->ve == -EPERM)
        fprintf(stderr, "%s: %s/%llu cannot be restarted: %s (Revive writes its files 0600)\n",
                info_me, jobdir, (unsigned long long)seq, vd->why);
    else if (r == SEQ_PICK_FETCH && vd->away)
        fprintf(stderr, "%s: %s/%llu is not complete here: %d image%s missing from it%s %s "
                        "only in other hosts' node-local caches, which ckpt-info cannot "
                        "check from here (said above per rank); restart-mpi fetches them "
                        "from there\n",
                info_me, jobdir, (unsigned long long)seq, vd->away,
                vd->away == 1 ? "" : "s", vd->damaged ? " or damaged in it" : "",
                vd->damaged ? "may have a good copy" : vd->away == 1 ? "is" : "are");
    else if (r == SEQ_PICK_BAD)
        fprintf(stderr, "%s: %s/%llu %s: %s\n", info_me, jobdir, (unsigned long long)seq,
                unusable ? "cannot be restarted" : "is damaged", vd->why);
    else if (vd->here)
        printf("  verified: every image matches the metadata and every checksum; %d missing "
               "from this directory%s, with a good copy in this host's node-local cache, "
               "which restart-mpi fetches\n", vd->here,
               vd->damaged ? " or damaged in it" : "");
    else
        printf("  verified: every image matches the metadata and every checksum\n");
    /* the check of every image decides: a shared image of another size than the
     * metadata's with a good copy in this host's cache is fetched over like any damaged one
     * (newuser7 F2: status 1 with no line on standard error, from the size alone) */
    if (e == 0)
        *ndmg = 0;
    *ndmg += r == SEQ_PICK_BAD && vd->bad && !unusable && !*ndmg;
    return e < 0 ? INFO_DAMAGED : INFO_OK;
}
/* The files --save-files saved with the snapshot (files.*, filem/files_save.h): what was named,
 * how many entries; with --verify each copy re-read against its checksum. INFO_OK or
 * INFO_DAMAGED. */
static int show_files(const struct filem_meta *m, const char *dir, int verify, struct snapc_sbuf *jb,
                      char *why, size_t wlen)
{
    int n = filem_files_count(m);
    if (!n)
        return INFO_OK;
    int nfile = 0;
    uint64_t bytes = 0;
    for (int i = 0; i < n; i++) {
        char k[64];
        snprintf(k, sizeof k, "files.%d.type", i);
        const char *t = filem_meta_get(m, k);
        uint64_t sz = 0;
        snprintf(k, sizeof k, "files.%d.size", i);
        if (t && !strcmp(t, "file") && filem_meta_get_u64(m, k, &sz) == 0) {
            nfile++;
            bytes += sz;
        }
    }
    char hb[32], err[REVIVE_TEXT_PATHS(3)];
    snapc_human_bytes(hb, sizeof hb, bytes);
    int e = 0, checked = 0;
    if (verify)
        e = filem_files_verify(dir, m, &checked, err, sizeof err);
    if (jb) {
        snapc_sb_printf(jb, ",\"saved_files\":{\"paths\":");
        snapc_sb_json_str(jb, get(m, "files.roots"));
        snapc_sb_printf(jb, ",\"entries\":%d,\"files\":%d,\"bytes\":%llu", n, nfile,
                        (unsigned long long)bytes);
        if (verify) {
            snapc_sb_printf(jb, ",\"verified\":%s", e < 0 ? "false" : "true");
            if (e < 0) {
                snapc_sb_printf(jb, ",\"error\":");
                snapc_sb_json_str(jb, err);
            }
        }
        snapc_sb_printf(jb, "}");
    } else {
        printf("  saved files (--save-files; restart-mpi puts them back): %s (%d entr%s, %d "
               "file%s, %s)\n",
               get(m, "files.roots"), n, n == 1 ? "y" : "ies", nfile, nfile == 1 ? "" : "s", hb);
        if (verify && e == 0)
            printf("  verified: the %d saved file%s match their checksums\n", checked,
                   checked == 1 ? "" : "s");
    }
    if (e < 0)
        snapc_fmt(why, wlen, "a file it saved (--save-files): %s", err);
    if (e < 0 && !jb)
        fprintf(stderr, "%s: %s is damaged: %s (restart-mpi refuses it unless given "
                        "--no-restore-files)\n",
                info_me, dir, err);
    return e < 0 ? INFO_DAMAGED : INFO_OK;
}

int info_show_seq(const char *jobdir, uint64_t seq, int verify, struct snapc_sbuf *jb,
                  struct seq_pick_verdict *vd)
{
    struct seq_pick_verdict own;
    if (!vd)
        vd = &own;
    vd->result = -1;
    char dir[PATH_MAX], err[REVIVE_TEXT_PATHS(8)];
    filem_seq_path(dir, sizeof dir, jobdir, seq);
    if (seq_refused(dir, seq, jb))
        return INFO_DAMAGED;
    int lock = verify ? filem_seq_lock_shared(jobdir, seq) : -1;
    struct filem_meta m;
    int e = filem_meta_read(dir, &m, err, sizeof err);
    if (e < 0) {
        if (lock >= 0)
            close(lock);
        if (e == -EBADMSG) { /* the sequence it names passes restart-mpi's check (seq_pick.h) */
            char msg[sizeof err];
            seq_pick_meta_damaged(err, jobdir, (int64_t)seq, verify, info_me, msg, sizeof msg);
            snprintf(err, sizeof err, "%s", msg);
        }
        return seq_uncommitted(jobdir, dir, seq, e, err, sizeof err, jb);
    }
    uint64_t ranks = 0, bytes = 0;
    filem_meta_get_u64(&m, "ranks", &ranks);
    filem_meta_get_u64(&m, "bytes", &bytes);
    char t[64], hb[32];
    when(filem_meta_get(&m, "time.established"), t, sizeof t);
    snapc_human_bytes(hb, sizeof hb, bytes);
    struct snapc_sbuf cl = {0};
    command_line(&m, &cl);
    char dmg[PATH_MAX + 128] = "";
    int ndmg = seq_damage(&m, dir, ranks, dmg, sizeof dmg);
    int bad = ndmg ? INFO_DAMAGED : INFO_OK;
    if (info_json)
        seq_json(&m, dir, seq, ranks, bytes, cl.p, jb);
    else
        seq_text(&m, dir, ranks, t, hb, cl.p, verify);
    snapc_sb_free(&cl);
    char fwhy[sizeof vd->why] = "";
    int fbad = show_files(&m, dir, verify, info_json ? jb : NULL, fwhy, sizeof fwhy);
    if (verify)
        bad = seq_verify(jobdir, seq, &m, &ndmg, jb, vd);
    if (fbad != INFO_OK && verify && vd->result != SEQ_PICK_BAD) {
        /* the rule's verdict (seq_pick_files_unjudged: read once, by show_files): restart-mpi
         * refuses it, and the index line says so */
        vd->result = SEQ_PICK_BAD;
        vd->files_bad = 1;
        snapc_fmt(vd->why, sizeof vd->why, "%s", fwhy);
    }
    if (fbad != INFO_OK)
        bad = fbad;
    else if (ndmg && !verify && !info_json)
        /* one line on stderr, as for every status 1 (with --verify, seq_verify's: a second,
         * "is damaged:  (ckpt-info --verify checks every image)", followed it) */
        fprintf(stderr, "%s: %s is damaged: %s%s (ckpt-info --verify checks every image)\n", info_me,
                dir, dmg, ndmg > 1 ? ", and more ranks (listed above)" : "");
    if (info_json)
        snapc_sb_printf(jb, ",\"damaged\":%s}", ndmg ? "true" : "false");
    filem_meta_free(&m);
    if (lock >= 0)
        close(lock);
    return bad;
}

