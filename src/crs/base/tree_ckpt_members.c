/* Who is in the scope of a tree's checkpoint (tree_ckpt.c): every process
 * /proc shows, read once per look, and the members chosen among them,
 * parents before their children. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "crs/base/tree_ckpt.h"
#include "common/procfs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long note_process(long n, int dirfd, void *arg)
{
    (void)dirfd;
    struct tree_ckpt *t = arg;
    char buf[4096];
    long len = revive_proc_read((pid_t)n, 0, "stat", buf, sizeof buf);
    if (len <= 0 && len != -ENOSPC)
        return 0;   /* gone meanwhile */
    const char *open = strchr(buf, '('), *close = strrchr(buf, ')');
    if (!open || !close || close < open)
        return 0;
    struct proc_info *all = grow_array(t->all, t->nall, &t->capall, sizeof *all, 1024);
    if (!all)
        return -ENOMEM;
    t->all = all;
    struct proc_info *p = &t->all[t->nall];
    memset(p, 0, sizeof *p);
    p->pid = (pid_t)n;
    size_t cl = (size_t)(close - open - 1);
    memcpy(p->comm, open + 1, cl < sizeof p->comm - 1 ? cl : sizeof p->comm - 1);
    /* after the name: state ppid pgrp session ... field 52 is exit_code */
    const char *f = close + 2;
    p->state = *f;
    long field[64];
    int k = 0;
    for (const char *q = f + 1; *q && k < 64;) {
        while (*q == ' ')
            q++;
        if (!*q || *q == '\n')
            break;
        field[k++] = strtol(q, (char **)&q, 10);
    }
    if (k < 3)
        return 0;
    p->ppid = (pid_t)field[0];
    p->pgid = (pid_t)field[1];
    p->sid = (pid_t)field[2];
    p->exit_code = k >= 49 ? (int32_t)field[48] : 0;   /* field 52 of the whole line */
    p->in_pid = p->pid;
    p->in_pgid = p->pgid;
    p->in_sid = p->sid;
    len = revive_proc_read((pid_t)n, 0, "status", buf, sizeof buf);
    if (len > 0 || len == -ENOSPC) {
        int64_t ids[40];
        int m = revive_status_ids(buf, "NSpid", ids, 40);
        if (m >= 1 && m <= 40)
            p->in_pid = (pid_t)ids[m - 1];
        m = revive_status_ids(buf, "NSpgid", ids, 40);
        if (m >= 1 && m <= 40)
            p->in_pgid = (pid_t)ids[m - 1];
        m = revive_status_ids(buf, "NSsid", ids, 40);
        if (m >= 1 && m <= 40)
            p->in_sid = (pid_t)ids[m - 1];
    }
    t->nall++;
    return 0;
}

int crs_tree_is_member(const struct tree_ckpt *t, int idx)
{
    for (size_t i = 0; i < t->nmembers; i++)
        if (t->members[i] == idx)
            return 1;
    return 0;
}

static int in_scope(const struct tree_ckpt *t, const struct proc_info *p)
{
    switch (t->o->scope) {
    case CRS_TREE_SCOPE_PGRP: return p->pgid == t->o->id;
    case CRS_TREE_SCOPE_SESS: return p->sid == t->o->id;
    default: return p->pid == t->o->id;
    }
}

/* Members, parents before their children, children in the order of their
 * pids (the order they were most likely made in). */
static int choose_members(struct tree_ckpt *t)
{
    t->members = crs_tmem_calloc(t->nall ? t->nall : 1, sizeof *t->members);
    if (!t->members)
        return -ENOMEM;
    pid_t me = t->self ? 0 : getpid();   /* the requester is no member, but when it is member 0 */
    /* the roots: in the scope, and their parent is not */
    for (size_t i = 0; i < t->nall; i++) {
        const struct proc_info *p = &t->all[i];
        if (p->pid == me || p->pid == t->o->exclude || !in_scope(t, p))
            continue;
        int parent = find_proc(t, p->ppid);
        if (t->o->scope != CRS_TREE_SCOPE_TREE && parent >= 0 && in_scope(t, &t->all[parent]) &&
            t->all[parent].pid != me && t->all[parent].pid != t->o->exclude)
            continue;
        t->members[t->nmembers++] = (int)i;
    }
    /* then, breadth first, the children of members: every one for a tree;
     * for a group or session those in it, and zombies (only a member can
     * reap them); the others refuse the checkpoint below */
    for (size_t k = 0; k < t->nmembers; k++) {
        size_t first = t->nmembers;
        for (size_t i = 0; i < t->nall; i++) {
            const struct proc_info *c = &t->all[i];
            if (c->ppid != t->all[t->members[k]].pid || c->pid == me || c->pid == t->o->exclude)
                continue;
            if (t->o->scope == CRS_TREE_SCOPE_TREE || in_scope(t, c) || c->state == 'Z') {
                if (!crs_tree_is_member(t, (int)i))
                    t->members[t->nmembers++] = (int)i;
                continue;
            }
            fail(t, "process %d '%s', a child of process %d, is not in the %s %d: a checkpoint of a %s must "
                    "hold every child of its members (checkpoint the whole tree with --tree %d, or let the "
                    "child end first)", (int)c->pid, c->comm, (int)t->all[t->members[k]].pid,
                 crs_tree_scope_name(t->o->scope), (int)t->o->id, crs_tree_scope_name(t->o->scope),
                 (int)t->all[t->members[0]].pid);
            return -ENOTSUP;
        }
        /* ascending pids among these siblings */
        for (size_t a = first; a < t->nmembers; a++)
            for (size_t b = a + 1; b < t->nmembers; b++)
                if (t->all[t->members[b]].pid < t->all[t->members[a]].pid) {
                    int x = t->members[a];
                    t->members[a] = t->members[b];
                    t->members[b] = x;
                }
    }
    return 0;
}

/* Who is in the scope, from a fresh look at /proc. */
int crs_tree_list_members(struct tree_ckpt *t)
{
    const struct crs_tree_ckpt_opts *o = t->o;
    t->nall = 0;
    t->nmembers = 0;
    crs_tmem_free(t->members);
    t->members = NULL;
    long e = revive_proc_for_each_number("/proc", note_process, t);
    if (e < 0) {
        fail(t, "cannot list the processes in /proc: %s", strerror((int)-e));
        return (int)e;
    }
    if (o->scope == CRS_TREE_SCOPE_TREE) {
        int r = find_proc(t, o->id);
        if (r < 0 || (o->id == getpid() && !t->self)) {
            fail(t, "no process with PID %d", (int)o->id);
            return -ESRCH;
        }
    }
    if ((e = choose_members(t)))
        return (int)e;
    if (!t->nmembers) {
        fail(t, "no process %s %d", o->scope == CRS_TREE_SCOPE_PGRP ? "in the process group" : "in the session",
             (int)o->id);
        return -ESRCH;
    }
    size_t live = 0;
    for (size_t m = 0; m < t->nmembers; m++)
        live += t->all[t->members[m]].state != 'Z';
    if (!live) {
        fail(t, "every process of the %s %d has ended (zombies only)", crs_tree_scope_name(o->scope), (int)o->id);
        return -ESRCH;
    }
    return 0;
}
