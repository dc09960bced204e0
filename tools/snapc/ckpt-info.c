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


#include "tools/snapc/ckpt_info.h"
#include "tools/snapc/seq_pick.h"

const char info_me[] = "ckpt-info";
int info_json;

static void usage(FILE *f)
{
    fprintf(f, "usage: ckpt-info [--verify] [--json] REF\n"
               "       ckpt-info --clean-cache [--max-age DAYS] [CACHE]\n"
               "REF: a snapshot reference (.../revive_global_snapshot_PID.ckpt/SEQ, as printed by\n"
               "ckpt-mpirun) or a snapshot directory (.../revive_global_snapshot_PID.ckpt), or a\n"
               "folder holding snapshot directories (mpirun's --ckpt-dir: the only one, or the\n"
               "head of a restart chain run there, the only one with a committed sequence no\n"
               "restart superseded, said on stderr; other choices are refused, named).\n"
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

/* What this ckpt-info found of each committed sequence (vd[i] for v[i]): with --verify, the
 * verdict of restart-mpi's own rule (seq_pick_judge), which the index line repeats rather than
 * judging again; without --verify nothing is known. */
struct shown {
    const struct filem_seq_info *v;
    const struct seq_pick_verdict *vd;
    int n, verify;
};

static int shown_result(void *arg, uint64_t seq, int *fetch, char *why, size_t wlen)
{
    const struct shown *sh = arg;
    for (int i = 0; sh->verify && i < sh->n; i++)
        if (sh->v[i].seq == seq && sh->vd[i].result >= 0) {
            if (fetch)
                *fetch = sh->vd[i].here + sh->vd[i].away;
            if (why && wlen)
                snprintf(why, wlen, "%s", sh->vd[i].result == SEQ_PICK_BAD ? sh->vd[i].why : "");
            return sh->vd[i].result;
        }
    return -1;
}

/* The index (JOBDIR/index): whether it is there, the current sequence it names, the failed
 * restarts it records, and the sequence a restart-mpi of the directory takes, or that it
 * refuses it and which it names instead: by restart-mpi's own rule (seq_pick.h; newuser7f F2:
 * "restart-mpi takes 1" of a sequence --verify had just called damaged). Without --verify the
 * images' chunks are not read: said. In jb (JSON) when given, else as text. */
static void show_index(const char *jobdir, const struct filem_seq_info *v, int n,
                       struct shown *sh, struct snapc_sbuf *jb)
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
    int check = SEQ_PICK_BAD, nfetch = 0;
    int64_t other = -1;
    char hint[2 * PATH_MAX + 256] = "";
    if (has_def) {
        check = shown_result(sh, def, &nfetch, NULL, 0);
        if (check < 0)
            check = seq_pick_check(jobdir, def, sh->verify, &nfetch, NULL, 0);
        if (check == SEQ_PICK_BAD)
            seq_pick_hint(jobdir, (int64_t)def, sh->verify, shown_result, sh, NULL, &other, hint,
                          sizeof hint);
    }
    if (jb) {
        snapc_sb_printf(jb, ",\"index\":{\"file\":");
        snapc_sb_json_str(jb, path);
        snapc_sb_printf(jb, ",\"present\":%s", have ? "true" : "false");
        if (cur)
            snapc_sb_printf(jb, ",\"current\":%s", cur);
        if (has_def) {
            snapc_sb_printf(jb, ",\"restart_default\":%llu,\"restart_default_check\":\"%s\","
                            "\"restart_default_verified\":%s",
                            (unsigned long long)def,
                            check == SEQ_PICK_OK ? "ok" : check == SEQ_PICK_FETCH ? "fetch" : "damaged",
                            sh->verify ? "true" : "false");
            if (check == SEQ_PICK_BAD && other >= 0)
                snapc_sb_printf(jb, ",\"restart_instead\":%lld", (long long)other);
        }
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
        if (has_def && check == SEQ_PICK_BAD)
            printf("; restart-mpi refuses %llu (damaged%s): %s", (unsigned long long)def,
                   sh->verify ? "" : "; not verified: ckpt-info --verify checks every chunk, as "
                                    "restart-mpi does", hint);
        else if (has_def)
            printf("; restart-mpi takes %llu%s%s%s", (unsigned long long)def,
                   all_failed ? " (every committed one failed a restart)" : "",
                   check == SEQ_PICK_FETCH ? " (fetching its missing or damaged images from the "
                                             "node-local caches)" : "",
                   sh->verify ? "" : " (not verified: ckpt-info --verify checks every chunk, as "
                                    "restart-mpi does)");
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
            fprintf(stderr, "%s: %s\n", info_me, err);
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
        fprintf(stderr, "%s: cannot read the node-local cache %s: %s\n", info_me, dir, strerror(-e));
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
    /* the saved files' copies: re-read by show_files (--verify), whose finding is the verdict's
     * (info_seq.c), not read twice */
    seq_pick_files_unjudged();
    const char *ref = NULL;
    int opts = 1; /* until "--" (getopt's convention: what follows is no option) */
    for (int i = 1; i < argc; i++) {
        if (opts && !strcmp(argv[i], "--"))
            opts = 0;
        else if (!opts || argv[i][0] != '-') {
            if (ref) {
                fprintf(stderr, "%s: one snapshot reference only (%s, then %s); see %s --help\n",
                        info_me, ref, argv[i], info_me);
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
                fprintf(stderr, "%s: --max-age needs a number of days (0 to 36500), not '%s'\n", info_me,
                        v);
                return INFO_USAGE;
            }
            max_age_s = (long long)(days * 86400);
        } else if (!strcmp(argv[i], "--verify"))
            verify = 1;
        else if (!strcmp(argv[i], "--json"))
            info_json = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else {
            /* one line, as GNU tools say it: the usage would push the mistake off the screen */
            fprintf(stderr, "%s: unknown option %s; see %s --help\n", info_me, argv[i], info_me);
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
        .me = info_me, .verb = "read", .tail = "", .argc = argc, .argv = argv,
        .why = "snapshots are private to their owner, and Revive reads none as another user, root "
               "included (it would trust files that user can change)"};
    int e = filem_resolve_ref(ref, jobdir, sizeof jobdir, &seq, err, sizeof err);
    if (e == -EACCES && snap_owner_refuse_above(&ow, ref))
        return INFO_DAMAGED;
    /* a folder of snapshots (--ckpt-dir) another user's and closed to the caller: it was "not a
     * snapshot reference" (newuser52 NU-2); whose it is, as for a snapshot directory */
    if (e == -EINVAL && access(ref, R_OK | X_OK) < 0 && snap_owner_refuse(&ow, ref))
        return INFO_DAMAGED;
    if (e == 0 && err[0]) /* a folder holding snapshot directories: which one */
        fprintf(stderr, "%s: %s\n", info_me, err);
    if (e == 0 && snap_owner_refuse(&ow, jobdir))
        return INFO_DAMAGED;
    if (e == 0)
        e = filem_private_dir(jobdir, 0, err, sizeof err);
    if (e < 0) {
        fprintf(stderr, "%s: %s\n", info_me, err);
        return e == -ENOENT ? INFO_NONE : INFO_DAMAGED;
    }
    struct snapc_sbuf jb = {0};
    int bad = 0;
    if (seq >= 0) {
        char dir[PATH_MAX];
        filem_seq_path(dir, sizeof dir, jobdir, (uint64_t)seq);
        e = filem_private_dir(dir, 0, err, sizeof err);
        if (e < 0) {
            fprintf(stderr, "%s: %s\n", info_me, err);
            return e == -ENOENT ? INFO_NONE : INFO_DAMAGED;
        }
        bad = info_show_seq(jobdir, (uint64_t)seq, verify, &jb, NULL);
        if (info_json) {
            if (jb.p)
                printf("%s\n", jb.p);
        }
        snapc_sb_free(&jb);
        return bad;
    }
    struct filem_seq_info *v;
    int n;
    if (filem_scan(jobdir, &v, &n, err, sizeof err) < 0) {
        fprintf(stderr, "%s: %s\n", info_me, err);
        return INFO_DAMAGED;
    }
    int committed = 0, staging = 0, writing = 0;
    struct seq_pick_verdict *vd = calloc((size_t)(n > 0 ? n : 1), sizeof *vd);
    if (!vd) {
        fprintf(stderr, "%s: out of memory\n", info_me);
        free(v);
        return INFO_DAMAGED;
    }
    for (int i = 0; i < n; i++)
        vd[i].result = -1;
    struct shown sh = {.v = v, .vd = vd, .n = n, .verify = verify};
    if (info_json)
        snapc_sb_printf(&jb, "{\"snapshot_dir\":%s", "");
    if (info_json) {
        snapc_sb_json_str(&jb, jobdir);
        snapc_sb_printf(&jb, ",\"sequences\":[");
    } else
        printf("%s: %d sequence%s\n", jobdir, n, n == 1 ? "" : "s");
    for (int i = 0; i < n; i++) {
        if (info_json && i)
            snapc_sb_printf(&jb, ",");
        if (v[i].state == FILEM_SEQ_COMMITTED) {
            committed++;
            if (info_show_seq(jobdir, v[i].seq, verify, &jb, &vd[i]) != INFO_OK)
                bad = INFO_DAMAGED;
            if (v[i].failed_restarts && !info_json)
                printf("  %u failed restart%s: %s\n", v[i].failed_restarts,
                       v[i].failed_restarts == 1 ? "" : "s", v[i].failed_reason);
        } else if (info_json) {
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
            /* the sequence its advice names passes restart-mpi's check (seq_pick.h) */
            char msg[sizeof v[i].err + 2 * PATH_MAX + 256];
            seq_pick_meta_damaged(v[i].err, jobdir, (int64_t)v[i].seq, verify, info_me, msg, sizeof msg);
            printf("%s/%llu\n  DAMAGED: %s\n", jobdir, (unsigned long long)v[i].seq, msg);
            fprintf(stderr, "%s: %s\n", info_me, msg);
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
    if (info_json) {
        snapc_sb_printf(&jb, "],\"committed\":%d", committed);
        show_index(jobdir, v, n, &sh, &jb);
        show_superseded(jobdir, &jb);
        snapc_sb_printf(&jb, "}");
        printf("%s\n", jb.p);
    } else {
        show_index(jobdir, v, n, &sh, NULL);
        show_superseded(jobdir, NULL);
    }
    if (!committed && !bad && staging) {
        fprintf(stderr, "%s: %s holds no committed snapshot yet: %d sequence%s staging (the "
                "running job's agents copy %s images); run ckpt-info %s again once they are "
                "copied\n",
                info_me, jobdir, staging, staging == 1 ? " is" : "s are", staging == 1 ? "its" : "their",
                jobdir);
        bad = INFO_STAGING;
    } else if (!committed && !bad && writing) {
        fprintf(stderr, "%s: %s holds no committed snapshot yet: %d sequence%s being written (the "
                "running job's ranks write %s images); run ckpt-info %s again once it is "
                "committed\n",
                info_me, jobdir, writing, writing == 1 ? " is" : "s are", writing == 1 ? "its" : "their",
                jobdir);
        bad = INFO_STAGING;
    } else if (!committed && !bad) {
        fprintf(stderr, "%s: %s holds no committed snapshot (%d sequence%s, none finished): nothing "
                "to restart from there; take a checkpoint (ckpt-mpirun) and wait for its commit\n",
                info_me, jobdir, n, n == 1 ? "" : "s");
        bad = INFO_NONE;
    }
    snapc_sb_free(&jb);
    free(vd);
    free(v);
    return bad;
}
