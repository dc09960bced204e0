/*
 * Is a host up? restart-mpi asks before it launches a fetch there (restart_fetch.h): a
 * launcher told to start a process on a host that is down does not always say so (MPICH's
 * Hydra waits for its proxy until the fetch's bound), so the host itself is asked first, on the
 * port of its remote shell (probe_route.h: REVIVE_FETCH_PROBE_PORT, 0 = no probe; else an ssh's own),
 * with a non-blocking connect that is closed at once (src/common/port_probe.h, as the
 * coordinator's question about a host):
 *   - accepted: up;
 *   - refused (its kernel answered, nothing listens there): down when the launch goes through
 *     that remote shell (it would be refused too), else up;
 *   - no route, unreachable, unknown name: down at once;
 *   - no answer within the connect timeout (REVIVE_FETCH_CONNECT_TIMEOUT, 10 s; a host that
 *     drops everything, or vanished with its address still in a neighbour's table): down.
 * This machine itself (its name, localhost, a loopback address) is not probed: a launcher
 * starts a process here without its remote shell. The probe is separate from the transfer's bound (REVIVE_FETCH_TIMEOUT): a live host answers
 * within milliseconds whatever the load, while a transfer may take long.
 */
#ifndef REVIVE_TOOLS_HOST_PROBE_H
#define REVIVE_TOOLS_HOST_PROBE_H

#include <stddef.h>
#include <time.h>

#include "common/port_probe.h" /* revive_probe_port: the port to ask */

enum { PROBE_WAIT, PROBE_UP, PROBE_DOWN };

struct host_probe {
    int fd;              /* the connecting socket while PROBE_WAIT, else -1 */
    int state;
    int refused_down, port;
    char addr[64];       /* the host's address, numeric */
    struct timespec t0;
    char why[256];       /* PROBE_DOWN: what the host (or its absence) said */
};

/* Starts probing HOST on PORT (0: PROBE_UP at once). */
void host_probe_start(struct host_probe *p, const char *host, int port, int refused_down);

/* 1 when HOST is this machine by name (its name, short or long, or localhost): not probed, as
 * a launcher does not use the remote shell for it (a workstation may run no sshd). */
int host_probe_this_host(const char *host);

/* 1 when HOST is this machine by name (host_probe_this_host) or by address: HOST (a name or a
 * numeric address) resolves to a loopback address or to an address of one of this machine's
 * interfaces. A name that does not resolve is not this machine (0). */
int host_probe_this_machine(const char *host);

/* Advances a probe in PROBE_WAIT: its socket is writable or TIMEOUT_MS passed since its start. */
void host_probe_step(struct host_probe *p, int timeout_ms);

/* Whether the launch of the job's launcher ARGS (N, flavour "ompi"/"mpich") reaches other
 * hosts through a remote shell (ssh, rsh, or an agent named in place of ssh), so that a host
 * refusing the probe refuses the launch too; not under a resource manager's own launcher. */
int host_probe_over_rsh(char *const *args, int n, const char *flavor);

#endif
