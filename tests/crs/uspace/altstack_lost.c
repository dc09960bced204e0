/* Alternate signal stacks in memory the image leaves out (a capture filter's region, as the MPI
 * layer's lower half, where UCX gives a thread one), for altstack_lost.sh.
 *   altstack_lost IMAGE
 * The main thread and a second thread each set an alternate stack in one anonymous mapping the
 * filter leaves out. The second thread then sends itself SIGUSR1, whose handler (no SA_ONSTACK:
 * it runs on the thread's own stack) waits inside until the main thread says go; meanwhile the
 * main thread checkpoints the process to IMAGE. After the checkpoint (the original running on, or
 * a restart from IMAGE) each thread, the second one after its SIGUSR1 handler returned, checks
 * that sigaltstack() names the stack it set and raises SIGUSR2 (SA_ONSTACK), whose handler notes
 * whether it ran on that stack. Prints "continue ok" / "restarted ok" (exit 0) or FAIL lines
 * (exit 1). Before session 52 a restart gave each thread a fresh stack at another address, and
 * the return of the second thread's SIGUSR1 handler set the left-out one again (the kernel keeps
 * the stack the thread had in the handler's frame): its SIGUSR2 killed the process (SIGSEGV). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "libcr.h"
#include "crs/base/capture_filter.h"

#define STK (64 * 1024)

static unsigned char *stacks; /* [0, STK): the main thread's; [STK, 2 STK): the second's */
static _Atomic int held, go;
static int fails;

#define FAIL(...) do { printf("FAIL " __VA_ARGS__); printf("\n"); fails++; } while (0)

static int region_exclude(void *arg, uint64_t start, uint64_t end, const char *path, struct crs_span *out, int max)
{
    (void)arg;
    (void)path;
    uint64_t lo = (uint64_t)(uintptr_t)stacks, hi = lo + 2 * STK;
    if (max < 1 || lo >= end || hi <= start)
        return 0;
    out[0].start = lo;
    out[0].end = hi;
    return 1;
}

static void nap(void)
{
    struct timespec d = { 0, 1000000 };
    nanosleep(&d, NULL);
}

/* SIGUSR1, not on the alternate stack: the second thread is inside it at the checkpoint */
static void hold(int sig)
{
    (void)sig;
    atomic_store(&held, 1);
    while (!atomic_load(&go))
        nap();
}

/* SIGUSR2 (SA_ONSTACK): whether it runs on the stack the thread set (kept per thread) */
static __thread volatile sig_atomic_t ran_on;
static __thread const unsigned char *want_sp;

static void on_alt(int sig)
{
    (void)sig;
    unsigned char here;
    ran_on = &here >= want_sp && &here < want_sp + STK ? 1 : -1;
}

static void set_alt(const unsigned char *sp)
{
    stack_t ss = { .ss_sp = (void *)sp, .ss_size = STK, .ss_flags = 0 };
    want_sp = sp;
    if (sigaltstack(&ss, NULL) != 0)
        FAIL("sigaltstack: %s", strerror(errno));
}

/* after the checkpoint: the stack is still the one set, and a SA_ONSTACK signal runs on it */
static void check_alt(const char *who)
{
    stack_t ss;
    if (sigaltstack(NULL, &ss) != 0 || (ss.ss_flags & SS_DISABLE))
        FAIL("%s: no alternate stack after the checkpoint", who);
    else if (ss.ss_sp != (void *)want_sp || ss.ss_size != STK)
        FAIL("%s: alternate stack %p (%zu bytes) after the checkpoint, set %p (%d)", who, ss.ss_sp,
             ss.ss_size, (void *)want_sp, STK);
    ran_on = 0;
    raise(SIGUSR2);
    if (ran_on != 1)
        FAIL("%s: the SA_ONSTACK handler %s", who, ran_on ? "ran on another stack" : "did not run");
}

static void *second(void *arg)
{
    (void)arg;
    set_alt(stacks + STK);
    raise(SIGUSR1); /* back from hold once the main thread says go, after the checkpoint */
    check_alt("second thread");
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (cr_init() < 0)
        return 2;
    stacks = mmap(NULL, 2 * STK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stacks == MAP_FAILED)
        return 2;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = hold;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_alt;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR2, &sa, NULL);
    struct crs_capture_filter flt = { .owner = "test", .region_exclude = region_exclude };
    if (crs_capture_filter_register(&flt) != 0)
        return 2;
    set_alt(stacks);
    pthread_t t;
    if (pthread_create(&t, NULL, second, NULL) != 0)
        return 2;
    while (!atomic_load(&held))
        nap();

    cr_checkpoint_args_t args;
    cr_initialize_checkpoint_args_t(&args);
    args.cr_fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    cr_checkpoint_handle_t h;
    if (args.cr_fd < 0 || cr_request_checkpoint(&args, &h) != 0)
        return 2;
    int r;
    while ((r = cr_poll_checkpoint(&h, NULL)) < 0 && errno == EINTR)
        ;
    int restarted = r < 0 && errno == CR_ERESTARTED;
    if (!restarted && r != 1)
        FAIL("the checkpoint failed: %s", strerror(errno));
    check_alt("main thread");
    atomic_store(&go, 1);
    pthread_join(t, NULL);
    printf("%s %s\n", restarted ? "restarted" : "continue", fails ? "FAIL" : "ok");
    return fails ? 1 : 0;
}
