/*
 * The outgoing multicast interface an IPv4 socket was given by index
 * (IP_MULTICAST_IF with a struct ip_mreqn whose imr_ifindex is set), as
 * libcr's interposed setsockopt sees it (libcr/interpose.c), for the capture
 * (uspace/capture_mcast.c; image_format.h: MCAST, CRS_MCAST_OUTIF). The
 * kernel keeps that index but getsockopt(IP_MULTICAST_IF) gives back only
 * the address (issue 10): without the note the restarted socket sent its
 * multicast through the routing table's interface. Noted by the socket's
 * inode; the descriptor the program set it through is kept too, so that
 * the restarted process (its sockets made again at the same numbers, under
 * new inodes) finds them again (crs_mcast_if_restarted).
 *
 * Not seen: a setsockopt made by the raw system call, or before libcr was
 * loaded (a program exec'd with the socket: the notes do not cross an
 * execve); such a socket is captured as before (the address alone).
 *
 * Any thread; writers hold a park lock for a few instructions inside a
 * park-deferral section (capture_filter.h), so the capture never sees a
 * half-written note.
 */
#ifndef REVIVE_CRS_MCAST_IF_NOTES_H
#define REVIVE_CRS_MCAST_IF_NOTES_H

#include <stdint.h>

#define CRS_MCAST_IF_NOTES_MAX 64   /* sockets at once; past it the oldest note is dropped */

/* setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, ...) succeeded: ifindex the
 * index it set (0: by address alone, which getsockopt gives back: the note
 * is dropped), addr the address given with it (network order). */
void crs_mcast_if_note(int fd, int ifindex, uint32_t addr);

/* The note of the socket with inode ino: 1 with *ifindex and *addr, 0 when
 * none. Capture (other threads parked), for a socket the image restores
 * only; also moves the note's descriptor to fd (the one the capture found
 * the socket at) and marks the note as in the image, for
 * crs_mcast_if_restarted. */
int crs_mcast_if_find(uint64_t ino, int fd, int *ifindex, uint32_t *addr);

/* Capture, before the memory is written: drops every note whose socket no
 * descriptor holds now (neither one the capture found, keep(ino) returning
 * 0, nor the note's own), so that a restart never gives one to another
 * socket at its old number; a socket the image leaves out (--ignore-fds)
 * keeps its note for the process that runs on. Clears every note's
 * in-image mark first (crs_mcast_if_find sets it). */
void crs_mcast_if_prune(int (*keep)(uint64_t ino, void *arg), void *arg);

/* In the restarted process before its other threads run: each note the
 * last capture marked as in the image has its socket at its descriptor
 * again under a new inode (the restore set its interface by name); those
 * notes follow, the others are dropped (a socket the image left out:
 * whatever socket holds that number now never had that interface,
 * diffrev26 K-L4), as are those whose number holds no socket. */
void crs_mcast_if_restarted(void);

/* A forked child: nobody holds the lock but maybe the parent's copy. */
void crs_mcast_if_forked(void);

#endif
