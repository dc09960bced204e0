/*
 * State test: an inotify whose events are not read yet at a checkpoint
 * (issue 10, item 6: a lazy watcher). Two folders are watched under
 * numbers 1 and 3 (watch 2 was removed); before each point a batch of
 * events is left unread: a file made, renamed and deleted in each folder
 * (names of 1, 15 and 34 bytes: the kernel pads each to 16). After the
 * point the process must see them as the kernel would have given them,
 * then the events made after the point, in that order:
 *   crt_inotify read   a blocking inotify: poll says readable, FIONREAD
 *                      counts every unread byte, a read smaller than the
 *                      first event fails with EINVAL, one its size gives
 *                      exactly it, the rest follow; then nothing is left
 *                      (FIONREAD 0, poll not readable)
 *   crt_inotify epoll  a non-blocking inotify watched by two epolls, level-
 *                      and edge-triggered: both report it (the edge once),
 *                      reads until EAGAIN give every event, then the level-
 *                      triggered one reports nothing
 *   crt_inotify dup    as read, through a copy made after the point (dup,
 *                      fcntl F_DUPFD_CLOEXEC, dup2, dup3 in turn), the
 *                      number read before closed first
 * Each operation leaves the folders as they were, so a second restart of
 * one image (flavour twice) sees the same events. Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static int ino, ep_lt, ep_et, wd1, wd3, use_epoll, use_dup, moves, batch, unread_batch;

static const char *const names[] = { "a", "name-of-fifteen", "a-longer-name-that-needs-padding-x" };

static void touch_rename_delete(const char *dir, int k)
{
    char f[128], g[128];
    snprintf(f, sizeof f, "%s/%s", dir, names[k % 3]);
    snprintf(g, sizeof g, "%s/%s.%d", dir, names[(k + 1) % 3], k);
    int t = open(f, O_CREAT | O_EXCL | O_WRONLY, 0600);
    if (t < 0)
        crt_die("making %s: %s", f, strerror(errno));
    close(t);
    if (rename(f, g) || unlink(g))
        crt_die("renaming or deleting %s: %s", f, strerror(errno));
}

/* A batch: events in both folders, watch 3's first. */
static void make_events(void)
{
    touch_rename_delete("watched3", batch);
    touch_rename_delete("watched1", batch + 1);
    batch++;
}

/* Appends one event's description; a rename's cookie is the same in both
 * halves (its value is the kernel's, not the same from run to run). */
static void describe(const struct inotify_event *e, char *out, size_t cap, uint32_t *cookie)
{
    const char *what = (e->mask & IN_CREATE) ? "create" : (e->mask & IN_MOVED_FROM) ? "from"
                     : (e->mask & IN_MOVED_TO) ? "to" : (e->mask & IN_DELETE) ? "delete" : "other";
    const char *pair = "";
    if (e->mask & IN_MOVED_FROM)
        *cookie = e->cookie;
    else if (e->mask & IN_MOVED_TO)
        pair = e->cookie && e->cookie == *cookie ? "(paired)" : "(UNPAIRED)";
    size_t l = strlen(out);
    snprintf(out + l, cap - l, " %d:%s:%s:%u%s", e->wd, what, e->len ? e->name : "", e->len, pair);
}

/* Every event in buf[0, len) described; returns their count. */
static int describe_all(const char *buf, ssize_t len, char *out, size_t cap, uint32_t *cookie)
{
    int n = 0;
    for (ssize_t off = 0; off < len; n++) {
        const struct inotify_event *e = (const struct inotify_event *)(buf + off);
        describe(e, out, cap, cookie);
        off += (ssize_t)sizeof *e + e->len;
    }
    return n;
}

static void check_read(const char *when)
{
    char name[128], out[4096] = "", buf[4096] __attribute__((aligned(8)));
    uint32_t cookie = 0;
    struct pollfd p = { ino, POLLIN, 0 };
    snprintf(name, sizeof name, "read %s: poll says the unread events are there", when);
    crt_check(name, poll(&p, 1, 0) == 1 && (p.revents & POLLIN), "poll revents 0x%x", p.revents);
    int q = -1;
    ioctl(ino, FIONREAD, &q);
    crt_say("read %s: FIONREAD %d", when, q);
    make_events();   /* after the point: these come after the unread ones */
    ioctl(ino, FIONREAD, &q);
    crt_say("read %s: FIONREAD %d with the events made since", when, q);
    /* the first event: watch 3 made a file (its name padded to 16 bytes) */
    size_t first = sizeof(struct inotify_event) + ((strlen(names[unread_batch % 3]) + 16) & ~(size_t)15);
    ssize_t r = read(ino, buf, first - 1);
    snprintf(name, sizeof name, "read %s: %zu bytes, one less than the first event, fail with EINVAL", when, first - 1);
    crt_check(name, r < 0 && errno == EINVAL, "read gave %zd (%s)", r, r < 0 ? strerror(errno) : "");
    r = read(ino, buf, first);
    snprintf(name, sizeof name, "read %s: %zu bytes give the first event alone", when, first);
    crt_check(name, r == (ssize_t)first, "read gave %zd", r);
    int n = r > 0 ? describe_all(buf, r, out, sizeof out, &cookie) : 0;
    while (poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) {
        r = read(ino, buf, sizeof buf);
        if (r <= 0)
            break;
        n += describe_all(buf, r, out, sizeof out, &cookie);
    }
    crt_say("read %s: %d events:%s", when, n, out);
    ioctl(ino, FIONREAD, &q);
    snprintf(name, sizeof name, "read %s: nothing left (FIONREAD 0, not readable)", when);
    crt_check(name, q == 0 && poll(&p, 1, 0) == 0, "FIONREAD %d", q);
}

static void check_epoll(const char *when)
{
    char name[160], out[4096] = "", buf[4096] __attribute__((aligned(8)));
    uint32_t cookie = 0;
    struct epoll_event ev[2];
    int lt = epoll_wait(ep_lt, ev, 2, 0), et = epoll_wait(ep_et, ev, 2, 0), et2 = epoll_wait(ep_et, ev, 2, 0);
    snprintf(name, sizeof name, "epoll %s: level- and edge-triggered epolls report the unread events (the edge once)",
             when);
    crt_check(name, lt == 1 && et == 1 && et2 == 0, "level %d, edge %d then %d", lt, et, et2);
    make_events();
    et = epoll_wait(ep_et, ev, 2, 0);
    snprintf(name, sizeof name, "epoll %s: the events made since are a new edge", when);
    crt_check(name, et == 1, "edge %d", et);
    int n = 0;
    ssize_t r;
    while ((r = read(ino, buf, 64 + n % 3 * 100)) > 0)   /* buffers of several sizes */
        n += describe_all(buf, r, out, sizeof out, &cookie);
    snprintf(name, sizeof name, "epoll %s: reads end with EAGAIN", when);
    crt_check(name, r < 0 && errno == EAGAIN, "read gave %zd (%s)", r, r < 0 ? strerror(errno) : "");
    crt_say("epoll %s: %d events:%s", when, n, out);
    lt = epoll_wait(ep_lt, ev, 2, 0);
    snprintf(name, sizeof name, "epoll %s: nothing left for the level-triggered epoll", when);
    crt_check(name, lt == 0, "level %d", lt);
}

/* The inotify to another number, the old one closed: its unread events
 * must go with it. */
static void move_inotify(const char *when)
{
    int to;
    switch (moves++ % 4) {
    case 0: to = dup(ino); break;
    case 1: to = fcntl(ino, F_DUPFD_CLOEXEC, 100); break;
    case 2: to = dup2(ino, 200); break;
    default: to = dup3(ino, 300, O_CLOEXEC); break;
    }
    if (to < 0)
        crt_die("copying the inotify %s: %s", when, strerror(errno));
    close(ino);
    ino = to;
}

static void check(const char *when)
{
    if (use_dup)
        move_inotify(when);
    if (use_epoll)
        check_epoll(when);
    else
        check_read(when);
    unread_batch = batch;
    make_events();   /* left unread for the next point */
}

int main(int argc, char **argv)
{
    use_epoll = argc > 1 && !strcmp(argv[1], "epoll");
    use_dup = argc > 1 && !strcmp(argv[1], "dup");
    if (argc > 1 && !use_epoll && !use_dup && strcmp(argv[1], "read"))
        crt_die("usage: crt_inotify [read|epoll|dup]");
    ino = inotify_init1(use_epoll ? IN_NONBLOCK : 0);
    if (ino < 0)
        crt_die("inotify_init1: %s", strerror(errno));
    mkdir("watched1", 0700);
    mkdir("watched2", 0700);
    mkdir("watched3", 0700);
    uint32_t mask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO;
    wd1 = inotify_add_watch(ino, "watched1", mask);
    int wd2 = inotify_add_watch(ino, "watched2", mask);
    wd3 = inotify_add_watch(ino, "watched3", mask);
    inotify_rm_watch(ino, wd2);
    char buf[256];
    if (read(ino, buf, sizeof buf) <= 0)   /* IN_IGNORED of watch 2 */
        crt_die("reading the IN_IGNORED of watch 2: %s", strerror(errno));
    if (use_epoll) {
        ep_lt = epoll_create1(0);
        ep_et = epoll_create1(0);
        struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 7 };
        if (ep_lt < 0 || ep_et < 0 || epoll_ctl(ep_lt, EPOLL_CTL_ADD, ino, &ev))
            crt_die("epoll: %s", strerror(errno));
        ev.events = EPOLLIN | EPOLLET;
        if (epoll_ctl(ep_et, EPOLL_CTL_ADD, ino, &ev))
            crt_die("epoll: %s", strerror(errno));
    }
    crt_say("inotify watches %d and %d (%s)", wd1, wd3, use_epoll ? "epoll" : use_dup ? "dup" : "read");
    make_events();   /* unread at start */
    crt_check_around_points(check);
}
