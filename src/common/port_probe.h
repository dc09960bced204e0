/*
 * Is a host up? The pieces every such question shares (diffrev34 R-L16: the variable was read
 * in four places three ways, the connect written twice):
 *   - which port to ask: REVIVE_FETCH_PROBE_PORT, the port of the hosts' remote shell (ssh's 22
 *     by default; 0: hosts are not asked there): restart-mpi's fetch and metadata probes
 *     (tools/snapc/host_probe.c), and the coordinator's question about a host whose rank's
 *     connection was reset (src/snapc/coord_lost.c);
 *   - a non-blocking TCP connect and its outcome, looked at without waiting.
 * What an outcome means stays the caller's: a refusal is a kernel's answer (the host is up) to
 * the coordinator, and "down" to restart-mpi when its launch goes through that remote shell.
 */
#ifndef REVIVE_COMMON_PORT_PROBE_H
#define REVIVE_COMMON_PORT_PROBE_H

#include <sys/socket.h>

/* REVIVE_FETCH_PROBE_PORT: unset or empty 22, else the decimal number 0..65535 it holds. A value
 * that is none (a word, a sign, above 65535) is said once on standard error and taken as 0 (no
 * probe): a wrong port would make every host look down. */
int revive_probe_port(void);

/* Starts a non-blocking connect to ADDR (LEN bytes): the socket (close-on-exec) while it is under
 * way, else -1 with *RES its outcome (0 connected, or an errno). */
int revive_connect_start(const struct sockaddr *addr, socklen_t len, int *res);

/* The outcome of the connect under way on FD, without waiting: 0 connected, an errno (its
 * SO_ERROR), or -1 when it is still under way. FD stays open. */
int revive_connect_outcome(int fd);

#endif
