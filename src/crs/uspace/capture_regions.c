/* Memory regions: which are saved by content, which by reference to a file,
 * which are the kernel's (vdso) and which are Revive's own (left out). */
#define _GNU_SOURCE
#include "crs/uspace/capture.h"
#include "crs/base/capture_filter.h"
#include "crs/base/elf_build_id.h"
#include "crs/base/sysvshm_ids.h"
#include "crs/uspace/build_id_cache.h"
#include "common/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#define CRS_EXTRA_PIECES 4096

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* The pages of shared memory a tree's other member saves (its owner's image
 * holds them; the restart makes it once, filled, for all): none here. */
static uint8_t shmem_pages(const struct crs_capture *c, const struct crs_map *m)
{
    return crs_capture_elsewhere(c, m->dev, m->ino) ? CRS_PAGES_NONE : CRS_PAGES_RESIDENT;
}

static int find_or_add_file(struct crs_capture *c, const char *path, const struct stat *st)
{
    for (size_t i = 0; i < c->nfiles; i++)
        if (c->files[i].dev == st->st_dev && c->files[i].ino == st->st_ino)
            return (int)i;
    struct crs_rec_file *f = &c->files[c->nfiles];
    memset(f, 0, sizeof *f);
    f->dev = st->st_dev;
    f->ino = st->st_ino;
    f->size = (uint64_t)st->st_size;
    f->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
    f->mode = st->st_mode;
    /* the build id (of code): as an earlier capture read it when the file has not changed
     * since; else read, never by opening a file the process holds a POSIX lock on (closing it
     * would release the lock). The locks are asked only then: /proc/locks is read under the
     * kernel's write lock of every file lock (percpu_down_write: an RCU grace period), which
     * held each rank ~11 ms before its first page (perf38, bench/mpi/README.md) */
    int known = crs_build_id_recall(st, f->build_id);
    int locked = known >= 0 ? 0 : crs_capture_posix_locked(c, st->st_dev, st->st_ino);
    int fd = locked || known >= 0 ? -1 : open(path, O_RDONLY | O_CLOEXEC);
    if (known >= 0) {
        f->build_id_len = (uint32_t)known;
    } else if (fd >= 0) {
        struct crs_file_stamp was, now;
        f->build_id_len = crs_elf_build_id(fd, f->build_id, CRS_BUILD_ID_MAX);
        /* remembered only when what was read is the file stat described */
        crs_file_stamp_from(st, &was);
        if (crs_file_stamp_of(fd, &now) == 0 && crs_file_stamp_same(&now, &was))
            crs_build_id_remember(st, f->build_id, f->build_id_len);
        close(fd);
    }
    c->file_paths[c->nfiles] = crs_capture_strdup(c, path);
    return (int)c->nfiles++;
}

/* Shared memory objects (memfd, shared anonymous) are matched by inode. */
int crs_capture_memfd_index(struct crs_capture *c, uint64_t ino, const char *mapname, uint64_t min_size)
{
    for (size_t i = 0; i < c->nmemfds; i++)
        if (c->memfds[i].ino == ino) {
            if (c->memfds[i].size < min_size)
                c->memfds[i].size = min_size;
            return (int)i;
        }
    struct crs_rec_memfd *m = &c->memfds[c->nmemfds];
    memset(m, 0, sizeof *m);
    m->ino = ino;
    m->size = min_size;
    char name[256] = "";
    if (!strncmp(mapname, "/memfd:", 7)) {
        const char *s = mapname + 7;
        size_t len = strlen(s);
        if (ends_with(s, " (deleted)"))
            len -= 10;
        if (len >= sizeof name)
            len = sizeof name - 1;
        memcpy(name, s, len);
        name[len] = 0;
    }
    c->memfd_names[c->nmemfds] = crs_capture_strdup(c, name);
    return (int)c->nmemfds++;
}

/* The saved file of the System V segment a mapping shows, with its key,
 * permissions, size and whether it was marked removed (IPC_STAT), or
 * -errno with the message set. A segment another process has attached too
 * is refused (outside a tree's checkpoint, whose members' mappings the
 * requester counts): restarted, this process would get a copy of its own,
 * and the two would no longer see each other's writes. The kernel counts
 * mappings (shm_nattch), so the process's own (maps[0, n)) are counted. */
static int sysv_index(struct crs_capture *c, const struct crs_map *m, const char *name, const struct crs_map *maps,
                      long n)
{
    struct shmid_ds ds;
    /* the system call: libcr's shmctl takes the ids the program kept (crs/base/sysvshm_ids.h) */
    if (m->ino > INT32_MAX || syscall(SYS_shmctl, (int)m->ino, IPC_STAT, &ds) != 0) {
        crs_capture_error(c, "cannot read the System V shared memory segment %llu (%s at 0x%llx): %s",
                          (unsigned long long)m->ino, name, (unsigned long long)m->start,
                          m->ino > INT32_MAX ? "not a segment id" : strerror(errno));
        return -ENOTSUP;
    }
    unsigned long own = 0;
    for (long i = 0; i < n; i++)
        own += maps[i].ino == m->ino && maps[i].dev == m->dev && !strncmp(maps[i].name, "/SYSV", 5);
    if (!c->opts.tree && (unsigned long)ds.shm_nattch > own) {
        crs_capture_error(c, "the System V shared memory segment %d (key 0x%08x, at 0x%llx) is attached by another "
                          "process too (%lu mappings, %lu of them this process's; made by process %d, last attached "
                          "or detached by %d): restarted, this process would get a copy of its own; checkpoint them "
                          "together (cr_checkpoint --tree, --pgid or --sid) or let only one process attach it",
                          (int)m->ino, (unsigned)ds.shm_perm.__key, (unsigned long long)m->start,
                          (unsigned long)ds.shm_nattch, own, (int)ds.shm_cpid, (int)ds.shm_lpid);
        return -ENOTSUP;
    }
    int k = crs_capture_fobj_index(c, m->dev, m->ino, name, S_IFREG | (ds.shm_perm.mode & 0777),
                                   (uint64_t)ds.shm_segsz);
    if (k < 0) {
        crs_capture_error(c, "too many saved files (at the System V shared memory %s)", name);
        return -E2BIG;
    }
    struct crs_rec_fobj *f = &c->fobjs[k];
    f->kind = CRS_FOBJ_SYSV;
    f->size = (uint64_t)ds.shm_segsz;   /* not the mappings' page-rounded length */
    f->sysv_key = (int32_t)ds.shm_perm.__key;
    f->sysv_mode = ds.shm_perm.mode & 0777;
    if (ds.shm_perm.mode & SHM_DEST)
        f->flags |= CRS_FOBJ_F_REMOVED;
    crs_sysvshm_attached((int)m->ino, m->start - m->pgoff);   /* its id, should a restart change it */
    return k;
}

/* stat of a private file mapping's path, once for the mappings of one file in a row (a library
 * has four or five: its segments and its .bss) */
struct last_stat {
    const char *path;
    int rc;
    struct stat st;
};

static int path_stat(struct last_stat *ps, const char *path, struct stat *st)
{
    if (!ps->path || strcmp(ps->path, path)) {
        ps->rc = stat(path, &ps->st);
        ps->path = path;
    }
    *st = ps->st;
    return ps->rc;
}

/* The memory map into scratch memory: from /proc/self/smaps with what it says of each mapping
 * (*more) when *smaps is set and smaps can be read, else from /proc/self/maps (*more NULL, *smaps
 * 0). The count, or -errno with the message set. */
static long read_map(struct crs_capture *c, int *smaps, struct crs_map **maps_out, struct crs_map_more **more_out)
{
    /* Room for as many mappings as the kernel allows (vm.max_map_count),
     * and for their names; twice as much while that is too little (long
     * paths). The scratch arena is reserved, not committed: unused room
     * costs nothing. */
    long limit = crs_max_map_count();
    size_t cap = limit > 0 ? (size_t)limit + 64 : 65536;
    size_t buflen = (16u << 20) + cap * 64;
    long n = -ENOSPC;
    struct crs_map *maps = NULL;
    struct crs_map_more *more = NULL;
    for (int attempt = 0; attempt < 4 && n == -ENOSPC; attempt++, cap *= 2, buflen *= 2) {
        char *buf = crs_scratch_alloc(c->scratch, buflen + (*smaps ? 256u << 10 : 0));
        maps = crs_scratch_alloc(c->scratch, cap * sizeof *maps);
        more = *smaps ? crs_scratch_alloc(c->scratch, cap * sizeof *more) : NULL;
        if (!buf || !maps || (*smaps && !more)) {
            crs_capture_error(c, "out of scratch memory for the memory map (%zu mappings)", cap);
            return -ENOMEM;
        }
        if (*smaps) {
            n = crs_smaps_read(buf, buflen + (256u << 10), maps, more, cap);
            if (n < 0 && n != -ENOSPC && n != -ENAMETOOLONG) {
                /* no smaps (CONFIG_PROC_PAGE_MONITOR): the map alone, and no advice to keep */
                *smaps = 0;
                more = NULL;
                n = crs_maps_read(buf, buflen, maps, cap);
            }
        } else {
            n = crs_maps_read(buf, buflen, maps, cap);
        }
    }
    if (n < 0) {
        crs_capture_error(c, "cannot read /proc/self/%s: %s", *smaps ? "smaps" : "maps", strerror((int)-n));
        return n;
    }
    *maps_out = maps;
    *more_out = more;
    return n;
}

int crs_capture_regions(struct crs_capture *c)
{
    struct crs_map *maps;
    struct crs_map_more *more;
    /* smaps gives the map and what it says of each mapping in one read; with smaps_late the map
     * alone (/proc/self/maps: measured a seventh of smaps's CPU for an MPI rank's 363 mappings, as it
     * walks no page tables and prints one line a mapping), smaps after
     * the page data */
    int smaps = !c->opts.smaps_late;
    long n = read_map(c, &smaps, &maps, &more);
    if (n < 0)
        return (int)n;
    size_t cap;
    c->maps = maps;
    c->maps_more = more;
    c->nmaps = (size_t)n;
    /* the map for a filter that looks at memory before it answers (the MPI layer): this one,
     * read after every thread parked, not another read of /proc/self/maps */
    if (crs_capture_filter_wants_map()) {
        struct crs_filter_map *fm = crs_scratch_alloc(c->scratch, (size_t)n * sizeof *fm);
        if (!fm) {
            crs_capture_error(c, "out of scratch memory for the memory map (%ld mappings)", n);
            return -ENOMEM;
        }
        for (long i = 0; i < n; i++)
            fm[i] = (struct crs_filter_map){ maps[i].start, maps[i].end, maps[i].prot, maps[i].shared, maps[i].name };
        int e = crs_capture_filter_regions_begin(fm, (size_t)n, c->err, sizeof c->err);
        if (e)
            return e;
    }
    /* filters may cut a mapping into pieces: room for some more */
    cap = (size_t)n + CRS_EXTRA_PIECES;
    c->regions = crs_scratch_alloc(c->scratch, cap * sizeof *c->regions);
    c->region_names = crs_scratch_alloc(c->scratch, cap * sizeof *c->region_names);
    c->region_pages = crs_scratch_alloc(c->scratch, cap);
    c->files = crs_scratch_alloc(c->scratch, (size_t)n * sizeof *c->files);
    c->file_paths = crs_scratch_alloc(c->scratch, (size_t)n * sizeof *c->file_paths);
    /* fds may add memfds too: room for both */
    c->memfds = crs_scratch_alloc(c->scratch, ((size_t)n + 4096) * sizeof *c->memfds);
    c->memfd_names = crs_scratch_alloc(c->scratch, ((size_t)n + 4096) * sizeof *c->memfd_names);
    /* saved files too: mappings and descriptors name them */
    c->fobjs_cap = (size_t)n + 4096;
    c->fobjs = crs_scratch_alloc(c->scratch, c->fobjs_cap * sizeof *c->fobjs);
    c->fobj_paths = crs_scratch_alloc(c->scratch, c->fobjs_cap * sizeof *c->fobj_paths);
    c->fobj_src = crs_scratch_alloc(c->scratch, c->fobjs_cap * sizeof *c->fobj_src);
    c->fobj_owned = crs_scratch_alloc(c->scratch, c->fobjs_cap);
    c->fextents_cap = 1u << 18;   /* 256 Ki pieces of up to 4 MiB */
    c->fextents = crs_scratch_alloc(c->scratch, c->fextents_cap * sizeof *c->fextents);
    c->fext_vaddr = crs_scratch_alloc(c->scratch, c->fextents_cap * sizeof *c->fext_vaddr);
    c->fext_out = crs_scratch_alloc(c->scratch, c->fextents_cap * sizeof *c->fext_out);
    if (!c->regions || !c->region_names || !c->region_pages || !c->files || !c->file_paths ||
        !c->memfds || !c->memfd_names || !c->fobjs || !c->fobj_paths || !c->fobj_src || !c->fobj_owned ||
        !c->fextents || !c->fext_vaddr || !c->fext_out) {
        crs_capture_error(c, "out of scratch memory for %ld regions", n);
        return -ENOMEM;
    }

    struct last_stat ps = { NULL, -1, { 0 } };
    for (long i = 0; i < n; i++) {
        const struct crs_map *m = &maps[i];
        const char *name = m->name;
        if (!strcmp(name, "[vsyscall]"))
            continue;
        /* what the capture filters (crs's own memory among them) leave out */
        struct crs_span ex[CRS_FILTER_MAX_SPANS];
        int nex = crs_capture_filter_region(m->start, m->end, name, ex, CRS_FILTER_MAX_SPANS, c->err,
                                            sizeof c->err);
        if (nex < 0)
            return nex;
        if (nex == 1 && ex[0].start == m->start && ex[0].end == m->end)
            continue;
        struct crs_rec_region tmpl, *r = &tmpl;
        memset(r, 0, sizeof *r);
        r->start = m->start;
        r->end = m->end;
        r->prot = m->prot;
        r->file = -1;
        r->pgoff = m->pgoff;
        uint8_t pages = CRS_PAGES_NONE;

        if (!strcmp(name, "[vdso]") || !strncmp(name, "[vvar", 5)) {
            r->kind = CRS_REGION_VDSO;
        } else if (!strncmp(name, "/SYSV", 5) && m->shared) {
            /* System V shared memory: the segment (its id is the inode) is a
             * saved file of its own kind; its bytes go into the image */
            int k = sysv_index(c, m, name, maps, n);
            if (k < 0)
                return k;
            r->kind = CRS_REGION_FOBJ;
            r->file = k;
        } else if (m->shared && m->ino != 0 && name[0] == '/' && ends_with(name, " (deleted)") &&
                   strncmp(name, "/memfd:", 7) && crs_capture_on_hugetlbfs(name, m->dev)) {
            /* a deleted hugetlbfs file: its bytes go into the image as shared
             * memory, which comes back as a memfd on huge pages of its size */
            r->kind = CRS_REGION_SHMEM;
            r->file = crs_capture_memfd_index(c, m->ino, name, m->pgoff + (m->end - m->start));
            pages = shmem_pages(c, m);
        } else if (m->shared && m->ino != 0 && name[0] == '/' && strncmp(name, "/memfd:", 7) &&
                   strncmp(name, "/dev/zero", 9) && strncmp(name, "/anon_hugepage", 14) &&
                   (ends_with(name, " (deleted)") || crs_capture_is_shm_path(name))) {
            /* a deleted file, or one in /dev/shm: its bytes go into the image */
            int k = crs_capture_fobj_index(c, m->dev, m->ino, name, 0, m->pgoff + (m->end - m->start));
            if (k < 0) {
                crs_capture_error(c, "too many saved files (at the shared mapping of %s)", name);
                return -E2BIG;
            }
            r->kind = CRS_REGION_FOBJ;
            r->file = k;
        } else if (!m->shared && !strncmp(name, "/anon_hugepage", 14)) {
            /* private MAP_HUGETLB memory: anonymous, on huge pages (smaps) */
            r->kind = CRS_REGION_ANON;
            pages = CRS_PAGES_PRESENT;
        } else if (m->shared && (m->ino != 0 && (!strncmp(name, "/memfd:", 7) || !strncmp(name, "/dev/zero", 9) ||
                                                  !strncmp(name, "[anon_shmem", 11) ||
                                                  !strncmp(name, "/anon_hugepage", 14)))) {
            r->kind = CRS_REGION_SHMEM;
            r->file = crs_capture_memfd_index(c, m->ino, name, m->pgoff + (m->end - m->start));
            pages = shmem_pages(c, m);
        } else if (m->shared && name[0] == '/') {
            struct stat st;
            if (stat(name, &st) != 0 || st.st_ino != m->ino) {
                crs_capture_error(c, "the shared file mapping %s at 0x%llx no longer matches its path",
                                  name, (unsigned long long)m->start);
                return -ENOTSUP;
            }
            r->kind = CRS_REGION_FILE_SHARED;
            r->file = find_or_add_file(c, name, &st);
            /* --save-shared: the pages the program may have written, within the file */
            if (c->opts.save_shared && (m->prot & PROT_WRITE) && S_ISREG(st.st_mode)) {
                r->flags |= CRS_REGION_F_SAVED;
                pages = CRS_PAGES_FILE;
            }
        } else if (!m->shared && name[0] == '/' && m->ino != 0) {
            struct stat st;
            if (!ends_with(name, " (deleted)") && !crs_capture_is_shm_path(name) && path_stat(&ps, name, &st) == 0 &&
                st.st_ino == m->ino && S_ISREG(st.st_mode) && strncmp(name, "/memfd:", 7)) {
                r->kind = CRS_REGION_FILE;
                r->file = find_or_add_file(c, name, &st);
                pages = CRS_PAGES_COW;
            } else {
                /* the file is gone or replaced, or in /dev/shm (which a reboot
                 * empties): keep its content in the image */
                r->kind = CRS_REGION_ANON;
                pages = CRS_PAGES_ALL;
            }
        } else {
            r->kind = CRS_REGION_ANON;
            pages = CRS_PAGES_PRESENT;
            if (!strcmp(name, "[heap]"))
                r->flags |= CRS_REGION_F_HEAP;
            if (!strcmp(name, "[stack]"))
                r->flags |= CRS_REGION_F_STACK | CRS_REGION_F_GROWSDOWN;
        }
        const char *saved_name = crs_capture_strdup(c, name);
        uint64_t at = m->start;
        for (int j = 0; j <= nex; j++) {   /* the pieces between what is left out */
            uint64_t s = at, e = j < nex ? ex[j].start : m->end;
            if (j < nex)
                at = ex[j].end;
            if (s >= e)
                continue;
            if (c->nregions == cap) {
                crs_capture_error(c, "the capture filters cut the memory into more than %zu regions", cap);
                return -E2BIG;
            }
            struct crs_rec_region *piece = &c->regions[c->nregions];
            *piece = tmpl;
            piece->start = s;
            piece->end = e;
            piece->pgoff = tmpl.pgoff + (s - m->start);
            c->region_names[c->nregions] = saved_name;
            c->region_pages[c->nregions] = pages;
            c->nregions++;
        }
    }
    return 0;
}

/* Advice and page sizes from /proc/self/smaps ("KernelPageSize:", "VmFlags:" of each mapping,
 * read with the map: crs_smaps_read), given to every region piece of that mapping. */
static void apply_more(struct crs_capture *c, const struct crs_map *m, const struct crs_map_more *x, size_t *k)
{
    while (*k < c->nregions && c->regions[*k].end <= m->start)
        (*k)++;
    for (size_t i = *k; i < c->nregions && c->regions[i].start < m->end; i++) {
        struct crs_rec_region *r = &c->regions[i];
        if (r->start < m->start || r->kind == CRS_REGION_VDSO)
            continue;
        if (x->page_shift) {   /* used for ANON and SHMEM; said of file mappings (hugetlbfs) */
            r->page_shift = x->page_shift;
            if (r->kind == CRS_REGION_SHMEM && r->file >= 0)
                c->memfds[r->file].page_shift = x->page_shift;
        }
        if (!x->flags_seen)
            continue;
        r->madvise = x->madvise;
        /* a System V segment attached SHM_RDONLY may never be written
         * (no "mw"), whatever mprotect says */
        if (!x->may_write && r->kind == CRS_REGION_FOBJ && r->file >= 0 && c->fobjs[r->file].kind == CRS_FOBJ_SYSV)
            r->flags |= CRS_REGION_F_SHM_RDONLY;
    }
}

int crs_capture_smaps(struct crs_capture *c)
{
    if (!c->maps_more)
        return 0;   /* no smaps (CONFIG_PROC_PAGE_MONITOR): no advice to keep */
    uint64_t pkey = 0, pkey_at = 0;
    size_t k = 0;
    for (size_t i = 0; i < c->nmaps; i++) {
        if (c->maps_more[i].pkey && !pkey) {
            pkey = c->maps_more[i].pkey;
            pkey_at = c->maps[i].start;
        }
        apply_more(c, &c->maps[i], &c->maps_more[i], &k);
    }
    /* Memory behind a protection key may be closed to the thread that
     * reads it (its PKRU, or the one a signal handler starts with): the
     * capture would die of SIGSEGV, killing the process. Neither the keys
     * nor the threads' PKRU would come back at a restart either. Refused
     * here, before any page is read, and the process runs on. */
    if (pkey) {
        crs_capture_error(c, "process %d uses memory protection keys (pkey_mprotect: key %llu on the memory at %#llx): "
                          "not supported; it runs on, not checkpointed",
                          (int)getpid(), (unsigned long long)pkey, (unsigned long long)pkey_at);
        return -ENOTSUP;
    }
    return 0;
}

/* More of the late smaps (maps[0, n), more[i] for maps[i]) for the mapping [start, end) of the
 * capture's map: that of the mapping that holds it now, or of the mappings that hold it piece
 * by piece when they all say the same (advice, page size, keys). NULL when it is held otherwise
 * (a part unmapped, or pieces that differ). *j: where the walk (in address order) is. */
static const struct crs_map_more *late_more(const struct crs_map *maps, const struct crs_map_more *more, long n,
                                            long *j, uint64_t start, uint64_t end)
{
    while (*j < n && maps[*j].end <= start)
        (*j)++;
    if (*j == n || maps[*j].start > start)
        return NULL;
    const struct crs_map_more *m = &more[*j];
    uint64_t at = maps[*j].end;
    for (long k = *j + 1; at < end; k++) {
        if (k == n || maps[k].start != at || more[k].page_shift != m->page_shift || more[k].madvise != m->madvise ||
            more[k].flags_seen != m->flags_seen || more[k].may_write != m->may_write || more[k].pkey != m->pkey)
            return NULL;
        at = maps[k].end;
    }
    return m;
}

int crs_capture_smaps_late(struct crs_capture *c)
{
    if (!c->opts.smaps_late)
        return 0;
    struct crs_map *now;
    struct crs_map_more *now_more;
    int smaps = 1;
    long n = read_map(c, &smaps, &now, &now_more);
    if (n < 0)
        return (int)n;
    if (!smaps)
        return 0;   /* no smaps: no advice to keep, as when it is read first */
    struct crs_map_more *more = crs_scratch_alloc(c->scratch, (c->nmaps ? c->nmaps : 1) * sizeof *more);
    if (!more) {
        crs_capture_error(c, "out of scratch memory for the memory map (%zu mappings)", c->nmaps);
        return -ENOMEM;
    }
    /* Every other thread is parked: only the capture's own work (its scratch memory is reserved
     * whole, a temporary mapping goes again) could have moved a boundary since the map was read,
     * and the mappings that hold one of the map's now have its advice. A mapping no longer whole
     * fails the capture rather than guess its advice. */
    long j = 0;
    for (size_t i = 0; i < c->nmaps; i++) {
        const struct crs_map_more *m = late_more(now, now_more, n, &j, c->maps[i].start, c->maps[i].end);
        if (!m) {
            crs_capture_error(c, "the memory mapping at 0x%llx-0x%llx (%s) changed while the image was written "
                              "(no longer whole in /proc/self/smaps): no image is taken; it is not the "
                              "program's doing (its threads were stopped), please report it",
                              (unsigned long long)c->maps[i].start, (unsigned long long)c->maps[i].end,
                              c->maps[i].name[0] ? c->maps[i].name : "anonymous");
            return -EBUSY;
        }
        more[i] = *m;
    }
    c->maps_more = more;
    return crs_capture_smaps(c);
}

int crs_capture_pkeys_possible(void)
{
#if defined(__x86_64__) || defined(__i386__)
    /* smaps has a "ProtectionKey:" line only when the kernel turned the keys on, which CPUID's
     * OSPKE (leaf 7, ECX bit 4) says: set by the kernel (CR4.PKE) */
    unsigned a, b, cx, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &cx, &d))
        return 0;   /* no leaf 7: no keys */
    return (cx >> 4) & 1;
#else
    return 1;
#endif
}

#if defined(__x86_64__)
/* This thread's PKRU (rdpkru, wrpkru: valid only where the kernel turned the keys on, OSPKE) */
static unsigned pkru_get(void)
{
    unsigned a, d;
    __asm__ volatile(".byte 0x0f, 0x01, 0xee" : "=a"(a), "=d"(d) : "c"(0));
    return a;
}

static void pkru_set(unsigned v)
{
    __asm__ volatile(".byte 0x0f, 0x01, 0xef" : : "a"(v), "c"(0), "d"(0) : "memory");
}
#endif

int crs_capture_pkeys_held(void)
{
    if (!crs_capture_pkeys_possible())
        return 0;
#if defined(__x86_64__)
    /* The kernel hands each key out once: pkey_alloc's, and the execute-only key it takes itself
     * for a PROT_EXEC-only mapping; x86 has 15 besides key 0, which every mapping has unless told
     * otherwise. All 15 to be had now: the process holds none. Taken and given back at once
     * (every other thread is parked), this thread's PKRU, which pkey_alloc sets for each key it
     * gives, put back. */
    unsigned pkru = pkru_get();
    int keys[16], n = 0, e = 0;
    while (n < 16) {
        long k = syscall(SYS_pkey_alloc, 0, 0);
        if (k < 0) {
            e = errno;
            break;
        }
        keys[n++] = (int)k;
    }
    for (int i = 0; i < n; i++)
        syscall(SYS_pkey_free, keys[i]);
    pkru_set(pkru);
    return !(n == 15 && e == ENOSPC);
#else
    return 1;
#endif
}

unsigned crs_capture_pkeys_open(void)
{
#if defined(__x86_64__)
    if (!crs_capture_pkeys_possible())
        return 0;
    unsigned old = pkru_get();
    pkru_set(0);
    return old;
#else
    return 0;
#endif
}

void crs_capture_pkeys_close(unsigned old)
{
#if defined(__x86_64__)
    if (crs_capture_pkeys_possible())
        pkru_set(old);
#else
    (void)old;
#endif
}
