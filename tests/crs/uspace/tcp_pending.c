/*
 * tcp_pending MODE: TCP connections to the process's own listener that a
 * checkpoint must refuse, for tcp_pending.sh. Writes its pid to
 * $REVIVE_TEST_READY.1 once set up, then waits to be killed (later: see below).
 *   sent       a client end waiting in the listener's queue (not accepted)
 *              that already sent 5 bytes: they sit in the server end, which
 *              only accept() reaches
 *   elsewhere  a client end whose server end another process accepted (a
 *              process that shared the listener: not a child, reparented),
 *              while a connection of that process waits in the listener's
 *              queue: the client end must not be taken for a waiting one
 *              of the process's own. That process's pid goes to
 *              $REVIVE_TEST_READY.other.
 *   later      a client end waiting in the listener's queue (no bytes sent),
 *              which a checkpoint keeps; accepted once $REVIVE_TEST_GO.1
 *              exists, the server end closing first; prints "later: ok" and
 *              exits 0 (newuser10 M3)
 * Started with fds 0-2 only; exits 2 on a set-up error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what)
{
    fprintf(stderr, "tcp_pending: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void say_pid(const char *suffix, pid_t pid)
{
    const char *base = getenv("REVIVE_TEST_READY");
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s.%s", base ? base : "ready", suffix);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", (int)pid) < 0 || fclose(f) != 0 || rename(tmp, path) != 0)
        die(path);
}

static int connect_to(const struct sockaddr_in *a)
{
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c < 0 || connect(c, (const struct sockaddr *)a, sizeof *a) != 0)
        die("connect");
    return c;
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "sent") && strcmp(argv[1], "elsewhere") && strcmp(argv[1], "later"))) {
        fprintf(stderr, "usage: tcp_pending sent|elsewhere|later\n");
        return 2;
    }
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 8) != 0 ||
        getsockname(l, (struct sockaddr *)&a, &al) != 0)
        die("listen");
    int c = connect_to(&a);
    if (!strcmp(argv[1], "later")) {
        /* (newuser10 M3) the connection waits in the queue at the checkpoint (--cont); once
         * $REVIVE_TEST_GO.1 exists it is accepted, a byte goes each way, the server end closes
         * first (its TIME-WAIT then holds the listener's port, which has no SO_REUSEADDR), then
         * the client end, and the process prints "later: ok" and ends */
        say_pid("1", getpid());
        const char *go = getenv("REVIVE_TEST_GO");
        char path[4096];
        snprintf(path, sizeof path, "%s.1", go ? go : "go");
        while (access(path, F_OK) != 0)
            usleep(20000);
        int s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        char b = 0;
        if (s < 0 || write(c, "p", 1) != 1 || read(s, &b, 1) != 1 || b != 'p' || write(s, "q", 1) != 1 ||
            read(c, &b, 1) != 1 || b != 'q')
            die("the connection accepted late");
        close(s);
        if (read(c, &b, 1) != 0)   /* the server end's FIN */
            die("end of the connection");
        close(c);
        printf("later: ok\n");
        return 0;
    }
    if (!strcmp(argv[1], "sent")) {
        if (write(c, "hello", 5) != 5)
            die("write");
    } else {
        int p[2];
        if (pipe2(p, O_CLOEXEC) != 0)
            die("pipe");
        pid_t child = fork();
        if (child < 0)
            die("fork");
        if (child == 0) {
            pid_t g = fork();
            if (g != 0)
                _exit(g < 0 ? 2 : 0);
            /* the other process: takes the connection, makes one of its own that waits */
            int s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
            if (s < 0)
                die("accept");
            int mine = connect_to(&a);
            close(l);
            say_pid("other", getpid());
            char ok = 1;
            if (write(p[1], &ok, 1) != 1)
                die("pipe write");
            (void)s, (void)mine;
            for (;;)
                pause();
        }
        int st;
        waitpid(child, &st, 0);
        char ok;
        if (read(p[0], &ok, 1) != 1)
            die("waiting for the other process");
        close(p[0]);
        close(p[1]);
    }
    (void)c;
    say_pid("1", getpid());
    for (;;)
        pause();
}
