/* Which processes outside the members of a tree being checkpointed hold a
 * socket or a FIFO members hold (tree_ckpt_sockets.c, tree_ckpt_fifo.c ask):
 * one look through /proc per checkpoint, made at the first question with the
 * members parked, noting every socket (by inode) and every member's FIFO (by
 * path) that a process other than the members and this one holds, with the
 * first such process in /proc's order and its descriptor. Before, each
 * shared pair's end and each FIFO looked through all of /proc again (issue
 * 10), as did each socket connected outside the members.
 * No FILE streams, no qsort (which may call malloc): memory from crs_tmem only
 * (tree_alloc.h: under tree_here this runs inside the caller's park window). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "crs/base/tree_ckpt.h"
#include "common/log.h"
#include "common/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The slot of ino in the table (open addressing; cap a power of two): its
 * own, or the empty one where it would go. */
static struct tree_holder *slot(struct tree_holder *tab, size_t cap, uint64_t ino)
{
    size_t i = (size_t)((ino * 0x9E3779B97F4A7C15ull) >> 17) & (cap - 1);
    while (tab[i].ino && tab[i].ino != ino)
        i = (i + 1) & (cap - 1);
    return &tab[i];
}

/* Notes that pid holds the socket ino at fd, unless an earlier process (in
 * /proc's order) does. 0, -ENOMEM. */
static int note_socket(struct tree_holders *h, uint64_t ino, pid_t pid, long fd)
{
    if (!ino)
        return 0;
    if (2 * (h->n + 1) > h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 256;
        struct tree_holder *tab = crs_tmem_calloc(cap, sizeof *tab);
        if (!tab)
            return -ENOMEM;
        for (size_t i = 0; i < h->cap; i++)
            if (h->socks[i].ino)
                *slot(tab, cap, h->socks[i].ino) = h->socks[i];
        crs_tmem_free(h->socks);
        h->socks = tab;
        h->cap = cap;
    }
    struct tree_holder *s = slot(h->socks, h->cap, ino);
    if (s->ino)
        return 0;
    s->ino = ino;
    s->pid = pid;
    s->fd = fd;
    h->n++;
    return 0;
}

struct holders_scan {
    struct tree_ckpt *t;
    pid_t cur;
    int err;
};

static long one_fd(long n, int dirfd, void *arg)
{
    struct holders_scan *s = arg;
    struct tree_ckpt *t = s->t;
    char name[24], link[PATH_MAX + 1];
    snprintf(name, sizeof name, "%ld", n);
    ssize_t l = readlinkat(dirfd, name, link, sizeof link - 1);
    if (l <= 0)
        return 0;
    link[l] = 0;
    if (!strncmp(link, "socket:[", 8)) {
        const char *p = link + 8;
        uint64_t ino;
        if (revive_parse_u64(&p, &ino) || *p != ']')
            return 0;
        s->err = note_socket(&t->holders, ino, s->cur, n);
        return s->err ? 1 : 0;
    }
    if (link[0] != '/')
        return 0;
    /* a FIFO a member holds, by its path as the members' links read (a
     * longer link, cut at PATH_MAX, matches no path) */
    for (size_t j = 0; j < t->nfds; j++)
        if (t->fds[j].fifo && t->fds[j].fifo_outside <= 0 && t->fds[j].path && !strcmp(t->fds[j].path, link)) {
            t->fds[j].fifo_outside = s->cur;
            t->fds[j].fifo_outside_fd = n;
        }
    return 0;
}

static long one_proc(long n, int dirfd, void *arg)
{
    (void)dirfd;
    struct holders_scan *s = arg;
    struct tree_ckpt *t = s->t;
    if ((pid_t)n == getpid())
        return 0;   /* the checkpointer (member 0 itself under tree_here) */
    for (size_t m = 0; m < t->nmembers; m++)
        if (t->all[t->members[m]].pid == (pid_t)n)
            return 0;
    char dir[48];
    if (revive_proc_path(dir, sizeof dir, (pid_t)n, 0, "fd") < 0)
        return 0;
    s->cur = (pid_t)n;
    revive_proc_for_each_number(dir, one_fd, s);   /* unreadable (another user's, ended): skipped */
    return s->err ? 1 : 0;
}

/* The look through /proc, once. 0, -ENOMEM. */
static int look(struct tree_ckpt *t)
{
    if (t->holders.looked)
        return 0;
    for (size_t j = 0; j < t->nfds; j++)
        if (t->fds[j].fifo)
            t->fds[j].fifo_outside = 0;   /* held outside by none until the look finds one */
    struct holders_scan s = { .t = t };
    revive_proc_for_each_number("/proc", one_proc, &s);
    if (s.err) {
        for (size_t j = 0; j < t->nfds; j++)
            t->fds[j].fifo_outside = -1;
        return s.err;
    }
    /* a FIFO's holder is its first: every descriptor of the FIFO names it */
    for (size_t j = 0; j < t->nfds; j++)
        for (size_t k = 0; k < t->nfds && t->fds[j].fifo && !t->fds[j].fifo_outside; k++)
            if (t->fds[k].fifo && t->fds[k].fifo_outside > 0 && t->fds[k].dev == t->fds[j].dev &&
                t->fds[k].ino == t->fds[j].ino) {
                t->fds[j].fifo_outside = t->fds[k].fifo_outside;
                t->fds[j].fifo_outside_fd = t->fds[k].fifo_outside_fd;
            }
    t->holders.looked = 1;
    revive_log_debug("processes outside the members hold %zu sockets", t->holders.n);
    return 0;
}

long crs_tree_outside_socket(struct tree_ckpt *t, uint64_t ino, long *fd)
{
    int e = look(t);
    if (e)
        return e;
    if (!t->holders.cap || !ino)
        return 0;
    const struct tree_holder *s = slot(t->holders.socks, t->holders.cap, ino);
    if (!s->ino)
        return 0;
    if (fd)
        *fd = s->fd;
    return s->pid;
}

long crs_tree_outside_fifo(struct tree_ckpt *t, const struct fd_entry *f, long *fd)
{
    int e = look(t);
    if (e)
        return e;
    if (fd && f->fifo_outside > 0)
        *fd = f->fifo_outside_fd;
    return f->fifo_outside > 0 ? f->fifo_outside : 0;
}

void crs_tree_outside_comm(const struct tree_ckpt *t, pid_t pid, char *comm, size_t cap)
{
    int k = find_proc(t, pid);
    if (k >= 0) {
        snprintf(comm, cap, "%s", t->all[k].comm);
        return;
    }
    char cp[64], buf[32];
    snprintf(cp, sizeof cp, "/proc/%d/comm", (int)pid);
    if (revive_read_file(cp, buf, sizeof buf) < 0)
        buf[0] = 0;   /* ended since: named by its pid */
    buf[strcspn(buf, "\n")] = 0;
    snprintf(comm, cap, "%s", buf);
}
