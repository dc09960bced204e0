/* The System V semaphore sets and message queues the program uses, and its
 * SEM_UNDO adjustments (sysvipc_notes.h). */
#include "crs/base/sysvipc_notes.h"
#include "crs/base/capture_filter.h"
#include "crs/base/image_format.h"
#include "common/procfs.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static struct crs_sysvipc_note notes[CRS_SYSVIPC_NOTES_MAX];
static int notes_overflow;   /* a set or queue found no free slot */
static atomic_flag lock = ATOMIC_FLAG_INIT;   /* crs_park_lock_take/drop */
static atomic_int passing = -1;                   /* the notes' descriptor on its way through an execve */
static atomic_flag pass_lock = ATOMIC_FLAG_INIT;  /* pass_on's copy, for threads exec'ing at once */

static struct crs_sysvipc_note *find(int kind, int id)
{
    for (int i = 0; i < CRS_SYSVIPC_NOTES_MAX; i++)
        if (notes[i].kind == kind && notes[i].id == id)
            return &notes[i];
    return NULL;
}

int crs_sysvipc_note(int kind, int id)
{
    if (id < 0)
        return 2;
    int before = 2;
    crs_park_lock_take(&lock);
    struct crs_sysvipc_note *n = find(kind, id);
    if (n) {
        before = n->used ? 2 : 1;
        n->used = 1;
    } else {
        before = 0;
        int i = 0;
        while (i < CRS_SYSVIPC_NOTES_MAX && notes[i].kind)
            i++;
        if (i < CRS_SYSVIPC_NOTES_MAX) {
            memset(&notes[i], 0, sizeof notes[i]);
            notes[i].id = notes[i].orig = id;
            notes[i].used = 1;
            notes[i].kind = kind;
        } else {
            notes_overflow = 1;
            before = 2;   /* nothing to take back */
        }
    }
    crs_park_lock_drop(&lock);
    return before;
}

void crs_sysvipc_note_undo(int kind, int id, int before)
{
    if (before == 2)
        return;
    crs_park_lock_take(&lock);
    struct crs_sysvipc_note *n = find(kind, id);
    if (n && before == 0 && !n->undo)
        n->kind = 0;
    else if (n && before == 1)
        n->used = 0;
    crs_park_lock_drop(&lock);
}

int crs_sysvipc_slot(int kind, int id)
{
    for (int i = 0; i < CRS_SYSVIPC_NOTES_MAX; i++)
        if (notes[i].kind == kind && notes[i].id == id)
            return i;
    return -1;
}

int crs_sysvipc_slot_id(int kind, int slot)
{
    return slot >= 0 && slot < CRS_SYSVIPC_NOTES_MAX && notes[slot].kind == kind ? notes[slot].id : -1;
}

/* (read without the lock, as crs_sysvipc_slot_id: a note changes under it only when the
 * program removes or first names a set, which it does not while it calls with that id) */
int crs_sysvipc_real(int kind, int id)
{
    for (int i = 0; i < CRS_SYSVIPC_NOTES_MAX; i++)
        if (notes[i].kind == kind && notes[i].orig == id && notes[i].id != id)
            return notes[i].id;
    return id;
}

int crs_sysvipc_known(int kind, int id)
{
    for (int i = 0; i < CRS_SYSVIPC_NOTES_MAX; i++)
        if (notes[i].kind == kind && notes[i].id == id && notes[i].orig != id)
            return notes[i].orig;
    return id;
}

int crs_sysvipc_taken(int kind, int id)
{
    return crs_sysvipc_real(kind, id) != id;
}

void crs_sysvipc_forget(int kind, int id)
{
    crs_park_lock_take(&lock);
    struct crs_sysvipc_note *n = find(kind, id);
    if (n)
        n->kind = 0;
    crs_park_lock_drop(&lock);
}

void crs_sysvipc_semop(int id, const struct sembuf *ops, size_t n)
{
    int any = 0;
    for (size_t k = 0; k < n; k++)
        any |= (ops[k].sem_flg & SEM_UNDO) && ops[k].sem_op;
    if (!any) {
        crs_sysvipc_note(CRS_SYSVIPC_SEM, id);
        return;
    }
    crs_sysvipc_note(CRS_SYSVIPC_SEM, id);
    crs_park_lock_take(&lock);
    struct crs_sysvipc_note *s = find(CRS_SYSVIPC_SEM, id);
    for (size_t k = 0; s && k < n; k++) {
        if (!(ops[k].sem_flg & SEM_UNDO) || !ops[k].sem_op)
            continue;
        s->undo = 1;
        if (ops[k].sem_num < CRS_SYSVIPC_UNDO_MAX)
            s->adj[ops[k].sem_num] = (short)(s->adj[ops[k].sem_num] - ops[k].sem_op);   /* as the kernel */
        else
            s->undo_lost = 1;
    }
    if (!s)
        notes_overflow = 1;
    crs_park_lock_drop(&lock);
}

void crs_sysvipc_setval(int id, int semnum)
{
    crs_park_lock_take(&lock);
    struct crs_sysvipc_note *s = find(CRS_SYSVIPC_SEM, id);
    if (s && semnum < 0)
        memset(s->adj, 0, sizeof s->adj);
    else if (s && semnum < CRS_SYSVIPC_UNDO_MAX)
        s->adj[semnum] = 0;
    crs_park_lock_drop(&lock);
}

void crs_sysvipc_forked(void)
{
    /* one thread in the new process: nobody holds the locks but maybe the parent's copy */
    atomic_flag_clear(&lock);
    atomic_flag_clear(&pass_lock);
    notes_overflow = 0;   /* the parent's: what this child names past the notes' room sets it again */
    int fd = atomic_exchange(&passing, -1);
    if (fd >= 0)
        syscall(SYS_close, fd);   /* another thread's notes on their way through its execve: not ours */
    for (int i = 0; i < CRS_SYSVIPC_NOTES_MAX; i++) {
        memset(notes[i].adj, 0, sizeof notes[i].adj);
        notes[i].undo = notes[i].undo_lost = notes[i].used = 0;
    }
}

#define PASS_NAME "revive-sysvipc-notes"
struct passed {
    char magic[8];
    uint32_t size;     /* sizeof notes: the same libcr on both sides of the execve */
    int32_t overflow;
    int32_t pid;       /* the process that passes them on: execve keeps it, a child has another */
    int32_t pad;
};
#define PASS_MAGIC "rvsysv2"


int crs_sysvipc_any(void)
{
    int any = notes_overflow;
    for (int i = 0; i < CRS_SYSVIPC_NOTES_MAX && !any; i++)
        any = notes[i].kind > 0 && (notes[i].used || notes[i].undo);
    return any;
}

static int write_all(int fd, const void *p, size_t len, off_t at)
{
    while (len) {
        ssize_t w = pwrite(fd, p, len, at);
        if (w <= 0)
            return -1;
        p = (const char *)p + w, len -= (size_t)w, at += w;
    }
    return 0;
}

int crs_sysvipc_pass_on(void)
{
    static struct crs_sysvipc_note copy[CRS_SYSVIPC_NOTES_MAX];   /* under pass_lock */
    int fd = (int)syscall(SYS_memfd_create, PASS_NAME, 0);   /* not MFD_CLOEXEC: the new program takes it */
    if (fd < 0)
        return -1;
    crs_park_lock_take(&pass_lock);
    crs_park_lock_take(&lock);
    memcpy(copy, notes, sizeof copy);
    struct passed h = { PASS_MAGIC, (uint32_t)sizeof notes, notes_overflow, (int32_t)syscall(SYS_getpid), 0 };
    crs_park_lock_drop(&lock);
    int bad = write_all(fd, &h, sizeof h, 0) != 0 || write_all(fd, copy, sizeof copy, sizeof h) != 0;
    crs_park_lock_drop(&pass_lock);
    if (bad) {
        syscall(SYS_close, fd);
        return -1;
    }
    /* out of the way of a program that expects its lowest free numbers */
    struct rlimit rl;
    long top = 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < top)
        top = (long)rl.rlim_cur;
    int high = top - 40 > fd ? fcntl(fd, F_DUPFD, (int)(top - 40)) : -1;
    if (high >= 0) {
        syscall(SYS_close, fd);
        fd = high;
    }
    atomic_store(&passing, fd);
    return fd;
}

void crs_sysvipc_passed(int fd)
{
    atomic_compare_exchange_strong(&passing, &fd, -1);
    syscall(SYS_close, fd);
}

struct found { long fd[8]; int n; };

static long find_passed(long n, int dirfd, void *arg)
{
    struct found *f = arg;
    char name[24], link[64];
    snprintf(name, sizeof name, "%ld", n);
    ssize_t l = readlinkat(dirfd, name, link, sizeof link - 1);
    if (l <= 0)
        return 0;
    link[l] = 0;
    if (strcmp(link, "/memfd:" PASS_NAME " (deleted)") != 0)
        return 0;
    f->fd[f->n++] = n;
    return f->n == 8;
}

/* Every such descriptor is closed; only notes this process passed on are
 * taken: a child that another thread forked while one thread was passing
 * its notes on inherited that descriptor, but those notes are not its own
 * (nor its parent's adjustments: the kernel gives a child none). */
void crs_sysvipc_take_over(void)
{
    struct found f = { .n = 0 };
    revive_proc_for_each_number("/proc/self/fd", find_passed, &f);
    int self = (int)syscall(SYS_getpid), taken = 0;
    for (int i = 0; i < f.n; i++) {
        struct passed h;
        if (!taken && pread((int)f.fd[i], &h, sizeof h, 0) == (ssize_t)sizeof h &&
            memcmp(h.magic, PASS_MAGIC, 8) == 0 && h.size == sizeof notes && h.pid == self) {
            if (pread((int)f.fd[i], notes, sizeof notes, sizeof h) == (ssize_t)sizeof notes) {
                notes_overflow = h.overflow;
                taken = 1;
            } else {
                memset(notes, 0, sizeof notes);   /* cut short */
            }
        }
        syscall(SYS_close, (int)f.fd[i]);
    }
}

const struct crs_sysvipc_note *crs_sysvipc_note_at(int i)
{
    if (i == CRS_SYSVIPC_NOTES_MAX && notes_overflow) {
        static const struct crs_sysvipc_note over = { .kind = -1 };
        return &over;   /* the capture refuses: more than the notes hold */
    }
    return i >= 0 && i < CRS_SYSVIPC_NOTES_MAX ? &notes[i] : NULL;
}
