/*
 * State test of what a checkpoint must refuse rather than lose (issue 10,
 * point 6; review 13 HIGH-3, HIGH-4). argv[1] picks the object held at
 * point 1:
 *   mq          a POSIX message queue (mq_open), one message in it
 *   mq-unlinked the same, its name removed (mq_unlink) while open
 *   scm-dgram   a Unix datagram socketpair with a message in its queue that
 *               carries a descriptor (SCM_RIGHTS) of a file the sender then
 *               closed and unlinked
 *   scm-stream  the same over a stream socketpair
 * After point 1 the program takes the object's contents (receives the
 * message and the descriptor in it, checks the descriptor is the file it
 * sent) and closes it, so that at point 2 it holds only what Revive
 * restores. It checks that point 1 left no descriptor behind (a refused
 * checkpoint's peek of SCM_RIGHTS installs copies in the process).
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d)
        crt_die("opendir /proc/self/fd: %s", strerror(errno));
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1;   /* not the directory's own */
}

static void mq_case(int unlinked)
{
    char name[64];
    snprintf(name, sizeof name, "/revive-crt-inflight.%d", (int)getpid());
    struct mq_attr at = { .mq_maxmsg = 4, .mq_msgsize = 32 };
    mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &at);
    if (q == (mqd_t)-1)
        crt_die("mq_open %s: %s", name, strerror(errno));
    if (unlinked)
        mq_unlink(name);
    if (mq_send(q, "queued", 7, 3) != 0)
        crt_die("mq_send: %s", strerror(errno));
    crt_say("a message queue with one message");
    crt_checkpoint_point(1);
    char buf[32];
    unsigned prio = 0;
    ssize_t n = mq_receive(q, buf, sizeof buf, &prio);
    crt_check("the message is still queued after point 1", n == 7 && !strcmp(buf, "queued") && prio == 3,
              "got %zd bytes, priority %u", n, prio);
    mq_close(q);
    if (!unlinked)
        mq_unlink(name);
}

static void scm_case(int type)
{
    int sv[2], f;
    if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) != 0 ||
        (f = open("inflight.dat", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
        crt_die("socketpair/open: %s", strerror(errno));
    struct stat want;
    if (fstat(f, &want) != 0 || write(f, "through", 8) != 8)
        crt_die("fstat/write: %s", strerror(errno));
    union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int))]; } ctl;
    memset(&ctl, 0, sizeof ctl);
    char x = 'x';
    struct iovec iov = { .iov_base = &x, .iov_len = 1 };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &f, sizeof(int));
    if (sendmsg(sv[0], &mh, 0) != 1)
        crt_die("sendmsg: %s", strerror(errno));
    close(f);   /* the file now exists only in flight */
    unlink("inflight.dat");
    crt_say("a message carrying a descriptor is queued");
    int before = open_fds();
    crt_checkpoint_point(1);
    int after = open_fds();
    crt_check("point 1 left no descriptor behind", after == before, "%d open, %d before", after, before);
    char byte = 0, got[8] = "";
    iov = (struct iovec){ .iov_base = &byte, .iov_len = 1 };
    mh = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf };
    ssize_t n;
    do
        n = recvmsg(sv[1], &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    cm = CMSG_FIRSTHDR(&mh);
    int fd = -1;
    if (n == 1 && cm && cm->cmsg_type == SCM_RIGHTS)
        memcpy(&fd, CMSG_DATA(cm), sizeof fd);
    struct stat st;
    crt_check("the descriptor in flight arrives with its message", fd >= 0 && fstat(fd, &st) == 0 &&
              st.st_ino == want.st_ino && pread(fd, got, sizeof got, 0) == 8 && !strcmp(got, "through"),
              "recvmsg %zd, descriptor %d", n, fd);
    if (fd >= 0)
        close(fd);
    close(sv[0]);
    close(sv[1]);
}

int main(int argc, char **argv)
{
    const char *kind = argc > 1 ? argv[1] : "";
    if (!strcmp(kind, "mq") || !strcmp(kind, "mq-unlinked"))
        mq_case(!strcmp(kind, "mq-unlinked"));
    else if (!strcmp(kind, "scm-dgram"))
        scm_case(SOCK_DGRAM);
    else if (!strcmp(kind, "scm-stream"))
        scm_case(SOCK_STREAM);
    else
        crt_die("usage: crt_inflight mq|mq-unlinked|scm-dgram|scm-stream");
    crt_checkpoint_point(2);
    crt_say("%s: done", kind);
    crt_finish();
}
