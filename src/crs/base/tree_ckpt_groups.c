/* The table of a tree's checkpoint (tree_ckpt.c): the groups of what
 * members share (pipes, files, FIFOs, kernel objects, saved files, socket
 * pairs), each member's links to them, their paths and the bytes kept in
 * the table (a pipe's, a FIFO's, a deleted file's, a socket pair's queues). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "crs/base/tree_ckpt.h"
#include "crs/base/tree_objects.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Groups: each end of a pipe whose both ends are in the tree; each other
 * open file that two members or more hold. */
static int make_groups(struct tree_ckpt *t, struct crs_tree_group **out, size_t *ngroups)
{
    struct crs_tree_group *g = crs_tmem_calloc(t->nfds ? t->nfds : 1, sizeof *g);
    if (!g)
        return -ENOMEM;
    size_t n = 0;
    int warned = 0;
    for (size_t i = 0; i < t->nfds; i++) {
        struct fd_entry *f = &t->fds[i];
        int root = crs_tree_uf_find(t, (int)i);
        if (t->fds[root].group >= 0) {
            f->group = t->fds[root].group;
            continue;
        }
        int wanted = 0;
        if (f->pipe) {
            /* both ends in the tree; or one whose other end is closed
             * everywhere (its bytes, then end of file; or EPIPE) */
            int has_r = 0, has_w = 0, closed = 0, unknown = 0, other = 0;
            for (size_t j = 0; j < t->nfds; j++)
                if (t->fds[j].pipe && t->fds[j].ino == f->ino) {
                    has_r |= t->fds[j].mode == O_RDONLY;
                    has_w |= t->fds[j].mode == O_WRONLY;
                    closed |= t->fds[j].peer_closed;
                    if (t->fds[j].peer_unknown)
                        unknown = t->fds[j].peer_unknown;
                    other |= t->fds[j].member != f->member;
                }
            wanted = (has_r && has_w) || closed;
            if (!wanted && unknown && other && !warned++) {
                /* One end shared by members, the other held by no member:
                 * closed everywhere (one pipe again, with its bytes) or a
                 * launcher's; only the member's own open file tells. */
                char w[64];
                revive_log_warn("cannot tell whether the pipe %s shares with other members at descriptor %d has "
                                "lost its other end (pidfd_getfd: %s; looking into a member's descriptors needs "
                                "ptrace permission over it: a process that is not dumpable, kernel.yama."
                                "ptrace_scope, or another user's); if that end is closed everywhere, each member "
                                "gets a copy of the pipe and its bytes after a restart instead of sharing one; "
                                "run cr_checkpoint as root or with that permission to keep it shared",
                                who(t, (size_t)f->member, w, sizeof w), f->fd, strerror(unknown));
            }
        } else if (f->fifo) {
            long e = crs_tree_fifo_wanted(t, f);
            if (e < 0) {
                crs_tmem_free(g);
                return (int)e;
            }
            wanted = e == 1;
        } else {
            for (size_t j = 0; j < t->nfds && !wanted; j++)
                wanted = crs_tree_uf_find(t, (int)j) == root && t->fds[j].member != f->member;
        }
        if (!wanted)
            continue;
        struct crs_tree_group *x = &g[n];
        x->kind = f->pipe      ? (f->mode == O_RDONLY ? CRS_TREE_G_PIPE_READ : CRS_TREE_G_PIPE_WRITE)
                  : f->deleted ? CRS_TREE_G_DELETED
                  : f->kobj    ? CRS_TREE_G_KOBJ
                  : f->fifo    ? CRS_TREE_G_FIFO
                               : CRS_TREE_G_FILE;
        x->open_flags = f->flags;
        x->offset = f->pos;
        if (f->kobj) {
            /* the first holder (members parents first, each's descriptors
             * ascending) records it; its restart makes it for all */
            x->owner = (uint32_t)f->member;
            x->offset = f->fd;
        }
        x->pipe_id = f->pipe || f->fifo ? f->ino : 0;
        if (f->fifo)
            crs_tree_fifo_group(t, i, g, n, x);
        t->fds[root].group = f->group = (int)n++;
    }
    *out = g;
    *ngroups = n;
    return 0;
}

/* What a pipe holds, read through a reader of our own (tee: nothing taken). */
static int pipe_bytes(struct tree_ckpt *t, const struct fd_entry *f, unsigned char **data, size_t *len,
                      uint32_t *capacity)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)t->all[t->members[f->member]].pid, f->fd);
    int rd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (rd < 0) {
        fail(t, "cannot read what the pipe of process %d's descriptor %d holds: %s",
             (int)t->all[t->members[f->member]].pid, f->fd, strerror(errno));
        return -errno;
    }
    int sz = fcntl(rd, F_GETPIPE_SZ);
    *capacity = sz > 0 ? (uint32_t)sz : 65536;
    int tmp[2];
    if (pipe2(tmp, O_CLOEXEC | O_NONBLOCK) != 0) {
        close(rd);
        return -errno;
    }
    fcntl(tmp[1], F_SETPIPE_SZ, (int)*capacity);
    *data = crs_tmem_malloc(*capacity);
    *len = 0;
    ssize_t n = *data ? tee(rd, tmp[1], *capacity, SPLICE_F_NONBLOCK) : -1;
    while (n > 0 && *len < (size_t)n) {
        ssize_t m = read(tmp[0], *data + *len, (size_t)n - *len);
        if (m <= 0)
            break;
        *len += (size_t)m;
    }
    close(tmp[0]);
    close(tmp[1]);
    close(rd);
    return *data ? 0 : -ENOMEM;
}

/* The bytes of a shared file deleted while open, into the table's data
 * (read through the member's descriptor's /proc link), within the limit of
 * saved file data (crs_tree_ckpt_opts.file_data_max_mb). */
static int deleted_bytes(struct tree_ckpt *t, const struct fd_entry *f, struct crs_tree_group *g, unsigned char **data,
                         size_t *dlen)
{
    char path[96], w[64];
    pid_t pid = t->all[t->members[f->member]].pid;
    snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)pid, f->fd);
    int rd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (rd < 0 || fstat(rd, &st) != 0) {
        fail(t, "cannot read %s, which %s holds at descriptor %d: %s", f->path, who(t, (size_t)f->member, w, sizeof w),
             f->fd, strerror(errno));
        if (rd >= 0)
            close(rd);
        return -EIO;
    }
    char what[4200];
    snprintf(what, sizeof what, "%s (deleted while open, shared by members of the %s) holds", f->path,
             crs_tree_scope_name(t->o->scope));
    int e = crs_tree_fdata_add(t, (uint64_t)st.st_size, what);
    if (e) {
        close(rd);
        return e;
    }
    size_t n = (size_t)st.st_size;
    unsigned char *d = crs_tmem_realloc(*data, *dlen + n + 1);
    if (!d) {
        close(rd);
        fail(t, "out of memory for the %zu bytes of %s", n, f->path);
        return -ENOMEM;
    }
    *data = d;
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(rd, d + *dlen + got, n - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(rd);
    g->data_offset = *dlen;
    g->data_length = got;
    *dlen += got;
    return 0;
}

/* The table of a tree whose members are parked and checked (tree_ckpt.h):
 * its groups, links, strings and kept bytes into tb (freed by the caller,
 * crs_tree_table_free, also on failure). 0, or -errno with the message. */
int crs_tree_make_table(struct tree_ckpt *t, size_t nsockgroups, struct tree_table *tb)
{
    long e;
    if ((e = make_groups(t, &tb->groups, &tb->ngroups))) {
        fail(t, "out of memory");
        return (int)e;
    }
    if ((e = crs_tree_check_shared_inotify(t, tb->groups, tb->ngroups)) ||
        (e = crs_tree_check_placed_limit(t, tb->groups)))
        return (int)e;
    tb->nlinks = 0;
    tb->slen = 1;
    for (size_t i = 0; i < t->nfds; i++)
        if (t->fds[i].group >= 0) {
            tb->nlinks++;
            if (!t->fds[i].pipe)
                tb->slen += strlen(t->fds[i].path) + 1;
        }
    for (size_t i = 0; i < t->nsocks; i++)
        tb->nlinks += t->socks[i].group >= 0;
    /* saved files members share: one OBJECT group each, after the others;
     * a DELETED group of one of them is that file opened anew */
    pid_t *pids = crs_tmem_calloc(t->nmembers, sizeof *pids);
    if (!pids) {
        fail(t, "out of memory");
        return -ENOMEM;
    }
    for (size_t m = 0; m < t->nmembers; m++)
        pids[m] = t->conn[m] >= 0 ? t->all[t->members[m]].pid : 0;
    e = crs_tree_objects_find(&t->objs, pids, t->nmembers, t->err, t->errlen);
    crs_tmem_free(pids);
    struct crs_tree_group *more =
        e ? NULL : crs_tmem_realloc(tb->groups, (tb->ngroups + t->objs.n + nsockgroups + 1) * sizeof *tb->groups);
    if (!more) {
        if (!e)
            fail(t, "out of memory");
        return e ? (int)e : -ENOMEM;
    }
    tb->groups = more;
    size_t first_object = tb->ngroups;
    for (size_t i = 0; i < t->objs.n; i++) {
        const struct crs_tree_object *x = &t->objs.v[i];
        struct crs_tree_group *g = &tb->groups[tb->ngroups++];
        memset(g, 0, sizeof *g);
        g->kind = x->shmem ? CRS_TREE_G_SHMEM : CRS_TREE_G_OBJECT;
        tb->has_shmem |= x->shmem;
        g->pipe_id = x->ino;
        g->dev = x->dev;
        g->owner = (uint32_t)x->owner;
        tb->slen += strlen(x->path) + 1;
    }
    for (size_t i = 0; i < t->nfds; i++) {
        const struct fd_entry *f = &t->fds[i];
        int k = f->group >= 0 && tb->groups[f->group].kind == CRS_TREE_G_DELETED
                    ? crs_tree_objects_index(&t->objs, f->dev, f->ino) : -1;
        if (k >= 0)
            tb->groups[f->group].object = (uint32_t)(first_object + (size_t)k + 1);
    }
    tb->links = crs_tmem_calloc(tb->nlinks ? tb->nlinks : 1, sizeof *tb->links);
    tb->strings = crs_tmem_calloc(1, tb->slen);
    size_t spos = 1, k = 0;
    if (!tb->links || !tb->strings) {
        fail(t, "out of memory");
        return -ENOMEM;
    }
    /* socket pairs members share: their groups after the others, each
     * end's queue in the data */
    size_t first_sock = tb->ngroups;
    if (nsockgroups && (e = crs_tree_socket_groups(t, tb->groups, first_sock, nsockgroups, &tb->data, &tb->dlen)))
        return (int)e;
    tb->ngroups += nsockgroups;
    for (size_t i = 0; i < t->nsocks; i++) {
        const struct sock_entry *x = &t->socks[i];
        if (x->group >= 0)
            tb->links[k++] = (struct crs_tree_link){ x->member, x->fd, (int32_t)(first_sock + (size_t)x->group),
                                                 (x->flags & O_CLOEXEC) ? FD_CLOEXEC : 0 };
    }
    for (size_t i = 0; i < t->nfds; i++) {
        struct fd_entry *f = &t->fds[i];
        if (f->group < 0)
            continue;
        tb->links[k++] = (struct crs_tree_link){ f->member, f->fd, f->group, f->fd_flags };
        struct crs_tree_group *g = &tb->groups[f->group];
        if ((g->kind == CRS_TREE_G_FILE || g->kind == CRS_TREE_G_DELETED || g->kind == CRS_TREE_G_KOBJ ||
             g->kind == CRS_TREE_G_FIFO) && !g->path) {
            g->path = (uint32_t)spos;
            strcpy(tb->strings + spos, f->path);
            spos += strlen(f->path) + 1;
            if (g->kind == CRS_TREE_G_DELETED && !g->object && (e = deleted_bytes(t, f, g, &tb->data, &tb->dlen)))
                return (int)e;
        }
        if (g->kind == CRS_TREE_G_FIFO && g->offset == f->group && !g->pipe_capacity) {
            /* the FIFO's bytes, once, in its first group */
            unsigned char *bytes = NULL;
            size_t n = 0;
            if ((e = pipe_bytes(t, f, &bytes, &n, &g->pipe_capacity)))
                return (int)e;
            unsigned char *d = n ? crs_tmem_realloc(tb->data, tb->dlen + n) : tb->data;
            if (n && !d) {
                crs_tmem_free(bytes);
                return -ENOMEM;
            }
            tb->data = d;
            if (n)
                memcpy(tb->data + tb->dlen, bytes, n);
            g->data_offset = tb->dlen;
            g->data_length = n;
            tb->dlen += n;
            crs_tmem_free(bytes);
        }
        if (g->kind == CRS_TREE_G_PIPE_READ && !g->pipe_capacity) {
            unsigned char *bytes = NULL;
            size_t n = 0;
            if ((e = pipe_bytes(t, f, &bytes, &n, &g->pipe_capacity)))
                return (int)e;
            /* one read group per pipe carries the bytes; other readers none */
            int first = 1;
            for (int x = 0; x < f->group; x++)
                first &= !(tb->groups[x].kind == CRS_TREE_G_PIPE_READ && tb->groups[x].pipe_id == g->pipe_id);
            if (first && n) {
                unsigned char *d = crs_tmem_realloc(tb->data, tb->dlen + n);
                if (!d) {
                    crs_tmem_free(bytes);
                    return -ENOMEM;
                }
                tb->data = d;
                memcpy(tb->data + tb->dlen, bytes, n);
                g->data_offset = tb->dlen;
                g->data_length = n;
                tb->dlen += n;
            }
            crs_tmem_free(bytes);
        }
    }
    for (size_t i = 0; i < t->objs.n; i++) {
        struct crs_tree_group *g = &tb->groups[first_object + i];
        g->path = (uint32_t)spos;
        strcpy(tb->strings + spos, t->objs.v[i].path);
        spos += strlen(t->objs.v[i].path) + 1;
    }
    for (size_t x = 0; x < tb->ngroups; x++)   /* write ends: the pipe's size too */
        if (tb->groups[x].kind == CRS_TREE_G_PIPE_WRITE)
            for (size_t y = 0; y < tb->ngroups; y++)
                if (tb->groups[y].kind == CRS_TREE_G_PIPE_READ && tb->groups[y].pipe_id == tb->groups[x].pipe_id)
                    tb->groups[x].pipe_capacity = tb->groups[y].pipe_capacity;
    for (size_t x = 0; x < tb->ngroups; x++)   /* a FIFO's other groups: its size too */
        if (tb->groups[x].kind == CRS_TREE_G_FIFO)
            tb->groups[x].pipe_capacity = tb->groups[tb->groups[x].offset].pipe_capacity;
    return 0;
}

void crs_tree_table_free(struct tree_table *tb)
{
    crs_tmem_free(tb->groups), crs_tmem_free(tb->links), crs_tmem_free(tb->strings), crs_tmem_free(tb->data);
    memset(tb, 0, sizeof *tb);
}
