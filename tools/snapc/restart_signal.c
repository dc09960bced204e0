/* restart-mpi's end by a signal, after it removed what it made (restart_signal.h). */
#define _GNU_SOURCE
#include "restart_signal.h"

#include <signal.h>
#include <stddef.h>
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
        /* an ignored one stays so (nohup, a background job of a non-interactive shell) */
        if (sigaction(held_sigs[i], NULL, &sa) == 0 && sa.sa_handler != SIG_IGN)
            sigaddset(&held, held_sigs[i]);
    }
    on_end = cleanup;
    holding = sigprocmask(SIG_BLOCK, &held, &before) == 0;
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
