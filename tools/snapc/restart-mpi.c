/* restart-mpi [--seq N] [--hostfile F] [--relocate OLD=NEW]... [--no-verify] [--strict-files]
 *             [--showme] [-- EXTRA LAUNCHER OPTIONS] REF
 *
 * Restarts an MPI job from a global snapshot: REF is a sequence
 * (.../revive_global_snapshot_PID.ckpt/SEQ) or a snapshot directory (then the newest committed
 * sequence that has not failed a restart, or --seq N). Checks the snapshot (committed, metadata
 * intact, application binary and MPI library unchanged; unless --no-verify every rank image's
 * checksums and the files the images map, restart_files.h), fetches images missing from the
 * snapshot directory out of the caches of the hosts that hold them (restart_fetch.h; a snapshot
 * directory gone entirely is first re-created from the metadata in this host's cache,
 * restart_cache.h), then runs the job's coordinator in
 * restart mode (it takes this process's pid) with the same launcher, the same number of ranks
 * and the original launcher options, each program replaced by revive-restart-rank SEQDIR.
 * Foreground: the job's output, the job's exit status. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/dirsync.h"
#include "common/fault.h"
#include "common/relocate_arg.h"
#include "common/text.h"
#include "common/size_arg.h"
#include "filem/alive.h"
#include "filem/filem.h"
#include "filem/stage_mark.h"
#include "filem/verified.h"
#include "snapc/hosts.h"
#include "snapc/restart_lock.h"
#include "snapc/util.h"
#include "restart_cache.h"
#include "restart_fetch.h"
#include "restart_files.h"
#include "restart_meta_ask.h"
#include "restart_override.h"
#include "restart_signal.h"
#include "restart_stdin.h"
#include "snap_owner.h"
#include "tools/tool_die.h"

#ifndef REVIVE_PKGLIBEXECDIR
#define REVIVE_PKGLIBEXECDIR "/usr/local/libexec/revive"
#endif

static const char *me = "restart-mpi";

static void usage(FILE *f)
{
    fprintf(f,
            "usage: restart-mpi [--seq N] [--hostfile F] [--relocate OLD=NEW]... [--no-verify]\n"
            "                   [--ckpt-local DIR | none] [--ckpt-no-wait-stage] [--preload]\n"
            "                   [--ckpt-file-data-max SIZE]\n"
            "                   [--strict-files] [--showme] [--meta-from H1,H2]\n"
            "                   [--recreate-in DIR]\n"
            "                   [-- LAUNCHER OPTIONS...] REF\n"
            "Restarts the MPI job saved in REF (a snapshot reference printed by ckpt-mpirun, or a\n"
            "snapshot directory: its newest committed sequence) with the same MPI launcher, number\n"
            "of ranks and launcher options. The job runs in the foreground; restart-mpi exits\n"
            "with its status. Its own snapshots go beside the old ones.\n"
            "An image missing from the snapshot directory is first fetched from the node-local\n"
            "cache of its rank's host or from its partner copy (the hosts the snapshot names).\n"
            "A snapshot directory that is gone is re-created from the metadata kept in this\n"
            "host's node-local cache (else from the cache of a host of --hostfile or\n"
            "--meta-from, asked through the remote shell $REVIVE_RSH, default ssh), and every\n"
            "image fetched from the caches.\n"
            "  --seq N        take sequence N of a snapshot directory\n"
            "  --hostfile F   run on the hosts of F instead of the original ones\n"
            "  --relocate OLD=NEW  a file or folder the job used (its working directory, its\n"
            "                 program, a file it had open, an MPI file) is now at NEW; given\n"
            "                 to every rank\n"
            "  --no-verify    skip the checks of the rank images before the launch (their\n"
            "                 checksums, the files they map); the ranks still check them\n"
            "  --ckpt-local DIR  node-local caches (default $REVIVE_LOCAL_DIR, else each host's\n"
            "                 $TMPDIR/revive-local-<uid> or /tmp/...): each rank reads its image\n"
            "                 from DIR on its host where a good copy is there, else from the\n"
            "                 snapshot directory; the restarted job's snapshots go there first;\n"
            "                 'none': read the snapshot directory only\n"
            "  --ckpt-file-data-max SIZE  the restarted ranks' images may hold SIZE bytes\n"
            "                 (K, M, G; 0: no limit) of files deleted while open and files in\n"
            "                 /dev/shm (as mpirun's option; $REVIVE_FILE_DATA_MAX)\n"
            "  --ckpt-no-wait-stage  the restarted job's MPIX_Checkpoint returns once every\n"
            "                 image is in its node's cache, before the commit (as mpirun's option;\n"
            "                 $REVIVE_MPIX_NO_WAIT_STAGE=1)\n"
            "  --preload      copy each rank's image into its host's cache first\n"
            "  --strict-files refuse the restart when an MPI file the job had open changed\n"
            "                 at all since the snapshot (default: a file that grew or was\n"
            "                 written in place, as a job that ran on after the snapshot leaves\n"
            "                 it, is opened as it is, with a note; a file gone, replaced,\n"
            "                 shorter or no longer accessible is always refused;\n"
            "                 $REVIVE_RESTART_STRICT_FILES=1)\n"
            "  --meta-from H1,H2  hosts the job ran on whose caches may hold the snapshot's\n"
            "                 metadata when its directory is gone and this host's cache has none\n"
            "  --recreate-in DIR  the snapshot directory and the storage that held it are gone:\n"
            "                 re-create it in DIR (storage every host sees) from the caches\n"
            "  --showme       print the launch command and do nothing (before it, as comments,\n"
            "                 the fetch of missing images that would run: which from which hosts)\n"
            "  -- OPTIONS     extra launcher options, before the saved ones; one the saved\n"
            "                 arguments hold too (same name, e.g. --bind-to, -bind-to, --mca KEY)\n"
            "                 replaces them, said on stderr; REF comes last. The restarted\n"
            "                 job's snapshots record them (and --hostfile's) as its launcher\n"
            "                 options: a restart of those runs as this one did\n"
            "Exit status: the restarted job's; 1 no restart: the snapshot refused (missing,\n"
            "not committed, damaged, another user's, a changed program or MPI library) or the\n"
            "launch failed, the reason in one line on standard error; 2 wrong usage (an unknown\n"
            "option, no REF or two, a bad option value, options that exclude each other);\n"
            "128+N interrupted by signal N (SIGINT, SIGTERM: the sequence is not marked failed).\n"
            "examples:\n"
            "  restart-mpi ./revive_global_snapshot_4242.ckpt/3\n"
            "  restart-mpi --seq 2 ./revive_global_snapshot_4242.ckpt\n"
            "  restart-mpi --relocate /old/run=/new/run -- --oversubscribe ./snap.ckpt/3\n");
}

/* A snapshot directory re-created from the caches (restart_cache.h): removed again when the
 * restart fails before the launch, so that nothing is left half made. */
static char recreated[PATH_MAX];
static uint64_t recreated_seq;

/* Damaged shared images moved aside for the fetch (damaged_aside below): the first
 * aside_moved of aside_rank[] in aside_dir. Put back by whatever ends restart-mpi before the
 * fetch is over (a signal, die), so that no rank_R.img.damaged is left: the store does not know
 * that name (retention could never remove the sequence) and the image would then read as
 * missing, not damaged (diffrev31 R-M2). */
static const char *aside_dir;
static const int *aside_rank;
static int aside_moved;

/* Each image moved aside goes back under its name unless a good copy came there (fetched and
 * verified: the damaged one is removed then). Returns how many went back. */
static int aside_restore(void)
{
    int back = 0;
    for (int i = 0; i < aside_moved; i++) {
        char img[PATH_MAX + 32], aside[PATH_MAX + 48];
        snprintf(img, sizeof img, "%s/rank_%d.img", aside_dir, aside_rank[i]);
        snprintf(aside, sizeof aside, "%s.damaged", img);
        if (access(img, F_OK) < 0)
            back += rename(aside, img) == 0;
        else
            (void)unlink(aside);
    }
    if (aside_moved)
        revive_fsync_dir(aside_dir);
    aside_moved = 0;
    return back;
}

/* SIGINT, SIGTERM or SIGHUP before the coordinator took over (restart_signal.h): what
 * restart-mpi made goes first (the folders of other hosts' answers, the re-created snapshot
 * directory with what was fetched into it), then the signal ends it. */
static void ended_by_signal(int s)
{
    restart_meta_ask_clean();
    aside_restore(); /* before a re-created directory goes with them */
    /* said once the removal has run, as it went (diffrev L6: "removed" was said before, also
     * when it then failed) */
    char what[2 * PATH_MAX + 160] = "";
    if (recreated[0]) {
        int e = restart_cache_undo(recreated, recreated_seq);
        if (e == 0)
            snprintf(what, sizeof what, "; removed what it had re-created: %s", recreated);
        else
            snprintf(what, sizeof what, "; could not remove all it had re-created in %s (%s): "
                     "remove it by hand (rm -r %s)", recreated, strerror(-e), recreated);
    }
    fprintf(stderr, "%s: ended by signal %d (%s) before the launch%s\n", me, s, strsignal(s), what);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    char msg[REVIVE_TEXT_PATHS(5)]; /* paths up to PATH_MAX and the advice after them, whole */
    va_list ap;
    va_start(ap, fmt);
    tool_vsay(me, msg, sizeof msg, fmt, ap);
    va_end(ap);
    aside_restore();
    if (recreated[0]) {
        int e = restart_cache_undo(recreated, recreated_seq);
        if (e < 0)
            fprintf(stderr, "%s: could not remove all it had re-created in %s (%s): remove it by hand "
                            "(rm -r %s)\n", me, recreated, strerror(-e), recreated);
    }
    exit(1); /* restart_meta_ask_clean at exit */
}

/* A wrong command line (a bad option value, options that exclude each other): one line, status
 * 2, as ckpt-mpirun, ckpt-info and cr_checkpoint say it (1 is for a snapshot refused or a launch
 * that failed). Nothing is made yet. */
static void usage_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tool_vdie(2, me, fmt, ap);
}

struct argv {
    char **v;
    int n, cap;
};

static void push(struct argv *a, const char *s)
{
    if (a->n + 2 > a->cap) {
        a->cap = a->cap ? 2 * a->cap : 64;
        a->v = realloc(a->v, (size_t)a->cap * sizeof *a->v);
        if (!a->v)
            die("out of memory");
    }
    a->v[a->n] = strdup(s);
    if (!a->v[a->n])
        die("out of memory");
    a->n++;
    a->v[a->n] = NULL;
}

static void pushf(struct argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pushf(struct argv *a, const char *fmt, ...)
{
    char buf[PATH_MAX + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    push(a, buf);
}

/* Launcher options naming hosts (dropped with --hostfile), each with one value. */
static int host_option(const char *a)
{
    return snapc_launcher_option(a, strlen(a)) & (SNAPC_LOPT_HOSTS | SNAPC_LOPT_HOSTFILE);
}

/* Shell-quotes s for --showme. */
static void print_quoted(const char *s)
{
    struct snapc_sbuf b = {0};
    snapc_sb_shell_word(&b, s);
    fputs(b.p ? b.p : "''", stdout);
    snapc_sb_free(&b);
}

/* path under a --relocate OLD (the longest that applies) moved to NEW: 1 and out filled. */
static int relocated(const char *path, const struct argv *reloc, char *out, size_t len)
{
    size_t best = 0;
    const char *to = NULL;
    for (int i = 0; i < reloc->n; i++) {
        const char *r = reloc->v[i], *eq = strchr(r, '=');
        size_t n = (size_t)(eq - r);
        while (n > 1 && r[n - 1] == '/')
            n--;
        if (n > best && !strncmp(path, r, n) && (path[n] == '/' || !path[n])) {
            best = n;
            to = eq + 1;
        }
    }
    if (!to)
        return 0;
    snprintf(out, len, "%s%s", to, path + best);
    return 1;
}

/* A snapshot of another user: its images hold that user's processes, which must run as that
 * user again (as BLCR's cr_restart and Open MPI's ompi-restart restored the owner's processes).
 * root is told to run restart-mpi, with its own arguments, as the owner; anyone else that only
 * the owner can (snap_owner.h, shared with ckpt-info). */
static struct snap_owner_words owner_words = {
    .me = "restart-mpi", .verb = "restart",
    .why = "its ranks must run as their owner, and Revive reads no snapshot as another user, root "
           "included",
    .tail = "; as root it is not restarted"};

/* relocated() for restart_check_files */
static int moved_by(const char *path, char *out, size_t len, void *reloc)
{
    return relocated(path, reloc, out, len);
}

static const char *tool_path(const char *env, const char *name, char *buf, size_t len)
{
    const char *e = getenv(env);
    if (e && *e)
        return e;
    snprintf(buf, len, "%s/%s", REVIVE_PKGLIBEXECDIR, name);
    return buf;
}

/* What filem_meta_read said of a damaged snapshot.meta, without its path and its advice
 * ("is damaged (checksum ...)"): restart-mpi names the sequence and what it takes instead. */
static const char *meta_damage(const char *err, char *out, size_t len)
{
    const char *p = strstr(err, FILEM_META_NAME " ");
    p = p ? p + strlen(FILEM_META_NAME " ") : err;
    const char *q = strstr(p, "; this snapshot");
    snprintf(out, len, "%.*s", (int)(q ? q - p : (ptrdiff_t)strlen(p)), p);
    return out;
}

/* The default passed over newer sequences whose snapshot.meta is damaged, that were never
 * committed (their staging failed, the checkpoint was cut short, or the running job still
 * writes or copies them), and newer committed ones whose restart failed (the index marks
 * them): say which and why, and for the last how to take one anyway. A damaged newest sequence
 * was passed over without a word (review LOW-5). */
static void say_skipped(const char *jobdir, uint64_t taken)
{
    struct filem_seq_info *v;
    int n;
    char err[512];
    if (filem_scan(jobdir, &v, &n, err, sizeof err) < 0)
        return;
    char why[512];
    int running = -1;
    for (int i = 0; i < n; i++)
        if (v[i].state == FILEM_SEQ_CORRUPT && v[i].seq > taken)
            fprintf(stderr,
                    "%s: skipping sequence %llu of %s: its %s %s (ckpt-info --verify %s/%llu "
                    "says more); taking sequence %llu\n",
                    me, (unsigned long long)v[i].seq, jobdir, FILEM_META_NAME,
                    meta_damage(v[i].err, why, sizeof why), jobdir, (unsigned long long)v[i].seq,
                    (unsigned long long)taken);
        else if (v[i].state == FILEM_SEQ_UNCOMMITTED && v[i].seq > taken &&
            filem_stage_failed_reason(jobdir, v[i].seq, why, sizeof why))
            fprintf(stderr,
                    "%s: skipping sequence %llu of %s: its staging failed, it was never "
                    "committed (%s); taking sequence %llu\n",
                    me, (unsigned long long)v[i].seq, jobdir, why, (unsigned long long)taken);
        else if (v[i].state == FILEM_SEQ_UNCOMMITTED && v[i].seq > taken &&
                 filem_phase_active(jobdir, v[i].seq, FILEM_PHASE_STAGING))
            fprintf(stderr,
                    "%s: skipping sequence %llu of %s: it is staging, not committed yet (the "
                    "running job's agents copy its images there); taking sequence %llu\n",
                    me, (unsigned long long)v[i].seq, jobdir, (unsigned long long)taken);
        else if (v[i].state == FILEM_SEQ_UNCOMMITTED && v[i].seq > taken &&
                 filem_phase_active(jobdir, v[i].seq, FILEM_PHASE_WRITING))
            fprintf(stderr,
                    "%s: skipping sequence %llu of %s: it is being written, not committed yet "
                    "(the running job's ranks write its images); taking sequence %llu\n",
                    me, (unsigned long long)v[i].seq, jobdir, (unsigned long long)taken);
        else if (v[i].state == FILEM_SEQ_UNCOMMITTED && v[i].seq > taken) {
            if (running < 0)
                running = filem_job_alive(jobdir);
            fprintf(stderr, "%s: skipping sequence %llu of %s: it is not committed (%s); taking "
                            "sequence %llu\n",
                    me, (unsigned long long)v[i].seq, jobdir,
                    running ? "the job still runs: it is being written or copied there, or that "
                              "checkpoint failed"
                            : "its checkpoint did not finish",
                    (unsigned long long)taken);
        }
        else if (v[i].state == FILEM_SEQ_COMMITTED && v[i].seq > taken && v[i].failed_restarts)
            fprintf(stderr,
                    "%s: skipping sequence %llu of %s: %u restart%s from it failed (%s); taking "
                    "sequence %llu (--seq %llu tries it again)\n",
                    me, (unsigned long long)v[i].seq, jobdir, v[i].failed_restarts,
                    v[i].failed_restarts == 1 ? "" : "s",
                    v[i].failed_reason[0] ? v[i].failed_reason : "no reason recorded",
                    (unsigned long long)taken, (unsigned long long)v[i].seq);
    free(v);
}

/* What to do when sequence seq cannot be used: the newest other committed one, named with
 * --seq, when the job directory holds one, else say there is none (a hint to "use another
 * sequence" sent users looking for one that was not there: issue 7 F7). src/filem/meta.c words
 * a damaged snapshot.meta alike. */
static const char *other_seq_hint(const char *jobdir, int64_t seq, char *buf, size_t len)
{
    struct filem_seq_info *v;
    int n;
    int64_t other = -1;
    char err[512];
    if (filem_scan(jobdir, &v, &n, err, sizeof err) < 0) {
        snprintf(buf, len, "ckpt-info --verify %s lists what else it holds", jobdir);
        return buf;
    }
    for (int i = 0; i < n; i++)
        if (v[i].state == FILEM_SEQ_COMMITTED && (int64_t)v[i].seq != seq && (int64_t)v[i].seq > other)
            other = (int64_t)v[i].seq;
    free(v);
    if (other >= 0)
        snprintf(buf, len, "sequence %lld beside it is committed (restart-mpi --seq %lld %s)", (long long)other,
                 (long long)other, jobdir);
    else
        snprintf(buf, len, "%s holds no other committed sequence to restart from", jobdir);
    return buf;
}

/* Images missing from the snapshot directory: which ranks (fetched from the hosts' caches
 * before the launch, restart_fetch.h), and whether anything else is wrong. */
struct missing {
    int n, other;
    int *ranks;
    /* images there but damaged (newuser9 F8): fetched like missing ones from a node-local copy
     * (its node's cache, its partner's) when one is good; the check's words for each */
    const char *seqdir;
    const struct filem_meta *m;
    int ndam;
    int *dam;
    char **dam_why;
};

static void add_rank(int **v, int *n, int rank)
{
    int *r = realloc(*v, (size_t)(*n + 1) * sizeof *r);
    if (!r)
        die("out of memory");
    *v = r;
    r[(*n)++] = rank;
}

/* A rank whose image fails its check but whose metadata names its size and checksum (so a
 * copy elsewhere can be checked against it): a regular file of ours, damaged. Not one that is
 * not private (it is refused, never replaced) nor one the metadata does not describe. */
static int damaged_image(const struct missing *mi, int rank, int status)
{
    char k[64], path[PATH_MAX + 32];
    uint64_t v;
    if (status == -EPERM || !mi->m || !mi->seqdir)
        return 0;
    snprintf(k, sizeof k, "rank.%d.checksum", rank);
    if (filem_meta_get_u64(mi->m, k, &v) < 0)
        return 0;
    snprintf(k, sizeof k, "rank.%d.size", rank);
    if (filem_meta_get_u64(mi->m, k, &v) < 0)
        return 0;
    snprintf(path, sizeof path, "%s/rank_%d.img", mi->seqdir, rank);
    struct stat st;
    return lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
           !(st.st_mode & 077);
}

static void note_missing(void *arg, int rank, int status, const char *msg)
{
    struct missing *mi = arg;
    if (status == 0)
        return;
    if (status != -ENOENT) {
        mi->other++;
        if (damaged_image(mi, rank, status)) {
            char **w = realloc(mi->dam_why, (size_t)(mi->ndam + 1) * sizeof *w);
            if (!w)
                die("out of memory");
            mi->dam_why = w;
            if (!(w[mi->ndam] = strdup(msg ? msg : "it fails its check")))
                die("out of memory");
            add_rank(&mi->dam, &mi->ndam, rank);
        }
        return;
    }
    add_rank(&mi->ranks, &mi->n, rank);
}

/* STEP -1: the damaged shared images moved aside (rank_R.img -> rank_R.img.damaged) so that
 * the fetch puts a good copy under the name (its receiver keeps a copy already there); after
 * the fetch, STEP 1 puts them back where no good copy came (the snapshot as it was), STEP 0
 * removes those a good copy replaced. A rename that fails puts back those already moved (die);
 * a signal during the fetch puts them back too (ended_by_signal). Killed outright (SIGKILL) in
 * between, the next restart-mpi puts them back (aside_left). */
static void damaged_aside(const struct missing *mi, int step)
{
    if (step >= 0) {
        if (step)
            aside_restore();
        else {
            for (int i = 0; i < aside_moved; i++) {
                char aside[PATH_MAX + 48];
                snprintf(aside, sizeof aside, "%s/rank_%d.img.damaged", aside_dir, aside_rank[i]);
                (void)unlink(aside);
            }
            revive_fsync_dir(aside_dir);
            aside_moved = 0;
        }
        return;
    }
    aside_dir = mi->seqdir;
    aside_rank = mi->dam;
    aside_moved = 0;
    for (int i = 0; i < mi->ndam; i++) {
        char img[PATH_MAX + 32], aside[PATH_MAX + 48];
        snprintf(img, sizeof img, "%s/rank_%d.img", mi->seqdir, mi->dam[i]);
        snprintf(aside, sizeof aside, "%s.damaged", img);
        if (rename(img, aside) < 0)
            die("cannot move the damaged image %s aside to fetch a good copy: %s (nothing was "
                "started; the images moved before it are back)", img, strerror(errno));
        aside_moved = i + 1;
    }
    revive_fsync_dir(mi->seqdir);
}

/* Images a restart-mpi killed outright (SIGKILL: nothing of it ran) left aside during its
 * fetch: each put back under its name (where none came since), under the restart lock (a
 * restart that runs now may have moved it), so that it reads as damaged again and its good
 * copy is fetched as before, said. */
static void aside_left(const char *jobdir, const char *seqdir)
{
    DIR *d = opendir(seqdir);
    if (!d)
        return;
    struct dirent *de;
    int locked = 0;
    char err[PATH_MAX + 256];
    while ((de = readdir(d))) {
        int r, len = 0;
        if (sscanf(de->d_name, "rank_%d.img.damaged%n", &r, &len) != 1 || de->d_name[len] ||
            r < 0)
            continue;
        char img[PATH_MAX + 32], aside[PATH_MAX + 48];
        snprintf(img, sizeof img, "%s/rank_%d.img", seqdir, r);
        snprintf(aside, sizeof aside, "%s.damaged", img);
        if (access(img, F_OK) == 0)
            continue; /* a good copy came since: the restart that will use it removes the other */
        if (!locked && snapc_restart_lock_take(jobdir, err, sizeof err) < 0)
            die("%s", err);
        locked = 1;
        if (rename(aside, img) < 0)
            die("cannot put back %s (left aside by a restart-mpi that was killed during its "
                "fetch) as %s: %s", aside, img, strerror(errno));
        fprintf(stderr, "%s: rank %d's damaged image was left aside as %s by a restart-mpi "
                        "killed during its fetch: put back under its name\n", me, r, aside);
    }
    closedir(d);
    if (locked)
        revive_fsync_dir(seqdir);
}

/* restart-mpi's command line (usage above), as main takes it. */
struct opts {
    long want_seq; /* --seq, else -1 */
    const char *hostfile, *ref, *meta_from, *recreate_in;
    const char *local; /* --ckpt-local, else REVIVE_LOCAL_DIR: an absolute path, "none" or NULL */
    int showme, verify, preload;
    struct argv extra, reloc; /* the launcher options after --; each --relocate OLD=NEW */
};

/* The command line into o. A wrong one ends restart-mpi with status 2 (usage_die), --help with
 * 0, before anything is made; REVIVE_LOCAL_DIR is set from --ckpt-local (the restarted job's own
 * snapshots take it too). */
static void parse_options(int argc, char **argv, struct opts *o)
{
    long want_seq = -1;
    const char *hostfile = NULL, *ref = NULL, *meta_from = NULL, *recreate_in = NULL;
    int showme = 0, verify = 1, preload = 0;
    /* node-local caches (issue 9): each rank reads its image from its node's cache where a good
     * copy is there, else from the snapshot directory; --preload copies it there first */
    const char *local = getenv("REVIVE_LOCAL_DIR");
    struct argv extra = {0}, reloc = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            /* everything up to the last argument is for the launcher, the last is REF: a REF
             * given before "--" made the last launcher option the reference ("3 does not
             * exist", review LOW-3), so each mistake is said as such */
            if (ref && i + 1 < argc)
                usage_die("the snapshot reference goes last, after the launcher options: "
                          "restart-mpi [OPTIONS] -- %s... %s (it came before --); see %s --help",
                          argv[i + 1], ref, me);
            if (!ref && i + 1 >= argc)
                usage_die("no snapshot reference after --: restart-mpi [OPTIONS] -- "
                          "[LAUNCHER OPTIONS...] REF; see %s --help", me);
            for (i++; i < argc - 1; i++)
                push(&extra, argv[i]);
            if (i < argc) {
                if (argv[i][0] == '-')
                    usage_die("the last argument after -- is the snapshot reference, not the "
                              "launcher option %s: restart-mpi [OPTIONS] -- [LAUNCHER OPTIONS...] "
                              "REF; see %s --help", argv[i], me);
                ref = argv[i];
            }
            break;
        } else if (!strcmp(a, "--seq") || !strcmp(a, "-s")) {
            const char *v = i + 1 < argc ? argv[++i] : "";
            char *end;
            errno = 0;
            want_seq = strtol(v, &end, 10);
            /* (a number too large for a sequence was taken as the largest one) */
            if (!*v || *end || errno || want_seq < 0 || want_seq > 999999999999999999L)
                usage_die("--seq needs a sequence number (0 to 999999999999999999), not '%s'", v);
        } else if (!strcmp(a, "--hostfile") || !strcmp(a, "--machinefile")) {
            if (i + 1 >= argc)
                usage_die("%s needs a file", a);
            hostfile = argv[++i];
        } else if (!strcmp(a, "--meta-from")) {
            if (i + 1 >= argc || !argv[i + 1][0] || argv[i + 1][0] == '-')
                usage_die("--meta-from needs a list of hosts (h1,h2)");
            meta_from = argv[++i];
        } else if (!strcmp(a, "--recreate-in")) {
            if (i + 1 >= argc || !argv[i + 1][0])
                usage_die("--recreate-in needs a directory (storage every host sees)");
            recreate_in = argv[++i];
        } else if (!strcmp(a, "--relocate") || !strncmp(a, "--relocate=", 11)) {
            const char *v = a[10] == '=' ? a + 11 : (i + 1 < argc ? argv[++i] : "");
            char why[PATH_MAX * 2 + 256];
            if (revive_relocate_arg_check(v, why, sizeof why) != 0)
                usage_die("%s", why);
            if (reloc.n >= 64)
                usage_die("at most 64 --relocate options");
            push(&reloc, v);
        } else if (!strcmp(a, "--ckpt-local")) {
            if (i + 1 >= argc || (argv[i + 1][0] != '/' && strcmp(argv[i + 1], "none") != 0))
                usage_die("--ckpt-local needs an absolute path (the same on every host) or 'none'");
            local = argv[++i];
        } else if (!strcmp(a, "--ckpt-file-data-max")) {
            uint64_t b;
            if (i + 1 >= argc || revive_size_arg(argv[i + 1], &b) < 0)
                usage_die("--ckpt-file-data-max needs a size such as 4G or 512M (0: no limit), "
                          "not '%s'", i + 1 < argc ? argv[i + 1] : "");
            setenv("REVIVE_FILE_DATA_MAX", argv[++i], 1); /* read by the restarted ranks */
        } else if (!strcmp(a, "--ckpt-no-wait-stage")) {
            setenv("REVIVE_MPIX_NO_WAIT_STAGE", "1", 1); /* read by the new coordinator */
        } else if (!strcmp(a, "--preload"))
            preload = 1;
        else if (!strcmp(a, "--no-verify"))
            verify = 0;
        else if (!strcmp(a, "--strict-files"))
            setenv("REVIVE_RESTART_STRICT_FILES", "1", 1); /* read by the restarted ranks */
        else if (!strcmp(a, "--showme"))
            showme = 1;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        } else if (a[0] == '-') {
            /* one line, as GNU tools say it: the usage would push the mistake off the screen */
            fprintf(stderr, "%s: unknown option %s (launcher options go after --); see %s --help\n",
                    me, a, me);
            exit(2);
        } else if (!ref)
            ref = a;
        else {
            fprintf(stderr, "%s: one snapshot reference only (%s, then %s; launcher options go "
                            "after --); see %s --help\n", me, ref, a, me);
            exit(2);
        }
    }
    if (local && !*local)
        local = NULL;
    if (local && local[0] != '/' && strcmp(local, "none") != 0)
        die("REVIVE_LOCAL_DIR must be an absolute path (the same on every host) or 'none', not "
            "'%s'", local);
    if (preload && local && !strcmp(local, "none"))
        usage_die("--preload needs a node-local directory (not --ckpt-local none)");
    if (local)
        setenv("REVIVE_LOCAL_DIR", local, 1); /* the restarted job's own snapshots too */
    if (!ref) {
        usage(stderr);
        exit(2);
    }
    *o = (struct opts){.want_seq = want_seq, .hostfile = hostfile, .ref = ref,
                       .meta_from = meta_from, .recreate_in = recreate_in, .local = local,
                       .showme = showme, .verify = verify, .preload = preload, .extra = extra,
                       .reloc = reloc};
}

/* The snapshot o->ref names: its job directory, and the sequence returned (--seq, the one the
 * reference names, else the newest committed one that did not fail a restart, said). When the
 * snapshot directory is gone, its metadata from a node-local cache (restart_cache.h): cached is
 * that copy's path (else left ""). Ends restart-mpi when there is none. */
static int64_t choose_snapshot(const struct opts *o, const char *rrank, char *jobdir, size_t jlen,
                               char *cached, size_t clen)
{
    char err[REVIVE_TEXT_PATHS(3)];
    int64_t seq;
    if (o->hostfile && snapc_hosts_check_file(o->hostfile, err, sizeof err) < 0)
        die("%s", err); /* before anything is started (snapc/hosts.h) */
    int re = filem_resolve_ref(o->ref, jobdir, jlen, &seq, err, sizeof err);
    if (re == -EACCES && snap_owner_refuse_above(&owner_words, o->ref))
        exit(1); /* nothing made yet */
    if (re < 0) {
        /* the snapshot directory gone: its metadata from this host's cache (restart_cache.h) */
        char cerr[8192], ask[64][256], *askv[64];
        int nask = restart_meta_hosts(o->hostfile, o->meta_from, ask, 64);
        for (int i = 0; i < nask; i++)
            askv[i] = ask[i];
        int c = restart_cache_find(o->ref, o->local, o->want_seq, askv, nask, rrank,
                                   o->recreate_in, jobdir, jlen, &seq, cached, clen, cerr,
                                   sizeof cerr);
        if (c == 0)
            die("%s", err);
        if (c < 0)
            die("%s", cerr);
    } else {
        if (err[0]) /* a folder holding one snapshot directory: which one */
            fprintf(stderr, "%s: %s\n", me, err);
        if (o->recreate_in)
            die("--recreate-in is for a snapshot directory that is gone; %s is there", jobdir);
        if (snap_owner_refuse(&owner_words, jobdir))
            exit(1);
        if (filem_private_dir(jobdir, 0, err, sizeof err) < 0)
            die("%s", err);
    }
    if (cached[0])
        ; /* its sequence chosen above */
    else if (seq >= 0 && o->want_seq >= 0 && o->want_seq != seq)
        usage_die("%s is sequence %lld; --seq %ld names another (give the snapshot directory with --seq)",
            o->ref, (long long)seq, o->want_seq);
    if (seq < 0 && o->want_seq >= 0)
        seq = o->want_seq;
    if (seq < 0) {
        uint64_t s;
        int all_failed;
        if (filem_default_seq(jobdir, &s, &all_failed, err, sizeof err) < 0)
            die("%s", err);
        if (all_failed)
            fprintf(stderr, "%s: warning: every committed sequence of %s failed a restart before; "
                            "trying the newest (%llu) again\n",
                    me, jobdir, (unsigned long long)s);
        else
            say_skipped(jobdir, s);
        seq = (int64_t)s;
    }
    return seq;
}

/* The sequence's metadata into m, read in metadir (seqdir, or the cache's copy for --showme of a
 * snapshot directory that is gone). When it cannot be read, restart-mpi ends saying why and what
 * to do: its staging failed, it is staging or being written now, the job that takes it still
 * runs, or which other sequence to take. */
static void read_meta(const char *metadir, const char *seqdir, const char *jobdir, int64_t seq,
                      struct filem_meta *m)
{
    char err[REVIVE_TEXT_PATHS(3)], why[512];
    int me_e = filem_meta_read(metadir, m, err, sizeof err);
    if (me_e < 0) {
        if (filem_stage_failed_reason(jobdir, (uint64_t)seq, why, sizeof why))
            die("sequence %lld of %s was never committed: its staging failed (%s); restart from "
                "an earlier sequence (ckpt-info %s lists them)",
                (long long)seq, jobdir, why, jobdir);
        /* a sequence the running job's agents copy now (newuser9 F1) */
        if (me_e == -ENOENT && metadir == seqdir && filem_phase_active(jobdir, (uint64_t)seq, FILEM_PHASE_STAGING)) {
            char hint[PATH_MAX + 64];
            die("sequence %lld of %s is staging: the running job's agents are copying its images "
                "there, it is not committed yet; wait for the commit (ckpt-info %s/%lld exits 0 "
                "then; ckpt-mpirun without --no-wait-stage waits for it), or restart from "
                "another: %s",
                (long long)seq, jobdir, jobdir, (long long)seq,
                other_seq_hint(jobdir, seq, hint, sizeof hint));
        }
        /* its ranks still writing their images (closing31) */
        if (me_e == -ENOENT && metadir == seqdir && filem_phase_active(jobdir, (uint64_t)seq, FILEM_PHASE_WRITING)) {
            char hint[PATH_MAX + 64];
            die("sequence %lld of %s is being written: the running job's ranks are writing its "
                "images, it is not committed yet; wait for the commit (ckpt-info %s/%lld exits "
                "0 then; ckpt-mpirun prints the reference), or restart from another: %s",
                (long long)seq, jobdir, jobdir, (long long)seq,
                other_seq_hint(jobdir, seq, hint, sizeof hint));
        }
        /* a sequence the running job still writes: not "never finished" */
        if (me_e == -ENOENT && metadir == seqdir && filem_job_alive(jobdir) == 1) {
            char hint[PATH_MAX + 64];
            die("sequence %lld of %s is not committed (no %s): the job that takes it still runs, "
                "so it is being written or copied there, or that checkpoint failed; wait for the "
                "commit (ckpt-mpirun prints the reference then), or restart from another: %s",
                (long long)seq, jobdir, FILEM_META_NAME,
                other_seq_hint(jobdir, seq, hint, sizeof hint));
        }
        /* which one to take instead, as for a damaged one (review newuser7 L1) */
        if (me_e == -ENOENT && metadir == seqdir) {
            char hint[PATH_MAX + 64];
            die("%s; %s", err, other_seq_hint(jobdir, seq, hint, sizeof hint));
        }
        die("%s", err);
    }
}

/* The job's launcher arguments as this restart runs it (run; where its programs are in it:
 * rprogs, returned how many), from the saved ones (m) and the command line's. Ends restart-mpi
 * when the metadata lacks them or the options given after -- cannot be taken. */
static int job_arguments(const struct opts *o, const struct filem_meta *m, const char *seqdir,
                         uint64_t ranks, uint64_t argc_saved, const char *flavor,
                         struct argv *run, int *rprogs)
{
    char err[REVIVE_TEXT_PATHS(3)];
    /* the saved user arguments and where the programs were */
    struct argv user = {0};
    for (uint64_t i = 0; i < argc_saved; i++) {
        char k[48];
        snprintf(k, sizeof k, "launcher.arg.%llu", (unsigned long long)i);
        const char *v = filem_meta_get(m, k);
        if (!v)
            die("%s/snapshot.meta lacks launcher argument %llu", seqdir, (unsigned long long)i);
        push(&user, v);
    }
    int progs[64], nprogs = 0;
    const char *pl = filem_meta_get(m, "launcher.progs");
    for (const char *p = pl ? pl : ""; *p && nprogs < 64;) {
        char *end;
        long x = strtol(p, &end, 10);
        if (end == p || x < 0 || x >= user.n)
            die("%s/snapshot.meta has a bad program position '%s'", seqdir, pl);
        progs[nprogs++] = (int)x;
        p = *end == ',' ? end + 1 : end;
    }
    if (nprogs == 0)
        die("%s/snapshot.meta does not say where the program is in the launcher arguments", seqdir);
    /* extra options: a number of ranks must be the snapshot's */
    struct argv ex = {0};
    for (int i = 0; i < o->extra.n; i++) {
        if (snapc_launcher_option(o->extra.v[i], strlen(o->extra.v[i])) == SNAPC_LOPT_NP &&
            i + 1 < o->extra.n) {
            char *end;
            long x = strtol(o->extra.v[i + 1], &end, 10);
            if (*end || x != (long)ranks)
                die("the snapshot has %llu ranks; a restart runs exactly %llu (not %s %s)",
                    (unsigned long long)ranks, (unsigned long long)ranks, o->extra.v[i],
                    o->extra.v[i + 1]);
            i++;
            continue;
        }
        push(&ex, o->extra.v[i]);
    }
    /* an option given after -- replaces the saved one: a launcher keeps both or refuses the
     * second (newuser9 F2) */
    user.n = restart_override(user.v, user.n, progs, nprogs, ex.v, ex.n, me, stderr);
    /* without --hostfile, the job's own hosts: still known? (snapc/hosts.h) */
    if (!o->hostfile && snapc_hosts_check_args(user.v, progs[0], err, sizeof err) < 0)
        die("%s (or give other hosts with --hostfile)", err);
    /* extra options naming hosts (-hosts, --host, a hostfile) are checked as the job's own
     * were: with an unknown host MPICH's launcher waited until REVIVE_LAUNCH_TIMEOUT (300 s,
     * issue 7 review F6). A relative hostfile is the launcher's, read where it runs: the job's
     * working directory. */
    if (ex.n > 0) {
        const char *jcwd = filem_meta_get(m, "cwd");
        char moved_cwd[PATH_MAX];
        if (jcwd && relocated(jcwd, &o->reloc, moved_cwd, sizeof moved_cwd))
            jcwd = moved_cwd;
        char here[PATH_MAX];
        int back = jcwd && getcwd(here, sizeof here) && chdir(jcwd) == 0;
        int bad = snapc_hosts_check_args(ex.v, ex.n, err, sizeof err) < 0;
        if (back && chdir(here) < 0)
            die("cannot return to %s: %s", here, strerror(errno));
        if (bad)
            die("%s (given after --); nothing was started", err);
    }
    /* The job's launcher arguments as this restart runs it: --hostfile's file, the options
     * given after --, then the saved ones (without those replaced, without their hosts when
     * --hostfile names others), the programs where they are. The launch command, the fetch and
     * the coordinator all take this one list: the coordinator picks its address on the network
     * it names and records it in the restarted job's snapshots, so that a later restart of
     * those runs as this one did (diffrev31 R-M1: an option replaced after -- reached the
     * launcher only; the restarted job's snapshot.meta held neither it nor the saved one). */
    int nrprogs = 0;
    if (o->hostfile) {
        char hf[PATH_MAX];
        if (!realpath(o->hostfile, hf))
            die("the hostfile %s: %s", o->hostfile, strerror(errno));
        push(run, !strcmp(flavor, "ompi") ? "--hostfile" : "-f");
        push(run, hf);
    }
    for (int i = 0; i < ex.n; i++)
        push(run, ex.v[i]);
    for (int i = 0, pi = 0; i < user.n; i++) {
        if (pi < nprogs && progs[pi] == i) {
            rprogs[nrprogs++] = run->n;
            pi++;
            /* the program and its own arguments, up to ":" */
            while (i < user.n && strcmp(user.v[i], ":") != 0)
                push(run, user.v[i++]);
            if (i < user.n)
                push(run, user.v[i]);
            continue;
        }
        if (o->hostfile && host_option(user.v[i]) && i + 1 < user.n) {
            i++; /* and its value: the hosts of --hostfile instead */
            continue;
        }
        push(run, user.v[i]);
    }
    return nrprogs;
}

/* The command: launcher [-x ...] then the job's arguments as it runs now (run, its programs at
 * rprogs), each program replaced by the rank restarter rrank with its options and seqdir. */
static void launch_command(struct argv *cmd, const struct opts *o, const char *launcher,
                           const char *flavor, const struct argv *run, const int *rprogs,
                           int nrprogs, const char *rrank, const char *seqdir)
{
    push(cmd, launcher);
    int ompi = !strcmp(flavor, "ompi"), mpich = !strcmp(flavor, "mpich");
    if (ompi) {
        push(cmd, "-x");
        push(cmd, "REVIVE_COORD");
        push(cmd, "-x");
        push(cmd, "REVIVE_JOB_SECRET");
        push(cmd, "-x");
        push(cmd, "REVIVE_JOB_ID");
        /* how far each rank's restore got (src/snapc/coord_restart.c) */
        push(cmd, "-x");
        push(cmd, "REVIVE_RESTART_DIR");
        push(cmd, "-x");
        push(cmd, "REVIVE_RESTART_REPORT");
        if (getenv("REVIVE_RESTART_STRICT_FILES")) { /* -x wants it set */
            push(cmd, "-x");
            push(cmd, "REVIVE_RESTART_STRICT_FILES");
        }
        if (getenv("REVIVE_FILE_DATA_MAX")) {
            push(cmd, "-x");
            push(cmd, "REVIVE_FILE_DATA_MAX");
        }
        if (getenv(FILEM_VERIFIED_ENV)) { /* the images the check read (above) */
            push(cmd, "-x");
            push(cmd, FILEM_VERIFIED_ENV);
        }
    }
    int pi = 0;
    for (int i = 0; i < run->n; i++) {
        if (pi < nrprogs && rprogs[pi] == i) {
            push(cmd, rrank);
            if (o->local && *o->local) {
                push(cmd, "--local");
                push(cmd, o->local); /* else each node's default cache */
            }
            if (o->preload)
                push(cmd, "--preload");
            for (int k = 0; k < o->reloc.n; k++) {
                push(cmd, "--relocate");
                push(cmd, o->reloc.v[k]);
            }
            push(cmd, seqdir);
            /* the program's own arguments stay in the image */
            while (i + 1 < run->n && strcmp(run->v[i + 1], ":") != 0)
                i++;
            pi++;
            continue;
        }
        push(cmd, run->v[i]);
    }
    (void)mpich;
}

/* revive-coord in restart mode, in this process (it launches cmd from the job's directory, where
 * relative names in its options lead); m is freed. Returns only to die. */
static void exec_coordinator(const char *coord, const char *seqdir, const char *flavor,
                             const char *launcher, struct filem_meta *m, const struct argv *run,
                             const int *rprogs, int nrprogs, const struct argv *cmd,
                             const struct argv *reloc) __attribute__((noreturn));
static void exec_coordinator(const char *coord, const char *seqdir, const char *flavor,
                             const char *launcher, struct filem_meta *m, const struct argv *run,
                             const int *rprogs, int nrprogs, const struct argv *cmd,
                             const struct argv *reloc)
{
    struct argv c = {0};
    push(&c, coord);
    push(&c, "--restart-of");
    push(&c, seqdir);
    push(&c, "--flavor");
    push(&c, flavor);
    push(&c, "--launcher");
    push(&c, launcher);
    const char *iv = filem_meta_get(m, "ckpt.interval_s");
    if (iv && !getenv("REVIVE_CKPT_INTERVAL") && strcmp(iv, "0")) {
        push(&c, "--interval");
        push(&c, iv);
    }
    const char *kp = filem_meta_get(m, "ckpt.keep");
    if (kp && !getenv("REVIVE_CKPT_KEEP") && strcmp(kp, "0")) {
        push(&c, "--keep");
        push(&c, kp);
    }
    for (int i = 0; i < nrprogs; i++) {
        push(&c, "--prog");
        pushf(&c, "%d", rprogs[i]);
    }
    push(&c, "--user-args");
    pushf(&c, "%d", run->n);
    for (int i = 0; i < run->n; i++)
        push(&c, run->v[i]);
    push(&c, "--");
    for (int i = 0; i < cmd->n; i++)
        push(&c, cmd->v[i]);
    /* the launcher runs where the job was started (relative names in its options) */
    const char *cwd = filem_meta_get(m, "cwd");
    char moved[PATH_MAX];
    if (cwd && relocated(cwd, reloc, moved, sizeof moved))
        cwd = moved;
    if (cwd && chdir(cwd) < 0)
        fprintf(stderr, "%s: warning: cannot enter the job's directory %s (%s); starting from "
                        "here\n",
                me, cwd, strerror(errno));
    filem_meta_free(m);
    restart_signal_check();
    restart_meta_ask_clean(); /* exec runs no atexit handler */
    /* SIGINT, SIGTERM, SIGHUP stay blocked through the exec: one that comes now is pending for
     * the coordinator, which looks before it launches (restart_signal.h); released here, one
     * ignored by the caller was lost */
    /* the coordinator scans the job directory again: a damaged index is said once */
    if (filem_index_warned())
        setenv(FILEM_INDEX_WARNED_ENV, filem_index_warned(), 1);
    execv(coord, c.v);
    die("cannot run %s: %s", coord, strerror(errno));
}

/* The application binary and the MPI library the job ran (m) against the files here (where a
 * --relocate in reloc moved them): the same build id and size with another time is a warning,
 * said once (warned: the file, for the ranks' check not to warn again); another file ends
 * restart-mpi. */
static void check_facts(struct filem_meta *m, const struct argv *reloc, const char *warned[2])
{
    char err[REVIVE_TEXT_PATHS(3)];
    /* the files as they are now: where --relocate moved them (the ranks get the same option);
     * static: warned[] may name them after the return */
    static char app_now[PATH_MAX], mpi_now[PATH_MAX];
    const char *app_rec = filem_meta_get(m, "app.path"), *mpi_rec = filem_meta_get(m, "mpi.path");
    int app_moved = app_rec && relocated(app_rec, reloc, app_now, sizeof app_now);
    int mpi_moved = mpi_rec && relocated(mpi_rec, reloc, mpi_now, sizeof mpi_now);
    /* the same build id and size with another time is the same file: a warning (LOW-3), once:
     * the ranks map both files, and their check below is not to warn again (diffrev20 LOW-J) */
    int fc = filem_meta_check_facts(m, "app", "application binary", app_moved ? app_now : NULL, err,
                                    sizeof err);
    if (fc > 0) {
        fprintf(stderr, "%s: warning: %s\n", me, err);
        warned[0] = app_moved ? app_now : app_rec;
    }
    if (fc >= 0 && (fc = filem_meta_check_facts(m, "mpi", "MPI library", mpi_moved ? mpi_now : NULL,
                                                 err, sizeof err)) > 0) {
        fprintf(stderr, "%s: warning: %s\n", me, err);
        warned[1] = mpi_moved ? mpi_now : mpi_rec;
    }
    if (fc < 0)
        die("%s%s", err,
            reloc->n ? "" : " (or, if it moved, give its new place with --relocate OLD=NEW)");
}

int main(int argc, char **argv)
{
    owner_words.argc = argc;
    owner_words.argv = argv;
    struct opts o;
    parse_options(argc, argv, &o);

    atexit(restart_meta_ask_clean); /* what other hosts sent of their cached metadata */
    restart_signals_hold(ended_by_signal); /* and on SIGINT, SIGTERM, SIGHUP */
    char rrbuf[PATH_MAX], coordbuf[PATH_MAX];
    const char *rrank = tool_path("REVIVE_RESTART_RANK", "revive-restart-rank", rrbuf, sizeof rrbuf);
    const char *coord = tool_path("REVIVE_COORD_BIN", "revive-coord", coordbuf, sizeof coordbuf);

    /* which snapshot */
    char jobdir[PATH_MAX], err[REVIVE_TEXT_PATHS(3)], cached[PATH_MAX] = "";
    int64_t seq = choose_snapshot(&o, rrank, jobdir, sizeof jobdir, cached, sizeof cached);
    char seqdir[PATH_MAX];
    filem_seq_path(seqdir, sizeof seqdir, jobdir, (uint64_t)seq);
    /* from the caches: the directory made again with the cached metadata, every image fetched
     * below (--showme makes nothing: the metadata is read in the cache) */
    if (cached[0] && !o.showme) {
        if (restart_cache_recreate(jobdir, (uint64_t)seq, cached, err, sizeof err) < 0)
            die("%s", err);
        snprintf(recreated, sizeof recreated, "%s", jobdir);
        recreated_seq = (uint64_t)seq;
    }
    restart_signal_check();
    /* Nothing of ours to remove (no other host's answer, nothing re-created) until a fetch:
     * ^C or a batch system's SIGTERM ends the checks below at once (the deep verification reads
     * every image), as before signals were held; held again for a fetch */
    int released = !recreated[0] && !cached[0];
    if (released)
        restart_signals_release_saying(me);
    const char *metadir = cached[0] && o.showme ? cached : seqdir;
    if (metadir == seqdir && access(seqdir, F_OK) < 0)
        die("%s has no sequence %lld (ckpt-info %s lists what it holds)", jobdir, (long long)seq,
            jobdir);
    if (metadir == seqdir && filem_private_dir(seqdir, 0, err, sizeof err) < 0)
        die("%s", err);
    if (metadir == seqdir && !o.showme)
        aside_left(jobdir, seqdir);
    struct filem_meta m;
    read_meta(metadir, seqdir, jobdir, seq, &m);

    /* can it come back here */
    uint64_t ranks = 0, argc_saved = 0;
    if (filem_meta_get_u64(&m, "ranks", &ranks) < 0 || ranks == 0 ||
        filem_meta_get_u64(&m, "launcher.argc", &argc_saved) < 0 || argc_saved > 100000)
        die("%s/snapshot.meta lacks the job's ranks or launcher arguments; it cannot be restarted",
            seqdir);
    const char *flavor = filem_meta_get(&m, "launcher.flavor");
    const char *launcher = filem_meta_get(&m, "launcher.path");
    if (!flavor || !launcher)
        die("%s/snapshot.meta does not say which launcher ran the job", seqdir);
    if (access(launcher, X_OK) < 0)
        die("the job's launcher %s is not here (%s): restart on a machine with the same MPI "
            "installed",
            launcher, strerror(errno));
    /* the application binary and the MPI library, as they are now */
    const char *warned[2] = { NULL, NULL };
    check_facts(&m, &o.reloc, warned);
    /* every rank image against the metadata (deep: each chunk's checksum, so that a corrupted
     * image is refused here, naming its rank and file, not by that rank after the launch) */
    struct missing mi = {.seqdir = seqdir, .m = &m};
    int ve;
    char hint[PATH_MAX + 64];
    /* the stamps of the images verified whole, for the ranks (filem/verified.h): a job small
     * enough for the variable, with the deep check */
    struct crs_file_stamp *stamps = o.verify && !o.showme && ranks <= FILEM_VERIFIED_MAX / 16
                                        ? calloc(ranks, sizeof *stamps) : NULL;
    if (metadir != seqdir) { /* --showme from the caches: every image would be fetched */
        for (uint64_t r = 0; r < ranks && r < 1000000; r++)
            note_missing(&mi, (int)r, -ENOENT, NULL);
        ve = -ENOENT;
    } else
        ve = filem_verify_seq(jobdir, (uint64_t)seq, &m, o.verify, note_missing, &mi, stamps, err,
                              sizeof err);
    /* only images missing (staging never got them there, or the shared copy is lost): fetched
     * from the node-local caches of the hosts that hold them, before the launch (below) */
    int fetch = ve == -ENOENT && mi.other == 0 && mi.n > 0;
    /* images damaged in the snapshot directory (with or without missing ones): a good copy in
     * a node's cache or a partner's is fetched over each, as for a missing one (issue 9 point 6,
     * newuser9 F8: "is damaged ... no other committed sequence" read as "the job is lost" while
     * a cache held a good copy). Not for a job that kept no node-local copies (ckpt.local
     * none): it is refused as damaged, as before. */
    const char *ckl = filem_meta_get(&m, "ckpt.local");
    int fix_damaged = ve < 0 && mi.ndam > 0 && mi.other == mi.ndam && metadir == seqdir &&
                      !(ckl && !strcmp(ckl, "none"));
    if (fix_damaged) {
        for (int i = 0; i < mi.ndam; i++) {
            fprintf(stderr, "%s: rank %d's image in %s is damaged (%s); %s a good copy from "
                            "the node-local caches that may hold one (its node's, its partner's)\n",
                    me, mi.dam[i], seqdir, mi.dam_why[i], o.showme ? "restart-mpi would fetch" :
                    "fetching");
            note_missing(&mi, mi.dam[i], -ENOENT, NULL);
        }
        fetch = 1;
        ve = 0;
    } else
        mi.ndam = 0; /* nothing moved aside */
    if (fetch)
        ve = 0;
    if (released) {
        /* held again from here to the exec (below) */
        restart_signals_hold(ended_by_signal);
        restart_signals_default();
    }
    if (ve == -EPERM)
        die("%s cannot be restarted: %s; Revive writes its files 0600 and restores none that "
            "others could have changed (if you trust it, chmod 600 it)",
            seqdir, err);
    if (ve < 0)
        die("%s is damaged: %s; %s", seqdir, err, other_seq_hint(jobdir, seq, hint, sizeof hint));
    /* the files the images map (the program, Revive's libraries, libc...): each rank refuses
     * changed ones too, but after the launch, behind the launcher's banner (restart_files.h) */
    int fe = o.verify ? restart_check_files(seqdir, ranks, mi.dam, mi.ndam, moved_by, &o.reloc,
                                            warned, 2, err, sizeof err)
                      : 0;
    if (fe == -ESTALE || fe == -ENOENT)
        die("%s cannot be restarted here: %s (nothing was started; the snapshot is not marked as "
            "failed)", seqdir, err);
    if (fe < 0)
        die("%s is damaged: %s; %s", seqdir, err, other_seq_hint(jobdir, seq, hint, sizeof hint));
    if (access(rrank, X_OK) < 0)
        die("%s is missing (%s): Revive was installed without the rank restarter", rrank,
            strerror(errno));

    struct argv run = {0};
    int rprogs[64];
    int nrprogs = job_arguments(&o, &m, seqdir, ranks, argc_saved, flavor, &run, rprogs);
    int locked = 0;
    if (fetch && o.showme) {
        /* the fetch as it would run, as comments before the launch command */
        if (cached[0])
            printf("# %s is gone: restart-mpi would re-create it%s%s with sequence %lld's %s "
                   "from %s node-local cache (%s)\n",
                   restart_cache_gone(), o.recreate_in ? " as " : "", o.recreate_in ? jobdir : "",
                   (long long)seq, FILEM_META_NAME, restart_cache_from_who(),
                   restart_cache_from_path());
        struct restart_fetch f = {
            .seqdir = seqdir, .seq = (uint64_t)seq, .m = &m, .launcher = launcher,
            .flavor = flavor, .user = run.v, .prog0 = rprogs[0], .rrank = rrank,
            .hostfile = o.hostfile};
        if (restart_fetch_plan(&f, mi.ranks, mi.n, stdout) < 0)
            die("%s cannot be restarted: an image missing from it is in no node-local copy "
                "(said above)", seqdir);
    } else if (fetch) {
        if (snapc_restart_lock_take(jobdir, err, sizeof err) < 0)
            die("%s", err); /* nothing is written into a sequence another restart reads */
        locked = 1;
        struct restart_fetch f = {
            .seqdir = seqdir, .seq = (uint64_t)seq, .m = &m, .launcher = launcher,
            .flavor = flavor, .user = run.v, .prog0 = rprogs[0], .rrank = rrank,
            .hostfile = o.hostfile, .damaged = mi.dam,
            .damaged_why = mi.dam_why, .ndamaged = mi.ndam};
        if (mi.ndam)
            damaged_aside(&mi, -1);
        int fr = restart_fetch_images(&f, mi.ranks, mi.n, err, sizeof err);
        if (mi.ndam)
            damaged_aside(&mi, fr < 0); /* back where no good copy came; else gone */
        if (fr < 0 && mi.ndam)
            die("%s is damaged and cannot be restarted: %s; %s", seqdir, err,
                other_seq_hint(jobdir, seq, hint, sizeof hint));
        if (fr < 0)
            die("%s cannot be restarted: %s", seqdir, err);
    }
    /* fault point restart-checked-hold: a test changes an image after the check (10 min at most) */
    const char *hold = getenv("REVIVE_STAGE_HOLD");
    if (revive_fault(REVIVE_FAULT_restart_checked_hold) && hold && *hold && !o.showme) {
        fprintf(stderr, "%s: holds after its check until %s exists (fault point "
                        "restart-checked-hold)\n", me, hold);
        for (int i = 0; i < 12000 && access(hold, F_OK) != 0; i++)
            usleep(50 * 1000);
    }
    /* each rank's image as the check read it: its restore does not hash the same bytes again
     * (an image fetched since is another file: its rank checks it) */
    unsetenv(FILEM_VERIFIED_ENV); /* none but this check's */
    if (stamps) {
        char *text = malloc(FILEM_VERIFIED_MAX);
        if (text && filem_verified_format(stamps, ranks, text, FILEM_VERIFIED_MAX) > 0)
            setenv(FILEM_VERIFIED_ENV, text, 1);
        free(text);
        free(stamps);
    }
    if (recreated[0] && !o.showme)
        fprintf(stderr, "%s: %s was gone: re-created%s%s with sequence %lld's %s from %s "
                        "node-local cache (%s, checked), every image fetched from the hosts' "
                        "caches and checked against it\n",
                me, restart_cache_gone(), o.recreate_in ? " as " : "", o.recreate_in ? jobdir : "",
                (long long)seq, FILEM_META_NAME, restart_cache_from_who(),
                restart_cache_from_path());
    free(mi.ranks);

    /* the command: launcher [-x ...] then the job's arguments as it runs now (above), each
     * program replaced by the rank restarter */
    struct argv cmd = {0};
    launch_command(&cmd, &o, launcher, flavor, &run, rprogs, nrprogs, rrank, seqdir);

    /* rank 0's standard input it had not read, the end of its input, kept in the snapshot:
     * given to the launcher as its standard input (restart_stdin.h) */
    size_t fed = 0;
    int se = restart_stdin_feed(seqdir, &m, o.showme, &fed, err, sizeof err);
    if (se < 0)
        die("%s cannot be restarted: %s", seqdir, err);
    if (se > 0)
        fprintf(stderr, "%s: warning: %s\n", me, err);
    if (fed && o.showme)
        printf("# rank 0's standard input: the %zu bytes it had not read at the checkpoint, then "
               "its end (kept in the snapshot), not restart-mpi's\n", fed);
    else if (fed)
        fprintf(stderr, "%s: rank 0 gets as its standard input the %zu bytes it had not read at "
                        "the checkpoint, then the end of its input (kept in the snapshot); "
                        "restart-mpi's own standard input is not read\n", me, fed);
    if (o.showme) {
        for (int i = 0; i < cmd.n; i++) {
            if (i)
                putchar(' ');
            print_quoted(cmd.v[i]);
        }
        putchar('\n');
        return 0;
    }
    if (access(coord, X_OK) < 0)
        die("Revive's job coordinator %s is missing (%s)", coord, strerror(errno));
    /* one restart of a snapshot at a time (this process becomes the job's coordinator) */
    if (!locked && snapc_restart_lock_take(jobdir, err, sizeof err) < 0)
        die("%s", err);

    /* revive-coord in restart mode, in this process */
    exec_coordinator(coord, seqdir, flavor, launcher, &m, &run, rprogs, nrprogs, &cmd, &o.reloc);
}
