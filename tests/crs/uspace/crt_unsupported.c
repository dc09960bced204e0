/*
 * State program for checkpoints Revive refuses (review 13 HIGH-12, HIGH-8).
 * `crt_unsupported pkey`: one page behind a memory protection key with
 * access disabled (pkey_set), opened only while the program checks it; a
 * capture that read it killed the process with SIGSEGV. Before point 2 the
 * key is dropped (pkey_mprotect back to key 0, pkey_free), so point 2 can be
 * checkpointed and restarted. `crt_unsupported seccomp`: a seccomp filter
 * that makes sync_file_range fail with errno 77, probed at each check; it
 * holds to the end (a restart would lose it). Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int pkey = -1;
static unsigned char *page;
static int use_seccomp;

static void check(const char *when)
{
    char name[128];
    if (use_seccomp) {
        errno = 0;
        int r = sync_file_range(1, 0, 0, 0);
        snprintf(name, sizeof name, "the seccomp filter holds %s", when);
        crt_check(name, r < 0 && errno == 77, "sync_file_range %d errno %d", r, errno);
        return;
    }
    if (pkey >= 0)
        pkey_set(pkey, 0);
    snprintf(name, sizeof name, "the page's bytes %s", when);
    CRT_CHECK_U64(name, crt_hash(page, 4096, 1), crt_hash(page + 4096, 4096, 1));
    if (pkey >= 0)
        pkey_set(pkey, PKEY_DISABLE_ACCESS);
    if (pkey >= 0 && !strcmp(when, "after point 1")) {
        /* dropped before point 2, which is checkpointed */
        if (pkey_mprotect(page, 4096, PROT_READ | PROT_WRITE, 0) || pkey_free(pkey))
            crt_die("dropping the protection key: %s", strerror(errno));
        pkey = -1;
        crt_say("the protection key is dropped");
    }
}

int main(int argc, char **argv)
{
    if (argc != 2)
        crt_die("usage: crt_unsupported pkey|seccomp");
    if (!strcmp(argv[1], "seccomp")) {
        struct sock_filter f[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_sync_file_range, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 77),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = { .len = sizeof f / sizeof f[0], .filter = f };
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
            crt_die("seccomp filter: %s", strerror(errno));
        use_seccomp = 1;
        crt_say("runs under a seccomp filter");
    } else {
        page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (page == MAP_FAILED)
            crt_die("mmap: %s", strerror(errno));
        crt_fill(page, 4096, 7);
        memcpy(page + 4096, page, 4096);
        pkey = pkey_alloc(0, 0);
        if (pkey < 0)
            crt_die("pkey_alloc: %s", strerror(errno));
        if (pkey_mprotect(page, 4096, PROT_READ | PROT_WRITE, pkey) || pkey_set(pkey, PKEY_DISABLE_ACCESS))
            crt_die("pkey_mprotect: %s", strerror(errno));
        crt_say("one page behind a protection key with access disabled");
    }
    crt_check_around_points(check);
}
