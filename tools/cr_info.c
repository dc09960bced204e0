/*
 * cr_info: says what a Revive process image holds.
 *
 *   cr_info [--json] [--verify] FILE
 *
 * Prints the header facts, the process, its threads, memory regions (with the
 * bytes stored for each), files referenced, descriptors, signal handlers set,
 * extensions (owner, size, checksum; only when the image has any) and totals;
 * --json prints the same as one JSON object; --verify also reads every chunk
 * and checks its checksum. Exit status: 0 valid, 1 invalid (the reason on
 * stderr), 2 usage.
 *
 * The sections are printed by walking src/crs/base/image_sections.def: each
 * row names its text printer and its JSON record printer below; the JSON
 * writer is cr_info_json.c, a process tree file's table cr_info_tree.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <time.h>

#include "crs/base/image.h"
#include "crs/base/sockopts.h"
#include "crs/base/tree.h"
#include <unistd.h>

#include "cr_info_json.h"
#include "cr_info_tree.h"

static const char *kind_name(uint32_t kind)
{
    switch (kind) {
    case CRS_REGION_ANON: return "anon";
    case CRS_REGION_FILE: return "file";
    case CRS_REGION_FILE_SHARED: return "file-shared";
    case CRS_REGION_SHMEM: return "shmem";
    case CRS_REGION_VDSO: return "vdso";
    case CRS_REGION_FOBJ: return "saved-file";
    default: return "?";
    }
}

static const char *fd_kind_name(uint32_t kind)
{
    static const char *const names[] = { "?", "regular", "directory", "chardev",
                                         "inherit", "memfd", "closed", "pipe", "inherited",
                                         "saved-file", "eventfd", "timerfd", "signalfd", "epoll",
                                         "inotify", "socket", "pidfd" };
    return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

/* "rwxp" as /proc/PID/maps shows it; shared kinds get 's'. */
static void prot_str(const struct crs_rec_region *r, char out[5])
{
    out[0] = r->prot & 1 ? 'r' : '-';
    out[1] = r->prot & 2 ? 'w' : '-';
    out[2] = r->prot & 4 ? 'x' : '-';
    out[3] = r->kind == CRS_REGION_FILE_SHARED || r->kind == CRS_REGION_SHMEM || r->kind == CRS_REGION_FOBJ
                 ? 's' : 'p';
    out[4] = '\0';
}

static void signal_name(int sig, char *buf, size_t len)
{
    const char *abbrev = sigabbrev_np(sig);
    if (abbrev)
        snprintf(buf, len, "SIG%s", abbrev);
    else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
        snprintf(buf, len, "SIGRTMIN+%d", sig - SIGRTMIN);
    else
        snprintf(buf, len, "SIG%d", sig);
}

/* Bytes of page data stored for [start, end) (both lists are ascending). */
static uint64_t bytes_stored(const struct crs_image *img, uint64_t start, uint64_t end)
{
    uint64_t n = 0;
    for (size_t i = 0; i < img->nchunks; i++) {
        uint64_t a = img->chunks[i].vaddr, b = a + img->chunks[i].length;
        if (b <= start)
            continue;
        if (a >= end)
            break;
        n += (b < end ? b : end) - (a > start ? a : start);
    }
    return n;
}

struct totals {
    uint64_t mapped, raw, disk;
    size_t handlers;
};

static struct totals totals_of(const struct crs_image *img)
{
    struct totals t = { 0, 0, 0, 0 };
    for (size_t i = 0; i < img->nregions; i++)
        t.mapped += img->regions[i].end - img->regions[i].start;
    for (size_t i = 0; i < img->nchunks; i++) {
        t.raw += img->chunks[i].length;
        t.disk += img->chunks[i].stored_length;
    }
    for (size_t i = 0; i < img->nsigactions; i++)
        t.handlers += img->sigactions[i].handler != 0;
    return t;
}

/* ---------------- text ---------------- */

static void text_process(const struct crs_image *img)
{
    const struct crs_rec_process *p = img->process;
    printf("process %" PRId32 "\n", p->pid);
    printf("  ppid %" PRId32 ", pgid %" PRId32 ", sid %" PRId32 ", uid %" PRIu32 ", gid %" PRIu32
           ", umask %04" PRIo32 "\n", p->ppid, p->pgid, p->sid, p->uid, p->gid, p->umask);
    printf("  exe:      %s\n", crs_image_str(img, p->exe));
    printf("  cwd:      %s\n", crs_image_str(img, p->cwd));
    printf("  cmdline:  %s\n", crs_image_str(img, p->cmdline));
    printf("  brk:      0x%" PRIx64 "-0x%" PRIx64 "\n", p->start_brk, p->brk);
    if (p->personality || (p->flags & CRS_PROC_F_NODUMP))
        printf("  personality %#" PRIx32 "%s\n", p->personality,
               (p->flags & CRS_PROC_F_NODUMP) ? ", not dumpable" : "");
    if (p->flags & CRS_PROC_F_CAPSET)
        printf("  capabilities: effective %#" PRIx64 ", permitted %#" PRIx64 ", inheritable %#" PRIx64
               ", ambient %#" PRIx64 ", bounding %#" PRIx64 " (%s)\n", p->cap_eff, p->cap_prm, p->cap_inh,
               p->cap_amb, p->cap_bnd, img->nthread_caps ? "the main thread's; other threads' below" : "every thread");
    else if (p->flags & CRS_PROC_F_CAPS)
        printf("  capabilities: effective %#" PRIx64 ", permitted %#" PRIx64 ", inheritable %#" PRIx64
               " (the main thread's)\n", p->cap_eff, p->cap_prm, p->cap_inh);
}

static void text_threads(const struct crs_image *img)
{
    printf("threads: %zu\n", img->nthreads);
    for (size_t i = 0; i < img->nthreads; i++) {
        const struct crs_rec_thread *th = &img->threads[i];
        printf("  tid %" PRId32 "%s%s", th->tid, th->flags & CRS_THREAD_F_MAIN ? " (main)" : "",
               th->flags & CRS_THREAD_F_MANAGER ? " (manager)" : "");
        if (th->flags & CRS_THREAD_F_SECUREBITS)
            printf(", securebits 0x%" PRIx32, th->securebits);
        printf("\n");
    }
}

/* Threads with capability sets of their own (the process's are in its record). */
static void text_thread_caps(const struct crs_image *img)
{
    printf("threads with capabilities of their own: %zu\n", img->nthread_caps);
    for (size_t i = 0; i < img->nthread_caps; i++) {
        const struct crs_rec_thread_caps *k = &img->thread_caps[i];
        printf("  tid %" PRId32 ": effective %#" PRIx64 ", permitted %#" PRIx64 ", inheritable %#" PRIx64
               ", ambient %#" PRIx64 ", bounding %#" PRIx64 "\n", k->tid, k->eff, k->prm, k->inh, k->amb, k->bnd);
    }
}

/* "0-3,8" for the CPUs an affinity mask holds. */
static void cpu_list(const struct crs_rec_thread_attr *a, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = 0;
    for (unsigned c = 0; c < CRS_TATTR_CPUS_MAX && n + 24 < cap; c++) {
        if (!((a->cpus[c / 64] >> (c % 64)) & 1))
            continue;
        unsigned e = c;
        while (e + 1 < CRS_TATTR_CPUS_MAX && ((a->cpus[(e + 1) / 64] >> ((e + 1) % 64)) & 1))
            e++;
        n += (size_t)snprintf(out + n, cap - n, e > c ? "%s%u-%u" : "%s%u", n ? "," : "", c, e);
        c = e;
    }
}

/* Each thread's attributes the program changed (the others are the launcher's). */
static void text_thread_attrs(const struct crs_image *img)
{
    printf("thread attributes the program changed:\n");
    for (size_t i = 0; i < img->nthread_attrs; i++) {
        const struct crs_rec_thread_attr *a = &img->thread_attrs[i];
        char cpus[256];
        printf("  tid %" PRId32 ":", a->tid);
        if (!a->flags && !a->seccomp)
            printf(" none");
        if (a->flags & CRS_TATTR_F_NICE)
            printf(" nice %" PRId32, a->nice);
        if (a->flags & CRS_TATTR_F_SCHED)
            printf(" policy %" PRIu32 "%s priority %" PRIu32, a->policy & 0xffu,
                   (a->policy & 0x40000000u) ? " (reset on fork)" : "", a->priority);
        if (a->flags & CRS_TATTR_F_AFFINITY) {
            cpu_list(a, cpus, sizeof cpus);
            printf(" cpus %s", cpus);
        }
        if (a->flags & CRS_TATTR_F_SLACK)
            printf(" timer-slack %" PRIu64 " ns", a->timerslack_ns);
        if (a->flags & CRS_TATTR_F_NNP)
            printf(" no_new_privs");
        if (a->flags & CRS_TATTR_F_PERSONALITY)
            printf(" personality %#" PRIx32, a->personality);
        if (a->seccomp)
            printf(" seccomp filters 0-%" PRIu32, a->seccomp - 1);
        printf("\n");
    }
}

/* The program's seccomp filters (those it inherited are not saved). */
static void text_seccomps(const struct crs_image *img)
{
    printf("seccomp filters the program installed: %zu (above %" PRIu32 " inherited from its launcher)\n",
           img->nseccomps, img->nseccomps ? img->seccomps[0].inherited : 0);
    for (size_t i = 0; i < img->nseccomps; i++) {
        const struct crs_rec_seccomp *s = &img->seccomps[i];
        size_t threads = 0;
        for (size_t t = 0; t < img->nthread_attrs; t++)
            threads += img->thread_attrs[t].seccomp > i;
        printf("  %zu: %" PRIu32 " instructions, flags %#" PRIx32 ", in %zu of %zu threads\n", i, s->len, s->flags,
               threads, img->nthreads);
    }
}

static const char *const madv_names[] = { "hugepage", "nohugepage", "dontfork", "dontdump",
                                         "wipeonfork", "mergeable", "sequential", "random" };

/* " [2048 KiB pages, hugepage, dontfork]" for a region with advice or huge pages, else "". */
static void region_extras(const struct crs_rec_region *r, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = 0;
    if (!r->madvise && !r->page_shift && !(r->flags & CRS_REGION_F_SHM_RDONLY))
        return;
    n += (size_t)snprintf(out + n, cap - n, " [");
    if (r->flags & CRS_REGION_F_SHM_RDONLY)
        n += (size_t)snprintf(out + n, cap - n, "SHM_RDONLY");
    if (r->page_shift && r->page_shift < 64)
        n += (size_t)snprintf(out + n, cap - n, "%s%llu KiB pages", n > 2 ? ", " : "",
                              (unsigned long long)(1ull << r->page_shift) >> 10);
    for (unsigned b = 0; b < 8 && n < cap; b++)
        if (r->madvise & (1u << b))
            n += (size_t)snprintf(out + n, cap - n, "%s%s", n > 2 ? ", " : "", madv_names[b]);
    if (n < cap)
        snprintf(out + n, cap - n, "]");
}

static void text_regions(const struct crs_image *img)
{
    printf("regions: %zu\n", img->nregions);
    for (size_t i = 0; i < img->nregions; i++) {
        const struct crs_rec_region *r = &img->regions[i];
        char prot[5];
        prot_str(r, prot);
        const char *name = crs_image_str(img, r->name);
        char extras[160];
        region_extras(r, extras, sizeof(extras));
        printf("  %016" PRIx64 "-%016" PRIx64 " %s %-11s %10" PRIu64 " stored%s%s%s\n", r->start,
               r->end, prot, kind_name(r->kind), bytes_stored(img, r->start, r->end),
               *name ? "  " : "", name, extras);
    }
}

static void text_files(const struct crs_image *img)
{
    printf("files: %zu\n", img->nfiles);
    for (size_t i = 0; i < img->nfiles; i++) {
        const struct crs_rec_file *f = &img->files[i];
        printf("  %s  dev %u:%u ino %" PRIu64 " size %" PRIu64 " mtime %" PRId64 " build-id ",
               crs_image_str(img, f->path), major(f->dev), minor(f->dev), f->ino, f->size,
               f->mtime_ns);
        for (uint32_t k = 0; k < f->build_id_len; k++)
            printf("%02x", f->build_id[k]);
        printf("%s\n", f->build_id_len ? "" : "none");
    }
}

static void text_memfds(const struct crs_image *img)
{
    printf("memfds: %zu\n", img->nmemfds);
    for (size_t i = 0; i < img->nmemfds; i++) {
        const struct crs_rec_memfd *m = &img->memfds[i];
        printf("  %zu: \"%s\" size %" PRIu64 " ino %" PRIu64 " seals 0x%" PRIx32, i,
               crs_image_str(img, m->name), m->size, m->ino, m->seals);
        if (m->page_shift && m->page_shift < 64)
            printf(" [%llu KiB pages]", (unsigned long long)(1ull << m->page_shift) >> 10);
        printf("\n");
    }
}

static void text_fds(const struct crs_image *img)
{
    printf("fds: %zu\n", img->nfds);
    for (size_t i = 0; i < img->nfds; i++) {
        const struct crs_rec_fd *f = &img->fds[i];
        printf("  %3" PRId32 " %-9s", f->fd, fd_kind_name(f->kind));
        if (f->path.length)
            printf(" %s", crs_image_str(img, f->path));
        if (f->offset >= 0)
            printf(" offset %" PRId64, f->offset);
        if (f->kind == CRS_FD_MEMFD)
            printf(" memfd %" PRId32, f->memfd);
        if (f->kind == CRS_FD_FOBJ)
            printf(" saved file %" PRId32, f->memfd);
        if (f->kind == CRS_FD_PIPE && (size_t)f->memfd < img->npipes)
            printf(" pipe %" PRId32 " (%s%" PRIu64 " bytes held)", f->memfd,
                   img->pipes[f->memfd].flags & CRS_PIPE_F_FIFO ? "a FIFO, reopened by its path; " : "",
                   img->pipes[f->memfd].data_length);
        if (f->kind == CRS_FD_CHARDEV && S_ISFIFO(f->mode))
            printf(" (a FIFO no writer had opened, reopened by its path)");
        if (f->kind == CRS_FD_PIDFD)
            printf(" of process %" PRId32, f->memfd);
        if (f->dup_of >= 0)
            printf(" shares its file with fd %" PRId32, f->dup_of);
        printf(" flags 0%" PRIo32 "%s", f->open_flags, f->fd_flags & FD_CLOEXEC ? " cloexec" : "");
        if (f->kind == CRS_FD_INHERITED)
            printf(" (from the launcher; at restart cr_restart's own descriptor %" PRId32
                   " if it has one of that type and access, else closed)", f->fd);
        printf("\n");
    }
}

static const char *fobj_kind_name(uint32_t kind)
{
    return kind == CRS_FOBJ_DELETED ? "deleted" : kind == CRS_FOBJ_SHM ? "shm" : kind == CRS_FOBJ_MEMFD ? "memfd"
           : kind == CRS_FOBJ_SYSV ? "sysv" : "?";
}

/* A System V segment's own words: id, key, mode, removed. */
static void text_sysv(const struct crs_rec_fobj *f)
{
    if (f->kind != CRS_FOBJ_SYSV)
        return;
    printf("      System V shared memory: id %" PRIu64 ", key 0x%08" PRIx32 "%s, mode %03" PRIo32 "%s\n", f->ino,
           (uint32_t)f->sysv_key, f->sysv_key ? "" : " (IPC_PRIVATE)", f->sysv_mode,
           (f->flags & CRS_FOBJ_F_REMOVED) ? ", marked removed (IPC_RMID) while attached" : "");
}

static uint64_t fobj_stored(const struct crs_image *img, const struct crs_rec_fobj *f)
{
    uint64_t n = 0;
    for (uint32_t k = 0; k < f->nextents; k++)
        n += img->fextents[f->first_extent + k].length;
    return n;
}

static void text_fobjs(const struct crs_image *img)
{
    printf("saved files: %zu (their bytes are in the image)\n", img->nfobjs);
    for (size_t i = 0; i < img->nfobjs; i++) {
        const struct crs_rec_fobj *f = &img->fobjs[i];
        if (f->flags & CRS_FOBJ_F_ELSEWHERE) {
            printf("  %zu: %-7s %s  size %" PRIu64 ", its bytes in another member's image of the tree; at restart "
                   "the one file the tree's members share\n", i, fobj_kind_name(f->kind), crs_image_str(img, f->path),
                   f->size);
            text_sysv(f);
            continue;
        }
        printf("  %zu: %-7s %s  size %" PRIu64 ", %" PRIu32 " extents, %" PRIu64 " bytes stored; at restart %s\n",
               i, fobj_kind_name(f->kind), crs_image_str(img, f->path), f->size, f->nextents, fobj_stored(img, f),
               f->kind == CRS_FOBJ_SHM     ? "written back under its name"
               : f->kind == CRS_FOBJ_MEMFD ? "written into the recreated memfd"
               : f->kind == CRS_FOBJ_SYSV  ? "a segment made again (its id and key when free), attached where it was"
                                           : "an unnamed file in its folder (else $TMPDIR, /tmp, memory)");
        text_sysv(f);
    }
}

static const char *notify_name(int32_t notify)
{
    return notify == SIGEV_NONE ? "none" : notify == SIGEV_SIGNAL ? "signal"
         : notify == (SIGEV_SIGNAL | SIGEV_THREAD_ID) ? "thread-signal" : "?";
}

static void text_timers(const struct crs_image *img)
{
    printf("timers: %zu\n", img->ntimers);
    for (size_t i = 0; i < img->ntimers; i++) {
        const struct crs_rec_timer *t = &img->timers[i];
        char sig[32] = "";
        if (t->notify != SIGEV_NONE)
            signal_name(t->signo, sig, sizeof(sig));
        printf("  id %" PRId32 " clock %" PRId32 " notify %s%s%s", t->id, t->clock, notify_name(t->notify),
               sig[0] ? " " : "", sig);
        if (t->notify == (SIGEV_SIGNAL | SIGEV_THREAD_ID))
            printf(" to tid %" PRId32, t->tid);
        if (t->value_ns)
            printf(", %.6f s left", (double)t->value_ns / 1e9);
        else
            printf(", disarmed");
        if (t->interval_ns)
            printf(", every %.6f s", (double)t->interval_ns / 1e9);
        if (t->pending)
            printf(", its signal pending (overrun %" PRIu64 ")", t->pending - 1);
        printf("\n");
    }
}

static const char *lock_kind_name(uint32_t kind)
{
    return kind == CRS_LOCK_POSIX ? "fcntl" : kind == CRS_LOCK_OFD ? "ofd" : kind == CRS_LOCK_FLOCK ? "flock" : "?";
}

static const char *lock_fd_path(const struct crs_image *img, int32_t fd)
{
    for (size_t i = 0; i < img->nfds; i++)
        if (img->fds[i].fd == fd)
            return crs_image_str(img, img->fds[i].path);
    return "?";
}

static void text_locks(const struct crs_image *img)
{
    printf("locks: %zu (taken again at restart)\n", img->nlocks);
    for (size_t i = 0; i < img->nlocks; i++) {
        const struct crs_rec_lock *l = &img->locks[i];
        printf("  fd %3" PRId32 " %-5s %-5s", l->fd, lock_kind_name(l->kind), l->type == F_WRLCK ? "write" : "read");
        if (l->kind != CRS_LOCK_FLOCK) {
            if (l->len)
                printf(" bytes %" PRId64 "-%" PRId64, l->start, l->start + l->len - 1);
            else
                printf(" bytes %" PRId64 "-end", l->start);
        }
        printf("  %s\n", lock_fd_path(img, l->fd));
    }
}

/* A semaphore set's value (or adjustment) k, a queue's message after `at`. */
static unsigned sysvipc_u16(const struct crs_image *img, const struct crs_rec_sysvipc *s, size_t k)
{
    uint16_t v;
    memcpy(&v, img->sysvipcdata + s->data + 2 * k, 2);
    return v;
}

static void text_sysvipcs(const struct crs_image *img)
{
    printf("System V semaphore sets and message queues: %zu (made again, under their ids and keys when free)\n",
           img->nsysvipcs);
    for (size_t i = 0; i < img->nsysvipcs; i++) {
        const struct crs_rec_sysvipc *s = &img->sysvipcs[i];
        int sem = s->kind == CRS_SYSVIPC_SEM;
        printf("  %s id %" PRId32 ", key 0x%08x%s, mode %03o, owner %u:%u, ", sem ? "semaphore set" : "message queue",
               s->id, (uint32_t)s->key, s->key ? "" : " (IPC_PRIVATE)", s->mode, s->uid, s->gid);
        if (!sem) {
            uint64_t bytes = 0, at = 0;
            for (uint32_t k = 0; k < s->count; k++) {
                uint64_t len;
                memcpy(&len, img->sysvipcdata + s->data + at + 8, 8);
                bytes += len;
                at += 16 + (len + 7) / 8 * 8;
            }
            printf("%" PRIu32 " messages, %" PRIu64 " bytes, msg_qbytes %" PRIu64 "\n", s->count, bytes, s->qbytes);
            continue;
        }
        printf("%" PRIu32 " semaphores: values", s->count);
        for (uint32_t k = 0; k < s->count && k < 16; k++)
            printf(" %u", sysvipc_u16(img, s, k));
        printf("%s", s->count > 16 ? " ..." : "");
        if (s->flags & CRS_SYSVIPC_F_UNDO) {
            printf(", adjustments (SEM_UNDO)");
            for (uint32_t k = 0; k < s->count && k < 16; k++)
                printf(" %d", (int16_t)sysvipc_u16(img, s, s->count + k));
            printf("%s", s->count > 16 ? " ..." : "");
        }
        printf("\n");
    }
}

/* The descriptors of kernel object i (the first one for text). */
static int32_t kfd_fd(const struct crs_image *img, size_t i)
{
    for (size_t k = 0; k < img->nfds; k++)
        if (img->fds[k].kind >= CRS_FD_EVENTFD && img->fds[k].kind <= CRS_FD_INOTIFY &&
            img->fds[k].memfd == (int32_t)i && img->fds[k].dup_of < 0)
            return img->fds[k].fd;
    return -1;
}


/* The EPOLLVIA record of epoll watch `target`, if its number was closed since. */
static const struct crs_rec_epoll_via *epoll_via(const struct crs_image *img, size_t target)
{
    for (size_t i = 0; i < img->nepoll_vias; i++)
        if (img->epoll_vias[i].target == target)
            return &img->epoll_vias[i];
    return NULL;
}

/* Whether edge-triggered watch `target` had its edge reported already (EPOLLEDGE). */
static int epoll_edge_consumed(const struct crs_image *img, size_t target)
{
    for (size_t i = 0; i < img->nepoll_edges; i++)
        if (img->epoll_edges[i].target == target)
            return 1;
    return 0;
}

static void text_kfds(const struct crs_image *img)
{
    printf("kernel objects: %zu\n", img->nkfds);
    for (size_t i = 0; i < img->nkfds; i++) {
        const struct crs_rec_kfd *k = &img->kfds[i];
        printf("  %zu: fd %" PRId32 " %-8s", i, kfd_fd(img, i), fd_kind_name(k->kind));
        switch (k->kind) {
        case CRS_FD_EVENTFD:
            printf(" count %" PRId64 "%s", k->a, k->flags ? " (semaphore)" : "");
            break;
        case CRS_FD_TIMERFD:
            /* A periodic timerfd whose expirations were not read shows no time left: the
             * kernel counts the ones since, and arms it again, when it is read. */
            printf(" clock %" PRId64, k->a);
            if (k->b)
                printf(", armed, %.6f s left", (double)k->b / 1e9);
            else if (k->c)
                printf(", armed, %s", k->d ? "its expirations since counted when it is read" : "expiring now");
            else
                printf(", disarmed");
            if (k->c)
                printf(", every %.6f s", (double)k->c / 1e9);
            printf(", %" PRId64 " expiration%s pending (unread)", k->d, k->d == 1 ? "" : "s");
            break;
        case CRS_FD_SIGNALFD:
            printf(" mask 0x%" PRIx64, (uint64_t)k->a);
            break;
        case CRS_FD_EPOLL:
            printf(" %" PRIu32 " watched:", k->count);
            for (uint32_t w = 0; w < k->count; w++) {
                const struct crs_rec_epoll_tgt *t = &img->epoll_tgts[k->first + w];
                printf(" fd %" PRId32 " (events 0x%" PRIx32 ", data 0x%" PRIx64, t->tfd, t->events, t->data);
                const struct crs_rec_epoll_via *v = epoll_via(img, k->first + w);
                if (v)
                    printf(", closed since: the file is fd %" PRId32, v->fd);
                if (epoll_edge_consumed(img, k->first + w))
                    printf(", edge consumed");
                printf(")");
            }
            break;
        case CRS_FD_INOTIFY:
            printf(" %" PRIu32 " watches:", k->count);
            for (uint32_t w = 0; w < k->count; w++) {
                const struct crs_rec_inwatch *x = &img->inwatches[k->first + w];
                printf(" %" PRId32 " %s (mask 0x%" PRIx32 ")", x->wd, crs_image_str(img, x->path), x->mask);
            }
            if (k->a > 0)   /* kept in the process's memory, read first after the restart */
                printf(", %" PRId64 " unread event%s (%" PRId64 " bytes) kept", k->a, k->a == 1 ? "" : "s", k->b);
            break;
        }
        printf("\n");
    }
}

/* An address as text: a path, @abstract, 1.2.3.4:80, [::1]:80, or "-". */
static void addr_str(const uint8_t *a, uint32_t len, char *out, size_t cap)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    memcpy(&ss, a, len < sizeof(ss) ? len : sizeof(ss));
    char ip[INET6_ADDRSTRLEN] = "?";
    if (len <= sizeof(sa_family_t)) {
        snprintf(out, cap, "-");
    } else if (ss.ss_family == AF_UNIX) {
        const struct sockaddr_un *u = (const struct sockaddr_un *)&ss;
        size_t n = len - offsetof(struct sockaddr_un, sun_path);
        if (n && u->sun_path[0] == 0)
            snprintf(out, cap, "@%.*s", (int)(n - 1), u->sun_path + 1);
        else
            snprintf(out, cap, "%.*s", (int)strnlen(u->sun_path, n), u->sun_path);
    } else if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
        snprintf(out, cap, "%s:%u", ip, ntohs(in->sin_port));
    } else if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in = (const struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &in->sin6_addr, ip, sizeof(ip));
        snprintf(out, cap, "[%s]:%u", ip, ntohs(in->sin6_port));
    } else {
        snprintf(out, cap, "family %u", ss.ss_family);
    }
}

static const char *sock_state_name(uint32_t st)
{
    static const char *const names[] = { "?", "unbound", "bound", "listening", "connected" };
    return st < sizeof(names) / sizeof(names[0]) ? names[st] : "?";
}

static const char *sock_type_name(const struct crs_rec_socket *s)
{
    if (s->family == AF_UNIX)
        return s->type == SOCK_STREAM ? "unix-stream" : s->type == SOCK_DGRAM ? "unix-dgram" : "unix-seqpacket";
    if (s->type == SOCK_STREAM)
        return s->family == AF_INET6 ? "tcp6" : "tcp";
    return s->family == AF_INET6 ? "udp6" : "udp";
}

static void text_sockets(const struct crs_image *img)
{
    printf("sockets: %zu\n", img->nsockets);
    for (size_t i = 0; i < img->nsockets; i++) {
        const struct crs_rec_socket *s = &img->sockets[i];
        char l[160], r[160];
        addr_str(s->local, s->local_len, l, sizeof(l));
        addr_str(s->remote, s->remote_len, r, sizeof(r));
        printf("  %zu: %-14s %-9s %s", i, sock_type_name(s), sock_state_name(s->state), l);
        if (s->state == CRS_SOCK_CONNECTED)
            printf(" -> %s (socket %" PRId32 "%s)", r, s->peer,
                   s->flags & CRS_SOCK_F_PAIR       ? ", a socketpair"
                   : s->flags & CRS_SOCK_F_ACCEPTED ? ", accepted"
                   : s->flags & CRS_SOCK_F_PENDING  ? ", not accepted yet" : "");
        else if (s->family != AF_UNIX && s->type == SOCK_DGRAM && s->remote_len > sizeof(sa_family_t))
            printf(" -> %s (connect(2)ed)", r);   /* UDP: where send(2) goes, and whom it hears */
        if (s->state == CRS_SOCK_LISTEN)
            printf(" backlog %" PRId32, s->backlog);
        if (s->data_length)
            printf(", %" PRIu64 " bytes queued%s", s->data_length,
                   s->flags & CRS_SOCK_F_SENDERS ? " in datagrams from sockets of the process"
                   : s->nmsgs                    ? " in messages" : "");
        printf("\n");
    }
}

/* The option's name as its setsockopt(2) constant, or its level and number. */
static const char *sockopt_name(const struct crs_rec_sockopt *o, char *buf, size_t cap)
{
    const struct crs_sockopt_desc *d = crs_sockopt_find(o->level, o->name);
    if (d)
        return d->label;
    snprintf(buf, cap, "level %" PRId32 " option %" PRId32, o->level, o->name);
    return buf;
}

static void text_sockopts(const struct crs_image *img)
{
    printf("socket options: %zu\n", img->nsockopts);
    for (size_t i = 0; i < img->nsockopts; i++) {
        const struct crs_rec_sockopt *o = &img->sockopts[i];
        char name[64], v[64];
        crs_sockopt_value_text(o, v, sizeof v);
        printf("  socket %" PRIu32 ": %s %s\n", o->socket, sockopt_name(o, name, sizeof name), v);
    }
}

/* A membership's source filter as text: "any source", "from A, B" or
 * "any source but A, B". */
static void mcast_sources(const struct crs_image *img, const struct crs_rec_mcast *m, char *out, size_t cap)
{
    size_t len = (size_t)snprintf(out, cap, "%s", m->fmode ? "from " : m->nsrc ? "any source but " : "any source");
    uint32_t k = 0;
    /* room kept for the tail saying how many there are when they do not all fit */
    for (; k < m->nsrc && len + INET6_ADDRSTRLEN + 40 < cap; k++) {
        char a[INET6_ADDRSTRLEN] = "?";
        inet_ntop(m->family, img->mcast_srcs[m->src_first + k].addr, a, sizeof a);
        len += (size_t)snprintf(out + len, cap - len, "%s%s", k ? ", " : "", a);
    }
    if (k < m->nsrc)
        snprintf(out + len, cap - len, ", ... (%" PRIu32 " sources in all; cr_info --json lists them)", m->nsrc);
}

static void text_mcasts(const struct crs_image *img)
{
    printf("multicast groups joined: %zu\n", img->nmcasts);
    for (size_t i = 0; i < img->nmcasts; i++) {
        const struct crs_rec_mcast *m = &img->mcasts[i];
        char g[INET6_ADDRSTRLEN] = "?", src[512];
        inet_ntop(m->family, m->group, g, sizeof g);
        mcast_sources(img, m, src, sizeof src);
        printf("  socket %" PRIu32 ": %s on %s (index %" PRId32 "), %s\n", m->socket, g, m->ifname, m->ifindex, src);
    }
}

static const char *fdown_text(const struct crs_rec_fdown *o, char *buf, size_t cap)
{
    static const char *const whom[] = { "nobody", "the process", "thread", "its process group", "process" };
    const char *kind = o->who <= CRS_FDOWN_OTHER ? whom[o->who] : "?";
    if (o->who == CRS_FDOWN_THREAD || o->who == CRS_FDOWN_OTHER)
        snprintf(buf, cap, "%s %" PRId32 "%s", kind, o->id, o->type == 2 ? " (a group)" : "");
    else
        snprintf(buf, cap, "%s", kind);
    return buf;
}

static void text_fdowns(const struct crs_image *img)
{
    printf("descriptors' I/O signal owners: %zu\n", img->nfdowns);
    for (size_t i = 0; i < img->nfdowns; i++) {
        const struct crs_rec_fdown *o = &img->fdowns[i];
        char who[64], sig[32];
        signal_name(o->sig ? (int)o->sig : SIGIO, sig, sizeof sig);
        printf("  %" PRId32 ": %s to %s\n", o->fd, sig, fdown_text(o, who, sizeof who));
    }
}

static void text_signals(const struct crs_image *img)
{
    printf("signal handlers set: %zu\n", totals_of(img).handlers);
    for (size_t i = 0; i < img->nsigactions; i++) {
        const struct crs_rec_sigaction *s = &img->sigactions[i];
        if (!s->handler)
            continue;
        char name[32];
        signal_name((int)i + 1, name, sizeof(name));
        if (s->handler == 1)
            printf("  %-10s ignored\n", name);
        else
            printf("  %-10s handler 0x%" PRIx64 " flags 0x%" PRIx64 " mask 0x%" PRIx64 "\n", name,
                   s->handler, s->flags, s->mask);
    }
}

/* A queued signal's siginfo fields, from the bytes the kernel gave. */
struct qsig { int signo, code, pid, uid; int64_t value; };

static struct qsig qsig_of(const struct crs_rec_siginfo *q)
{
    siginfo_t si;
    memcpy(&si, q->info, sizeof si < sizeof q->info ? sizeof si : sizeof q->info);
    return (struct qsig){ si.si_signo, si.si_code, (int)si.si_pid, (int)si.si_uid, si.si_int };
}

static const char *si_code_name(int code)
{
    return code == SI_QUEUE ? "SI_QUEUE" : code == SI_USER ? "SI_USER" : code == SI_TKILL ? "SI_TKILL"
         : code == SI_TIMER ? "SI_TIMER" : code == SI_MESGQ ? "SI_MESGQ" : code == SI_ASYNCIO ? "SI_ASYNCIO"
         : code == SI_SIGIO ? "SI_SIGIO" : code > 0 ? "kernel" : "?";
}

static void text_siginfos(const struct crs_image *img)
{
    printf("queued signals: %zu\n", img->nsiginfos);
    for (size_t i = 0; i < img->nsiginfos; i++) {
        struct qsig q = qsig_of(&img->siginfos[i]);
        char name[32];
        signal_name(q.signo, name, sizeof(name));
        printf("  %-10s %s (%d) from pid %d uid %d, value %" PRId64 "%s\n", name, si_code_name(q.code), q.code,
               q.pid, q.uid, q.value, img->siginfos[i].tid ? " (to a thread)" : "");
    }
}

static void text_creds(const struct crs_image *img)
{
    const uint32_t *c = img->creds;
    printf("credentials: uid %u euid %u suid %u, gid %u egid %u sgid %u, groups", c[0], c[1], c[2], c[3], c[4],
           c[5]);
    for (size_t i = CRS_CREDS_IDS; i < img->ncreds; i++)
        printf(" %u", c[i]);
    printf("%s\n", img->ncreds == CRS_CREDS_IDS ? " none" : "");
}

static void text_exts(const struct crs_image *img)
{
    printf("extensions: %zu\n", img->nexts);
    for (size_t i = 0; i < img->nexts; i++) {
        const struct crs_image_ext *x = &img->exts[i];
        printf("  %-15s %10zu bytes  checksum %016" PRIx64 "\n", x->owner, x->len, x->checksum);
    }
}

/* `absent`: a kind newer than version 1 that the image does not hold, left
 * out so that older images print as they always did. */
static void text_section(const struct crs_image *img, void (*text)(const struct crs_image *),
                         bool absent)
{
    if (text && !absent)
        text(img);
}

static void print_text(const struct crs_image *img, const char *path, bool verified)
{
    const struct crs_image_header *h = &img->hdr;
    struct totals t = totals_of(img);
    char when[64] = "?";
    time_t secs = (time_t)(h->created_ns / 1000000000u);
    struct tm tm;
    if (gmtime_r(&secs, &tm))
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);

    printf("image %s\n", path);
    printf("  format:   version %" PRIu32 ", %" PRIu64 " bytes, %" PRIu32 " sections, %s\n",
           h->version, h->image_size, h->section_count,
           h->flags & CRS_IMAGE_F_COMPRESSED ? "zstd-compressed chunks" : "uncompressed");
    printf("  created:  %s, pid %" PRId32 "\n", when, h->pid);
    printf("  host:     Linux %s %s, page size %" PRIu32 ", xfeatures 0x%" PRIx64
           ", xsave %" PRIu32 " bytes\n", h->kernel_release, h->machine, h->page_size,
           h->xfeatures, h->xsave_size);

    /* every section kind, in the order of image_sections.def */
#define CRS_SECTION(ID, SINCE, RECORD, MEMBER, COUNT, N, RULES, CHECK, LABEL, TEXT, JSON) \
    text_section(img, TEXT, SINCE > 1 && img->COUNT == 0);
#include "crs/base/image_sections.def"
#undef CRS_SECTION

    printf("totals: %zu regions mapping %" PRIu64 " bytes; %zu chunks holding %" PRIu64
           " bytes in %" PRIu64 " bytes on disk; image %" PRIu64 " bytes\n",
           img->nregions, t.mapped, img->nchunks, t.raw, t.disk, h->image_size);
    if (verified)
        printf("verify: all %zu chunks OK\n", img->nchunks);
}

/* ---------------- JSON ---------------- */

/* One record's fields per section kind (the JSON column of image_sections.def);
 * a record given no field is left out. */

static void json_process(const struct crs_image *img, const void *rec, size_t i, struct jobj *o)
{
    const struct crs_rec_process *p = rec;
    (void)i;
    ji64("pid", p->pid, o);
    ji64("ppid", p->ppid, o);
    ji64("pgid", p->pgid, o);
    ji64("sid", p->sid, o);
    ju64("uid", p->uid, o);
    ju64("gid", p->gid, o);
    ju64("umask", p->umask, o);
    if (p->personality)
        jhex("personality", p->personality, o);
    if (p->flags & CRS_PROC_F_NODUMP)
        jbool("dumpable", 0, o);
    ju64("thread_count", p->thread_count, o);
    jstrk("exe", crs_image_str(img, p->exe), o);
    jstrk("cwd", crs_image_str(img, p->cwd), o);
    jstrk("cmdline", crs_image_str(img, p->cmdline), o);
    jhex("start_brk", p->start_brk, o);
    jhex("brk", p->brk, o);
    if (p->flags & CRS_PROC_F_CAPS) {
        jhex("cap_effective", p->cap_eff, o);
        jhex("cap_permitted", p->cap_prm, o);
        jhex("cap_inheritable", p->cap_inh, o);
    }
    if (p->flags & CRS_PROC_F_CAPSET) {
        jhex("cap_ambient", p->cap_amb, o);
        jhex("cap_bounding", p->cap_bnd, o);
    }
}

static void json_thread(const struct crs_image *img, const void *rec, size_t i, struct jobj *o)
{
    const struct crs_rec_thread *t = rec;
    (void)img, (void)i;
    ji64("tid", t->tid, o);
    jbool("main", t->flags & CRS_THREAD_F_MAIN, o);
    jbool("manager", t->flags & CRS_THREAD_F_MANAGER, o);
    if (t->flags & CRS_THREAD_F_SECUREBITS)
        jhex("securebits", t->securebits, o);
}

static void json_thread_attr(const struct crs_image *img, const void *rec, size_t i, struct jobj *o)
{
    const struct crs_rec_thread_attr *a = rec;
    (void)img, (void)i;
    ji64("tid", a->tid, o);
    if (a->flags & CRS_TATTR_F_NICE)
        ji64("nice", a->nice, o);
    if (a->flags & CRS_TATTR_F_SCHED) {
        ju64("policy", a->policy & 0xffu, o);
        jbool("reset_on_fork", (a->policy & 0x40000000u) != 0, o);
        ju64("priority", a->priority, o);
    }
    if (a->flags & CRS_TATTR_F_AFFINITY) {
        char cpus[256];
        cpu_list(a, cpus, sizeof cpus);
        jstrk("cpus", cpus, o);
    }
    if (a->flags & CRS_TATTR_F_SLACK)
        ju64("timer_slack_ns", a->timerslack_ns, o);
    if (a->flags & CRS_TATTR_F_NNP)
        jbool("no_new_privs", 1, o);
    if (a->flags & CRS_TATTR_F_PERSONALITY)
        jhex("personality", a->personality, o);
    if (a->seccomp)
        ju64("seccomp_filters", a->seccomp, o);
}

static void json_seccomp(const struct crs_image *img, const void *rec, size_t i, struct jobj *o)
{
    const struct crs_rec_seccomp *s = rec;
    size_t threads = 0;
    for (size_t t = 0; t < img->nthread_attrs; t++)
        threads += img->thread_attrs[t].seccomp > i;
    ju64("instructions", s->len, o);
    jhex("flags", s->flags, o);
    ju64("inherited_below", s->inherited, o);
    ju64("threads", threads, o);
}

static void json_thread_caps(const struct crs_image *img, const void *rec, size_t i, struct jobj *o)
{
    const struct crs_rec_thread_caps *k = rec;
    (void)img, (void)i;
    ji64("tid", k->tid, o);
    jhex("cap_eff", k->eff, o);
    jhex("cap_prm", k->prm, o);
    jhex("cap_inh", k->inh, o);
    jhex("cap_amb", k->amb, o);
    jhex("cap_bnd", k->bnd, o);
}

static void json_region(const struct crs_image *img, const void *rec, size_t i, struct jobj *o)
{
    const struct crs_rec_region *r = rec;
    char prot[5];
    (void)i;
    prot_str(r, prot);
    jhex("start", r->start, o);
    jhex("end", r->end, o);
    jstrk("prot", prot, o);
    jstrk("kind", kind_name(r->kind), o);
    jstrk("name", crs_image_str(img, r->name), o);
    ji64("file", r->file, o);
    jhex("pgoff", r->pgoff, o);
    ju64("bytes_stored", bytes_stored(img, r->start, r->end), o);
    if (r->page_shift && r->page_shift < 64)
        ju64("page_size", 1ull << r->page_shift, o);
    if (r->madvise) {
        jkey("madvise", o);
        printf("[");
        for (unsigned b = 0, first = 1; b < 8; b++)
            if (r->madvise & (1u << b)) {
                printf("%s\"%s\"", first ? "" : ", ", madv_names[b]);
                first = 0;
            }
        printf("]");
    }
    if (r->flags & CRS_REGION_F_SHM_RDONLY)
        jbool("shm_rdonly", 1, o);
}

static void json_file(const struct crs_image *img, const void *rec, size_t i, struct jobj *o)
{
    const struct crs_rec_file *f = rec;
    char id[2 * CRS_BUILD_ID_MAX + 1] = "";
    (void)i;
    for (uint32_t k = 0; k < f->build_id_len; k++)
        sprintf(id + 2 * k, "%02x", f->build_id[k]);
    jstrk("path", crs_image_str(img, f->path), o);
    ju64("dev", f->dev, o);
    ju64("ino", f->ino, o);
    ju64("size", f->size, o);
    ji64("mtime_ns", f->mtime_ns, o);
    ju64("mode", f->mode, o);
    jstrk("build_id", id, o);
}

static void json_memfd(const struct crs_image *img, const void *rec, size_t i, struct jobj *o)
{
    const struct crs_rec_memfd *m = rec;
    (void)i;
    jstrk("name", crs_image_str(img, m->name), o);
    ju64("size", m->size, o);
    ju64("ino", m->ino, o);
    ju64("seals", m->seals, o);
    if (m->page_shift && m->page_shift < 64)
        ju64("page_size", 1ull << m->page_shift, o);
}

static void json_fd(const struct crs_image *img, const void *rec, size_t i, struct jobj *o)
{
    const struct crs_rec_fd *d = rec;
    (void)i;
    ji64("fd", d->fd, o);
    jstrk("kind", fd_kind_name(d->kind), o);
    jstrk("path", crs_image_str(img, d->path), o);
    ji64("offset", d->offset, o);
    ju64("open_flags", d->open_flags, o);
    jbool("cloexec", d->fd_flags & FD_CLOEXEC, o);
    ji64("memfd", d->memfd, o);
    if (d->kind == CRS_FD_PIDFD)
        ji64("pid", d->memfd, o);
    if (d->kind == CRS_FD_CHARDEV && S_ISFIFO(d->mode))
        jbool("fifo", true, o);
    /* not for version 1: its output is fixed (tests/crs/base/cr_info_v1.sh) */
    if (d->kind == CRS_FD_PIPE && img->hdr.version > 1 && (size_t)d->memfd < img->npipes) {
        jbool("fifo", img->pipes[d->memfd].flags & CRS_PIPE_F_FIFO, o);
        ju64("pipe_bytes", img->pipes[d->memfd].data_length, o);
    }
    if (d->kind == CRS_FD_INHERITED)
        jstrk("at_restart", "cr_restart's own descriptor of that number if it has one of that type and access, "
                            "else closed", o);
}

static void json_siginfo(const struct crs_image *img, const void *rec, size_t i, struct jobj *o)
{
    (void)img, (void)i;
    const struct crs_rec_siginfo *r = rec;
    struct qsig q = qsig_of(r);
    ji64("signal", q.signo, o);
    ji64("code", q.code, o);
    jstrk("code_name", si_code_name(q.code), o);
    ji64("pid", q.pid, o);
    ji64("uid", q.uid, o);
    ji64("value", q.value, o);
    ji64("tid", r->tid, o);
}

/* Signals whose handler is the default are left out. */
static void json_signal(const struct crs_image *img, const void *rec, size_t i, struct jobj *o)
{
    const struct crs_rec_sigaction *s = rec;
    (void)img;
    if (!s->handler)
        return;
    char name[32];
    signal_name((int)i + 1, name, sizeof(name));
    ju64("signal", i + 1, o);
    jstrk("name", name, o);
    if (s->handler == 1)
        jstrk("handler", "ignore", o);
    else
        jhex("handler", s->handler, o);
    jhex("flags", s->flags, o);
    jhex("mask", s->mask, o);
}

static void json_fobj(const struct crs_image *img, const void *rec, size_t i, struct jobj *o)
{
    const struct crs_rec_fobj *f = rec;
    (void)i;
    jstrk("kind", fobj_kind_name(f->kind), o);
    jstrk("path", crs_image_str(img, f->path), o);
    ju64("size", f->size, o);
    ju64("mode", f->mode, o);
    ju64("extents", f->nextents, o);
    ju64("bytes_stored", fobj_stored(img, f), o);
    jbool("bytes_elsewhere", (f->flags & CRS_FOBJ_F_ELSEWHERE) != 0, o);
    if (f->kind == CRS_FOBJ_SYSV) {
        ju64("sysv_id", f->ino, o);
        jhex("sysv_key", (uint32_t)f->sysv_key, o);
        ju64("sysv_mode", f->sysv_mode, o);
        jbool("sysv_removed", (f->flags & CRS_FOBJ_F_REMOVED) != 0, o);
    }
}

static void json_kfd(const struct crs_image *img, const void *rec, size_t i, struct jobj *o)
{
    const struct crs_rec_kfd *k = rec;
    ji64("fd", kfd_fd(img, i), o);
    jstrk("kind", fd_kind_name(k->kind), o);
    switch (k->kind) {
    case CRS_FD_EVENTFD:
        ji64("count", k->a, o);
        jbool("semaphore", k->flags != 0, o);
        break;
    case CRS_FD_TIMERFD:
        ji64("clock", k->a, o);
        jbool("armed", k->b || k->c, o);
        ji64("left_ns", k->b, o);
        ji64("interval_ns", k->c, o);
        ji64("expirations", k->d, o);
        break;
    case CRS_FD_SIGNALFD:
        jhex("mask", (uint64_t)k->a, o);
        break;
    case CRS_FD_EPOLL:
    case CRS_FD_INOTIFY:
        jkey("watches", o);
        printf("[");
        for (uint32_t w = 0; w < k->count; w++) {
            struct jobj x = { w ? ", {" : "{", false };
            if (k->kind == CRS_FD_EPOLL) {
                const struct crs_rec_epoll_tgt *t = &img->epoll_tgts[k->first + w];
                ji64("fd", t->tfd, &x);
                jhex("events", t->events, &x);
                jhex("data", t->data, &x);
                const struct crs_rec_epoll_via *v = epoll_via(img, k->first + w);
                if (v)
                    ji64("file_fd", v->fd, &x);   /* fd closed since; the file is held here */
            } else {
                const struct crs_rec_inwatch *t = &img->inwatches[k->first + w];
                ji64("wd", t->wd, &x);
                jhex("mask", t->mask, &x);
                jstrk("path", crs_image_str(img, t->path), &x);
            }
            printf("}");
        }
        printf("]");
        if (k->kind == CRS_FD_INOTIFY) {
            ji64("unread_events", k->a, o);
            ji64("unread_bytes", k->b, o);
        }
        break;
    }
}

static void json_socket(const struct crs_image *img, const void *rec, size_t i, struct jobj *o)
{
    const struct crs_rec_socket *s = rec;
    char a[160];
    (void)img, (void)i;
    jstrk("type", sock_type_name(s), o);
    jstrk("state", sock_state_name(s->state), o);
    addr_str(s->local, s->local_len, a, sizeof(a));
    jstrk("local", a, o);
    addr_str(s->remote, s->remote_len, a, sizeof(a));
    jstrk("remote", a, o);
    ji64("peer", s->peer, o);
    ji64("listener", s->listener, o);
    jhex("flags", s->flags, o);
    ju64("queued_bytes", s->data_length, o);
    ju64("queued_messages", s->nmsgs, o);
}

static void json_sockopt(const struct crs_image *img, const void *rec, size_t i, struct jobj *o)
{
    const struct crs_rec_sockopt *so = rec;
    char name[64], v[64];
    (void)img, (void)i;
    ju64("socket", so->socket, o);
    jstrk("option", sockopt_name(so, name, sizeof name), o);
    crs_sockopt_value_text(so, v, sizeof v);
    jstrk("value", v, o);
}

static void json_mcast(const struct crs_image *img, const void *rec, size_t i, struct jobj *o)
{
    const struct crs_rec_mcast *m = rec;
    char g[INET6_ADDRSTRLEN] = "?";
    (void)i;
    ju64("socket", m->socket, o);
    inet_ntop(m->family, m->group, g, sizeof g);
    jstrk("group", g, o);
    jstrk("interface", m->ifname, o);
    ji64("interface_index", m->ifindex, o);
    jstrk("filter", m->fmode ? "include" : "exclude", o);
    jkey("sources", o);
    putchar('[');
    for (uint32_t k = 0; k < m->nsrc; k++) {
        char a[INET6_ADDRSTRLEN] = "?";
        inet_ntop(m->family, img->mcast_srcs[m->src_first + k].addr, a, sizeof a);
        if (k)
            putchar(',');
        jstr(a);
    }
    putchar(']');
}

static void json_fdown(const struct crs_image *img, const void *rec, size_t i, struct jobj *o)
{
    const struct crs_rec_fdown *f = rec;
    char who[64];
    (void)img, (void)i;
    ji64("fd", f->fd, o);
    jstrk("owner", fdown_text(f, who, sizeof who), o);
    ju64("signal", f->sig ? f->sig : SIGIO, o);
}

static void json_lock(const struct crs_image *img, const void *rec, size_t i, struct jobj *o)
{
    const struct crs_rec_lock *l = rec;
    (void)i;
    ji64("fd", l->fd, o);
    jstrk("kind", lock_kind_name(l->kind), o);
    jstrk("type", l->type == F_WRLCK ? "write" : "read", o);
    ji64("start", l->start, o);
    ji64("len", l->len, o);
    jstrk("path", lock_fd_path(img, l->fd), o);
}

static void json_sysvipc(const struct crs_image *img, const void *rec, size_t i, struct jobj *o)
{
    const struct crs_rec_sysvipc *s = rec;
    (void)i;
    jstrk("kind", s->kind == CRS_SYSVIPC_SEM ? "semaphores" : "messages", o);
    ji64("id", s->id, o);
    jhex("key", (uint32_t)s->key, o);
    ju64("mode", s->mode, o);
    ju64("uid", s->uid, o);
    ju64("gid", s->gid, o);
    ju64("count", s->count, o);
    jbool("undo", (s->flags & CRS_SYSVIPC_F_UNDO) != 0, o);
    if (s->kind == CRS_SYSVIPC_MSG)
        ju64("qbytes", s->qbytes, o);
    (void)img;
}

static void json_timer(const struct crs_image *img, const void *rec, size_t i, struct jobj *o)
{
    const struct crs_rec_timer *t = rec;
    (void)img, (void)i;
    ji64("id", t->id, o);
    ji64("clock", t->clock, o);
    jstrk("notify", notify_name(t->notify), o);
    ji64("signal", t->signo, o);
    jhex("value", t->value, o);
    ji64("tid", t->tid, o);
    ji64("left_ns", t->value_ns, o);
    ji64("interval_ns", t->interval_ns, o);
    ji64("signal_pending", t->pending ? 1 : 0, o);
    ji64("overrun", t->pending ? (int64_t)(t->pending - 1) : 0, o);
}

static void json_ext(const struct crs_image *img, const void *rec, size_t i, struct jobj *o)
{
    const struct crs_image_ext *x = rec;
    (void)img, (void)i;
    jstrk("owner", x->owner, o);
    ju64("size", x->len, o);
    jhex("checksum", x->checksum, o);
}

typedef void json_record_fn(const struct crs_image *img, const void *rec, size_t i, struct jobj *o);

/* A section as "LABEL": one object for a kind of exactly one record, else an
 * array of the records' objects; nothing if `absent` (see text_section). */
static void json_section(const struct crs_image *img, const char *label, const void *records,
                         size_t count, size_t size, bool one, bool absent, json_record_fn *emit,
                         struct jobj *top)
{
    if (!emit || absent)
        return;
    jkey(label, top);
    if (one) {
        struct jobj o = { "{", false };
        emit(img, records, 0, &o);
        printf("%s}", o.opened ? "" : "{");
        return;
    }
    printf("[");
    bool any = false;
    for (size_t i = 0; i < count; i++) {
        struct jobj o = { any ? ", {" : "{", false };
        emit(img, (const char *)records + i * size, i, &o);
        if (o.opened) {
            printf("}");
            any = true;
        }
    }
    printf("]");
}

static void print_json(const struct crs_image *img, const char *path, bool verified)
{
    const struct crs_image_header *h = &img->hdr;
    struct totals t = totals_of(img);
    struct jobj top = { "{", false }, o = { "{", false };

    jstrk("file", path, &top);
    jkey("header", &top);
    ju64("version", h->version, &o);
    ju64("image_size", h->image_size, &o);
    ju64("sections", h->section_count, &o);
    jbool("compressed", h->flags & CRS_IMAGE_F_COMPRESSED, &o);
    ju64("created_ns", h->created_ns, &o);
    ji64("pid", h->pid, &o);
    jstrk("kernel_release", h->kernel_release, &o);
    jstrk("machine", h->machine, &o);
    ju64("page_size", h->page_size, &o);
    jhex("xfeatures", h->xfeatures, &o);
    ju64("xsave_size", h->xsave_size, &o);
    printf("}");

    /* every section kind, in the order of image_sections.def */
#define CRS_SECTION(ID, SINCE, RECORD, MEMBER, COUNT, N, RULES, CHECK, LABEL, TEXT, JSON) \
    json_section(img, LABEL, img->MEMBER, img->COUNT, sizeof(*img->MEMBER), N == 1,  \
                 SINCE > 1 && img->COUNT == 0, JSON, &top);
#include "crs/base/image_sections.def"
#undef CRS_SECTION

    jkey("totals", &top);
    o = (struct jobj){ "{", false };
    ju64("regions", img->nregions, &o);
    ju64("mapped_bytes", t.mapped, &o);
    ju64("chunks", img->nchunks, &o);
    ju64("stored_bytes", t.raw, &o);
    ju64("disk_bytes", t.disk, &o);
    ju64("signal_handlers", t.handlers, &o);
    ju64("image_size", h->image_size, &o);
    printf("}");
    jbool("verified", verified, &top);
    printf("}\n");
}

/* ---------------- process trees (crs/base/tree.h): the table in cr_info_tree.c ---------------- */

/* A tree file: its table, then each member's image as for one process. */
static int info_tree(int fd, const char *path, bool json, bool verify)
{
    struct crs_tree t;
    char err[512];
    if (crs_tree_read(fd, &t, err, sizeof err) != 0) {
        fprintf(stderr, "cr_info: %s: %s\n", path, err);
        return 1;
    }
    struct crs_image *imgs = calloc(t.hdr.nmembers, sizeof *imgs);
    int rc = imgs ? 0 : 1;
    for (uint32_t i = 0; i < t.hdr.nmembers && !rc; i++) {
        const struct crs_tree_member *m = &t.members[i];
        if (m->kind != CRS_TREE_PROCESS)
            continue;
        int mfd = dup(fd);
        char name[4200];
        snprintf(name, sizeof name, "%s (process %d)", path, (int)m->pid);
        if (mfd < 0 || lseek(mfd, (off_t)(t.base + m->image_offset), SEEK_SET) < 0) {
            fprintf(stderr, "cr_info: %s: %s\n", path, strerror(errno));
            if (mfd >= 0)
                close(mfd);
            rc = 1;
        } else if (crs_image_open_fd(&imgs[i], mfd, name) < 0) {   /* it closed mfd */
            fprintf(stderr, "cr_info: %s\n", imgs[i].err);
            rc = 1;
        } else if (verify && crs_image_verify_chunks(&imgs[i]) < 0) {
            fprintf(stderr, "cr_info: %s\n", imgs[i].err);
            rc = 1;
        }
    }
    if (!rc) {
        if (json)
            tree_json(&t, path);
        else
            tree_text(&t, path);
        int first = 1;
        for (uint32_t i = 0; i < t.hdr.nmembers; i++) {
            if (t.members[i].kind != CRS_TREE_PROCESS)
                continue;
            char name[4200];
            snprintf(name, sizeof name, "%s (process %d)", path, (int)t.members[i].pid);
            if (json) {
                printf("%s", first ? "" : ", ");
                print_json(&imgs[i], name, verify);
            } else {
                printf("\n");
                print_text(&imgs[i], name, verify);
            }
            first = 0;
        }
        if (json)
            printf("], \"verified\": %s}\n", verify ? "true" : "false");
    }
    for (uint32_t i = 0; imgs && i < t.hdr.nmembers; i++)
        if (t.members[i].kind == CRS_TREE_PROCESS && imgs[i].name)
            crs_image_close(&imgs[i]);
    free(imgs);
    crs_tree_free(&t);
    return rc;
}

static void usage(FILE *to)
{
    fprintf(to, "usage: cr_info [--json] [--verify] FILE\n"
                "  prints what a Revive process image holds; --json as JSON;\n"
                "  --verify also checks every chunk's checksum. Exit 0 valid, 1 invalid.\n");
}

int main(int argc, char **argv)
{
    bool json = false, verify = false;
    const char *path = NULL;
    bool opts = true; /* until "--" (getopt's convention: what follows is no option) */
    for (int i = 1; i < argc; i++) {
        if (opts && !strcmp(argv[i], "--"))
            opts = false;
        else if (!opts || argv[i][0] != '-' || !argv[i][1]) {
            if (path) {
                fprintf(stderr, "cr_info: one image at a time\n");
                usage(stderr);
                return 2;
            }
            path = argv[i];
        } else if (!strcmp(argv[i], "--json"))
            json = true;
        else if (!strcmp(argv[i], "--verify"))
            verify = true;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "cr_info: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!path) {
        usage(stderr);
        return 2;
    }

    int tfd = open(path, O_RDONLY | O_CLOEXEC);
    if (tfd >= 0 && crs_tree_is_tree(tfd) == 1) {
        int rc = info_tree(tfd, path, json, verify);
        close(tfd);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            perror("cr_info: writing the output");
            return 1;
        }
        return rc;
    }
    if (tfd >= 0)
        close(tfd);
    struct crs_image img;
    if (crs_image_open(&img, path) < 0) {
        fprintf(stderr, "cr_info: %s\n", img.err);
        return 1;
    }
    /* verify before printing, so that an invalid image prints nothing but the reason */
    if (verify && crs_image_verify_chunks(&img) < 0) {
        fprintf(stderr, "cr_info: %s\n", img.err);
        crs_image_close(&img);
        return 1;
    }
    if (json)
        print_json(&img, path, verify);
    else
        print_text(&img, path, verify);
    crs_image_close(&img);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("cr_info: writing the output");
        return 1;
    }
    return 0;
}
