/* Process-wide state: ids, mm layout, limits, timers, pending signals,
 * signal dispositions. */
#define _GNU_SOURCE
#include "crs/uspace/capture.h"
#include "crs/uspace/park.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

void crs_capture_error(struct crs_capture *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
}

char *crs_capture_strdup(struct crs_capture *c, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = crs_scratch_alloc(c->scratch, n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* /proc/self/stat fields after the command name, counted from field 3. */
static int parse_stat_fields(const char *buf, uint64_t *out, int nout)
{
    const char *p = strrchr(buf, ')');
    if (!p)
        return -EINVAL;
    p += 2;
    int field = 3, n = 0;
    while (*p && n < nout) {
        if (field >= 3) {
            uint64_t v = 0;
            int neg = 0;
            if (*p == '-') { neg = 1; p++; }
            while (*p >= '0' && *p <= '9')
                v = v * 10 + (uint64_t)(*p++ - '0');
            out[n++] = neg ? (uint64_t)-(int64_t)v : v;
        }
        while (*p && *p != ' ')
            p++;
        while (*p == ' ')
            p++;
        field++;
    }
    return n;
}

static uint64_t parse_sigset_line(const char *status, const char *key)
{
    const char *p = strstr(status, key);
    if (!p)
        return 0;
    p += strlen(key);
    while (*p == ' ' || *p == '\t')
        p++;
    uint64_t v = 0;
    for (;; p++) {
        char ch = *p;
        if (ch >= '0' && ch <= '9') v = v * 16 + (uint64_t)(ch - '0');
        else if (ch >= 'a' && ch <= 'f') v = v * 16 + (uint64_t)(ch - 'a' + 10);
        else break;
    }
    return v;
}

int crs_capture_process(struct crs_capture *c)
{
    struct crs_rec_process *p = &c->proc;
    memset(p, 0, sizeof *p);
    p->pid = getpid();
    p->ppid = getppid();
    p->pgid = getpgrp();
    p->sid = getsid(0);
    p->uid = getuid();
    p->gid = getgid();
    mode_t um = umask(0);
    umask(um);
    p->umask = um;
    p->personality = (uint32_t)personality(0xffffffff);

    char *buf = crs_scratch_alloc(c->scratch, 65536);
    if (!buf) {
        crs_capture_error(c, "out of scratch memory");
        return -ENOMEM;
    }
    ssize_t n = readlink("/proc/self/exe", buf, 4095);
    buf[n > 0 ? n : 0] = 0;
    c->exe = crs_capture_strdup(c, buf);
    long r = syscall(SYS_getcwd, buf, 4096);
    if (r < 0) {
        crs_capture_error(c, "cannot read the working directory: %s", strerror(errno));
        return -errno;
    }
    c->cwd = crs_capture_strdup(c, buf);
    long len = crs_read_file("/proc/self/cmdline", buf, 65536);
    if (len < 0)
        len = 0;
    for (long i = 0; i + 1 < len; i++)
        if (!buf[i])
            buf[i] = ' ';
    c->cmdline = crs_capture_strdup(c, buf);

    len = crs_read_file("/proc/self/stat", buf, 65536);
    uint64_t f[60];
    if (len < 0 || parse_stat_fields(buf, f, 60) < 50) {
        crs_capture_error(c, "cannot parse /proc/self/stat");
        return -EINVAL;
    }
    /* field k is f[k - 3] */
    p->start_code = f[26 - 3];
    p->end_code = f[27 - 3];
    p->start_stack = f[28 - 3];
    p->start_data = f[45 - 3];
    p->end_data = f[46 - 3];
    p->start_brk = f[47 - 3];
    p->arg_start = f[48 - 3];
    p->arg_end = f[49 - 3];
    p->env_start = f[50 - 3];
    p->env_end = f[51 - 3];
    p->brk = (uint64_t)syscall(SYS_brk, 0);

    for (int i = 0; i < CRS_RLIMIT_COUNT && i < RLIM_NLIMITS; i++) {
        struct rlimit rl;
        if (prlimit(0, i, NULL, &rl) == 0) {
            p->rlimits[i].cur = rl.rlim_cur;
            p->rlimits[i].max = rl.rlim_max;
        }
    }
    for (int i = 0; i < 3; i++) {
        struct itimerval it;
        if (getitimer(i, &it) == 0) {
            p->itimers[i].interval_us = it.it_interval.tv_sec * 1000000LL + it.it_interval.tv_usec;
            p->itimers[i].value_us = it.it_value.tv_sec * 1000000LL + it.it_value.tv_usec;
        }
    }
    len = crs_read_file("/proc/self/status", buf, 65536);
    if (len > 0)
        p->shared_pending = parse_sigset_line(buf, "ShdPnd:");

    len = crs_read_file("/proc/self/auxv", buf, 65536);
    if (len > 0) {
        c->auxv = crs_scratch_alloc(c->scratch, (size_t)len);
        if (!c->auxv)
            return -ENOMEM;
        memcpy(c->auxv, buf, (size_t)len);
        c->nauxv = (size_t)len / sizeof(uint64_t);
    }
    return 0;
}

uint64_t crs_thread_pending(int tid, struct crs_capture *c)
{
    char path[64], buf[4096];
    (void)c;
    snprintf(path, sizeof path, "/proc/self/task/%d/status", crs_park_proc_tid(tid));
    if (crs_read_file(path, buf, sizeof buf) < 0)
        return 0;
    return parse_sigset_line(buf, "SigPnd:");
}

struct kernel_sigaction {
    uint64_t handler, flags, restorer, mask;
};

int crs_capture_signals(struct crs_capture *c)
{
    for (int sig = 1; sig <= 64; sig++) {
        struct kernel_sigaction ka;
        memset(&ka, 0, sizeof ka);
        if (sig != SIGKILL && sig != SIGSTOP &&
            syscall(SYS_rt_sigaction, sig, NULL, &ka, 8) != 0)
            memset(&ka, 0, sizeof ka);
        c->sig[sig - 1].handler = ka.handler;
        c->sig[sig - 1].flags = ka.flags;
        c->sig[sig - 1].restorer = ka.restorer;
        c->sig[sig - 1].mask = ka.mask;
    }
    return 0;
}
