/* The gate: every entry into the layer marks its thread's slot, and parks while a checkpoint
 * owns the lower half (see ckpt.h for the slot word and the asymmetric fence). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/ckpt.h"

#include <errno.h>
#include <linux/membarrier.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct pml_slot pml_slots[PML_MAX_SLOTS];
union pml_gatew pml_gatew = {.s = {.need_fence = 1}}; /* fenced until membarrier is known to work */
__thread struct pml_slot *pml_self __attribute__((tls_model("initial-exec")));
pthread_mutex_t pml_ck_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t pml_ck_cond = PTHREAD_COND_INITIALIZER;

static volatile int slot_lock;

/* A slot whose thread is gone (its tid no longer names a thread of this process; a reused tid
 * only keeps the old slot alive). No pthread key tells us when a thread ends: keys of the upper
 * libc and of the lower half's own libc share the slots in the thread descriptor, so a key made
 * here would be read by the MPI library as one of its own. */
static struct pml_slot *reclaim(void)
{
    pid_t pid = getpid();
    for (int i = 0; i < PML_MAX_SLOTS; i++) {
        struct pml_slot *t = &pml_slots[i];
        if (t->used && !(t->w & (PML_T_IN | PML_T_PARK)) &&
            syscall(SYS_tgkill, pid, t->tid, 0) != 0 && errno == ESRCH)
            return t;
    }
    return NULL;
}

struct pml_slot *pml_slot_new(void)
{
    while (__atomic_exchange_n(&slot_lock, 1, __ATOMIC_ACQUIRE))
        __builtin_ia32_pause();
    struct pml_slot *t = NULL;
    for (int i = 0; i < PML_MAX_SLOTS; i++)
        if (!pml_slots[i].used) {
            t = &pml_slots[i];
            break;
        }
    if (!t)
        t = reclaim();
    if (t) {
        memset(t, 0, sizeof *t);
        t->used = 1;
        t->tid = (pid_t)syscall(SYS_gettid);
    }
    __atomic_store_n(&slot_lock, 0, __ATOMIC_RELEASE);
    if (!t)
        pml_fatal("more than %d threads call MPI", PML_MAX_SLOTS);
    pml_self = t;
    return t;
}

/* The process's threads run a full barrier when the agent asks (membarrier), so an entry pays
 * only a compiler barrier. */
void pml_gate_init(void)
{
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0) {
        pml_need_fence = 0;
    } else {
        revive_log_info("membarrier is not available (%s): every MPI call pays a memory fence",
                strerror(errno));
    }
}

int pml_membarrier(void)
{
    if (pml_need_fence) {
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        return 0;
    }
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
        return -errno;
    return 0;
}

/* Park while the gate is closed. The slot says PARK (not IN) meanwhile, so the agent does not
 * wait for this thread; the word is set back to IN under the lock, which the agent holds when
 * it closes the gate. */
void pml_gate_park(struct pml_slot *t, uint32_t fid)
{
    uint32_t keep = t->w & (PML_T_WAIT | PML_T_CS);
    if (!(keep & PML_T_CS))
        t->cs = NULL; /* not at a collective: cs may name a communicator freed since */
    pthread_mutex_lock(&pml_ck_lock);
    while (pml_ck_flags & PML_CK_GATE) {
        __atomic_store_n(&t->w, fid << 8 | PML_T_PARK | keep, __ATOMIC_RELEASE);
        pml_gate_wait();
    }
    t->w = fid << 8 | PML_T_IN | keep;
    pthread_mutex_unlock(&pml_ck_lock);
}

void pml_gate_slow(struct pml_slot *t, uint32_t prev, uint32_t fid)
{
    if ((prev & PML_T_IN) || t->agent)
        return; /* nested (a callback inside a call) or the agent itself */
    if (pml_ck_flags & PML_CK_GATE)
        pml_gate_park(t, fid);
}
