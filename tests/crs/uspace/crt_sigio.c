/*
 * State test: signal-driven I/O (review HIGH-7 of issue 10). Before this
 * test's fix O_ASYNC, the owner (F_SETOWN, F_SETOWN_EX) and the signal
 * (F_SETSIG) of a descriptor were lost at restart: a program that waited
 * for SIGIO on input never got it again.
 *   p     a pipe: the read end O_ASYNC|O_NONBLOCK, owner the process
 *         (F_SETOWN getpid()), signal SIGUSR1 (F_SETSIG: si_fd tells which)
 *   s     a socketpair: s[0] O_ASYNC, owner a worker thread (F_SETOWN_EX
 *         F_OWNER_TID), signal SIGUSR2
 *   g     a pipe: the read end O_ASYNC, owner the process group (the
 *         program leads its own: F_SETOWN -pgrp), default SIGIO
 *   a     a file opened without O_APPEND, then F_SETFL O_APPEND|O_NOATIME
 * After each point the flags are read back, one byte is written to each
 * (a write through `a` lands at the end), and each signal must arrive,
 * naming its descriptor, at the thread that owns it (within 10 s).
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int p[2], s[2], g[2], a;
static atomic_int got_usr1, got_usr2, got_io, usr1_fd = -1, usr2_fd = -1, usr2_tid, io_code;
static atomic_int worker_tid, stop;

static void must(int ok, const char *what)
{
    if (!ok)
        crt_die("%s: %s", what, strerror(errno));
}

static void on_sig(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (sig == SIGUSR1) {
        usr1_fd = si->si_fd;
        got_usr1++;
    } else if (sig == SIGUSR2) {
        usr2_fd = si->si_fd;
        usr2_tid = (int)syscall(SYS_gettid);
        got_usr2++;
    } else {
        io_code = si->si_code;
        got_io++;
    }
}

/* The thread that owns s[0]'s signal: says its id as the kernel knows it
 * (a restart may give it a new one) until the end. */
static void *worker(void *arg)
{
    (void)arg;
    while (!stop) {
        worker_tid = (int)syscall(SYS_gettid);
        crt_sleep_ms(5);
    }
    return NULL;
}

static int wait_for(atomic_int *counter, int before)
{
    for (int i = 0; i < 2000 && *counter == before; i++)
        crt_sleep_ms(5);
    return *counter != before;
}

static void drain(int fd)
{
    char b[64];
    while (read(fd, b, sizeof b) > 0)
        ;
}

static void check(const char *when)
{
    char name[128];
    crt_sleep_ms(50);   /* the worker says its id (a new one after a restart) every 5 ms */
    snprintf(name, sizeof name, "pipe read end keeps O_ASYNC|O_NONBLOCK %s", when);
    crt_check(name, (fcntl(p[0], F_GETFL) & (O_ASYNC | O_NONBLOCK)) == (O_ASYNC | O_NONBLOCK), "flags 0%o",
              fcntl(p[0], F_GETFL));
    snprintf(name, sizeof name, "pipe read end's owner is the process, its signal SIGUSR1 %s", when);
    crt_check(name, fcntl(p[0], F_GETOWN) == getpid() && fcntl(p[0], F_GETSIG) == SIGUSR1, "owner %d (pid %d), signal %d",
              fcntl(p[0], F_GETOWN), (int)getpid(), fcntl(p[0], F_GETSIG));
    struct f_owner_ex ow = { 0, 0 };
    fcntl(s[0], F_GETOWN_EX, &ow);
    snprintf(name, sizeof name, "socket's owner is the worker thread %s", when);
    crt_check(name, ow.type == F_OWNER_TID && ow.pid == worker_tid && (fcntl(s[0], F_GETFL) & O_ASYNC),
              "type %d id %d (worker %d), flags 0%o", ow.type, ow.pid, (int)worker_tid, fcntl(s[0], F_GETFL));
    snprintf(name, sizeof name, "second pipe's owner is the process group %s", when);
    crt_check(name, fcntl(g[0], F_GETOWN) == -getpgrp() && (fcntl(g[0], F_GETFL) & O_ASYNC), "owner %d (group %d)",
              fcntl(g[0], F_GETOWN), (int)getpgrp());
    snprintf(name, sizeof name, "file keeps O_APPEND|O_NOATIME %s", when);
    crt_check(name, (fcntl(a, F_GETFL) & (O_APPEND | O_NOATIME)) == (O_APPEND | O_NOATIME), "flags 0%o",
              fcntl(a, F_GETFL));

    int b1 = got_usr1, b2 = got_usr2, b3 = got_io;
    must(write(p[1], "x", 1) == 1, "write p");
    snprintf(name, sizeof name, "a byte in the pipe raises SIGUSR1 naming its read end %s", when);
    crt_check(name, wait_for(&got_usr1, b1) && usr1_fd == p[0], "%s (si_fd %d)",
              got_usr1 == b1 ? "no signal in 10 s" : "a signal", (int)usr1_fd);
    must(write(s[1], "y", 1) == 1, "write s");
    snprintf(name, sizeof name, "a byte on the socket raises SIGUSR2 in the worker thread %s", when);
    crt_check(name, wait_for(&got_usr2, b2) && usr2_fd == s[0] && usr2_tid == worker_tid,
              "%s (si_fd %d, in thread %d, worker %d)", got_usr2 == b2 ? "no signal in 10 s" : "a signal",
              (int)usr2_fd, (int)usr2_tid, (int)worker_tid);
    must(write(g[1], "z", 1) == 1, "write g");
    snprintf(name, sizeof name, "a byte in the second pipe raises SIGIO %s", when);
    crt_check(name, wait_for(&got_io, b3), "no signal in 10 s");
    drain(p[0]);
    char c;
    must(read(s[0], &c, 1) == 1 && read(g[0], &c, 1) == 1, "read");
    off_t end = lseek(a, 0, SEEK_END);
    lseek(a, 0, SEEK_SET);
    must(write(a, "w", 1) == 1, "write a");
    snprintf(name, sizeof name, "a write lands at the file's end %s", when);
    CRT_CHECK_U64(name, lseek(a, 0, SEEK_CUR), end + 1);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sig;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    sigaction(SIGIO, &sa, NULL);
    setpgid(0, 0);   /* a group of its own: SIGIO to the group reaches no one else */

    pthread_t th;
    must(pthread_create(&th, NULL, worker, NULL) == 0, "pthread_create");
    while (!worker_tid)
        crt_sleep_ms(1);

    must(pipe(p) == 0 && pipe(g) == 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0, "pipe");
    must(fcntl(p[0], F_SETOWN, getpid()) == 0 && fcntl(p[0], F_SETSIG, SIGUSR1) == 0 &&
         fcntl(p[0], F_SETFL, O_ASYNC | O_NONBLOCK) == 0, "pipe O_ASYNC");
    struct f_owner_ex ow = { F_OWNER_TID, worker_tid };
    must(fcntl(s[0], F_SETOWN_EX, &ow) == 0 && fcntl(s[0], F_SETSIG, SIGUSR2) == 0 &&
         fcntl(s[0], F_SETFL, O_ASYNC) == 0, "socket O_ASYNC");
    must(fcntl(g[0], F_SETOWN, -getpgrp()) == 0 && fcntl(g[0], F_SETFL, O_ASYNC) == 0, "group O_ASYNC");
    a = open("sigio.append", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    must(a >= 0 && write(a, "start", 5) == 5, "sigio.append");
    must(fcntl(a, F_SETFL, O_APPEND | O_NOATIME) == 0, "O_APPEND");
    crt_say("signal-driven I/O set on a pipe, a socket and a second pipe; O_APPEND on a file");
    crt_check_around_points(check);
}
