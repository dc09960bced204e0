/*
 * State test: System V semaphore sets and message queues, in one process.
 *   - S: a private set of 13 semaphores, mode 0640, values set (SETALL),
 *     then SEM_UNDO operations: semaphore 0 down 2 (the kernel's adjustment
 *     +2), semaphore 5 up 3 (-3); semaphore 1 up 4 without SEM_UNDO;
 *   - K: a set of 2 under a key of the program's own (0x5253 and its pid),
 *     mode 0600; a thread waits on its semaphore 0 (down 1, SEM_UNDO) across
 *     point 1, the main thread posting it after;
 *   - Q: a queue under a key of its own (0x5251 and its pid), mode 0600,
 *     holding four messages of three types (one empty);
 *   - P: a private queue, mode 0640, msg_qbytes lowered to 4000, empty;
 *   - G: a set removed (IPC_RMID) before the checkpoint: it must stay gone.
 * After each point: values, modes, keys (found by them), the adjustments
 * the kernel holds (probed: a SEM_UNDO operation fails with ERANGE when the
 * adjustment it leaves is out of range), the messages in order with their
 * types (taken and sent again), msg_qbytes; the ids the program keeps must
 * still name them (as root: the restart makes them under their ids; a
 * user's restart keeps them only when the original's are still there).
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <unistd.h>

#define NS 13
static int s_id, k_id, q_id, p_id, g_id;
static key_t k_key, q_key;
static unsigned short s_want[NS];
static int thread_rc = -2, thread_errno;

static struct { long type; size_t len; char text[512]; } q_want[8];
static int q_n;

static void add_want(long type, size_t len, unsigned seed)
{
    q_want[q_n].type = type;
    q_want[q_n].len = len;
    crt_fill(q_want[q_n].text, len, seed);
    struct crt_msg m = { type, { 0 } };
    memcpy(m.text, q_want[q_n].text, len);
    if (msgsnd(q_id, &m, len, IPC_NOWAIT) != 0)
        crt_die("msgsnd: %s", strerror(errno));
    q_n++;
}

static int op(int id, int num, int delta, int flags)
{
    struct sembuf b = { (unsigned short)num, (short)delta, (short)flags };
    return semop(id, &b, 1);
}

/* Whether the kernel's adjustment of semaphore num is e (e >= 1 or e <= -2):
 * one SEM_UNDO operation that leaves e's limit succeeds, one past it fails. */
static int adj_is(int id, int num, int e)
{
    int v = semctl(id, num, GETVAL), ok1, fail2;
    if (v < 0)
        return 0;
    if (e >= 1) {
        op(id, num, 32767 - v, IPC_NOWAIT);
        int s1 = 32767 - e;
        ok1 = op(id, num, -s1, SEM_UNDO | IPC_NOWAIT) == 0;
        if (ok1)
            op(id, num, s1, SEM_UNDO | IPC_NOWAIT);
        fail2 = op(id, num, -(s1 + 1), SEM_UNDO | IPC_NOWAIT) != 0 && errno == ERANGE;
        if (!fail2)
            op(id, num, s1 + 1, SEM_UNDO | IPC_NOWAIT);
        op(id, num, -(32767 - v), IPC_NOWAIT);
    } else {
        op(id, num, -v, IPC_NOWAIT);
        int s1 = e + 32768;
        ok1 = op(id, num, s1, SEM_UNDO | IPC_NOWAIT) == 0;
        if (ok1)
            op(id, num, -s1, SEM_UNDO | IPC_NOWAIT);
        fail2 = op(id, num, s1 + 1, SEM_UNDO | IPC_NOWAIT) != 0 && errno == ERANGE;
        if (!fail2)
            op(id, num, -(s1 + 1), SEM_UNDO | IPC_NOWAIT);
        op(id, num, v, IPC_NOWAIT);
    }
    return ok1 && fail2 && semctl(id, num, GETVAL) == v;
}

static void *waiter(void *arg)
{
    (void)arg;
    thread_rc = op(k_id, 0, -1, SEM_UNDO);
    thread_errno = errno;
    return NULL;
}

static void setup(void)
{
    s_id = semget(IPC_PRIVATE, NS, IPC_CREAT | 0640);
    k_key = (key_t)(0x52530000u | ((unsigned)getpid() & 0xffffu));
    q_key = (key_t)(0x52510000u | ((unsigned)getpid() & 0xffffu));
    k_id = semget(k_key, 2, IPC_CREAT | IPC_EXCL | 0600);
    q_id = msgget(q_key, IPC_CREAT | IPC_EXCL | 0600);
    p_id = msgget(IPC_PRIVATE, IPC_CREAT | 0640);
    g_id = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    if (s_id < 0 || k_id < 0 || q_id < 0 || p_id < 0 || g_id < 0)
        crt_die("semget or msgget: %s", strerror(errno));
    for (int k = 0; k < NS; k++)
        s_want[k] = (unsigned short)(3 * k + 10);
    union crt_semun a = { .array = s_want };
    if (semctl(s_id, 0, SETALL, a) != 0 || op(s_id, 0, -2, SEM_UNDO) || op(s_id, 5, 3, SEM_UNDO) ||
        op(s_id, 1, 4, 0))
        crt_die("semaphores: %s", strerror(errno));
    s_want[0] -= 2, s_want[5] += 3, s_want[1] += 4;
    a.val = 7;
    if (semctl(k_id, 1, SETVAL, a) != 0)
        crt_die("SETVAL: %s", strerror(errno));
    add_want(3, 5, 1);
    add_want(1, 300, 2);
    add_want(7, 0, 3);
    add_want(3, 4, 4);
    struct msqid_ds ds;
    struct crt_msg m = { 9, "x" };
    if (msgctl(p_id, IPC_STAT, &ds) != 0 || (ds.msg_qbytes = 4000, msgctl(p_id, IPC_SET, &ds)) != 0 ||
        msgsnd(p_id, &m, 1, 0) != 0 || msgrcv(p_id, &m, sizeof m.text, 0, 0) != 1 ||
        semctl(g_id, 0, IPC_RMID) != 0)
        crt_die("queue P or set G: %s", strerror(errno));
}

static void check(const char *when, int thread_done)
{
    char name[160];
#define CHECK(what, cond, ...)                                        \
    do {                                                              \
        snprintf(name, sizeof name, "%s %s", what, when);            \
        crt_check(name, cond, __VA_ARGS__);                           \
    } while (0)
    unsigned short got[NS] = { 0 };
    union crt_semun a = { .array = got };
    struct semid_ds sds;
    int ok = semctl(s_id, 0, GETALL, a) == 0;
    CHECK("S: its values", ok && !memcmp(got, s_want, sizeof got), "%s, [0] %u [1] %u [5] %u", ok ? "differ" :
          strerror(errno), got[0], got[1], got[5]);
    a.buf = &sds;
    ok = semctl(s_id, 0, IPC_STAT, a) == 0;
    CHECK("S: 13 semaphores, mode 0640, private", ok && sds.sem_nsems == NS && (sds.sem_perm.mode & 0777) == 0640 &&
          sds.sem_perm.__key == IPC_PRIVATE, "%s, mode %o", ok ? "differ" : strerror(errno), (unsigned)sds.sem_perm.mode);
    CHECK("S: the adjustments SEM_UNDO left (+2 on semaphore 0, -3 on 5)", adj_is(s_id, 0, s_want[0] == 7 ? 3 : 2) &&
          adj_is(s_id, 5, -3), "differ");
    CHECK("K: found by its key", semget(k_key, 0, 0) == k_id, "%d", semget(k_key, 0, 0));
    a.buf = &sds;
    ok = semctl(k_id, 0, IPC_STAT, a) == 0;
    CHECK("K: mode 0600, its value 7", ok && (sds.sem_perm.mode & 0777) == 0600 && semctl(k_id, 1, GETVAL) == 7,
          "%s", ok ? "differ" : strerror(errno));
    if (thread_done)
        CHECK("K: the thread's adjustment (+1 on semaphore 0)", adj_is(k_id, 0, 1), "differ");
    CHECK("Q: found by its key", msgget(q_key, 0) == q_id, "%d", msgget(q_key, 0));
    struct msqid_ds mds;
    ok = msgctl(q_id, IPC_STAT, &mds) == 0;
    CHECK("Q: mode 0600, its message count", ok && (mds.msg_perm.mode & 0777) == 0600 && (int)mds.msg_qnum == q_n,
          "%s, %lu messages", ok ? "differ" : strerror(errno), (unsigned long)mds.msg_qnum);
    int same = 1;
    for (int k = 0; k < q_n; k++) {
        struct crt_msg m;
        ssize_t l = msgrcv(q_id, &m, sizeof m.text, 0, IPC_NOWAIT);
        same &= l == (ssize_t)q_want[k].len && m.type == q_want[k].type && !memcmp(m.text, q_want[k].text, (size_t)l);
        if (l >= 0)
            msgsnd(q_id, &m, (size_t)l, IPC_NOWAIT);   /* back at the end: the order stays */
    }
    CHECK("Q: its messages in order, with their types", same, "differ");
    ok = msgctl(p_id, IPC_STAT, &mds) == 0;
    CHECK("P: mode 0640, msg_qbytes 4000, empty", ok && (mds.msg_perm.mode & 0777) == 0640 && mds.msg_qbytes == 4000 &&
          mds.msg_qnum == 0, "%s, qbytes %lu", ok ? "differ" : strerror(errno), (unsigned long)mds.msg_qbytes);
    a.buf = &sds;
    CHECK("G, removed before, is gone", semctl(g_id, 0, IPC_STAT, a) != 0 && (errno == EINVAL || errno == EIDRM),
          "%s", strerror(errno));
#undef CHECK
}

int main(void)
{
    setup();
    pthread_t t;
    if (pthread_create(&t, NULL, waiter, NULL) != 0)
        crt_die("pthread_create");
    crt_say("System V sets and queues set up: private and keyed, adjustments, messages, one removed");
    check("at start", 0);

    crt_checkpoint_point(1);

    check("after point 1", 0);
    op(k_id, 0, 1, 0);   /* the waiting thread takes it */
    pthread_join(t, NULL);
    crt_check("the thread's wait on K ended with the semaphore (not EINTR)", thread_rc == 0, "%d, %s", thread_rc,
              strerror(thread_errno));
    op(s_id, 0, -1, SEM_UNDO);
    s_want[0] -= 1;
    add_want(5, 200, 5);

    crt_checkpoint_point(2);

    check("after point 2", 1);
    crt_check("S, K, Q and P are removed", semctl(s_id, 0, IPC_RMID) == 0 && semctl(k_id, 0, IPC_RMID) == 0 &&
              msgctl(q_id, IPC_RMID, NULL) == 0 && msgctl(p_id, IPC_RMID, NULL) == 0, "%s", strerror(errno));
    crt_finish();
}
