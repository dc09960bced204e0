/*
 * State test: memory shared copy-on-write with a parent (crs_direct.sh, part cow; session 35).
 * The program fills CRT_COW_MB (default 32) MiB of private anonymous memory with pseudo-random
 * bytes and forks. The parent then only waits for its child and ends with the child's status:
 * it never touches that memory, so its pages stay shared copy-on-write between the two until
 * one writes (or the kernel pins) them. The child is the process under test: it prints the
 * lines, stops at the checkpoint points (its pid in the ready files) and checks the memory's
 * hash at each. A direct write of an image pins the pages it reads, and the kernel gives the
 * pinning process a copy of a page it shares so: crs_direct.sh reads the child's Shared_Dirty
 * (/proc/PID/smaps_rollup) after a checkpoint that left it running.
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned char *mem;
static size_t mem_len;
static uint64_t mem_sum0;

static void check(const char *when)
{
    crt_check_when("shared memory", when, crt_hash(mem, mem_len, 5) == mem_sum0, "its bytes changed");
}

int main(void)
{
    mem_len = (size_t)crt_env_long("CRT_COW_MB", 32) << 20;
    mem = mmap(NULL, mem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        crt_die("mmap %zu MiB: %s", mem_len >> 20, strerror(errno));
    crt_fill(mem, mem_len, 11);
    mem_sum0 = crt_hash(mem, mem_len, 5);
    fflush(stdout);
    pid_t child = fork();
    if (child < 0)
        crt_die("fork: %s", strerror(errno));
    if (child > 0) {
        int st;
        while (waitpid(child, &st, 0) < 0)
            if (errno != EINTR)
                _exit(CRT_EXIT_SETUP);
        _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    }
    crt_say("memory: %zu MiB shared with the parent", mem_len >> 20);
    crt_check_around_points(check);
}
