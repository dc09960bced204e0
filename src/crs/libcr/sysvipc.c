/* System V semaphore sets and message queues: the calls that name one are
 * noted (crs/base/sysvipc_notes.h) so that a checkpoint saves what the
 * program uses, and a semop's SEM_UNDO adjustments with them, which the
 * kernel does not show. A semop with SEM_UNDO takes effect inside a
 * park-deferral section, so that no checkpoint falls between the kernel's
 * adjustment and its note: one that would wait is made in slices of
 * SLICE_MS (each a semtimedop), the park coming between two. A call the
 * park signal interrupts there is made again (System V IPC calls are never
 * restarted after a signal handler: the program would see EINTR); other
 * calls blocked at a checkpoint still return EINTR, as they did before. */
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

#define SLICE_MS 20
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

int CRS_INTERPOSE(semget)(key_t key, int nsems, int flags)
{
    int id = (int)syscall(SYS_semget, key, nsems, flags);
    if (id >= 0)
        crs_sysvipc_note(CRS_SYSVIPC_SEM, id);
    return id;
}

static int semop_noted(int id, struct sembuf *ops, size_t n, const struct timespec *timeout)
{
    int undo = 0, nowait = 0;
    for (size_t k = 0; k < n; k++) {
        undo |= (ops[k].sem_flg & SEM_UNDO) && ops[k].sem_op;
        nowait |= ops[k].sem_flg & IPC_NOWAIT;
    }
    if (!undo) {
        int r = (int)syscall(SYS_semtimedop, id, ops, n, timeout);
        if (r == 0)
            crs_sysvipc_note(CRS_SYSVIPC_SEM, id);
        return r;
    }
    int64_t deadline = timeout ? revive_mono_ns() + (int64_t)timeout->tv_sec * 1000000000 + timeout->tv_nsec : 0;
    for (;;) {
        struct timespec slice = { 0, SLICE_MS * 1000000L };
        if (timeout) {
            int64_t left = deadline - revive_mono_ns();
            if (left < slice.tv_nsec)
                slice.tv_nsec = left > 0 ? (long)left : 0;
        }
        crs_park_defer_enter();
        int r = (int)syscall(SYS_semtimedop, id, ops, n, nowait ? NULL : &slice);
        int e = errno, parked = r != 0 && e == EINTR && crs_park_defer_pending();
        if (r == 0)
            crs_sysvipc_semop(id, ops, n);
        crs_park_defer_leave();
        if (r == 0)
            return 0;
        if (parked || (e == EAGAIN && !nowait && !(timeout && slice.tv_nsec == 0)))
            continue;   /* a slice ran out (or the park came): wait on */
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
    int r = (int)syscall(SYS_semctl, id, num, cmd, arg.buf);
    int c = cmd;
    if (r < 0 || c == IPC_INFO || c == SEM_INFO || c == SEM_STAT || c == SEM_STAT_ANY_)
        return r;   /* those take an index, not an id */
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
    if (id >= 0)
        crs_sysvipc_note(CRS_SYSVIPC_MSG, id);
    return id;
}

int CRS_INTERPOSE(msgsnd)(int id, const void *msg, size_t len, int flags)
{
    int r = (int)syscall(SYS_msgsnd, id, msg, len, flags);
    if (r == 0)
        crs_sysvipc_note(CRS_SYSVIPC_MSG, id);
    return r;
}

ssize_t CRS_INTERPOSE(msgrcv)(int id, void *msg, size_t len, long type, int flags)
{
    ssize_t r = syscall(SYS_msgrcv, id, msg, len, type, flags);
    if (r >= 0 && !(flags & 040000 /* MSG_COPY: an index, for checkpointers */))
        crs_sysvipc_note(CRS_SYSVIPC_MSG, id);
    return r;
}

int CRS_INTERPOSE(msgctl)(int id, int cmd, struct msqid_ds *buf)
{
    int r = (int)syscall(SYS_msgctl, id, cmd, buf);
    int c = cmd;
    if (r < 0 || c == IPC_INFO || c == MSG_INFO || c == MSG_STAT || c == MSG_STAT_ANY_)
        return r;
    int saved = errno;
    if (c == IPC_RMID)
        crs_sysvipc_forget(CRS_SYSVIPC_MSG, id);
    else
        crs_sysvipc_note(CRS_SYSVIPC_MSG, id);
    errno = saved;
    return r;
}
