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
#include "filem/files_save.h"
#include "filem/stage_mark.h"
#include "filem/verified.h"
#include "snapc/hosts.h"
#include "snapc/restart_lock.h"
#include "snapc/util.h"
#include "restart_cache.h"
#include "restart_fetch.h"
#include "restart_files.h"
#include "restart_saved.h"
#include "restart_meta_ask.h"
#include "restart_override.h"
#include "restart_signal.h"
#include "restart_stdin.h"
#include "snap_owner.h"
#include "restart_mpi.h"
#include "seq_pick.h"
#include "tools/tool_die.h"

#ifndef REVIVE_PKGLIBEXECDIR
#define REVIVE_PKGLIBEXECDIR "/usr/local/libexec/revive"
#endif

const char restart_me[] = "restart-mpi";

/* A snapshot directory re-created from the caches (restart_cache.h): removed again when the
 * restart fails before the launch, so that nothing is left half made. */
static char recreated[PATH_MAX];
static uint64_t recreated_seq;

/* SIGINT, SIGTERM or SIGHUP before the coordinator took over (restart_signal.h): what
 * restart-mpi made goes first (the folders of other hosts' answers, the re-created snapshot
 * directory with what was fetched into it), then the signal ends it. */
static void ended_by_signal(int s)
{
    restart_meta_ask_clean();
    restart_aside_restore(); /* before a re-created directory goes with them */
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
    fprintf(stderr, "%s: ended by signal %d (%s) before the launch%s\n", restart_me, s, strsignal(s), what);
}

void restart_die(const char *fmt, ...)
{
    char msg[REVIVE_TEXT_PATHS(5)]; /* paths up to PATH_MAX and the advice after them, whole */
    va_list ap;
    va_start(ap, fmt);
    tool_vsay(restart_me, msg, sizeof msg, fmt, ap);
    va_end(ap);
    restart_aside_restore();
    if (recreated[0]) {
        int e = restart_cache_undo(recreated, recreated_seq);
        if (e < 0)
            fprintf(stderr, "%s: could not remove all it had re-created in %s (%s): remove it by hand "
                            "(rm -r %s)\n", restart_me, recreated, strerror(-e), recreated);
    }
    exit(1); /* restart_meta_ask_clean at exit */
}

/* A wrong command line (a bad option value, options that exclude each other): one line, status
 * 2, as ckpt-mpirun, ckpt-info and cr_checkpoint say it (1 is for a snapshot refused or a launch
 * that failed). Nothing is made yet. */
void restart_usage_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tool_vdie(2, restart_me, fmt, ap);
}

/* restart_relocated() for restart_files */
static int moved_by(const char *path, char *out, size_t len, void *reloc)
{
    return restart_relocated(path, reloc, out, len);
}

static const char *tool_path(const char *env, const char *name, char *buf, size_t len)
{
    const char *e = getenv(env);
    if (e && *e)
        return e;
    snprintf(buf, len, "%s/%s", REVIVE_PKGLIBEXECDIR, name);
    return buf;
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
    int app_moved = app_rec && restart_relocated(app_rec, reloc, app_now, sizeof app_now);
    int mpi_moved = mpi_rec && restart_relocated(mpi_rec, reloc, mpi_now, sizeof mpi_now);
    /* the same build id and size with another time is the same file: a warning (LOW-3), once:
     * the ranks map both files, and their check below is not to warn again (diffrev20 LOW-J) */
    int fc = filem_meta_check_facts(m, "app", "application binary", app_moved ? app_now : NULL, err,
                                    sizeof err);
    if (fc > 0) {
        fprintf(stderr, "%s: warning: %s\n", restart_me, err);
        warned[0] = app_moved ? app_now : app_rec;
    }
    if (fc >= 0 && (fc = filem_meta_check_facts(m, "mpi", "MPI library", mpi_moved ? mpi_now : NULL,
                                                 err, sizeof err)) > 0) {
        fprintf(stderr, "%s: warning: %s\n", restart_me, err);
        warned[1] = mpi_moved ? mpi_now : mpi_rec;
    }
    if (fc < 0)
        restart_die("%s%s", err,
            reloc->n ? "" : " (or, if it moved, give its new place with --relocate OLD=NEW)");
}

/* What restart-mpi's check of the sequence it takes gathers (seq_pick_judge's arg) */
struct judged {
    struct missing *mi;
    struct restart_files *files; /* NULL: --no-verify */
};

/* seq_pick_judge's word on each rank: the images restart-mpi fetches noted (restart_mpi.h) */
static void note_rank(void *arg, int rank, int status, const char *msg, int copy, const char *copymsg)
{
    (void)copy;
    (void)copymsg;
    restart_note_missing(((struct judged *)arg)->mi, rank, status, msg);
}

/* seq_pick_judge's also: the files each image that passed maps (restart_files.h), looked at in
 * the image the check opened */
static int look_at_files(void *arg, int rank, const struct crs_image *img, const char *path,
                         char *msg, size_t len)
{
    (void)path;
    (void)msg;
    (void)len;
    struct judged *j = arg;
    if (j->files)
        restart_files_image(j->files, rank, img);
    return 0;
}

int main(int argc, char **argv)
{
    restart_owner_args(argc, argv);
    struct opts o;
    restart_parse_options(argc, argv, &o);

    atexit(restart_meta_ask_clean); /* what other hosts sent of their cached metadata */
    restart_signals_hold(ended_by_signal); /* and on SIGINT, SIGTERM, SIGHUP */
    char rrbuf[PATH_MAX], coordbuf[PATH_MAX];
    const char *rrank = tool_path("REVIVE_RESTART_RANK", "revive-restart-rank", rrbuf, sizeof rrbuf);
    const char *coord = tool_path("REVIVE_COORD_BIN", "revive-coord", coordbuf, sizeof coordbuf);

    /* which snapshot */
    char jobdir[PATH_MAX], err[REVIVE_TEXT_PATHS(3)], cached[PATH_MAX] = "";
    int64_t seq = restart_choose_snapshot(&o, rrank, jobdir, sizeof jobdir, cached, sizeof cached);
    char seqdir[PATH_MAX];
    filem_seq_path(seqdir, sizeof seqdir, jobdir, (uint64_t)seq);
    /* from the caches: the directory made again with the cached metadata, every image fetched
     * below (--showme makes nothing: the metadata is read in the cache) */
    if (cached[0] && !o.showme) {
        if (restart_cache_recreate(jobdir, (uint64_t)seq, cached, err, sizeof err) < 0)
            restart_die("%s", err);
        snprintf(recreated, sizeof recreated, "%s", jobdir);
        recreated_seq = (uint64_t)seq;
    }
    restart_signal_check();
    /* Nothing of ours to remove (no other host's answer, nothing re-created) until a fetch:
     * ^C or a batch system's SIGTERM ends the checks below at once (the deep verification reads
     * every image), as before signals were held; held again for a fetch */
    int released = !recreated[0] && !cached[0];
    if (released)
        restart_signals_release_saying(restart_me);
    const char *metadir = cached[0] && o.showme ? cached : seqdir;
    if (metadir == seqdir && access(seqdir, F_OK) < 0)
        restart_die("%s has no sequence %lld (ckpt-info %s lists what it holds)", jobdir, (long long)seq,
            jobdir);
    if (metadir == seqdir && filem_private_dir(seqdir, 0, err, sizeof err) < 0)
        restart_die("%s", err);
    if (metadir == seqdir && !o.showme)
        restart_aside_left(jobdir, seqdir);
    struct filem_meta m;
    restart_read_meta(metadir, seqdir, jobdir, seq, &m);
    /* the job's own --ckpt-* settings go on where nothing here says otherwise (before the
     * launch command, which gives the ranks --local) */
    restart_carry_job_options(&o, &m);

    /* can it come back here */
    uint64_t ranks = 0, argc_saved = 0;
    if (filem_meta_get_u64(&m, "ranks", &ranks) < 0 || ranks == 0 ||
        filem_meta_get_u64(&m, "launcher.argc", &argc_saved) < 0 || argc_saved > 100000)
        restart_die("%s/snapshot.meta lacks the job's ranks or launcher arguments; it cannot be restarted",
            seqdir);
    const char *flavor = filem_meta_get(&m, "launcher.flavor");
    const char *launcher = filem_meta_get(&m, "launcher.path");
    if (!flavor || !launcher)
        restart_die("%s/snapshot.meta does not say which launcher ran the job", seqdir);
    if (access(launcher, X_OK) < 0)
        restart_die("the job's launcher %s is not here (%s): restart on a machine with the same MPI "
            "installed",
            launcher, strerror(errno));
    /* the application binary and the MPI library, as they are now */
    const char *warned[2] = { NULL, NULL };
    check_facts(&m, &o.reloc, warned);
    /* every rank image against the metadata (deep: each chunk's checksum, so that a corrupted
     * image is refused here, naming its rank and file, not by that rank after the launch) */
    struct missing mi = {.seqdir = seqdir, .m = &m};
    /* the files the images map (the program, Revive's libraries, libc...): each rank refuses
     * changed ones too, but after the launch, behind the launcher's banner (restart_files.h);
     * looked at in each image as the check below opens it */
    struct restart_files files;
    restart_files_init(&files, moved_by, &o.reloc, warned, 2);
    struct judged jd = {.mi = &mi, .files = o.verify ? &files : NULL};
    int ve;
    /* the stamps of the images verified whole, for the ranks (filem/verified.h): a job small
     * enough for the variable, with the deep check */
    struct crs_file_stamp *stamps = o.verify && !o.showme && ranks <= FILEM_VERIFIED_MAX / 16
                                        ? calloc(ranks, sizeof *stamps) : NULL;
    int fetch = 0, unusable = 0, files_bad = 0;
    if (!o.restore_files)
        seq_pick_files_unjudged(); /* none put back: none judged, here or in the advice */
    if (metadir != seqdir) { /* --showme from the caches: every image would be fetched */
        for (uint64_t r = 0; r < ranks && r < 1000000; r++)
            restart_note_missing(&mi, (int)r, -ENOENT, NULL);
        ve = 0;
        fetch = mi.n > 0;
    } else {
        /* the one rule ckpt-info --verify and every advice judge a sequence by (seq_pick.h): an
         * image missing or damaged here is fetched only when a copy may be good (this host's
         * cache's checked), else the sequence is refused now (newuser8 F4: a fetch that could
         * not succeed was tried, and the advice named another sequence judged so) */
        struct seq_pick_verdict vd;
        seq_pick_judge(jobdir, (uint64_t)seq, &m, o.verify, stamps, note_rank, look_at_files, &jd,
                       &vd);
        ve = vd.result == SEQ_PICK_BAD ? (vd.ve < 0 ? vd.ve : -EIO) : 0;
        if (ve < 0)
            snprintf(err, sizeof err, "%s", vd.why);
        unusable = vd.unusable && vd.unusable == vd.bad;
        files_bad = vd.files_bad;
        fetch = vd.result == SEQ_PICK_FETCH;
    }
    /* images damaged in the snapshot directory (with or without missing ones): a good copy in
     * a node's cache or a partner's is fetched over each, as for a missing one (issue 9 point 6,
     * newuser9 F8: "is damaged ... no other committed sequence" read as "the job is lost" while
     * a cache held a good copy). Not for a job that kept no node-local copies (ckpt.local
     * none): the rule refuses it as damaged, as before. */
    if (fetch && mi.ndam > 0) {
        for (int i = 0; i < mi.ndam; i++) {
            fprintf(stderr, "%s: rank %d's image in %s is damaged (%s); %s a good copy from "
                            "the node-local caches that may hold one (its node's, its partner's)\n",
                    restart_me, mi.dam[i], seqdir, mi.dam_why[i], o.showme ? "restart-mpi would fetch" :
                    "fetching");
            restart_note_missing(&mi, mi.dam[i], -ENOENT, NULL);
        }
    } else
        mi.ndam = 0; /* nothing moved aside */
    if (released) {
        /* held again from here to the exec (below) */
        restart_signals_hold(ended_by_signal);
        restart_signals_default();
    }
    if (ve == -EPERM)
        restart_die("%s cannot be restarted: %s; Revive writes its files 0600 and restores none that "
            "others could have changed (if you trust it, chmod 600 it)",
            seqdir, err);
    /* whole images no restart can use (a window whose memory no restart puts back: seq_pick.c):
     * refused here, before any launch, as ckpt-info --verify says (before, each rank refused it
     * after the launch) */
    /* a saved file's copy damaged (the rule's check, seq_pick.c): the job would start from its
     * memory with other files than the snapshot's; --no-restore-files, or another sequence */
    if (files_bad)
        restart_die_other(jobdir, seq, "; ", "%s cannot be restarted: %s; the job would start "
                          "from its memory with other files than the snapshot's (restart with "
                          "--no-restore-files to put none back and take the files as they are, "
                          "or from another sequence)", seqdir, err);
    if (ve < 0 && unusable)
        restart_die_other(jobdir, seq, "; ", "%s cannot be restarted: %s", seqdir, err);
    if (ve < 0)
        restart_die_other(jobdir, seq, "; ", "%s is damaged: %s", seqdir, err);
    /* what the look at the files the images map found (above) */
    restart_files_end(&files);
    int fe = files.e;
    if (fe < 0)
        snprintf(err, sizeof err, "%s", files.err);
    if (fe == -ESTALE || fe == -ENOENT)
        restart_die("%s cannot be restarted here: %s (nothing was started; the snapshot is not marked as "
            "failed)", seqdir, err);
    if (fe < 0)
        restart_die_other(jobdir, seq, "; ", "%s is damaged: %s", seqdir, err);
    /* the files --save-files saved (filem/files_save.h): every copy whole before anything is
     * launched or put back; a damaged one refuses the restart (it would restart the job from
     * its memory with other files than the snapshot's) */
    /* (with the PATHs of the job's list missing at the snapshot: a restart removes what the job
     * made there since) */
    int nfiles = filem_files_count(&m) + filem_files_absent(&m);
    if (nfiles) {
        /* the snapshot directory restarted from is no saved PATH's, nor in one (R-H1) */
        const char *ko[1] = {jobdir};
        filem_files_keep_out(ko, 1);
    }
    /* where each goes (--relocate, the links in the PATHs as they are now): said before the
     * launch, refused before anything is put back */
    const struct filem_files_moves fmv = {.moved = moved_by, .arg = &o.reloc};
    static char files_where[8192];
    if (nfiles && o.restore_files && metadir == seqdir) {
        /* (every copy checked by the rule above) */
        if (filem_files_where(&m, &fmv, files_where, sizeof files_where, err, sizeof err) < 0)
            restart_die("%s cannot be restarted: the files it saved (--save-files) cannot be put "
                        "back: %s (nothing was started; the snapshot is not marked as failed)",
                        seqdir, err);
    }
    if (access(rrank, X_OK) < 0)
        restart_die("%s is missing (%s): Revive was installed without the rank restarter", rrank,
            strerror(errno));

    struct argv run = {0};
    int rprogs[64];
    int nrprogs = restart_job_arguments(&o, &m, seqdir, ranks, argc_saved, flavor, &run, rprogs);
    if (!o.showme) {
        char herr[512];
        if (restart_check_hosts(run.v, run.n, rprogs, nrprogs, flavor, herr, sizeof herr) < 0)
            restart_die("%s: nothing was started (the snapshot is not marked as failed); give "
                "hosts that are up with --hostfile (REVIVE_FETCH_PROBE_PORT=0 launches without "
                "asking)", herr);
    }
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
            restart_die("%s cannot be restarted: an image missing from it is in no node-local copy "
                "(said above)", seqdir);
    } else if (fetch) {
        if (snapc_restart_lock_take(jobdir, err, sizeof err) < 0)
            restart_die("%s", err); /* nothing is written into a sequence another restart reads */
        locked = 1;
        struct restart_fetch f = {
            .seqdir = seqdir, .seq = (uint64_t)seq, .m = &m, .launcher = launcher,
            .flavor = flavor, .user = run.v, .prog0 = rprogs[0], .rrank = rrank,
            .hostfile = o.hostfile, .damaged = mi.dam,
            .damaged_why = mi.dam_why, .ndamaged = mi.ndam, .down = seq_pick_host_down};
        if (mi.ndam)
            restart_damaged_aside(&mi, -1);
        int fr = restart_fetch_images(&f, mi.ranks, mi.n, err, sizeof err);
        if (mi.ndam)
            restart_damaged_aside(&mi, fr < 0); /* back where no good copy came; else gone */
        if (fr < 0 && mi.ndam)
            restart_die_other(jobdir, seq, "; ", "%s is damaged and cannot be restarted: %s", seqdir, err);
        /* which one to take instead, by the same rule (a refusal without it left the user
         * guessing) */
        if (fr < 0)
            restart_die_other(jobdir, seq, "; ", "%s cannot be restarted: %s", seqdir, err);
    }
    /* fault point restart-checked-hold: a test changes an image after the check (10 min at most) */
    const char *hold = getenv("REVIVE_STAGE_HOLD");
    if (revive_fault(REVIVE_FAULT_restart_checked_hold) && hold && *hold && !o.showme) {
        fprintf(stderr, "%s: holds after its check until %s exists (fault point "
                        "restart-checked-hold)\n", restart_me, hold);
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
                restart_me, restart_cache_gone(), o.recreate_in ? " as " : "", o.recreate_in ? jobdir : "",
                (long long)seq, FILEM_META_NAME, restart_cache_from_who(),
                restart_cache_from_path());
    free(mi.ranks);
    /* --save-shared: a file several ranks of a host saved is written back from the copy read
     * last only (restart_saved.h; every image is here now, fetched ones included) */
    unsetenv(RESTART_SAVED_WRITERS_VAR); /* none but this snapshot's */
    if (!o.showme && restart_saved_maybe(&m)) {
        static char writers[64 * 1024], said[16 * 1024], why[PATH_MAX + 256];
        int nw = restart_saved_writers(seqdir, ranks, &m, writers, sizeof writers, said, sizeof said,
                                       why, sizeof why);
        /* a rank leaves its copy to the writer only on the file's host and cannot tell where
         * the writer runs: with another placement (--hostfile; any launcher option after --
         * may move ranks) the writer may run elsewhere and that host's file would be left as it
         * is then (diffrev36 R-M2): every rank writes its own copy, as before */
        int moved = o.hostfile || o.extra.n > 0;
        if (nw > 0 && moved) {
            fprintf(stderr, "%s: the restart's placement may not be the snapshot's (%s): each rank "
                            "writes its own copy of the files several ranks saved (--save-shared) "
                            "back, in no set order; restart with the job's own placement to have "
                            "the copy read last written back\n",
                    restart_me, o.hostfile ? "--hostfile" : "launcher options after --");
        } else if (nw >= 0) {
            if (nw > 0)
                setenv(RESTART_SAVED_WRITERS_VAR, writers, 1);
            for (const char *l = said, *nl; (nl = strchr(l, '\n')); l = nl + 1)
                fprintf(stderr, "%s: %.*s\n", restart_me, (int)(nl - l), l);
        } else if (nw == -E2BIG)
            fprintf(stderr, "%s: warning: the ranks saved more files shared by several ranks "
                            "(--save-shared) than can be named to them: each rank writes its own copy "
                            "of those files back, in no set order\n", restart_me);
        else
            fprintf(stderr, "%s: warning: cannot tell which rank's copy of a file several ranks saved "
                            "(--save-shared) to write back (%s): each rank writes its own, in no set "
                            "order\n", restart_me, why);
    }

    /* where the saved files go back: a rank takes an MPI file restart-mpi put back there as the
     * job's own, though it is another inode than at the snapshot (newuser11 F1: every restart of
     * a snapshot saving a file open through MPI-IO was refused) */
    restart_put_back_tell(&m, &fmv, nfiles && o.restore_files);
    /* the command: launcher [-x ...] then the job's arguments as it runs now (above), each
     * program replaced by the rank restarter */
    struct argv cmd = {0};
    restart_launch_command(&cmd, &o, launcher, flavor, &run, rprogs, nrprogs, rrank, seqdir);

    /* rank 0's standard input it had not read, the end of its input, kept in the snapshot:
     * given to the launcher as its standard input (restart_stdin.h) */
    size_t fed = 0;
    int se = restart_stdin_feed(seqdir, &m, o.showme, &fed, err, sizeof err);
    if (se < 0)
        restart_die("%s cannot be restarted: %s", seqdir, err);
    if (se > 0)
        fprintf(stderr, "%s: warning: %s\n", restart_me, err);
    if (fed && o.showme)
        printf("# rank 0's standard input: the %zu bytes it had not read at the checkpoint, then "
               "its end (kept in the snapshot), not restart-mpi's\n", fed);
    else if (fed)
        fprintf(stderr, "%s: rank 0 gets as its standard input the %zu bytes it had not read at "
                        "the checkpoint, then the end of its input (kept in the snapshot); "
                        "restart-mpi's own standard input is not read\n", restart_me, fed);
    const char *roots = filem_meta_get(&m, "files.roots");
    if (nfiles && o.showme)
        printf("# %s the files the snapshot saved (--save-files): %s\n",
               o.restore_files ? "restart-mpi would put back" : "--no-restore-files: not put back",
               o.restore_files && files_where[0] ? files_where : roots ? roots : "?");
    if (o.showme) {
        for (int i = 0; i < cmd.n; i++) {
            if (i)
                putchar(' ');
            restart_print_quoted(cmd.v[i]);
        }
        putchar('\n');
        return 0;
    }
    if (access(coord, X_OK) < 0)
        restart_die("Revive's job coordinator %s is missing (%s)", coord, strerror(errno));
    /* one restart of a snapshot at a time (this process becomes the job's coordinator) */
    if (!locked && snapc_restart_lock_take(jobdir, err, sizeof err) < 0)
        restart_die("%s", err);
    /* --save-files: put back under the lock (one restart of the snapshot at a time), just before
     * the launch; on the coordinator's host, as they were saved there */
    if (nfiles && !o.restore_files)
        fprintf(stderr, "%s: --no-restore-files: the files the snapshot saved (%s) are not put "
                        "back; the job restarts with them as they are now\n",
                restart_me, roots ? roots : "?");
    else if (nfiles) {
        int restored;
        char here[PATH_MAX];
        int have_here = getcwd(here, sizeof here) != NULL;
        int fre = filem_files_restore(seqdir, &m, &fmv, &restored, files_where,
                                      sizeof files_where, err, sizeof err);
        /* a directory put back may be this one (the job's working directory, saved whole): the
         * launcher and the coordinator run in the one now at its path */
        if (have_here && chdir(here) < 0)
            restart_die("cannot enter %s again after putting back the saved files: %s", here,
                        strerror(errno));
        if (fre < 0) {
            snapc_restart_lock_drop(jobdir);
            restart_die("%s cannot be restarted: the files it saved cannot be put back: %s "
                        "(nothing was started; the snapshot is not marked as failed)",
                        seqdir, err);
        }
        /* (the PATHs missing at the snapshot: one phrase each, what was done: filem) */
        fprintf(stderr, "%s: put back the files the snapshot saved (--save-files): %s\n",
                restart_me, files_where[0] ? files_where : roots && *roots ? roots : "none");
    }

    /* revive-coord in restart mode, in this process */
    restart_exec_coordinator(coord, seqdir, flavor, launcher, &m, &run, rprogs, nrprogs, &cmd, &o);
}
