/*
 * State test: many System V semaphore sets that members of a tree share
 * (checkpointed with --tree; crs_restart_fail.sh). The program starts 5
 * children; each makes 60 private sets of one semaphore (set k of child c
 * holds 1000 * c + k) and forks a grandchild that names each of them
 * (GETVAL): 300 sets, each one that the tree's restart makes once for two
 * members. Across point 1 every member waits for the program's word (a
 * pipe); after it each grandchild and child checks every value (its exit
 * status says how many differ), the children remove their sets, and the
 * program checks every status. Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <string.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <unistd.h>

#define KIDS 5
#define SETS 60   /* under the 64 sets and queues libcr follows per process */

static int ids[SETS];

static void wait_word(int fd)
{
    char c;
    while (read(fd, &c, 1) < 0 && errno == EINTR)
        ;
}

static int wrong_values(int c)
{
    int wrong = 0;
    for (int k = 0; k < SETS; k++)
        wrong += semctl(ids[k], 0, GETVAL) != 1000 * c + k;
    return wrong > 100 ? 100 : wrong;
}

static void __attribute__((noreturn)) child(int c, int ready, int go)
{
    for (int k = 0; k < SETS; k++) {
        union crt_semun a = { .val = 1000 * c + k };
        ids[k] = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
        if (ids[k] < 0 || semctl(ids[k], 0, SETVAL, a) != 0)
            _exit(101);
    }
    pid_t g = fork();
    if (g < 0)
        _exit(102);
    int wrong = wrong_values(c);   /* the grandchild names each set here too */
    if (write(ready, "r", 1) != 1)
        _exit(103);
    wait_word(go);
    wrong += wrong_values(c);
    if (g == 0)
        _exit(wrong);
    int st = -1;
    while (waitpid(g, &st, 0) < 0 && errno == EINTR)
        ;
    for (int k = 0; k < SETS; k++)
        semctl(ids[k], 0, IPC_RMID);
    _exit(!WIFEXITED(st) ? 104 : WEXITSTATUS(st) ? 105 : wrong);
}

int main(void)
{
    int ready[2], go[2];
    pid_t kids[KIDS];
    if (pipe(ready) != 0 || pipe(go) != 0)
        crt_die("pipe: %s", strerror(errno));
    for (int c = 0; c < KIDS; c++) {
        kids[c] = fork();
        if (kids[c] < 0)
            crt_die("fork: %s", strerror(errno));
        if (kids[c] == 0) {
            close(ready[0]);
            close(go[1]);
            child(c, ready[1], go[0]);
        }
    }
    close(ready[1]);
    close(go[0]);
    for (int n = 0; n < 2 * KIDS; n++) {
        char ch;
        ssize_t r;
        while ((r = read(ready[0], &ch, 1)) < 0 && errno == EINTR)
            ;
        if (r != 1)
            crt_die("a child or grandchild did not get ready");
    }
    crt_say("%d children and %d grandchildren sharing %d System V semaphore sets in pairs", KIDS, KIDS, KIDS * SETS);

    crt_checkpoint_point(1);

    close(go[1]);   /* the word: every member reads end of file */
    int bad = 0;
    for (int c = 0; c < KIDS; c++) {
        int st = -1;
        while (waitpid(kids[c], &st, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            crt_fail("a child's sets", "child %d: status 0x%x (exit 1-100: sets with another value)", c, st);
            bad = 1;
        }
    }
    if (!bad)
        crt_check("every set's value, seen by both of its members", 1, "%s", "");

    crt_checkpoint_point(2);
    crt_finish();
}
