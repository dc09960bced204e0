/*
 * cr_info --json: an image as one JSON object. A record printer per section
 * kind, named by the JSON column of src/crs/base/image_sections.def (a record
 * given no field is left out), and print_json, which walks that list between
 * the header and the totals. The writer of the JSON itself is cr_info_json.c;
 * the names and counts shared with the text printer are in cr_info_names.c.
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
#include <netinet/in.h>

#include "crs/base/image.h"
#include "crs/base/sockopts.h"

#include "cr_info_json.h"
#include "cr_info_names.h"
#include "cr_info_print.h"

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
    /* setitimer's timers, those armed or with an interval (newuser10 F7) */
    static const char *const itimer[3][2] = { { "itimer_real_value_us", "itimer_real_interval_us" },
                                              { "itimer_virtual_value_us", "itimer_virtual_interval_us" },
                                              { "itimer_prof_value_us", "itimer_prof_interval_us" } };
    for (int k = 0; k < 3; k++)
        if (p->itimers[k].value_us || p->itimers[k].interval_us) {
            ju64(itimer[k][0], (uint64_t)p->itimers[k].value_us, o);
            ju64(itimer[k][1], (uint64_t)p->itimers[k].interval_us, o);
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
    if (r->flags & CRS_REGION_F_SAVED)
        jbool("saved", 1, o);
    if ((r->flags & CRS_REGION_F_SAVED) && r->saved_ns) /* when its pages were read (0: not said) */
        ju64("saved_ns", r->saved_ns, o);
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
    if (s->type == SOCK_RAW)
        ji64("protocol", s->protocol, o);
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
    if (m->fmode == CRS_MCAST_OUTIF) {
        /* no group: the interface the socket sends its multicast through, and the address given with
         * it (IPv4) */
        jstrk("outgoing_interface", m->ifname, o);
        ji64("interface_index", m->ifindex, o);
        jstrk("option", m->family == AF_INET ? "IP_MULTICAST_IF" : "IPV6_MULTICAST_IF", o);
        if (m->family == AF_INET)
            jstrk("address", g, o);
        return;
    }
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

void print_json(const struct crs_image *img, const char *path, bool verified)
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
