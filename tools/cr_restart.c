/* cr_restart [--no-restore-pid] FILE: brings a checkpointed process back and
 * stays in the foreground until it exits, exiting with its status. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crs/uspace/restore.h"

static pid_t child;

static void usage(FILE *f)
{
    fprintf(f, "usage: cr_restart [--no-restore-pid] [--ignore-kernel] FILE\n"
               "Restarts the process saved in FILE by cr_checkpoint and waits for it;\n"
               "exits with its exit status (or dies of the same signal).\n"
               "  --no-restore-pid  run under new process and thread ids even where the\n"
               "                    original ones could come back\n"
               "  --ignore-kernel   accept an image taken under another kernel release\n");
}

static void forward(int sig)
{
    if (child > 0)
        kill(child, sig);
}

struct clone3_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size,
        cgroup;
};

/* fork() that asks for a given pid (root, or CAP_CHECKPOINT_RESTORE). */
static pid_t fork_with_pid(pid_t want, int *got_it)
{
    *got_it = 0;
    if (want > 0) {
        struct clone3_args ca;
        memset(&ca, 0, sizeof ca);
        uint64_t tid = (uint64_t)want;
        ca.exit_signal = SIGCHLD;
        ca.set_tid = (uint64_t)&tid;
        ca.set_tid_size = 1;
        long r = syscall(SYS_clone3, &ca, sizeof ca);
        if (r >= 0) {
            *got_it = 1;
            return (pid_t)r;
        }
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
static int enter_user_pid_namespace(void)
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

static void child_fail(int report_fd, const char *msg)
{
    ssize_t w = write(report_fd, msg, strlen(msg));
    (void)w;
    _exit(1);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "no-restore-pid", no_argument, 0, 'n' },
        { "ignore-kernel", no_argument, 0, 'k' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    struct crs_restore r;
    memset(&r, 0, sizeof r);
    r.restore_ids = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n': r.restore_ids = 0; break;
        case 'k': r.ignore_kernel = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    static struct crs_image img;
    if (crs_image_open(&img, argv[optind]) != 0) {
        fprintf(stderr, "cr_restart: %s\n", img.err);
        return 1;
    }
    r.img = &img;
    if (crs_restore_check(&r) != 0) {
        fprintf(stderr, "cr_restart: %s: %s\n", argv[optind], r.err);
        return 1;
    }
    /* Our own descriptors live above every descriptor of the image. */
    int maxfd = 2;
    for (size_t i = 0; i < img.nfds; i++)
        if (img.fds[i].fd > maxfd)
            maxfd = img.fds[i].fd;
    r.work_fd_min = maxfd + 1 < 64 ? 64 : maxfd + 1;
    int moved = fcntl(img.fd, F_DUPFD_CLOEXEC, r.work_fd_min);
    if (moved < 0) {
        fprintf(stderr, "cr_restart: cannot set up descriptors: %s\n", strerror(errno));
        return 1;
    }
    close(img.fd);
    img.fd = moved;
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) {
        fprintf(stderr, "cr_restart: %s\n", strerror(errno));
        return 1;
    }
    int rep_w = fcntl(report[1], F_DUPFD_CLOEXEC, r.work_fd_min);
    close(report[1]);

    int original_pid;
    int in_namespace = 0;
    int status_pipe[2] = { -1, -1 };
    /* Root takes the old pid directly unless another process holds it now
     * (the original still runs, say): then, like a user, in a namespace. */
    char proc_path[64];
    snprintf(proc_path, sizeof proc_path, "/proc/%d", (int)img.process->pid);
    int pid_taken = access(proc_path, F_OK) == 0;
    if (r.restore_ids && (geteuid() != 0 || pid_taken) && enter_user_pid_namespace() == 0) {
        in_namespace = 1;
        if (pipe2(status_pipe, O_CLOEXEC) != 0)
            return 1;
    }
    fflush(NULL);
    if (in_namespace) {
        /* init of the new pid namespace: creates the process, waits for it,
         * hands its status to cr_restart outside */
        child = fork();
        if (child == 0) {
            close(report[0]);
            close(status_pipe[0]);
            pid_t p = fork_with_pid(img.process->pid, &original_pid);
            if (p == 0) {
                int e;
                if ((e = crs_restore_load(&r)) || (e = crs_restore_fds(&r)) ||
                    (e = crs_restore_process_state(&r)) || (e = crs_restore_signals(&r)))
                    child_fail(rep_w, r.err);
                crs_restore_switch(&r, original_pid);
                child_fail(rep_w, r.err);
            }
            close(rep_w);
            close(img.fd);
            int st = 1 << 8, w;
            for (;;) {   /* reap everything; stop when ours ends */
                pid_t q = waitpid(-1, &w, 0);
                if (q == p) {
                    st = w;
                    break;
                }
                if (q < 0 && errno != EINTR)
                    break;
            }
            ssize_t n = write(status_pipe[1], &st, sizeof st);
            (void)n;
            _exit(0);
        }
        close(status_pipe[1]);
    } else {
        child = fork_with_pid(r.restore_ids ? img.process->pid : 0, &original_pid);
    }
    if (child < 0) {
        fprintf(stderr, "cr_restart: cannot create the process: %s\n", strerror(errno));
        return 1;
    }
    if (child == 0) {
        close(report[0]);
        int e;
        if ((e = crs_restore_load(&r)) || (e = crs_restore_fds(&r)) || (e = crs_restore_process_state(&r)) ||
            (e = crs_restore_signals(&r)))
            child_fail(rep_w, r.err);
        crs_restore_switch(&r, original_pid);
        child_fail(rep_w, r.err);
    }
    close(rep_w);
    close(img.fd);
    /* Like a shell waiting for a foreground job: keyboard signals reach the
     * restored process directly; others sent to us are passed on. */
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    int fwd[] = { SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM, SIGCONT };
    for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++)
        signal(fwd[i], forward);
    char msg[1024];
    size_t got = 0;
    for (;;) {
        ssize_t n = read(report[0], msg + got, sizeof msg - 1 - got);
        if (n > 0 && got + (size_t)n < sizeof msg - 1) {
            got += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        break;
    }
    msg[got] = 0;
    close(report[0]);
    if (in_namespace) {
        /* signals for the process go to it, not to its namespace's init */
        char path[64], buf[64];
        snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)child, (int)child);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        if (fd >= 0)
            close(fd);
        if (n > 0) {
            buf[n] = 0;
            pid_t inner_outer = (pid_t)atoi(buf);
            if (inner_outer > 0)
                child = inner_outer;
        }
    }
    int st;
    if (in_namespace) {
        ssize_t n;
        while ((n = read(status_pipe[0], &st, sizeof st)) < 0 && errno == EINTR)
            ;
        if (n != (ssize_t)sizeof st)
            st = 1 << 8;
        while (wait(NULL) < 0 && errno == EINTR)
            ;
    } else {
        while (waitpid(child, &st, 0) < 0)
            if (errno != EINTR) {
                fprintf(stderr, "cr_restart: lost the restarted process: %s\n", strerror(errno));
                return 1;
            }
    }
    if (got) {
        fprintf(stderr, "cr_restart: %s: %s\n", argv[optind], msg);
        return 1;
    }
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) {
        int sig = WTERMSIG(st);
        signal(sig, SIG_DFL);
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, sig);
        sigprocmask(SIG_UNBLOCK, &s, NULL);
        struct rlimit_nocore { int x; };
        kill(getpid(), sig);
        return 128 + sig;
    }
    return 1;
}
