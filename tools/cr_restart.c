/* cr_restart [--no-restore-pid] [--relocate OLD=NEW]... FILE: brings a checkpointed process back and
 * stays in the foreground until it exits, exiting with its status. A file of
 * a process tree brings every member back (cr_restart_tree.c).
 *
 * The restore itself is the checkpoint component's (crs/base/component.h):
 * here is only where it runs. The image is opened and checked first; then a
 * child is made, with the old pid where it can be (clone3 set_tid as root,
 * or inside a new pid namespace), and becomes the restored process; this
 * program waits for it like a shell for a foreground job. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fault.h"
#include "common/procfs.h"
#include "common/relocate_arg.h"
#include "common/text.h"
#include "crs/base/component.h"
#include "crs/base/image.h"
#include "crs/base/tree.h"
#include "cr_restart.h"

static pid_t child; /* the restored process (or our init in its pid namespace) */

static void usage(FILE *f)
{
    fprintf(f, "usage: cr_restart [--no-restore-pid] [--ignore-kernel] [--relocate OLD=NEW]... FILE\n"
               "Restarts the process saved in FILE by cr_checkpoint and waits for it;\n"
               "exits with its exit status (or dies of the same signal).\n"
               "  --no-restore-pid  run under new process and thread ids even where the\n"
               "                    original ones could come back\n"
               "  --ignore-kernel   accept an image taken under another kernel release\n"
               "  --relocate OLD=NEW  a file or folder OLD the process used (its program,\n"
               "                    libraries, open and mapped files, working directory) has\n"
               "                    moved to NEW: take it, and everything under it, from there\n"
               "                    (repeatable; the longest matching OLD wins)\n");
}

/* The pid the outside world knows the process by is noted first, while
 * /proc tells. */
static void own_proc(struct crs_restart_image *ri)
{
    char self[32];
    ssize_t n = readlink("/proc/self", self, sizeof self - 1);
    if (n <= 0)
        return;
    self[n] = 0;
    ri->outer_pid = (pid_t)atoi(self);
    if (mount_own_proc(ri->own_fd_min, &ri->outer_proc_fd) != 0) {
        fprintf(stderr, "cr_restart: warning: cannot give the restarted process a /proc of its own pid "
                        "namespace (%s): /proc/%d and /proc/self show it under pid %d\n",
                        strerror(errno), (int)ri->pid, (int)ri->outer_pid);
        ri->outer_pid = 0;
    }
}

/* In the child: becomes the image's process, or reports why not on the
 * report pipe and exits 1. in_ns: it runs in a pid namespace of its own. */
static void __attribute__((noreturn))
restore_here(const struct crs_component *crs, struct crs_restart_image *ri, int report_fd, int in_ns)
{
    char err[REVIVE_TEXT_PATHS(5)]; /* the image's path and the restore's words naming it, whole */
    restore_leadership(ri);
    if (revive_fault(REVIVE_FAULT_restore_start_hold)) {
        fprintf(stderr, "cr_restart: fault restore-start-hold: holding the restore 3 s\n");
        struct timespec hold = { 3, 0 };
        while (nanosleep(&hold, &hold) != 0 && errno == EINTR)
            ;
    }
    if (in_ns)
        own_proc(ri);
    crs->restart(ri, err, sizeof err);
    ssize_t w = write(report_fd, err, strlen(err));
    (void)w;
    _exit(1);
}

/* Creates the process that becomes the image's. In a pid namespace, the
 * child is the namespace's init: it creates the process, reaps everything
 * and hands the process's wait status to us through *status_fd. */
static pid_t create_process(const struct crs_component *crs, struct crs_restart_image *ri, int restore_ids,
                            int report[2], int rep_w, int *status_fd)
{
    /* Root takes the old pid directly unless another process holds it now
     * (the original still runs, say): then, like a user, in a namespace. */
    int pid_taken = pid_in_use(ri->pid);
    int status_pipe[2] = { -1, -1 };
    *status_fd = -1;
    if (restore_ids && (geteuid() != 0 || pid_taken) && enter_user_pid_namespace() == 0 &&
        pipe2(status_pipe, O_CLOEXEC) != 0)
        return -1;
    /* Ours, so above every descriptor of the image: one below could pass
     * for one the process inherited and be handed to it. */
    for (int i = 0; i < 2 && status_pipe[0] >= 0; i++) {
        int moved = fcntl(status_pipe[i], F_DUPFD_CLOEXEC, ri->own_fd_min);
        if (moved < 0)
            return -1;
        close(status_pipe[i]);
        status_pipe[i] = moved;
    }
    fflush(NULL);
    if (status_pipe[0] < 0) {
        pid_t p = fork_with_pid(restore_ids ? ri->pid : 0);
        if (p == 0) {
            close(report[0]);
            restore_here(crs, ri, rep_w, 0);
        }
        return p;
    }
    if (ri->pid == 1) {
        /* The process was its pid namespace's init (a container's first process, `unshare -f`):
         * pid 1 is taken everywhere but in a new namespace, where our first child has it. That
         * child becomes the process, the namespace's init again, its parent outside the namespace
         * (getppid() 0) as the original's was, the reaper of its orphans. Before, our init held
         * pid 1 and the process came back silently as pid 2, getppid() 1 (kern31). We wait for it
         * as for a process without a namespace: no status comes through status_fd. */
        pid_t p = fork();
        if (p == 0) {
            close(report[0]);
            close(status_pipe[0]);
            close(status_pipe[1]);
            restore_here(crs, ri, rep_w, 1);
        }
        close(status_pipe[0]);
        close(status_pipe[1]);
        return p;
    }
    pid_t init = fork();
    if (init == 0) {
        close(report[0]);
        close(status_pipe[0]);
        pid_t p = fork_with_pid(ri->pid);
        if (p == 0)
            restore_here(crs, ri, rep_w, 1);
        /* the signals cr_restart passes on to us while the process is restored (main) go on to
         * it: a namespace's init drops a SIGTERM it has no handler for (diffrev30 K-L2). Blocked
         * since before our fork (main), in the process until its restore takes its mask back. */
        forward_signals_to(p, own_session(ri));
        unblock_forwarded();
        close(rep_w);
        crs->restart_close(ri);
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
    *status_fd = status_pipe[0];
    return init;
}

/* Reads what the child reported (nothing: the restore went through). */
static size_t read_report(int fd, char *msg, size_t len)
{
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fd, msg + got, len - 1 - got);
        if (n > 0) {
            got += (size_t)n; /* (a read that filled the buffer was dropped whole before) */
            if (got < len - 1)
                continue;
            break;
        }
        if (n < 0 && errno == EINTR)
            continue;
        break;
    }
    msg[got] = 0;
    return got;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "no-restore-pid", no_argument, 0, 'n' },
        { "ignore-kernel", no_argument, 0, 'k' },
        { "relocate", required_argument, 0, 'r' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    struct crs_restart_opts o = { .fd = -1, .restore_ids = 1 };
    static const char *relocate[64];
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n': o.restore_ids = 0; break;
        case 'k': o.ignore_kernel = 1; break;
        case 'r': {
            char why[PATH_MAX * 2 + 256];
            if (revive_relocate_arg_check(optarg, why, sizeof why) != 0) {
                fprintf(stderr, "cr_restart: %s\n", why);
                return 2;
            }
            if (o.nrelocate == sizeof relocate / sizeof relocate[0]) {
                fprintf(stderr, "cr_restart: at most %zu --relocate options\n", o.nrelocate);
                return 2;
            }
            relocate[o.nrelocate++] = optarg;
            o.relocate = relocate;
            break;
        }
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    o.path = argv[optind];
    char msg[REVIVE_TEXT_PATHS(5)];
    const struct crs_component *crs = crs_component_select(NULL, msg, sizeof msg);
    int tfd = crs ? open(o.path, O_RDONLY | O_CLOEXEC) : -1;
    if (tfd >= 0 && crs_tree_is_tree(tfd) == 1)
        return restart_tree(crs, &o, tfd);   /* a process tree (cr_checkpoint --tree/--pgid/--sid) */
    if (tfd >= 0)
        close(tfd);
    /* A /dev/shm object of the image that a live process uses (the original,
     * beside which this restart runs): made in a /dev/shm of the restarted
     * process's own, where it can have a mount namespace (root, or the user
     * namespace of an unprivileged restart in a pid namespace). */
    o.dev_shm_private = geteuid() == 0 || o.restore_ids;
    struct crs_restart_image ri;
    if (!crs || crs->restart_open(&o, &ri, msg, sizeof msg) != 0) {
        crs_image_advise(msg, sizeof msg, CR_RESTART_ADVICE);
        fprintf(stderr, "cr_restart: %s\n", msg);
        return 1;
    }
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) {
        fprintf(stderr, "cr_restart: %s\n", strerror(errno));
        return 1;
    }
    int rep_w = fcntl(report[1], F_DUPFD_CLOEXEC, ri.own_fd_min);
    close(report[1]);
    int status_fd;
    /* the signals we pass on wait until we know where to (forward_signals_to below; our init
     * passes them on too, create_process): one sent before was dropped by that init */
    sigset_t fwd, unfwd;
    sigemptyset(&fwd);
    for (size_t k = 0; k < CR_RESTART_NFORWARDED; k++)
        sigaddset(&fwd, forwarded_signals[k]);
    sigprocmask(SIG_BLOCK, &fwd, &unfwd);
    child = create_process(crs, &ri, o.restore_ids, report, rep_w, &status_fd);
    if (child < 0) {
        fprintf(stderr, "cr_restart: cannot create the process: %s\n", strerror(errno));
        return 1;
    }
    close(rep_w);
    crs->restart_close(&ri);
    /* Like a shell waiting for a foreground job: keyboard signals reach the
     * restored process directly; others sent to us are passed on, but for
     * the hangup of our terminal when the process has a session of its own. */
    forward_signals_to(child, own_session(&ri));
    sigprocmask(SIG_SETMASK, &unfwd, NULL);
    size_t got = read_report(report[0], msg, sizeof msg);
    close(report[0]);
    int st;
    if (status_fd >= 0) {
        /* signals for the process go to it, not to its namespace's init */
        child = process_of_init(child);
        forward_signals_to(child, own_session(&ri));
        st = status_from_init(status_fd, o.path);
    } else {
        while (waitpid(child, &st, 0) < 0)
            if (errno != EINTR) {
                fprintf(stderr, "cr_restart: lost the restarted process: %s\n", strerror(errno));
                return 1;
            }
    }
    if (got) {
        crs_image_advise(msg, sizeof msg, CR_RESTART_ADVICE);
        fprintf(stderr, "cr_restart: %s\n", msg);
        return 1;
    }
    return exit_like(st);
}
