/* rank_fdmade STEPS PACEFILE MS MODE [DIR [HOLD]]: descriptors a rank holds that no MPI call made,
 * across a snapshot (rank_fdmade.sh). Every rank, before its steps (refuse: even and odd ranks):
 *
 *   raw  makes a Unix socketpair and an eventfd by raw system calls (syscall(SYS_socketpair),
 *        syscall(SYS_eventfd2)), as a library of the application's or libc itself may, which no
 *        wrapper sees (review 13 HIGH-2: taken for the MPI library's by their type, left out of
 *        the image, and gone after the restart). Each step writes a number into one end and
 *        reads the number of the step before from the other (one is always in flight), adds
 *        the step to the eventfd and reads its count every third step.
 *   svc  is a client of two services of a test server (rank_fdmade_svc.py) at DIR, which the
 *        test puts in /run like a system daemon's: a datagram socket connected to DIR/dgram
 *        (as syslog's to /dev/log) and a stream one connected to DIR/stream (as NSS's to SSSD's
 *        pipe), each sent "rank R step S" every step, the stream one answering "ok S". Like
 *        libc's clients, a failed send or answer closes the socket, connects again, sends again
 *        and says "rank R: reconnected to SERVICE at step S" on stderr (review 13 M4: such a
 *        connection refused every snapshot). With HOLD (a step), every rank at that step, once
 *        the stream service's answer has arrived, writes its pid to DIR/hold.R, says "rank R:
 *        the reply of step S waits unread" and leaves it unread until DIR/go.R exists (the test
 *        makes it once it saw the rank parked by the snapshot: a park cannot be seen from
 *        inside, libcr resumes an interrupted sleep), then says "rank R: reads the reply of step
 *        S" and reads it: the snapshot's park catches a request in progress, as a --term park at
 *        any moment did once in CI (issue 7: refused, "connected to ... another process").
 *   refuse  what no snapshot can hold: an even rank a POSIX message queue (mq_open), an odd one
 *        a Unix socketpair with a descriptor in flight in it (SCM_RIGHTS, never received). The
 *        refusals must not offer --ignore-fds, which ckpt-mpirun does not have (review 13 L6).
 *
 * Rank 0 prints "step S: SUM" for every step and "done: SUM": the numbers do not depend on
 * when the snapshot is taken. */
#define _GNU_SOURCE
#include "rst_pace.h"

#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>

static int me;

static void die(const char *what)
{
    fprintf(stderr, "rank_fdmade rank %d: %s: %s\n", me, what, strerror(errno));
    MPI_Abort(MPI_COMM_WORLD, 3);
}

static void full(int fd, void *buf, size_t len, int out)
{
    char *p = buf;
    while (len) {
        ssize_t k = out ? write(fd, p, len) : read(fd, p, len);
        if (k <= 0)
            die(out ? "write" : "read");
        p += k;
        len -= (size_t)k;
    }
}

/* ---- raw ---- */
static int sv[2] = { -1, -1 }, efd = -1;

static void raw_setup(void)
{
    if (syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        die("socketpair by system call");
    efd = (int)syscall(SYS_eventfd2, 0, 0);
    if (efd < 0)
        die("eventfd by system call");
    long long first = me + 1;
    full(sv[0], &first, sizeof first, 1);
}

static long long raw_step(int s)
{
    long long mine = (long long)(me + 1) * (s + 5), before = 0;
    full(sv[0], &mine, sizeof mine, 1);
    full(sv[1], &before, sizeof before, 0);
    uint64_t add = (uint64_t)s + 1, count = 0;
    full(efd, &add, sizeof add, 1);
    if (s % 3 == 2)
        full(efd, &count, sizeof count, 0);
    return before * 3 + (long long)count;
}

/* ---- svc ---- */
static const char *dir;
static int dg = -1, st = -1, hold = -1;

/* HOLD: the answer of step s waits unread until DIR/go.R exists (at most 300 s) */
static void hold_reply(int fd, int s)
{
    struct pollfd p = { fd, POLLIN, 0 };
    char path[4200];
    if (poll(&p, 1, 60000) != 1)
        return;   /* no answer: ask's recv tells */
    snprintf(path, sizeof path, "%s/hold.%d", dir, me);
    FILE *f = fopen(path, "w");
    if (!f)
        die(path);
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
    fprintf(stderr, "rank %d: the reply of step %d waits unread\n", me, s);
    snprintf(path, sizeof path, "%s/go.%d", dir, me);
    struct timespec d = { 0, 20 * 1000 * 1000 };
    for (int i = 0; i < 15000 && access(path, F_OK) != 0; i++)
        nanosleep(&d, NULL);
    fprintf(stderr, "rank %d: reads the reply of step %d\n", me, s);
}

static int svc_connect(int type, const char *name)
{
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path, sizeof a.sun_path, "%s/%s", dir, name);
    int fd = socket(AF_UNIX, type, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        die(name);
    return fd;
}

/* one request on the stream service: 0, or -1 when the connection failed */
static int ask(int fd, const char *req, int s)
{
    char want[32], got[32];
    if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req))
        return -1;
    int n = snprintf(want, sizeof want, "ok %d\n", s), k = 0;
    if (s == hold)
        hold_reply(fd, s);
    while (k < n) {
        ssize_t r = recv(fd, got + k, (size_t)(n - k), 0);
        if (r <= 0)
            return -1;
        k += (int)r;
    }
    return memcmp(got, want, (size_t)n) ? (errno = EPROTO, die("the stream service's answer"), -1) : 0;
}

static long long svc_step(int s)
{
    char req[64];
    snprintf(req, sizeof req, "rank %d step %d\n", me, s);
    if (send(dg, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req)) {
        close(dg);
        dg = svc_connect(SOCK_DGRAM, "dgram");
        fprintf(stderr, "rank %d: reconnected to dgram at step %d\n", me, s);
        if (send(dg, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req))
            die("send to dgram after reconnecting");
    }
    if (ask(st, req, s)) {
        close(st);
        st = svc_connect(SOCK_STREAM, "stream");
        fprintf(stderr, "rank %d: reconnected to stream at step %d\n", me, s);
        if (ask(st, req, s))
            die("ask stream after reconnecting");
    }
    return (long long)(me + 2) * (s + 1);
}

/* ---- refuse ---- */
static mqd_t mq = (mqd_t)-1;
static char mqname[64];

static void refuse_setup(void)
{
    if (me % 2 == 0) {
        snprintf(mqname, sizeof mqname, "/revive-fdmade-%d-%d", (int)getpid(), me);
        mq = mq_open(mqname, O_CREAT | O_RDWR, 0600, NULL);
        if (mq == (mqd_t)-1)
            die("mq_open");
        return;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        die("socketpair");
    int carried = sv[1];
    char byte = 'x', ctl[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { &byte, 1 };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl };
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &carried, sizeof carried);
    if (sendmsg(sv[0], &m, 0) != 1)
        die("sendmsg SCM_RIGHTS");
}

static void refuse_end(void)
{
    if (mq != (mqd_t)-1) {
        mq_close(mq);
        mq_unlink(mqname);
    }
}

int main(int argc, char **argv)
{
    if (argc < 5 || (strcmp(argv[4], "raw") && strcmp(argv[4], "svc") && strcmp(argv[4], "refuse")) ||
        (!strcmp(argv[4], "svc") && argc < 6)) {
        fprintf(stderr, "usage: rank_fdmade STEPS PACEFILE MS raw|svc|refuse [DIR [HOLD]]\n");
        return 2;
    }
    struct rst_run r = rst_begin(&argc, &argv, "rank_fdmade");
    me = r.me;
    int raw = !strcmp(argv[4], "raw"), refuse = !strcmp(argv[4], "refuse");
    if (raw) {
        raw_setup();
    } else if (refuse) {
        refuse_setup();
    } else {
        dir = argv[5];
        hold = argc > 6 ? atoi(argv[6]) : -1;
        dg = svc_connect(SOCK_DGRAM, "dgram");
        st = svc_connect(SOCK_STREAM, "stream");
    }
    long long acc = 0;
    for (int s = 0; s < r.steps; s++) {
        acc += raw ? raw_step(s) : refuse ? (long long)(me + 1) * (s + 1) : svc_step(s);
        rst_step_sum(&r, s, acc);
    }
    rst_done_sum(&r, acc);
    if (refuse)
        refuse_end();
    MPI_Finalize();
    return 0;
}
