/* Where restart-mpi asks whether a host is up (probe_route.h). */
#define _GNU_SOURCE
#include "probe_route.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/port_probe.h"

#define AGENT_WORDS 32

/* The value of launcher option NAMES[k] (any number of leading dashes) in ARGS[0..n), else NULL */
static const char *opt_value(char *const *a, int n, const char *const *names)
{
    const char *v = NULL;
    for (int i = 0; i + 1 < n; i++)
        for (int k = 0; names[k]; k++)
            if (a[i][0] == '-' && !strcmp(a[i] + strspn(a[i], "-"), names[k]))
                v = a[i + 1]; /* the last one given counts */
    return v;
}

/* Open MPI's --mca (or --gmca) KEY VALUE for KEY one of KEYS, else NULL */
static const char *mca_value(char *const *a, int n, const char *const *keys)
{
    const char *v = NULL;
    for (int i = 0; i + 2 < n; i++) {
        const char *o = a[i] + strspn(a[i], "-");
        if (a[i][0] == '-' && (!strcmp(o, "mca") || !strcmp(o, "gmca")))
            for (int k = 0; keys[k]; k++)
                if (!strcmp(a[i + 1], keys[k]))
                    v = a[i + 2];
    }
    return v;
}

/* KEY's value in the MCA parameter file PATH ("key = value" lines), in BUF; NULL when none */
static const char *mca_file_value(const char *path, const char *const *keys, char *buf, size_t len)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return NULL;
    const char *v = NULL;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        char *s = line + strspn(line, " \t");
        for (int k = 0; keys[k]; k++) {
            size_t kl = strlen(keys[k]);
            if (strncmp(s, keys[k], kl) || !strchr(" \t=", s[kl]))
                continue;
            char *e = s + kl + strspn(s + kl, " \t");
            if (*e != '=')
                continue;
            e += 1 + strspn(e + 1, " \t");
            e[strcspn(e, "\r\n#")] = 0;
            for (size_t l = strlen(e); l > 0 && strchr(" \t", e[l - 1]); l--)
                e[l - 1] = 0;
            snprintf(buf, len, "%s", e);
            v = buf;
        }
    }
    fclose(f);
    return v;
}

/* Open MPI's MCA parameter KEYS (a name and its synonyms) where the launcher takes it from,
 * first found first: the launch's --mca, the environment (OMPI_MCA_KEY), the user's and the
 * system's parameter files; NULL when nowhere (its default then). BUF holds a file's value. */
static const char *ompi_param(char *const *run, int n, const char *const *keys, char *buf,
                              size_t len)
{
    const char *v = mca_value(run, n, keys);
    for (int k = 0; !v && keys[k]; k++) {
        char env[128];
        snprintf(env, sizeof env, "OMPI_MCA_%s", keys[k]);
        v = getenv(env);
    }
    if (v)
        return v;
    const char *home = getenv("HOME");
    char user[PATH_MAX];
    snprintf(user, sizeof user, "%s/.openmpi/mca-params.conf", home ? home : "/");
    if (!(v = mca_file_value(user, keys, buf, len)))
        v = mca_file_value("/etc/openmpi/openmpi-mca-params.conf", keys, buf, len);
    return v;
}

/* 1 when the program WORD names is found: a path, or a name in PATH */
static int found(const char *word, size_t len)
{
    char name[PATH_MAX];
    if (len == 0 || len >= sizeof name)
        return 0;
    memcpy(name, word, len);
    name[len] = 0;
    if (strchr(name, '/'))
        return access(name, X_OK) == 0;
    const char *p = getenv("PATH");
    for (p = p ? p : "/usr/bin:/bin"; *p;) {
        size_t l = strcspn(p, ":");
        char full[PATH_MAX];
        if (snprintf(full, sizeof full, "%.*s/%s", (int)l, p, name) < (int)sizeof full &&
            access(full, X_OK) == 0)
            return 1;
        p += l + (p[l] == ':');
    }
    return 0;
}

/* The remote shell the launch RUN (N words before its first program) reaches other hosts
 * with, as the launcher finds it, into AGENT: Open MPI's plm_rsh_agent (--mca, OMPI_MCA_,
 * the user's and the system's parameter files; "A : B" the first of them found; default
 * "ssh : rsh"), MPICH's -launcher-exec (HYDRA_LAUNCHER_EXEC) or -launcher (default ssh). */
void probe_launch_agent(char *const *run, int n, const char *flavor, char *agent, size_t len)
{
    char buf[1024];
    const char *v = NULL;
    if (!strcmp(flavor, "mpich")) {
        static const char *const exec[] = {"launcher-exec", "bootstrap-exec", NULL};
        static const char *const kind[] = {"launcher", "bootstrap", NULL};
        if (!(v = opt_value(run, n, exec)) && !(v = getenv("HYDRA_LAUNCHER_EXEC")))
            v = getenv("HYDRA_BOOTSTRAP_EXEC");
        if (!v && !(v = opt_value(run, n, kind)) && !(v = getenv("HYDRA_LAUNCHER")))
            v = getenv("HYDRA_BOOTSTRAP");
        snprintf(agent, len, "%s", v ? v : "ssh");
        return;
    }
    /* the agent and its synonyms, and the words Open MPI adds after it (plm_rsh_args: a
     * "-p 2222" there is where ssh goes; diffrev48 R-M1b: without them a working host was
     * refused as down on port 22) */
    static const char *const keys[] = {"plm_rsh_agent", "pls_rsh_agent", "orte_rsh_agent", NULL};
    static const char *const args[] = {"plm_rsh_args", NULL};
    char abuf[1024];
    const char *extra = ompi_param(run, n, args, abuf, sizeof abuf);
    if (!(v = ompi_param(run, n, keys, buf, sizeof buf)))
        v = "ssh : rsh";
    /* "A : B": the first whose program is found, as Open MPI takes it */
    for (const char *s = v; *s;) {
        size_t l = strcspn(s, ":");
        const char *w = s + strspn(s, " \t");
        size_t wl = strcspn(w, " \t:");
        if (found(w, wl)) {
            while (l > 0 && strchr(" \t", s[l - 1]))
                l--;
            snprintf(agent, len, "%.*s%s%s", (int)(l - (size_t)(w - s)), w, extra ? " " : "",
                     extra ? extra : "");
            return;
        }
        s += l + (s[l] == ':');
    }
    snprintf(agent, len, "%s%s%s", v, extra ? " " : "", extra ? extra : "");
}

/* 1 when the remote shell AGENT is ssh (its program's name), whose -G says where it goes */
static int agent_is_ssh(const char *agent)
{
    const char *w = agent + strspn(agent, " \t");
    size_t wl = strcspn(w, " \t");
    const char *base = memrchr(w, '/', wl);
    base = base ? base + 1 : w;
    return (size_t)(w + wl - base) == 3 && !strncmp(base, "ssh", 3);
}

/* "ssh -G"'s answers for the agent they were asked with, a host each: restart-mpi asks about
 * the same hosts up to three times (the launch's check, the fetch, the metadata question) */
struct route {
    char host[256];
    char dest[256];
    int port; /* 0: not to be asked */
};
static struct route *routes;
static int nroutes, caproutes;
static char routes_agent[1024];

static struct route *route_of(const char *agent, const char *host)
{
    if (strcmp(routes_agent, agent) != 0)
        return NULL;
    for (int i = 0; i < nroutes; i++)
        if (!strcmp(routes[i].host, host))
            return &routes[i];
    return NULL;
}

static void route_keep(const char *agent, const char *host, const char *dest, int port)
{
    if (strcmp(routes_agent, agent) != 0) {
        nroutes = 0;
        snprintf(routes_agent, sizeof routes_agent, "%s", agent);
    }
    if (nroutes == caproutes) {
        int c = caproutes ? 2 * caproutes : 64;
        struct route *r = realloc(routes, (size_t)c * sizeof *r);
        if (!r)
            return;
        routes = r;
        caproutes = c;
    }
    struct route *r = &routes[nroutes++];
    snprintf(r->host, sizeof r->host, "%s", host);
    snprintf(r->dest, sizeof r->dest, "%s", dest);
    r->port = port;
}

/* Where ssh goes, from its -G output OUT for HOST: 1 with the host to ask in DEST and its port
 * in *PORT; 0 when it is not to be asked (through a ProxyJump or a ProxyCommand the host is not
 * reached directly) */
static int ssh_dest_of(char *out, const char *host, char *dest, size_t dlen, int *port)
{
    int direct = 1;
    *port = 22;
    snprintf(dest, dlen, "%s", host);
    for (char *save = NULL, *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char *v = strchr(l, ' ');
        if (!v)
            continue;
        *v++ = 0;
        if (!strcmp(l, "hostname"))
            snprintf(dest, dlen, "%s", v);
        else if (!strcmp(l, "port"))
            *port = atoi(v);
        else if ((!strcmp(l, "proxyjump") || !strcmp(l, "proxycommand")) && strcmp(v, "none"))
            direct = 0;
    }
    return direct && *port > 0 && *port <= 65535;
}

#define ASK_AT_ONCE 32     /* ssh -G children at a time */
#define ASK_LIMIT_MS 5000  /* each one's bound */
#define ASK_SAY_MS 2000    /* said once when asking takes longer */
#define ASK_OUT 65536      /* of an answer read */

/* One "AGENT -G HOST" running: its pid, the read end of its output, what came */
struct ask {
    pid_t pid;
    int fd;
    char host[256];
    char *out;
    size_t got;
    long t0;
};

static long ms_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000L + t.tv_nsec / 1000000;
}

/* Starts AGENT's words, -G, HOST: 0, or -1 (then nothing runs) */
static int ask_start(struct ask *a, const char *agent, const char *host)
{
    char words[1024];
    char *argv[AGENT_WORDS + 4];
    int ac = 0;
    snprintf(words, sizeof words, "%s", agent);
    for (char *save = NULL, *w = strtok_r(words, " \t", &save); w && ac < AGENT_WORDS;
         w = strtok_r(NULL, " \t", &save))
        argv[ac++] = w;
    argv[ac++] = (char *)"-G";
    argv[ac++] = (char *)host;
    argv[ac] = NULL;
    int p[2];
    if (!(a->out = malloc(ASK_OUT)))
        return -1;
    if (pipe2(p, O_CLOEXEC) < 0) {
        free(a->out);
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(p[1], 1);
        dup2(null, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        free(a->out);
        return -1;
    }
    a->pid = pid;
    a->fd = p[0];
    a->got = 0;
    a->t0 = ms_now();
    snprintf(a->host, sizeof a->host, "%s", host);
    return 0;
}

/* A's answer kept (killed first when it took too long: not to be asked) */
static void ask_end(struct ask *a, const char *agent, int too_long)
{
    close(a->fd);
    if (too_long)
        kill(a->pid, SIGKILL);
    int st;
    while (waitpid(a->pid, &st, 0) < 0 && errno == EINTR)
        ;
    char dest[256];
    int port = 0;
    a->out[a->got] = 0;
    if (too_long || !a->got || !WIFEXITED(st) || WEXITSTATUS(st) != 0 ||
        !ssh_dest_of(a->out, a->host, dest, sizeof dest, &port)) {
        snprintf(dest, sizeof dest, "%s", a->host);
        port = 0;
    }
    route_keep(agent, a->host, dest, port);
    free(a->out);
}

/* 1 when HOST is asked already (kept, or one of RUN[0..n) asks it) */
static int asked(const char *agent, const char *host, const struct ask *run, int n)
{
    if (route_of(agent, host))
        return 1;
    for (int k = 0; k < n; k++)
        if (!strcmp(run[k].host, host))
            return 1;
    return 0;
}

/* A step of probe_route_resolve: waits for output of RUN[0..*n) until WAIT_MS, reads it, and
 * keeps the answers of those ended (or past their bound). Returns how many ended. */
static int ask_step(const char *agent, struct ask *run, int *n, long wait_ms)
{
    struct pollfd pf[ASK_AT_ONCE];
    int np = *n;
    if (np <= 0 || np > ASK_AT_ONCE)
        return 0;
    long now = ms_now();
    for (int k = 0; k < np; k++) {
        pf[k] = (struct pollfd){.fd = run[k].fd, .events = POLLIN};
        long left = run[k].t0 + ASK_LIMIT_MS - now;
        if (left < wait_ms)
            wait_ms = left > 0 ? left : 0;
    }
    int r = poll(pf, (nfds_t)np, (int)wait_ms);
    now = ms_now();
    int ended = 0;
    /* downwards: the last one moves into an ended one's place, already looked at */
    for (int k = *n - 1; k >= 0; k--) {
        struct ask *a = &run[k];
        int end = 0;
        if (r > 0 && pf[k].revents) {
            ssize_t m = read(a->fd, a->out + a->got, ASK_OUT - 1 - a->got);
            if (m < 0 && errno == EINTR)
                continue;
            if (m <= 0 || (a->got += (size_t)m) == ASK_OUT - 1)
                end = 1;
        }
        if (end || now - a->t0 >= ASK_LIMIT_MS) {
            ask_end(a, agent, !end);
            *a = run[--*n];
            ended++;
        }
    }
    return ended;
}

void probe_route_resolve(const char *agent, const char *const *hosts, int n)
{
    const char *given = getenv("REVIVE_FETCH_PROBE_PORT");
    if ((given && *given) || !agent_is_ssh(agent))
        return;
    /* ASK_AT_ONCE at a time, each once (diffrev48 R-L4: host after host, ~90 ms each at load,
     * 11 s for 120 hosts before a restart began, in silence) */
    struct ask run[ASK_AT_ONCE];
    int nrun = 0, next = 0, answered = 0, said = 0;
    long t0 = ms_now();
    while (next < n || nrun > 0) {
        while (nrun < ASK_AT_ONCE && next < n) {
            const char *h = hosts[next++];
            if (!h || !*h || strlen(h) >= sizeof run[0].host || asked(agent, h, run, nrun))
                continue;
            if (ask_start(&run[nrun], agent, h) == 0)
                nrun++;
            else
                route_keep(agent, h, h, 0);
        }
        if (!nrun)
            break;
        long wait = said ? ASK_LIMIT_MS : t0 + ASK_SAY_MS - ms_now();
        answered += ask_step(agent, run, &nrun, wait > 0 ? wait : 0);
        if (!said && ms_now() - t0 >= ASK_SAY_MS && (nrun || next < n)) {
            said = 1;
            int left = nrun;
            for (int k = next; k < n; k++)
                left += hosts[k] && !route_of(agent, hosts[k]);
            fprintf(stderr, "%s: asking ssh -G where the remote shell goes for each host of the "
                            "launch (%d answered, about %d to come; %d at a time, %d s each at "
                            "most)\n",
                    program_invocation_short_name, answered, left, ASK_AT_ONCE,
                    ASK_LIMIT_MS / 1000);
        }
    }
}

int probe_route_known(const char *agent)
{
    const char *given = getenv("REVIVE_FETCH_PROBE_PORT");
    if (given && *given)
        return revive_probe_port() > 0;
    return agent_is_ssh(agent);
}

int probe_route(const char *agent, const char *host, char *dest, size_t dlen)
{
    const char *given = getenv("REVIVE_FETCH_PROBE_PORT");
    snprintf(dest, dlen, "%s", host);
    if (given && *given)
        return revive_probe_port(); /* 0: not asked */
    if (!agent_is_ssh(agent))
        return 0;
    const struct route *r = route_of(agent, host);
    if (!r) {
        const char *one[1] = {host};
        probe_route_resolve(agent, one, 1);
        r = route_of(agent, host);
    }
    if (!r || r->port <= 0)
        return 0;
    snprintf(dest, dlen, "%s", r->dest);
    return r->port;
}
