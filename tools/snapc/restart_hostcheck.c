/* Are the restarted job's hosts up? Asked before the launch (restart_mpi.h). */
#define _GNU_SOURCE
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_probe.h"
#include "probe_route.h"
#include "restart_mpi.h"
#include "snapc/hosts.h"

#define CHECK_HOSTS_MAX 256

int restart_check_hosts(char *const *run, int n, const int *rprogs, int nrprogs,
                        const char *flavor, char *err, size_t errlen)
{
    int nopts = nrprogs > 0 ? rprogs[0] : n;
    /* under a resource manager's own launcher (srun, PBS's, LSF's) the manager knows its nodes
     * and a closed port 22 says nothing */
    if (!host_probe_over_rsh(run, nopts, flavor))
        return 0;
    /* each host is asked where its remote shell goes (probe_route.h); a remote shell whose
     * way nobody can tell from here is not asked */
    char agent[1024];
    probe_launch_agent(run, nopts, flavor, agent, sizeof agent);
    if (!probe_route_known(agent))
        return 0;
    /* Open MPI 4.1 starts a daemon on every host it is given (and fails without one), Hydra
     * only on those it places ranks on */
    static char list[16384];
    long np = 0;
    if (!strcmp(flavor, "mpich"))
        snapc_hosts_placed_progs(run, n, rprogs, nrprogs, list, sizeof list);
    else
        snapc_hosts_list_progs(run, n, rprogs, nrprogs, list, sizeof list, &np);
    const char *clim = getenv("REVIVE_FETCH_CONNECT_TIMEOUT");
    int limit_ms = (clim && atoi(clim) > 0 ? atoi(clim) : 10) * 1000;
    static struct host_probe probe[CHECK_HOSTS_MAX];
    static char name[CHECK_HOSTS_MAX][256];
    static const char *names[CHECK_HOSTS_MAX];
    int nn = 0;
    for (const char *s = list; *s && nn < CHECK_HOSTS_MAX;) {
        size_t l = strcspn(s, ",");
        if (l > 0 && l < sizeof name[0]) {
            snprintf(name[nn], sizeof name[nn], "%.*s", (int)l, s);
            /* this machine (also by one of its addresses): the launcher starts ranks here
             * without its remote shell, and a workstation may run no sshd */
            if (!host_probe_this_machine(name[nn])) {
                names[nn] = name[nn];
                nn++;
            }
        }
        s += l + (s[l] == ',');
    }
    /* where the remote shell goes for each, asked of ssh for all of them at once */
    probe_route_resolve(agent, names, nn);
    static int of[CHECK_HOSTS_MAX]; /* probe[k]'s host: names[of[k]] */
    int nh = 0;
    for (int k = 0; k < nn; k++) {
        char dest[256];
        int p = probe_route(agent, names[k], dest, sizeof dest);
        if (p > 0) {
            host_probe_start(&probe[nh], dest, p, 1);
            of[nh++] = k;
        }
    }
    /* every host asked at once: a live host answers within milliseconds */
    for (;;) {
        int waiting = 0;
        for (int k = 0; k < nh; k++) {
            host_probe_step(&probe[k], limit_ms);
            waiting += probe[k].state == PROBE_WAIT;
        }
        if (!waiting)
            break;
        poll(NULL, 0, 10);
    }
    int down = 0, first = -1;
    for (int k = 0; k < nh; k++)
        if (probe[k].state == PROBE_DOWN && down++ == 0)
            first = k;
    if (!down)
        return 0;
    snprintf(err, errlen, "host %s, which the restarted job would run on, is %s%s",
             names[of[first]], probe[first].why, down > 1 ? " (and other hosts of the launch are down too)" : "");
    return -1;
}
