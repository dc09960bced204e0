/* Is a host up? (host_probe.h) */
#define _GNU_SOURCE
#include "host_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static long ms_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The verdict on a connect's outcome E (0 or an errno). */
static void verdict(struct host_probe *p, int e)
{
    const char *addr = p->addr;
    int port = p->port;
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
    if (e == 0 || (e == ECONNREFUSED && !p->refused_down)) {
        p->state = PROBE_UP;
        return;
    }
    p->state = PROBE_DOWN;
    if (e == ECONNREFUSED)
        snprintf(p->why, sizeof p->why, "down: %s refuses connections on port %d (its remote "
                 "shell's)", addr, port);
    else
        snprintf(p->why, sizeof p->why, "down: %s port %d: %s", addr, port, strerror(e));
}

/* 1 when HOST is this machine (its name, short or long, or localhost): no probe, as a
 * launcher does not use the remote shell for it (a workstation may run no sshd). */
int host_probe_this_host(const char *host)
{
    char self[256];
    if (!strcmp(host, "localhost") || gethostname(self, sizeof self) != 0)
        return !strcmp(host, "localhost");
    self[sizeof self - 1] = 0;
    size_t sl = strcspn(self, "."), hl = strcspn(host, ".");
    return !strcmp(host, self) || (sl == hl && !strncmp(host, self, sl) &&
                                   (!host[hl] || !self[sl]));
}

/* 1 when the address A (AF_INET or AF_INET6) is a loopback one */
static int loopback(const struct sockaddr *a)
{
    if (a->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)a)->sin_addr.s_addr) >> 24) == 127;
    return a->sa_family == AF_INET6 &&
           IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)a)->sin6_addr);
}

/* 1 when A and B are the same AF_INET or AF_INET6 address (ports aside) */
static int same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
    if (a->sa_family != b->sa_family)
        return 0;
    if (a->sa_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    return a->sa_family == AF_INET6 &&
           !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                   &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr));
}

int host_probe_this_machine(const char *host)
{
    if (host_probe_this_host(host))
        return 1;
    struct addrinfo hint = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (getaddrinfo(host, NULL, &hint, &ai) != 0 || !ai)
        return 0;
    struct ifaddrs *ifs = NULL;
    int here = 0;
    if (getifaddrs(&ifs) != 0)
        ifs = NULL; /* the loopback test still answers */
    for (const struct addrinfo *a = ai; a && !here; a = a->ai_next) {
        here = loopback(a->ai_addr);
        for (const struct ifaddrs *i = ifs; i && !here; i = i->ifa_next)
            here = i->ifa_addr && same_addr(a->ai_addr, i->ifa_addr);
    }
    if (ifs)
        freeifaddrs(ifs);
    freeaddrinfo(ai);
    return here;
}

void host_probe_start(struct host_probe *p, const char *host, int port, int refused_down)
{
    memset(p, 0, sizeof *p);
    p->fd = -1;
    p->refused_down = refused_down;
    clock_gettime(CLOCK_MONOTONIC, &p->t0);
    if (port <= 0 || host_probe_this_host(host)) {
        p->state = PROBE_UP; /* a launcher starts a process here without its remote shell */
        return;
    }
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    struct addrinfo hint = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    int g = getaddrinfo(host, ps, &hint, &ai);
    if (g != 0 || !ai) {
        p->state = PROBE_DOWN;
        snprintf(p->why, sizeof p->why, "down: its name does not resolve (%s)",
                 g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g));
        if (ai)
            freeaddrinfo(ai);
        return;
    }
    p->port = port;
    if (loopback(ai->ai_addr)) {
        freeaddrinfo(ai);
        p->state = PROBE_UP; /* a name of this machine */
        return;
    }
    if (getnameinfo(ai->ai_addr, ai->ai_addrlen, p->addr, sizeof p->addr, NULL, 0,
                    NI_NUMERICHOST) != 0)
        snprintf(p->addr, sizeof p->addr, "%s", host);
    int e;
    p->fd = revive_connect_start(ai->ai_addr, ai->ai_addrlen, &e);
    freeaddrinfo(ai);
    p->state = PROBE_WAIT;
    if (p->fd < 0)
        verdict(p, e);
}

void host_probe_step(struct host_probe *p, int timeout_ms)
{
    if (p->state != PROBE_WAIT)
        return;
    int so = revive_connect_outcome(p->fd);
    if (so >= 0) {
        verdict(p, so);
        return;
    }
    if (ms_since(&p->t0) >= timeout_ms) {
        verdict(p, ETIMEDOUT);
        snprintf(p->why, sizeof p->why, "down: %s port %d answered nothing within %d s "
                 "(REVIVE_FETCH_CONNECT_TIMEOUT)", p->addr, p->port, timeout_ms / 1000);
    }
}

static const char *opt_value(char *const *a, int n, const char *const *names)
{
    for (int i = 0; i + 1 < n; i++)
        for (int k = 0; names[k]; k++)
            if (!strcmp(a[i], names[k]))
                return a[i + 1];
    return NULL;
}

int host_probe_over_rsh(char *const *args, int n, const char *flavor)
{
    const char *v = NULL;
    if (!strcmp(flavor, "mpich")) {
        static const char *const exec[] = {"-launcher-exec", "-bootstrap-exec", NULL};
        static const char *const kind[] = {"-launcher", "-bootstrap", NULL};
        if (opt_value(args, n, exec) || getenv("HYDRA_LAUNCHER_EXEC") ||
            getenv("HYDRA_BOOTSTRAP_EXEC"))
            return 1;
        v = opt_value(args, n, kind);
        if (!v)
            v = getenv("HYDRA_LAUNCHER") ? getenv("HYDRA_LAUNCHER") : getenv("HYDRA_BOOTSTRAP");
    } else {
        for (int i = 0; i + 2 < n; i++)
            if (!strcmp(args[i] + strspn(args[i], "-"), "mca")) {
                if (!strcmp(args[i + 1], "plm_rsh_agent"))
                    return 1;
                if (!strcmp(args[i + 1], "plm"))
                    v = args[i + 2];
            }
        if (getenv("OMPI_MCA_plm_rsh_agent"))
            return 1;
        if (!v)
            v = getenv("OMPI_MCA_plm");
    }
    if (v)
        return !strcmp(v, "ssh") || !strcmp(v, "rsh");
    /* no launcher named: the launchers' own default is a resource manager's when under one */
    return !getenv("SLURM_JOB_ID") && !getenv("PBS_JOBID") && !getenv("LSB_JOBID") &&
           !getenv("PE_HOSTFILE");
}
