/* A self-checkpointing rank (rst_step.h) that forbids itself a call the MPI library's MPI_Init
 * makes and the program never does:
 *   rst_lockdown STEPS [DIR CKPT_STEP[,CKPT_STEP2] [--exit]]
 *   rst_lockdown --arch-only: exits 0 (no MPI) where the filter applies, 77 with a SKIP line
 *                             elsewhere (built for another arch than x86_64)
 * Once MPI is up every rank sets no_new_privs and installs a seccomp filter for all its threads
 * (SECCOMP_FILTER_FLAG_TSYNC) that makes that call fail with EACCES. Measured (strace, and the
 * filter put in before a native MPI_Init, which then fails; after it, a native run is whole):
 * Open MPI 4.1's MPI_Init makes stream sockets (PMIx: socket(AF_UNIX, SOCK_STREAM)), forbidden
 * here (libcr's own requests use SOCK_SEQPACKET); MPICH 4.0 (ch4:ucx)'s MPI_Init listens
 * (listen(2), forbidden here; its sockets come after MPI_Finalize too). Each step checks that
 * the call still fails with EACCES (a failed check spoils the step's sum); rank 0 prints "step N:
 * SUM" and "done: ACC". A restart must run the fresh lower half's MPI_Init before the filter goes
 * in again, and put it in before the program runs on (diffrev19 LOW-D: pml_restart_capture took
 * its image through libcr's request path, whose restart put the filter in first and the fresh
 * MPI_Init failed). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rst_step.h"

const char rst_name[] = "rst_lockdown";

#ifdef OPEN_MPI
#define FORBIDDEN "socket(AF_UNIX, SOCK_STREAM)"
/* socket(2) of type SOCK_STREAM */
#define MATCH                                                                                     \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 0, 4),                                        \
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),                   \
    BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xf),                                                     \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SOCK_STREAM, 0, 1)
#define SKIP 6
static int try_call(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0)
        close(fd);
    return fd;
}
#else
#define FORBIDDEN "listen"
#define MATCH                                                                                     \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_listen, 0, 1)
#define SKIP 3
static int try_call(void)
{
    return listen(-1, 1); /* EBADF when allowed */
}
#endif

static void lock_down(void)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, SKIP),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        MATCH,
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog p = { sizeof f / sizeof f[0], f };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &p) != 0)
        rst_die("cannot install the seccomp filter");
}

/* 0 while the filter is in effect */
static int lost(int me, int step)
{
    errno = 0;
    if (try_call() < 0 && errno == EACCES)
        return 0;
    fprintf(stderr, "rank %d step %d: %s is allowed again\n", me, step, FORBIDDEN);
    return 1;
}

int main(int argc, char **argv)
{
#if !defined(__x86_64__)
    /* The filter matches x86_64's calls only (AUDIT_ARCH_X86_64, its numbers) and lets every
     * other arch through, so nothing would be forbidden here: skipped, named (diffrev23 L4). */
    (void)argc;
    (void)argv;
    printf("SKIP: rst_lockdown's seccomp filter is written for x86_64 only\n");
    return 77;
#endif
    if (argc == 2 && !strcmp(argv[1], "--arch-only"))
        return 0;   /* rst_lockdown.sh: this build's arch is the filter's */
    int me, size;
    struct rst_args a = rst_start(&argc, &argv, 1, "", &me, &size);
    lock_down();
    long acc = 0;
    for (int s = 0; s < a.steps; s++) {
        long x = (long)(me + 1) * (s + 3) + 1000 * lost(me, s);
        long sum = rst_total(x);
        acc += sum;
        if (me == 0)
            printf("step %d: %ld\n", s, sum);
        rst_step_end(&a, s);
    }
    if (me == 0)
        printf("done: %ld\n", acc);
    CHECK(MPI_Finalize());
    return 0;
}
