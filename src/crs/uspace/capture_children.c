/* Child processes: an image of one process would not bring a child (running,
 * or a zombie not yet reaped) back: after a restart the child would run on
 * orphaned and waitpid fail with ECHILD. Such a checkpoint is refused naming
 * the children, unless it is one of a tree (cr_checkpoint --tree, which
 * takes the children too: crs/base/tree.h), or the child is a zombie the
 * caller brings back itself (crs_ckpt_opts.kept_zombies: an MPI rank's). */
#define _GNU_SOURCE
#include "crs/uspace/capture.h"
#include "common/procfs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define NAMED_MAX 6

struct kids {
    const struct crs_capture *c;
    char *text;       /* "123 'sleep' running, 124 'sh' zombie" */
    size_t cap, len;
    int count;
    char buf[4096];   /* one children file, then one stat file */
};

static int kept_zombie(const struct crs_capture *c, long pid)
{
    for (int i = 0; i < c->opts.nkept_zombies; i++)
        if (c->opts.kept_zombies[i] == pid)
            return 1;
    return 0;
}

/* Adds child pid to the list (its name and state from its stat), unless it
 * is a zombie the caller keeps. */
static void add_kid(struct kids *k, long pid)
{
    char path[64], comm[64] = "?";
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    long n = revive_read_file(path, k->buf, sizeof k->buf);
    char state = n > 0 ? revive_stat_state(k->buf) : 0;
    if (state == 'Z' && kept_zombie(k->c, pid))
        return;
    k->count++;
    if (k->count > NAMED_MAX)
        return;
    const char *open = n > 0 ? strchr(k->buf, '(') : NULL, *close = n > 0 ? strrchr(k->buf, ')') : NULL;
    if (open && close && close > open) {
        size_t len = (size_t)(close - open - 1);
        if (len >= sizeof comm)
            len = sizeof comm - 1;
        memcpy(comm, open + 1, len);
        comm[len] = 0;
    }
    const char *how = state == 'Z' ? "zombie, not reaped" : state == 'T' || state == 't' ? "stopped" : "running";
    int w = snprintf(k->text + k->len, k->cap - k->len, "%s%ld '%s' %s", k->len ? ", " : "", pid, comm, how);
    if (w > 0 && (size_t)w < k->cap - k->len)
        k->len += (size_t)w;
}

/* One thread's children (a child belongs to the thread that made it). */
static long thread_kids(long tid, int dirfd, void *arg)
{
    (void)dirfd;
    struct kids *k = arg;
    char path[80];
    snprintf(path, sizeof path, "/proc/self/task/%ld/children", tid);
    long n = revive_read_file(path, k->buf, sizeof k->buf);
    if (n == -ENOSPC)
        n = (long)sizeof k->buf - 1;   /* hundreds of children: the first ones are named */
    if (n <= 0)
        return 0;   /* none, the thread has ended, or no CONFIG_PROC_CHILDREN */
    long pids[128];   /* kept zombies are not counted: each one looked at */
    int np = 0;
    const char *p = k->buf;
    while (*p) {
        uint64_t v;
        while (*p == ' ' || *p == '\n')
            p++;
        if (!*p || revive_parse_u64(&p, &v))
            break;
        if (np < (int)(sizeof pids / sizeof pids[0]))
            pids[np++] = (long)v;
        else
            k->count++;
    }
    for (int i = 0; i < np; i++)
        add_kid(k, pids[i]);   /* reuses buf: the list was copied out first */
    return 0;
}

int crs_capture_children(struct crs_capture *c)
{
    struct kids *k = crs_scratch_alloc(c->scratch, sizeof *k);
    char *text = crs_scratch_alloc(c->scratch, 1024);
    if (!k || !text) {
        crs_capture_error(c, "out of scratch memory for the list of child processes");
        return -ENOMEM;
    }
    memset(k, 0, sizeof *k);
    k->c = c;
    k->text = text;
    k->cap = 1024;
    text[0] = 0;
    revive_proc_for_each_number("/proc/self/task", thread_kids, k);
    if (!k->count)
        return 0;
    crs_capture_error(c, "the process has %d child process%s (%s%s): an image holds one process, so after a "
                      "restart they would be gone and waitpid would fail; checkpoint the process with its "
                      "children (cr_checkpoint --tree), or let them end and reap them (wait) first",
                      k->count, k->count == 1 ? "" : "es", text, k->count > NAMED_MAX ? ", ..." : "");
    return -ENOTSUP;
}
