/* A process tree's checkpoint, run by the requester (cr_checkpoint --tree,
 * --pgid, --sid; libcr's cr_request_checkpoint for another process's scope):
 * finds the members, parks them all, records what they share, lets each
 * write its image into the one file, and releases them together (tree.h).
 * The steps, each in a file of its own (tree_ckpt.h): who the members are
 * (tree_ckpt_members.c), parking them (tree_ckpt_park.c), their descriptors
 * (tree_ckpt_fds.c, tree_ckpt_sockets.c, tree_ckpt_fifo.c), the refusals
 * (tree_ckpt_checks.c), the table (tree_ckpt_groups.c) and the file
 * (tree_ckpt_write.c). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "crs/base/tree_ckpt.h"
#include "crs/base/tree_objects.h"
#include "common/procfs.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int crs_tree_prepare(struct tree_ckpt *t, int fd, size_t *nsockgroups)
{
    const struct crs_tree_ckpt_opts *o = t->o;
    long e = crs_tree_settle_members(t, fd);
    if (e)
        return (int)e;
    /* A member killed by the park signal must not be recorded as if its
     * program had ended so: its parent would wait for that status in every
     * restart. libcr keeps the signal from reaching a program (its exec
     * wrappers); should one die of it anyway, nothing is written. */
    for (size_t m = 0; m < t->nmembers; m++) {
        const struct proc_info *p = &t->all[t->members[m]];
        if (p->state == 'Z' && WIFSIGNALED(p->exit_code) && WTERMSIG(p->exit_code) == crs_tree_park_signal()) {
            char w[64];
            fail(t, "%s, a member of the %s, was killed by signal %d, Revive's park signal, which must never reach "
                    "a program (please report it); nothing was written: the tree runs on, and a checkpoint works "
                    "again once its parent has waited for it", who(t, m, w, sizeof w),
                 crs_tree_scope_name(o->scope), crs_tree_park_signal());
            return -ESRCH;
        }
    }
    /* every member is parked: nothing they share moves now */
    *nsockgroups = 0;
    if ((e = crs_tree_check_shared_memory(t)) || (e = crs_tree_check_sysv_outside(t)) ||
        (e = crs_tree_scan_fds(t, fd)) || (e = crs_tree_check_sockets(t, nsockgroups)))
        return (int)e;
    return 0;
}

int crs_tree_base(struct tree_ckpt *t, int fd)
{
    off_t base = lseek(fd, 0, SEEK_CUR);
    if (base < 0) {
        int e = -errno;   /* before fail(), which may change errno */
        fail(t, "cannot write the tree's file: %s", strerror(-e));
        return e;
    }
    t->base = (uint64_t)base;
    return 0;
}

void crs_tree_signal_after(const struct tree_ckpt *t)
{
    if (t->o->signal_after)
        for (size_t m = 0; m < t->nmembers; m++)
            if (t->conn[m] >= 0 && t->conn[m] != TREE_CONN_SELF)
                kill(t->all[t->members[m]].pid, t->o->signal_after);
    /* each member stopped before the caller returns (as in protocol.c's crs_proto_checkpoint) */
    if (t->o->signal_after == SIGSTOP)
        for (size_t m = 0; m < t->nmembers; m++)
            if (t->conn[m] >= 0 && t->conn[m] != TREE_CONN_SELF)
                revive_wait_stopped(t->all[t->members[m]].pid, 10000);
}

static int run(struct tree_ckpt *t, int fd)
{
    const struct crs_tree_ckpt_opts *o = t->o;
    size_t nsockgroups = 0;
    long e;
    if ((e = crs_tree_base(t, fd)) || (e = crs_tree_prepare(t, fd, &nsockgroups)))
        return (int)e;
    struct tree_table tb;
    memset(&tb, 0, sizeof tb);
    if (!(e = crs_tree_make_table(t, nsockgroups, &tb)))
        e = crs_tree_write(t, fd, &tb);
    crs_tree_table_free(&tb);
    if (e)
        return (int)e;
    if (o->commit && (e = o->commit(o->arg, t->err, t->errlen)))
        return (int)e;
    crs_tree_signal_after(t);
    return (int)t->nmembers;
}

int crs_tree_checkpoint(int fd, const struct crs_tree_ckpt_opts *o, char *err, size_t errlen)
{
    struct tree_ckpt t;
    memset(&t, 0, sizeof t);
    t.o = o;
    t.fdata = o->file_data_held;
    if (o->warn && o->warnlen)
        o->warn[0] = 0;
    if (o->shared && o->sharedlen)
        o->shared[0] = 0;
    t.err = err;
    t.errlen = errlen;
    err[0] = 0;
    int r = run(&t, fd);
    if (r < 0 && !err[0])
        snprintf(err, errlen, "%s", strerror(-r));
    crs_tree_release_all(&t, r > 0);
    crs_tree_ckpt_free(&t);
    return r;
}

void crs_tree_ckpt_free(struct tree_ckpt *t)
{
    for (size_t i = 0; i < t->nfds; i++)
        crs_tmem_free(t->fds[i].path);
    crs_tmem_free(t->fds);
    crs_tmem_free(t->socks);
    crs_tmem_free(t->holders.socks);
    crs_tree_objects_free(&t->objs);
    crs_tmem_free(t->conn);
    crs_tmem_free(t->fresh);
    crs_tmem_free(t->members);
    crs_tmem_free(t->all);
    memset(t, 0, sizeof *t);
}
