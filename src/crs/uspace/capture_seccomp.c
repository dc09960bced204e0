/* The program's seccomp filters (crs/base/seccomp_notes.h): each thread's
 * count checked against libcr's notes, the filters some thread runs under
 * saved (image_format.h: SECCOMP). */
#define _GNU_SOURCE
#include "crs/uspace/capture.h"
#include "crs/uspace/park.h"
#include "crs/base/seccomp_notes.h"
#include "common/procfs.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <string.h>

#define FIX_HINT                                                                                      \
    "install seccomp filters through prctl(2), syscall(2) or libseccomp in a program started by cr_run, " \
    "or checkpoint the process before it locks itself down"

int crs_capture_seccomp_thread(struct crs_capture *c, pid_t tid, uint32_t *n)
{
    *n = 0;
    char st[4096];
    long len = revive_proc_read(0, crs_park_proc_tid(tid), "status", st, sizeof st);
    int strict = 0, count = len > 0 || len == -ENOSPC ? crs_seccomp_status_count(st, &strict) : -1;
    int inherited;
    size_t nnotes;
    const char *why;
    const struct crs_seccomp_note *notes = crs_seccomp_notes(&inherited, &nnotes, &why);
    if (count == 0 || (count > 0 && count == inherited))
        return 0;
    if (strict) {
        crs_capture_error(c, "thread %d runs in seccomp strict mode (SECCOMP_MODE_STRICT), which Revive cannot "
                          "restore", (int)tid);
        return -EPERM;
    }
    if (count < 0) {
        crs_capture_error(c, "cannot read the seccomp filters of thread %d from /proc: a restart would run it "
                          "without them; mount /proc, or let the program's filter allow reading it", (int)tid);
        return -EPERM;
    }
    if (!notes) {
        crs_capture_error(c, "the seccomp filters of thread %d cannot be saved: %s; a restart would run it "
                          "without them", (int)tid, why);
        return -EPERM;
    }
    if (inherited < 0 || count < inherited || (size_t)(count - inherited) > nnotes) {
        crs_capture_error(c, "thread %d runs under %d seccomp filters, %d of them inherited from its launcher, "
                          "but libcr saw the program install %zu (a filter went in by a system call of its own, "
                          "not through libc): their programs cannot be read without CAP_SYS_ADMIN, and a restart "
                          "would run it without them; " FIX_HINT, (int)tid, count, inherited < 0 ? 0 : inherited,
                          nnotes);
        return -EPERM;
    }
    *n = (uint32_t)(count - inherited);
    for (uint32_t i = 0; i < *n; i++)
        if (notes[i].flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) {
            crs_capture_error(c, "thread %d runs under a seccomp filter with a user-space supervisor "
                              "(SECCOMP_FILTER_FLAG_NEW_LISTENER): that supervisor's descriptor cannot come back "
                              "after a restart", (int)tid);
            return -EPERM;
        }
    return 0;
}

int crs_capture_seccomp(struct crs_capture *c)
{
    uint32_t most = 0;
    for (size_t t = 0; c->tattrs && t < c->nthreads; t++)
        if (c->tattrs[t].seccomp > most)
            most = c->tattrs[t].seccomp;
    c->nseccomps = 0;
    if (!most)
        return 0;
    int inherited;
    size_t nnotes;
    const char *why;
    const struct crs_seccomp_note *notes = crs_seccomp_notes(&inherited, &nnotes, &why);
    if (!notes || most > nnotes)
        return -EINVAL;   /* crs_capture_seccomp_thread refused already */
    const struct sock_filter *insns = crs_seccomp_notes_insns();
    uint64_t total = 0;
    for (uint32_t i = 0; i < most; i++)
        total += notes[i].len;
    c->seccomps = crs_scratch_alloc(c->scratch, most * sizeof *c->seccomps);
    c->seccompdata = crs_scratch_alloc(c->scratch, total * sizeof(uint64_t));
    if (!c->seccomps || !c->seccompdata) {
        crs_capture_error(c, "out of scratch memory for the seccomp filters");
        return -ENOMEM;
    }
    uint64_t at = 0;
    for (uint32_t i = 0; i < most; i++) {
        struct crs_rec_seccomp *s = &c->seccomps[i];
        memset(s, 0, sizeof *s);
        s->flags = notes[i].flags;
        s->len = notes[i].len;
        s->data = at;
        s->inherited = (uint32_t)inherited;
        memcpy(&c->seccompdata[at], &insns[notes[i].first], notes[i].len * sizeof(uint64_t));
        at += notes[i].len;
    }
    c->nseccomps = most;
    c->nseccompdata = at;
    return 0;
}
