/* The coordinator's listeners: the tools' Unix socket (0600 in a 0700
 * directory) and the TCP port the ranks' agents connect to. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "snapc/coord_int.h"
#include "snapc/iface.h"

/* Sockets of coordinators that were killed (SIGKILL leaves the socket's name; a coordinator
 * that ends otherwise removes it): removed when their process is gone and nothing listens on
 * them. Both are checked: a live coordinator between its bind and its listen refuses
 * connections too. Without this they piled up in the directory (issue 7 review: many left
 * after a day of tests). */
static void sweep_stale_sockets(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        char *end;
        if (strncmp(e->d_name, "coord.", 6) != 0)
            continue;
        long pid = strtol(e->d_name + 6, &end, 10);
        if (*end || pid <= 1 || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        if ((size_t)snprintf(a.sun_path, sizeof a.sun_path, "%s/%s", dir, e->d_name) >= sizeof a.sun_path)
            continue;
        struct stat st;
        if (lstat(a.sun_path, &st) < 0 || !S_ISSOCK(st.st_mode) || st.st_uid != geteuid())
            continue;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
            break;
        if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno == ECONNREFUSED &&
            unlink(a.sun_path) == 0)
            n++;
        close(fd);
    }
    closedir(d);
    if (n)
        revive_log_debug("removed %d socket(s) of coordinators that are gone from %s", n, dir);
}

int coord_listen_unix(char *err, size_t errlen)
{
    char dir[PATH_MAX];
    snapc_socket_dir(dir, sizeof dir, (unsigned)geteuid());
    int e = filem_private_dir(dir, 1, err, errlen);
    if (e < 0)
        return e;
    if ((size_t)snprintf(coord.sock_path, sizeof coord.sock_path, "%s/coord.%d", dir, (int)getpid()) >=
        sizeof(((struct sockaddr_un *)0)->sun_path)) {
        snapc_fmt(err, errlen, "the socket path under %s is too long", dir);
        return -ENAMETOOLONG;
    }
    unlink(coord.sock_path); /* a stale one of an earlier process with our pid */
    sweep_stale_sockets(dir);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        e = -errno;
        snapc_fmt(err, errlen, "cannot create a socket: %s", strerror(-e));
        return e;
    }
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    memcpy(a.sun_path, coord.sock_path, strlen(coord.sock_path) + 1); /* length checked above */
    mode_t old = umask(0177);
    int r = bind(fd, (struct sockaddr *)&a, sizeof a);
    umask(old);
    if (r < 0 || chmod(coord.sock_path, 0600) < 0 || listen(fd, 64) < 0) {
        e = -errno;
        snapc_fmt(err, errlen, "cannot listen on %s: %s", coord.sock_path, strerror(-e));
        close(fd);
        unlink(coord.sock_path);
        coord.sock_path[0] = 0;
        return e;
    }
    coord.ufd = fd;
    return 0;
}

/* The address the ranks reach us at (snapc/iface.h): $REVIVE_COORD_ADDR, else one on the
 * network the user named to the launcher, else the first non-loopback IPv4 address of this
 * host, else 127.0.0.1. */
static void pick_addr(char *out, size_t len)
{
    const struct snapc_coord_cfg *cfg = coord.cfg;
    int end = cfg->nprogs > 0 && cfg->progs[0] < cfg->nuser_args ? cfg->progs[0] : cfg->nuser_args;
    snapc_reach_addr(cfg->user_args, end, cfg->flavor, "the ranks reach the coordinator", out,
                     len);
}

int coord_listen_tcp(char *err, size_t errlen)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        int e = -errno;
        snapc_fmt(err, errlen, "cannot create a TCP socket: %s", strerror(-e));
        return e;
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
    socklen_t al = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 1024) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) < 0) {
        int e = -errno;
        snapc_fmt(err, errlen, "cannot listen on TCP: %s", strerror(-e));
        close(fd);
        return e;
    }
    char ip[64];
    pick_addr(ip, sizeof ip);
    snprintf(coord.coord_addr, sizeof coord.coord_addr, "%s:%d", ip, ntohs(a.sin_port));
    coord.tfd = fd;
    return 0;
}
