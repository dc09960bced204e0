/*
 * State test: threads blocked in System V IPC calls across a checkpoint,
 * each without a retry on EINTR (Linux never restarts these calls after a
 * signal handler, SA_RESTART or not: a checkpoint must not look like one):
 *   - R: msgrcv of type 7 on queue Q (under key 0x525b and the pid), empty;
 *   - W: msgsnd of 100 bytes to queue F (0x525c), full (msg_qbytes 150,
 *     holding 100 bytes already);
 *   - P: semop taking 1 from semaphore 0 of set S (0x525a), at 0;
 *   - T: semtimedop taking 1 from semaphore 1, at 0, with a timeout of an
 *     hour;
 *   - U: semop taking 1 from semaphore 2 with SEM_UNDO, at 0;
 *   - E: semtimedop taking 1 from semaphore 3 with a timeout of 3 s, never
 *     posted: it ends with EAGAIN.
 * The program waits until each is in its call (/proc/self/task/TID/syscall)
 * before point 1. After it, it sends R's message, takes F's first message
 * and posts semaphores 0, 1 and 2: each call ends as in an uninterrupted
 * run (R with its message, W's message in F, P, T and U with the
 * semaphore, U's adjustment +1 there, E with EAGAIN), none with EINTR.
 * Before point 1, a thread in msgrcv that the program signals (SIGUSR1, a
 * handler without SA_RESTART) gets EINTR: the program's own signals still
 * interrupt these calls. And semtimedop's timeout reaches the kernel as given: tv_nsec -1 is
 * EINVAL, 2^40 s waits (timeouts_as_given). Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <signal.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int s_id, q_id, f_id;

enum { R, W, P, T, U, E, NT };
static const char *const names[NT] = { "R (msgrcv)", "W (msgsnd)", "P (semop)", "T (semtimedop)",
                                       "U (semop, SEM_UNDO)", "E (semtimedop, 3 s)" };
static struct {
    pthread_t thread;
    pid_t tid;
    long rc;
    int err;
    struct crt_msg got;
} t[NT];

static void *run(void *arg)
{
    int k = (int)(long)arg;
    __atomic_store_n(&t[k].tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
    struct sembuf b = { 0, -1, 0 };
    struct timespec hour = { 3600, 0 }, three = { 3, 0 };
    struct crt_msg m = { 9, { 0 } };
    switch (k) {
    case R:
        t[k].rc = msgrcv(q_id, &t[k].got, sizeof t[k].got.text, 7, 0);
        break;
    case W:
        crt_fill(m.text, 100, 2);
        t[k].rc = msgsnd(f_id, &m, 100, 0);
        break;
    case P:
        t[k].rc = semop(s_id, &b, 1);
        break;
    case T:
        b.sem_num = 1;
        t[k].rc = semtimedop(s_id, &b, 1, &hour);
        break;
    case U:
        b.sem_num = 2;
        b.sem_flg = SEM_UNDO;
        t[k].rc = semop(s_id, &b, 1);
        break;
    default:
        b.sem_num = 3;
        t[k].rc = semtimedop(s_id, &b, 1, &three);
        break;
    }
    t[k].err = errno;
    return NULL;
}

/* The system call thread tid waits in, from /proc (-1: none yet). */
static long syscall_of(pid_t tid)
{
    char path[64], buf[256];
    if (!tid)
        return -1;
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long nr = -1;
    if (!fgets(buf, sizeof buf, f) || sscanf(buf, "%ld", &nr) != 1)
        nr = -1;
    fclose(f);
    return nr;
}

static long waiting_in(int k)
{
    return syscall_of(__atomic_load_n(&t[k].tid, __ATOMIC_ACQUIRE));
}

static int waits(int k)
{
    long nr = waiting_in(k);
    if (k == R)
        return nr == SYS_msgrcv;
    if (k == W)
        return nr == SYS_msgsnd;
    return nr == SYS_semop || nr == SYS_semtimedop;
}

static int op(int num, int delta, int flags)
{
    struct sembuf b = { (unsigned short)num, (short)delta, (short)flags };
    return semop(s_id, &b, 1);
}

/* Whether the process's adjustment of semaphore 2 is +1 (probed: a
 * SEM_UNDO operation that would leave it past 32767 fails with ERANGE). */
static int adjustment_is_one(void)
{
    int v = semctl(s_id, 2, GETVAL);
    if (v < 0 || op(2, 32767 - v, IPC_NOWAIT) != 0)
        return 0;
    int ok = op(2, -32766, SEM_UNDO | IPC_NOWAIT) == 0;
    if (ok)
        op(2, 32766, SEM_UNDO | IPC_NOWAIT);
    int over = op(2, -32767, SEM_UNDO | IPC_NOWAIT) != 0 && errno == ERANGE;
    if (!over)
        op(2, 32767, SEM_UNDO | IPC_NOWAIT);
    op(2, -(32767 - v), IPC_NOWAIT);
    return ok && over && semctl(s_id, 2, GETVAL) == v;
}

static void on_usr1(int sig)
{
    (void)sig;
}

static struct crt_msg x_got;
static long x_rc;
static int x_err;
static pid_t x_tid;

static void *x_run(void *arg)
{
    (void)arg;
    __atomic_store_n(&x_tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
    x_rc = msgrcv(q_id, &x_got, sizeof x_got.text, 99, 0);
    x_err = errno;
    return NULL;
}

/* A signal of the program's interrupts a thread's msgrcv: EINTR. */
static void own_signal_interrupts(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;   /* no SA_RESTART (which would not restart msgrcv anyway) */
    pthread_t x;
    if (sigaction(SIGUSR1, &sa, NULL) != 0 || pthread_create(&x, NULL, x_run, NULL) != 0)
        crt_die("sigaction or pthread_create");
    for (int ms = 0; syscall_of(__atomic_load_n(&x_tid, __ATOMIC_ACQUIRE)) != SYS_msgrcv; ms++) {
        if (ms == 20000)
            crt_die("the signalled thread is not in msgrcv after 20 s");
        crt_sleep_ms(1);
    }
    pthread_kill(x, SIGUSR1);
    pthread_join(x, NULL);
    crt_check("a signal of the program's interrupts msgrcv (EINTR)", x_rc == -1 && x_err == EINTR, "%ld, %s", x_rc,
              strerror(x_err));
}

static struct timespec huge = { (time_t)1 << 40, 0 }; /* ~35000 years: the kernel takes it */
static long h_rc;
static int h_err, h_done;
static pid_t h_tid;

static void *h_run(void *arg)
{
    (void)arg;
    struct sembuf b = { 3, -1, 0 };
    __atomic_store_n(&h_tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
    h_rc = semtimedop(s_id, &b, 1, &huge);
    h_err = errno;
    __atomic_store_n(&h_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* semtimedop's timeouts reach the kernel as the program gave them (diffrev35 D1: libcr's
 * wrapper made a deadline in ns of them): one the kernel refuses (tv_nsec -1) fails with EINVAL,
 * not EAGAIN; a huge one waits until the semaphore is posted, not EAGAIN at once (tv_sec * 1e9
 * overflowed). Semaphore 3 is 0 before and after. */
static void timeouts_as_given(void)
{
    struct sembuf b = { 3, -1, 0 };
    struct timespec bad = { 0, -1 };
    long rc = semtimedop(s_id, &b, 1, &bad);
    crt_check("semtimedop with tv_nsec -1 fails with EINVAL", rc == -1 && errno == EINVAL, "%ld, %s", rc,
              rc < 0 ? strerror(errno) : "done");
    pthread_t h;
    if (pthread_create(&h, NULL, h_run, NULL) != 0)
        crt_die("pthread_create");
    for (int ms = 0; ms < 20000 && !__atomic_load_n(&h_done, __ATOMIC_ACQUIRE) &&
                     syscall_of(__atomic_load_n(&h_tid, __ATOMIC_ACQUIRE)) != SYS_semtimedop; ms++)
        crt_sleep_ms(1);
    op(3, 1, 0);
    pthread_join(h, NULL);
    if (h_rc != 0) /* it did not take the post: taken back, semaphore 3 at 0 for E */
        op(3, -1, IPC_NOWAIT);
    crt_check("semtimedop with a timeout of 2^40 s waits for its semaphore", h_rc == 0, "%ld, %s", h_rc,
              h_rc < 0 ? strerror(h_err) : "done");
}

int main(void)
{
    unsigned low = (unsigned)getpid() & 0xffffu;
    s_id = semget((key_t)(0x525a0000u | low), 4, IPC_CREAT | IPC_EXCL | 0600);
    q_id = msgget((key_t)(0x525b0000u | low), IPC_CREAT | IPC_EXCL | 0600);
    f_id = msgget((key_t)(0x525c0000u | low), IPC_CREAT | IPC_EXCL | 0600);
    struct msqid_ds ds;
    struct crt_msg first = { 4, { 0 } };
    crt_fill(first.text, 100, 1);
    if (s_id < 0 || q_id < 0 || f_id < 0 || msgctl(f_id, IPC_STAT, &ds) != 0 ||
        (ds.msg_qbytes = 150, msgctl(f_id, IPC_SET, &ds)) != 0 || msgsnd(f_id, &first, 100, IPC_NOWAIT) != 0)
        crt_die("semget, msgget, msgctl or msgsnd: %s", strerror(errno));
    own_signal_interrupts();
    timeouts_as_given();
    for (int k = 0; k < NT; k++)
        if (pthread_create(&t[k].thread, NULL, run, (void *)(long)k) != 0)
            crt_die("pthread_create");
    for (int k = 0; k < NT; k++)
        for (int ms = 0; !waits(k); ms++) {
            if (ms == 20000)
                crt_die("thread %s is not in its call after 20 s (%ld)", names[k], waiting_in(k));
            crt_sleep_ms(1);
        }
    crt_say("six threads wait in msgrcv, msgsnd, semop, semtimedop, semop with SEM_UNDO, semtimedop of 3 s");

    crt_checkpoint_point(1);

    struct crt_msg seven = { 7, "for R" }, out;
    if (msgsnd(q_id, &seven, 6, 0) != 0 || msgrcv(f_id, &out, sizeof out.text, 0, 0) != 100 || op(0, 1, 0) ||
        op(1, 1, 0) || op(2, 1, 0))
        crt_die("msgsnd, msgrcv or semop after point 1: %s", strerror(errno));
    for (int k = 0; k < NT; k++)
        pthread_join(t[k].thread, NULL);
    for (int k = 0; k < NT; k++) {
        char name[96];
        snprintf(name, sizeof name, "%s ends as without a checkpoint", names[k]);
        long want = k == R ? 6 : k == E ? -1 : 0;
        int ok = t[k].rc == want && (k != E || t[k].err == EAGAIN);
        crt_check(name, ok, "%ld, %s", t[k].rc, t[k].rc < 0 ? strerror(t[k].err) : "done");
    }
    crt_check("R's message", t[R].got.type == 7 && !strcmp(t[R].got.text, "for R"), "type %ld", t[R].got.type);
    char want[100];
    crt_fill(want, sizeof want, 2);
    crt_check("W's message is in F", msgrcv(f_id, &out, sizeof out.text, 0, IPC_NOWAIT) == 100 && out.type == 9 &&
              !memcmp(out.text, want, 100), "%s", strerror(errno));
    crt_check("U's adjustment (+1 on semaphore 2)", adjustment_is_one(), "differs");

    crt_checkpoint_point(2);

    unsigned short v[4] = { 9, 9, 9, 9 };
    union crt_semun a = { .array = v };
    crt_check("S's values after point 2", semctl(s_id, 0, GETALL, a) == 0 && !v[0] && !v[1] && !v[2] && !v[3],
              "%u %u %u %u", v[0], v[1], v[2], v[3]);
    crt_check("U's adjustment after point 2", adjustment_is_one(), "differs");
    crt_check("S, Q and F are removed", semctl(s_id, 0, IPC_RMID) == 0 && msgctl(q_id, IPC_RMID, NULL) == 0 &&
              msgctl(f_id, IPC_RMID, NULL) == 0, "%s", strerror(errno));
    crt_finish();
}
