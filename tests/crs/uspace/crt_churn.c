/*
 * State test: a parent that starts short-lived children and reaps each at
 * once (a driver running one small command after another), checkpointed
 * with cr_checkpoint --tree while it churns (crs_tree_churn.sh). A tree's
 * member list read before the members are parked goes stale here within
 * a millisecond: the parent may have reaped the child listed and started
 * the next. After a restart the parent must get from waitpid the very child
 * it waits for, with that child's status, and have no other child left.
 *
 * How a child is started (argv[1]):
 *   fork   fork; the child computes a moment and exits (the default);
 *   exec   fork, then the child computes a moment and execs this program
 *          again ("child" mode), as a shell runs a command: a checkpoint that parks the child
 *          while it is inside execve must not leave the park signal to the
 *          new program, which has no handler for it yet (it died of it);
 *   spawn  posix_spawn of this program (glibc's vfork-like clone);
 *   sh     bash runs the loop itself, each command this program in
 *          "child" mode: the shell script of issue 10, point 1.
 * Each child exits with status i % 5 + 1, i its round.
 *
 * Point 1 is passed at once (the harness touches go.1); the program then
 * churns (at least MIN_ROUNDS rounds) until it has seen $REVIVE_TEST_GO.2
 * at the start of TAIL_ROUNDS rounds, checks, and finishes. A restart (whose
 * go.2 exists) so finishes the round it was caught in, its child waited
 * for, and starts and reaps TAIL_ROUNDS children more.
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The original churns until go.2 whatever these are; they set how long the uninterrupted
 * run and each restart last. MIN_ROUNDS was 300 and a restart ran on to it: crs_tree_churn's
 * 48 restarts took 5 of its 6 minutes in CI, proving no more than the round a restart is
 * caught in and a few after it do. */
#define MIN_ROUNDS 20
#define TAIL_ROUNDS 5
#define BIG_ARG (120 * 1024)   /* below MAX_ARG_STRLEN */
#define BIG_ARGS 14            /* below a quarter of the usual 8 MiB stack limit */

static void spin(long i)
{
    for (volatile long k = 0; k < (i % 7) * 20000; k++)
        ;
}

/* The shell's version of the loop below, with the same checks and lines. */
static const char script[] =
    "prog=$1 stop=$2 min=$3 tailmin=$4\n"
    "i=0 bad=0 first= tail=0\n"
    "while [ $i -lt $min ] || { [ -n \"$stop\" ] && [ $tail -lt $tailmin ]; }; do\n"
    "    [ -n \"$stop\" ] && [ -e \"$stop\" ] && tail=$((tail + 1))\n"
    "    \"$prog\" child $i\n"
    "    st=$? want=$((i % 5 + 1))\n"
    "    if [ $st != $want ]; then\n"
    "        [ $bad = 0 ] && first=\"round $i: status $st, expected $want\"\n"
    "        bad=$((bad + 1))\n"
    "    fi\n"
    "    i=$((i + 1))\n"
    "done\n"
    "echo \"$bad $first\"\n";

/* Runs the script; returns how many rounds were wrong, the first in `first`. */
static long run_sh(const char *self, const char *stop, char *first, size_t cap)
{
    char min[16], tailmin[16];
    snprintf(min, sizeof min, "%d", MIN_ROUNDS);
    snprintf(tailmin, sizeof tailmin, "%d", TAIL_ROUNDS);
    int p[2];
    if (pipe(p) != 0)
        crt_die("pipe: %m");
    pid_t c = fork();
    if (c < 0)
        crt_die("fork: %m");
    if (c == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execl("/bin/bash", "bash", "-c", script, "crt_churn", self, stop, min, tailmin, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char out[512];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof out - 1 && ((r = read(p[0], out + n, sizeof out - 1 - n)) > 0 || (r < 0 && errno == EINTR)))
        n += r > 0 ? (size_t)r : 0;
    out[n] = 0;
    close(p[0]);
    int st = -1;
    while (waitpid(c, &st, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        snprintf(first, cap, "bash ended with status 0x%x", st);
        return 1;
    }
    char *end;
    long bad = strtol(out, &end, 10);
    if (end == out) {
        snprintf(first, cap, "bash printed '%.200s'", out);
        return 1;
    }
    end[strcspn(end, "\n")] = 0;
    snprintf(first, cap, "%.200s", *end ? end + 1 : "");
    return bad;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "fork";
    if (strcmp(mode, "child") == 0) {
        long i = argc > 2 ? atol(argv[2]) : 0;
        spin(i);
        return (int)(i % 5) + 1;
    }
    if (strcmp(mode, "fork") && strcmp(mode, "exec") && strcmp(mode, "spawn") && strcmp(mode, "sh"))
        crt_die("unknown mode '%s' (fork, exec, spawn or sh)", mode);
    setvbuf(stdout, NULL, _IOLBF, 0);
    char self[PATH_MAX];
    ssize_t sn = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sn <= 0)
        crt_die("/proc/self/exe: %m");
    self[sn] = 0;
    static char big[BIG_ARG];
    memset(big, 'x', sizeof big - 1);
    crt_say("churn (%s): starts children and waits for each", mode);
    crt_checkpoint_point(1);
    const char *go = getenv("REVIVE_TEST_GO");
    char stop[4096];
    snprintf(stop, sizeof stop, "%s.2", go && *go ? go : "/nonexistent/go");
    long rounds = 0, bad = 0;
    char first_bad[256] = "";
    if (strcmp(mode, "sh") == 0) {
        bad = run_sh(self, go && *go ? stop : "", first_bad, sizeof first_bad);
        rounds = -1;
    }
    /* at least MIN_ROUNDS, then until the harness's stop was seen TAIL_ROUNDS times (without
     * the harness: no more) */
    long tail = 0;
    for (long i = 0; rounds >= 0 && (i < MIN_ROUNDS || (go && *go && tail < TAIL_ROUNDS)); i++) {
        if (go && *go && access(stop, F_OK) == 0)
            tail++;
        char arg[24];
        snprintf(arg, sizeof arg, "%ld", i);
        /* exec: a long argument, as a command line built by xargs or a
         * glob has, so that execve takes a while to copy it */
        char *args[4 + BIG_ARGS] = { (char *)"crt_churn", (char *)"child", arg };
        for (int k = 0; k < BIG_ARGS && strcmp(mode, "exec") == 0; k++)
            args[3 + k] = big;
        pid_t c;
        if (strcmp(mode, "spawn") == 0) {
            int e = posix_spawn(&c, self, NULL, NULL, args, environ);
            if (e)
                crt_die("posix_spawn: %s", strerror(e));
        } else if ((c = fork()) < 0) {
            crt_die("fork: %m");
        } else if (c == 0) {
            if (strcmp(mode, "exec") == 0) {
                spin(i + 3);   /* as a shell sets up redirections between fork and exec */
                execv(self, args);
                _exit(126);
            }
            spin(i);
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
    crt_check("every child was waited for with its status", bad == 0, "%ld rounds wrong; first: %s", bad,
              first_bad);
    int st;
    pid_t other = waitpid(-1, &st, WNOHANG);
    crt_check("no other child is left", other < 0 && errno == ECHILD, "waitpid(-1) gave %d (%s)", (int)other,
              other < 0 ? strerror(errno) : "a child nobody started");
    crt_finish();
}
