/* The CPU-time clocks across a restart: see cpu_clocks.h. */
#define _GNU_SOURCE
#include "crs/uspace/cpu_clocks.h"

#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

volatile int crs_cpu_any;
struct crs_cpu_offsets crs_cpu_off;

/* the largest values the program's threads could have seen when they parked (only grow: a
 * restarted process goes on from them) */
static _Atomic int64_t seen_proc, seen_user, seen_sys, seen_cuser, seen_csys;

/* this thread's: offsets in force, and the values it parked with */
static __thread int64_t t_off_cpu __attribute__((tls_model("initial-exec")));
static __thread int64_t t_off_user __attribute__((tls_model("initial-exec")));
static __thread int64_t t_off_sys __attribute__((tls_model("initial-exec")));
static __thread int64_t t_seen_cpu __attribute__((tls_model("initial-exec")));
static __thread int64_t t_seen_user __attribute__((tls_model("initial-exec")));
static __thread int64_t t_seen_sys __attribute__((tls_model("initial-exec")));

/* the kernel's counts, by system calls (not through libc: libcr interposes clock_gettime) */
static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    if (syscall(SYS_clock_gettime, id, &ts) != 0)
        return -1;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int crs_cpu_usage_ns(int who, int64_t *user, int64_t *sys)
{
    struct rusage ru;
    if (syscall(SYS_getrusage, who, &ru) != 0)
        return -1;
    *user = (int64_t)ru.ru_utime.tv_sec * 1000000000 + (int64_t)ru.ru_utime.tv_usec * 1000;
    *sys = (int64_t)ru.ru_stime.tv_sec * 1000000000 + (int64_t)ru.ru_stime.tv_usec * 1000;
    return 0;
}

static void raise_to(_Atomic int64_t *p, int64_t v)
{
    int64_t cur = atomic_load(p);
    while (cur < v && !atomic_compare_exchange_weak(p, &cur, v))
        ;
}

void crs_cpu_thread_offsets(int64_t *cpu, int64_t *user, int64_t *sys)
{
    if (cpu)
        *cpu = t_off_cpu;
    if (user)
        *user = t_off_user;
    if (sys)
        *sys = t_off_sys;
}

void crs_cpu_park_note(void)
{
    int64_t v, u, s;
    if ((v = clock_ns(CLOCK_THREAD_CPUTIME_ID)) >= 0)
        t_seen_cpu = v + t_off_cpu;
    if (crs_cpu_usage_ns(RUSAGE_THREAD, &u, &s) == 0) {
        t_seen_user = u + t_off_user;
        t_seen_sys = s + t_off_sys;
    }
    if ((v = clock_ns(CLOCK_PROCESS_CPUTIME_ID)) >= 0)
        raise_to(&seen_proc, v + crs_cpu_off.proc);
    if (crs_cpu_usage_ns(RUSAGE_SELF, &u, &s) == 0) {
        raise_to(&seen_user, u + crs_cpu_off.user);
        raise_to(&seen_sys, s + crs_cpu_off.sys);
    }
    if (crs_cpu_usage_ns(RUSAGE_CHILDREN, &u, &s) == 0) {
        raise_to(&seen_cuser, u + crs_cpu_off.cuser);
        raise_to(&seen_csys, s + crs_cpu_off.csys);
    }
}

void crs_cpu_thread_restarted(void)
{
    int64_t v, u, s;
    if ((v = clock_ns(CLOCK_THREAD_CPUTIME_ID)) >= 0)
        t_off_cpu = t_seen_cpu - v;
    if (crs_cpu_usage_ns(RUSAGE_THREAD, &u, &s) == 0) {
        t_off_user = t_seen_user - u;
        t_off_sys = t_seen_sys - s;
    }
}

void crs_cpu_restarted(void)
{
    int64_t v, u, s;
    if ((v = clock_ns(CLOCK_PROCESS_CPUTIME_ID)) >= 0)
        crs_cpu_off.proc = atomic_load(&seen_proc) - v;
    if (crs_cpu_usage_ns(RUSAGE_SELF, &u, &s) == 0) {
        crs_cpu_off.user = atomic_load(&seen_user) - u;
        crs_cpu_off.sys = atomic_load(&seen_sys) - s;
    }
    if (crs_cpu_usage_ns(RUSAGE_CHILDREN, &u, &s) == 0) {
        crs_cpu_off.cuser = atomic_load(&seen_cuser) - u;
        crs_cpu_off.csys = atomic_load(&seen_csys) - s;
    }
    crs_cpu_any = 1;
}

void crs_cpu_forked(void)
{
    crs_cpu_off = (struct crs_cpu_offsets){0};
    t_off_cpu = t_off_user = t_off_sys = 0;
    t_seen_cpu = t_seen_user = t_seen_sys = 0;
    atomic_store(&seen_proc, 0);
    atomic_store(&seen_user, 0);
    atomic_store(&seen_sys, 0);
    atomic_store(&seen_cuser, 0);
    atomic_store(&seen_csys, 0);
    crs_cpu_any = 0;
}
