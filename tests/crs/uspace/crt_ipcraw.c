/*
 * State test: System V semaphore sets and message queues used past libcr's
 * view of them, by CRT_IPCRAW:
 *   - msg: a queue under a key of its own (0x525d and its pid), made and
 *     used only through syscall(SYS_msgget...), never through libc's calls
 *     that libcr follows: three messages sent, one taken, two left; after
 *     each point they are taken in order (raw msgrcv) and sent again;
 *   - sem: a set under a key of its own (0x525e and its pid) made and used
 *     only through syscall(SYS_semget...): the checkpoint must be refused
 *     naming it (its SEM_UNDO adjustments cannot be known); the program runs
 *     on to its end;
 *   - exec: a set (key 0x525e...) with a SEM_UNDO adjustment (+2) and a
 *     queue (key 0x525d...) holding two messages, both used through libc,
 *     then execve of this program, which holds the checkpoint points: the
 *     kernel keeps the process's adjustments across execve, libcr's notes
 *     of them must follow; before it, a child that used the set runs a
 *     helper without libcr (ls -l /proc/self/fd), which must not be left
 *     holding libcr's notes.
 * After each point: values, the kernel's adjustment (probed: a SEM_UNDO
 * operation past the limit fails with ERANGE), the messages in order.
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int raw;   /* 1: every call through syscall(2) */
static int s_id = -1, q_id = -1;
static unsigned short s_want[2];
static int s_adj;   /* the adjustment of semaphore 0 the kernel holds */
static long q_type[2] = { 4, 9 };
static size_t q_len[2] = { 33, 200 };

static int sem_op(int id, int num, int delta, int flags)
{
    struct sembuf b = { (unsigned short)num, (short)delta, (short)flags };
    return raw ? (int)syscall(SYS_semop, id, &b, 1) : semop(id, &b, 1);
}

static int sem_ctl(int id, int num, int cmd, void *arg)
{
    if (raw)
        return (int)syscall(SYS_semctl, id, num, cmd, arg);
    union crt_semun a = { .array = arg };
    return cmd == GETVAL ? semctl(id, num, cmd) : semctl(id, num, cmd, a);
}

static long msg_op(int rcv, int id, struct crt_msg *m, size_t len, long type)
{
    if (raw)
        return rcv ? syscall(SYS_msgrcv, id, m, len, type, IPC_NOWAIT) : syscall(SYS_msgsnd, id, m, len, IPC_NOWAIT);
    return rcv ? msgrcv(id, m, len, type, IPC_NOWAIT) : msgsnd(id, m, len, IPC_NOWAIT);
}

static void send_want(int k)
{
    struct crt_msg m = { q_type[k], { 0 } };
    crt_fill(m.text, q_len[k], (uint64_t)k + 1);
    if (msg_op(0, q_id, &m, q_len[k], 0) != 0)
        crt_die("msgsnd: %s", strerror(errno));
}

/* Whether the kernel's adjustment of semaphore 0 is e (e >= 1): a SEM_UNDO
 * operation that leaves e's limit succeeds, one past it fails with ERANGE. */
static int adj_is(int e)
{
    int v = sem_ctl(s_id, 0, GETVAL, NULL);
    if (v < 0)
        return 0;
    sem_op(s_id, 0, 32767 - v, IPC_NOWAIT);
    int s1 = 32767 - e;
    int ok1 = sem_op(s_id, 0, -s1, SEM_UNDO | IPC_NOWAIT) == 0;
    if (ok1)
        sem_op(s_id, 0, s1, SEM_UNDO | IPC_NOWAIT);
    int fail2 = sem_op(s_id, 0, -(s1 + 1), SEM_UNDO | IPC_NOWAIT) != 0 && errno == ERANGE;
    if (!fail2)
        sem_op(s_id, 0, s1 + 1, SEM_UNDO | IPC_NOWAIT);
    sem_op(s_id, 0, -(32767 - v), IPC_NOWAIT);
    return ok1 && fail2 && sem_ctl(s_id, 0, GETVAL, NULL) == v;
}

static void check(const char *when)
{
    char name[96];
    if (s_id >= 0) {
        unsigned short v[2] = { 0, 0 };
        int r = sem_ctl(s_id, 0, GETALL, v);
        snprintf(name, sizeof name, "S's values %s", when);
        crt_check(name, r == 0 && v[0] == s_want[0] && v[1] == s_want[1], "%s %u %u, expected %u %u",
                  r ? strerror(errno) : "", v[0], v[1], s_want[0], s_want[1]);
        if (s_adj) {
            snprintf(name, sizeof name, "S's adjustment %s", when);
            crt_check(name, adj_is(s_adj), "not %+d", s_adj);
        }
    }
    if (q_id >= 0) {
        struct crt_msg m;
        int ok = 1;
        for (int k = 0; k < 2; k++) {
            long got = msg_op(1, q_id, &m, sizeof m.text, 0);
            char want[sizeof m.text];
            crt_fill(want, q_len[k], (uint64_t)k + 1);
            if (got != (long)q_len[k] || m.type != q_type[k] || memcmp(m.text, want, q_len[k]) != 0) {
                snprintf(name, sizeof name, "Q's message %d %s", k, when);
                crt_fail(name, "got %ld bytes of type %ld (%s), expected %zu of type %ld", got, got < 0 ? 0 : m.type,
                         got < 0 ? strerror(errno) : "", q_len[k], q_type[k]);
                ok = 0;
            }
        }
        for (int k = 0; k < 2; k++)
            send_want(k);
        snprintf(name, sizeof name, "Q's messages %s", when);
        if (ok)
            crt_check(name, 1, "%s", "");
    }
}

/* A child that used the set runs a helper without libcr (ls, its environment without LD_PRELOAD):
 * how many of the helper's descriptors are libcr's notes on their way through an execve (0: only a
 * program whose libcr takes them back is given them; before, the helper kept them). */
static unsigned long notes_in_helper(void)
{
    int p[2];
    if (pipe(p) != 0)
        crt_die("pipe: %s", strerror(errno));
    pid_t c = fork();
    if (c < 0)
        crt_die("fork: %s", strerror(errno));
    if (c == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        if (sem_op(s_id, 1, 1, 0) != 0 || sem_op(s_id, 1, -1, 0) != 0)   /* notes of its own */
            _exit(126);
        char *env[256];
        int k = 0;
        for (char **e = environ; *e && k < 255; e++)
            if (strncmp(*e, "LD_PRELOAD=", 11) != 0)
                env[k++] = *e;
        env[k] = NULL;
        char a0[] = "ls", a1[] = "-l", a2[] = "/proc/self/fd";
        char *args[] = { a0, a1, a2, NULL };
        execve("/bin/ls", args, env);
        _exit(127);
    }
    close(p[1]);
    char out[16384];
    size_t have = 0;
    ssize_t n;
    while (have < sizeof out - 1 && (n = read(p[0], out + have, sizeof out - 1 - have)) > 0)
        have += (size_t)n;
    out[have] = 0;
    close(p[0]);
    int st = 0;
    if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        crt_die("the helper (ls -l /proc/self/fd, without libcr): status 0x%x", st);
    unsigned long count = 0;
    for (const char *at = out; (at = strstr(at, "memfd:revive")) != NULL; at++)
        count++;
    return count;
}

static void remove_all(void)
{
    if (s_id >= 0)
        sem_ctl(s_id, 0, IPC_RMID, NULL);
    if (q_id >= 0)
        raw ? syscall(SYS_msgctl, q_id, IPC_RMID, NULL) : msgctl(q_id, IPC_RMID, NULL);
}

static key_t key_of(unsigned hi)
{
    return (key_t)(hi << 16 | ((unsigned)getpid() & 0xffffu));
}

int main(int argc, char **argv)
{
    const char *mode = getenv("CRT_IPCRAW") ? getenv("CRT_IPCRAW") : "msg";
    if (argc == 4 && strcmp(argv[1], "exec") == 0) {
        /* the program execve started: the set and queue its first part made */
        s_id = atoi(argv[2]);
        q_id = atoi(argv[3]);
        s_want[0] = 3, s_want[1] = 9, s_adj = 2;
        crt_say("exec'd, S %s, Q %s", s_id >= 0 ? "kept" : "lost", q_id >= 0 ? "kept" : "lost");
        /* what libcr passed on through the execve is not left open to the program */
        int left = 0;
        for (int fd = 3; fd < 1024; fd++) {
            char path[32], link[64];
            snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
            ssize_t l = readlink(path, link, sizeof link - 1);
            left += l > 0 && (link[l] = 0, strstr(link, "memfd:revive") != NULL);
        }
        CRT_CHECK_U64("libcr's descriptors left open after execve", left, 0);
    } else if (strcmp(mode, "exec") == 0) {
        s_id = semget(key_of(0x525e), 2, IPC_CREAT | IPC_EXCL | 0600);
        q_id = msgget(key_of(0x525d), IPC_CREAT | IPC_EXCL | 0600);
        unsigned short v[2] = { 5, 9 };
        if (s_id < 0 || q_id < 0 || sem_ctl(s_id, 0, SETALL, v) != 0 || sem_op(s_id, 0, -2, SEM_UNDO) != 0)
            crt_die("semget, msgget, semctl or semop: %s", strerror(errno));
        send_want(0);
        send_want(1);
        CRT_CHECK_U64("libcr's notes left open in a helper without libcr", notes_in_helper(), 0);
        crt_say("a set with an adjustment and a queue; execve");
        char s[16], q[16], e[] = "exec";
        snprintf(s, sizeof s, "%d", s_id);
        snprintf(q, sizeof q, "%d", q_id);
        char *args[] = { argv[0], e, s, q, NULL };
        execv("/proc/self/exe", args);
        crt_die("execv: %s", strerror(errno));
    } else if (strcmp(mode, "msg") == 0) {
        raw = 1;
        q_id = (int)syscall(SYS_msgget, key_of(0x525d), IPC_CREAT | IPC_EXCL | 0600);
        if (q_id < 0)
            crt_die("msgget: %s", strerror(errno));
        /* one taken first, so that the program both sent and received last */
        struct crt_msg m = { 1, "first" };
        if (msg_op(0, q_id, &m, 6, 0) != 0 || msg_op(1, q_id, &m, sizeof m.text, 0) != 6)
            crt_die("msgsnd or msgrcv: %s", strerror(errno));
        send_want(0);
        send_want(1);
        crt_say("a queue used through syscall(2) only");
    } else if (strcmp(mode, "sem") == 0) {
        raw = 1;
        s_id = (int)syscall(SYS_semget, key_of(0x525e), 2, IPC_CREAT | IPC_EXCL | 0600);
        unsigned short v[2] = { 5, 9 };
        if (s_id < 0 || sem_ctl(s_id, 0, SETALL, v) != 0 || sem_op(s_id, 0, -2, SEM_UNDO) != 0)
            crt_die("semget, semctl or semop: %s", strerror(errno));
        s_want[0] = 3, s_want[1] = 9, s_adj = 2;
        crt_say("a set used through syscall(2) only");
    } else {
        crt_die("CRT_IPCRAW=%s: msg, sem or exec", mode);
    }
    check("at start");
    crt_checkpoint_point(1);
    check("after point 1");
    crt_checkpoint_point(2);
    check("after point 2");
    remove_all();
    crt_finish();
}
