/* The checkpoint request protocol between two Revive versions (crs/base/protocol.h; diffrev34
 * R-L21: the reply grew without a version bump, so a requester talking to an older libcr said
 * "ended the checkpoint without an answer (Protocol error); it may have died").
 *
 *   proto_version older IMAGE
 *       this requester (crs_proto_checkpoint, what cr_checkpoint and cr_request_checkpoint call)
 *       against a fake process of an older Revive: a child listening where libcr listens that
 *       answers as version 1's libcr did (a reply ending after msg): a request of its version
 *       written "successfully", any other refused. Prints the return and the message.
 *   proto_version requester PID IMAGE
 *       an older requester (a request of version CRS_PROTO_VERSION - 1, its reply read in version
 *       1's size, as an older cr_checkpoint reads it) against process PID (under cr_run): prints
 *       the reply's status and message.
 * Linked without libcr (its runtime would listen in the forked child). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crs/base/protocol.h"

/* Version 1's reply, as a libcr of before d537784 sent it. */
struct reply_v1 {
    uint32_t magic;
    int32_t status;
    uint64_t image_bytes;
    double stall_ms;
    char msg[512];
};

static void older_process(int ready)
{
    int l = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa;
    int len = crs_proto_address(&sa, crs_proto_self_pid());
    if (l < 0 || bind(l, (struct sockaddr *)&sa, (socklen_t)len) != 0 || listen(l, 4) != 0)
        _exit(3);
    if (write(ready, "r", 1) != 1)
        _exit(3);
    int c = accept(l, NULL, NULL);
    struct crs_proto_request rq;
    int fd = -1;
    if (c < 0 || crs_proto_recv(c, &rq, sizeof rq, &fd, 10000) != 0)
        _exit(4);
    struct reply_v1 rp = {.magic = CRS_PROTO_MAGIC};
    if (rq.version == 1) {
        rp.image_bytes = 4096;   /* "written": the shorter reply of success */
    } else {
        rp.status = -EINVAL;
        snprintf(rp.msg, sizeof rp.msg, "cr_checkpoint and the process use different Revive versions");
    }
    crs_proto_send(c, &rp, sizeof rp, -1);
    char go;
    (void)!read(c, &go, 1);
    _exit(0);
}

static int older(const char *image)
{
    int p[2];
    if (pipe(p) != 0)
        return 2;
    pid_t child = fork();
    if (child == 0) {
        close(p[0]);
        older_process(p[1]);
    }
    close(p[1]);
    char r;
    if (read(p[0], &r, 1) != 1)
        return 2;
    int fd = open(image, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    struct crs_proto_reply rp;
    char err[1024] = "";
    int e = crs_proto_checkpoint(child, fd, 0, 0, 0, 10000, 0, NULL, NULL, &rp, err, sizeof err);
    printf("return: %d%s\nmessage: %s\n", e, e == -EPROTONOSUPPORT ? " EPROTONOSUPPORT" : "", err);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    return 0;
}

static int older_requester(pid_t pid, const char *image)
{
    int s = crs_proto_connect_wait(pid);
    if (s < 0) {
        printf("connect: %s\n", strerror(-s));
        return 1;
    }
    int fd = open(image, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    struct crs_proto_request rq = {.magic = CRS_PROTO_MAGIC, .version = CRS_PROTO_VERSION - 1, .timeout_ms = 10000};
    struct reply_v1 rp;
    int e = crs_proto_send(s, &rq, sizeof rq, fd);
    if (!e)
        e = crs_proto_recv(s, &rp, sizeof rp, NULL, 30000);
    if (e) {
        printf("reply: %s\n", strerror(-e));
        return 1;
    }
    rp.msg[sizeof rp.msg - 1] = 0;
    printf("status: %d\nmessage: %s\n", rp.status, rp.msg);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "older"))
        return older(argv[2]);
    if (argc == 4 && !strcmp(argv[1], "requester"))
        return older_requester((pid_t)atoi(argv[2]), argv[3]);
    fprintf(stderr, "usage: proto_version older IMAGE | requester PID IMAGE\n");
    return 2;
}
