/* libcr's up-front seccomp check (seccomp_precheck.h): the capture's system
 * calls judged against the program's own filters before anything is parked. */
#define _GNU_SOURCE
#include "crs/libcr/seccomp_precheck.h"
#include "crs/libcr/runtime.h"
#include "crs/base/seccomp_notes.h"
#include "common/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The thread that takes the image (this one: libcr's checkpoint thread, or the library's that
 * called crs_runtime_checkpoint_here) makes the system calls below throughout the capture
 * (src/crs/uspace: checkpoint.c, capture_*.c, park.c, common/procfs.c, base/image_writer.c). A
 * seccomp filter of the program's that it runs under (one installed with SECCOMP_FILTER_FLAG_TSYNC
 * after libcr started) and that forbids one of them failed the capture halfway (a file it could
 * not read named as the cause) or, with a KILL action, ended the process. Refused before anything
 * is parked, naming the filter, the call and what the capture needs it for. The arguments are
 * those the capture passes where a filter may look at them (openat's flags, the signal, the
 * descriptors: the image's, and for the /proc files it opens the lowest free number now, which
 * the first of them gets: an estimate, the program's threads still run; 0 was passed, and a filter
 * that forbids reading fd 0 alone refused every checkpoint, diffrev24 S-L1); its pointers are
 * unknown here and given as 0. `signalfd`: a call the checkpoint thread makes only when an epoll
 * watches a signalfd edge-triggered (the marker, capture_epoll_mark.c, made before the park,
 * diffrev24 X-L1), whose failure only leaves the marker out: refused when the filter would end the
 * process or raise SIGSYS, and the process holds a signalfd and an epoll. 1 with res set. */
struct capture_call {
    long nr;
    const char *name, *what;
    uint64_t args[6];
    int signalfd;
};

/* Whether the filters' action `act` for a call the capture may go without (c->signalfd) is one to
 * refuse the checkpoint for: one that ends the thread or process or raises SIGSYS, in a process
 * that holds a signalfd and an epoll (read last, once the calls that reading /proc/self/fd makes
 * are known to be allowed; whether the epoll watches that signalfd edge-triggered is left to the
 * marker's own scan). */
static int fatal_for_marker(uint32_t act)
{
    uint32_t full = act & SECCOMP_RET_ACTION_FULL;
    if (full == SECCOMP_RET_ERRNO)
        return 0;
    pid_t self = getpid();
    return revive_proc_holds(self, "anon_inode:[signalfd]", NULL) == 1 &&
           revive_proc_holds(self, "anon_inode:[eventpoll]", NULL) == 1;
}

#ifdef SYS_fcntl64   /* glibc's fcntl() where the arch has the 64-bit call */
#define CAPTURE_SYS_FCNTL SYS_fcntl64
#else
#define CAPTURE_SYS_FCNTL SYS_fcntl
#endif

/* The lowest descriptor number free now (the one the capture's first /proc file gets), by
 * fcntl(F_GETFD) from 0. Each probe is judged first: a filter that ends the process on fcntl of
 * one descriptor must not end it here (diffrev25 T-L5); the probe stops at the first descriptor
 * the filters forbid it, which the per-descriptor check below names if it is open. */
static uint64_t lowest_free_fd(void)
{
    uint32_t act;
    int fd = 0;
    for (; fd < 65536; fd++) {
        const uint64_t args[6] = { (uint64_t)fd, F_GETFD, 0, 0, 0, 0 };
        if (crs_seccomp_mine_forbids(CAPTURE_SYS_FCNTL, args, &act) || fcntl(fd, F_GETFD) < 0)
            break;
    }
    return (uint64_t)fd;
}

/* Sets res to the refusal: filter k's action act on the call `name`, which the capture makes
 * for `what`. */
static void refuse(struct crs_ckpt_result *res, int k, uint32_t act, const char *name, const char *what)
{
    uint32_t full = act & SECCOMP_RET_ACTION_FULL;
    char does[96];
    if (full == SECCOMP_RET_ERRNO)
        snprintf(does, sizeof does, "makes %s fail (%s)", name, strerror((int)(act & SECCOMP_RET_DATA)));
    else   /* the kernel ends the process for an action it does not know */
        snprintf(does, sizeof does, "%s on %s",
                 full == SECCOMP_RET_TRAP          ? "raises SIGSYS"
                 : full == SECCOMP_RET_KILL_THREAD ? "ends the thread"
                                                   : "ends the process",
                 name);
    memset(res, 0, sizeof *res);
    res->status = -EPERM;
    snprintf(res->err, sizeof res->err,
             "process %d cannot be checkpointed: seccomp filter %d of those it installed %s in every "
             "thread it applies to, the thread that takes the image too (libcr's, which %s with it): "
             "install that filter without SECCOMP_FILTER_FLAG_TSYNC only in the threads that must not "
             "call %s, or let it allow %s",
             (int)getpid(), k, does, what, name, name);
}

/* The fcntl commands the capture reads each descriptor with (capture_fds.c: flags, memfd seals,
 * pipe sizes; capture_fdowners.c: owner and signal), asked for every descriptor the process holds
 * (a filter may judge the descriptor or the command). A failing one was recorded as nothing set
 * (an owner lost) or failed the capture; a KILL ended the process mid-capture. Listed from
 * /proc/self/fd (revive_proc_for_each_number: the openat and getdents64 judged allowed before);
 * fcntl_forbidden_fd sets res (its arg) and returns 1 for the first forbidden one. */
static long fcntl_forbidden_fd(long fd, int dirfd, void *arg)
{
    static const struct {
        int cmd;
        const char *kind, *what;   /* kind: the link's start where only such descriptors are read so */
    } cmds[] = {
        { F_GETFD, NULL, "reads each descriptor's close-on-exec flag (fcntl F_GETFD)" },
        { F_GETFL, NULL, "reads each descriptor's status flags (fcntl F_GETFL)" },
        { F_GETOWN_EX, NULL, "reads each descriptor's owner (fcntl F_GETOWN_EX)" },
        { F_GETSIG, NULL, "reads each descriptor's signal (fcntl F_GETSIG)" },
        { F_GET_SEALS, "/memfd:", "reads a memfd's seals (fcntl F_GET_SEALS)" },
        { F_GETPIPE_SZ, "pipe:", "reads a pipe's size (fcntl F_GETPIPE_SZ)" },
    };
    if (fd == dirfd)
        return 0;
    char path[64], link[64] = "";
    snprintf(path, sizeof path, "/proc/self/fd/%ld", fd);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n > 0)
        link[n] = 0;
    for (size_t c = 0; c < sizeof cmds / sizeof cmds[0]; c++) {
        if (cmds[c].kind && strncmp(link, cmds[c].kind, strlen(cmds[c].kind)))
            continue;
        const uint64_t args[6] = { (uint64_t)fd, (uint64_t)cmds[c].cmd, 0, 0, 0, 0 };
        uint32_t act;
        int k = crs_seccomp_mine_forbids(CAPTURE_SYS_FCNTL, args, &act);
        if (k) {
            refuse(arg, k, act, "fcntl", cmds[c].what);
            return 1;
        }
    }
    return 0;
}

static int fcntl_forbidden(struct crs_ckpt_result *res)
{
    /* a listing that cannot be read is left to the capture, which says why */
    return revive_proc_for_each_number("/proc/self/fd", fcntl_forbidden_fd, res) > 0;
}

int crs_seccomp_forbids_capture(struct crs_ckpt_result *res, int image_fd)

{
    const uint64_t fdcwd = (uint32_t)AT_FDCWD;
    const uint64_t pid = (uint64_t)getpid(), psig = (uint64_t)crs_runtime_park_signal();
    const uint64_t procfd = lowest_free_fd(), imgfd = (uint64_t)(image_fd >= 0 ? image_fd : 1000);
    const struct capture_call calls[] = {
        { SYS_openat, "openat", "opens /proc's files", { fdcwd, 0, O_RDONLY | O_CLOEXEC, 0, 0, 0 }, 0 },
        { SYS_openat, "openat", "opens /proc's directories", { fdcwd, 0, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, 0, 0 }, 0 },
        { SYS_read, "read", "reads /proc's files", { procfd, 0, 0, 0, 0, 0 }, 0 },
        { SYS_getdents64, "getdents64", "lists /proc/self/task and /proc/self/fd", { procfd, 0, 0, 0, 0, 0 }, 0 },
#ifdef SYS_readlink   /* glibc's readlink() calls readlink where the arch has it */
        { SYS_readlink, "readlink", "reads /proc/self/fd's and /proc/self/exe's links", { 0 }, 0 },
#else
        { SYS_readlinkat, "readlinkat", "reads /proc/self/fd's and /proc/self/exe's links", { fdcwd, 0, 0, 0, 0, 0 }, 0 },
#endif
        { SYS_close, "close", "closes what it opened", { procfd, 0, 0, 0, 0, 0 }, 0 },
        { SYS_pread64, "pread64", "reads memory through /proc/self/mem and /proc/self/pagemap", { procfd, 0, 0, 0, 0, 0 }, 0 },
        { SYS_rt_sigaction, "rt_sigaction", "reads the program's signal actions", { 1, 0, 0, 8, 0, 0 }, 0 },
        { SYS_prlimit64, "prlimit64", "reads the resource limits", { 0, 0, 0, 0, 0, 0 }, 0 },
        { SYS_getitimer, "getitimer", "reads the interval timers", { 0 }, 0 },
        { SYS_rt_sigprocmask, "rt_sigprocmask", "keeps its signal mask", { SIG_BLOCK, 0, 0, 8, 0, 0 }, 0 },
        { SYS_tgkill, "tgkill", "parks the other threads with a signal", { pid, 0, psig, 0, 0, 0 }, 0 },
        { SYS_rt_sigtimedwait, "rt_sigtimedwait", "takes the queued signals off their queue to record them",
          { 0, 0, 0, 8, 0, 0 }, 0 },
        { SYS_lseek, "lseek", "finds where the image starts in its file", { imgfd, 0, SEEK_CUR, 0, 0, 0 }, 0 },
        { SYS_pwrite64, "pwrite64", "writes the image", { imgfd, 0, 0, 0, 0, 0 }, 0 },
        { SYS_signalfd4, "signalfd4", "makes a marker for the epolls' edge-triggered signalfd watches",
          { (uint64_t)-1, 0, 8, SFD_NONBLOCK | SFD_CLOEXEC, 0, 0 }, 1 },
        { SYS_epoll_ctl, "epoll_ctl", "adds that marker to the epolls", { 0, EPOLL_CTL_ADD, 0, 0, 0, 0 }, 1 },
    };
    uint32_t act = 0;
    int k = 0;
    size_t c = 0;
    for (; c < sizeof calls / sizeof calls[0] && !k; c++)
        if ((k = crs_seccomp_mine_forbids(calls[c].nr, calls[c].args, &act)) && calls[c].signalfd &&
            !fatal_for_marker(act))
            k = 0;
    if (!k)
        return crs_seccomp_thread_mine().n > 0 && fcntl_forbidden(res);
    refuse(res, k, act, calls[c - 1].name, calls[c - 1].what);
    return 1;
}

