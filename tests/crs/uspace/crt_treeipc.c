/*
 * State test: a System V semaphore set and a message queue that a process
 * and its child both use (checkpointed with --tree: crs_tree_sysvipc.sh).
 *   - S: a set of 3 under a key of the program's own (0x5258 and its pid),
 *     values 5 5 0, made before the fork. The program takes 1 from
 *     semaphore 0 with SEM_UNDO (its adjustment +1); the child takes 2 from
 *     semaphore 0 and gives 2 to semaphore 1, both with SEM_UNDO (+2, -2):
 *     values 2 7 0 at point 1.
 *   - Q: a queue under a key of its own (0x5259 and its pid), made before
 *     the fork, holding a message of the program's (type 1) and one of the
 *     child's (type 2).
 * Across point 1 the child waits on S's semaphore 2 (without SEM_UNDO);
 * after it the program posts it: one set again after a restart, not a copy
 * each. The child then finds S's values and takes the program's message,
 * sends one of type 3 and ends; the program sees the child's adjustments
 * given back by its end (values 4 5 0), takes the child's two messages, and
 * probes its own adjustment (+1 on semaphore 0). Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <unistd.h>

static int s_id, q_id;

static int op(int num, int delta, int flags)
{
    struct sembuf b = { (unsigned short)num, (short)delta, (short)flags };
    int r;
    while ((r = semop(s_id, &b, 1)) != 0 && errno == EINTR && !(flags & IPC_NOWAIT))
        ;   /* the contract: every wait tolerates EINTR */
    return r;
}

/* "a b c": S's values */
static const char *values(char *buf, size_t cap)
{
    unsigned short v[3] = { 0 };
    union crt_semun a = { .array = v };
    if (semctl(s_id, 0, GETALL, a) != 0)
        snprintf(buf, cap, "%s", strerror(errno));
    else
        snprintf(buf, cap, "%u %u %u", v[0], v[1], v[2]);
    return buf;
}

/* Takes the message of that type: 1 when it holds `text`. */
static int take(long type, const char *text)
{
    struct crt_msg m;
    ssize_t l = msgrcv(q_id, &m, sizeof m.text, type, IPC_NOWAIT);
    return l == (ssize_t)strlen(text) + 1 && !strcmp(m.text, text);
}

static int put(long type, const char *text)
{
    struct crt_msg m = { type, { 0 } };
    snprintf(m.text, sizeof m.text, "%s", text);
    return msgsnd(q_id, &m, strlen(m.text) + 1, IPC_NOWAIT);
}

/* Whether this process's adjustment of semaphore 0 is +1: a SEM_UNDO
 * operation that would leave an adjustment past 32767 fails with ERANGE. */
static int own_adjustment_is_one(void)
{
    int v = semctl(s_id, 0, GETVAL);
    if (v < 0 || op(0, 32767 - v, IPC_NOWAIT) != 0)
        return 0;
    int ok = op(0, -32766, SEM_UNDO | IPC_NOWAIT) == 0;   /* +1 + 32766 = 32767: allowed */
    if (ok)
        op(0, 32766, SEM_UNDO | IPC_NOWAIT);
    int over = op(0, -32767, SEM_UNDO | IPC_NOWAIT) != 0 && errno == ERANGE;
    if (!over)
        op(0, 32767, SEM_UNDO | IPC_NOWAIT);
    op(0, -(32767 - v), IPC_NOWAIT);
    return ok && over && semctl(s_id, 0, GETVAL) == v;
}

static void __attribute__((noreturn)) child(int ready)
{
    char buf[64];
    if (op(0, -2, SEM_UNDO) || op(1, 2, SEM_UNDO) || put(2, "from the child"))
        _exit(2);
    if (write(ready, "r", 1) != 1)
        _exit(2);
    if (op(2, -1, 0) != 0)   /* across point 1: the program posts it after */
        _exit(3);
    if (strcmp(values(buf, sizeof buf), "2 7 0") != 0)
        _exit(4);
    if (!take(1, "from the program"))
        _exit(5);
    if (put(3, "the child is done"))
        _exit(6);
    _exit(0);
}

int main(void)
{
    key_t s_key = (key_t)(0x52580000u | ((unsigned)getpid() & 0xffffu));
    key_t q_key = (key_t)(0x52590000u | ((unsigned)getpid() & 0xffffu));
    s_id = semget(s_key, 3, IPC_CREAT | IPC_EXCL | 0600);
    q_id = msgget(q_key, IPC_CREAT | IPC_EXCL | 0600);
    unsigned short init[3] = { 5, 5, 0 };
    union crt_semun a = { .array = init };
    if (s_id < 0 || q_id < 0 || semctl(s_id, 0, SETALL, a) != 0)
        crt_die("semget, msgget or SETALL: %s", strerror(errno));
    int ready[2];
    if (pipe(ready) != 0)
        crt_die("pipe: %s", strerror(errno));
    pid_t kid = fork();
    if (kid < 0)
        crt_die("fork: %s", strerror(errno));
    if (kid == 0) {
        close(ready[0]);
        child(ready[1]);
    }
    close(ready[1]);
    if (op(0, -1, SEM_UNDO) || put(1, "from the program"))
        crt_die("semop or msgsnd: %s", strerror(errno));
    char c, buf[64];
    ssize_t n;
    while ((n = read(ready[0], &c, 1)) < 0 && errno == EINTR)
        ;
    if (n != 1)
        crt_die("the child did not get ready");
    crt_say("a set and a queue the program and its child use: values, adjustments of both, messages of both");
    crt_check("S: its values at start", !strcmp(values(buf, sizeof buf), "2 7 0"), "%s", buf);

    crt_checkpoint_point(1);

    crt_check("S: its values after point 1", !strcmp(values(buf, sizeof buf), "2 7 0"), "%s", buf);
    struct msqid_ds ds;
    crt_check("Q: found by its key, two messages", msgget(q_key, 0) == q_id && msgctl(q_id, IPC_STAT, &ds) == 0 &&
              ds.msg_qnum == 2, "id %d of %d, %lu messages", msgget(q_key, 0), q_id, (unsigned long)ds.msg_qnum);
    crt_check("S: found by its key", semget(s_key, 0, 0) == s_id, "%d of %d", semget(s_key, 0, 0), s_id);
    crt_check("the child's wait ends with the program's post (one set for both)", op(2, 1, 0) == 0, "%s",
              strerror(errno));
    int st = -1;
    while (waitpid(kid, &st, 0) < 0 && errno == EINTR)
        ;
    crt_check("the child found the values and the program's message, and ends well", WIFEXITED(st) &&
              WEXITSTATUS(st) == 0, "status 0x%x", st);
    crt_check("S: the child's adjustments given back when it ended", !strcmp(values(buf, sizeof buf), "4 5 0"),
              "%s", buf);
    crt_check("Q: the child's messages, in order", take(0, "from the child") && take(0, "the child is done"),
              "%s", strerror(errno));
    crt_check("S: the program's own adjustment (+1 on semaphore 0)", own_adjustment_is_one(), "differs");

    crt_checkpoint_point(2);

    crt_check("S: its values after point 2", !strcmp(values(buf, sizeof buf), "4 5 0"), "%s", buf);
    crt_check("S: the program's own adjustment after point 2", own_adjustment_is_one(), "differs");
    crt_check("S and Q are removed", semctl(s_id, 0, IPC_RMID) == 0 && msgctl(q_id, IPC_RMID, NULL) == 0, "%s",
              strerror(errno));
    crt_finish();
}
