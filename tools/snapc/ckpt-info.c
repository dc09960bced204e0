/* ckpt-info [--verify] [--json] REF
 *
 * What a global snapshot holds. REF is a sequence (.../revive_global_snapshot_PID.ckpt/SEQ) or
 * a snapshot directory (.../revive_global_snapshot_PID.ckpt: every sequence). --verify checks
 * every rank image against the metadata (size, the file's checksum over every member of a tree file, every chunk's checksum).
 * Exit statuses (usage() says them too): 0 the snapshot can be restarted from, 1 it is damaged
 * (or fails --verify, or is not private, or REF is no snapshot at all), 2 usage, 3 there is nothing committed there (REF is
 * missing, its sequence was not committed, or the directory holds no committed sequence), 4 not
 * committed yet: the sequence (or, with no committed one, one of the directory) is staging, its
 * images being copied by the running job's agents (newuser9 F1); one message on stderr for each
 * of 1, 3 and 4. */
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
#include "filem/local_gc.h"
#include "filem/local_retain.h"
#include "filem/partner.h"
#include "filem/stage.h"
#include "filem/stage_mark.h"
#include "snapc/util.h"
#include "tools/snapc/snap_owner.h"

enum { INFO_OK = 0, INFO_DAMAGED = 1, INFO_USAGE = 2, INFO_NONE = 3, INFO_STAGING = 4 };

static const char *me = "ckpt-info";
static int json;

static void usage(FILE *f)
{
    fprintf(f, "usage: ckpt-info [--verify] [--json] REF\n"
               "       ckpt-info --clean-cache [--max-age DAYS] [CACHE]\n"
               "REF: a snapshot reference (.../revive_global_snapshot_PID.ckpt/SEQ, as printed by\n"
               "ckpt-mpirun) or a snapshot directory (.../revive_global_snapshot_PID.ckpt).\n"
               "  --verify  check every rank image against the metadata, every checksum; one\n"
               "            missing here: its copy in a node-local cache, as restart-mpi fetches it\n"
               "  --json    print JSON\n"
               "  --clean-cache  remove from this node's cache (CACHE, else $REVIVE_LOCAL_DIR,\n"
               "            else $TMPDIR/revive-local-<uid> or /tmp/...) what no restart can need:\n"
               "            sequences of ended jobs committed with every image in their snapshot\n"
               "            directory, or never committed there; partial images of gone writers;\n"
               "            caches whose snapshot directory is gone or unknown once unchanged for\n"
               "            --max-age DAYS (default $REVIVE_CACHE_MAX_AGE_DAYS, else 7). Never a\n"
               "            running job's cache, nor the only copy of a committed image\n"
               "Exit status: 0 a committed snapshot is there (and, with --verify, intact);\n"
               "1 it is damaged, not private or another user's, or REF is no snapshot; 2 wrong\n"
               "usage; 3 nothing\n"
               "committed there (REF missing, its sequence not committed, also under another\n"
               "name, or no committed sequence in the directory); 4 not committed yet: REF's\n"
               "sequence (or, with none committed, one of the directory) is staging, the running\n"
               "job's agents copy its images, or is being written, the job's ranks write them;\n"
               "run ckpt-info again once they are committed.\n");
}

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

/* Where this host's node-local cache keeps the image of rank R of sequence SEQDIR (its own
 * node's copy rank_R.img, or with partner its partner copy partner_R.img), as restart-mpi's
 * fetch looks for it (filem/fetch.c): only when this host is the one snapshot.meta names for it
 * and the job kept node-local copies. 0 with the path in out; -2 this host's cache would hold it
 * but does not; else -1. */
static int cache_path(const struct filem_meta *m, const char *seqdir, int r, int partner,
                      char *out, size_t len)
{
    char k[64], host[256] = "";
    snprintf(k, sizeof k, partner ? "rank.%d.partner.host" : "rank.%d.host", r);
    const char *h = filem_meta_get(m, k);
    const char *local = filem_meta_get(m, "ckpt.local");
    gethostname(host, sizeof host - 1);
    if (!h || strcmp(h, host) != 0 || !local || !strcmp(local, FILEM_LOCAL_NONE))
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

struct vctx {
    int failed;    /* an image damaged, or missing with no copy anywhere */
    int elsewhere; /* images missing here that only another host's cache may hold */
    int cached;    /* images missing here whose copy in this host's cache is good */
    int damaged_ok; /* of those two, images damaged here (not missing) */
    char first_err[REVIVE_TEXT_PATHS(8)]; /* "rank R: " and report's message */
    struct snapc_sbuf *jb;
    int first;
    const struct filem_meta *m;
    const char *seqdir;
};

/* A rank image missing from the sequence directory: restart-mpi fetches it from the node-local
 * cache of the host the rank ran on, or of its partner (restart_fetch.h). ckpt-info checks the
 * copy this host's cache holds; one on another host it names (it cannot read it from here).
 * 1 a good copy here (its path in msg), 0 only elsewhere (msg says where), -1 no copy. Before
 * (review9 F5) such a snapshot was called damaged, though restart-mpi restarted it. */
static int missing_image(struct vctx *v, int r, const char *damage, char *msg, size_t len)
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
    filem_meta_get_u64(v->m, k, &want);
    const char *local = filem_meta_get(v->m, "ckpt.local");
    if (local && !strcmp(local, FILEM_LOCAL_NONE)) {
        if (damage)
            snapc_fmt(msg, len, "%s, and the job kept no node-local copies (ckpt.local none)",
                      here);
        else
            snprintf(msg, len, "rank_%d.img is missing, and the job kept no node-local copies "
                               "(ckpt.local none)", r);
        return -1;
    }
    for (int partner = 0; partner < 2; partner++) {
        if (cache_path(v->m, v->seqdir, r, partner, path, sizeof path) < 0)
            continue;
        if (filem_stage_verify(path, want, err, sizeof err) == 0) {
            snapc_fmt(msg, len, "%s; the copy in this host's node-local cache is good (%s, "
                               "every chunk verified): restart-mpi fetches it %sbefore the "
                               "launch", here, path, damage ? "over the damaged one " : "");
            return 1;
        }
        snapc_fmt(why + strlen(why), sizeof why - strlen(why), "%s%s fails its check (%s)",
                 why[0] ? "; " : "", path, err);
    }
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    struct snapc_sbuf others = {0};
    for (int partner = 0; partner < 2; partner++) {
        snprintf(k, sizeof k, partner ? "rank.%d.partner.host" : "rank.%d.host", r);
        const char *h = filem_meta_get(v->m, k);
        if (h && strcmp(h, host) != 0)
            snapc_sb_printf(&others, "%s%s%s", others.len ? " or " : "",
                            partner ? "the partner copy on " : "the node-local cache of ", h);
    }
    int rc = others.len ? 0 : -1;
    if (others.len)
        snapc_fmt(msg, len, "%s%s%s; restart-mpi would fetch %s from %s, which "
                           "ckpt-info cannot read from this host (run ckpt-info --verify there, "
                           "or restart-mpi --showme)",
                 here, why[0] ? " and " : "", why, damage ? "a good copy over it" : "it",
                 others.p);
    else if (damage)
        snapc_fmt(msg, len, "%s, and in no other copy: %s", here,
                 why[0] ? why : "not in this host's node-local cache, the only one that held it");
    else
        snapc_fmt(msg, len, "rank_%d.img is missing, and in no copy: %s", r,
                 why[0] ? why : "not in this host's node-local cache, the only one that held it");
    snapc_sb_free(&others);
    return rc;
}

/* An image in the sequence directory that fails its check while the metadata gives the size
 * and checksum a copy elsewhere is checked against (as restart-mpi's damaged_image). */
static int damaged_here(const struct vctx *v, int r)
{
    char k[64], path[PATH_MAX + 32];
    uint64_t x;
    snprintf(k, sizeof k, "rank.%d.checksum", r);
    if (filem_meta_get_u64(v->m, k, &x) < 0)
        return 0;
    snprintf(k, sizeof k, "rank.%d.size", r);
    if (filem_meta_get_u64(v->m, k, &x) < 0)
        return 0;
    snprintf(path, sizeof path, "%s/rank_%d.img", v->seqdir, r);
    struct stat st;
    return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void report(void *arg, int rank, int status, const char *msg)
{
    struct vctx *v = arg;
    char alt[REVIVE_TEXT_PATHS(8)]; /* missing_image: a path and its why */;
    int where = -2; /* missing_image's answer */
    if (status == -ENOENT || (status < 0 && status != -EPERM && damaged_here(v, rank))) {
        where = missing_image(v, rank, status == -ENOENT ? NULL : msg, alt, sizeof alt);
        v->damaged_ok += status != -ENOENT && where >= 0;
        msg = alt;
        v->cached += where == 1;
        v->elsewhere += where == 0;
    }
    int bad = status < 0 && where < 0;
    if (bad) {
        if (!v->failed)
            snapc_fmt(v->first_err, sizeof v->first_err, "rank %d: %s", rank, msg);
        v->failed = 1;
    }
    const char *word = status >= 0   ? "ok "
                       : where == 1  ? "ok (cache)"
                       : where == 0  ? "ELSEWHERE"
                                     : "BAD";
    if (json) {
        snapc_sb_printf(v->jb, "%s{\"rank\":%d,\"ok\":%s,", v->first ? "" : ",", rank,
                        status >= 0 || where == 1 ? "true" : "false");
        if (where >= 0)
            snapc_sb_printf(v->jb, "\"in_directory\":false,\"copy\":\"%s\",",
                            where == 1 ? "this host's cache (verified)"
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
        char k[96];
        for (unsigned i = 0;; i++) {
            snprintf(k, sizeof k, "rank.%llu.shared_file.%u", (unsigned long long)r, i);
            const char *v = filem_meta_get(m, k);
            if (!v)
                break;
            char *path;
            unsigned long long bytes = strtoull(v, &path, 10);
            path += *path == ' ';
            if (jb) {
                snapc_sb_printf(jb, "%s{\"rank\":%llu,\"bytes\":%llu,\"path\":", listed ? "," : ",\"unsaved_shared\":[",
                                (unsigned long long)r, bytes);
                snapc_sb_json_str(jb, path);
                snapc_sb_printf(jb, "}");
            } else {
                printf("  warning: rank %llu maps %s shared and writable (%llu bytes): its pages are not in the "
                       "snapshot, a restart sees the file as it is then (--save-shared saves them)\n",
                       (unsigned long long)r, path, bytes);
            }
            listed++;
        }
        snprintf(k, sizeof k, "rank.%llu.shared_file.more", (unsigned long long)r);
        if (filem_meta_get(m, k) && !jb)
            printf("  warning: rank %llu maps %s more files so, not saved either\n", (unsigned long long)r,
                   filem_meta_get(m, k));
    }
    if (listed && jb)
        snapc_sb_printf(jb, "]");
}

static int show_seq(const char *jobdir, uint64_t seq, int verify, struct snapc_sbuf *jb)
{
    char dir[PATH_MAX], err[REVIVE_TEXT_PATHS(8)];
    filem_seq_path(dir, sizeof dir, jobdir, seq);
    /* restart-mpi refuses a sequence directory others could change (filem_private_dir): say so
     * here, with its words, rather than list it as good (issue 7 review F5: ckpt-info --verify
     * of the snapshot directory said OK for a 0755 newest sequence that restart-mpi refused) */
    int e = filem_private_dir(dir, 0, err, sizeof err);
    if (e < 0 && e != -ENOENT) {
        if (json) {
            snapc_sb_printf(jb, "{\"seq\":%llu,\"state\":\"refused\",\"error\":",
                            (unsigned long long)seq);
            snapc_sb_json_str(jb, err);
            snapc_sb_printf(jb, "}");
        } else {
            printf("%s\n  REFUSED by restart-mpi: %s\n", dir, err);
            fprintf(stderr, "%s: %s cannot be restarted: %s\n", me, dir, err);
        }
        return INFO_DAMAGED;
    }
    int lock = verify ? filem_seq_lock_shared(jobdir, seq) : -1;
    struct filem_meta m;
    e = filem_meta_read(dir, &m, err, sizeof err);
    if (e < 0) {
        if (lock >= 0)
            close(lock);
        /* a failed staging left its reason (review9 F5: only the listing of the snapshot
         * directory showed it) */
        char why[REVIVE_TEXT_PATHS(2)];
        int failed = e == -ENOENT && filem_stage_failed_reason(jobdir, seq, why, sizeof why);
        if (failed)
            snapc_fmt(err, sizeof err,
                      "%s is not committed: its staging failed: %s; restart-mpi skips it "
                      "(ckpt-info %s lists the committed sequences)",
                      dir, why, jobdir);
        /* being copied now (newuser9 F1: shown as "never finished or it failed") */
        int staging = e == -ENOENT && !failed && filem_phase_active(jobdir, seq, FILEM_PHASE_STAGING);
        if (staging)
            snapc_fmt(err, sizeof err,
                      "%s is staging: the running job's agents are copying its images to this "
                      "directory; it is committed once every image is verified there (until "
                      "then restart-mpi refuses it; ckpt-info %s says when, or ckpt-mpirun waits "
                      "for it without --no-wait-stage)",
                      dir, dir);
        /* its ranks still writing their images (closing31: "not committed", as one that never
         * finished) */
        int writing = e == -ENOENT && !failed && !staging && filem_phase_active(jobdir, seq, FILEM_PHASE_WRITING);
        if (writing)
            snapc_fmt(err, sizeof err,
                      "%s is being written: the running job's ranks are writing its images; it "
                      "is committed once they are all written and verified (until then restart-mpi "
                      "refuses it; ckpt-info %s says when)",
                      dir, dir);
        if (json) {
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
            fprintf(stderr, "%s: %s\n", me, err);
        }
        return staging || writing ? INFO_STAGING : e == -ENOENT ? INFO_NONE : INFO_DAMAGED;
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
    if (json) {
        snapc_sb_printf(jb, "{\"seq\":%llu,\"state\":\"committed\",\"reference\":",
                        (unsigned long long)seq);
        snapc_sb_json_str(jb, dir);
        snapc_sb_printf(jb, ",\"established\":");
        snapc_sb_json_str(jb, get(&m, "time.established"));
        show_phases(&m, jb);
        snapc_sb_printf(jb, ",\"ranks\":%llu,\"bytes\":%llu,\"hosts\":", (unsigned long long)ranks,
                        (unsigned long long)bytes);
        snapc_sb_json_str(jb, get(&m, "hosts"));
        if (filem_meta_get(&m, "hosts.lost")) {
            snapc_sb_printf(jb, ",\"hosts_lost\":");
            snapc_sb_json_str(jb, get(&m, "hosts.lost"));
        }
        snapc_sb_printf(jb, ",\"flavor\":");
        snapc_sb_json_str(jb, get(&m, "launcher.flavor"));
        snapc_sb_printf(jb, ",\"command\":");
        snapc_sb_json_str(jb, cl.p);
        snapc_sb_printf(jb, ",\"cwd\":");
        snapc_sb_json_str(jb, get(&m, "cwd"));
        snapc_sb_printf(jb, ",\"mpi_library\":");
        snapc_sb_json_str(jb, get(&m, "mpi.path"));
        snapc_sb_printf(jb, ",\"app\":");
        snapc_sb_json_str(jb, get(&m, "app.path"));
        if (filem_meta_get(&m, "parent.jobdir")) {
            snapc_sb_printf(jb, ",\"parent\":");
            char p[PATH_MAX + 32];
            snprintf(p, sizeof p, "%s/%s", get(&m, "parent.jobdir"), get(&m, "parent.seq"));
            snapc_sb_json_str(jb, p);
        }
        snapc_sb_printf(jb, ",\"rank_images\":[");
        for (uint64_t r = 0; r < ranks && r < (1u << 20); r++) {
            char k1[64], k2[64], k3[64], k4[64];
            snprintf(k1, sizeof k1, "rank.%llu.size", (unsigned long long)r);
            snprintf(k2, sizeof k2, "rank.%llu.checksum", (unsigned long long)r);
            snprintf(k3, sizeof k3, "rank.%llu.host", (unsigned long long)r);
            snprintf(k4, sizeof k4, "rank.%llu.pid", (unsigned long long)r);
            snapc_sb_printf(jb, "%s{\"rank\":%llu,\"size\":%s,\"checksum\":", r ? "," : "",
                            (unsigned long long)r, get(&m, k1));
            snapc_sb_json_str(jb, get(&m, k2));
            /* not recorded (a rank gone at the commit, before review9 F7): null, not "?" (a
             * pid of ? was no JSON) */
            snapc_sb_printf(jb, ",\"host\":");
            if (filem_meta_get(&m, k3))
                snapc_sb_json_str(jb, get(&m, k3));
            else
                snapc_sb_printf(jb, "null");
            snapc_sb_printf(jb, ",\"pid\":%s", filem_meta_get(&m, k4) ? get(&m, k4) : "null");
            struct stat st;
            uint64_t want;
            int is = image_state(&m, dir, r, &st, &want);
            snapc_sb_printf(jb, ",\"in_directory\":%s,\"damaged\":%s",
                            is == IMG_HERE || is == IMG_SIZE ? "true" : "false",
                            is == IMG_SIZE || is == IMG_LOST ? "true" : "false");
            if (is == IMG_SIZE)
                snapc_sb_printf(jb, ",\"size_here\":%lld", (long long)st.st_size);
            snprintf(k3, sizeof k3, "rank.%llu.gone", (unsigned long long)r);
            if (filem_meta_get(&m, k3))   /* "ended": its node up (newuser9b N4) */
                snapc_sb_printf(jb, ",\"gone_at_commit\":true,\"node_lost\":%s",
                                strcmp(get(&m, k3), "ended") ? "true" : "false");
            snprintf(k3, sizeof k3, "rank.%llu.gone.why", (unsigned long long)r);
            if (filem_meta_get(&m, k3)) { /* what its host answered when asked (or its silence) */
                snapc_sb_printf(jb, ",\"gone_why\":");
                snapc_sb_json_str(jb, get(&m, k3));
            }
            snprintf(k3, sizeof k3, "rank.%llu.partner.host", (unsigned long long)r);
            if (filem_meta_get(&m, k3)) {
                snapc_sb_printf(jb, ",\"partner_host\":");
                snapc_sb_json_str(jb, get(&m, k3));
            }
            snapc_sb_printf(jb, "}");
        }
        snapc_sb_printf(jb, "]");
        show_shared(&m, ranks, jb);
        if (filem_meta_get(&m, "partner.state")) {
            snapc_sb_printf(jb, ",\"partner\":");
            snapc_sb_json_str(jb, get(&m, "partner.state"));
            if (filem_meta_get(&m, "partner.why")) {
                snapc_sb_printf(jb, ",\"partner_why\":");
                snapc_sb_json_str(jb, get(&m, "partner.why"));
            }
        }
    } else {
        const char *lost = filem_meta_get(&m, "hosts.lost");
        printf("%s\n  committed %s, %llu ranks, %s on %s%s%s%s\n  %s (%s)\n  in %s\n", dir, t,
               (unsigned long long)ranks, hb, get(&m, "hosts"), lost ? " (lost before the commit: " : "",
               lost ? lost : "", lost ? ")" : "", cl.p, get(&m, "launcher.flavor"), get(&m, "cwd"));
        show_phases(&m, NULL);
        printf("  MPI library %s; application %s\n", get(&m, "mpi.path"), get(&m, "app.path"));
        if (filem_meta_get(&m, "parent.jobdir"))
            printf("  restarted from %s/%s\n", get(&m, "parent.jobdir"), get(&m, "parent.seq"));
        show_shared(&m, ranks, NULL);
        /* where the copies are (issue 9): this directory, the ranks' node caches, partners */
        if (filem_meta_get(&m, "partner.state")) {
            if (!strcmp(get(&m, "partner.state"), "protected"))
                printf("  partner copies: protected (every rank's image also verified in another "
                       "node's cache)\n");
            else
                printf("  partner copies: NOT protected: %s\n", get(&m, "partner.why"));
        }
        if (!verify)
            for (uint64_t r = 0; r < ranks && r < (1u << 20); r++) {
                char k1[64], k2[64], k3[64], k4[64], rb[32];
                uint64_t sz = 0;
                snprintf(k1, sizeof k1, "rank.%llu.size", (unsigned long long)r);
                snprintf(k2, sizeof k2, "rank.%llu.checksum", (unsigned long long)r);
                snprintf(k3, sizeof k3, "rank.%llu.host", (unsigned long long)r);
                snprintf(k4, sizeof k4, "rank.%llu.pid", (unsigned long long)r);
                filem_meta_get_u64(&m, k1, &sz);
                snapc_human_bytes(rb, sizeof rb, sz);
                const char *lc = filem_meta_get(&m, "ckpt.local");
                int cached = lc && strcmp(lc, "none") != 0;
                char k5[64], k6[64];
                snprintf(k5, sizeof k5, "rank.%llu.partner.host", (unsigned long long)r);
                snprintf(k6, sizeof k6, "rank.%llu.staged.from", (unsigned long long)r);
                const char *from = filem_meta_get(&m, k6);
                /* this host's cache copy, when it is the rank's node: staging made the image a
                 * hard link to it when both are on one file system, and one file under two
                 * names is one copy (review9 F5: "copies: this directory, the cache of vm", and
                 * one truncate hit both); not in this directory, restart-mpi fetches it */
                char cp[PATH_MAX + 64];
                struct stat cs, ss;
                uint64_t want;
                int is = image_state(&m, dir, r, &ss, &want);
                int here = is == IMG_HERE || is == IMG_SIZE;
                int cpr = cached ? cache_path(&m, dir, (int)r, 0, cp, sizeof cp) : -1;
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
                const char *gone = filem_meta_get(&m, k7);
                int ended = gone && !strcmp(gone, "ended");
                if (filem_meta_get(&m, k3))
                    snprintf(was, sizeof was, "was pid %s on %s%s", get(&m, k4), get(&m, k3),
                             ended  ? " (ended before the commit, its node up)"
                             : gone ? " (gone before the commit: its node lost)"
                                    : "");
                else
                    snprintf(was, sizeof was,
                             "its host and pid not recorded (the rank was gone at the commit)");
                printf("  rank %llu: rank_%llu.img %s, checksum %s, %s; copies: "
                       "%s%s%s%s%s%s%s%s%s%s\n",
                       (unsigned long long)r, (unsigned long long)r, rb, get(&m, k2), was,
                       is == IMG_LOST ? "none (MISSING: not in this directory, and the job "
                                        "kept no node-local copies)"
                       : !here        ? "not in this directory (restart-mpi fetches it from a cache)"
                                      : "this directory",
                       wrong,
                       from ? " (staged from " : "", from ? from : "",
                       from ? (ended ? ": it had ended)" : ": its node was lost)") : "",
                       one ? " and the cache of " : cached ? ", the cache of " : "",
                       cached ? (filem_meta_get(&m, k3) ? get(&m, k3) : "its node (not recorded)")
                              : "",
                       one       ? ", one file under two names (a hard link: a single copy)"
                       : incache    ? " (present)"
                       : cpr == -2  ? " (no longer there)"
                       /* another host's cache, not readable from here: "if not lost" only
                        * when its node was lost or is not recorded (newuser9c C1: said of a
                        * host that had answered at the commit) */
                       : cached && filem_meta_get(&m, k3) && !(gone && !ended)
                                    ? " (on that host; not checked from here)"
                       : cached     ? " (if not lost)"
                                 : "",
                       filem_meta_get(&m, k5) ? ", partner copy on " : "",
                       filem_meta_get(&m, k5) ? get(&m, k5) : "");
            }
    }
    snapc_sb_free(&cl);
    if (verify) {
        struct vctx v = {.jb = jb, .first = 1, .m = &m, .seqdir = dir};
        if (json)
            snapc_sb_printf(jb, ",\"verify\":[");
        e = filem_verify_seq(jobdir, seq, &m, 1, report, &v, NULL, err, sizeof err);
        /* images only missing, each with a copy in a cache: what restart-mpi fetches (not
         * another failure no rank reported, as metadata without a number of ranks) */
        if ((e == -ENOENT || v.damaged_ok) && !v.failed && (v.cached || v.elsewhere))
            e = v.elsewhere ? -ENOENT : 0;
        else if (e < 0 && v.failed)
            snapc_fmt(err, sizeof err, "%s", v.first_err);
        if (json) {
            snapc_sb_printf(jb, "],\"verified\":%s", e < 0 ? "false" : "true");
            if (v.cached || v.elsewhere)
                snapc_sb_printf(jb, ",\"from_caches\":%d,\"not_checked\":%d",
                                v.cached + v.elsewhere, v.elsewhere);
        } else if (e == -EPERM)
            fprintf(stderr, "%s: %s/%llu cannot be restarted: %s (Revive writes its files 0600)\n",
                    me, jobdir, (unsigned long long)seq, err);
        else if (e < 0 && !v.failed && v.elsewhere)
            fprintf(stderr, "%s: %s/%llu is not complete here: %d image%s missing from it%s %s "
                            "only in other hosts' node-local caches, which ckpt-info cannot "
                            "check from here (said above per rank); restart-mpi fetches them "
                            "from there\n",
                    me, jobdir, (unsigned long long)seq, v.elsewhere,
                    v.elsewhere == 1 ? "" : "s", v.damaged_ok ? " or damaged in it" : "",
                    v.damaged_ok ? "may have a good copy" : v.elsewhere == 1 ? "is" : "are");
        else if (e < 0)
            fprintf(stderr, "%s: %s/%llu is damaged: %s\n", me, jobdir, (unsigned long long)seq,
                    err);
        else if (v.cached)
            printf("  verified: every image matches the metadata and every checksum; %d missing "
                   "from this directory%s, with a good copy in this host's node-local cache, "
                   "which restart-mpi fetches\n", v.cached,
                   v.damaged_ok ? " or damaged in it" : "");
        else
            printf("  verified: every image matches the metadata and every checksum\n");
        /* the check of every image decides: a shared image of another size than the
         * metadata's with a good copy in this host's cache is fetched over like any damaged one
         * (newuser7 F2: status 1 with no line on standard error, from the size alone) */
        bad = e < 0 ? INFO_DAMAGED : INFO_OK;
        if (e == 0)
            ndmg = 0;
        ndmg += v.failed && !ndmg;
    } else if (ndmg && !json)
        /* one line on stderr, as for every status 1 */
        fprintf(stderr, "%s: %s is damaged: %s%s (ckpt-info --verify checks every image)\n", me,
                dir, dmg, ndmg > 1 ? ", and more ranks (listed above)" : "");
    if (json)
        snapc_sb_printf(jb, ",\"damaged\":%s}", ndmg ? "true" : "false");
    filem_meta_free(&m);
    if (lock >= 0)
        close(lock);
    return bad;
}

/* The index (JOBDIR/index): whether it is there, the current sequence it names, the failed
 * restarts it records, and the sequence a restart-mpi of the directory takes. In jb (JSON)
 * when given, else as text. */
static void show_index(const char *jobdir, const struct filem_seq_info *v, int n,
                       struct snapc_sbuf *jb)
{
    char path[PATH_MAX + 16], err[REVIVE_TEXT_PATHS(2)];
    snapc_fmt(path, sizeof path, "%s/%s", jobdir, FILEM_INDEX_NAME);
    char *b = NULL;
    size_t len = 0;
    struct filem_meta m;
    filem_meta_init(&m);
    int have = filem_read_private_file(path, FILEM_FILE_MAX, &b, &len, err, sizeof err) == 0 &&
               filem_meta_parse(b, len, FILEM_INDEX_MAGIC, &m, err, sizeof err) == 0;
    free(b);
    const char *cur = have ? filem_meta_get(&m, "current") : NULL;
    uint64_t def = 0;
    int all_failed = 0;
    int has_def = filem_default_seq(jobdir, &def, &all_failed, err, sizeof err) == 0;
    if (jb) {
        snapc_sb_printf(jb, ",\"index\":{\"file\":");
        snapc_sb_json_str(jb, path);
        snapc_sb_printf(jb, ",\"present\":%s", have ? "true" : "false");
        if (cur)
            snapc_sb_printf(jb, ",\"current\":%s", cur);
        if (has_def)
            snapc_sb_printf(jb, ",\"restart_default\":%llu", (unsigned long long)def);
        snapc_sb_printf(jb, ",\"failed_restarts\":[");
        for (int i = 0, k = 0; i < n; i++)
            if (v[i].failed_restarts) {
                snapc_sb_printf(jb, "%s{\"seq\":%llu,\"count\":%u,\"reason\":", k++ ? "," : "",
                                (unsigned long long)v[i].seq, v[i].failed_restarts);
                snapc_sb_json_str(jb, v[i].failed_reason);
                snapc_sb_printf(jb, "}");
            }
        snapc_sb_printf(jb, "]}");
    } else {
        if (have)
            printf("index %s: current %s", path, cur ? cur : "none");
        else
            printf("index %s: %s", path,
                   access(path, F_OK) == 0 ? err : "not written yet (at the first commit)");
        int nf = 0;
        for (int i = 0; i < n; i++)
            if (v[i].failed_restarts)
                printf("%s%llu", nf++ ? "," : "; failed restarts from ",
                       (unsigned long long)v[i].seq);
        if (has_def)
            printf("; restart-mpi takes %llu%s", (unsigned long long)def,
                   all_failed ? " (every committed one failed a restart)" : "");
        printf("\n");
    }
    filem_meta_free(&m);
}

/* JOBDIR/superseded (filem/local_retain.h): a restart of this job committed elsewhere; the
 * hosts where this job's node-local caches may remain. In jb (JSON) when given, else text. */
static void show_superseded(const char *jobdir, struct snapc_sbuf *jb)
{
    char path[PATH_MAX + 16], err[REVIVE_TEXT_PATHS(2)];
    snapc_fmt(path, sizeof path, "%s/%s", jobdir, FILEM_SUPERSEDED_NAME);
    char *b = NULL;
    size_t len = 0;
    if (filem_read_private_file(path, FILEM_FILE_MAX, &b, &len, err, sizeof err) < 0)
        return;
    char by[PATH_MAX] = "", stale[1024] = "";
    for (char *l = b; l && l < b + len;) {
        char *nl = memchr(l, '\n', (size_t)(b + len - l));
        size_t ll = nl ? (size_t)(nl - l) : (size_t)(b + len - l);
        if (ll > 14 && !strncmp(l, "superseded.by ", 14) && ll - 14 < sizeof by)
            snprintf(by, sizeof by, "%.*s", (int)(ll - 14), l + 14);
        else if (ll > 13 && !strncmp(l, "stale.caches ", 13) && ll - 13 < sizeof stale)
            snprintf(stale, sizeof stale, "%.*s", (int)(ll - 13), l + 13);
        l = nl ? nl + 1 : NULL;
    }
    free(b);
    if (jb) {
        snapc_sb_printf(jb, ",\"superseded_by\":");
        snapc_sb_json_str(jb, by);
        snapc_sb_printf(jb, ",\"stale_caches\":");
        snapc_sb_json_str(jb, stale);
    } else if (stale[0])
        printf("superseded by %s (a restart of this job committed); its node-local caches may "
               "remain on %s until a job of yours commits there\n", by, stale);
    else
        printf("superseded by %s (a restart of this job committed)\n", by);
}

static void gc_said(void *arg, const char *cachejob, long long seq, int removed, const char *why)
{
    (void)arg;
    if (seq < 0)
        printf("%s %s: %s\n", removed ? "removed" : "kept   ", cachejob, why);
    else
        printf("%s %s/%lld: %s\n", removed ? "removed" : "kept   ", cachejob, seq, why);
}

/* ckpt-info --clean-cache [--max-age DAYS] [CACHE] (filem/local_gc.h) */
static int clean_cache(const char *dir, long long max_age_s)
{
    char def[PATH_MAX], err[REVIVE_TEXT_PATHS(2)];
    const char *env = getenv("REVIVE_LOCAL_DIR");
    if (!dir && env && *env && strcmp(env, "none") != 0)
        dir = env;
    if (!dir) {
        int de = filem_local_default(def, sizeof def, 0, err, sizeof err);
        if (de == -ENOENT) {
            printf("no node-local cache here: nothing to clean\n");
            return INFO_OK;
        }
        if (de < 0) {
            fprintf(stderr, "%s: %s\n", me, err);
            return INFO_DAMAGED;
        }
        dir = def;
    }
    struct filem_local_gc_stats s;
    int e = filem_local_gc(dir, max_age_s, &s, gc_said, NULL);
    if (e == -ENOENT) {
        printf("%s: no node-local cache here: nothing to clean\n", dir);
        return INFO_OK;
    }
    if (e < 0) {
        fprintf(stderr, "%s: cannot read the node-local cache %s: %s\n", me, dir, strerror(-e));
        return INFO_DAMAGED;
    }
    printf("%s: %d job cache%s looked at; removed %d sequence%s (%d job cache%s whole) and %d "
           "partial image%s, %llu MB freed; kept %d\n",
           dir, s.jobs, s.jobs == 1 ? "" : "s", s.removed, s.removed == 1 ? "" : "s", s.jobs_gone,
           s.jobs_gone == 1 ? "" : "s", s.tmp, s.tmp == 1 ? "" : "s", s.bytes >> 20, s.kept);
    return INFO_OK;
}

int main(int argc, char **argv)
{
    int verify = 0, clean = 0;
    long long max_age_s = -1;
    const char *ref = NULL;
    int opts = 1; /* until "--" (getopt's convention: what follows is no option) */
    for (int i = 1; i < argc; i++) {
        if (opts && !strcmp(argv[i], "--"))
            opts = 0;
        else if (!opts || argv[i][0] != '-') {
            if (ref) {
                fprintf(stderr, "%s: one snapshot reference only (%s, then %s); see %s --help\n",
                        me, ref, argv[i], me);
                return INFO_USAGE;
            }
            ref = argv[i];
        } else if (!strcmp(argv[i], "--clean-cache"))
            clean = 1;
        else if (!strcmp(argv[i], "--max-age")) {
            char *end;
            const char *v = i + 1 < argc ? argv[++i] : "";
            double days = strtod(v, &end);
            /* (at most 100 years: a larger number overflowed the seconds) */
            if (*end || end == v || !(days >= 0 && days <= 36500)) {
                fprintf(stderr, "%s: --max-age needs a number of days (0 to 36500), not '%s'\n", me,
                        v);
                return INFO_USAGE;
            }
            max_age_s = (long long)(days * 86400);
        } else if (!strcmp(argv[i], "--verify"))
            verify = 1;
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else {
            /* one line, as GNU tools say it: the usage would push the mistake off the screen */
            fprintf(stderr, "%s: unknown option %s; see %s --help\n", me, argv[i], me);
            return INFO_USAGE;
        }
    }
    if (clean)
        return clean_cache(ref, max_age_s);
    if (!ref) {
        usage(stderr);
        return INFO_USAGE;
    }
    char jobdir[PATH_MAX], err[REVIVE_TEXT_PATHS(2)];
    int64_t seq;
    const struct snap_owner_words ow = {
        .me = me, .verb = "read", .tail = "", .argc = argc, .argv = argv,
        .why = "snapshots are private to their owner, and Revive reads none as another user, root "
               "included (it would trust files that user can change)"};
    int e = filem_resolve_ref(ref, jobdir, sizeof jobdir, &seq, err, sizeof err);
    if (e == -EACCES && snap_owner_refuse_above(&ow, ref))
        return INFO_DAMAGED;
    if (e == 0 && err[0]) /* a folder holding one snapshot directory: which one */
        fprintf(stderr, "%s: %s\n", me, err);
    if (e == 0 && snap_owner_refuse(&ow, jobdir))
        return INFO_DAMAGED;
    if (e == 0)
        e = filem_private_dir(jobdir, 0, err, sizeof err);
    if (e < 0) {
        fprintf(stderr, "%s: %s\n", me, err);
        return e == -ENOENT ? INFO_NONE : INFO_DAMAGED;
    }
    struct snapc_sbuf jb = {0};
    int bad = 0;
    if (seq >= 0) {
        char dir[PATH_MAX];
        filem_seq_path(dir, sizeof dir, jobdir, (uint64_t)seq);
        e = filem_private_dir(dir, 0, err, sizeof err);
        if (e < 0) {
            fprintf(stderr, "%s: %s\n", me, err);
            return e == -ENOENT ? INFO_NONE : INFO_DAMAGED;
        }
        bad = show_seq(jobdir, (uint64_t)seq, verify, &jb);
        if (json) {
            if (jb.p)
                printf("%s\n", jb.p);
        }
        snapc_sb_free(&jb);
        return bad;
    }
    struct filem_seq_info *v;
    int n;
    if (filem_scan(jobdir, &v, &n, err, sizeof err) < 0) {
        fprintf(stderr, "%s: %s\n", me, err);
        return INFO_DAMAGED;
    }
    int committed = 0, staging = 0, writing = 0;
    if (json)
        snapc_sb_printf(&jb, "{\"snapshot_dir\":%s", "");
    if (json) {
        snapc_sb_json_str(&jb, jobdir);
        snapc_sb_printf(&jb, ",\"sequences\":[");
    } else
        printf("%s: %d sequence%s\n", jobdir, n, n == 1 ? "" : "s");
    for (int i = 0; i < n; i++) {
        if (json && i)
            snapc_sb_printf(&jb, ",");
        if (v[i].state == FILEM_SEQ_COMMITTED) {
            committed++;
            if (show_seq(jobdir, v[i].seq, verify, &jb) != INFO_OK)
                bad = INFO_DAMAGED;
            if (v[i].failed_restarts && !json)
                printf("  %u failed restart%s: %s\n", v[i].failed_restarts,
                       v[i].failed_restarts == 1 ? "" : "s", v[i].failed_reason);
        } else if (json) {
            char why[REVIVE_TEXT_PATHS(2)];
            int failed = v[i].state != FILEM_SEQ_CORRUPT &&
                         filem_stage_failed_reason(jobdir, v[i].seq, why, sizeof why);
            int stg = v[i].state != FILEM_SEQ_CORRUPT && !failed &&
                      filem_phase_active(jobdir, v[i].seq, FILEM_PHASE_STAGING);
            int wrt = v[i].state != FILEM_SEQ_CORRUPT && !failed && !stg &&
                      filem_phase_active(jobdir, v[i].seq, FILEM_PHASE_WRITING);
            staging += stg;
            writing += wrt;
            snapc_sb_printf(&jb, "{\"seq\":%llu,\"state\":\"%s\"", (unsigned long long)v[i].seq,
                            v[i].state == FILEM_SEQ_CORRUPT ? "damaged"
                            : failed                        ? "failed"
                            : stg                           ? "staging"
                            : wrt                           ? "writing"
                                                            : "uncommitted");
            if (v[i].state == FILEM_SEQ_CORRUPT || failed) {
                snapc_sb_printf(&jb, ",\"error\":");
                snapc_sb_json_str(&jb, failed ? why : v[i].err);
            }
            snapc_sb_printf(&jb, "}");
        } else if (v[i].state == FILEM_SEQ_CORRUPT) {
            printf("%s/%llu\n  DAMAGED: %s\n", jobdir, (unsigned long long)v[i].seq, v[i].err);
            fprintf(stderr, "%s: %s\n", me, v[i].err);
            bad = INFO_DAMAGED;
        } else {
            char why[REVIVE_TEXT_PATHS(2)];
            if (filem_stage_failed_reason(jobdir, v[i].seq, why, sizeof why))
                printf("%s/%llu\n  failed: not committed, its images could not all be copied "
                       "to this directory: %s\n",
                       jobdir, (unsigned long long)v[i].seq, why);
            else if (filem_phase_active(jobdir, v[i].seq, FILEM_PHASE_STAGING)) {
                staging++;
                printf("%s/%llu\n  staging: not committed yet, the running job's agents are "
                       "copying its images to this directory\n",
                       jobdir, (unsigned long long)v[i].seq);
            } else if (filem_phase_active(jobdir, v[i].seq, FILEM_PHASE_WRITING)) {
                writing++;
                printf("%s/%llu\n  writing: not committed yet, the running job's ranks are "
                       "writing its images\n",
                       jobdir, (unsigned long long)v[i].seq);
            } else
                printf("%s/%llu\n  not committed (never finished, or failed; never offered for "
                       "a restart)\n",
                       jobdir, (unsigned long long)v[i].seq);
        }
    }
    if (json) {
        snapc_sb_printf(&jb, "],\"committed\":%d", committed);
        show_index(jobdir, v, n, &jb);
        show_superseded(jobdir, &jb);
        snapc_sb_printf(&jb, "}");
        printf("%s\n", jb.p);
    } else {
        show_index(jobdir, v, n, NULL);
        show_superseded(jobdir, NULL);
    }
    if (!committed && !bad && staging) {
        fprintf(stderr, "%s: %s holds no committed snapshot yet: %d sequence%s staging (the "
                "running job's agents copy %s images); run ckpt-info %s again once they are "
                "copied\n",
                me, jobdir, staging, staging == 1 ? " is" : "s are", staging == 1 ? "its" : "their",
                jobdir);
        bad = INFO_STAGING;
    } else if (!committed && !bad && writing) {
        fprintf(stderr, "%s: %s holds no committed snapshot yet: %d sequence%s being written (the "
                "running job's ranks write %s images); run ckpt-info %s again once it is "
                "committed\n",
                me, jobdir, writing, writing == 1 ? " is" : "s are", writing == 1 ? "its" : "their",
                jobdir);
        bad = INFO_STAGING;
    } else if (!committed && !bad) {
        fprintf(stderr, "%s: %s holds no committed snapshot (%d sequence%s, none finished): nothing "
                "to restart from there; take a checkpoint (ckpt-mpirun) and wait for its commit\n",
                me, jobdir, n, n == 1 ? "" : "s");
        bad = INFO_NONE;
    }
    snapc_sb_free(&jb);
    free(v);
    return bad;
}
