/*
 * State test: Unix datagram sockets the process sends to itself (issue 10, point 6; newuser10
 * F3: refused, "an unconnected datagram socket holding datagrams from senders Revive cannot
 * tell"). At each point datagrams wait unread:
 *   r1  bound to DIR/ud.sock, holding datagrams from s1 (unbound, connect(2)ed to r1: one way,
 *       r1 is not connected back) and from r1 itself (sendto its own address);
 *   r2  bound to an abstract name, SO_PASSCRED, holding datagrams from s2 (bound to
 *       DIR/ud2.sock, sendto r2: no connection), each with the sender's credentials.
 * After each point every datagram is read once, in order, with its bytes, its sender's address
 * as recvfrom gives it (none for s1's), r2's with credentials naming this process (its pid now);
 * s1 still sends to r1 with send(2) and r2 answers s2 by its address. Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int r1, s1, r2, s2;
static struct sockaddr_un r1a, r2a, s2a;
static socklen_t r1l, r2l, s2l;
static int round_no;

static socklen_t path_addr(struct sockaddr_un *a, const char *name)
{
    char cwd[4096];
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    size_t cl = getcwd(cwd, sizeof cwd) ? strlen(cwd) : 0, nl = strlen(name);
    if (!cl || cl + nl + 2 > sizeof a->sun_path)
        crt_die("the working directory's path is too long for a socket address");
    memcpy(a->sun_path, cwd, cl);
    a->sun_path[cl] = '/';
    memcpy(a->sun_path + cl + 1, name, nl + 1);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(a->sun_path) + 1);
}

static void must(int ok, const char *what)
{
    if (!ok)
        crt_die("%s: %s", what, strerror(errno));
}

/* the datagrams of round n, queued for the next point */
static void queue_round(int n)
{
    char m[32];
    for (int k = 0; k < 3; k++) {
        int l = snprintf(m, sizeof m, "s1 round %d #%d", n, k);
        must(send(s1, m, (size_t)l, 0) == l, "send s1");
    }
    int l = snprintf(m, sizeof m, "r1 to itself %d", n);
    must(sendto(r1, m, (size_t)l, 0, (struct sockaddr *)&r1a, r1l) == l, "sendto r1 itself");
    must(send(s1, "x", 1, 0) == 1, "send s1 x");
    for (int k = 0; k < 2; k++) {
        l = snprintf(m, sizeof m, "s2 round %d #%d", n, k);
        must(sendto(s2, m, (size_t)l, 0, (struct sockaddr *)&r2a, r2l) == l, "sendto s2");
    }
}

static int recv_one(int fd, char *buf, size_t cap, struct sockaddr_un *from, socklen_t *fl, pid_t *cred_pid)
{
    union { struct cmsghdr align; char b[CMSG_SPACE(sizeof(struct ucred))]; } ctl;
    struct iovec iov = { buf, cap - 1 };
    struct msghdr mh = { .msg_name = from, .msg_namelen = sizeof *from, .msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = ctl.b, .msg_controllen = sizeof ctl.b };
    ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
    *fl = mh.msg_namelen;
    *cred_pid = -1;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); n >= 0 && cm; cm = CMSG_NXTHDR(&mh, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS) {
            struct ucred uc;
            memcpy(&uc, CMSG_DATA(cm), sizeof uc);
            *cred_pid = uc.pid;
        }
    buf[n > 0 ? n : 0] = 0;
    return (int)n;
}

static void check(const char *when)
{
    char name[160], buf[64], want[64];
    struct sockaddr_un from;
    socklen_t fl;
    pid_t cp;
    int n = round_no;
    for (int k = 0; k < 4; k++) {
        int got = recv_one(r1, buf, sizeof buf, &from, &fl, &cp);
        if (k < 3)
            snprintf(want, sizeof want, "s1 round %d #%d", n, k);
        else
            snprintf(want, sizeof want, "r1 to itself %d", n);
        snprintf(name, sizeof name, "r1's datagram %d %s", k, when);
        crt_check(name, got >= 0 && !strcmp(buf, want), "got %d '%s', expected '%s'", got, buf, want);
        snprintf(name, sizeof name, "r1's datagram %d's sender %s", k, when);
        if (k < 3)
            crt_check(name, fl <= sizeof(sa_family_t), "an address of %u bytes, expected none (unbound)",
                      (unsigned)fl);
        else
            crt_check(name, fl == r1l && !strcmp(from.sun_path, r1a.sun_path), "%u bytes '%s'", (unsigned)fl,
                      fl > sizeof(sa_family_t) ? from.sun_path : "");
    }
    int got = recv_one(r1, buf, sizeof buf, &from, &fl, &cp);
    snprintf(name, sizeof name, "r1's datagram 4 (x) %s", when);
    crt_check(name, got == 1 && buf[0] == 'x', "got %d '%s'", got, buf);
    got = recv_one(r1, buf, sizeof buf, &from, &fl, &cp);
    snprintf(name, sizeof name, "r1's queue empty then %s", when);
    crt_check(name, got < 0 && errno == EAGAIN, "got %d", got);
    for (int k = 0; k < 2; k++) {
        got = recv_one(r2, buf, sizeof buf, &from, &fl, &cp);
        snprintf(want, sizeof want, "s2 round %d #%d", n, k);
        snprintf(name, sizeof name, "r2's datagram %d, from s2's address, with this process's credentials %s",
                 k, when);
        crt_check(name, got >= 0 && !strcmp(buf, want) && fl == s2l && !strcmp(from.sun_path, s2a.sun_path) &&
                            cp == getpid(),
                  "got %d '%s' from '%s', credentials pid %d (this process %d)", got, buf,
                  fl > sizeof(sa_family_t) ? from.sun_path : "", (int)cp, (int)getpid());
    }
    got = recv_one(r2, buf, sizeof buf, &from, &fl, &cp);
    snprintf(name, sizeof name, "r2's queue empty then %s", when);
    crt_check(name, got < 0 && errno == EAGAIN, "got %d", got);
    /* r2 answers s2 by its address; s2 reads it */
    must(sendto(r2, "answer", 6, 0, (struct sockaddr *)&s2a, s2l) == 6, "sendto r2 -> s2");
    got = recv_one(s2, buf, sizeof buf, &from, &fl, &cp);
    snprintf(name, sizeof name, "r2 answers s2 by its address %s", when);
    crt_check(name, got == 6 && !strcmp(buf, "answer"), "got %d '%s'", got, buf);
    round_no++;
    queue_round(round_no);
}

int main(void)
{
    r1l = path_addr(&r1a, "ud.sock");
    s2l = path_addr(&s2a, "ud2.sock");
    unlink(r1a.sun_path);
    unlink(s2a.sun_path);
    memset(&r2a, 0, sizeof r2a);
    r2a.sun_family = AF_UNIX;
    int an = snprintf(r2a.sun_path + 1, sizeof r2a.sun_path - 1, "crt_unixdgram.%d", (int)getpid());
    r2l = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)an);
    int one = 1;
    must((r1 = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0, "socket r1");
    must(bind(r1, (struct sockaddr *)&r1a, r1l) == 0, "bind r1");
    must((s1 = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0, "socket s1");
    must(connect(s1, (struct sockaddr *)&r1a, r1l) == 0, "connect s1");
    must((r2 = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0, "socket r2");
    must(bind(r2, (struct sockaddr *)&r2a, r2l) == 0, "bind r2");
    must(setsockopt(r2, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) == 0, "SO_PASSCRED");
    must((s2 = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0, "socket s2");
    must(bind(s2, (struct sockaddr *)&s2a, s2l) == 0, "bind s2");
    crt_say("r1 bound, s1 connected to it, r2 abstract with SO_PASSCRED, s2 bound");
    queue_round(0);
    check("at start");
    crt_checkpoint_point(1);
    check("after point 1");
    crt_checkpoint_point(2);
    check("after point 2");
    unlink(r1a.sun_path);
    unlink(s2a.sun_path);
    crt_finish();
}
