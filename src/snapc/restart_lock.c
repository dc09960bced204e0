/* One restart of a snapshot at a time (restart-mpi, and the job's coordinator at its end): two
 * jobs restarted from one snapshot directory at once
 * would both write beside it and mark its index, and each would come back with the same ranks
 * (pids, files) as the other. restart-mpi notes itself in JOBDIR/.restart.lock before the
 * launch; the note names a process by its pid and start time (so that a pid used again by
 * another process is not taken for it), and the process it names is the job's coordinator,
 * which runs until the restarted job ends. A flock serializes only the read and the write of
 * the note; the coordinator removes its note at its end, and one that was killed leaves a note
 * naming no living process, which holds no later restart back. */
#define _GNU_SOURCE
#include "snapc/restart_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/procfs.h"

/* pid's start time (clock ticks after boot, /proc/PID/stat field 22); 0 when it is gone. */
static uint64_t start_time(pid_t pid)
{
    char stat[1024];
    uint64_t t = 0;
    if (revive_proc_read(pid, 0, "stat", stat, sizeof stat) < 0 ||
        revive_stat_state(stat) == 'Z' || revive_stat_field(stat, 22, &t) < 0)
        return 0;
    return t;
}

static void note_path(char *path, size_t len, const char *jobdir)
{
    snprintf(path, len, "%s/.restart.lock", jobdir);
}

/* The note's process: pid and start time, or 0. */
static pid_t noted(int fd, uint64_t *when)
{
    char buf[64] = "";
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = 0;
    long long pid = 0;
    if (sscanf(buf, "%lld %" SCNu64, &pid, when) != 2 || pid <= 0 || pid > INT_MAX)
        return 0;
    return (pid_t)pid;
}

void snapc_restart_lock_drop(const char *jobdir)
{
    char path[PATH_MAX];
    note_path(path, sizeof path, jobdir);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return;
    while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
        ;
    uint64_t when = 0;
    if (noted(fd, &when) == getpid())
        unlink(path);
    close(fd);
}

int snapc_restart_lock_take(const char *jobdir, char *err, size_t errlen)
{
    char path[PATH_MAX];
    note_path(path, sizeof path, jobdir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        int e = errno;
        /* a snapshot on read-only storage (a mounted archive, a snapshot of a file system): the
         * restart writes beside it (this note, the index's outcome, the restarted job's own
         * snapshots), so say what to do, not only the errno (the sweep of session 19) */
        snprintf(err, errlen, "cannot note this restart in %s: %s%s%s%s", path, strerror(e),
                 e == EROFS || e == EACCES ? "; a restart writes beside the snapshot (its outcome, "
                                             "the restarted job's snapshots): copy " : "",
                 e == EROFS || e == EACCES ? jobdir : "",
                 e == EROFS || e == EACCES ? " to writable storage (cp -a) and restart the copy"
                                           : "");
        return -e;
    }
    int e = 0;
    while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
        ;
    uint64_t when = 0;
    pid_t pid = noted(fd, &when);
    if (pid > 0 && pid != getpid() && when && start_time(pid) == when) {
        snprintf(err, errlen, "%s is being restarted already, by process %d (restart-mpi, now "
                 "the job's coordinator revive-coord); two restarts of one snapshot at once would "
                 "bring back the same ranks twice: wait until that job has ended (or end it: "
                 "kill %d)", jobdir, (int)pid, (int)pid);
        e = -EBUSY;
    } else {
        char buf[64];
        int len = snprintf(buf, sizeof buf, "%d %" PRIu64 "\n", (int)getpid(), start_time(getpid()));
        if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)len, 0) != len) {
            e = -errno;
            snprintf(err, errlen, "cannot note this restart in %s: %s", path, strerror(-e));
        }
    }
    close(fd); /* the flock with it */
    return e;
}
