/* The MPI library's memory shaped like a malloc chunk at a snapshot stays the library's (diffrev32
 * R-L9): a region that appears while MPI_Init runs and that nothing explains is the library's,
 * unless it is a chunk the application's malloc mapped (src/pml_hooks/halves_moments.c); the rule
 * is looked at again at each capture for a chunk whose header was not written yet when MPI_Init
 * ended. Looking at every page of the library's memory again took a live buffer of the library
 * whose bytes at a page start read like a chunk's header for the application's (saved, restored).
 *   rank_libchunk
 * A thread maps three regions with the raw system call (no wrapper sees them: they count as the
 * library's, as its own raw mappings and buffers do) once the lower half is loaded, while MPI_Init
 * runs: A written at once (a buffer the library uses), B and C left as zeros. After MPI_Init:
 * A gets a chunk's header at its start (a buffer whose data looks like one); B gets other data,
 * then, after a first MPIX_Checkpoint, a chunk's header; C gets a chunk's header (the case the
 * recheck is for: a chunk of the application's whose header came late). After a second
 * MPIX_Checkpoint each region's half is asked (pml_half_of_region). Prints one line per region
 * ("A: lower why: ..."), then "verdict: ok" (A and B the library's, C the application's), or
 * "verdict: BAD ..." or "verdict: none ..." (the regions were not made while MPI_Init ran: proves
 * nothing). Natively (no layer) it prints "verdict: native". */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <mpi.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mpix_ckpt.h"

#define PAGES 8
#define LEN (PAGES * 4096UL)
static char *reg[3];
static atomic_int phase; /* 0 before MPI_Init, 1 while it runs, 2 returned */
static atomic_int made;

static int lower_loaded(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096];
    int yes = 0;
    while (f && !yes && fgets(line, sizeof line, f))
        yes = strstr(line, "revive-lower-") != NULL;
    if (f)
        fclose(f);
    return yes;
}

static void put(char *page, uint64_t w0, uint64_t w1)
{
    memcpy(page, &w0, 8);
    memcpy(page + 8, &w1, 8);
}

static void *mapper(void *arg)
{
    (void)arg;
    while (atomic_load(&phase) == 0)
        usleep(100);
    for (int i = 0; i < 50000 && atomic_load(&phase) == 1 && !lower_loaded(); i++)
        usleep(200);
    if (atomic_load(&phase) != 1)
        return NULL;
    for (int k = 0; k < 3; k++) {
        long p = syscall(SYS_mmap, NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        reg[k] = p == -1 ? NULL : (char *)p;
    }
    for (unsigned long o = 0; reg[0] && o < LEN; o += 4096)
        put(reg[0] + o, 0x5eed000000000000ull + o, 0x77); /* a live buffer of the library's */
    atomic_store(&made, reg[0] && reg[1] && reg[2]);
    return NULL;
}

typedef int half_fn(uint64_t, uint64_t, const char *, const char **);
typedef const char *name_fn(int);

static int ask(half_fn *half, name_fn *name, const char *what, const char *r, const char **why)
{
    int h = half((uintptr_t)r, (uintptr_t)r + LEN, "", why);
    printf("%s: %s why: %s\n", what, name(h), *why ? *why : "?");
    return h;
}

static int ckpt(void)
{
    int flag = -1;
    int rc = MPIX_Checkpoint(&flag);
    if (rc != MPI_SUCCESS || flag != MPIX_CKPT_CONTINUE) {
        printf("verdict: BAD: MPIX_Checkpoint returned %d, flag %d\n", rc, flag);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    pthread_t t;
    if (pthread_create(&t, NULL, mapper, NULL))
        return 2;
    atomic_store(&phase, 1);
    MPI_Init(&argc, &argv);
    atomic_store(&phase, 2);
    pthread_join(t, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);
    half_fn *half = (half_fn *)dlsym(RTLD_DEFAULT, "pml_half_of_region");
    name_fn *name = (name_fn *)dlsym(RTLD_DEFAULT, "pml_half_name");
    if (!half || !name) {
        printf("verdict: native\n");
        MPI_Finalize();
        return 0;
    }
    const char *why = NULL, *init_why = NULL;
    int before = 0;
    if (atomic_load(&made)) {
        before = ask(half, name, "A at MPI_Init's end", reg[0], &init_why);
        for (int k = 1; k < 3 && before == 2; k++)
            before = half((uintptr_t)reg[k], (uintptr_t)reg[k] + LEN, "", &why) == 2 && why == init_why ? 2 : 0;
    }
    if (before != 2 || !init_why || !strstr(init_why, "MPI library was loaded")) {
        printf("verdict: none: the regions were not made while MPI_Init ran (%s)\n", made ? "after its end" : "not made");
        MPI_Finalize();
        return 0;
    }
    put(reg[0], 0, LEN | 2); /* A: the library's buffer, its data like a chunk's header */
    put(reg[2], 0, LEN | 2); /* C: the application's chunk, its header written late */
    memset(reg[2] + 16, 0xc3, 4096);
    for (unsigned long o = 0; o < LEN; o += 4096)
        put(reg[1] + o, 0x1234567800000000ull + o, 0x99); /* B: written by the library first */
    if (ckpt())
        goto out;
    put(reg[1], 0, LEN | 2); /* B: then its data like a chunk's header */
    if (ckpt())
        goto out;
    int a = ask(half, name, "A", reg[0], &why), b = ask(half, name, "B", reg[1], &why);
    int c = ask(half, name, "C", reg[2], &why);
    if (a == 2 && b == 2 && c == 1)
        printf("verdict: ok\n");
    else
        printf("verdict: BAD:%s%s%s\n", a != 2 ? " A (the library's buffer written before MPI_Init's end) is not the library's" : "",
               b != 2 ? " B (the library's buffer written before the first snapshot) is not the library's" : "",
               c != 1 ? " C (the application's chunk, header after MPI_Init's end) is not the application's" : "");
out:
    MPI_Finalize();
    return 0;
}
