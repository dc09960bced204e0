/*
 * State test: a parent that forks short-lived children and reaps each at
 * once (a driver running one small command after another), checkpointed
 * with cr_checkpoint --tree while it churns (crs_tree_churn.sh). A tree's
 * member list read before the members are parked goes stale here within
 * a millisecond: the parent may have reaped the child listed and forked the
 * next. After a restart the parent must get from waitpid the very child it
 * waits for, with that child's status, and have no other child left.
 *
 * Point 1 is passed at once (the harness touches go.1); the program then
 * churns (at least MIN_ROUNDS rounds) until $REVIVE_TEST_GO.2 exists,
 * checks, and finishes.
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIN_ROUNDS 300

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    crt_say("churn: forks children and waits for each");
    crt_checkpoint_point(1);
    const char *go = getenv("REVIVE_TEST_GO");
    char stop[4096];
    snprintf(stop, sizeof stop, "%s.2", go && *go ? go : "/nonexistent/go");
    long rounds = 0, bad = 0;
    char first_bad[256] = "";
    /* at least MIN_ROUNDS, then until the harness says stop (without it: no more) */
    for (long i = 0; i < MIN_ROUNDS || (go && *go && access(stop, F_OK) != 0); i++) {
        pid_t c = fork();
        if (c < 0)
            crt_die("fork: %m");
        if (c == 0) {
            for (volatile long k = 0; k < (i % 7) * 20000; k++)
                ;
            _exit((int)(i % 5) + 1);
        }
        if (i % 3 == 0)   /* the child often ends before it is waited for: a zombie */
            crt_sleep_ms(2);
        int st = -1;
        pid_t w;
        while ((w = waitpid(c, &st, 0)) < 0 && errno == EINTR)
            ;
        rounds++;
        if (w != c || !WIFEXITED(st) || WEXITSTATUS(st) != (int)(i % 5) + 1) {
            if (!bad++)
                snprintf(first_bad, sizeof first_bad, "round %ld: waitpid(%d) gave %d (%s), status 0x%x, expected "
                         "exit %d", i, (int)c, (int)w, w < 0 ? strerror(errno) : "a child", st, (int)(i % 5) + 1);
        }
    }
    crt_check("every waitpid gave its child and the child's status", bad == 0, "%ld of %ld rounds wrong; first: %s",
              bad, rounds, first_bad);
    int st;
    pid_t other = waitpid(-1, &st, WNOHANG);
    crt_check("no other child is left", other < 0 && errno == ECHILD, "waitpid(-1) gave %d (%s)", (int)other,
              other < 0 ? strerror(errno) : "a child nobody forked");
    crt_finish();
}
