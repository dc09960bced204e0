/* A System V object made again under the id it had (restore_sysv.c's
 * segments, restore_sysvipc.c's semaphore sets and message queues).
 *
 * The kernel lets root (or CAP_CHECKPOINT_RESTORE) choose the id of the
 * next object made: kernel.shm_next_id, sem_next_id, msg_next_id. Each is
 * the IPC namespace's, and the next shmget, semget or msgget of any process
 * there takes it (and clears it). A tree's members restore side by side,
 * each in a process of its own, and two cr_restarts may run at once: one
 * writing its id between another's write and that one's semget swaps their
 * ids (crs_tree's "semaphore set 4 is now 5, set 5 is now 8"). So every
 * restart takes a lock on its IPC namespace for "write the id, make the
 * object, look at the id obtained": flock on /proc/self/ns/ipc, whose
 * inode is the namespace's for every process in it, whatever its mount or
 * pid namespace (measured: unshare --pid --mount-proc and --mount see the
 * lock; another IPC namespace does not). The kernel drops it when the
 * process ends, however it ends.
 *
 * Processes that are no cr_restart do not take it: one of theirs made in
 * between takes the chosen id, and the kernel gives ours a free one. The
 * id obtained is looked at: when the old one's index is free, ours goes
 * and the restart tries again; when another object holds it, the kernel
 * gave the next free index above (measured), which is likely the old id of
 * another object of the same checkpoint (a tree's member restoring next):
 * the object is made again at the highest free index (far_id), and the id
 * stays lost (the caller says so). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "crs/uspace/restore.h"
#include "common/fault.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

#define TRIES 5               /* makes of one object while processes outside the lock take its id */
#define LOCK_WAIT_MS 10000    /* another restart holds the lock for a few system calls per object */
#define SLOW_MS 20            /* REVIVE_FAULT=restore-next-id-slow */

static const char *const next_id_path[] = {
    [CRS_IPC_SHM] = "/proc/sys/kernel/shm_next_id",
    [CRS_IPC_SEM] = "/proc/sys/kernel/sem_next_id",
    [CRS_IPC_MSG] = "/proc/sys/kernel/msg_next_id",
};

union semun_arg {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

static void sleep_ms(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&t, &t) != 0 && errno == EINTR)
        ;
}

/* The namespace's lock, held: its descriptor, or -1 (no /proc, or held too
 * long by another: the restart goes on without it, checking what it gets). */
static int lock_namespace(void)
{
    int fd = open("/proc/self/ns/ipc", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        revive_log_debug("cannot open /proc/self/ns/ipc (%s): System V ids are chosen without the lock",
                         strerror(errno));
        return -1;
    }
    for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB) != 0; waited++) {
        if ((errno != EWOULDBLOCK && errno != EINTR) || waited >= LOCK_WAIT_MS) {
            revive_log_warn("another cr_restart of this IPC namespace held its lock on System V ids (flock on "
                            "/proc/self/ns/ipc) for %d s: this restart chooses ids without it, checking each",
                            LOCK_WAIT_MS / 1000);
            close(fd);
            return -1;
        }
        sleep_ms(1);
    }
    return fd;
}

static void remove_one(int kind, int id)
{
    if (kind == CRS_IPC_SHM)
        shmctl(id, IPC_RMID, NULL);   /* not attached yet: gone at once */
    else if (kind == CRS_IPC_SEM)
        semctl(id, 0, IPC_RMID);
    else
        msgctl(id, IPC_RMID, NULL);
}

/* REVIVE_FAULT=restore-next-id-lost: another process's object, made in between. */
static int make_other(int kind)
{
    if (kind == CRS_IPC_SHM)
        return shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    if (kind == CRS_IPC_SEM)
        return semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    return msgget(IPC_PRIVATE, IPC_CREAT | 0600);
}

/* The id of the object at index idx, or -1 (*_STAT_ANY take an index). */
static int at_index(int kind, int idx)
{
    if (kind == CRS_IPC_SHM) {
        struct shmid_ds ds;
        return shmctl(idx, SHM_STAT_ANY, &ds);
    }
    if (kind == CRS_IPC_SEM) {
        struct semid_ds ds;
        union semun_arg a = { .buf = &ds };
        return semctl(idx, 0, SEM_STAT_ANY, a);
    }
    struct msqid_ds ds;
    return msgctl(idx, MSG_STAT_ANY, &ds);
}

/* The bits of an id that are its index: 15 (24 with the kernel's
 * ipcmni_extend); our own object (id), found at its index, tells which. 0:
 * unknown. */
static int index_bits(int kind, int id)
{
    for (int bits = 15; bits <= 24; bits += 9)
        if (at_index(kind, id & ((1 << bits) - 1)) == id)
            return bits;
    return 0;
}

/* Whether another object than ours (id) holds the index of old. Unknown: 0 (try again). */
static int held_by_another(int kind, int old, int id)
{
    int bits = index_bits(kind, id);
    int holder = bits ? at_index(kind, old & ((1 << bits) - 1)) : -1;
    return holder >= 0 && holder != id;
}

/* An id for an object whose old one another object holds: with the old
 * one's sequence bits, at the highest free index (at most 1024 looked at;
 * -1: none). Left to itself the kernel gives the next free index above the
 * old one, which is likely another object's of the same checkpoint (a
 * tree's members, or images restarted one after another, made them in a
 * row): that one then lost its id too. Objects are made at the lowest
 * free indexes, so the highest are the least likely to be any image's. */
static int far_id(int kind, int old, int bits)
{
    int top = (1 << bits) - 1;
    for (int idx = top; idx > top - 1024 && idx > 0; idx--)
        if (at_index(kind, idx) < 0)
            return (old & ~top) | idx;
    return -1;
}

int crs_restore_ipc_make(int kind, int old, int (*make)(void *arg), void *arg, int *held)
{
    *held = 0;
    int fd = open(next_id_path[kind], O_WRONLY | O_CLOEXEC);
    if (fd < 0) {   /* not ours to choose: the kernel picks the id */
        int id = make(arg);
        return id < 0 ? -errno : id;
    }
    int lock = lock_namespace(), id = -1, chose = 0, want = old, moved = 0;
    char buf[16];
    int n = snprintf(buf, sizeof buf, "%d", want);
    for (int tries = 0; tries < TRIES; tries++) {
        if (id >= 0)
            remove_one(kind, id);
        chose = pwrite(fd, buf, (size_t)n, 0) == n;
        if (!chose)
            revive_log_debug("cannot write %s: %s", next_id_path[kind], strerror(errno));
        int other = -1;
        if (chose && tries == 0 && revive_fault(REVIVE_FAULT_restore_next_id_lost))
            other = make_other(kind);
        if (chose && revive_fault(REVIVE_FAULT_restore_next_id_slow))
            sleep_ms(SLOW_MS);   /* a restart beside us that did not wait for the lock would write its id now */
        id = make(arg);
        int e = errno;
        if (other >= 0)
            remove_one(kind, other);   /* and is gone again: the old id is free */
        /* (*_next_id cannot be set back to -1, the kernel refuses it: it clears it when an
         * object is made, and one made without it, when ours failed, takes a free id anyway) */
        if (id < 0) {
            id = -e;
            break;
        }
        if (!chose || id == want)
            break;
        if (!moved && held_by_another(kind, old, id)) {
            int far = far_id(kind, old, index_bits(kind, id));
            if (far < 0)
                break;   /* kept where the kernel put it */
            revive_log_debug("System V id %d is another object's: made again under %d, far from the ids "
                             "images hold", old, far);
            want = far, moved = 1;
            n = snprintf(buf, sizeof buf, "%d", want);
            continue;
        }
        if (moved && held_by_another(kind, want, id))
            break;   /* that one too was taken meanwhile: kept where the kernel put it */
        revive_log_debug("System V id %d, chosen, was taken by another process's object (got %d): again", want, id);
    }
    if (lock >= 0)
        close(lock);   /* and with it the lock */
    close(fd);
    *held = chose && id >= 0 && id != old;
    return id;
}
