/* A bound on a step of a restarted rank that must end by itself (load_watch.c). */
#ifndef PML_HOOKS_LOAD_WATCH_H
#define PML_HOOKS_LOAD_WATCH_H

/* Starts watching: unless pml_watch_end comes within `seconds`, the rank stops with one message
 * ("... WHAT did not end within N s ...", status 1). `what` must outlive the watch. 0, or -errno
 * when the watcher cannot be started (the step then runs unwatched). One watch at a time. */
int pml_watch_begin(int seconds, const char *what);
/* The step ended: the watcher is stopped and joined. */
void pml_watch_end(void);

#endif
