/* The coordinator in restart mode (restart-mpi runs revive-coord with
 * --restart-of SEQDIR): where the new job's snapshots go, when the restarted job
 * is back (Recovered), and what a restart that failed leaves in the old index.
 *
 * A failed restart marks the sequence in its index (the next default restart-mpi takes an
 * earlier one) only when a rank could not be restored: not when the launcher failed before
 * any rank began (a typo in its options, a hostfile in another MPI's syntax), nor when a rank
 * refused because of something outside the snapshot (a file the job had open gone or
 * shortened, a library the ranks map changed since the checkpoint: the user puts it back and runs restart-mpi again, which must take the same
 * sequence), nor when every rank was restored and the job ended for another reason
 * (`restart-mpi REF | head`). The ranks say how far they got through files in a private
 * directory beside the snapshot (storage every host shares, as the images are):
 *   begun.<r>    revive-restart-rank found its image and starts restoring it
 *   failed.<r>   ... and could not (its message: the reason recorded in the index)
 *   refused.<r>  ... and the MPI layer refused to go on, or the restore refused the image for
 *                what lies outside it: a library it maps changed, another kernel
 *                (crs_restart_opts.refused_outside; its message; not recorded)
 *   stopped.<r>  ... and stopped because another rank refused (the message of the one
 *                that refused is in its refused.<r>, which these must not hide)
 *   restored     the MPI layer's line per rank brought back (REVIVE_RESTART_REPORT)
 * A later successful restart of the sequence clears its mark. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "filem/local_failed.h"
#include "snapc/restart_lock.h"
#include "common/log.h"
#include "common/log_long.h"
#include "common/text.h" /* revive_text_cut */
#include "snapc/coord_int.h"

/* Where a restarted job's snapshots go: beside the old ones (the parent job's
 * directory's parent), and a shared lock on the sequence restarted from, so that
 * retention never removes it while the ranks read their images. */
int coord_restart_setup(void)
{
    char err[512];
    char ref[PATH_MAX];
    int64_t seq;
    if (filem_resolve_ref(coord.cfg->restart_of, ref, sizeof ref, &seq, err, sizeof err) < 0 || seq < 0) {
        fprintf(stderr, "revive-coord: %s\n", err[0] ? err : "bad --restart-of");
        return -1;
    }
    snprintf(coord.parent_jobdir, sizeof coord.parent_jobdir, "%s", ref);
    coord.parent_seq = seq;
    char *slash = strrchr(ref, '/');
    if (slash)
        *slash = 0;
    snprintf(coord.base, sizeof coord.base, "%s", slash ? (ref[0] ? ref : "/") : ".");
    coord.restart_lock = filem_seq_lock_shared(coord.parent_jobdir, (uint64_t)seq);
    struct filem_meta m;
    uint64_t nr = 0;
    if (filem_meta_read(coord.cfg->restart_of, &m, err, sizeof err) == 0) {
        if (filem_meta_get_u64(&m, "ranks", &nr) == 0 && nr < (1u << 20))
            coord.restart_ranks = (int)nr;
        filem_meta_free(&m);
    }
    /* the ranks' progress (above); without it (a snapshot on read-only storage) any failed
     * restart is taken as the snapshot's */
    char dir[PATH_MAX + 32], rep[PATH_MAX + 48];
    snapc_fmt(dir, sizeof dir, "%s/.restart.%d", coord.parent_jobdir, (int)getpid());
    snapc_fmt(rep, sizeof rep, "%s/restored", dir);
    if (mkdir(dir, 0700) == 0 || (errno == EEXIST && filem_private_dir(dir, 0, err, sizeof err) == 0)) {
        snapc_fmt(coord.restart_dir, sizeof coord.restart_dir, "%s", dir);
        setenv(SNAPC_ENV_RESTART_DIR, dir, 1);
        setenv("REVIVE_RESTART_REPORT", rep, 1);
    } else {
        revive_log_info("cannot make %s (%s): a failed restart will be taken as the snapshot's",
                        dir, strerror(errno));
        setenv(SNAPC_ENV_RESTART_DIR, "", 1); /* Open MPI's -x wants the variable set */
        setenv("REVIVE_RESTART_REPORT", "", 1);
    }
    return 0;
}

/* Every rank of the restarted job said HELLO: it is Recovered, its images may go (the lock
 * is released), and a failed restart recorded earlier for the sequence is cleared. */
void coord_restart_hello(void)
{
    if (coord.cfg->restart_of && !coord.recovered && coord.p.nhello == coord.p.nranks) {
        coord.recovered = 1;
        revive_log_info("every rank of the restarted job is back (Recovered)");
        coord_restart_redeliver();
        if (coord.restart_lock >= 0) {
            close(coord.restart_lock);
            coord.restart_lock = -1;
        }
        char err[512], seqdir[PATH_MAX + 32];
        struct stat st;
        int cleared = 0; /* 1: the index recorded failed restarts of it; -1: not known */
        snapc_fmt(seqdir, sizeof seqdir, "%s/%lld", coord.parent_jobdir,
                  (long long)coord.parent_seq);
        if (coord.parent_seq < 0)
            ;
        else if (stat(seqdir, &st) != 0 && errno == ENOENT)
            /* removed once the ranks had their images: no index left to clear, and nothing
             * wrong with the job; say it once (the first commit does not look for it again) */
            revive_log_warn("%s, the snapshot this job was restarted from, was removed during "
                            "the restart, after every rank had read its image; the job runs on",
                            seqdir);
        else if ((cleared = filem_index_clear_failed(coord.parent_jobdir,
                                                     (uint64_t)coord.parent_seq, err,
                                                     sizeof err)) < 0)
            revive_log_warn("cannot clear the failed restart recorded for %s: %s", seqdir, err);
        if (coord.parent_seq >= 0) /* outweighs older marks (local_failed.h) */
            filem_local_failed_succeeded(seqdir, cleared != 0);
    }
}

/* The restart directory, opened: the files in it are read by their short names (a directory
 * near PATH_MAX leaves no room for "/begun.<r>" in a path). -1 when it cannot be opened. */
static int restart_dir_fd(void)
{
    return coord.restart_dir[0] ? open(coord.restart_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
}

/* Counts the files of the restart directory named PREFIX<rank>; the first one's text (a
 * rank's message) into msg. */
static int count_rank_files(const char *prefix, char *msg, size_t len)
{
    DIR *d = opendir(coord.restart_dir);
    if (!d)
        return 0;
    int n = 0;
    size_t pl = strlen(prefix);
    for (struct dirent *de; (de = readdir(d));) {
        if (strncmp(de->d_name, prefix, pl) != 0)
            continue;
        if (strchr(de->d_name + pl, '.'))
            continue; /* a writer's temporary name */
        if (n++ == 0 && msg)
            snapc_fmt(msg, len, "rank %s could not restore its image", de->d_name + pl);
        if (msg && !strstr(msg, ": ")) {
            /* the rank's own message, when it wrote one */
            /* by the directory's descriptor, as the ranks wrote it: "/failed.<r>" may take a
             * restart directory near PATH_MAX past it (a path read was ENAMETOOLONG there and
             * the rank's reason was lost) */
            char text[REVIVE_RESTART_TEXT_MAX + 64], got[REVIVE_RESTART_TEXT_MAX + 64];
            int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
            ssize_t k = fd >= 0 ? read(fd, got, sizeof got) : -1;
            if (fd >= 0)
                close(fd);
            char *nl = k > 0 ? memchr(got, '\n', (size_t)k) : NULL;
            size_t line = nl ? (size_t)(nl - got) : k > 0 ? (size_t)k : 0;
            /* the rank's whole line (REVIVE_RESTART_TEXT_MAX and its "rank N: "), "..." where cut */
            snapc_wire_text(text, sizeof text, got, line);
            /* a rank ends its line with a newline: none within what it holds (the rank's disk
             * filled as it wrote), or a NUL byte in the line, and the file was cut: what was read,
             * "..." where it stops (the cut words were taken for the rank's whole message) */
            size_t tl = strlen(text);
            if (k > 0 && (size_t)k < sizeof got && (!nl || tl < line) && tl > 0 &&
                (tl < 3 || strcmp(text + tl - 3, "..."))) {
                if (tl + 4 <= sizeof text)
                    memcpy(text + tl, "...", 4);
                else
                    revive_text_cut(text, sizeof text);
            }
            if (strstr(text, ": "))
                snapc_wire_text(msg, len, text, sizeof text);
        }
    }
    closedir(d);
    return n;
}

/* Ranks the MPI layer reported restored: distinct "rank N " line starts. */
static int count_restored(void)
{
    int dfd = restart_dir_fd();
    int fd = dfd >= 0 ? openat(dfd, "restored", O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
    if (dfd >= 0)
        close(dfd);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    int n = 0, nr = 1 << 20;
    unsigned char *seen = calloc((size_t)nr, 1);
    char line[512];
    while (seen && fgets(line, sizeof line, f)) {
        int r;
        if (sscanf(line, "rank %d ", &r) == 1 && r >= 0 && r < nr && !seen[r]) {
            seen[r] = 1;
            n++;
        }
    }
    free(seen);
    fclose(f);
    return n;
}

/* rank r has begun its restore: connected, or its begun.R file in the restart directory */
static int restart_begun_one(int r, int dfd)
{
    char name[32];
    snprintf(name, sizeof name, "begun.%d", r);
    return (r < coord.nrank_conn && coord.rank_conn[r] >= 0) ||
           (dfd >= 0 && faccessat(dfd, name, F_OK, 0) == 0);
}

static int restart_unbegun(int r, void *arg)
{
    return !restart_begun_one(r, *(int *)arg);
}

int coord_restart_begun(char *which, size_t len)
{
    int expected = coord.p.nranks > 0 ? coord.p.nranks : coord.restart_ranks;
    int dfd = restart_dir_fd();
    struct snapc_sbuf b = {0};
    /* the ranks that have not begun, in the one form of rank lists (snapc_sb_rank_list) */
    int unbegun = snapc_sb_rank_list(&b, expected, restart_unbegun, &dfd);
    if (which && len)
        snapc_fmt(which, len, "%s", b.p ? b.p : "");
    snapc_sb_free(&b);
    if (dfd >= 0)
        close(dfd);
    return expected - unbegun;
}

int coord_restart_failed(char *msg, size_t len)
{
    return coord.restart_dir[0] ? count_rank_files("failed.", msg, len) : 0;
}

int coord_restart_refused(char *msg, size_t len)
{
    if (!coord.restart_dir[0])
        return 0;
    int n = count_rank_files("refused.", msg, len);
    return n > 0 ? n : count_rank_files("stopped.", msg, len);
}

/* The launcher ended before every rank was back: was it the snapshot's fault? (above) */
void coord_restart_job_ended(void)
{
    if (!coord.cfg->restart_of || coord.recovered || coord.parent_seq < 0)
        return;
    coord.recovered = 1;
    if (coord_launch_timed_out()) {
        revive_log_error("the restarted job was ended: not every rank started (see above); "
                         "%s/%lld is not marked as failed",
                         coord.parent_jobdir, (long long)coord.parent_seq);
        return;
    }
    char e2[512], why[REVIVE_RESTART_TEXT_MAX + 256], msg[REVIVE_RESTART_TEXT_MAX + 64] = "";
    if (coord.restart_dir[0]) {
        int failed = count_rank_files("failed.", msg, sizeof msg);
        int begun = count_rank_files("begun.", NULL, 0);
        int restored = count_restored();
        int nranks = coord.p.nranks > 0 ? coord.p.nranks : coord.restart_ranks;
        if (!failed && coord.end_signal) {
            /* The user's ^C or a batch system's SIGTERM ended the restart (newuser7 M3: three
             * ^C's took the default restart back from sequence 3 to 0). The ranks it stopped
             * did not fail to restore their images: a rank that cannot writes failed.<r>
             * (revive-restart-rank, restart.c); one killed by the signal, or by the launcher
             * that passed it on, writes nothing. */
            revive_log_error("the restarted job was ended by SIG%s (status %d) before every rank "
                             "was back: the restart was interrupted; %s/%lld is not marked as "
                             "failed",
                             sigabbrev_np(coord.end_signal), coord_exit_status(),
                             coord.parent_jobdir, (long long)coord.parent_seq);
            return;
        }
        if (!failed && coord_restart_refused(msg, sizeof msg) > 0) {
            /* the one line the user gets: the ranks leave it to this (restart.c) */
            revive_log_error_long("the restart from %s/%lld was refused: %s; the snapshot is not "
                                  "marked as failed: once that is put right, restart-mpi takes "
                                  "it again",
                                  coord.parent_jobdir, (long long)coord.parent_seq, msg);
            return;
        }
        if (!failed && begun == 0) {
            /* the ranks could not read the sequence because it went away (removed while the
               restart started): say so, not that the launcher failed */
            char seqdir[PATH_MAX + 32];
            struct stat st;
            snapc_fmt(seqdir, sizeof seqdir, "%s/%lld", coord.parent_jobdir,
                      (long long)coord.parent_seq);
            if (stat(seqdir, &st) != 0 && errno == ENOENT) {
                revive_log_error("the restarted job ended (status %d) before any rank began its "
                                 "restore: %s is gone (removed during the restart?); nothing was "
                                 "restored", coord_exit_status(), seqdir);
                return;
            }
            if (coord.end_signal) { /* passed on to the launcher by us: not its failure */
                revive_log_error("the restarted job was ended by SIG%s (status %d) before any rank "
                                 "began its restore; %s/%lld is not marked as failed",
                                 sigabbrev_np(coord.end_signal), coord_exit_status(),
                                 coord.parent_jobdir, (long long)coord.parent_seq);
                return;
            }
            if (WIFSIGNALED(coord.child_status) && WTERMSIG(coord.child_status) == SIGPIPE) {
                /* MPICH's mpiexec dies so at times, without a word (restart_fetch.c launches
                 * a fetch again then). The job's launch is not made again here: ranks it
                 * started on other hosts may still be there, unseen until their restore
                 * begins, and a second launch would restore them twice; the user's rerun
                 * comes after the launcher's processes are gone. Measured: 0 in 2800 runs of
                 * `mpiexec -n 1|2 true|false|sleep 0.3` at load 22 (2 in 100 once, load 12). */
                revive_log_error("the restarted job's launcher died of SIGPIPE (status %d) "
                                 "before any rank began its restore, without a word (MPICH's "
                                 "mpiexec does at times); %s/%lld is not marked as failed: run "
                                 "restart-mpi again",
                                 coord_exit_status(), coord.parent_jobdir,
                                 (long long)coord.parent_seq);
                return;
            }
            revive_log_error("the restarted job ended (status %d) before any rank began its "
                             "restore: the launcher failed (see its message above); %s/%lld is "
                             "not marked as failed",
                             coord_exit_status(), coord.parent_jobdir, (long long)coord.parent_seq);
            return;
        }
        /* Some rank never began its restore and none failed one: the job ended for a reason
         * outside the snapshot (that rank could not start, or could not see the snapshot
         * directory on its host and its cache holds no copy: revive-restart-rank said which
         * above); the ranks that had begun were ended with the job, their images were not
         * found wanting. Marking the sequence failed would make the next restart skip a good
         * snapshot (issue 9: a restart on hosts that do not see the re-created directory). */
        char never[512];
        int started = coord_restart_begun(never, sizeof never);
        if (!failed && nranks > 0 && started < nranks) {
            revive_log_error("the restarted job ended (status %d) before rank%s %s began %s "
                             "restore (said above: it could not start, or could not read the "
                             "snapshot on its host); %s/%lld is not marked as failed",
                             coord_exit_status(), strchr(never, ',') ? "s" : "", never,
                             strchr(never, ',') ? "their" : "its", coord.parent_jobdir,
                             (long long)coord.parent_seq);
            return;
        }
        if (!failed && nranks > 0 && restored >= nranks) {
            revive_log_error("the restarted job ended (status %d) after every rank was restored, "
                             "before each reconnected; %s/%lld is not marked as failed",
                             coord_exit_status(), coord.parent_jobdir, (long long)coord.parent_seq);
            return;
        }
        if (failed)
            snapc_fmt(why, sizeof why, "%s", msg);
        else
            snapc_fmt(why, sizeof why,
                      "the restarted job ended (status %d) before every rank was back (%d of %d "
                      "restored)",
                      coord_exit_status(), restored, nranks > 0 ? nranks : begun);
    } else if (coord.end_signal) {
        /* no progress files to tell a rank's failure from the interrupt: not recorded */
        revive_log_error("the restarted job was ended by SIG%s (status %d) before every rank was "
                         "back: the restart was interrupted; %s/%lld is not marked as failed",
                         sigabbrev_np(coord.end_signal), coord_exit_status(), coord.parent_jobdir,
                         (long long)coord.parent_seq);
        return;
    } else {
        snapc_fmt(why, sizeof why, "the restarted job ended (status %d) before every rank was back",
                  coord_exit_status());
    }
    /* the rank's whole message (up to REVIVE_RESTART_TEXT_MAX): a deep path keeps its advice */
    revive_log_error_long("the restart from %s/%lld failed: %s; recorded in its index (a "
                          "restart-mpi of %s takes an earlier sequence by default)",
                          coord.parent_jobdir, (long long)coord.parent_seq, why,
                          coord.parent_jobdir);
    if (filem_index_mark_failed(coord.parent_jobdir, (uint64_t)coord.parent_seq, why, e2, sizeof e2) < 0)
        revive_log_warn("cannot record the failed restart: %s", e2);
    /* and in this host's cached copy, which outlives a lost snapshot directory */
    char seqdir[PATH_MAX + 32];
    snapc_fmt(seqdir, sizeof seqdir, "%s/%lld", coord.parent_jobdir, (long long)coord.parent_seq);
    if (filem_local_failed_mark(seqdir, why, e2, sizeof e2) < 0)
        revive_log_warn("cannot record the failed restart in this host's node-local cache: %s", e2);
}

int coord_restart_signal_before_launch(const sigset_t *set)
{
    static const int ends[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    sigset_t p;
    if (sigpending(&p) != 0)
        return 0;
    for (size_t i = 0; i < sizeof ends / sizeof *ends; i++) {
        if (sigismember(set, ends[i]) != 1 || sigismember(&p, ends[i]) != 1)
            continue;
        sigset_t one;
        struct timespec zero = {0, 0};
        sigemptyset(&one);
        sigaddset(&one, ends[i]);
        sigtimedwait(&one, NULL, &zero); /* taken: not the launcher's (there is none) */
        fprintf(stderr, "restart-mpi: the restart was interrupted by SIG%s before the launch: "
                        "nothing was started, %s/%lld is not marked as failed\n",
                sigabbrev_np(ends[i]), coord.parent_jobdir, (long long)coord.parent_seq);
        return ends[i];
    }
    return 0;
}

/* The ranks' progress files go with the job. */
void coord_restart_cleanup(void)
{
    if (coord.parent_jobdir[0])
        snapc_restart_lock_drop(coord.parent_jobdir);   /* restart-mpi's note */
    if (!coord.restart_dir[0])
        return;
    DIR *d = opendir(coord.restart_dir);
    for (struct dirent *de; d && (de = readdir(d));)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            unlinkat(dirfd(d), de->d_name, 0);
    if (d)
        closedir(d);
    rmdir(coord.restart_dir);
    coord.restart_dir[0] = 0;
}
