/* A seccomp filter that refuses one system call with one errno and allows every other, as a
 * sandbox does (tests/crs/uspace/no_vm_writev.c: process_vm_writev with EPERM;
 * tests/mpi/ckpt/rst_seccomp.c: times with EXDEV). The test programs' one copy of it. */
#ifndef REVIVE_TESTS_SECCOMP_REFUSE_H
#define REVIVE_TESTS_SECCOMP_REFUSE_H

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define SECCOMP_REFUSE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SECCOMP_REFUSE_ARCH AUDIT_ARCH_AARCH64
#else
#error "seccomp_refuse.h: add this architecture's AUDIT_ARCH"
#endif

/* Sets no_new_privs (so that any user may install a filter), then a filter under which system
 * call nr fails with err (another architecture's calls are allowed as they are); flags: 0 (this
 * thread, and what it starts), or SECCOMP_FILTER_FLAG_TSYNC (every thread of the process). Kept
 * across execve and by children. 0, or -1 with errno (prctl's or seccomp's). */
static inline int seccomp_refuse(long nr, int err, unsigned int flags)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_REFUSE_ARCH, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)nr, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned int)err & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog p = { sizeof f / sizeof f[0], f };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &p) != 0 ? -1 : 0;
}

#endif
