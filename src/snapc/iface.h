/* Which of this host's addresses processes on other hosts reach it at (coord_iface.c): the
 * coordinator's for its ranks, restart-mpi's for the hosts it fetches cached images from. */
#ifndef REVIVE_SNAPC_IFACE_H
#define REVIVE_SNAPC_IFACE_H

#include <stddef.h>

/* $REVIVE_COORD_ADDR, else an IPv4 address of this host on the network the user named to the
 * launcher among ARGS[0..END) (Open MPI's --mca oob_tcp_if_include, MPICH's -iface; their
 * variables for FLAVOR "ompi"/"mpich"), else the first non-loopback IPv4 address, else
 * 127.0.0.1, into OUT. WHO ("the ranks reach the coordinator") is said with the choice. */
void snapc_reach_addr(char *const *args, int end, const char *flavor, const char *who,
                      char *out, size_t len);

#endif
