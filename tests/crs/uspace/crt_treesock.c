/*
 * State test: socket pairs whose ends a process and its child hold
 * (socketpair then fork, as Python's multiprocessing.Pipe), checkpointed
 * with --tree (crs_tree_sock.sh; issue 10 review MEDIUM-4). One pair of
 * each type, stream, datagram and seqpacket: the program keeps end 0, the
 * child end 1; at point 1 each end holds what the other sent and nobody
 * read yet (the stream 3000 bytes, the datagram and seqpacket pairs three
 * messages each way, the middle one empty: issue 10, the checkpoint's peek
 * stopped at an empty message and what came after it was lost). Across point 1 the child waits for the program's word
 * on a pipe, then on the stream pair. Then each reads the other's
 * messages (their bounds kept) and answers; the program checks the child's
 * answers. Before, the tree's checkpoint was refused ("a socket between two
 * members is not supported under --tree yet"). Contract: crt_common.h.
 * `crt_treesock outside`: before the fork, a process that leaves the tree
 * (its parent ends, it goes to the reaper) keeps the child's end of the
 * stream pair and execs sleep, its pid in crt_treesock.outside (issue 10:
 * the pair was taken as the members', that process's end cut off from
 * them after a restart; crs_tree_sock.sh part "outside" wants a refusal).
 * `crt_treesock shared`: the same, but what the outside process keeps is
 * one more socket (an unnamed Unix datagram socket, connected to nothing)
 * that the program and its child both hold too (crs_tree_sock.sh part
 * "shared" wants the refusal of a socket two members hold to name that
 * process and its descriptor; issue 10: it named the members only).
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int st[2], dg[2], sp[2], gp[2];
static int us = -1;   /* `shared`: the socket the members and the outside process hold */

/* Reads exactly n bytes of a stream (blocking). */
static int read_full(int fd, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* The next message of fd is `want` (its bounds kept). */
static int msg_is(int fd, const char *want)
{
    char buf[256];
    ssize_t r;
    while ((r = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) < 0 && errno == EINTR)
        ;
    return r == (ssize_t)strlen(want) && !memcmp(buf, want, (size_t)r);
}

static int say(int fd, const char *m)
{
    return send(fd, m, strlen(m), MSG_DONTWAIT) == (ssize_t)strlen(m) ? 0 : -1;
}

static void pattern(char *buf, size_t n, int seed)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)('a' + (i * 7 + (size_t)seed) % 26);
}

static void __attribute__((noreturn)) child(void)
{
    close(st[0]), close(dg[0]), close(sp[0]), close(gp[1]);
    if (say(dg[1], "d-c1") || say(dg[1], "") || say(dg[1], "d-c2") || say(sp[1], "s-c1") || say(sp[1], "") ||
        say(sp[1], "s-c2") ||
        write(st[1], "ready", 5) != 5)
        _exit(2);
    char go[2];
    if (read_full(gp[0], go, 1) != 0)   /* across point 1: the program's word */
        _exit(3);
    char big[3000], want[3000];
    pattern(want, sizeof want, 1);
    if (read_full(st[1], big, sizeof big) != 0 || memcmp(big, want, sizeof big))
        _exit(4);
    if (read_full(st[1], go, 2) != 0 || memcmp(go, "go", 2))
        _exit(5);
    if (!msg_is(dg[1], "d-p1") || !msg_is(dg[1], "") || !msg_is(dg[1], "d-p2") || !msg_is(sp[1], "s-p1") ||
        !msg_is(sp[1], "") || !msg_is(sp[1], "s-p2"))
        _exit(6);
    if (say(dg[1], "d-done") || say(sp[1], "s-done") || write(st[1], "done", 4) != 4)
        _exit(7);
    _exit(0);
}

/* The outside holder of keep (st[1], or us: see the top): forked twice,
 * the middle process ending at once, so that it is no descendant of the
 * program. */
static void leave_outside(int keep)
{
    pid_t mid = fork();
    if (mid < 0)
        crt_die("fork: %s", strerror(errno));
    if (mid == 0) {
        if (fork() != 0)
            _exit(0);
        for (int fd = 3; fd < 64; fd++)
            if (fd != keep)
                close(fd);
        int null = open("/dev/null", O_RDWR);   /* not the test's output files: only the socket */
        if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
            _exit(2);
        if (null > 2 && null != keep)
            close(null);
        FILE *f = fopen("crt_treesock.outside.tmp", "w");
        if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) ||
            rename("crt_treesock.outside.tmp", "crt_treesock.outside"))
            _exit(2);
        execlp("sleep", "sleep", "100", (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(mid, &status, 0) < 0 && errno == EINTR)
        ;
}

int main(int argc, char **argv)
{
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, st) || socketpair(AF_UNIX, SOCK_DGRAM, 0, dg) ||
        socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) || pipe(gp))
        crt_die("socketpair or pipe: %s", strerror(errno));
    if (argc > 1 && !strcmp(argv[1], "outside"))
        leave_outside(st[1]);
    if (argc > 1 && !strcmp(argv[1], "shared")) {
        if ((us = socket(AF_UNIX, SOCK_DGRAM, 0)) < 0)
            crt_die("socket: %s", strerror(errno));
        leave_outside(us);
    }
    pid_t kid = fork();
    if (kid < 0)
        crt_die("fork: %s", strerror(errno));
    if (kid == 0)
        child();
    close(st[1]), close(dg[1]), close(sp[1]), close(gp[0]);
    char ready[5];
    if (read_full(st[0], ready, 5) != 0 || memcmp(ready, "ready", 5))
        crt_die("the child did not get ready");
    char big[3000];
    pattern(big, sizeof big, 1);
    if (write(st[0], big, sizeof big) != (ssize_t)sizeof big || say(dg[0], "d-p1") || say(dg[0], "") ||
        say(dg[0], "d-p2") || say(sp[0], "s-p1") || say(sp[0], "") || say(sp[0], "s-p2"))
        crt_die("sending to the child: %s", strerror(errno));
    crt_say("stream, datagram and seqpacket socket pairs between the program and its child, each end holding "
            "unread data");

    crt_checkpoint_point(1);

    crt_check("datagram: the child's three messages (the middle one empty), in order",
              msg_is(dg[0], "d-c1") && msg_is(dg[0], "") && msg_is(dg[0], "d-c2"), "%s", strerror(errno));
    crt_check("seqpacket: the child's three messages (the middle one empty), in order",
              msg_is(sp[0], "s-c1") && msg_is(sp[0], "") && msg_is(sp[0], "s-c2"), "%s", strerror(errno));
    crt_check("stream: the word reaches the child", write(gp[1], "g", 1) == 1 && write(st[0], "go", 2) == 2, "%s",
              strerror(errno));
    char done[4];
    crt_check("stream: the child's answer", read_full(st[0], done, 4) == 0 && !memcmp(done, "done", 4), "%s",
              strerror(errno));
    int status = -1;
    while (waitpid(kid, &status, 0) < 0 && errno == EINTR)
        ;
    crt_check("the child got the program's bytes and messages", WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "status 0x%x (3-5: the stream, 6: the messages)", status);
    crt_check("datagram and seqpacket: the child's answers", msg_is(dg[0], "d-done") && msg_is(sp[0], "s-done"),
              "%s", strerror(errno));
    char rest;
    crt_check("stream: the child's end is closed", read(st[0], &rest, 1) == 0, "%s", strerror(errno));

    crt_check("datagram: nothing left", recv(dg[0], &rest, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN, "%s",
              strerror(errno));
    close(st[0]), close(dg[0]), close(sp[0]), close(gp[1]);   /* their peers are gone */
    if (us >= 0)
        close(us);

    crt_checkpoint_point(2);

    crt_check("the sockets stay closed after point 2", fcntl(st[0], F_GETFD) < 0 && fcntl(sp[0], F_GETFD) < 0, "open");
    crt_finish();
}
