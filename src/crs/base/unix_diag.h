/* The kernel's sock_diag request for Unix sockets (NETLINK_SOCK_DIAG, no
 * privilege needed): what a Unix socket is connected to, its name, queues
 * and pending connections, by inode. Capture's socket records
 * (uspace/capture_sockets.c) and cr_checkpoint --tree's check of sockets
 * between members (tree_ckpt_sockets.c) ask it. */
#ifndef REVIVE_CRS_BASE_UNIX_DIAG_H
#define REVIVE_CRS_BASE_UNIX_DIAG_H

#include <stdint.h>

/* Sends the request on a new netlink socket: for the one Unix socket with
 * inode ino, or, with ino 0, for every Unix socket of the network namespace
 * (a dump, its answers ended by NLMSG_DONE). show is the UDIAG_SHOW_* bits
 * of what each answer carries. Returns the netlink socket to read the
 * answers from (the caller closes it), or -errno. No allocation: usable
 * while the process's other threads are parked. */
int crs_unix_diag_request(uint64_t ino, uint32_t show);

#endif
