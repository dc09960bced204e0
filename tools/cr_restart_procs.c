/* The process helpers cr_restart and revive-restart-rank share (cr_restart.h): pids of one's
 * choice, namespaces, sessions, signals passed on, ending like a restored process. Moved here
 * from cr_restart.c so that revive-restart-rank can restore a rank's process tree
 * (cr_restart_tree.c's restart_tree_here). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/procfs.h"
#include "crs/base/component.h"
#include "cr_restart.h"
static pid_t child;

static void forward(int sig)
{
    if (child > 0)
        kill(child, sig);
}

const int forwarded_signals[CR_RESTART_NFORWARDED] = { SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM, SIGCONT };

void forward_signals_to(pid_t pid, int ignore_hangup)
{
    child = pid;
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    for (size_t i = 0; i < CR_RESTART_NFORWARDED; i++)
        signal(forwarded_signals[i], forwarded_signals[i] == SIGHUP && ignore_hangup ? SIG_IGN : forward);
}

void unblock_forwarded(void)
{
    sigset_t fwd;
    sigemptyset(&fwd);
    for (size_t i = 0; i < CR_RESTART_NFORWARDED; i++)
        sigaddset(&fwd, forwarded_signals[i]);
    sigprocmask(SIG_UNBLOCK, &fwd, NULL);
}

struct clone3_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size,
        cgroup;
};

/* 1 when PID leads a process group or a session of a process that /proc shows. */
static long leads_group_or_session(long n, int dirfd, void *arg)
{
    pid_t pid = *(const pid_t *)arg;
    char stat[1024];
    uint64_t pgrp, sess;
    (void)dirfd;
    return revive_proc_read((pid_t)n, 0, "stat", stat, sizeof stat) > 0 &&
           revive_stat_field(stat, 5, &pgrp) == 0 && revive_stat_field(stat, 6, &sess) == 0 &&
           (pgrp == (uint64_t)pid || sess == (uint64_t)pid);
}

int pid_in_use(pid_t pid)
{
    char path[300];
    snprintf(path, sizeof path, "/proc/%d", (int)pid);
    if (access(path, F_OK) == 0)
        return 1;
    return revive_proc_for_each_number("/proc", leads_group_or_session, &pid) == 1;
}

/* fork() that asks for a given pid (root, or CAP_CHECKPOINT_RESTORE). */
pid_t fork_with_pid(pid_t want)
{
    if (want > 0) {
        struct clone3_args ca;
        memset(&ca, 0, sizeof ca);
        uint64_t tid = (uint64_t)want;
        ca.exit_signal = SIGCHLD;
        ca.set_tid = (uint64_t)&tid;
        ca.set_tid_size = 1;
        long r = syscall(SYS_clone3, &ca, sizeof ca);
        if (r >= 0)
            return (pid_t)r;
    }
    return fork();
}

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Without privilege, or when the old pid is taken, the original ids can
 * still come back inside a new pid namespace (for a user, a new user
 * namespace too, where it keeps its own uid and gid): the first child is the
 * namespace's init and creates the process with its old pid. */
int enter_user_pid_namespace(void)
{
    if (geteuid() == 0)   /* root needs no user namespace for a pid namespace */
        return unshare(CLONE_NEWPID);
    char map[64];
    uid_t uid = getuid();
    gid_t gid = getgid();
    if (unshare(CLONE_NEWUSER | CLONE_NEWPID) != 0)
        return -1;
    snprintf(map, sizeof map, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
    if (write_file("/proc/self/uid_map", map) != 0)
        return -1;
    write_file("/proc/self/setgroups", "deny");
    snprintf(map, sizeof map, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
    return write_file("/proc/self/gid_map", map);
}

/* A process that led its own session without a terminal (setsid,
 * daemon(3)) leads one again, away from our terminal: a Ctrl-C or hangup
 * there must not reach it. One that led its own process group (a shell's
 * job) leads one again; others join ours, as they were in their parent's,
 * and so does a session leader that had a terminal: ours is the one it
 * finds again. */
int own_session(const struct crs_restart_image *ri)
{
    return ri->sid == ri->pid && !ri->had_tty;
}

void restore_leadership(const struct crs_restart_image *ri)
{
    if (own_session(ri))
        setsid();
    else if (ri->pgid == ri->pid || ri->sid == ri->pid)
        setpgid(0, 0);
}

/* In a pid namespace of its own, a process reads /proc/<its pid> and
 * /proc/self: they must be its own, so it gets a /proc of that namespace
 * (in a mount namespace of its own; mounts elsewhere still reach it). The
 * outer /proc stays reachable through *outer_proc_fd (at or above fd_min)
 * for the restore (who holds a lock); -1 with errno when not. */
int mount_own_proc(int fd_min, int *outer_proc_fd)
{
    int fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
    *outer_proc_fd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, fd_min) : -1;
    if (fd >= 0)
        close(fd);
    if (unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) == 0 &&
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0)
        return 0;
    int e = errno;
    if (*outer_proc_fd >= 0)
        close(*outer_proc_fd);
    *outer_proc_fd = -1;
    errno = e;
    return -1;
}

void init_end_text(int st, char *out, size_t cap)
{
    if (st < 0)
        snprintf(out, cap, "ended (how, cr_restart could not learn)");
    else if (WIFSIGNALED(st))
        snprintf(out, cap, "was killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    else
        snprintf(out, cap, "ended with status %d", WIFEXITED(st) ? WEXITSTATUS(st) : st);
}

int status_from_init(int fd, const char *path)
{
    int st;
    ssize_t n;
    while ((n = read(fd, &st, sizeof st)) < 0 && errno == EINTR)
        ;
    int ist = -1;
    pid_t w;
    while ((w = wait(&ist)) < 0 && errno == EINTR)
        ;
    if (n != (ssize_t)sizeof st) {
        /* init ends only after it wrote the status: it was killed (SIGKILL from outside), and
         * the process with it, as the kernel ends a pid namespace (a test's exit trap took our
         * init, pid 1 in there, for its own program: flake31) */
        char how[128];
        init_end_text(w > 0 ? ist : -1, how, sizeof how);
        fprintf(stderr, "cr_restart: %s: the restarted process ended with its pid namespace: that namespace's "
                        "init (cr_restart's own) %s before it passed the process's status on (killed from "
                        "outside?); restart again: the image is fine\n", path, how);
        st = 1 << 8;
    }
    return st;
}


/* The restored process (the first child of the namespace's init `init`),
 * under the pid we see it by; init itself when there is none. */
pid_t process_of_init(pid_t init)
{
    char path[64], buf[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)init, (int)init);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return init;
    buf[n] = 0;
    pid_t p = (pid_t)atoi(buf);
    return p > 0 ? p : init;
}

void raise_like(int sig)
{
    signal(sig, SIG_DFL);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
    kill(getpid(), sig);
}

/* Ends like the restored process: its exit status, or death by its signal. */
int exit_like(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) {
        raise_like(WTERMSIG(st));
        return 128 + WTERMSIG(st);
    }
    return 1;
}

