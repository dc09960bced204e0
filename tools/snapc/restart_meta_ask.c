/* restart-mpi asks another host for its cached snapshot.meta copies (restart_meta_ask.h). */
#define _GNU_SOURCE
#include "restart_meta_ask.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "filem/fetch.h"
#include "filem/filem.h"
#include "filem/local_meta.h"
#include "host_probe.h"
#include "probe_route.h"
#include "restart_signal.h"
#include "spawn_group.h"
#include "snapc/util.h"

#define MAX_DIRS 64
#define ANSWER_MAX (16u * FILEM_FILE_MAX) /* of what one host sends: a few sequences */
#define ERR_MAX 4096                      /* of its remote shell's stderr kept (the last) */
#define CLOSE_GRACE_MS 2000               /* a shell whose output closed may take to exit */

static char made[MAX_DIRS][PATH_MAX];
static int nmade;

void restart_meta_ask_clean(void)
{
    for (int i = 0; i < nmade; i++) {
        /* DIR/<job>/<seq>/snapshot.meta, all this process's own, 0700/0600 */
        char job[PATH_MAX + 300], seq[PATH_MAX + 600], f[PATH_MAX + 700];
        DIR *d = opendir(made[i]);
        for (struct dirent *j; d && (j = readdir(d));) {
            if (j->d_name[0] == '.')
                continue;
            snapc_fmt(job, sizeof job, "%s/%s", made[i], j->d_name);
            DIR *e = opendir(job);
            for (struct dirent *s; e && (s = readdir(e));) {
                if (s->d_name[0] == '.')
                    continue;
                snapc_fmt(seq, sizeof seq, "%s/%s", job, s->d_name);
                snapc_fmt(f, sizeof f, "%s/%s", seq, FILEM_META_NAME);
                unlink(f);
                snapc_fmt(f, sizeof f, "%s/%s", seq, FILEM_LOCAL_FAILED_NAME);
                unlink(f);
                rmdir(seq);
            }
            if (e)
                closedir(e);
            rmdir(job);
        }
        if (d)
            closedir(d);
        rmdir(made[i]);
    }
    nmade = 0;
}

static long ms_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

static int env_int(const char *name, int def)
{
    const char *v = getenv(name);
    return v && *v && atoi(v) >= 0 ? atoi(v) : def;
}

/* The remote shell's words (REVIVE_RSH split at blanks, else ssh in batch mode), then HOST and
 * CMD, into A (at most N - 1 words and a NULL); BUF holds the split copy. 0 or -E2BIG. */
static int rsh_argv(char **a, int n, char *buf, size_t blen, const char *host, const char *cmd)
{
    const char *r = getenv("REVIVE_RSH");
    int k = 0;
    if (r && *r) {
        snapc_fmt(buf, blen, "%s", r);
        for (char *save = NULL, *w = strtok_r(buf, " \t", &save); w && k < n - 3;
             w = strtok_r(NULL, " \t", &save))
            a[k++] = w;
    }
    if (k == 0) {
        a[k++] = (char *)"ssh";
        a[k++] = (char *)"-o";
        a[k++] = (char *)"BatchMode=yes";
    }
    if (k > n - 3)
        return -E2BIG;
    a[k++] = (char *)host;
    a[k++] = (char *)cmd;
    a[k] = NULL;
    return 0;
}

/* One host asked: its probe, then its remote shell (a process group of its own, no input),
 * its output into OUT and the end of its errors into ERR. */
struct ask {
    const char *host;
    struct host_probe pr;
    pid_t pid;     /* the remote shell while it runs, else 0 */
    int fd[2];     /* its output and its errors, -1 once closed */
    int st;        /* its exit status; 124 ended at the bound; -errno not started */
    int done;
    long closed_ms; /* when both its pipes closed (its end is near), 0 before */
    int nofolder;  /* st: the folder for its answer could not be made */
    char tmpl[PATH_MAX];
    struct snapc_sbuf out, err;
};

/* Starts ARGV for K: 0, or -errno. */
static int spawn(struct ask *k, char *const *argv)
{
    int po[2], pe[2];
    if (pipe2(po, O_CLOEXEC) < 0)
        return -errno;
    if (pipe2(pe, O_CLOEXEC) < 0) {
        int e = errno;
        close(po[0]);
        close(po[1]);
        return -e;
    }
    pid_t pid = spawn_group(argv, po[1], pe[1], 1);
    if (pid < 0) {
        close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
        return pid;
    }
    close(po[1]);
    close(pe[1]);
    k->pid = pid;
    k->fd[0] = po[0];
    k->fd[1] = pe[0];
    return 0;
}

/* Reads what K's remote shell wrote on its descriptor I (0 output, 1 errors). */
static void take(struct ask *k, int i)
{
    char b[65536];
    ssize_t r = read(k->fd[i], b, sizeof b);
    if (r < 0 && errno == EINTR)
        return;
    if (r <= 0) {
        close(k->fd[i]);
        k->fd[i] = -1;
        return;
    }
    struct snapc_sbuf *s = i ? &k->err : &k->out;
    if (i == 0 && s->len + (size_t)r > ANSWER_MAX)
        return; /* more than any cache holds: cut, and said as a cut answer */
    snapc_sb_printf(s, "%.*s", (int)r, b);
    if (i == 1 && s->len > ERR_MAX) { /* the last bytes say most */
        memmove(s->p, s->p + s->len - ERR_MAX / 2, ERR_MAX / 2);
        s->len = ERR_MAX / 2;
        s->p[s->len] = 0;
    }
}

/* Ends K's remote shell still running (its group: SIGTERM, SIGKILL 3 s later; KILL_NOW: at
 * once), and reaps it with status ST. */
static void end_shell(struct ask *k, int kill_now, int st)
{
    for (int i = 0; i < 2; i++)
        if (k->fd[i] >= 0) {
            close(k->fd[i]);
            k->fd[i] = -1;
        }
    if (!k->pid)
        return;
    kill(-k->pid, kill_now ? SIGKILL : SIGTERM);
    for (int i = 0; !kill_now && i < 30 && waitpid(k->pid, NULL, WNOHANG) == 0; i++)
        usleep(100 * 1000);
    kill(-k->pid, SIGKILL);
    while (waitpid(k->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    k->pid = 0;
    k->st = st;
    k->done = 1;
}

/* The last non-empty line of S, cut to fit OUT. */
static void last_line(const struct snapc_sbuf *s, char *out, size_t len)
{
    size_t e = s->len;
    while (e > 0 && (s->p[e - 1] == '\n' || s->p[e - 1] == '\r' || s->p[e - 1] == ' '))
        e--;
    size_t b = e;
    while (b > 0 && s->p[b - 1] != '\n')
        b--;
    snapc_fmt(out, len, "%.*s", (int)(e - b), e ? s->p + b : "");
}

/* HOST's answer (filem_fetch_send_meta's lines) written into DIR/<job>/<seq>/snapshot.meta.
 * 0 when the answer ends with its end line, -EPROTO when it is cut, -errno on a write. */
static int keep_answer(const char *a, size_t n, const char *dir, const char *job)
{
    const char *p = a, *e = a + n;
    size_t tl = strlen(FILEM_META_TAG);
    while (p < e) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        if (!nl || (size_t)(nl - p) <= tl || strncmp(p, FILEM_META_TAG, tl) != 0)
            return -EPROTO;
        char line[128];
        snapc_fmt(line, sizeof line, "%.*s", (int)(nl - p), p);
        unsigned long long seq;
        size_t len;
        char kind[16];
        if (!strcmp(line + tl, " end"))
            return 0;
        if (sscanf(line + tl, " %15s %llu bytes %zu", kind, &seq, &len) != 3 ||
            (strcmp(kind, "sequence") && strcmp(kind, "failed")) || len > FILEM_FILE_MAX ||
            (size_t)(e - nl - 1) < len)
            return -EPROTO;
        int mark = !strcmp(kind, "failed"); /* after its sequence's metadata */
        char jd[PATH_MAX + 300], sd[PATH_MAX + 400], f[PATH_MAX + 500];
        snapc_fmt(jd, sizeof jd, "%s/%s", dir, job);
        snapc_fmt(sd, sizeof sd, "%s/%llu", jd, seq);
        snapc_fmt(f, sizeof f, "%s/%s", sd, mark ? FILEM_LOCAL_FAILED_NAME : FILEM_META_NAME);
        if ((mkdir(jd, 0700) < 0 && errno != EEXIST) || (mkdir(sd, 0700) < 0 && !mark))
            return -errno;
        int fd = open(f, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
            return -errno;
        ssize_t w = write(fd, nl + 1, len);
        int we = w < 0 ? errno : EIO;
        close(fd);
        if (w != (ssize_t)len)
            return -we;
        p = nl + 1 + len;
    }
    return -EPROTO;
}

/* K's remote shell has started, or could not be: its command made (CMD, into K's folder). */
static void start_shell(struct ask *k, const char *local, const char *jobdir, const char *rrank)
{
    const char *t = getenv("TMPDIR");
    snapc_fmt(k->tmpl, sizeof k->tmpl, "%s/revive-meta-XXXXXX", t && t[0] == '/' ? t : "/tmp");
    if (nmade == MAX_DIRS) {
        k->st = -E2BIG;
        k->done = 1;
        return;
    }
    if (!mkdtemp(k->tmpl)) { /* 0700 */
        k->st = -errno;
        k->nofolder = 1;
        k->done = 1;
        return;
    }
    snapc_fmt(made[nmade++], PATH_MAX, "%s", k->tmpl);
    struct snapc_sbuf cmd = {0};
    snapc_sb_shell_word(&cmd, rrank);
    snapc_sb_printf(&cmd, " --send-meta");
    if (local) {
        snapc_sb_printf(&cmd, " --local ");
        snapc_sb_shell_word(&cmd, local);
    }
    snapc_sb_printf(&cmd, " ");
    snapc_sb_shell_word(&cmd, jobdir);
    char *argv[40] = {(char *)"the remote shell"}, buf[1024];
    int e = cmd.oom ? -ENOMEM : rsh_argv(argv, 40, buf, sizeof buf, k->host, cmd.p);
    if (e == 0)
        e = spawn(k, argv);
    snapc_sb_free(&cmd);
    if (e < 0) {
        k->st = e;
        k->done = 1;
    }
}

/* Every host of A (N) asked at once: each probed, its remote shell started as soon as its
 * port answers; all of them bounded together by LIMIT_S seconds from the start, so that a
 * host whose shell hangs costs that bound once, not once per host. 0, or -EINTR when a signal
 * restart-mpi holds came (restart_signal.h; every shell ended). */
static int ask_all(struct ask *a, int n, const char *local, const char *jobdir,
                   const char *rrank, int limit_s, int climit_s)
{
    /* each host asked where this remote shell goes (probe_route.h; diffrev48 R-M2: port 22
     * asked whatever REVIVE_RSH was refused a live host) */
    const char *rsh = getenv("REVIVE_RSH");
    const char *agent = rsh && *rsh ? rsh : "ssh -o BatchMode=yes";
    const char **names = calloc((size_t)n + 1, sizeof *names);
    for (int i = 0; names && i < n; i++)
        names[i] = a[i].host;
    if (names)
        probe_route_resolve(agent, names, n); /* every host's at once */
    free(names);
    for (int i = 0; i < n; i++) {
        char dest[256];
        a[i].fd[0] = a[i].fd[1] = -1;
        int port = probe_route(agent, a[i].host, dest, sizeof dest);
        host_probe_start(&a[i].pr, dest, port, 1);
    }
    long end = ms_now() + limit_s * 1000L;
    int sig = 0; /* restart_signal.h: one came, every shell is ended */
    for (;;) {
        int busy = 0;
        for (int i = 0; i < n; i++) {
            struct ask *k = &a[i];
            if (k->done)
                continue;
            if (k->pr.state == PROBE_WAIT)
                host_probe_step(&k->pr, climit_s * 1000);
            if (k->pr.state == PROBE_DOWN) {
                k->done = 1;
                continue;
            }
            if (k->pr.state == PROBE_UP && !k->pid)
                start_shell(k, local, jobdir, rrank);
            if (k->pid && k->fd[0] < 0 && k->fd[1] < 0) { /* both closed: its end is near */
                /* not waited for without bound: a remote shell that closed its output but
                 * lingers (an ssh holding a forwarded connection, a hung agent) would keep
                 * restart-mpi here past every bound and deaf to a signal (diffrev L8). Its
                 * answer is whole once its output closed: it is judged by what it says
                 * (keep_answer), the shell ended after CLOSE_GRACE_MS. */
                int st = 0;
                pid_t r = waitpid(k->pid, &st, WNOHANG);
                if (!k->closed_ms)
                    k->closed_ms = ms_now();
                if (r == k->pid) {
                    k->pid = 0;
                    k->st = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                    k->done = 1;
                } else if (r < 0 && errno != EINTR) { /* not ours any more: nothing to wait for */
                    k->pid = 0;
                    k->st = 0;
                    k->done = 1;
                } else if (ms_now() - k->closed_ms >= CLOSE_GRACE_MS)
                    end_shell(k, 0, 0);
            }
            busy += !k->done;
        }
        if (!busy || (sig = restart_signal_pending()) != 0)
            break;
        long left = end - ms_now();
        if (left <= 0) {
            for (int i = 0; i < n; i++)
                if (!a[i].done && a[i].pid)
                    end_shell(&a[i], 0, 124);
            break;
        }
        struct pollfd pf[2 * MAX_DIRS];
        int who[2 * MAX_DIRS], np = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < 2 && !a[i].done && a[i].pid; j++)
                if (a[i].fd[j] >= 0) {
                    pf[np] = (struct pollfd){.fd = a[i].fd[j], .events = POLLIN};
                    who[np++] = 2 * i + j;
                }
        /* probes still waiting are stepped every 20 ms */
        int probing = 0;
        for (int i = 0; i < n; i++)
            probing |= !a[i].done && (a[i].pr.state == PROBE_WAIT || a[i].closed_ms);
        long step = probing ? 20 : 200; /* a held signal is looked for as often */
        if (poll(pf, (nfds_t)np, (int)(left > step ? step : left)) < 0 && errno != EINTR) {
            for (int i = 0; i < n; i++) /* not waited for without bound */
                if (!a[i].done && a[i].pid)
                    end_shell(&a[i], 1, -errno);
            break;
        }
        for (int j = 0; j < np; j++)
            if (pf[j].revents & (POLLIN | POLLHUP | POLLERR))
                take(&a[who[j] / 2], who[j] % 2);
    }
    for (int i = 0; i < n; i++) {
        if (a[i].pr.fd >= 0)
            close(a[i].pr.fd);
        a[i].pr.fd = -1;
        if (sig && a[i].pid)
            end_shell(&a[i], 1, -EINTR);
    }
    return sig ? -EINTR : 0;
}

/* restart_meta_ask_all with the bounds LIMIT (seconds, its name LIMIT_VAR for the message)
 * and CLIMIT (the probe's connect bound). */
static void ask_bounded(char *const *hosts, int n, const char *local, const char *jobdir,
                        const char *rrank, int limit, const char *limit_var, int climit,
                        struct restart_meta_answer *ans)
{
    if (n > MAX_DIRS)
        n = MAX_DIRS;
    struct ask *a = calloc((size_t)(n ? n : 1), sizeof *a);
    if (!a) {
        for (int i = 0; i < n; i++) {
            ans[i].rc = -ENOMEM;
            snapc_fmt(ans[i].why, sizeof ans[i].why, "out of memory");
        }
        return;
    }
    for (int i = 0; i < n; i++)
        a[i].host = hosts[i];
    /* a signal meanwhile (^C, a batch system's SIGTERM, a hang-up) ends the shells (their
     * groups are their own: the terminal's ^C does not reach them); restart-mpi then removes
     * the folders of the answers and ends by it (restart_signal.h) */
    if (ask_all(a, n, local, jobdir, rrank, limit, climit) == -EINTR) {
        for (int i = 0; i < n; i++) {
            snapc_sb_free(&a[i].out);
            snapc_sb_free(&a[i].err);
        }
        free(a);
        restart_signal_check(); /* ends the process */
        for (int i = 0; i < n; i++) {
            ans[i].rc = -EINTR;
            snapc_fmt(ans[i].why, sizeof ans[i].why, "ended by a signal");
        }
        return;
    }
    const char *job = strrchr(jobdir, '/');
    job = job ? job + 1 : jobdir;
    for (int i = 0; i < n; i++) {
        struct ask *k = &a[i];
        struct restart_meta_answer *r = &ans[i];
        char said[512];
        int e;
        r->dir[0] = 0;
        last_line(&k->err, said, sizeof said);
        if (k->pr.state == PROBE_DOWN) {
            snapc_fmt(r->why, sizeof r->why, "%s", k->pr.why);
            e = -EHOSTDOWN;
        } else if (k->pr.state == PROBE_WAIT || (!k->done && !k->pid)) {
            snapc_fmt(r->why, sizeof r->why, "no answer within %d s (%s)", limit, limit_var);
            e = -ETIMEDOUT;
        } else if (k->st == -E2BIG) {
            snapc_fmt(r->why, sizeof r->why, "too many hosts asked");
            e = -E2BIG;
        } else if (k->nofolder) {
            snapc_fmt(r->why, sizeof r->why, "cannot make a folder for its answer (%s): %s",
                      k->tmpl, strerror(-k->st));
            e = k->st;
        } else if (k->st < 0) {
            snapc_fmt(r->why, sizeof r->why, "its remote shell could not be started: %s",
                      strerror(-k->st));
            e = k->st;
        } else if (k->st == 124) {
            snapc_fmt(r->why, sizeof r->why, "no answer within %d s (%s)", limit, limit_var);
            e = -ETIMEDOUT;
        } else if ((e = keep_answer(k->out.p ? k->out.p : "", k->out.len, k->tmpl, job)) ==
                   -EPROTO) {
            snapc_fmt(r->why, sizeof r->why, "%s (status %d)%s%s",
                      k->out.len ? "its answer was cut" : "no answer through its remote shell",
                      k->st, said[0] ? ": " : "", said);
        } else if (e < 0)
            snapc_fmt(r->why, sizeof r->why, "keeping its answer in %s: %s", k->tmpl,
                      strerror(-e));
        if (e == 0)
            snapc_fmt(r->dir, sizeof r->dir, "%s", k->tmpl);
        r->rc = e;
        snapc_sb_free(&k->out);
        snapc_sb_free(&k->err);
    }
    free(a);
}

void restart_meta_ask_all(char *const *hosts, int n, const char *local, const char *jobdir,
                          const char *rrank, struct restart_meta_answer *ans)
{
    int climit = env_int("REVIVE_FETCH_CONNECT_TIMEOUT", 10);
    if (climit == 0)
        climit = 10; /* as restart_fetch.c: 0 is the default, not "down at once" */
    int limit = env_int("REVIVE_FETCH_TIMEOUT", 120);
    if (limit <= 0)
        limit = 120;
    ask_bounded(hosts, n, local, jobdir, rrank, limit, "REVIVE_FETCH_TIMEOUT", climit, ans);
}

void restart_meta_ask_marks(char *const *hosts, int n, const char *local, const char *jobdir,
                            const char *rrank, struct restart_meta_answer *ans)
{
    int limit = env_int("REVIVE_MARKS_TIMEOUT", 5);
    if (limit <= 0)
        limit = 5;
    int flimit = env_int("REVIVE_FETCH_TIMEOUT", 120);
    if (flimit > 0 && flimit < limit)
        limit = flimit;
    /* the probe's bound inside it: a host down costs this bound, not the fetch's 10 s */
    int climit = env_int("REVIVE_FETCH_CONNECT_TIMEOUT", 10);
    if (climit == 0 || climit > limit)
        climit = limit;
    ask_bounded(hosts, n, local, jobdir, rrank, limit, "REVIVE_MARKS_TIMEOUT", climit, ans);
}

int restart_meta_ask(const char *host, const char *local, const char *jobdir, const char *rrank,
                     char *dir, size_t dlen, char *why, size_t wlen)
{
    struct restart_meta_answer r;
    char *h = (char *)host;
    restart_meta_ask_all(&h, 1, local, jobdir, rrank, &r);
    if (r.rc == 0)
        snapc_fmt(dir, dlen, "%s", r.dir);
    else
        snapc_fmt(why, wlen, "%s", r.why);
    return r.rc;
}

/* One host name into H (N so far, at most MAX), once; "user@" and ":slots" dropped. */
static void add(char (*h)[256], int *n, int max, const char *w, size_t len)
{
    const char *at = memchr(w, '@', len);
    if (at)
        len -= (size_t)(at + 1 - w), w = at + 1;
    const char *colon = memchr(w, ':', len);
    if (colon)
        len = (size_t)(colon - w);
    if (!len || len >= 256 || *n >= max)
        return;
    for (int i = 0; i < *n; i++)
        if (strlen(h[i]) == len && !strncmp(h[i], w, len))
            return;
    memcpy(h[*n], w, len);
    h[(*n)++][len] = 0;
}

int restart_meta_hosts(const char *hostfile, const char *list, char (*h)[256], int max)
{
    int n = 0;
    FILE *f = hostfile ? fopen(hostfile, "re") : NULL;
    char line[1024];
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "#\n")] = 0;
        const char *w = line + strspn(line, " \t");
        add(h, &n, max, w, strcspn(w, " \t"));
    }
    if (f)
        fclose(f);
    for (const char *p = list ? list : ""; *p;) {
        size_t l = strcspn(p, ",");
        add(h, &n, max, p, l);
        p += l + (p[l] == ',');
    }
    return n;
}
