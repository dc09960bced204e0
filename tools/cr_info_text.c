/*
 * cr_info: an image as text. A printer per section kind, named by the TEXT
 * column of src/crs/base/image_sections.def, and print_text, which walks that
 * list between the header facts and the totals. The names and counts it shares
 * with the JSON printer are in cr_info_names.c.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <netinet/in.h>
#include <time.h>

#include "crs/base/image.h"
#include "crs/base/sockopts.h"

#include "cr_info_names.h"
#include "cr_info_print.h"

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
    /* setitimer's timers (newuser10 F7: not shown, while POSIX timers were) */
    static const char *const itimer[3] = { "ITIMER_REAL", "ITIMER_VIRTUAL", "ITIMER_PROF" };
    for (int i = 0; i < 3; i++) {
        const struct crs_itimer_rec *t = &p->itimers[i];
        if (!t->value_us && !t->interval_us)
            continue;
        printf("  %s: ", itimer[i]);
        if (t->value_us)
            printf("%.6f s left", (double)t->value_us / 1e6);
        else if (i == 0 && ((p->shared_pending >> (SIGALRM - 1)) & 1))
            printf("its SIGALRM pending (armed again at restart for one interval)");
        else
            printf("stopped");
        if (t->interval_us)
            printf(", every %.6f s", (double)t->interval_us / 1e6);
        printf("\n");
    }
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

/* " [2048 KiB pages, hugepage, dontfork]" for a region with advice or huge pages, else "". */
static void region_extras(const struct crs_rec_region *r, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = 0;
    if (!r->madvise && !r->page_shift && !(r->flags & (CRS_REGION_F_SHM_RDONLY | CRS_REGION_F_SAVED)))
        return;
    n += (size_t)snprintf(out + n, cap - n, " [");
    if (r->flags & CRS_REGION_F_SHM_RDONLY)
        n += (size_t)snprintf(out + n, cap - n, "SHM_RDONLY");
    if (r->flags & CRS_REGION_F_SAVED)   /* --save-shared: written back into the file at restart */
        n += (size_t)snprintf(out + n, cap - n, "saved");
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

/* A System V segment's own words: id, key, mode, removed. */
static void text_sysv(const struct crs_rec_fobj *f)
{
    if (f->kind != CRS_FOBJ_SYSV)
        return;
    printf("      System V shared memory: id %" PRIu64 ", key 0x%08" PRIx32 "%s, mode %03" PRIo32 "%s\n", f->ino,
           (uint32_t)f->sysv_key, f->sysv_key ? "" : " (IPC_PRIVATE)", f->sysv_mode,
           (f->flags & CRS_FOBJ_F_REMOVED) ? ", marked removed (IPC_RMID) while attached" : "");
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

static void text_timers(const struct crs_image *img)
{
    printf("timers: %zu\n", img->ntimers);
    for (size_t i = 0; i < img->ntimers; i++) {
        const struct crs_rec_timer *t = &img->timers[i];
        char sig[32] = "";
        if (t->notify != SIGEV_NONE)
            signal_name(t->signo, sig, sizeof(sig));
        /* The program's SIGEV_THREAD timers signal libcr's helper with glibc's reserved signal
         * 32, which no program can use (src/crs/libcr/timers.c): said as what the program made,
         * not "thread-signal SIG32" (newuser10 L2) */
        if (t->notify == (SIGEV_SIGNAL | SIGEV_THREAD_ID) && t->signo == 32)
            printf("  id %" PRId32 " clock %" PRId32 " notify thread (SIGEV_THREAD: each expiry starts the "
                   "program's callback in a new thread; libcr's helper thread, tid %" PRId32 ", takes its signal 32)",
                   t->id, t->clock, t->tid);
        else
            printf("  id %" PRId32 " clock %" PRId32 " notify %s%s%s", t->id, t->clock, notify_name(t->notify),
                   sig[0] ? " " : "", sig);
        if (t->notify == (SIGEV_SIGNAL | SIGEV_THREAD_ID) && t->signo != 32)
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

static void text_sockets(const struct crs_image *img)
{
    printf("sockets: %zu\n", img->nsockets);
    for (size_t i = 0; i < img->nsockets; i++) {
        const struct crs_rec_socket *s = &img->sockets[i];
        char l[160], r[160];
        addr_str(s->local, s->local_len, l, sizeof(l));
        addr_str(s->remote, s->remote_len, r, sizeof(r));
        printf("  %zu: %-14s %-9s %s", i, sock_type_name(s), sock_state_name(s->state), l);
        if (s->type == SOCK_RAW)
            printf(" protocol %" PRId32, s->protocol);
        if (s->state == CRS_SOCK_CONNECTED)
            printf(" -> %s (socket %" PRId32 "%s)", r, s->peer,
                   s->flags & CRS_SOCK_F_PAIR       ? ", a socketpair"
                   : s->flags & CRS_SOCK_F_ACCEPTED ? ", accepted"
                   : s->flags & CRS_SOCK_F_PENDING  ? ", not accepted yet" : "");
        else if (s->family != AF_UNIX && (s->type == SOCK_DGRAM || s->type == SOCK_RAW) &&
                 s->remote_len > sizeof(sa_family_t))
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
    size_t groups = 0;
    for (size_t i = 0; i < img->nmcasts; i++)
        groups += img->mcasts[i].fmode != CRS_MCAST_OUTIF;
    printf("multicast groups joined: %zu\n", groups);
    for (size_t i = 0; i < img->nmcasts; i++) {
        const struct crs_rec_mcast *m = &img->mcasts[i];
        char g[INET6_ADDRSTRLEN] = "?", src[512];
        if (m->fmode == CRS_MCAST_OUTIF) {
            uint32_t a4;
            memcpy(&a4, m->group, 4);
            int from = m->family == AF_INET && a4;   /* the address given with the index */
            inet_ntop(m->family, m->group, g, sizeof g);
            printf("  socket %" PRIu32 ": sends multicast through %s (index %" PRId32 ", %s%s%s)\n", m->socket,
                   m->ifname, m->ifindex, m->family == AF_INET ? "IP_MULTICAST_IF" : "IPV6_MULTICAST_IF",
                   from ? ", from " : "", from ? g : "");
            continue;
        }
        inet_ntop(m->family, m->group, g, sizeof g);
        mcast_sources(img, m, src, sizeof src);
        printf("  socket %" PRIu32 ": %s on %s (index %" PRId32 "), %s\n", m->socket, g, m->ifname, m->ifindex, src);
    }
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

void print_text(const struct crs_image *img, const char *path, bool verified)
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
