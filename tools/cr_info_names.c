/*
 * cr_info: the names and counts both of its printers use (cr_info_text.c and
 * cr_info_json_image.c), so that the text and the JSON of an image say the
 * same thing in the same words: a region's kind and protection, a descriptor's
 * kind, a signal's name, an address, the bytes stored for a range, and the like.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>

#include "crs/base/sockaddr_text.h"
#include "crs/base/sockopts.h"

#include "cr_info_names.h"

const char *kind_name(uint32_t kind)
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

const char *fd_kind_name(uint32_t kind)
{
    static const char *const names[] = { "?", "regular", "directory", "chardev",
                                         "inherit", "memfd", "closed", "pipe", "inherited",
                                         "saved-file", "eventfd", "timerfd", "signalfd", "epoll",
                                         "inotify", "socket", "pidfd" };
    return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

/* "rwxp" as /proc/PID/maps shows it; shared kinds get 's'. */
void prot_str(const struct crs_rec_region *r, char out[5])
{
    out[0] = r->prot & 1 ? 'r' : '-';
    out[1] = r->prot & 2 ? 'w' : '-';
    out[2] = r->prot & 4 ? 'x' : '-';
    out[3] = r->kind == CRS_REGION_FILE_SHARED || r->kind == CRS_REGION_SHMEM || r->kind == CRS_REGION_FOBJ
                 ? 's' : 'p';
    out[4] = '\0';
}

void signal_name(int sig, char *buf, size_t len)
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
uint64_t bytes_stored(const struct crs_image *img, uint64_t start, uint64_t end)
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

struct totals totals_of(const struct crs_image *img)
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

/* "0-3,8" for the CPUs an affinity mask holds. */
void cpu_list(const struct crs_rec_thread_attr *a, char *out, size_t cap)
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

const char *const madv_names[] = { "hugepage", "nohugepage", "dontfork", "dontdump",
                                         "wipeonfork", "mergeable", "sequential", "random" };

const char *fobj_kind_name(uint32_t kind)
{
    return kind == CRS_FOBJ_DELETED ? "deleted" : kind == CRS_FOBJ_SHM ? "shm" : kind == CRS_FOBJ_MEMFD ? "memfd"
           : kind == CRS_FOBJ_SYSV ? "sysv" : "?";
}

uint64_t fobj_stored(const struct crs_image *img, const struct crs_rec_fobj *f)
{
    uint64_t n = 0;
    for (uint32_t k = 0; k < f->nextents; k++)
        n += img->fextents[f->first_extent + k].length;
    return n;
}

const char *notify_name(int32_t notify)
{
    return notify == SIGEV_NONE ? "none" : notify == SIGEV_SIGNAL ? "signal"
         : notify == (SIGEV_SIGNAL | SIGEV_THREAD_ID) ? "thread-signal" : "?";
}

const char *lock_kind_name(uint32_t kind)
{
    return kind == CRS_LOCK_POSIX ? "fcntl" : kind == CRS_LOCK_OFD ? "ofd" : kind == CRS_LOCK_FLOCK ? "flock" : "?";
}

const char *lock_fd_path(const struct crs_image *img, int32_t fd)
{
    for (size_t i = 0; i < img->nfds; i++)
        if (img->fds[i].fd == fd)
            return crs_image_str(img, img->fds[i].path);
    return "?";
}

/* The descriptors of kernel object i (the first one for text). */
int32_t kfd_fd(const struct crs_image *img, size_t i)
{
    for (size_t k = 0; k < img->nfds; k++)
        if (img->fds[k].kind >= CRS_FD_EVENTFD && img->fds[k].kind <= CRS_FD_INOTIFY &&
            img->fds[k].memfd == (int32_t)i && img->fds[k].dup_of < 0)
            return img->fds[k].fd;
    return -1;
}

/* The EPOLLVIA record of epoll watch `target`, if its number was closed since. */
const struct crs_rec_epoll_via *epoll_via(const struct crs_image *img, size_t target)
{
    for (size_t i = 0; i < img->nepoll_vias; i++)
        if (img->epoll_vias[i].target == target)
            return &img->epoll_vias[i];
    return NULL;
}

/* An address as text, as the capture's and the restore's messages name it
 * (crs/base/sockaddr_text.h: a path, @abstract, 1.2.3.4:80, [::1]:80), "-" for none. */
void addr_str(const uint8_t *a, uint32_t len, char *out, size_t cap)
{
    if (len <= sizeof(sa_family_t)) {
        snprintf(out, cap, "-");
        return;
    }
    struct sockaddr_storage ss;   /* the image's bytes, aligned */
    memset(&ss, 0, sizeof(ss));
    memcpy(&ss, a, len < sizeof(ss) ? len : sizeof(ss));
    crs_sockaddr_text(&ss, len < sizeof(ss) ? len : (uint32_t)sizeof(ss), out, cap);
}

const char *sock_state_name(uint32_t st)
{
    static const char *const names[] = { "?", "unbound", "bound", "listening", "connected" };
    return st < sizeof(names) / sizeof(names[0]) ? names[st] : "?";
}

const char *sock_type_name(const struct crs_rec_socket *s)
{
    if (s->family == AF_UNIX)
        return s->type == SOCK_STREAM ? "unix-stream" : s->type == SOCK_DGRAM ? "unix-dgram" : "unix-seqpacket";
    if (s->type == SOCK_STREAM)
        return s->family == AF_INET6 ? "tcp6" : "tcp";
    if (s->type == SOCK_RAW)
        return s->family == AF_INET6 ? "raw6" : "raw";
    if (s->protocol == IPPROTO_ICMP || s->protocol == IPPROTO_ICMPV6)
        return s->family == AF_INET6 ? "ping6" : "ping";
    return s->family == AF_INET6 ? "udp6" : "udp";
}

/* The option's name as its setsockopt(2) constant, or its level and number. */
const char *sockopt_name(const struct crs_rec_sockopt *o, char *buf, size_t cap)
{
    const struct crs_sockopt_desc *d = crs_sockopt_find(o->level, o->name);
    if (d)
        return d->label;
    snprintf(buf, cap, "level %" PRId32 " option %" PRId32, o->level, o->name);
    return buf;
}

const char *fdown_text(const struct crs_rec_fdown *o, char *buf, size_t cap)
{
    static const char *const whom[] = { "nobody", "the process", "thread", "its process group", "process" };
    const char *kind = o->who <= CRS_FDOWN_OTHER ? whom[o->who] : "?";
    if (o->who == CRS_FDOWN_THREAD || o->who == CRS_FDOWN_OTHER)
        snprintf(buf, cap, "%s %" PRId32 "%s", kind, o->id, o->type == 2 ? " (a group)" : "");
    else
        snprintf(buf, cap, "%s", kind);
    return buf;
}

struct qsig qsig_of(const struct crs_rec_siginfo *q)
{
    siginfo_t si;
    memcpy(&si, q->info, sizeof si < sizeof q->info ? sizeof si : sizeof q->info);
    return (struct qsig){ si.si_signo, si.si_code, (int)si.si_pid, (int)si.si_uid, si.si_int };
}

const char *si_code_name(int code)
{
    return code == SI_QUEUE ? "SI_QUEUE" : code == SI_USER ? "SI_USER" : code == SI_TKILL ? "SI_TKILL"
         : code == SI_TIMER ? "SI_TIMER" : code == SI_MESGQ ? "SI_MESGQ" : code == SI_ASYNCIO ? "SI_ASYNCIO"
         : code == SI_SIGIO ? "SI_SIGIO" : code > 0 ? "kernel" : "?";
}
