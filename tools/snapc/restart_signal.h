/*
 * restart-mpi ended by a signal (^C, a batch system's SIGTERM, a hang-up) while it has things
 * half made: another host's answer in a temporary folder (restart_meta_ask.h), a snapshot
 * directory re-created from the caches (restart_cache.h), a fetch's launchers and remote
 * shells running (restart_fetch.h). The default action of those signals would leave them all:
 * atexit handlers do not run, and the children live in process groups of their own. So
 * SIGINT, SIGTERM and SIGHUP (SIGHUP unless ignored; SIGINT and SIGTERM set to their default
 * action when the caller ignored them) are held blocked from the start; the loops
 * that wait (the ask, the fetch) look for one every 200 ms at most, end what they started and
 * return; restart-mpi then removes what it made (the cleanup given to restart_signals_hold)
 * and the signal takes its default action, so that its caller sees "ended by SIGTERM". The
 * children get the caller's mask back before their exec. The coordinator does not: restart-mpi
 * becomes it (exec) with them still blocked, so that one sent between the last look and its
 * signalfd stays pending for it (revive-coord --restart-of looks before the launch, and gives
 * the launcher the three unblocked).
 */
#ifndef REVIVE_TOOLS_RESTART_SIGNAL_H
#define REVIVE_TOOLS_RESTART_SIGNAL_H

#include <signal.h>

/* Blocks SIGINT, SIGTERM and SIGHUP (above); CLEANUP(signal) is run by
 * restart_signal_check before the signal ends the process. */
void restart_signals_hold(void (*cleanup)(int));

/* After restart_signals_hold: the mask the children get (restart_signals_release) is MASK, not
 * the caller's. The coordinator's fetch child (revive-coord) inherits the coordinator's mask,
 * which blocks every signal the coordinator reads through its signalfd (SIGCHLD too): a
 * launcher started under it would never hear of its own children's end. */
void restart_signals_base(const sigset_t *mask);

/* The held signal that came meanwhile (pending), or 0. */
int restart_signal_pending(void);

/* When one came: the cleanup, then the signal's default action (the process ends). */
void restart_signal_check(void);

/* In a child before its exec, and during the image checks: the mask as it was. */
void restart_signals_release(void);

/* During the checks, when nothing is made yet: the mask as it was, and a held signal ends the
 * process at once after one line on standard error (ME: the program's name). */
void restart_signals_release_saying(const char *me);

/* After restart_signals_release_saying, before holding them again: their default action. */
void restart_signals_default(void);

#endif
