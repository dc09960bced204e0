/* A process tree's file (tree.h): reading and checking its table. */
#define _GNU_SOURCE
#include "crs/base/tree.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

static uint64_t tree_base;   /* where the tree starts in its file */

static int read_at(int fd, void *p, size_t len, uint64_t off)
{
    off += tree_base;
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, (char *)p + got, len - got, (off_t)(off + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -ENODATA;
        got += (size_t)n;
    }
    return 0;
}

int crs_tree_is_tree(int fd)
{
    char m[8];
    off_t b = lseek(fd, 0, SEEK_CUR);
    tree_base = b > 0 ? (uint64_t)b : 0;
    int e = read_at(fd, m, sizeof m, 0);
    if (e == -ENODATA)
        return 0;
    if (e)
        return e;
    return memcmp(m, CRS_TREE_MAGIC, 8) == 0;
}

const char *crs_tree_scope_name(uint32_t scope)
{
    return scope == CRS_TREE_SCOPE_TREE ? "tree" : scope == CRS_TREE_SCOPE_PGRP ? "process group"
         : scope == CRS_TREE_SCOPE_SESS ? "session" : "?";
}

void crs_tree_status_text(int32_t st, char *out, size_t cap)
{
    if (WIFEXITED(st))
        snprintf(out, cap, "exited %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(out, cap, "killed by %s%s", sigabbrev_np(WTERMSIG(st)) ? "SIG" : "signal ",
                 sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "?");
    else
        snprintf(out, cap, "status 0x%x", (unsigned)st);
}

void crs_tree_free(struct crs_tree *t)
{
    free(t->members);
    free(t->groups);
    free(t->links);
    free(t->strings);
    free(t->data);
    memset(t, 0, sizeof *t);
}

#define TREE_MAX 65536u

int crs_tree_read(int fd, struct crs_tree *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "cannot read the tree file: %s", strerror(errno));
        return -errno;
    }
    off_t b = lseek(fd, 0, SEEK_CUR);
    t->base = tree_base = b > 0 ? (uint64_t)b : 0;
    t->file_size = (uint64_t)st.st_size > t->base ? (uint64_t)st.st_size - t->base : 0;
    struct crs_tree_header *h = &t->hdr;
    int e = read_at(fd, h, sizeof *h, 0);
    if (e == -ENODATA && !memcmp(h->magic, CRS_TREE_MAGIC, 8)) {   /* (read_at got its first bytes) */
        snprintf(err, errlen, "the process tree file is cut short (%llu bytes, less than its header)",
                 (unsigned long long)t->file_size);
        return -EBADMSG;
    }
    if (e || memcmp(h->magic, CRS_TREE_MAGIC, 8)) {
        snprintf(err, errlen, "not a process tree file (it is cut short or something else)");
        return -EINVAL;
    }
    if (h->version < 1 || h->version > CRS_TREE_VERSION) {
        snprintf(err, errlen, "a process tree file of format version %u; this Revive reads versions 1 to %u",
                 h->version, CRS_TREE_VERSION);
        return -EINVAL;
    }
    uint64_t tables = sizeof *h + (uint64_t)h->nmembers * sizeof *t->members +
                      (uint64_t)h->ngroups * sizeof *t->groups + (uint64_t)h->nlinks * sizeof *t->links;
    if (!h->nmembers || h->nmembers > TREE_MAX || h->ngroups > TREE_MAX || h->nlinks > 16 * TREE_MAX ||
        h->strings_offset != tables || h->data_offset != h->strings_offset + h->strings_length ||
        h->table_length != h->data_offset + h->data_length || h->strings_length > (64u << 20) ||
        h->data_length > (1ull << 32)) {
        snprintf(err, errlen, "the process tree file's table is damaged (its sizes do not add up)");
        return -EBADMSG;
    }
    if (h->table_length > t->file_size) {
        snprintf(err, errlen, "the process tree file is cut short (its table runs to byte %llu, the file holds %llu)",
                 (unsigned long long)h->table_length, (unsigned long long)t->file_size);
        return -EBADMSG;
    }
    unsigned char *all = malloc(h->table_length);
    if (!all) {
        snprintf(err, errlen, "out of memory for the process tree's table");
        return -ENOMEM;
    }
    if ((e = read_at(fd, all, h->table_length, 0))) {
        free(all);
        if (e == -ENODATA) {   /* cut short since it was measured */
            snprintf(err, errlen, "the process tree file is cut short (in its table)");
            return -EBADMSG;
        }
        snprintf(err, errlen, "cannot read the process tree's table: %s", strerror(-e));
        return e;
    }
    memset(all + offsetof(struct crs_tree_header, checksum), 0, sizeof h->checksum);
    uint64_t sum = XXH3_64bits(all, h->table_length);
    free(all);
    if (sum != h->checksum) {
        snprintf(err, errlen, "the process tree file's table is damaged (checksum mismatch)");
        return -EBADMSG;
    }
    size_t ms = h->nmembers * sizeof *t->members, gs = h->ngroups * sizeof *t->groups,
           ls = h->nlinks * sizeof *t->links;
    t->members = malloc(ms);
    t->groups = malloc(gs ? gs : 1);
    t->links = malloc(ls ? ls : 1);
    t->strings = malloc(h->strings_length + 1);
    t->data = malloc(h->data_length ? h->data_length : 1);
    if (!t->members || !t->groups || !t->links || !t->strings || !t->data) {
        crs_tree_free(t);
        snprintf(err, errlen, "out of memory for the process tree's table");
        return -ENOMEM;
    }
    uint64_t off = sizeof *h;
    if (read_at(fd, t->members, ms, off) || read_at(fd, t->groups, gs, off + ms) ||
        read_at(fd, t->links, ls, off + ms + gs) || read_at(fd, t->strings, h->strings_length, h->strings_offset) ||
        read_at(fd, t->data, h->data_length, h->data_offset)) {
        crs_tree_free(t);
        snprintf(err, errlen, "cannot read the process tree's table");
        return -EIO;
    }
    t->hdr = *(struct crs_tree_header *)h;
    t->strings[h->strings_length] = 0;
    for (uint32_t i = 0; i < h->nmembers; i++) {
        const struct crs_tree_member *m = &t->members[i];
        int bad = m->kind != CRS_TREE_PROCESS && m->kind != CRS_TREE_ZOMBIE;
        if (m->kind == CRS_TREE_PROCESS)
            bad |= m->image_offset < h->table_length || m->image_length > t->file_size ||
                   m->image_offset > t->file_size - m->image_length;
        if (bad || m->pid <= 0) {
            int pid = (int)m->pid; /* read before the table is freed */
            crs_tree_free(t);
            snprintf(err, errlen, "the process tree file is damaged or cut short (member %u, process %d)", i,
                     pid);
            return -EBADMSG;
        }
    }
    for (uint32_t i = 0; i < h->ngroups; i++) {
        const struct crs_tree_group *g = &t->groups[i];
        int object = g->kind == CRS_TREE_G_OBJECT || g->kind == CRS_TREE_G_SHMEM || g->kind == CRS_TREE_G_KOBJ;
        uint32_t last = h->version == 1 ? CRS_TREE_G_DELETED : h->version == 2 ? CRS_TREE_G_OBJECT
                        : h->version == 3 ? CRS_TREE_G_SHMEM : h->version == 4 ? CRS_TREE_G_SOCK
                        : CRS_TREE_G_FIFO;
        int bad = g->kind < CRS_TREE_G_PIPE_READ || g->kind > last ||
                  g->path >= h->strings_length + 1;
        /* (OBJECT and SHMEM keep a device where the others keep data_offset) */
        if (object)
            bad |= g->owner >= h->nmembers || t->members[g->owner].kind != CRS_TREE_PROCESS || g->data_length;
        else
            bad |= g->data_offset > h->data_length || g->data_length > h->data_length - g->data_offset;
        if (g->kind == CRS_TREE_G_KOBJ)
            bad |= g->offset < 0 || g->offset > INT32_MAX;
        if (g->kind == CRS_TREE_G_SOCK) {
            /* each end once, and its other end there too */
            int other = 0;
            for (uint32_t k = 0; k < h->ngroups; k++)
                if (k != i && t->groups[k].kind == CRS_TREE_G_SOCK && t->groups[k].pipe_id == g->pipe_id) {
                    other += t->groups[k].offset == 1 - g->offset;
                    bad |= t->groups[k].offset == g->offset;
                }
            bad |= (g->offset != 0 && g->offset != 1) || other != 1 ||
                   (g->sock_type != SOCK_STREAM && g->sock_type != SOCK_DGRAM && g->sock_type != SOCK_SEQPACKET);
        }
        if (g->kind == CRS_TREE_G_FIFO) {
            /* a path, and the FIFO's first group at or before it, which alone holds bytes */
            int64_t f = g->offset;
            bad |= !g->path || f < 0 || f > (int64_t)i || t->groups[f].kind != CRS_TREE_G_FIFO ||
                   t->groups[f].offset != f || (f != (int64_t)i && g->data_length) ||
                   ((g->open_flags & CRS_TREE_FIFO_WAITING) && (g->open_flags & O_ACCMODE) != O_RDONLY);
        }
        if (g->kind == CRS_TREE_G_DELETED && g->object)
            bad |= h->version == 1 || g->object > h->ngroups ||
                   (t->groups[g->object - 1].kind != CRS_TREE_G_OBJECT &&
                    t->groups[g->object - 1].kind != CRS_TREE_G_SHMEM);
        if (bad) {
            crs_tree_free(t);
            snprintf(err, errlen, "the process tree file's table is damaged (shared file %u)", i);
            return -EBADMSG;
        }
    }
    for (uint32_t i = 0; i < h->nlinks; i++) {
        const struct crs_tree_link *l = &t->links[i];
        if (l->member < 0 || (uint32_t)l->member >= h->nmembers || l->group < 0 ||
            (uint32_t)l->group >= h->ngroups || l->fd < 0) {
            crs_tree_free(t);
            snprintf(err, errlen, "the process tree file's table is damaged (descriptor link %u)", i);
            return -EBADMSG;
        }
    }
    return 0;
}
