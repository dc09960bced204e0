/* Refusing images that this machine cannot bring back faithfully. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "crs/uspace/restore.h"
#include "crs/base/image_files.h"
#include "crs/uspace/maps.h"
#include "common/log.h"
#include "common/procfs.h"

#include <errno.h>
#include <limits.h>
#include <link.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <fcntl.h>

struct extent_search { uint64_t addr, lo, hi; };

static int find_extent(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct extent_search *x = arg;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uint64_t s = info->dlpi_addr + ph->p_vaddr, e = s + ph->p_memsz;
        if (s < lo) lo = s;
        if (e > hi) hi = e;
    }
    if (x->addr < lo || x->addr >= hi)
        return 0;
    x->lo = lo & ~4095ull;
    x->hi = (hi + 4095) & ~4095ull;
    return 1;
}

void crs_restorer_extent(uint64_t *lo, uint64_t *hi)
{
    struct extent_search x = { (uint64_t)(uintptr_t)&crs_restorer_extent, 0, 0 };
    dl_iterate_phdr(find_extent, &x);
    *lo = x.lo;
    *hi = x.hi;
}

void crs_restore_error(struct crs_restore *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
    /* A restart's message begins with the image's name (restart.c: "NAME: ..."), and the image
     * reader's own (a damaged chunk) with "image NAME: " (image_reader_io.c): the name once,
     * not "f.img: image f.img: chunk 17 ..." (newuser10 L3) */
    const char *name = r->img ? r->img->name : NULL;
    size_t n = name ? strlen(name) : 0;
    if (n && !strncmp(r->err, "image ", 6) && !strncmp(r->err + 6, name, n) && !strncmp(r->err + 6 + n, ": ", 2))
        memmove(r->err, r->err + 8 + n, strlen(r->err + 8 + n) + 1);
}

static int check_host(struct crs_restore *r)
{
    const struct crs_image_header *h = &r->img->hdr;
    struct crs_image_header here;
    memset(&here, 0, sizeof here);
    crs_host_facts(&here);
    if (h->page_size != here.page_size) {
        crs_restore_error(r, "the image was taken with %u-byte pages, this machine uses %u", h->page_size,
                          here.page_size);
        return -EINVAL;
    }
    if (strcmp(h->machine, here.machine)) {
        crs_restore_error(r, "the image was taken on a %s machine, this is %s", h->machine, here.machine);
        return -EINVAL;
    }
    if (h->xfeatures & ~here.xfeatures) {
        crs_restore_error(r, "the image was taken on a CPU with state components 0x%llx that this CPU "
                          "lacks (XCR0 here 0x%llx); restart it on a machine with the same CPU features",
                          (unsigned long long)(h->xfeatures & ~here.xfeatures),
                          (unsigned long long)here.xfeatures);
        return -EINVAL;
    }
    if (strcmp(h->kernel_release, here.kernel_release) && !r->ignore_kernel) {
        crs_restore_error(r, "the image was taken under kernel %s, this is %s; restart it on a machine "
                          "with the same kernel, or pass --ignore-kernel to try anyway",
                          h->kernel_release, here.kernel_release);
        return -EINVAL;
    }
    return 0;
}

static int check_files(struct crs_restore *r)
{
    const struct crs_image *img = r->img;
    char *private_use = crs_image_private_files(img); /* code and data: must be the same */
    if (!private_use) {
        crs_restore_error(r, "out of memory");
        return -ENOMEM;
    }
    int e = 0;
    for (size_t i = 0; i < img->nfiles && !e; i++) {
        if (!private_use[i])
            continue;
        const char *path = crs_restore_path(r, crs_image_str(img, img->files[i].path));
        int gone, touched;
        const char *what = crs_image_file_changed(img, i, path, &gone, &touched);
        if (touched)   /* restart-mpi said so already, once: a rank only tells when asked */
            revive_log_info("%s has another modification time than at the checkpoint, but the same "
                            "size and build id: the same program (a copy put back), restored", path);
        if (gone) {
            crs_restore_error(r, "%s, mapped by the process, is missing: %s; put it back to restart%s", path,
                              strerror(gone), crs_restore_moved_hint(gone));
            e = -ENOENT;
        } else if (what) {
            crs_restore_error(r, "%s changed since the checkpoint (%s differs); the restarted process would "
                              "run different code. Restore the original file, or use an image taken after "
                              "the change", path, what);
            e = -ESTALE;
        }
    }
    free(private_use);
    return e;
}

static int check_layout(struct crs_restore *r)
{
    uint64_t lo, hi;
    crs_restorer_extent(&lo, &hi);
    for (size_t i = 0; i < r->img->nregions; i++) {
        const struct crs_rec_region *g = &r->img->regions[i];
        if (g->start < hi && g->end > lo) {
            crs_restore_error(r, "the image uses addresses 0x%llx-0x%llx where cr_restart itself lives; "
                              "this image cannot be restarted by this build of cr_restart",
                              (unsigned long long)g->start, (unsigned long long)g->end);
            return -EINVAL;
        }
    }
    return 0;
}

/* How many lines /proc/self/maps has now (-errno when it cannot be read). */
long crs_count_maps(void)
{
    char buf[CRS_MAPS_LINE_MAX];
    struct revive_maps_reader rd;
    struct revive_maps_entry m;
    int k = revive_maps_open(&rd, 0, 0, buf, sizeof buf);
    if (k < 0)
        return k;
    long n = 0;
    while ((k = revive_maps_next(&rd, &m)) == 1)
        n++;
    revive_maps_close(&rd);
    return k < 0 ? k : n;
}


void crs_restore_map_error(struct crs_restore *r, uint64_t start, uint64_t end, int err)
{
    long limit = crs_max_map_count(), now = crs_count_maps();
    unsigned shift = 0;
    for (size_t i = 0; i < r->img->nregions; i++)
        if (r->img->regions[i].start == start)
            shift = r->img->regions[i].page_shift;
    if (shift && (err == ENOMEM || err == EINVAL))
        crs_restore_error(r, "cannot map 0x%llx-0x%llx on %u KiB huge pages (MAP_HUGETLB, as the process had it): "
                          "%s; this machine has too few free huge pages of that size: raise vm.nr_hugepages (or "
                          "/sys/kernel/mm/hugepages/hugepages-%ukB/nr_hugepages) as root",
                          (unsigned long long)start, (unsigned long long)end, 1u << (shift - 10), strerror(err),
                          1u << (shift - 10));
    else if (err == ENOMEM && limit > 0 && now >= limit - 8)
        crs_restore_error(r, "cannot map 0x%llx-0x%llx: this process has %ld memory mappings, as many as "
                          "vm.max_map_count (%ld) allows; raise it as root (sysctl -w vm.max_map_count=N)",
                          (unsigned long long)start, (unsigned long long)end, now, limit);
    else
        crs_restore_error(r, "cannot map 0x%llx-0x%llx: %s", (unsigned long long)start,
                          (unsigned long long)end, strerror(err));
}

/* Every region is one mapping at least (the kernel may merge neighbours),
 * and the restarter needs a few of its own while both exist. */
static int check_map_count(struct crs_restore *r)
{
    long limit = crs_max_map_count();
    size_t n = 0;
    for (size_t i = 0; i < r->img->nregions; i++)
        n += r->img->regions[i].kind != CRS_REGION_VDSO;
    if (limit > 0 && n + CRS_RESTORER_MAPS > (size_t)limit) {
        crs_restore_error(r, "the image holds %zu memory mappings; with the %d that cr_restart needs of its own "
                          "that is more than this machine's vm.max_map_count (%ld) allows; raise it as root "
                          "(sysctl -w vm.max_map_count=%zu) and restart again", n, CRS_RESTORER_MAPS, limit,
                          (n + CRS_RESTORER_MAPS + 1023) & ~(size_t)1023);
        return -ENOMEM;
    }
    return 0;
}

static const char *const cap_names[] = {
    "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid", "setpcap",
    "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw", "ipc_lock", "ipc_owner",
    "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
    "sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write", "audit_control", "setfcap",
    "mac_override", "mac_admin", "syslog", "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf",
    "checkpoint_restore",
};

/* "cap_x, cap_y" and "cap_x,cap_y" of the capabilities in set. */
static void cap_list(uint64_t set, char *names, size_t nl, char *drop, size_t dl)
{
    size_t n = 0, d = 0;
    names[0] = drop[0] = 0;
    for (unsigned c = 0; c < 64; c++)
        if (set & (1ull << c)) {
            char one[48];
            if (c < sizeof cap_names / sizeof cap_names[0])
                snprintf(one, sizeof one, "cap_%s", cap_names[c]);
            else
                snprintf(one, sizeof one, "capability %u", c);
            n += (size_t)snprintf(names + n, n < nl ? nl - n : 0, "%s%s", n ? ", " : "", one);
            d += (size_t)snprintf(drop + d, d < dl ? dl - d : 0, "%s%s", d ? "," : "", one);
            if (n >= nl || d >= dl)
                break;
        }
}

/* Capabilities. An image of version 10 (CRS_PROC_F_CAPSET) has every
 * thread's five sets: each restored thread takes them (park.c), so cr_restart
 * must hold what they hold: refused, naming them, when it does not (a user's
 * restart of a process that had some, a cr_restart started without them).
 * An image of version 9 (CRS_PROC_F_CAPS alone) has the main thread's
 * effective, permitted and inheritable sets only: the restarted process
 * gets cr_restart's, so a restart that would give it back some it dropped
 * is refused, naming them. */
static int check_caps(struct crs_restore *r)
{
    const struct crs_rec_process *p = r->img->process;
    if (!(p->flags & CRS_PROC_F_CAPS))
        return 0;
    char st[4096];
    uint64_t eff = 0, prm = 0, inh = 0, bnd = 0;
    if (revive_read_file("/proc/self/status", st, sizeof st) <= 0 || revive_status_x64(st, "CapEff", &eff) ||
        revive_status_x64(st, "CapPrm", &prm) || revive_status_x64(st, "CapInh", &inh) ||
        revive_status_x64(st, "CapBnd", &bnd))
        return 0;
    char names[1024], drop[1024];
    if (p->flags & CRS_PROC_F_CAPSET) {
        const uint64_t setpcap = 1ull << 8;
        /* inheritable ones beyond its own: only with CAP_SETPCAP, within the bounding set */
        uint64_t inh_ok = inh | ((eff & setpcap) ? bnd : prm);
        uint64_t missing = ((p->cap_eff | p->cap_prm | p->cap_amb) & ~prm) | (p->cap_inh & ~inh_ok) |
                           (p->cap_bnd & ~bnd);
        if (p->cap_bnd != bnd && !(eff & setpcap))
            missing |= setpcap;   /* needed to drop from the bounding set */
        /* and what the threads with sets of their own need (each sets its own) */
        for (size_t i = 0; i < r->img->nthread_caps; i++) {
            const struct crs_rec_thread_caps *t = &r->img->thread_caps[i];
            missing |= ((t->eff | t->prm | t->amb) & ~prm) | (t->inh & ~inh_ok) | (t->bnd & ~bnd);
            if (t->bnd != bnd && !(eff & setpcap))
                missing |= setpcap;
        }
        if (!missing)
            return 0;
        cap_list(missing, names, sizeof names, drop, sizeof drop);
        crs_restore_error(r, "the process had capabilities that cr_restart does not hold (%s; its main thread had "
                          "effective %#llx, permitted %#llx, inheritable %#llx, ambient %#llx, bounding %#llx%s): "
                          "restarted, it would lack them; restart it as root, or with those capabilities",
                          names, (unsigned long long)p->cap_eff, (unsigned long long)p->cap_prm,
                          (unsigned long long)p->cap_inh, (unsigned long long)p->cap_amb,
                          (unsigned long long)p->cap_bnd,
                          r->img->nthread_caps ? "; other threads had sets of their own (cr_info)" : "");
        return -EPERM;
    }
    if (p->uid != (uint32_t)geteuid())
        eff = prm = 0;   /* taking on other uids clears them (restore_creds.c) */
    uint64_t gained = (eff & ~p->cap_eff) | (prm & ~p->cap_prm);
    if (!gained)
        return 0;
    cap_list(gained, names, sizeof names, drop, sizeof drop);
    crs_restore_error(r, "the process had dropped capabilities that cr_restart holds (%s; it had effective %#llx, "
                      "permitted %#llx): restarted, it would have them again; restart it without them, e.g. "
                      "capsh --drop=%s -- -c 'cr_restart ...'", names, (unsigned long long)p->cap_eff,
                      (unsigned long long)p->cap_prm, drop);
    return -EPERM;
}

/* Securebits (per thread): a thread's that differ from cr_restart's need
 * CAP_SETPCAP to set, and none of cr_restart's locked bits may differ.
 * Refused, naming them, when they cannot be set: coming back without them
 * would give the process back what it had given up (SECBIT_NOROOT, ...). */
static int check_securebits(struct crs_restore *r)
{
    const struct crs_image *img = r->img;
    int cur = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
    char st[4096];
    uint64_t eff = 0;
    if (cur < 0 || revive_read_file("/proc/self/status", st, sizeof st) <= 0 || revive_status_x64(st, "CapEff", &eff))
        return 0;
    for (size_t i = 0; i < img->nthreads; i++) {
        const struct crs_rec_thread *t = &img->threads[i];
        if (!(t->flags & CRS_THREAD_F_SECUREBITS) || (int)t->securebits == cur)
            continue;
        /* the locked bits are the odd ones, each locking the bit below it */
        uint32_t locked = (uint32_t)cur & 0xaau, fixed = locked | (locked >> 1);
        const char *why = !(eff & (1ull << 8)) ? "it lacks CAP_SETPCAP"
                          : ((t->securebits ^ (uint32_t)cur) & fixed) ? "its own are locked otherwise" : NULL;
        if (!why)
            continue;
        crs_restore_error(r, "thread %d of the process had securebits 0x%x that cr_restart cannot set (%s; it has "
                          "0x%x): restarted, the thread would lack restrictions it had; restart it as root, with "
                          "CAP_SETPCAP", (int)t->tid, t->securebits, why, (unsigned)cur);
        return -EPERM;
    }
    return 0;
}

/* The program's seccomp filters go in again at the end of the restart
 * (seccomp_restore.h): a thread without no_new_privs may install one only
 * with CAP_SYS_ADMIN. Refused when a thread that ran under some lacked
 * no_new_privs (the program installed them with CAP_SYS_ADMIN) and
 * cr_restart has neither: coming back without them would lift the limits
 * the program put on itself. Filters the process inherited from its
 * launcher are not the program's: said when cr_restart runs under fewer. */
static int check_seccomp(struct crs_restore *r)
{
    const struct crs_image *img = r->img;
    if (!img->nseccomps)
        return 0;
    char st[4096] = "";
    uint64_t eff = 0;
    if (revive_read_file("/proc/self/status", st, sizeof st) > 0)
        revive_status_x64(st, "CapEff", &eff);
    int nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1, admin = (eff >> 21) & 1;   /* CAP_SYS_ADMIN */
    for (size_t i = 0; i < img->nthread_attrs && !nnp && !admin; i++) {
        const struct crs_rec_thread_attr *a = &img->thread_attrs[i];
        if (a->seccomp && !(a->flags & CRS_TATTR_F_NNP)) {
            crs_restore_error(r, "thread %d of the process ran under %u seccomp filters it installed without "
                              "no_new_privs (with CAP_SYS_ADMIN), which cr_restart lacks: restarted without them it "
                              "could make the calls it had forbidden itself; restart it as root",
                              (int)a->tid, a->seccomp);
            return -EPERM;
        }
    }
    uint64_t mine = 0;
    if (revive_status_u64(st, "Seccomp_filters", &mine) == 0 && mine < img->seccomps[0].inherited)
        revive_log_warn("the process ran under %u seccomp filters of its launcher beneath its own, cr_restart "
                        "under %llu: the restarted process has cr_restart's and its own",
                        img->seccomps[0].inherited, (unsigned long long)mine);
    return 0;
}

int crs_restore_check(struct crs_restore *r)
{
    int e;
    if ((e = check_host(r)) || (e = check_map_count(r)) || (e = check_files(r)) || (e = check_layout(r)) ||
        (e = check_securebits(r)) || (e = check_caps(r)) || (e = crs_restore_check_shm_busy(r)) ||
        (e = crs_restore_check_fifos(r)) || (e = crs_restore_check_mcast(r)) ||
        (e = crs_restore_check_raw(r)) || (e = check_seccomp(r)))
        return e;
    return 0;
}

const char *crs_restore_path(struct crs_restore *r, const char *path)
{
    static char bufs[2][4096];
    static int next;
    char *out = bufs[next];
    next ^= 1;
    return crs_relocated(r->relocate, r->nrelocate, path, out, sizeof bufs[0]);
}

void crs_restore_outside(struct crs_restore *r, int err)
{
    /* a file or folder gone or barred is the surroundings' doing; ENOMEM, EMFILE, EIO are not */
    if ((err == ENOENT || err == ENOTDIR || err == EACCES || err == EPERM || err == ELOOP) &&
        r->refused_outside)
        *r->refused_outside = 1;
}

const char *crs_restore_moved_hint(int err)
{
    return err == ENOENT ? "; if it moved, restart with --relocate OLD=NEW (cr_restart and restart-mpi take it)" : "";
}
