/*
 * restart-mpi ended by a signal (^C, a batch system's SIGTERM, a hang-up) while it has things
 * half made: another host's answer in a temporary folder (restart_meta_ask.h), a snapshot
 * directory re-created from the caches (restart_cache.h), a fetch's launchers and remote
 * shells running (restart_fetch.h). The default action of those signals would leave them all:
 * atexit handlers do not run, and the children live in process groups of their own. So
 * SIGINT, SIGTERM and SIGHUP (those not ignored) are held blocked from the start; the loops
 * that wait (the ask, the fetch) look for one every 200 ms at most, end what they started and
 * return; restart-mpi then removes what it made (the cleanup given to restart_signals_hold)
 * and the signal takes its default action, so that its caller sees "ended by SIGTERM". The
 * children get the caller's mask back before their exec, the coordinator too.
 */
#ifndef REVIVE_TOOLS_RESTART_SIGNAL_H
#define REVIVE_TOOLS_RESTART_SIGNAL_H

/* Blocks SIGINT, SIGTERM and SIGHUP (each that is not ignored); CLEANUP(signal) is run by
 * restart_signal_check before the signal ends the process. */
void restart_signals_hold(void (*cleanup)(int));

/* The held signal that came meanwhile (pending), or 0. */
int restart_signal_pending(void);

/* When one came: the cleanup, then the signal's default action (the process ends). */
void restart_signal_check(void);

/* In a child before its exec, and before restart-mpi's own exec: the mask as it was. */
void restart_signals_release(void);

#endif
