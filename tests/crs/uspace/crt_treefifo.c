/*
 * State test: FIFOs (named pipes) a process and its child share, checkpointed
 * with --tree (crs_tree_fifo.sh; issue 10). tree.fifo: the program reads it
 * (O_RDONLY|O_NONBLOCK), the child opened it for writing on its own; it
 * holds the child's 1000 bytes at point 1. tree.rw: opened O_RDWR before the
 * fork, one open file for both, holding the program's 500 bytes. The tree's
 * restart must make each FIFO once, at its path, with its bytes once: after
 * point 1 the child takes tree.rw's 500 bytes and writes "child1" into it,
 * and "after1" into tree.fifo; the program then reads tree.fifo's 1006 bytes
 * and tree.rw's 6, and no more. At point 2 tree.fifo holds the child's 200
 * bytes, tree.rw the program's 300, which each takes from the other after
 * it. Each member getting a copy of its own (or the bytes twice) shows as
 * bytes missing or read twice. tree.wait: opened O_RDONLY|O_NONBLOCK before
 * the fork (one open file for both), then made blocking, and no writer
 * opened it yet (a forked FIFO server waiting for its first client): after
 * point 1 poll reports nothing on it (no hang-up: review diffrev22 HIGH),
 * its first client reaches it, and it reports hang-up once that client is
 * gone, as at point 2.
 *
 * Argument "jobserver": descriptor 5 is the launcher's FIFO (opened O_RDWR,
 * a make job server holding tokens), inherited by both members; after point
 * 1 each takes a token from it and gives it back (the restart must give
 * them the launcher's again, not a FIFO of their own: review diffrev22 M1).
 * Arguments "make44 PATH": GNU make >= 4.4's job server
 * (--jobserver-auth=fifo:PATH): the program and its child each open the
 * FIFO PATH read-write by its path at descriptor 5 (make, outside the tree,
 * holds it; checkpointing the tree is refused naming make: review diffrev23
 * M1), and take a token after point 1 as with "jobserver".
 * Argument "many": the program and its child hold 1030 more descriptors on
 * tree.rw (checkpointing the tree is refused: review diffrev22 L1).
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char a1000[1000], b500[500], c200[200], d300[300], got[2000];
static int sfd, rwfd, wfd, jobs, ready[2], go[2];
static const char *jobpath;

/* A token from the job server on descriptor 5, given back. Waited for
 * 10 s at most: a FIFO of the members' own, empty, in place of the job
 * server's (the bug of review diffrev22 M1) fails a check, not hangs. */
static int token(void)
{
    char c;
    ssize_t n;
    struct pollfd p = { .fd = 5, .events = POLLIN };
    int r;
    while ((r = poll(&p, 1, 10000)) < 0 && errno == EINTR)
        ;
    if (r == 0)
        errno = ETIMEDOUT;
    if (r <= 0)
        return -1;
    while ((n = read(5, &c, 1)) < 0 && errno == EINTR)
        ;
    return n == 1 && write(5, &c, 1) == 1 ? 0 : -1;
}

/* make >= 4.4's job server client (--jobserver-auth=fifo:PATH): the FIFO
 * opened read-write by its path, at descriptor 5. */
static void open_jobserver(const char *path)
{
    int j = open(path, O_RDWR);
    if (j < 0 || (j != 5 && (dup2(j, 5) != 5 || close(j) != 0)))
        crt_die("make44: opening the job server's FIFO %s: %s", path, strerror(errno));
}

static int wait_word(int fd)
{
    char c;
    ssize_t n;
    while ((n = read(fd, &c, 1)) < 0 && errno == EINTR)
        ;   /* across a checkpoint */
    return n == 1 ? c : -1;
}

static int say_word(int fd, char c)
{
    return write(fd, &c, 1) == 1 ? 0 : -1;
}

static void __attribute__((noreturn)) child(void)
{
    close(ready[0]);
    close(go[1]);
    close(sfd);   /* the program's reader; the child's writer is its own open file */
    if (jobpath) {   /* a sub-make: the job server's FIFO opened by its path, its own open file */
        close(5);
        open_jobserver(jobpath);
    }
    int w = open("tree.fifo", O_WRONLY);
    if (w < 0 || write(w, a1000, sizeof a1000) != (ssize_t)sizeof a1000 || say_word(ready[1], 'r'))
        _exit(2);
    if (wait_word(go[0]) != '1')   /* point 1 */
        _exit(3);
    if (crt_read_all(rwfd, got, sizeof got) != (ssize_t)sizeof b500 || memcmp(got, b500, sizeof b500))
        _exit(4);   /* tree.rw's 500 bytes, once */
    if (jobs && token())
        _exit(9);
    if (write(rwfd, "child1", 6) != 6 || write(w, "after1", 6) != 6 || say_word(ready[1], 'a'))
        _exit(5);
    if (wait_word(go[0]) != 'f' || write(w, c200, sizeof c200) != (ssize_t)sizeof c200 || say_word(ready[1], 'f'))
        _exit(6);
    if (wait_word(go[0]) != '2')   /* point 2 */
        _exit(7);
    if (crt_read_all(rwfd, got, sizeof got) != (ssize_t)sizeof d300 || memcmp(got, d300, sizeof d300))
        _exit(8);
    _exit(0);
}

int main(int argc, char **argv)
{
    jobpath = argc > 2 && !strcmp(argv[1], "make44") ? argv[2] : NULL;
    if (jobpath)
        open_jobserver(jobpath);   /* first: descriptor 5, past the others' */
    jobs = jobpath || (argc > 1 && !strcmp(argv[1], "jobserver"));
    int many = argc > 1 && !strcmp(argv[1], "many");
    unlink("tree.fifo");
    unlink("tree.rw");
    unlink("tree.wait");
    if (mkfifo("tree.fifo", 0600) != 0 || mkfifo("tree.rw", 0600) != 0 || mkfifo("tree.wait", 0600) != 0)
        crt_die("mkfifo: %s", strerror(errno));
    crt_fill(a1000, sizeof a1000, 11);
    crt_fill(b500, sizeof b500, 13);
    crt_fill(c200, sizeof c200, 17);
    crt_fill(d300, sizeof d300, 19);
    sfd = open("tree.fifo", O_RDONLY | O_NONBLOCK);
    rwfd = open("tree.rw", O_RDWR | O_NONBLOCK);
    wfd = open("tree.wait", O_RDONLY | O_NONBLOCK);
    if (sfd < 0 || rwfd < 0 || wfd < 0 || fcntl(wfd, F_SETFL, 0) != 0 || pipe(ready) != 0 || pipe(go) != 0)
        crt_die("opening the FIFOs or pipes: %s", strerror(errno));
    if (jobs && fcntl(5, F_GETFD) < 0)
        crt_die("jobserver: descriptor 5 is not open: %s", strerror(errno));
    for (int i = 0; many && i < 1030; i++)
        if (fcntl(rwfd, F_DUPFD, 10) < 0)
            crt_die("many: descriptor %d on tree.rw: %s (ulimit -n 1100 first)", i, strerror(errno));
    if (write(rwfd, b500, sizeof b500) != (ssize_t)sizeof b500)
        crt_die("filling tree.rw: %s", strerror(errno));
    pid_t kid = fork();
    if (kid < 0)
        crt_die("fork: %s", strerror(errno));
    if (kid == 0)
        child();
    close(ready[1]);
    close(go[0]);
    if (wait_word(ready[0]) != 'r')
        crt_die("the child did not get ready");
    crt_say("tree.fifo holds the child's 1000 bytes, tree.rw (one open file for both) the program's 500");

    crt_checkpoint_point(1);

    if (say_word(go[1], '1') || wait_word(ready[0]) != 'a')
        crt_die("the child did not go on after point 1");
    if (jobs) {
        int tk = token();
        crt_check("the launcher's job server: the program and its child each took a token and gave it back",
                  tk == 0, "descriptor 5: %s", strerror(errno));
    }
    ssize_t n;
    struct pollfd pw = { .fd = wfd, .events = POLLIN };
    int pr = poll(&pw, 1, 0), fl = fcntl(wfd, F_GETFL);
    crt_check("tree.wait: no writer yet, poll reports nothing (no hang-up), still blocking",
              pr == 0 && fl >= 0 && !(fl & O_NONBLOCK), "poll %d, revents 0x%x, flags 0%o", pr, (unsigned)pw.revents,
              (unsigned)fl);
    int cw = open("tree.wait", O_WRONLY | O_NONBLOCK);
    ssize_t cn = cw >= 0 ? write(cw, "client", 6) : -1;
    pr = poll(&pw, 1, 0);
    n = pr == 1 && (pw.revents & POLLIN) ? read(wfd, got, sizeof got) : -1;
    if (cw >= 0)
        close(cw);
    int hup = poll(&pw, 1, 0) == 1 && (pw.revents & POLLHUP);
    crt_check("tree.wait: its first client reaches it by its path, then hang-up once that client is gone",
              cw >= 0 && cn == 6 && n == 6 && !memcmp(got, "client", 6) && hup, "open %d, write %zd, read %zd, hup %d",
              cw, cn, n, hup);
    n = crt_read_all(sfd, got, sizeof got);
    crt_check("tree.fifo: the child's 1000 bytes and 'after1', once, in order",
              n == 1006 && !memcmp(got, a1000, 1000) && !memcmp(got + 1000, "after1", 6), "read %zd bytes", n);
    n = crt_read_all(rwfd, got, sizeof got);
    crt_check("tree.rw: only the child's 'child1' (its 500 bytes the child took)", n == 6 && !memcmp(got, "child1", 6),
              "read %zd bytes '%.*s'", n, (int)(n > 0 && n < 40 ? n : 0), got);
    /* the FIFO at the path is the restored one: a writer opened by it meets the program's reader */
    int w = open("tree.fifo", O_WRONLY | O_NONBLOCK);
    ssize_t wn = w >= 0 ? write(w, "bypath", 6) : -1;
    n = crt_read_all(sfd, got, sizeof got);
    crt_check("tree.fifo: a writer opened by its path meets the program's reader",
              w >= 0 && wn == 6 && n == 6 && !memcmp(got, "bypath", 6), "open %d, write %zd, read %zd", w, wn, n);
    if (w >= 0)
        close(w);
    if (write(rwfd, d300, sizeof d300) != (ssize_t)sizeof d300 || say_word(go[1], 'f') || wait_word(ready[0]) != 'f')
        crt_die("filling the FIFOs for point 2: %s", strerror(errno));
    crt_say("tree.fifo holds the child's 200 bytes, tree.rw the program's 300");

    crt_checkpoint_point(2);

    if (say_word(go[1], '2'))
        crt_die("cannot tell the child to go on: %s", strerror(errno));
    int st = -1;
    while (waitpid(kid, &st, 0) < 0 && errno == EINTR)
        ;
    crt_check("the child took tree.rw's 300 bytes, once", WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status 0x%x",
              (unsigned)st);
    n = crt_read_all(sfd, got, sizeof got);
    crt_check("tree.fifo: the child's 200 bytes, once", n == 200 && !memcmp(got, c200, 200), "read %zd bytes", n);
    n = crt_read_all(rwfd, got, sizeof got);
    crt_check("tree.rw: empty now", n == 0, "read %zd bytes", n);
    pw.revents = 0;
    pr = poll(&pw, 1, 0);
    crt_check("tree.wait: hang-up still (its client came and went)", pr == 1 && pw.revents == POLLHUP,
              "poll %d, revents 0x%x", pr, (unsigned)pw.revents);
    crt_finish();
}
