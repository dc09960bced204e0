/*
 * State test: the System V ids of a tree's members (crs_tree_ids.sh). The
 * program and its CRT_TREEIDS_KIDS children (default 3) each make, after the
 * fork, CRT_TREEIDS_EACH (default 4) private semaphore sets of 3, as many
 * private message queues holding one message, and two private shared memory
 * segments of 8 KiB, attached and filled: values, text and bytes of that
 * member's own. Each keeps the ids. After point 1 each finds every one
 * under the id it kept, as it made it (a restart as root makes them again
 * under their old ids; a tree's members restore side by side, and one whose
 * object took another's id, or lost its own, fails here), then removes
 * them; the program checks each child's status. Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_EACH 16
#define MAX_KIDS 8
#define SEG_BYTES 8192

/* one member's objects, by the ids it kept */
struct own {
    int sem[MAX_EACH], msg[MAX_EACH], shm[2];
    unsigned char *at[2];
};

static void want_values(unsigned short v[3], int member, int k)
{
    v[0] = (unsigned short)(100 * member + k);
    v[1] = (unsigned short)k;
    v[2] = 7;
}

static void want_text(char *t, size_t cap, int member, int k)
{
    snprintf(t, cap, "member %d, queue %d", member, k);
}

static void make_own(struct own *o, int member, int each)
{
    for (int k = 0; k < each; k++) {
        unsigned short v[3];
        want_values(v, member, k);
        union crt_semun a = { .array = v };
        struct crt_msg m = { member + 1, { 0 } };
        want_text(m.text, sizeof m.text, member, k);
        o->sem[k] = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
        o->msg[k] = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
        if (o->sem[k] < 0 || o->msg[k] < 0 || semctl(o->sem[k], 0, SETALL, a) != 0 ||
            msgsnd(o->msg[k], &m, strlen(m.text) + 1, 0) != 0)
            crt_die("member %d: semget, msgget, SETALL or msgsnd: %s", member, strerror(errno));
    }
    for (int k = 0; k < 2; k++) {
        o->shm[k] = shmget(IPC_PRIVATE, SEG_BYTES, IPC_CREAT | 0600);
        o->at[k] = o->shm[k] < 0 ? (void *)-1 : shmat(o->shm[k], NULL, 0);
        if (o->at[k] == (void *)-1)
            crt_die("member %d: shmget or shmat: %s", member, strerror(errno));
        crt_fill(o->at[k], SEG_BYTES, (uint64_t)(16 * member + k));
    }
}

/* How many of the member's objects its kept ids no longer name as made. */
static int count_wrong(const struct own *o, int member, int each)
{
    int wrong = 0;
    for (int k = 0; k < each; k++) {
        unsigned short want[3], got[3] = { 0 };
        want_values(want, member, k);
        union crt_semun a = { .array = got };
        wrong += semctl(o->sem[k], 0, GETALL, a) != 0 || memcmp(got, want, sizeof got) != 0;
        struct crt_msg m;
        char text[64];
        want_text(text, sizeof text, member, k);
        ssize_t l = msgrcv(o->msg[k], &m, sizeof m.text, 0, IPC_NOWAIT);
        wrong += l != (ssize_t)strlen(text) + 1 || m.type != member + 1 || strcmp(m.text, text) != 0;
    }
    for (int k = 0; k < 2; k++) {
        /* the segment the kept id names is the one attached: a second attachment sees its bytes */
        unsigned char *p = shmat(o->shm[k], NULL, SHM_RDONLY);
        uint64_t seed = (uint64_t)(16 * member + k);
        unsigned char want[SEG_BYTES];
        crt_fill(want, sizeof want, seed);
        wrong += p == (void *)-1 || memcmp(p, want, SEG_BYTES) != 0 || memcmp(o->at[k], want, SEG_BYTES) != 0;
        if (p != (void *)-1)
            shmdt(p);
    }
    return wrong;
}

static void remove_own(struct own *o, int each)
{
    for (int k = 0; k < each; k++) {
        semctl(o->sem[k], 0, IPC_RMID);
        msgctl(o->msg[k], IPC_RMID, NULL);
    }
    for (int k = 0; k < 2; k++) {
        shmdt(o->at[k]);
        shmctl(o->shm[k], IPC_RMID, NULL);
    }
}

static int read_byte(int fd)
{
    char c;
    ssize_t n;
    while ((n = read(fd, &c, 1)) < 0 && errno == EINTR)
        ;
    return n == 1 ? 0 : -1;
}

int main(void)
{
    int kids = (int)crt_env_long("CRT_TREEIDS_KIDS", 3), each = (int)crt_env_long("CRT_TREEIDS_EACH", 4);
    if (kids < 1 || kids > MAX_KIDS || each < 1 || each > MAX_EACH)
        crt_die("CRT_TREEIDS_KIDS 1..%d, CRT_TREEIDS_EACH 1..%d", MAX_KIDS, MAX_EACH);
    int go[2], ready[2];
    pid_t kid[MAX_KIDS];
    if (pipe(go) || pipe(ready))
        crt_die("pipe: %s", strerror(errno));
    for (int c = 0; c < kids; c++) {
        kid[c] = fork();
        if (kid[c] < 0)
            crt_die("fork: %s", strerror(errno));
        if (kid[c] == 0) {
            close(go[1]);
            close(ready[0]);
            struct own o;
            make_own(&o, c + 1, each);
            if (write(ready[1], "r", 1) != 1 || read_byte(go[0]) != 0)
                _exit(2);
            int wrong = count_wrong(&o, c + 1, each);
            remove_own(&o, each);
            _exit(wrong ? 3 : 0);
        }
    }
    close(go[0]);
    close(ready[1]);
    struct own o;
    make_own(&o, 0, each);
    for (int c = 0; c < kids; c++)
        if (read_byte(ready[0]) != 0)
            crt_die("child %d never got ready", c + 1);
    crt_say("%d processes, each with %d semaphore sets, %d message queues and 2 segments of its own", kids + 1,
            each, each);

    crt_checkpoint_point(1);

    int wrong = count_wrong(&o, 0, each);
    crt_check("the program's sets, queues and segments, under the ids it kept", wrong == 0, "%d of %d not",
              wrong, 2 * each + 2);
    for (int c = 0; c < kids; c++)
        if (write(go[1], "g", 1) != 1)
            crt_die("the children's pipe: %s", strerror(errno));
    for (int c = 0; c < kids; c++) {
        int st = 0;
        pid_t p;
        while ((p = waitpid(kid[c], &st, 0)) < 0 && errno == EINTR)
            ;
        char name[96];
        snprintf(name, sizeof name, "child %d's sets, queues and segments, under the ids it kept", c + 1);
        crt_check(name, p == kid[c] && WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s %d",
                  p != kid[c] ? "waitpid failed:" : WIFEXITED(st) ? "exit" : "signal",
                  p != kid[c] ? errno : WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    }
    remove_own(&o, each);

    crt_checkpoint_point(2);

    crt_finish();
}
