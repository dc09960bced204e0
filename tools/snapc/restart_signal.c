/* restart-mpi's end by a signal, after it removed what it made (restart_signal.h). */
#define _GNU_SOURCE
#include "restart_signal.h"

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const int held_sigs[] = {SIGINT, SIGTERM, SIGHUP};
static sigset_t held, before;
static int holding;
static void (*on_end)(int);

void restart_signals_hold(void (*cleanup)(int))
{
    sigemptyset(&held);
    for (size_t i = 0; i < sizeof held_sigs / sizeof held_sigs[0]; i++) {
        struct sigaction sa;
        if (sigaction(held_sigs[i], NULL, &sa) != 0)
            continue;
        /* An ignored SIGHUP stays so (nohup). SIGINT and SIGTERM end a restart whatever the
         * caller left them at, as they end mpirun's and mpiexec's jobs, and as the coordinator
         * this process becomes ends the job on them (it reads them blocked, ignored or not):
         * a background job of a script starts with SIGINT ignored, and a ^C in the first
         * 0.3 s, before the coordinator, was lost (the job ran to its end, status 0:
         * newuser7 M4). Their default action is back for the release during the image checks
         * and for the children. */
        if (sa.sa_handler == SIG_IGN && held_sigs[i] == SIGHUP)
            continue;
        if (sa.sa_handler == SIG_IGN)
            signal(held_sigs[i], SIG_DFL);
        sigaddset(&held, held_sigs[i]);
    }
    on_end = cleanup;
    holding = sigprocmask(SIG_BLOCK, &held, &before) == 0;
}

void restart_signals_base(const sigset_t *mask)
{
    before = *mask;
}

int restart_signal_pending(void)
{
    sigset_t p;
    if (!holding || sigpending(&p) != 0)
        return 0;
    for (size_t i = 0; i < sizeof held_sigs / sizeof held_sigs[0]; i++)
        if (sigismember(&held, held_sigs[i]) && sigismember(&p, held_sigs[i]))
            return held_sigs[i];
    return 0;
}

void restart_signal_check(void)
{
    int s = restart_signal_pending();
    if (!s)
        return;
    if (on_end)
        on_end(s);
    signal(s, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, s);
    sigprocmask(SIG_UNBLOCK, &one, NULL); /* delivered now: the default action ends us */
    _exit(128 + s);
}

void restart_signals_release(void)
{
    if (holding)
        sigprocmask(SIG_SETMASK, &before, NULL);
}

static char said[2][256]; /* the line for SIGINT, for the others */

static void said_and_end(int s)
{
    const char *m = said[s == SIGINT ? 0 : 1];
    ssize_t w = write(2, m, strlen(m));
    (void)w;
    signal(s, SIG_DFL);
    raise(s); /* unblocked (SA_NODEFER): the default action ends the process now */
}

void restart_signals_release_saying(const char *me)
{
    snprintf(said[0], sizeof said[0], "%s: the restart was interrupted by SIGINT before the "
             "launch: nothing was started, the snapshot is not marked as failed\n", me);
    snprintf(said[1], sizeof said[1], "%s: the restart was interrupted by a signal before the "
             "launch: nothing was started, the snapshot is not marked as failed\n", me);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = said_and_end;
    sa.sa_flags = SA_NODEFER;
    for (size_t i = 0; i < sizeof held_sigs / sizeof held_sigs[0]; i++)
        if (sigismember(&held, held_sigs[i]))
            sigaction(held_sigs[i], &sa, NULL);
    restart_signals_release();
}

void restart_signals_default(void)
{
    for (size_t i = 0; i < sizeof held_sigs / sizeof held_sigs[0]; i++)
        if (sigismember(&held, held_sigs[i]))
            signal(held_sigs[i], SIG_DFL);
}
