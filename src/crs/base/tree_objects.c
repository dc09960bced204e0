/* The saved files a tree's members share (tree_objects.h): found from each
 * member's open files and shared mappings while they are parked. */
#define _GNU_SOURCE
#include "crs/base/tree_alloc.h"
#include "crs/base/tree_objects.h"
#include "crs/base/protocol.h"
#include "crs/base/capture_filter.h"
#include "common/procfs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#ifndef HUGETLBFS_MAGIC
#define HUGETLBFS_MAGIC 0x958458f6
#endif

#define DELETED " (deleted)"

static int ends_deleted(const char *name)
{
    size_t len = strlen(name), sl = strlen(DELETED);
    return len > sl && !strcmp(name + len - sl, DELETED);
}

/* A deleted file of hugetlbfs is shared memory to the capture (it cannot be
 * written back): its folder tells, as the capture asks it. */
static int on_hugetlbfs(const char *name, uint64_t dev)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", name);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return 0;
    slash[slash == dir] = 0;
    struct statfs sf;
    struct stat st;
    return statfs(dir, &sf) == 0 && (unsigned long)sf.f_type == HUGETLBFS_MAGIC && stat(dir, &st) == 0 &&
           (uint64_t)st.st_dev == dev;
}

int crs_tree_object_name(const char *name, uint64_t dev)
{
    if (!strncmp(name, "/SYSV", 5))
        return 1;   /* System V shared memory: a saved file of its own kind (one segment at restart) */
    if (name[0] != '/' || !strncmp(name, "/memfd:", 7) || !strncmp(name, "/dev/zero", 9) ||
        !strncmp(name, "/anon_hugepage", 14))
        return 0;
    if (!ends_deleted(name) && !(!strncmp(name, "/dev/shm/", 9) && name[9]))
        return 0;
    return !(ends_deleted(name) && on_hugetlbfs(name, dev));
}

int crs_tree_shmem_name(const char *name, uint64_t dev)
{
    if (!strncmp(name, "/memfd:", 7) || !strncmp(name, "/dev/zero", 9) || !strncmp(name, "[anon_shmem", 11) ||
        !strncmp(name, "/anon_hugepage", 14))
        return 1;
    return name[0] == '/' && ends_deleted(name) && on_hugetlbfs(name, dev);
}

int crs_tree_objects_index(const struct crs_tree_objects *o, uint64_t dev, uint64_t ino)
{
    for (size_t i = 0; i < o->n; i++)
        if (o->v[i].dev == dev && o->v[i].ino == ino)
            return (int)i;
    return -1;
}

/* Member m names the file or shared memory (dev, ino); has_fd: by an open file. */
/* A tree taken by its member 0 itself (crs_tree_checkpoint_self: an MPI rank and its children):
 * what its capture filters leave out of its image (the MPI library's shared-memory segments and
 * descriptors, src/pml_hooks/halves_filter.c) is no file the members share. Its children, forked
 * from it, hold the same mappings and descriptors, and their images leave them out too (the
 * filters are inherited); as a group the restart would look for it in an image that has none.
 * One tree checkpoint at a time (tree_here.c's lock): static, nothing allocated. */
#define FILTERED_MAX 512
static struct { uint64_t dev, ino; } filtered[FILTERED_MAX];
static size_t nfiltered;

static int is_filtered(uint64_t dev, uint64_t ino)
{
    for (size_t i = 0; i < nfiltered; i++)
        if (filtered[i].dev == dev && filtered[i].ino == ino)
            return 1;
    return 0;
}

static void note_filtered(uint64_t dev, uint64_t ino)
{
    if (nfiltered < FILTERED_MAX && !is_filtered(dev, ino)) {
        filtered[nfiltered].dev = dev;
        filtered[nfiltered].ino = ino;
        nfiltered++;
    }
}

static long filtered_fd(long n, int dirfd, void *arg)
{
    (void)dirfd, (void)arg;
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/proc/self/fd/%ld", n);
    if (crs_capture_filter_fd((int)n) && stat(path, &st) == 0)
        note_filtered((uint64_t)st.st_dev, (uint64_t)st.st_ino);
    return 0;
}

static int note(struct crs_tree_objects *o, size_t m, uint64_t dev, uint64_t ino, const char *name, int has_fd,
                int shmem)
{
    int i = crs_tree_objects_index(o, dev, ino);
    if (i < 0) {
        if (o->n == o->cap) {
            size_t cap = o->cap ? 2 * o->cap : 32;
            struct crs_tree_object *v = crs_tmem_realloc(o->v, cap * sizeof *v);
            unsigned char *named = crs_tmem_realloc(o->named, cap * o->nmembers);
            if (v)
                o->v = v;
            if (named)
                o->named = named;
            if (!v || !named)
                return -ENOMEM;
            o->cap = cap;
        }
        i = (int)o->n;
        struct crs_tree_object *x = &o->v[i];
        memset(x, 0, sizeof *x);
        x->dev = dev;
        x->ino = ino;
        x->owner = x->first = (int)m;
        x->owner_has_fd = has_fd;
        x->shmem = shmem;
        x->path = crs_tmem_strdup(name);
        memset(o->named + (size_t)i * o->nmembers, 0, o->nmembers);
        o->n++;
        if (!x->path)
            return -ENOMEM;
    }
    struct crs_tree_object *x = &o->v[i];
    unsigned char *seen = &o->named[(size_t)i * o->nmembers + m];
    if (!*seen) {
        *seen = 1;
        x->count++;
    }
    if (has_fd && !x->owner_has_fd) {   /* one that holds it open reads it whole */
        x->owner = (int)m;
        x->owner_has_fd = 1;
    }
    return 0;
}

struct fd_walk {
    struct crs_tree_objects *o;
    size_t m;
    pid_t pid;
};

static long note_fd(long n, int dirfd, void *arg)
{
    (void)dirfd;
    struct fd_walk *w = arg;
    char path[64], link[4096];
    snprintf(path, sizeof path, "/proc/%d/fd/%ld", (int)w->pid, n);
    ssize_t l = readlink(path, link, sizeof link - 1);
    struct stat st;
    if (l <= 0 || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    link[l] = 0;
    if (is_filtered((uint64_t)st.st_dev, (uint64_t)st.st_ino))
        return 0;
    int shmem = crs_tree_shmem_name(link, (uint64_t)st.st_dev);
    if (!shmem && !crs_tree_object_name(link, (uint64_t)st.st_dev))
        return 0;
    return note(w->o, w->m, (uint64_t)st.st_dev, (uint64_t)st.st_ino, link, 1, shmem);
}

static void find_filtered(char *buf, size_t len)
{
    nfiltered = 0;
    revive_proc_for_each_number("/proc/self/fd", filtered_fd, NULL);
    struct revive_maps_reader r;
    struct revive_maps_entry me;
    if (revive_maps_open(&r, getpid(), 0, buf, len) != 0)
        return;
    while (revive_maps_next(&r, &me) > 0) {
        if (!me.shared || (!me.inode && strncmp(me.name, "/SYSV", 5)) || me.name_cut)
            continue;
        struct crs_span sp[8];
        char err[256];
        if (crs_capture_filter_region(me.start, me.end, me.name, sp, 8, err, sizeof err) != 0)
            note_filtered(me.dev, me.inode);   /* (a filter's failure fails the capture itself) */
    }
    revive_maps_close(&r);
}

int crs_tree_objects_find(struct crs_tree_objects *o, const pid_t *pids, size_t nmembers, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->nmembers = nmembers;
    char buf[8192];
    nfiltered = 0;
    if (nmembers > 0 && pids[0] == getpid())
        find_filtered(buf, sizeof buf);
    for (size_t m = 0; m < nmembers; m++) {
        if (pids[m] <= 0)
            continue;
        char dir[48];
        snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pids[m]);
        struct fd_walk w = { o, m, pids[m] };
        long e = revive_proc_for_each_number(dir, note_fd, &w);
        if (e == -ENOMEM)
            goto nomem;
        struct revive_maps_reader r;
        struct revive_maps_entry me;
        if (revive_maps_open(&r, pids[m], 0, buf, sizeof buf) != 0)
            continue;   /* gone meanwhile: its capture says so */
        int k = 0;
        while (!k && revive_maps_next(&r, &me) > 0) {
            if (!me.shared || (!me.inode && strncmp(me.name, "/SYSV", 5)) || me.name_cut)   /* segment id 0 */
                continue;
            if (is_filtered(me.dev, me.inode))
                continue;
            int shmem = crs_tree_shmem_name(me.name, me.dev);
            if (shmem || crs_tree_object_name(me.name, me.dev))
                k = note(o, m, me.dev, me.inode, me.name, 0, shmem);
        }
        revive_maps_close(&r);
        if (k)
            goto nomem;
    }
    /* only what two members or more name */
    size_t keep = 0;
    for (size_t i = 0; i < o->n; i++) {
        if (o->v[i].count < 2) {
            crs_tmem_free(o->v[i].path);
            continue;
        }
        o->v[keep++] = o->v[i];
    }
    o->n = keep;
    crs_tmem_free(o->named);
    o->named = NULL;
    if (o->n > CRS_PROTO_GO_FILES_MAX) {
        snprintf(err, errlen, "the members share %zu files deleted while open or in /dev/shm, memfds and shared "
                              "memory mappings (semaphores, shared memory), more than the %d a tree's checkpoint "
                              "can hold", o->n, CRS_PROTO_GO_FILES_MAX);
        return -E2BIG;
    }
    return 0;
nomem:
    snprintf(err, errlen, "out of memory for the files the members share");
    return -ENOMEM;
}

void crs_tree_objects_go(const struct crs_tree_objects *o, size_t m, struct crs_proto_go *go)
{
    go->nelsewhere = 0;
    for (size_t i = 0; i < o->n && go->nelsewhere < CRS_PROTO_GO_FILES_MAX; i++)
        if (o->v[i].owner != (int)m) {
            go->elsewhere[go->nelsewhere][0] = o->v[i].dev;
            go->elsewhere[go->nelsewhere][1] = o->v[i].ino;
            go->nelsewhere++;
        }
}

void crs_tree_objects_free(struct crs_tree_objects *o)
{
    for (size_t i = 0; i < o->n; i++)
        crs_tmem_free(o->v[i].path);
    crs_tmem_free(o->v);
    crs_tmem_free(o->named);
    memset(o, 0, sizeof *o);
}
