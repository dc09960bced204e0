/*
 * Where restart-mpi (and the coordinator's fetch) asks whether a host is up before a remote
 * shell goes there (host_probe.h asks; this says which port of which address). The port is the
 * remote shell's own: REVIVE_FETCH_PROBE_PORT when given (0: no host is asked); for an ssh, the
 * port and address "ssh -G" resolves for the host with the agent's own words (the user's and
 * the system's ssh configuration: Port, HostName; the agent's -p, -o, -F); a host reached
 * through a ProxyJump or a ProxyCommand, or any other remote shell (rsh, a site's agent, a
 * container runtime's exec), is not asked: nobody can tell its way from here, and a refusal of
 * a setup that works is worse than the launcher's own wait (diffrev48 R-M1, R-M1b, R-M2).
 */
#ifndef REVIVE_TOOLS_PROBE_ROUTE_H
#define REVIVE_TOOLS_PROBE_ROUTE_H

#include <stddef.h>

/* The remote shell (its program and words, into AGENT of LEN bytes) that the launch RUN (N
 * words before its first program; flavour "ompi" or "mpich") reaches other hosts with, as the
 * launcher finds it: Open MPI's plm_rsh_agent (its synonyms pls_rsh_agent, orte_rsh_agent;
 * --mca/--gmca, OMPI_MCA_*, the user's and the system's parameter files; "A : B" the first
 * found; default "ssh : rsh") followed by plm_rsh_args; MPICH's -launcher-exec
 * (HYDRA_LAUNCHER_EXEC) or -launcher (default ssh). */
void probe_launch_agent(char *const *run, int n, const char *flavor, char *agent, size_t len);

/* 1 when hosts reached through AGENT can be asked at all (REVIVE_FETCH_PROBE_PORT > 0, or an
 * ssh), else 0. */
int probe_route_known(const char *agent);

/* For an ssh AGENT, "ssh -G" asked for each of HOSTS[0..n) not asked yet (NULL entries and
 * repeats passed over), 32 at a time, 5 s each at most; a line on stderr when it takes longer
 * than 2 s. The answers are kept for probe_route (with the same AGENT). */
void probe_route_resolve(const char *agent, const char *const *hosts, int n);

/* The port to ask for HOST reached through AGENT, its address (or name) in DEST (DLEN bytes);
 * 0 when HOST is not to be asked (then DEST is HOST). Asks "ssh -G" (5 s at most) for an ssh,
 * unless probe_route_resolve did. */
int probe_route(const char *agent, const char *host, char *dest, size_t dlen);

#endif
