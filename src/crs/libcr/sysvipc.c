/* System V semaphore sets and message queues: the calls that name one are
 * noted (crs/base/sysvipc_notes.h) so that a checkpoint saves what the
 * program uses (before a call that may wait: one waiting at the checkpoint
 * names it), and a semop's SEM_UNDO adjustments with them, which the kernel
 * does not show. Linux never restarts semop, semtimedop, msgsnd or msgrcv
 * after a signal handler: the program would see EINTR for Revive's park
 * signal. Each call is marked (crs_park_call_begin), and made again when
 * only the park interrupted it (after a restart under the set's or queue's
 * id now, a timeout with the time it had left); a signal of the program's
 * still gives EINTR. A semop with SEM_UNDO takes effect inside a
 * park-deferral section, so that no checkpoint falls between the kernel's
 * adjustment and its note: the park's signal interrupts its wait, and the
 * thread parks as it leaves the section (a park signal that came just
 * before the call is sent again by the park while it waits).
 *
 * A user's restart may not choose ids: a set or queue it had to make again
 * comes back under another id, and the restart rewrites the note's id.
 * The program keeps the old one, so every call here takes the id it names
 * to the kernel's (crs_sysvipc_real) and gives back the program's for the
 * kernel's (semget, msgget, *_STAT: crs_sysvipc_known): its threads all
 * reach the same set, one blocked at the checkpoint and one posting it
 * after (before, the first went on under the new id, the second got EINVAL
 * under the old, and the program hung: crs_user_ids.sh). A set or queue
 * made private anew that the kernel gives an id the program knows another
 * by is made again (the kernel hands ids out in a cycle: it gets another).
 * Another process that knows the old id still finds nothing, or another's
 * object, under it. Segments: sysvshm.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "crs/base/capture_filter.h"
#include "crs/base/image_format.h"
#include "crs/base/sysvipc_notes.h"
#include "crs/libcr/runtime.h"

#define SEM_STAT_ANY_ 20   /* linux/sem.h, Linux 4.17; not in every libc's headers */
#define MSG_STAT_ANY_ 13

#ifdef REVIVE_LIBCR_STATIC
int __wrap_semget(key_t, int, int);
int __wrap_semop(int, struct sembuf *, size_t);
int __wrap_semtimedop(int, struct sembuf *, size_t, const struct timespec *);
int __wrap_semctl(int, int, int, ...);
int __wrap_msgget(key_t, int);
int __wrap_msgsnd(int, const void *, size_t, int);
ssize_t __wrap_msgrcv(int, void *, size_t, long, int);
int __wrap_msgctl(int, int, struct msqid_ds *);
#endif

union semun_arg {   /* semctl(2): the caller defines it */
    int val;
    struct semid_ds *buf;
    unsigned short *array;
    struct seminfo *info;
};

/* A private set or queue just made (IPC_PRIVATE: always a new one) under an id the program
 * knows another by: made again, that one removed (bounded: the kernel's next ids are others). */
static int not_taken(int kind, key_t key, int id, long nsems, int flags)
{
    for (int k = 0; k < 8 && id >= 0 && key == IPC_PRIVATE && crs_sysvipc_taken(kind, id); k++) {
        int again = kind == CRS_SYSVIPC_SEM ? (int)syscall(SYS_semget, key, nsems, flags)
                                            : (int)syscall(SYS_msgget, key, flags);
        if (kind == CRS_SYSVIPC_SEM)
            syscall(SYS_semctl, id, 0, IPC_RMID, NULL);
        else
            syscall(SYS_msgctl, id, IPC_RMID, NULL);
        id = again;
    }
    return id;
}

int CRS_INTERPOSE(semget)(key_t key, int nsems, int flags)
{
    int id = (int)syscall(SYS_semget, key, nsems, flags);
    id = not_taken(CRS_SYSVIPC_SEM, key, id, nsems, flags);
    if (id < 0)
        return id;
    crs_sysvipc_note(CRS_SYSVIPC_SEM, id);
    return crs_sysvipc_known(CRS_SYSVIPC_SEM, id);
}

/* The id to call with after a restart: the note's, which the restart
 * rewrote when the set or queue came back under another id. */
static int id_now(int kind, int slot, int id)
{
    int now = crs_sysvipc_slot_id(kind, slot);
    return now >= 0 ? now : id;
}

static int semop_noted(int id, struct sembuf *ops, size_t n, const struct timespec *timeout)
{
    id = crs_sysvipc_real(CRS_SYSVIPC_SEM, id);
    int undo = 0;
    for (size_t k = 0; k < n; k++)
        undo |= (ops[k].sem_flg & SEM_UNDO) && ops[k].sem_op;
    /* a timeout the kernel refuses, or a huge one, goes as given each time (diffrev35 D1) */
    struct revive_wait_bound bound;
    revive_wait_bound_start(&bound, timeout);
    int before = crs_sysvipc_note(CRS_SYSVIPC_SEM, id);
    int slot = crs_sysvipc_slot(CRS_SYSVIPC_SEM, id);
    for (;;) {
        struct timespec left;
        const struct timespec *t = revive_wait_bound_next(&bound, &left);
        struct crs_park_call pc;
        crs_park_call_begin(&pc);
        if (undo)
            crs_park_defer_enter();
        int r = (int)syscall(SYS_semtimedop, id, ops, n, t);
        int e = errno;
        crs_park_call_end();
        if (undo) {
            if (r == 0)
                crs_sysvipc_semop(id, ops, n);
            crs_park_defer_leave();   /* a park that interrupted the call takes the thread here */
        }
        if (r == 0)
            return 0;
        int again = e == EINTR ? crs_park_call_again(&pc, revive_wait_bound_deadline(&bound)) : 0;
        if (again == 2)
            id = id_now(CRS_SYSVIPC_SEM, slot, id);
        if (again)
            continue;
        if (e == EINVAL || e == EIDRM)
            crs_sysvipc_note_undo(CRS_SYSVIPC_SEM, id, before);   /* not a set this process uses */
        errno = e;
        return -1;
    }
}

int CRS_INTERPOSE(semop)(int id, struct sembuf *ops, size_t n)
{
    return semop_noted(id, ops, n, NULL);
}

int CRS_INTERPOSE(semtimedop)(int id, struct sembuf *ops, size_t n, const struct timespec *timeout)
{
    return semop_noted(id, ops, n, timeout);
}

int CRS_INTERPOSE(semctl)(int id, int num, int cmd, ...)
{
    union semun_arg arg = { 0 };
    va_list ap;
    va_start(ap, cmd);
    switch (cmd) {
    case SETVAL: case SETALL: case GETALL: case IPC_STAT: case IPC_SET: case IPC_INFO: case SEM_INFO:
    case SEM_STAT: case SEM_STAT_ANY_:
        arg = va_arg(ap, union semun_arg);
        break;
    default:
        break;
    }
    va_end(ap);
    int c = cmd, index = c == IPC_INFO || c == SEM_INFO || c == SEM_STAT || c == SEM_STAT_ANY_;
    if (!index)   /* those take an index, not an id */
        id = crs_sysvipc_real(CRS_SYSVIPC_SEM, id);
    int r = (int)syscall(SYS_semctl, id, num, cmd, arg.buf);
    if (r >= 0 && (c == SEM_STAT || c == SEM_STAT_ANY_))
        return crs_sysvipc_known(CRS_SYSVIPC_SEM, r);   /* the id at that index */
    if (r < 0 || index)
        return r;
    int saved = errno;
    if (c == IPC_RMID)
        crs_sysvipc_forget(CRS_SYSVIPC_SEM, id);
    else
        crs_sysvipc_note(CRS_SYSVIPC_SEM, id);
    if (c == SETVAL || c == SETALL)
        crs_sysvipc_setval(id, c == SETVAL ? num : -1);   /* the kernel drops those adjustments */
    errno = saved;
    return r;
}

int CRS_INTERPOSE(msgget)(key_t key, int flags)
{
    int id = (int)syscall(SYS_msgget, key, flags);
    id = not_taken(CRS_SYSVIPC_MSG, key, id, 0, flags);
    if (id < 0)
        return id;
    crs_sysvipc_note(CRS_SYSVIPC_MSG, id);
    return crs_sysvipc_known(CRS_SYSVIPC_MSG, id);
}

/* msgsnd (rcv 0) or msgrcv, made again after a park (see the top). */
static ssize_t msg_call(int rcv, int id, void *msg, size_t len, long type, int flags)
{
    id = crs_sysvipc_real(CRS_SYSVIPC_MSG, id);
    int before = crs_sysvipc_note(CRS_SYSVIPC_MSG, id);
    int slot = crs_sysvipc_slot(CRS_SYSVIPC_MSG, id);
    for (;;) {
        struct crs_park_call pc;
        crs_park_call_begin(&pc);
        ssize_t r = rcv ? syscall(SYS_msgrcv, id, msg, len, type, flags) : syscall(SYS_msgsnd, id, msg, len, flags);
        int e = errno;
        crs_park_call_end();
        if (r >= 0)
            return r;
        int again = e == EINTR ? crs_park_call_again(&pc, NULL) : 0;
        if (again == 2)
            id = id_now(CRS_SYSVIPC_MSG, slot, id);
        if (again)
            continue;
        if (e == EINVAL || e == EIDRM)
            crs_sysvipc_note_undo(CRS_SYSVIPC_MSG, id, before);   /* not a queue this process uses */
        errno = e;
        return -1;
    }
}

int CRS_INTERPOSE(msgsnd)(int id, const void *msg, size_t len, int flags)
{
    return (int)msg_call(0, id, (void *)(uintptr_t)msg, len, 0, flags);
}

ssize_t CRS_INTERPOSE(msgrcv)(int id, void *msg, size_t len, long type, int flags)
{
    if (flags & 040000 /* MSG_COPY: the message at an index, for checkpointers */)
        return syscall(SYS_msgrcv, crs_sysvipc_real(CRS_SYSVIPC_MSG, id), msg, len, type, flags);
    return msg_call(1, id, msg, len, type, flags);
}

int CRS_INTERPOSE(msgctl)(int id, int cmd, struct msqid_ds *buf)
{
    int c = cmd, index = c == IPC_INFO || c == MSG_INFO || c == MSG_STAT || c == MSG_STAT_ANY_;
    if (!index)
        id = crs_sysvipc_real(CRS_SYSVIPC_MSG, id);
    int r = (int)syscall(SYS_msgctl, id, cmd, buf);
    if (r >= 0 && (c == MSG_STAT || c == MSG_STAT_ANY_))
        return crs_sysvipc_known(CRS_SYSVIPC_MSG, r);
    if (r < 0 || index)
        return r;
    int saved = errno;
    if (c == IPC_RMID)
        crs_sysvipc_forget(CRS_SYSVIPC_MSG, id);
    else
        crs_sysvipc_note(CRS_SYSVIPC_MSG, id);
    errno = saved;
    return r;
}
