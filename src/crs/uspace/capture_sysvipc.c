/* System V semaphore sets and message queues (image_format.h: SYSVIPC):
 * those libcr noted (crs/base/sysvipc_notes.h) that are still there, with
 * their values and this process's adjustments (SEM_UNDO), or their
 * messages, read without taking them (MSG_COPY). One a live process outside
 * the checkpoint uses too (the last to operate on a semaphore, to send or to
 * receive, or one waiting on a semaphore) is refused: the restart would give
 * this process a copy of its own. Members of a tree being checkpointed are
 * not outside it: its restart makes such a set or queue once for all.
 * Those the process used through calls libcr does not see: see unseen(). */
#define _GNU_SOURCE
#include "crs/uspace/capture.h"
#include "crs/base/sysvipc_notes.h"
#include "common/procfs.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef MSG_COPY
#define MSG_COPY 040000
#endif
#define SEM_STAT_ANY_ 20   /* linux/sem.h, Linux 4.17; not in every libc's headers */
#define MSG_STAT_ANY_ 13

union semun_arg {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

static uint64_t pad8(uint64_t n)
{
    return (n + 7) / 8 * 8;
}

/* Another process than this one, alive (not a zombie), and not a member of the tree being
 * checkpointed (whose restart makes the set or queue once for all members). */
static int stranger(const struct crs_capture *c, pid_t pid)
{
    if (pid <= 0 || pid == getpid())
        return 0;
    for (int k = 0; k < c->opts.ntree_members; k++)
        if (c->opts.tree_members[k] == pid)
            return 0;
    if (kill(pid, 0) != 0 && errno != EPERM)
        return 0;
    /* a zombie's adjustments were given back as it ended, and it uses nothing */
    char st = revive_proc_state(pid);
    return st != 'Z' && st != 'X';
}

/* Linux keeps no list of the processes that hold a set or queue (no mapping,
 * no descriptor): what shows another user is the last process to operate on
 * each semaphore, to send and to receive, and the processes waiting on a
 * semaphore (semncnt, semzcnt: the checkpointed threads are parked, so they
 * wait on nothing). One that holds the id and has done neither is not seen. */
static const char *why_shared = "a process outside the checkpoint uses it too, and the restart would make this "
                                "process a copy of its own";

static int sem_set(struct crs_capture *c, const struct crs_sysvipc_note *n, struct crs_rec_sysvipc *s,
                   unsigned char **data, uint64_t *len)
{
    struct semid_ds ds;
    union semun_arg a = { .buf = &ds };
    if (semctl(n->id, 0, IPC_STAT, a) != 0)
        return errno == EINVAL || errno == EIDRM ? 1 : -errno;   /* removed meanwhile: nothing to save */
    unsigned nsems = (unsigned)ds.sem_nsems;
    for (unsigned k = 0; k < nsems; k++) {
        int pid = semctl(n->id, (int)k, GETPID);
        if (stranger(c, pid)) {
            crs_capture_error(c, "System V semaphore set %d (key 0x%08x): process %d operated on its semaphore %u "
                                 "last: %s", n->id, (unsigned)ds.sem_perm.__key, pid, k, why_shared);
            return -EBUSY;
        }
        int waiting = semctl(n->id, (int)k, GETNCNT) + semctl(n->id, (int)k, GETZCNT);
        if (waiting > 0) {
            crs_capture_error(c, "System V semaphore set %d (key 0x%08x): %d process%s outside the checkpoint wait%s "
                                 "on its semaphore %u: %s", n->id, (unsigned)ds.sem_perm.__key, waiting,
                              waiting > 1 ? "es" : "", waiting > 1 ? "" : "s", k, why_shared);
            return -EBUSY;
        }
    }
    if (n->undo_lost && n->undo) {
        crs_capture_error(c, "System V semaphore set %d (key 0x%08x): the process made SEM_UNDO operations on "
                             "semaphores past the first %d, whose adjustments Revive does not follow", n->id,
                          (unsigned)ds.sem_perm.__key, CRS_SYSVIPC_UNDO_MAX);
        return -EOPNOTSUPP;
    }
    int undo = 0;
    for (unsigned k = 0; k < nsems && k < CRS_SYSVIPC_UNDO_MAX; k++)
        undo |= n->adj[k] != 0;
    *len = pad8((uint64_t)nsems * (undo ? 4 : 2));
    *data = crs_scratch_alloc(c->scratch, *len);
    if (!*data)
        return -ENOMEM;
    memset(*data, 0, *len);
    a.array = (unsigned short *)*data;
    if (semctl(n->id, 0, GETALL, a) != 0)
        return -errno;
    if (undo)
        for (unsigned k = 0; k < nsems && k < CRS_SYSVIPC_UNDO_MAX; k++)
            memcpy(*data + 2 * ((size_t)nsems + k), &n->adj[k], 2);
    s->kind = CRS_SYSVIPC_SEM;
    s->key = (int32_t)ds.sem_perm.__key;
    s->mode = ds.sem_perm.mode & 0777;
    s->uid = ds.sem_perm.uid;
    s->gid = ds.sem_perm.gid;
    s->count = nsems;
    s->flags = undo ? CRS_SYSVIPC_F_UNDO : 0;
    return 0;
}

static int msg_queue(struct crs_capture *c, const struct crs_sysvipc_note *n, struct crs_rec_sysvipc *s,
                     unsigned char **data, uint64_t *len)
{
    struct msqid_ds ds;
    if (msgctl(n->id, IPC_STAT, &ds) != 0)
        return errno == EINVAL || errno == EIDRM ? 1 : -errno;
    pid_t who = stranger(c, ds.msg_lspid) ? ds.msg_lspid : stranger(c, ds.msg_lrpid) ? ds.msg_lrpid : 0;
    if (who) {
        crs_capture_error(c, "System V message queue %d (key 0x%08x): process %d %s it last: %s", n->id,
                          (unsigned)ds.msg_perm.__key, who, who == ds.msg_lspid ? "sent to" : "received from",
                          why_shared);
        return -EBUSY;
    }
    uint64_t qnum = ds.msg_qnum, cbytes = ds.__msg_cbytes;
    *len = 0;
    *data = crs_scratch_alloc(c->scratch, qnum * 24 + cbytes + 8);
    struct { long type; char text[]; } *m = crs_scratch_alloc(c->scratch, sizeof(long) + cbytes + 1);
    if (!*data || !m)
        return -ENOMEM;
    for (uint64_t k = 0; k < qnum; k++) {
        ssize_t got = msgrcv(n->id, m, cbytes + 1, (long)k, IPC_NOWAIT | MSG_COPY | MSG_NOERROR);
        if (got < 0) {
            crs_capture_error(c, "cannot read message %llu of System V message queue %d (key 0x%08x): %s%s",
                              (unsigned long long)k, n->id, (unsigned)ds.msg_perm.__key, strerror(errno),
                              errno == ENOSYS ? " (MSG_COPY needs a kernel with CONFIG_CHECKPOINT_RESTORE)" : "");
            return -EOPNOTSUPP;
        }
        int64_t type = m->type;
        uint64_t l = (uint64_t)got;
        if (*len + 16 + pad8(l) > qnum * 24 + cbytes + 8) {
            crs_capture_error(c, "System V message queue %d changed while it was read", n->id);
            return -EAGAIN;
        }
        memcpy(*data + *len, &type, 8);
        memcpy(*data + *len + 8, &l, 8);
        memset(*data + *len + 16, 0, pad8(l));
        memcpy(*data + *len + 16, m->text, l);
        *len += 16 + pad8(l);
    }
    s->kind = CRS_SYSVIPC_MSG;
    s->key = (int32_t)ds.msg_perm.__key;
    s->mode = ds.msg_perm.mode & 0777;
    s->uid = ds.msg_perm.uid;
    s->gid = ds.msg_perm.gid;
    s->count = (uint32_t)qnum;
    s->qbytes = ds.msg_qbytes;
    return 0;
}

/* When this process started, in seconds of CLOCK_REALTIME (the clock of a
 * set's or queue's times), a little early; 0 when unknown. */
static time_t started_at(void)
{
    char stat[1024];
    uint64_t ticks;
    long hz = sysconf(_SC_CLK_TCK);
    struct timespec boot, now;
    long n = revive_proc_read(0, 0, "stat", stat, sizeof stat);
    if ((n < 0 && n != -ENOSPC) || revive_stat_field(stat, 22, &ticks) != 0 || hz <= 0 ||
        clock_gettime(CLOCK_BOOTTIME, &boot) != 0 || clock_gettime(CLOCK_REALTIME, &now) != 0)
        return 0;
    return now.tv_sec - (boot.tv_sec - (time_t)(ticks / (uint64_t)hz)) - 2;
}

static int noted(int kind, int id)
{
    int slot = crs_sysvipc_slot(kind, id);
    return slot >= 0 && crs_sysvipc_note_at(slot)->used;
}

/* Sets and queues this process used through calls libcr does not see
 * (syscall(2), a library that makes the system call itself, a program
 * before an execve that did not go through libcr's): the kernel
 * names it as the last to operate on a semaphore, to send or to receive,
 * since it started, and libcr has no note of it. A queue holds nothing but
 * its messages: noted now, it is saved as the others. A set is refused: the
 * adjustments its SEM_UNDO operations left in the kernel cannot be read, and
 * a restart without them would be silently wrong. Raw system calls only:
 * indexes, not ids (SEM_STAT_ANY, MSG_STAT_ANY, Linux 4.17), and libcr's own
 * interposed calls would note every set and queue of the system. */
static int unseen(struct crs_capture *c)
{
    pid_t self = getpid();
    time_t since = started_at();
    struct msginfo mi;
    int top = (int)syscall(SYS_msgctl, 0, MSG_INFO, &mi);
    for (int i = 0; i <= top; i++) {
        struct msqid_ds ds;
        int id = (int)syscall(SYS_msgctl, i, MSG_STAT_ANY_, &ds);
        if (id < 0 || noted(CRS_SYSVIPC_MSG, id) || (ds.msg_lspid != self && ds.msg_lrpid != self))
            continue;
        if (ds.msg_stime < since && ds.msg_rtime < since)
            continue;   /* a process that ended long ago had our pid */
        crs_sysvipc_note(CRS_SYSVIPC_MSG, id);   /* past the notes' room: refused below */
    }
    struct seminfo si;
    top = (int)syscall(SYS_semctl, 0, 0, SEM_INFO, &si);
    for (int i = 0; i <= top; i++) {
        struct semid_ds ds;
        int id = (int)syscall(SYS_semctl, i, 0, SEM_STAT_ANY_, &ds);
        if (id < 0 || noted(CRS_SYSVIPC_SEM, id) || (ds.sem_otime < since && ds.sem_ctime < since))
            continue;
        for (unsigned long k = 0; k < ds.sem_nsems; k++)
            if ((pid_t)syscall(SYS_semctl, id, (int)k, GETPID, 0) == self) {
                crs_capture_error(c, "System V semaphore set %d (key 0x%08x): the process operated on its "
                                     "semaphore %lu through a call libcr does not see (syscall(2), a library "
                                     "that makes the system call itself, or before an execve libcr did not "
                                     "follow), so Revive cannot know its SEM_UNDO adjustments; call semop(3) "
                                     "and semctl(3) of libc", id,
                                  (unsigned)ds.sem_perm.__key, k);
                return -EOPNOTSUPP;
            }
    }
    return 0;
}

int crs_capture_sysvipc(struct crs_capture *c)
{
    int e0 = unseen(c);
    if (e0)
        return e0;
    const struct crs_sysvipc_note *over = crs_sysvipc_note_at(CRS_SYSVIPC_NOTES_MAX);
    if (over && over->kind < 0) {
        crs_capture_error(c, "the process used more than %d System V semaphore sets and message queues, more "
                             "than Revive follows", CRS_SYSVIPC_NOTES_MAX);
        return -EOPNOTSUPP;
    }
    c->sysvipcs = crs_scratch_alloc(c->scratch, CRS_SYSVIPC_NOTES_MAX * sizeof *c->sysvipcs);
    unsigned char *datas[CRS_SYSVIPC_NOTES_MAX];
    uint64_t lens[CRS_SYSVIPC_NOTES_MAX], total = 0;
    if (!c->sysvipcs)
        goto nomem;
    c->nsysvipcs = 0;
    for (int i = 0; i < CRS_SYSVIPC_NOTES_MAX; i++) {
        const struct crs_sysvipc_note *n = crs_sysvipc_note_at(i);
        if (!n->kind || !n->used)
            continue;   /* a free slot, or one a forked child has from its parent and never named */
        struct crs_rec_sysvipc *s = &c->sysvipcs[c->nsysvipcs];
        memset(s, 0, sizeof *s);
        s->id = n->id;
        s->note = (uint64_t)(uintptr_t)&n->id;
        size_t k = c->nsysvipcs;
        int e = n->kind == CRS_SYSVIPC_SEM ? sem_set(c, n, s, &datas[k], &lens[k]) : msg_queue(c, n, s, &datas[k], &lens[k]);
        if (e == -ENOMEM)
            goto nomem;
        if (e < 0 && !c->err[0])
            crs_capture_error(c, "cannot read System V %s %d: %s", n->kind == CRS_SYSVIPC_SEM ? "semaphore set"
                              : "message queue", n->id, strerror(-e));
        if (e < 0)
            return e;
        if (e == 0) {
            s->data = total;
            s->data_len = lens[k];
            total += lens[k];
            c->nsysvipcs++;
        }
    }
    c->sysvipcdata_len = total;
    c->sysvipcdata = total ? crs_scratch_alloc(c->scratch, total) : NULL;
    if (total && !c->sysvipcdata)
        goto nomem;
    for (size_t k = 0; k < c->nsysvipcs; k++)
        memcpy(c->sysvipcdata + c->sysvipcs[k].data, datas[k], lens[k]);
    return 0;
nomem:
    crs_capture_error(c, "out of scratch memory for the System V semaphore sets and message queues");
    return -ENOMEM;
}
