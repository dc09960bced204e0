/* What refuses a tree's checkpoint once its members are parked, before
 * anything is written (tree_ckpt.c): memory two members share that the
 * restart would not make once, System V segments a process outside
 * attaches too, a shared inotify with unread events, more placed
 * descriptors than the go word lists. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "crs/base/tree_ckpt.h"
#include "crs/base/protocol.h"
#include "crs/base/capture_filter.h"
#include "common/procfs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Calls f for each mapping of each connected member, members in order,
 * until f returns non-zero, which is returned. A member whose maps cannot
 * be opened is passed over (it is gone meanwhile: its capture says so).
 * The shared-memory check looks at every mapping. */
typedef int (*member_mapping_fn)(struct tree_ckpt *t, size_t m, const struct revive_maps_entry *me, void *arg);

static int for_each_member_mapping(struct tree_ckpt *t, member_mapping_fn f, void *arg)
{
    char buf[8192];
    for (size_t m = 0; m < t->nmembers; m++) {
        if (t->conn[m] < 0)
            continue;
        struct revive_maps_reader r;
        struct revive_maps_entry me;
        if (revive_maps_open(&r, t->all[t->members[m]].pid, 0, buf, sizeof buf) != 0)
            continue;
        int e = 0;
        while (!e && revive_maps_next(&r, &me) > 0) {
            /* a tree taken by its member 0 itself (crs_tree_checkpoint_self, an MPI rank): what its
             * capture filters leave out of its image (the MPI library's shared memory) is in no
             * image; its children, forked from it, map it at the same place and leave it out too
             * (the filters are inherited) */
            struct crs_span sp[4];
            char ferr[160];
            if (t->self && me.shared && crs_capture_filter_region(me.start, me.end, me.name, sp, 4, ferr, sizeof ferr))
                continue;
            e = f(t, m, &me, arg);
        }
        revive_maps_close(&r);
        if (e)
            return e;
    }
    return 0;
}

/* Memory two members share through an object that the tree's restart does
 * not make once for all: each member's image would bring back a copy of its
 * own, so the sharing would be lost without a word. Refused, naming it.
 * Memfds, shared anonymous memory, System V segments and saved files are
 * made once (tree_objects.h). */
struct shm_key { uint64_t dev, ino; int member; uint64_t start; };
struct shm_keys { struct shm_key *keys; size_t n, cap; };

static int note_shared_mapping(struct tree_ckpt *t, size_t m, const struct revive_maps_entry *me, void *arg)
{
    struct shm_keys *s = arg;
    if (crs_tree_object_name(me->name, me->dev) || crs_tree_shmem_name(me->name, me->dev))
        return 0;   /* a saved file or shared memory: made once for the members that share it (tree_objects.h) */
    size_t len = strlen(me->name);
    int unnamed = !strncmp(me->name, "/dev/zero", 9) || !strncmp(me->name, "/memfd:", 7) ||
                  !strncmp(me->name, "/SYSV", 5) || (len > 10 && !strcmp(me->name + len - 10, " (deleted)"));
    if (!me->shared || !unnamed || !me->inode)
        return 0;
    for (size_t k = 0; k < s->n; k++)
        if (s->keys[k].dev == me->dev && s->keys[k].ino == me->inode && s->keys[k].member != (int)m) {
            char w1[64], w2[64];
            fail(t, "%s and %s share memory (%s, at 0x%llx in the first and 0x%llx in the second): "
                    "restarted, each would get a copy of its own, so a checkpoint of a %s whose "
                    "members share such memory is refused; let only one process map it",
                 who(t, (size_t)s->keys[k].member, w1, sizeof w1), who(t, m, w2, sizeof w2), me->name,
                 (unsigned long long)s->keys[k].start, (unsigned long long)me->start,
                 crs_tree_scope_name(t->o->scope));
            return -ENOTSUP;
        }
    struct shm_key *keys = grow_array(s->keys, s->n, &s->cap, sizeof *keys, 64);
    if (!keys)
        return -ENOMEM;
    s->keys = keys;
    s->keys[s->n++] = (struct shm_key){ me->dev, me->inode, (int)m, me->start };
    return 0;
}

int crs_tree_check_shared_memory(struct tree_ckpt *t)
{
    struct shm_keys s = { 0 };
    int e = for_each_member_mapping(t, note_shared_mapping, &s);
    crs_tmem_free(s.keys);
    return e;
}

/* A System V segment a process outside the tree has attached too: the
 * restart would make one for the members alone, and they would no longer
 * see the outsider's writes. The kernel counts every mapping (shm_nattch);
 * more than the members' own is refused, naming the segment and a member. */
struct sysv_seen { uint64_t dev, ino; unsigned long maps; int member; uint64_t start; };
struct sysv_list { struct sysv_seen *v; size_t n, cap; };

static int count_sysv_mapping(struct tree_ckpt *t, size_t m, const struct revive_maps_entry *me, void *arg)
{
    (void)t;
    struct sysv_list *s = arg;
    if (!me->shared || strncmp(me->name, "/SYSV", 5))
        return 0;
    for (size_t k = 0; k < s->n; k++)
        if (s->v[k].dev == me->dev && s->v[k].ino == me->inode) {
            s->v[k].maps++;
            return 0;
        }
    struct sysv_seen *v = grow_array(s->v, s->n, &s->cap, sizeof *v, 16);
    if (!v)
        return -ENOMEM;
    s->v = v;
    s->v[s->n++] = (struct sysv_seen){ me->dev, me->inode, 1, (int)m, me->start };
    return 0;
}

int crs_tree_check_sysv_outside(struct tree_ckpt *t)
{
    struct sysv_list s = { 0 };
    int e = for_each_member_mapping(t, count_sysv_mapping, &s);
    for (size_t k = 0; k < s.n && !e; k++) {
        struct shmid_ds ds;
        if (s.v[k].ino > INT32_MAX || shmctl((int)s.v[k].ino, IPC_STAT, &ds) != 0 ||
            (unsigned long)ds.shm_nattch <= s.v[k].maps)
            continue;   /* not ours to read: each member's capture sees it alone */
        char w[64];
        fail(t, "the System V shared memory segment %llu (key 0x%08x), which %s maps at 0x%llx, is attached by a "
                "process outside the %s too (%lu mappings, %lu of them the members'; made by process %d, last "
                "attached or detached by %d): restarted, the members would get a copy of their own; let only "
                "the members attach it",
             (unsigned long long)s.v[k].ino, (unsigned)ds.shm_perm.__key, who(t, (size_t)s.v[k].member, w, sizeof w),
             (unsigned long long)s.v[k].start, crs_tree_scope_name(t->o->scope), (unsigned long)ds.shm_nattch,
             s.v[k].maps, (int)ds.shm_cpid, (int)ds.shm_lpid);
        e = -ENOTSUP;
    }
    crs_tmem_free(s.v);
    return e;
}

/* An inotify two members hold as one open file (made before a fork) comes
 * back as one (CRS_TREE_G_KOBJ), with its watches; its unread events cannot:
 * a capture keeps them in the memory of the process that reads them out
 * (inotify_saved.h), and every member's capture would read the one queue
 * (the first taking all, the next its watch's IN_IGNORED). Such an inotify
 * holding unread events (or events libcr keeps for the program since an
 * earlier checkpoint, which keep its watch's IN_IGNORED queued) is refused
 * here, while the members are parked and before any capture has touched it,
 * naming it and its holders; their captures leave a shared inotify's queue
 * alone (an event queued since belongs after the checkpoint). The queue is
 * measured (FIONREAD) through a member's own descriptor (pidfd_getfd);
 * when that is not allowed it cannot be told, and is refused too. 0, or
 * -ENOTSUP with the message. */
int crs_tree_check_shared_inotify(struct tree_ckpt *t, const struct crs_tree_group *groups, size_t ngroups)
{
    for (size_t g = 0; g < ngroups; g++) {
        if (groups[g].kind != CRS_TREE_G_KOBJ)
            continue;
        const struct fd_entry *first = NULL;
        char holders[512] = "";
        size_t hl = 0;
        for (size_t i = 0; i < t->nfds; i++) {
            const struct fd_entry *f = &t->fds[i];
            if (f->group != (int)g || strcmp(f->path, "anon_inode:inotify"))
                continue;
            first = first ? first : f;
            const struct proc_info *p = &t->all[t->members[f->member]];
            if (hl < sizeof holders - 1)
                hl += (size_t)snprintf(holders + hl, sizeof holders - hl, "%sprocess %d '%s' at descriptor %d",
                                       hl ? ", " : "", (int)p->pid, p->comm, f->fd);
        }
        if (!first)
            continue;
        pid_t pid = t->all[t->members[first->member]].pid;
        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        int dup = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, first->fd, 0);
        int why = dup < 0 ? errno : 0, queued = 0;
        if (dup >= 0 && ioctl(dup, FIONREAD, &queued) != 0) {
            why = errno;
            queued = 0;
        }
        if (dup >= 0)
            close(dup);
        if (pidfd >= 0)
            close(pidfd);
        if (why) {
            fail(t, "an inotify shared by members of the %s (%s: one inotify, made before a fork) cannot be "
                    "checked for unread events (pidfd_getfd: %s; it needs ptrace permission over the member): "
                    "unread events of an inotify members share cannot be kept, so the checkpoint is refused and "
                    "nothing was changed; run cr_checkpoint as root or as a user with that permission",
                 crs_tree_scope_name(t->o->scope), holders, strerror(why));
            return -ENOTSUP;
        }
        if (queued > 0) {
            fail(t, "an inotify shared by members of the %s (%s: one inotify, made before a fork) holds %d bytes of "
                    "unread events: Revive keeps a process's unread inotify events in that process's memory and "
                    "cannot split one queue between processes, so the checkpoint is refused and nothing was "
                    "changed; checkpoint again once the program has read its events, or give each process an "
                    "inotify of its own", crs_tree_scope_name(t->o->scope), holders, queued);
            return -ENOTSUP;
        }
    }
    return 0;
}

/* A member with more descriptors the restart puts in place than the go
 * word lists (CRS_PROTO_GO_MAX) is told "every pipe end" (placed_fds):
 * its capture can no longer tell an end of a FIFO or a socket pair members
 * share from one of its own, and would record that FIFO or pair with its
 * bytes while the tree's restart places it too (the bytes twice, or the
 * restart refused as busy; review diffrev22 L1). Refused here, naming the
 * limit, before anything is written. 0, or -E2BIG with the message. */
int crs_tree_check_placed_limit(struct tree_ckpt *t, const struct crs_tree_group *groups)
{
    for (size_t m = 0; m < t->nmembers; m++) {
        size_t placed = 0, fifos = 0, socks = 0;
        for (size_t i = 0; i < t->nfds; i++)
            if (t->fds[i].member == (int)m && t->fds[i].group >= 0) {
                placed++;
                fifos += groups[t->fds[i].group].kind == CRS_TREE_G_FIFO;
            }
        for (size_t i = 0; i < t->nsocks; i++)
            if (t->socks[i].member == (int)m && t->socks[i].group >= 0) {
                placed++;
                socks++;
            }
        if (placed <= CRS_PROTO_GO_MAX || (!fifos && !socks))
            continue;
        char w[64];
        fail(t, "%s, a member of the %s, holds %zu descriptors that it shares with other members, more than the "
                "%d Revive can tell it about, and %zu of them are on FIFOs (named pipes) or socket pairs members "
                "share (%zu FIFO, %zu socket), which it could not tell from its own (their bytes would come back "
                "twice); close some of its shared descriptors (at most %d) and checkpoint again; the %s runs on",
             who(t, m, w, sizeof w), crs_tree_scope_name(t->o->scope), placed, CRS_PROTO_GO_MAX, fifos + socks,
             fifos, socks, CRS_PROTO_GO_MAX, crs_tree_scope_name(t->o->scope));
        return -E2BIG;
    }
    return 0;
}
