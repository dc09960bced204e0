/* A program that wants the park signal (default 62, SIGRTMAX-2) for itself (newuser7b F2): it
 * installs a handler by sigaction, signal() and sigset(), ignores it, blocks every signal, then
 * sigqueue()s the signal to itself 5 times and prints one line per step. park_signal_app.sh
 * compares the lines with and without REVIVE_SIGNAL moving Revive's signal away. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t calls, sum;

static void on_info(int s, siginfo_t *i, void *c)
{
    (void)s, (void)c;
    calls++;
    sum += i->si_value.sival_int;
}

static void on_plain(int s)
{
    (void)s;
}

static const char *err_name(int rc_failed)
{
    return !rc_failed ? "ok" : errno == EINVAL ? "EINVAL" : strerror(errno);
}

int main(int argc, char **argv)
{
    int sig = argc > 1 ? atoi(argv[1]) : SIGRTMAX - 2;
    struct sigaction sa, cur;
    memset(&sa, 0, sizeof sa);

    sa.sa_handler = SIG_IGN;
    errno = 0;
    printf("sigaction SIG_IGN: %s\n", err_name(sigaction(sig, &sa, NULL) != 0));
    errno = 0;
    printf("signal: %s\n", err_name(signal(sig, on_plain) == SIG_ERR));
    errno = 0;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    printf("sigset: %s\n", err_name(sigset(sig, on_plain) == SIG_ERR));
#pragma GCC diagnostic pop
    sa.sa_sigaction = on_info;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    errno = 0;
    printf("sigaction handler: %s\n", err_name(sigaction(sig, &sa, NULL) != 0));

    /* whoever holds the signal now: the program (natively) or not (Revive's kept) */
    sigaction(sig, NULL, &cur);
    printf("holder: %s\n", cur.sa_sigaction == on_info ? "program" : "not the program");

    sigset_t all, now;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    pthread_sigmask(SIG_SETMASK, NULL, &now);
    printf("blocked by sigfillset: %s\n", sigismember(&now, sig) ? "yes" : "no");
    sigemptyset(&all);
    pthread_sigmask(SIG_SETMASK, &all, NULL);

    for (int s = 1; s <= 5; s++) {
        union sigval v = { .sival_int = s };
        sigqueue(getpid(), sig, v);
    }
    printf("handler calls %d sum %d\n", (int)calls, (int)sum);
    return 0;
}
