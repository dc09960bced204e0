/* The program's CPU-time calls in a restarted process go on from the values it could have seen
 * before the checkpoint (newuser8 F2; the offsets: crs/uspace/cpu_clocks.h): clock_gettime of
 * CLOCK_PROCESS_CPUTIME_ID and CLOCK_THREAD_CPUTIME_ID, clock(), times() and getrusage() add
 * them. Every other clock goes straight to libc's (one compare more; bench/crs/cpuclock.sh), and
 * until a restart the CPU ones too (one load more). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "libcr"
#include <dlfcn.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

#include "crs/libcr/runtime.h"
#include "crs/uspace/cpu_clocks.h"

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);
typedef clock_t (*clock_fn)(void);
typedef clock_t (*times_fn)(struct tms *);
typedef int (*getrusage_fn)(int, struct rusage *);

#ifdef REVIVE_LIBCR_STATIC
int __real_clock_gettime(clockid_t, struct timespec *);
clock_t __real_clock(void);
clock_t __real_times(struct tms *);
int __real_getrusage(int, struct rusage *);
int __wrap_clock_gettime(clockid_t, struct timespec *);
clock_t __wrap_clock(void);
clock_t __wrap_times(struct tms *);
int __wrap_getrusage(int, struct rusage *);
#endif

#define NSEC 1000000000LL

static void add_ns(struct timespec *ts, int64_t off)
{
    int64_t ns = (int64_t)ts->tv_sec * NSEC + ts->tv_nsec + off;
    if (ns < 0)
        ns = 0;
    ts->tv_sec = (time_t)(ns / NSEC);
    ts->tv_nsec = (long)(ns % NSEC);
}

static void add_tv(struct timeval *tv, int64_t off)
{
    int64_t us = (int64_t)tv->tv_sec * 1000000 + tv->tv_usec + off / 1000;
    if (us < 0)
        us = 0;
    tv->tv_sec = (time_t)(us / 1000000);
    tv->tv_usec = (suseconds_t)(us % 1000000);
}

static clock_gettime_fn next_clock_gettime(void)
{
    static clock_gettime_fn real;
    if (!real)
        real = CRS_NEXT(clock_gettime_fn, clock_gettime);
    return real;
}

static int real_clock_gettime(clockid_t id, struct timespec *ts)
{
    clock_gettime_fn real = next_clock_gettime();
    return real ? real(id, ts) : (int)syscall(SYS_clock_gettime, id, ts);
}

int CRS_INTERPOSE(clock_gettime)(clockid_t id, struct timespec *ts)
{
    if ((id != CLOCK_PROCESS_CPUTIME_ID && id != CLOCK_THREAD_CPUTIME_ID) || !crs_cpu_any)
        return real_clock_gettime(id, ts);
    int r = real_clock_gettime(id, ts);
    if (r == 0) {
        int64_t off = crs_cpu_off.proc;
        if (id == CLOCK_THREAD_CPUTIME_ID)
            crs_cpu_thread_offsets(&off, NULL, NULL);
        add_ns(ts, off);
    }
    return r;
}

clock_t CRS_INTERPOSE(clock)(void)
{
    if (!crs_cpu_any) {
        static clock_fn real;
        if (!real)
            real = CRS_NEXT(clock_fn, clock);
        if (real)
            return real();
    }
    /* as glibc's clock(): the process CPU clock in CLOCKS_PER_SEC */
    struct timespec ts;
    if (real_clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
        return (clock_t)-1;
    if (crs_cpu_any)
        add_ns(&ts, crs_cpu_off.proc);
    return (clock_t)(ts.tv_sec * CLOCKS_PER_SEC + ts.tv_nsec / (NSEC / CLOCKS_PER_SEC));
}

static clock_t ticks(int64_t ns, int64_t per)
{
    return (clock_t)(ns > 0 ? ns / per : 0);
}

clock_t CRS_INTERPOSE(times)(struct tms *buf)
{
    static times_fn real;
    if (!real)
        real = CRS_NEXT(times_fn, times);
    clock_t r = real ? real(buf) : (clock_t)syscall(SYS_times, buf);
    if (r == (clock_t)-1 || !buf || !crs_cpu_any)
        return r;
    long tck = sysconf(_SC_CLK_TCK);
    if (tck <= 0)
        return r;
    /* The ticks of the sum (the kernel's time plus the offset), not the kernel's ticks plus the
     * offset's: each floor loses up to a tick, and times() went back by up to 2 ticks after a
     * restart (crs_cputime in the CI of 3c3fab6). getrusage has the kernel's times in
     * microseconds, which a tick divides, so before a checkpoint this equals the kernel's times(). */
    int64_t per = NSEC / tck;
    int64_t u, s;
    if (crs_cpu_usage_ns(RUSAGE_SELF, &u, &s) == 0) {
        buf->tms_utime = ticks(u + crs_cpu_off.user, per);
        buf->tms_stime = ticks(s + crs_cpu_off.sys, per);
    }
    if (crs_cpu_usage_ns(RUSAGE_CHILDREN, &u, &s) == 0) {
        buf->tms_cutime = ticks(u + crs_cpu_off.cuser, per);
        buf->tms_cstime = ticks(s + crs_cpu_off.csys, per);
    }
    return r;
}

int CRS_INTERPOSE(getrusage)(int who, struct rusage *ru)
{
    static getrusage_fn real;
    if (!real)
        real = CRS_NEXT(getrusage_fn, getrusage);
    int r = real ? real(who, ru) : (int)syscall(SYS_getrusage, who, ru);
    if (r != 0 || !ru || !crs_cpu_any)
        return r;
    int64_t u = 0, s = 0;
    if (who == RUSAGE_SELF) {
        u = crs_cpu_off.user;
        s = crs_cpu_off.sys;
    } else if (who == RUSAGE_CHILDREN) {
        u = crs_cpu_off.cuser;
        s = crs_cpu_off.csys;
    } else if (who == RUSAGE_THREAD) {
        crs_cpu_thread_offsets(NULL, &u, &s);
    }
    add_tv(&ru->ru_utime, u);
    add_tv(&ru->ru_stime, s);
    return r;
}
