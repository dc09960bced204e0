/* Part of the lower root (lower_root.c, lower_inner.c): what the libc calls that open a
 * descriptor inside themselves (NSS lookups, getaddrinfo, getifaddrs, sysconf's processor
 * count, glob, the time zone...) share with the root's fork guard sections. Such a descriptor is
 * opened and closed by the lower libc's own code, past every wrapper of the root's: the call as a
 * whole runs inside a section instead, so that no fork of the application's copies it and no
 * checkpoint's park finds it open (src/crs/libcr/fork_guard.h). */
#ifndef PML_HOOKS_LOWER_INNER_H
#define PML_HOOKS_LOWER_INNER_H

/* Enter a fork guard section (the layer's, through the callbacks it handed the root): 1 when
 * entered, 0 before the callbacks came (the layer's dlmopen holds one then: layer.c). */
int revive_lower_fd_enter(void);
/* Leave the section revive_lower_fd_enter entered (sec: its return); errno kept. */
void revive_lower_fd_leave(int sec);

#endif
