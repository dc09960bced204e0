/* Critical sections: a word holding the number of threads inside one (low 16
 * bits) and of checkpoints asked for (high 16 bits). Lock-free, because a
 * thread may be parked by a checkpoint at any instruction. */
#define _GNU_SOURCE
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "libcr.h"
#include "crs/libcr/runtime.h"

#define IN_CS_MASK 0xffffu
#define PENDING_ONE 0x10000u

static _Atomic uint32_t cs_word;

static void wait_on(uint32_t seen, long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    syscall(SYS_futex, &cs_word, FUTEX_WAIT_PRIVATE, seen, ms >= 0 ? &ts : NULL, NULL, 0);
}

static void wake_all(void)
{
    syscall(SYS_futex, &cs_word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

int cr_enter_cs(cr_client_id_t id)
{
    (void)id;
    for (;;) {
        uint32_t v = atomic_load(&cs_word);
        if (v >= PENDING_ONE) {
            wait_on(v, -1);
            continue;
        }
        if (atomic_compare_exchange_weak(&cs_word, &v, v + 1))
            return 0;
    }
}

int cr_tryenter_cs(cr_client_id_t id)
{
    (void)id;
    for (;;) {
        uint32_t v = atomic_load(&cs_word);
        if (v >= PENDING_ONE) {
            errno = EAGAIN;
            return -1;
        }
        if (atomic_compare_exchange_weak(&cs_word, &v, v + 1))
            return 0;
    }
}

int cr_leave_cs(cr_client_id_t id)
{
    (void)id;
    for (;;) {
        uint32_t v = atomic_load(&cs_word);
        if (!(v & IN_CS_MASK)) {
            errno = EINVAL;
            return -1;
        }
        if (atomic_compare_exchange_weak(&cs_word, &v, v - 1)) {
            if ((v & IN_CS_MASK) == 1 && v >= PENDING_ONE)
                wake_all();
            return 0;
        }
    }
}

void crs_cs_request_pending(int delta)
{
    if (delta > 0)
        atomic_fetch_add(&cs_word, PENDING_ONE);
    else {
        atomic_fetch_sub(&cs_word, PENDING_ONE);
        wake_all();
    }
}

void crs_cs_forked(void)
{
    atomic_fetch_and(&cs_word, IN_CS_MASK);
}

void crs_cs_wait_clear(void)
{
    for (;;) {
        uint32_t v = atomic_load(&cs_word);
        if (!(v & IN_CS_MASK))
            return;
        wait_on(v, 100);
    }
}
