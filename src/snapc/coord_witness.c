/* The signal witness: whether a signal the coordinator got reached the launcher's process group
 * too; and what wakes a job stopped by ckpt-mpirun --stop when the coordinator is killed.
 *
 * The coordinator passes the signals it gets on to the launcher (coord_on_signal). A signal sent
 * to the whole process group (`kill -INT -- -PGID` from a script or a batch system, a terminal's
 * ^C) reaches the launcher already, since it runs in the coordinator's group: passed on as well,
 * it arrives twice (Hydra took a second SIGINT for "abort now" and failed an assertion, exit
 * status 255: review9 F3). Nothing in the siginfo says whether a kill() named the process or
 * its group, and the launcher's own handlers take its copy at once. So a child of the
 * coordinator that does nothing stays in the group with the forwarded signals blocked: a signal
 * sent to the group stays pending there. (That it is pending there before the coordinator reads
 * its own copy rests on the order in which Linux walks a group in kill_pgrp: newest member
 * first, since fork adds a process at the head of its group's list, and the witness joined
 * after the coordinator. An implementation detail, not a promise of kill(2).)
 *
 * For each signal it reads the coordinator asks the witness to take that signal if pending
 * (sigtimedwait): taken, it was sent to the group. Taken then, not after the whole batch: the
 * batch's end used to drop every signal pending in the witness, so a group signal that came
 * between the coordinator's last read and that drop lost its evidence and was passed on a second
 * time (diffrev W1). Left: two group signals of one number so close together that the second
 * reaches the witness between the coordinator's read of the first and the take (a round trip)
 * merge there into one pending signal, and the second is passed on; pending signals of one
 * number merge in the kernel, nothing can tell them apart. The witness lives on when the
 * group is stopped and continued (a shell's ^Z and fg: before, its "continued" report was taken
 * for its end). Without a witness (it could not start, ended, or did not answer) every signal
 * but a terminal's is passed on, as before.
 *
 * The witness also outlives the coordinator for a moment. The launcher ends with the coordinator
 * (PR_SET_PDEATHSIG SIGTERM), but a launcher stopped by ckpt-mpirun --stop holds that SIGTERM
 * pending, and its stopped ranks with it: after a `kill -9` of Revive's mpirun from a script
 * (no shell's job control to continue them) they stayed in state T for ever, under init
 * (review10 F2). So while the job is stopped the witness holds the launcher's and this host's
 * ranks' pids; when its end of the socket pair reads end-of-file (only the coordinator holds the
 * other end) it sends them SIGCONT, so that the pending SIGTERM acts, and SIGKILL to any still
 * there after REVIVE_TERM_GRACE s (default 10). Otherwise it just ends then. Either way, told
 * the job's snapshot directory, it removes there what the coordinator would have at its end
 * (.alive, .staging.reserve: review newuser7 L2 found them left after a kill -9 of mpirun). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/procfs.h"
#include "filem/alive.h"
#include "filem/stage_mark.h"
#include "snapc/coord_int.h"

static pid_t witness = -1;
static int wfd = -1; /* the coordinator's end of the socket pair */

/* What the coordinator tells the witness: one byte, then its data. */
#define W_TAKE 'k'    /* an int sig: take it if pending; answered '1' (it was) or '0' */
#define W_STOPPED 's' /* an int n, then n pids: the launcher and this host's ranks, stopped */
#define W_RUNS 'r'    /* the job runs again: those pids are no longer the witness's business */
#define W_JOBDIR 'j'  /* an int len, then the job's snapshot directory (len bytes, no NUL) */
#define W_MAX_PIDS 65536

/* A process the witness wakes if the coordinator dies: its pid and start time (field 22 of
 * /proc/PID/stat), so that a pid used again by another process is left alone. */
struct held {
    pid_t pid;
    uint64_t start;
};

/* The state letter of h's process, 0 when it is gone or the pid is another process's now. */
static char held_state(const struct held *h)
{
    char buf[1024];
    long n = revive_proc_read(h->pid, 0, "stat", buf, sizeof buf);
    uint64_t start;
    if (n < 0 || revive_stat_field(buf, 22, &start) < 0 || start != h->start)
        return 0;
    return revive_stat_state(buf);
}

static int read_full(int fd, void *buf, size_t len)
{
    for (size_t got = 0; got < len;) {
        ssize_t r = read(fd, (char *)buf + got, len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* The coordinator ended while the job was stopped by --stop: SIGCONT to the launcher (whose
 * PDEATHSIG SIGTERM is pending) and to the ranks (a rank that stops itself late is continued
 * again), until every one has ended; SIGKILL to those left after the grace. */
static void wake_stopped(struct held *h, int n, pid_t coord_pid)
{
    const char *g = getenv("REVIVE_TERM_GRACE");
    int grace = g && *g && atoi(g) > 0 ? atoi(g) : 10;
    revive_log_warn("the coordinator %d ended while the job was stopped (ckpt-mpirun --stop): "
                    "the launcher %d and %d rank(s) of this host continued, so that they end",
                    (int)coord_pid, (int)h[0].pid, n - 1);
    for (int t = 0; t <= grace * 20; t++) {
        int left = 0;
        for (int k = 0; k < n; k++) {
            char st = held_state(&h[k]);
            if (!st || st == 'Z' || st == 'X')
                continue;
            left++;
            if (st == 'T' || st == 't')
                kill(h[k].pid, SIGCONT);
        }
        if (!left)
            return;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    for (int k = 0; k < n; k++) {
        char st = held_state(&h[k]);
        if (st && st != 'Z' && st != 'X') {
            revive_log_warn("%s %d did not end within %d s of its coordinator; SIGKILL",
                            k ? "the rank process" : "the launcher", (int)h[k].pid, grace);
            kill(h[k].pid, SIGKILL);
        }
    }
}

/* The coordinator ended without stopping the witness (kill -9 of mpirun): what it removes at
 * its normal end, left in the job's snapshot directory (review newuser7 L2: .alive and
 * .staging.reserve stayed): .alive, whose lock died with it (the job is gone: its caches are no
 * longer its own alone), and the room kept for the mark of a failed staging (no coordinator
 * stages any more); the directory itself when that leaves it empty. */
static void clean_jobdir(const char *jobdir)
{
    char p[PATH_MAX + 16];
    snprintf(p, sizeof p, "%s/%s", jobdir, FILEM_ALIVE_NAME);
    int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
        unlink(p);
    if (fd >= 0)
        close(fd);
    filem_stage_unreserve(jobdir);
    rmdir(jobdir);
}

/* The witness's life: answers the coordinator's requests (W_*); at the end of its input (the
 * coordinator ended, or closed its end: coord_witness_stop kills it first) it wakes the job if
 * it is told the job is stopped, and ends. It holds its end of the pair and stderr (for that
 * message) only: not the coordinator's stdout, which a shell's $(...) may wait on. */
static void witness_main(int s, pid_t coord_pid, const sigset_t *set)
{
    if (getppid() != coord_pid)
        _exit(0);
    prctl(PR_SET_NAME, "revive-witness");
    if (dup2(s, 0) < 0)
        _exit(0);
    close(1);
    close_range(3, ~0U, 0);
    struct held *h = NULL;
    int nh = 0;
    static char jobdir[PATH_MAX];
    struct timespec zero = {0, 0};
    char c;
    while (read_full(0, &c, 1) == 0) {
        if (c == W_TAKE) {
            int sig;
            sigset_t one;
            if (read_full(0, &sig, sizeof sig) < 0)
                break;
            sigemptyset(&one);
            char yes = sigismember(set, sig) == 1 && sigaddset(&one, sig) == 0 &&
                       sigtimedwait(&one, NULL, &zero) == sig ? '1' : '0';
            if (write(0, &yes, 1) != 1)
                break;
        } else if (c == W_STOPPED) {
            int n;
            pid_t *p;
            if (read_full(0, &n, sizeof n) < 0 || n < 1 || n > W_MAX_PIDS ||
                !(p = malloc((size_t)n * sizeof *p)))
                break;
            if (read_full(0, p, (size_t)n * sizeof *p) < 0) {
                free(p);
                break;
            }
            free(h);
            h = calloc((size_t)n, sizeof *h);
            nh = 0;
            for (int k = 0; h && k < n; k++) {
                char buf[1024];
                h[nh].pid = p[k];
                if (p[k] > 1 && revive_proc_read(p[k], 0, "stat", buf, sizeof buf) >= 0 &&
                    revive_stat_field(buf, 22, &h[nh].start) == 0)
                    nh++;
                else if (k == 0)
                    break; /* the launcher is gone: nothing to wake */
            }
        } else if (c == W_RUNS) {
            nh = 0;
        } else if (c == W_JOBDIR) {
            int n;
            if (read_full(0, &n, sizeof n) < 0 || n < 1 || n >= PATH_MAX ||
                read_full(0, jobdir, (size_t)n) < 0)
                break;
            jobdir[n] = 0;
        }
    }
    if (nh > 0)
        wake_stopped(h, nh, coord_pid);
    if (jobdir[0])
        clean_jobdir(jobdir);
    _exit(0);
}

void coord_witness_start(const sigset_t *set)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        revive_log_debug("no signal witness: socketpair: %s", strerror(errno));
        return;
    }
    pid_t coord_pid = getpid();
    pid_t p = fork();
    if (p == 0) {
        close(sv[0]);
        witness_main(sv[1], coord_pid, set);
    }
    close(sv[1]);
    if (p < 0) {
        revive_log_debug("no signal witness: fork: %s", strerror(errno));
        close(sv[0]);
        return;
    }
    witness = p;
    wfd = sv[0];
}

/* Asks the witness whether it holds SIG pending, and to take it if so: 1 taken, 0 not, -1 no
 * answer. */
static int witness_take(int sig)
{
    char m[1 + sizeof(int)];
    m[0] = W_TAKE;
    memcpy(m + 1, &sig, sizeof sig);
    if (write(wfd, m, sizeof m) != (ssize_t)sizeof m)
        return -1;
    /* it answers at once; bounded all the same (a witness stopped on its own) */
    struct pollfd p = {.fd = wfd, .events = POLLIN};
    char c;
    if (poll(&p, 1, 1000) == 1 && read(wfd, &c, 1) == 1)
        return c == '1';
    return -1;
}

int coord_witness_group_signal(int sig)
{
    if (witness <= 0 || wfd < 0 || sig < 1 || sig > 64)
        return 0;
    int taken = witness_take(sig);
    if (taken < 0) {
        revive_log_info("the signal witness %d did not answer; from now on every signal to "
                        "mpirun is passed on to the launcher", (int)witness);
        coord_witness_stop();
        return 0;
    }
    /* the witness speaks for the launcher only while both are in one process group */
    pid_t g = getpgid(witness);
    return taken && coord.child > 0 && g >= 0 && getpgid(coord.child) == g;
}

pid_t coord_witness_pid(void)
{
    return witness;
}

int coord_witness_reaped(pid_t p, int st)
{
    if (p <= 0 || p != witness)
        return 0;
    /* waitpid's WCONTINUED reports it continued too (kill -CONT -- -PGID, a shell's fg after
     * ^Z of the group): it still runs, and is still asked */
    if (!WIFEXITED(st) && !WIFSIGNALED(st))
        return 1;
    witness = -1;
    if (wfd >= 0)
        close(wfd);
    wfd = -1;
    return 1;
}

void coord_witness_job_stopped(const pid_t *pids, int n)
{
    if (wfd < 0 || n < 1 || n > W_MAX_PIDS)
        return;
    size_t len = 1 + sizeof n + (size_t)n * sizeof *pids;
    char *m = malloc(len);
    if (!m)
        return;
    m[0] = W_STOPPED;
    memcpy(m + 1, &n, sizeof n);
    memcpy(m + 1 + sizeof n, pids, (size_t)n * sizeof *pids);
    /* written in full before the launcher is stopped: a coordinator killed from then on leaves
     * the witness the list (it reads what is in the socket before the end of file) */
    if (write(wfd, m, len) != (ssize_t)len)
        revive_log_debug("the signal witness %d was not told the job is stopped: %s", (int)witness,
                         strerror(errno));
    free(m);
}

void coord_witness_jobdir(const char *jobdir)
{
    int n = (int)strlen(jobdir);
    char m[1 + sizeof n + PATH_MAX];
    if (wfd < 0 || n < 1 || n >= PATH_MAX)
        return;
    m[0] = W_JOBDIR;
    memcpy(m + 1, &n, sizeof n);
    memcpy(m + 1 + sizeof n, jobdir, (size_t)n);
    size_t len = 1 + sizeof n + (size_t)n;
    if (write(wfd, m, len) != (ssize_t)len)
        revive_log_debug("the signal witness %d was not told the snapshot directory: %s",
                         (int)witness, strerror(errno));
}

void coord_witness_job_runs(void)
{
    char c = W_RUNS;
    if (wfd >= 0 && write(wfd, &c, 1) != 1)
        revive_log_debug("the signal witness %d was not told the job runs again", (int)witness);
}

void coord_witness_stop(void)
{
    if (witness > 0) {
        /* killed before its end of file: a witness that read it would wake a stopped job */
        kill(witness, SIGKILL);
        waitpid(witness, NULL, 0);
    }
    witness = -1;
    if (wfd >= 0)
        close(wfd);
    wfd = -1;
}
