/* Part of the lower namespace's root library: a one-rank window's memory in a shared mapping
 * while the layer arms it (why and how: lower_winmem.h). No lock: the table's slots are claimed
 * and released with atomic exchanges (free may come from any thread of the library), and so are
 * the armed threads'. */
#define _GNU_SOURCE
#include "pml_hooks/lower_winmem.h"

#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

int revive_winmem_armed;
int revive_winmem_out;

/* The threads armed now (one per window being made: threads may make windows on different
 * communicators at once), each with its size and the chunks served to it. */
#define ARMS 16
static struct {
    pthread_t th;
    int on; /* 0 free, 1 being set, 2 armed */
    size_t size;
    int served;
} arm[ARMS];

/* Every chunk out: its address (0 free, 1 being filled or emptied) and its mapping's length.
 * More windows of one rank alive at once than this get the lower libc's memory (a restart from
 * a snapshot with one of those is refused, as before this file: win_ckpt.c). */
#define SLOTS 1024
static struct {
    uintptr_t p;
    size_t len;
} slot[SLOTS];
static int top; /* slots at or above are free */

static int my_arm(void)
{
    pthread_t me = pthread_self();
    for (int i = 0; i < ARMS; i++)
        if (__atomic_load_n(&arm[i].on, __ATOMIC_ACQUIRE) == 2 && pthread_equal(arm[i].th, me))
            return i;
    return -1;
}

int revive_lower_winmem_arm(size_t size)
{
#ifdef PML_LOWER_NO_WINMEM
    /* MPICH's root: the layer serves a one-rank window's memory itself (win.c) and never arms;
     * its free does not look for these chunks, so none may be served */
    return size ? -1 : 0;
#endif
    int i = my_arm();
    if (!size) { /* disarm */
        if (i < 0)
            return 0;
        int n = arm[i].served;
        __atomic_store_n(&arm[i].on, 0, __ATOMIC_RELEASE);
        __atomic_sub_fetch(&revive_winmem_armed, 1, __ATOMIC_SEQ_CST);
        revive_lower_fast_update(); /* the fast path back when nobody is armed */
        return n;
    }
    if (i < 0) {
        for (i = 0; i < ARMS; i++) {
            int zero = 0;
            if (__atomic_compare_exchange_n(&arm[i].on, &zero, 1, 0, __ATOMIC_ACQ_REL,
                                            __ATOMIC_RELAXED))
                break;
        }
        if (i == ARMS)
            return -1; /* not armed: the library's heap, as before this file */
        arm[i].th = pthread_self();
        __atomic_add_fetch(&revive_winmem_armed, 1, __ATOMIC_SEQ_CST);
        revive_lower_fast_update(); /* every allocation by the slow path from here */
    }
    arm[i].size = size;
    arm[i].served = 0;
    __atomic_store_n(&arm[i].on, 2, __ATOMIC_RELEASE);
    return 0;
}

void *revive_winmem_take(size_t n, size_t al)
{
    int a = my_arm();
    if (a < 0 || arm[a].size != n || !n || al > 4096)
        return NULL;
    int i;
    for (i = 0; i < SLOTS; i++) {
        uintptr_t zero = 0;
        if (__atomic_compare_exchange_n(&slot[i].p, &zero, 1, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED))
            break;
    }
    if (i == SLOTS)
        return NULL;
    size_t len = (n + 4095) & ~(size_t)4095;
    /* this library's mmap (lower_root.c): reported as the MPI library's memory */
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        __atomic_store_n(&slot[i].p, 0, __ATOMIC_RELEASE);
        return NULL;
    }
    slot[i].len = len;
    __atomic_store_n(&slot[i].p, (uintptr_t)m, __ATOMIC_RELEASE);
    int t = __atomic_load_n(&top, __ATOMIC_RELAXED);
    while (t < i + 1 && !__atomic_compare_exchange_n(&top, &t, i + 1, 1, __ATOMIC_RELEASE,
                                                     __ATOMIC_RELAXED))
        ;
    __atomic_add_fetch(&revive_winmem_out, 1, __ATOMIC_SEQ_CST);
    arm[a].served++;
    return m;
}

static int find(const void *p)
{
    int t = __atomic_load_n(&top, __ATOMIC_ACQUIRE);
    for (int i = 0; i < t; i++)
        if (__atomic_load_n(&slot[i].p, __ATOMIC_ACQUIRE) == (uintptr_t)p)
            return i;
    return -1;
}

size_t revive_winmem_len(const void *p)
{
    int i = find(p);
    return i < 0 ? 0 : slot[i].len;
}

int revive_winmem_release(void *p)
{
    int i = find(p);
    uintptr_t want = (uintptr_t)p;
    if (i < 0 || !__atomic_compare_exchange_n(&slot[i].p, &want, 1, 0, __ATOMIC_ACQ_REL,
                                              __ATOMIC_RELAXED))
        return 0; /* not ours (a double free of ours is the library's error, as natively) */
    munmap(p, slot[i].len);
    __atomic_sub_fetch(&revive_winmem_out, 1, __ATOMIC_SEQ_CST);
    __atomic_store_n(&slot[i].p, 0, __ATOMIC_RELEASE);
    return 1;
}
