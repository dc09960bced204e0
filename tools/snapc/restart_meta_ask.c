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
#include "spawn_group.h"
#include "snapc/util.h"

#define MAX_DIRS 64
#define ANSWER_MAX (16u * FILEM_FILE_MAX) /* of what one host sends: a few sequences */
#define ERR_MAX 4096                      /* of its remote shell's stderr kept (the last) */

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

/* A signal that would end restart-mpi while a remote shell runs (^C, a batch system's SIGTERM,
 * a hang-up): the shell's process group (its own, so the terminal's ^C does not reach it) is
 * ended, the folders of the answers removed, then the signal takes its default action. Without
 * this, the folder stayed (atexit handlers do not run on a signal) and the shell ran on. */
static volatile sig_atomic_t got_sig;
static const int end_sigs[] = {SIGINT, SIGTERM, SIGHUP};

static void on_end_sig(int s)
{
    got_sig = s;
}

/* Runs ARGV (a process group of its own, no input), its output into OUT and the end of its
 * errors into ERR, for at most LIMIT_S seconds: its exit status, 124 at the bound (ended),
 * -errno when it could not be started, -EINTR when one of end_sigs came (ended). */
static int run(char *const *argv, int limit_s, struct snapc_sbuf *out, struct snapc_sbuf *err)
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
    struct pollfd pf[2] = {{.fd = po[0], .events = POLLIN}, {.fd = pe[0], .events = POLLIN}};
    long end = ms_now() + limit_s * 1000L;
    int timed_out = 0;
    while ((pf[0].fd >= 0 || pf[1].fd >= 0) && !got_sig) {
        long left = end - ms_now();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        if (poll(pf, 2, (int)(left > 1000 ? 1000 : left)) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++) {
            if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char b[65536];
            ssize_t r = read(pf[i].fd, b, sizeof b);
            if (r <= 0) {
                close(pf[i].fd);
                pf[i].fd = -1;
                continue;
            }
            struct snapc_sbuf *s = i ? err : out;
            if (i == 0 && s->len + (size_t)r > ANSWER_MAX)
                continue; /* more than any cache holds: cut, and said as a cut answer */
            snapc_sb_printf(s, "%.*s", (int)r, b);
            if (i == 1 && s->len > ERR_MAX) { /* the last bytes say most */
                memmove(s->p, s->p + s->len - ERR_MAX / 2, ERR_MAX / 2);
                s->len = ERR_MAX / 2;
                s->p[s->len] = 0;
            }
        }
    }
    /* the loop left with a pipe still open: poll itself failed; the shell is not waited for */
    int early = !timed_out && (pf[0].fd >= 0 || pf[1].fd >= 0);
    for (int i = 0; i < 2; i++)
        if (pf[i].fd >= 0)
            close(pf[i].fd);
    if (early)
        kill(-pid, SIGKILL);
    if (timed_out) {
        kill(-pid, SIGTERM);
        for (int i = 0; i < 30 && waitpid(pid, NULL, WNOHANG) == 0; i++)
            usleep(100 * 1000);
        kill(-pid, SIGKILL);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (got_sig)
        return -EINTR;
    if (timed_out)
        return 124;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
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

int restart_meta_ask(const char *host, const char *local, const char *jobdir, const char *rrank,
                     char *dir, size_t dlen, char *why, size_t wlen)
{
    /* is it up: a host down is said at once (its remote shell would wait for its own bound) */
    struct host_probe pr;
    int climit = env_int("REVIVE_FETCH_CONNECT_TIMEOUT", 10);
    if (climit == 0)
        climit = 10; /* as restart_fetch.c: 0 is the default, not "down at once" */
    host_probe_start(&pr, host, env_int("REVIVE_FETCH_PROBE_PORT", 22), 1);
    while (pr.state == PROBE_WAIT) {
        usleep(20 * 1000);
        host_probe_step(&pr, climit * 1000);
    }
    if (pr.state == PROBE_DOWN) {
        snapc_fmt(why, wlen, "%s", pr.why);
        return -EHOSTDOWN;
    }
    if (nmade == MAX_DIRS) {
        snapc_fmt(why, wlen, "too many hosts asked");
        return -E2BIG;
    }
    const char *t = getenv("TMPDIR");
    char tmpl[PATH_MAX];
    snapc_fmt(tmpl, sizeof tmpl, "%s/revive-meta-XXXXXX", t && t[0] == '/' ? t : "/tmp");
    if (!mkdtemp(tmpl)) { /* 0700 */
        int e = errno;
        snapc_fmt(why, wlen, "cannot make a folder for its answer (%s): %s", tmpl, strerror(e));
        return -e;
    }
    snapc_fmt(made[nmade++], PATH_MAX, "%s", tmpl);
    struct snapc_sbuf cmd = {0}, out = {0}, err = {0};
    snapc_sb_shell_word(&cmd, rrank);
    snapc_sb_printf(&cmd, " --send-meta");
    if (local) {
        snapc_sb_printf(&cmd, " --local ");
        snapc_sb_shell_word(&cmd, local);
    }
    snapc_sb_printf(&cmd, " ");
    snapc_sb_shell_word(&cmd, jobdir);
    char *argv[40] = {(char *)"the remote shell"}, buf[1024];
    int e = cmd.oom ? -ENOMEM : rsh_argv(argv, 40, buf, sizeof buf, host, cmd.p);
    int limit = env_int("REVIVE_FETCH_TIMEOUT", 120);
    /* a signal meanwhile ends the shell and cleans up first (got_sig); an ignored one stays so */
    struct sigaction sa = {.sa_handler = on_end_sig}, old[3];
    int caught[3] = {0};
    sigemptyset(&sa.sa_mask);
    for (int k = 0; k < 3 && e == 0; k++)
        caught[k] = sigaction(end_sigs[k], NULL, &old[k]) == 0 && old[k].sa_handler != SIG_IGN &&
                    sigaction(end_sigs[k], &sa, NULL) == 0;
    int st = e < 0 ? e : run(argv, limit > 0 ? limit : 120, &out, &err);
    for (int k = 0; k < 3; k++)
        if (caught[k])
            sigaction(end_sigs[k], &old[k], NULL);
    if (got_sig) {
        int s = got_sig;
        snapc_sb_free(&cmd);
        snapc_sb_free(&out);
        snapc_sb_free(&err);
        restart_meta_ask_clean();
        signal(s, SIG_DFL);
        raise(s);
        _exit(128 + s);
    }
    const char *job = strrchr(jobdir, '/');
    job = job ? job + 1 : jobdir;
    char said[512];
    last_line(&err, said, sizeof said);
    if (st < 0) {
        snapc_fmt(why, wlen, "its remote shell %s could not be started: %s", argv[0],
                  strerror(-st));
        e = st;
    } else if (st == 124) {
        snapc_fmt(why, wlen, "no answer within %d s (REVIVE_FETCH_TIMEOUT)", limit);
        e = -ETIMEDOUT;
    } else if ((e = keep_answer(out.p ? out.p : "", out.len, tmpl, job)) == -EPROTO) {
        snapc_fmt(why, wlen, "%s (status %d)%s%s",
                  out.len ? "its answer was cut" : "no answer through its remote shell", st,
                  said[0] ? ": " : "", said);
    } else if (e < 0)
        snapc_fmt(why, wlen, "keeping its answer in %s: %s", tmpl, strerror(-e));
    if (e == 0)
        snapc_fmt(dir, dlen, "%s", tmpl);
    snapc_sb_free(&cmd);
    snapc_sb_free(&out);
    snapc_sb_free(&err);
    return e;
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
