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

/* Where AGENT (ssh and its options) goes for HOST, as "ssh -G" resolves it (the user's
 * ~/.ssh/config and the system's: Port, HostName; the agent's -p, -o, -F): 1 with the host
 * to ask in DEST and its port in *PORT; 0 when it is not to be asked (through a ProxyJump or
 * a ProxyCommand the host is not reached directly; ssh -G failed or took over 5 s) */
static int ssh_dest(const char *agent, const char *host, char *dest, size_t dlen, int *port)
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
    if (pipe2(p, O_CLOEXEC) < 0)
        return 0;
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
        return 0;
    }
    static char out[65536];
    size_t got = 0;
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left = 5000 - ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000);
        struct pollfd pf = {.fd = p[0], .events = POLLIN};
        if (left <= 0 || poll(&pf, 1, (int)left) <= 0) {
            if (left > 0 && errno == EINTR)
                continue;
            kill(pid, SIGKILL);
            got = 0;
            break;
        }
        ssize_t r = read(p[0], out + got, sizeof out - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || (got += (size_t)r) == sizeof out - 1)
            break;
    }
    close(p[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (!got || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return 0;
    out[got] = 0;
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
    int port = 0;
    if (!agent_is_ssh(agent) || !ssh_dest(agent, host, dest, dlen, &port))
        return 0;
    return port;
}
