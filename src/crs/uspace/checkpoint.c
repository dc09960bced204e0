#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "common/fd_guard.h"
#include "crs/uspace/checkpoint.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <linux/prctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fault.h"
#include "common/log.h"
#include "common/procfs.h"
#include "crs/base/capture_filter.h"
#include "crs/base/hooks.h"
#include "crs/base/inotify_saved.h"
#include "crs/base/mcast_if_notes.h"
#include "crs/base/protocol.h"
#include "crs/base/shared_note.h"
#include "crs/base/sysvshm_ids.h"
#include "crs/uspace/capture.h"
#include "crs/uspace/cpu_context.h"
#include "crs/uspace/epoll_settle.h"
#include "crs/uspace/park.h"
#include "crs/uspace/restore.h"
#include "crs/uspace/restart_info.h"
#include "crs/uspace/seccomp_restore.h"
#include "crs/uspace/thread_attr.h"
#include "crs/base/seccomp_notes.h"
#include "crs/uspace/timers.h"

#define SCRATCH_SIZE (512ul << 20)
#define MAX_CHUNKS (1ul << 20)
#define STRINGS_CAP (8ul << 20)

static struct crs_scratch scratch;
/* A page shared with the fork-mode writer child, for its result. */
struct fork_result { int status; char err[512]; uint64_t bytes; };
static struct fork_result *fork_result;
/* Kept in ordinary memory (so in the image) for the restarted process. */
static size_t last_nparked;
static int restart_old_pid, restart_new_pid;
static char last_exe[4096];

/* Our own memory and the image's descriptor stay out of the image, through
 * the same filter mechanism every other layer uses. */
static int image_fd = -1;

static int own_regions(void *arg, uint64_t start, uint64_t end, const char *path, struct crs_span *out, int max)
{
    (void)arg;
    (void)path;
    int n = 0;
    const struct crs_span own[2] = {
        { (uint64_t)scratch.base, (uint64_t)scratch.base + scratch.size },
        { (uint64_t)fork_result, (uint64_t)fork_result + 4096 },
    };
    for (int i = 0; i < 2 && n < max; i++)
        if (own[i].start && own[i].start < end && own[i].end > start)
            out[n++] = own[i];
    return n;
}

static int own_fds(void *arg, int fd)
{
    (void)arg;
    return fd == image_fd;
}

int crs_checkpoint_init(int park_sig)
{
    static int filter_registered;   /* once: a forked child inherits the table */
    crs_inherited_note();   /* before anything of ours is open */
    crs_thread_attr_baseline();   /* the launcher's nice value, affinity...: before the program's */
    crs_seccomp_notes_start();    /* the launcher's seccomp filters: beneath the program's */
    int e = crs_park_init(park_sig);
    if (e)
        return e;
    /* A forked child starts again (libcr's fork handler): the parent's arena
     * and its fork page, which the child would share with the parent (and a
     * tree's checkpoint refuses shared memory between members), go first. */
    if (scratch.base)
        munmap(scratch.base, scratch.size);
    if (fork_result)
        munmap(fork_result, 4096);
    scratch.base = NULL;
    fork_result = NULL;
    if ((e = crs_scratch_init(&scratch, SCRATCH_SIZE)))
        return e;
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -errno;
    fork_result = p;
    if (!filter_registered) {
        struct crs_capture_filter f = { .owner = "crs", .region_exclude = own_regions, .fd_exclude = own_fds };
        if ((e = crs_capture_filter_register(&f)))
            return e;
        filter_registered = 1;
    }
    return 0;
}

void crs_restart_ids(int *old_pid, int *new_pid)
{
    *old_pid = restart_old_pid;
    *new_pid = restart_new_pid;
}

/* in_fork_child: the --fork writer, whose memory is the process's, shared copy-on-write */
static int write_image(struct crs_capture *c, const struct crs_ckpt_opts *o, uint64_t *bytes, int in_fork_child)
{
    int fd = o->fd;
    size_t need = crs_iw_scratch_size(MAX_CHUNKS, STRINGS_CAP, c->opts.zstd_level);
    void *ws = crs_scratch_alloc(c->scratch, need);
    struct crs_image_writer *w = crs_scratch_alloc(c->scratch, sizeof *w);
    if (!ws || !w) {
        crs_capture_error(c, "out of scratch memory for the image writer");
        return -ENOMEM;
    }
    const char *gone_why = "the requester of the checkpoint went away (cr_checkpoint ended before the image "
                           "was written): nobody would keep it, so it is not written on";
    /* asked before crs_iw_open writes its header block's padding: a requester gone already (a
     * request that ran out of time while a critical section held the checkpoint back) gets
     * nothing written into its descriptor (newuser10b N4: 4096 zero bytes came into the file of
     * a cr_request_checkpoint that had failed with ETIMEDOUT) */
    if (o->requester_gone && o->requester_gone(o->arg)) {
        crs_capture_error(c, "image write: %s", gone_why);
        return -ECANCELED;
    }
    int e = crs_iw_open(w, fd, ws, need, MAX_CHUNKS, STRINGS_CAP, c->opts.zstd_level);
    if (e) {
        crs_capture_error(c, "%s", w->err);
        return e;
    }
    if (o->requester_gone) {
        w->stop = o->requester_gone;
        w->stop_arg = o->arg;
        w->stop_why = gone_why;
    }
    /* REVIVE_IMAGE_DIRECT=1: the pages to the disk with O_DIRECT through the writer's buffer of
     * huge pages, not through the page cache (crs_iw_direct says where and when). Not the default:
     * session 36, 8 ranks x 16 MiB, two quiet windows of 59 and 83 alternating runs, capture
     * medians 86 / 92 ms direct against 87 / 91.5 buffered (Open MPI), 85.5 / 90.5 against 89.5 /
     * 91 (MPICH): no faster near idle (bench/mpi/README.md, "Capture, session 36"). */
    /* Not in the --fork writer, as before the buffer (session 34, when a direct write pinned the
     * process's pages and the kernel unshared those the child shared copy-on-write: diffrev34
     * R-M1): the buffer's copy no longer pins them, but the child's direct writes were not
     * measured. */
    const char *direct = getenv("REVIVE_IMAGE_DIRECT");
    if (direct && strcmp(direct, "1") == 0 && !in_fork_child)
        crs_iw_direct(w, 0);
    if ((e = crs_capture_write(c, w))) {
        crs_iw_close(w);
        return e;
    }
    if (revive_fault(REVIVE_FAULT_image_finish)) {
        crs_iw_close(w);
        crs_capture_error(c, "fault injected at image-finish (REVIVE_FAULT)");
        return -EIO;
    }
    struct crs_image_header hdr;
    memset(&hdr, 0, sizeof hdr);
    crs_host_facts(&hdr);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    hdr.created_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    hdr.pid = c->proc.pid;
    e = crs_iw_finish(w, &hdr);
    crs_iw_close(w);
    if (e) {
        crs_capture_error(c, "%s", w->err);
        return e;
    }
    if (fsync(fd) != 0 && errno != EINVAL) {
        crs_capture_error(c, "cannot flush the image to disk: %s", strerror(errno));
        return -errno;
    }
    *bytes = w->pos;
    return 0;
}

/* The capture whose inotify queues are being read (one at a time). */
static const struct crs_capture *draining;

/* Inotify queues the capture leaves alone: the filters' descriptors, and in
 * a tree the descriptors the tree's restart puts in place (an inotify
 * members share: one queue for all, which its requester checked empty,
 * base/tree_ckpt.c; an event queued since is after the checkpoint, and
 * reading it out here would take it from the other members). */
static int drain_skip(int fd)
{
    if (crs_capture_filter_fd(fd))
        return 1;
    const struct crs_capture *c = draining;
    if (!c || !c->opts.tree)
        return 0;
    if (c->opts.ntree_placed < 0)
        return 1;
    for (int i = 0; i < c->opts.ntree_placed; i++)
        if (c->opts.tree_placed[i] == fd)
            return 1;
    return 0;
}

static int collect_all(struct crs_capture *c, size_t nparked)
{
    int e;
    /* unread inotify events into buffers of the process: before the memory
     * map is read, so the image holds them */
    draining = c;
    e = crs_inotify_saved_capture(drain_skip, c->err, sizeof c->err);
    draining = NULL;
    if (e)
        return e;
    if ((e = crs_capture_process(c)) || (!c->opts.tree && (e = crs_capture_children(c))) || (e = crs_capture_signals(c)) ||
        (e = crs_capture_regions(c)) ||
        (e = crs_capture_smaps(c)) || (e = crs_capture_fds(c)) || (e = crs_capture_epoll_edges(c)) || (e = crs_capture_locks(c)) || (e = crs_capture_fobj_plan(c)) ||
        (e = crs_capture_timers(c)) || (e = crs_capture_sysvipc(c)))
        return e;
    c->threads = crs_scratch_alloc(c->scratch, (nparked + 1) * sizeof *c->threads);
    c->tattrs = crs_scratch_alloc(c->scratch, (nparked + 1) * sizeof *c->tattrs);
    if (!c->threads || !c->tattrs) {
        crs_capture_error(c, "out of scratch memory for %zu threads", nparked + 1);
        return -ENOMEM;
    }
    size_t n;
    struct crs_rec_thread *const *recs = crs_park_records(&n);
    /* the main thread first, as the format asks; threads a filter leaves out
     * stay parked but are not recorded (nor recreated at restart) */
    size_t k = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++) {
            int is_main = recs[i]->tid == c->proc.pid;
            if (is_main != (pass == 0) || crs_capture_filter_thread(recs[i]->tid))
                continue;
            c->threads[k] = *recs[i];
            c->threads[k].pending = 0;
            /* how many of the program's seccomp filters it runs under: in the
             * image, and beside the thread's record, where it finds them after a
             * restart (seccomp_restore.c) */
            struct crs_rec_thread_attr *a = crs_park_attr(i);
            uint32_t nsec = 0;
            if ((e = crs_capture_seccomp_thread(c, recs[i]->tid, &nsec)))
                return e;
            if (a) {
                a->seccomp = nsec;
                c->tattrs[k] = *a;
            } else {
                memset(&c->tattrs[k], 0, sizeof c->tattrs[k]);
            }
            c->tattrs[k].tid = c->threads[k].tid;
            if (is_main)
                c->proc.personality = c->tattrs[k].personality;   /* the checkpoint thread's is its own */
            k++;
        }
    c->nthreads = k;
    crs_capture_thread_caps_order(c);
    return crs_capture_fd_owners(c);   /* an owner may be one of the threads */
}

/* not inlined: its caller forks (vfork-like), where GCC fears for its locals */
__attribute__((noinline)) static int collect(struct crs_capture *c, size_t nparked)
{
    /* the epolls' ready lists, before anything of ours wakes their files */
    int e = crs_capture_epoll_probe(c);
    if (e)
        return e;
    return collect_all(c, nparked);
}

/* Everything after the restart that the checkpoint thread must do before the
 * other threads may run: wait for them, drop cr_restart's leftovers. */
/* /proc/PID/exe still names cr_restart: point it back at the program. Only
 * PR_SET_MM_MAP can (with CAP_CHECKPOINT_RESTORE), and it wants the whole
 * layout again, which /proc gives. */
static void point_exe_back(void)
{
    if (!last_exe[0] || !scratch.base)
        return;
    struct crs_capture *c = crs_scratch_alloc(&scratch, sizeof *c);
    if (!c)
        return;
    memset(c, 0, sizeof *c);
    c->scratch = &scratch;
    int ok = crs_capture_process(c) == 0;
    /* the file mapped at the program's code: where it is now (it may have
     * moved, cr_restart --relocate), else where it was */
    char *path = ok ? crs_scratch_alloc(&scratch, 8192 + 4096) : NULL;
    const char *exe = last_exe;
    struct revive_maps_reader mr;
    struct revive_maps_entry me;
    if (path && revive_maps_open(&mr, 0, 0, path + 4096, 8192) == 0) {
        while (revive_maps_next(&mr, &me) > 0)
            if (me.start <= c->proc.start_code && c->proc.start_code < me.end && me.name[0] == '/' &&
                !me.name_cut) {
                snprintf(path, 4096, "%s", me.name);
                exe = path;
                break;
            }
        revive_maps_close(&mr);
    }
    int fd = ok ? open(exe, O_RDONLY | O_CLOEXEC) : -1;
    if (fd >= 0) {
        struct prctl_mm_map m = {
            .start_code = c->proc.start_code, .end_code = c->proc.end_code,
            .start_data = c->proc.start_data, .end_data = c->proc.end_data,
            .start_brk = c->proc.start_brk, .brk = c->proc.brk, .start_stack = c->proc.start_stack,
            .arg_start = c->proc.arg_start, .arg_end = c->proc.arg_end,
            .env_start = c->proc.env_start, .env_end = c->proc.env_end,
            .auxv = (__u64 *)c->auxv, .auxv_size = (__u32)(c->nauxv * sizeof(uint64_t)), .exe_fd = (__u32)fd,
        };
        if (prctl(PR_SET_MM, PR_SET_MM_MAP, &m, sizeof m, 0) != 0)
            revive_log_debug("cannot point /proc/self/exe back at %s: %s", exe, strerror(errno));
    }
    if (fd >= 0)
        close(fd);
    crs_scratch_reset(&scratch);
}

/* The process-wide attribute that the restored process takes again at the end
 * of its restart: noted at the checkpoint in this memory, which the image
 * keeps (the restorer itself must not run under it: a process that is not
 * dumpable hides its /proc files from cr_restart). */
static uint32_t ckpt_nodump;

static void after_restart(const struct crs_restart_info *info_in, const struct crs_rec_thread *self,
                          const struct crs_rec_thread_attr *self_attr, int seccomp_later)
{
    struct crs_restart_info info = *info_in;
    /* Before the restart hooks: libcr's socket is named by it. The image
     * keeps the outer pid of an earlier restart in a pid namespace: a
     * restart outside one clears it, or the process would listen under
     * that dead pid's name and never be checkpointed again. */
    crs_proto_set_self_pid(info.outer_pid > 0 ? info.outer_pid : 0);
    crs_park_wait_restored(last_nparked);
    crs_thread_reinstate(self, &info);
    crs_thread_attr_reinstate(self_attr);
    crs_park_set_self_tids(self->tid, (pid_t)syscall(SYS_gettid));
    crs_hooks_set_tid_map(crs_park_tid_now);
    crs_inherited_after_restart();
    crs_sysvshm_restarted();   /* the ids of segments made again: before any thread runs on */
    crs_mcast_if_restarted();  /* the sockets' new inodes: the next checkpoint finds their notes */
    {
        char err[256] = "";
        if (crs_inotify_saved_restarted(err, sizeof err))
            revive_log_error("restarted process %d: %s", getpid(), err);
    }
    if (info.ntpidfds) {
        char err[256];
        if (crs_thread_pidfds_open((const struct crs_restart_tpidfd *)info.tpidfds, info.ntpidfds, crs_park_tid_now,
                                   err, sizeof err))
            revive_log_error("restarted process %d: %s; it runs on without it", getpid(), err);
    }
    if (info.nfdowns) {
        char err[256];
        if (crs_fd_owners_restore((const struct crs_rec_fdown *)info.fdowns, info.nfdowns, crs_park_tid_now, err,
                                  sizeof err))
            revive_log_error("restarted process %d: %s; it runs on without it", getpid(), err);
    }
    if (info.nepsettle) {
        /* after the signals the restart queued and the inotify fillers,
         * before the timers, whose signals are new events */
        char err[256];
        struct crs_epoll_settle_watch *w = (struct crs_epoll_settle_watch *)info.epsettle;
        if (crs_epoll_settle(w, info.nepsettle, w + info.nepsettle, err, sizeof err))
            revive_log_error("restarted process %d: %s", getpid(), err);
    }
    if (info.ntimers) {
        char err[256];
        if (crs_timers_restore((const struct crs_rec_timer *)info.timers, info.ntimers, crs_park_tid_now, err,
                               sizeof err))
            revive_log_error("restarted process %d: %s; it runs on without it", getpid(), err);
    }
    restart_old_pid = info.old_pid;
    restart_new_pid = info.new_pid;
    image_fd = -1;   /* that number may be the application's now */
    /* the scratch arena and the fork page were left out of the image */
    crs_scratch_init(&scratch, SCRATCH_SIZE);
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    fork_result = p == MAP_FAILED ? NULL : p;
    /* the hand-off blob lives in the restarter's leftovers: hooks first */
    crs_hooks_restart((const void *)info.handoff, info.handoff_len);
    for (uint32_t i = 0; i < info.nunmap && i < CRS_RESTART_MAX_UNMAP; i++)
        munmap((void *)info.unmap[i].start, info.unmap[i].len);
    point_exe_back();
    if (ckpt_nodump)
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    /* last: the program's seccomp filters (the other threads take theirs as they leave their
     * park), or at the component's unhold (crs_ckpt_opts.seccomp_later) */
    if (seccomp_later) {
        crs_seccomp_restore_defer(self_attr);
    } else {
        crs_seccomp_restore_common(self_attr);
        crs_seccomp_restore_own(self_attr);
    }
}

/* A forked writer sees the memory as a child does: without the pages of
 * MADV_DONTFORK regions, with MADV_WIPEONFORK ones zeroed, without the page
 * tables of shared huge pages (which hide them from mincore), and private
 * huge pages are copied for the child from the few the machine has free
 * (the kernel kills the child when there are none). Such a process is
 * written in place instead. */
static int fork_sees_all(const struct crs_capture *c)
{
    for (size_t i = 0; i < c->nregions; i++) {
        const struct crs_rec_region *r = &c->regions[i];
        if (r->flags & CRS_REGION_F_SAVED) {
            /* the process would change the file's pages while the child reads them */
            revive_log_info("the image is written in place, not by a forked child: the shared mapping of %s at "
                            "0x%llx is saved (--save-shared)", c->file_paths[r->file], (unsigned long long)r->start);
            return 0;
        }
        if ((r->madvise & (CRS_MADV_DONTFORK | CRS_MADV_WIPEONFORK)) || r->page_shift) {
            revive_log_info("the image is written in place, not by a forked child: the memory at 0x%llx %s",
                            (unsigned long long)r->start,
                            r->page_shift ? "is on huge pages" : "is not passed on to a child as it is");
            return 0;
        }
    }
    return 1;
}

/* A restart needs a mapping per region and CRS_RESTORER_MAPS of its own while both exist
 * (restore_check.c: check_map_count refuses past vm.max_map_count): an image past that is
 * said now, while the process still runs, so that --kill or --term does not end the only
 * copy that could be restarted here (review LOW). */
static void map_count_warning(const struct crs_capture *c, char *out, size_t cap)
{
    long limit = crs_max_map_count();
    size_t n = 0;
    for (size_t i = 0; i < c->nregions; i++)
        n += c->regions[i].kind != CRS_REGION_VDSO;
    out[0] = 0;
    if (limit > 0 && n + CRS_RESTORER_MAPS > (size_t)limit)
        snprintf(out, cap, "the image holds %zu memory mappings; with the %d a restart needs of its own that is "
                 "more than vm.max_map_count (%ld) allows, so cr_restart refuses it on this machine until the "
                 "limit is raised (as root: sysctl -w vm.max_map_count=%zu)", n, CRS_RESTORER_MAPS, limit,
                 (n + CRS_RESTORER_MAPS + 1023) & ~(size_t)1023);
}

/* crs_ckpt_result.shared: the writable shared file mappings whose pages stay the file's (not
 * saved), in crs/base/shared_note.h's form. Pieces of one mapping (cut by the capture filters)
 * are one. */
static void shared_note(const struct crs_capture *c, char *out, size_t cap)
{
    struct crs_shared_writer w;
    crs_shared_note_open(&w, out, cap, 0);
    for (size_t i = 0; i < c->nregions; i++) {
        const struct crs_rec_region *r = &c->regions[i];
        if (r->kind != CRS_REGION_FILE_SHARED || !(r->prot & PROT_WRITE) || (r->flags & CRS_REGION_F_SAVED))
            continue;
        uint64_t end = r->end;
        while (i + 1 < c->nregions && c->regions[i + 1].start == end && c->regions[i + 1].file == r->file &&
               c->regions[i + 1].kind == r->kind && c->regions[i + 1].pgoff == r->pgoff + (end - r->start))
            end = c->regions[++i].end;
        const char *path = c->file_paths[r->file];
        crs_shared_note_put(&w, -1, end - r->start, path, (int)strlen(path));
    }
    crs_shared_note_close(&w);
}

static long raw_fork(void)
{
    /* No glibc fork: its atfork handlers take locks a parked thread may hold.
     * No exit signal either, so the application never sees or reaps the child. */
    return syscall(SYS_clone, 0, NULL, NULL, NULL, 0);
}

/* The image's pages are read through /proc/self/mem and /proc/self/pagemap.
 * A process that is not dumpable finds them owned by root (mode 0600/0400),
 * so one that is not root cannot open its own. The kernel makes a process
 * undumpable when it changes its ids (a daemon that drops root), and then it
 * was refused late, naming those files, without a word of why or what to do
 * (issue 10). Asked before anything is parked: nothing changes in the process.
 * Returns 0, or -EACCES with the reason in err. */
static int self_readable(char *err, size_t errlen)
{
    revive_fd_enter(); /* the program's threads run: no fork copies it (common/fd_guard.h) */
    int fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
    int e = errno;
    if (fd >= 0)
        close(fd);
    revive_fd_leave();
    if (fd >= 0)
        return 0;
    int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    if ((e != EACCES && e != EPERM) || dumpable == 1)
        return 0;   /* another cause: the page walk's message names it */
    snprintf(err, errlen,
             "the process is not dumpable (prctl PR_GET_DUMPABLE gives %d), so it cannot read its own memory "
             "(/proc/self/mem: %s): the kernel makes a process undumpable when it changes its user or group "
             "(setuid, setresuid, setgid) after it started, or it called prctl(PR_SET_DUMPABLE, 0). Have the "
             "program call prctl(PR_SET_DUMPABLE, 1) after it changes its user, or start it as that user",
             dumpable, strerror(e));
    return -EACCES;
}

int crs_checkpoint_self(const struct crs_ckpt_opts *o, struct crs_ckpt_result *res)
{
    memset(res, 0, sizeof res[0]);
    if (!scratch.base || (o->fork_mode && !fork_result)) {
        snprintf(res->err, sizeof res->err, "checkpointing is not initialised in this process");
        res->status = -EINVAL;
        if (o->after_write)
            o->after_write(o->arg, res->status, res->err);
        return res->status;
    }
    res->status = self_readable(res->err, sizeof res->err);
    if (res->status) {
        if (o->after_write)
            o->after_write(o->arg, res->status, res->err);
        return res->status;
    }
    double t0 = revive_mono_ns() / 1e6;
    int he = crs_hooks_checkpoint(res->err, sizeof res->err);
    if (he) {
        res->status = he;
        if (o->after_write)
            o->after_write(o->arg, res->status, res->err);
        return res->status;
    }
    /* just before the park signal wakes every signalfd (capture_epoll_mark.c) */
    crs_capture_epoll_mark();
    long np = crs_park_all(o->timeout_ms, res->err, sizeof res->err);
    if (np < 0) {
        crs_capture_epoll_unmark();
        res->status = (int)np;
        if (o->after_write)
            o->after_write(o->arg, res->status, res->err);
        crs_hooks_continue(res->status);
        return res->status;
    }
    if (o->after_park) {
        int pe = o->after_park(o->arg, res->err, sizeof res->err);
        if (pe) {
            crs_capture_epoll_unmark();
            res->status = pe;
            crs_park_release();
            if (o->after_write)
                o->after_write(o->arg, res->status, res->err);
            crs_hooks_continue(res->status);
            return res->status;
        }
    }
    struct crs_capture *c = crs_scratch_alloc(&scratch, sizeof *c);
    memset(c, 0, sizeof *c);
    c->opts.tree = o->tree_member;
    c->opts.tree_placed = o->tree_placed;
    c->opts.ntree_placed = o->ntree_placed;
    c->opts.tree_elsewhere = o->tree_elsewhere;
    c->opts.ntree_elsewhere = o->ntree_elsewhere;
    c->opts.tree_members = o->tree_members;
    c->opts.ntree_members = o->ntree_members;
    c->opts.kept_zombies = o->kept_zombies;
    c->opts.nkept_zombies = o->nkept_zombies;
    c->scratch = &scratch;
    c->opts.ignore_fds = o->ignore_fds;
    c->opts.no_ignore_hint = o->no_ignore_hint;
    c->opts.zstd_level = o->zstd_level;
    c->opts.save_shared = o->save_shared;
    c->opts.file_data_max = o->file_data_max ? o->file_data_max : CRS_FILE_DATA_MAX_DEFAULT;
    if (o->file_data_max == UINT64_MAX)
        c->opts.file_data_max = 0;   /* no limit */
    c->opts.file_data_hint = o->file_data_hint ? o->file_data_hint : "cr_checkpoint --file-data-max=SIZE";
    c->opts.file_data_held = o->file_data_held;
    c->opts.file_data_held_what = o->file_data_held_what ? o->file_data_held_what : "saved data";
    c->opts.service_sockets = o->service_sockets ? o->service_sockets : getenv("REVIVE_SERVICE_SOCKETS");
    /* smaps after the page data where nothing before needs it (capture.h, smaps_late): the pages
     * reach the disk sooner by the smaps read (2.5-3 ms of CPU for an MPI rank's 363 mappings, of
     * each of 8 ranks on 2 cores, before any page was written) */
    const char *direct = getenv("REVIVE_IMAGE_DIRECT");
    c->opts.smaps_late = !o->fork_mode && !(direct && strcmp(direct, "1") == 0) && !crs_capture_pkeys_held();
    /* where keys may exist, every key open to this thread while it reads the process (capture.h) */
    unsigned pkru = c->opts.smaps_late ? crs_capture_pkeys_open() : 0;
    image_fd = o->fd;

    int e = collect(c, (size_t)np);
    if (!e) {
        /* the park signal itself is pending nowhere once parked; mask it anyway */
        uint64_t ours = 1ull << (crs_park_signal() - 1);
        for (size_t i = 0; i < c->nthreads; i++)
            c->threads[i].pending = crs_thread_pending(c->threads[i].tid, c) & ~ours;
        c->proc.shared_pending &= ~ours;
        crs_capture_sigqueue(c);
    }
    /* last, also when the capture failed: the consumed edges that our
     * wake-ups (the inotify filler, the signals queued again) queued again
     * go off the ready lists (capture_epoll_edges.c). Not those of the
     * signals the main thread queues again as it leaves its park: a signal
     * sent with kill(2) or by the kernel still pending wakes a signalfd
     * once more in the process that runs on. */
    {
        char err[256];
        if (crs_capture_epoll_settle(c, err, sizeof err))
            revive_log_error("%s; an epoll may report an edge the program took already", err);
    }
    last_nparked = c->nthreads;   /* the recorded ones: they come back */
    ckpt_nodump = (c->proc.flags & CRS_PROC_F_NODUMP) != 0;
    snprintf(last_exe, sizeof last_exe, "%s", c->exe ? c->exe : "");

    /* This thread's own record lives on its stack, which the image keeps. */
    struct crs_rec_thread self;
    struct crs_rec_thread_attr self_attr;
    memset(&self, 0, sizeof self);
    crs_thread_describe(&self);
    crs_thread_attr_describe(&self_attr);
    if (!e)
        e = crs_capture_seccomp_thread(c, self.tid, &self_attr.seccomp);
    self.flags |= CRS_THREAD_F_MANAGER;
    /* our mask, which the restart does not give back to this thread (it
     * comes back with every signal blocked): glibc's setuid() waits until
     * every thread has taken its SIGSETXID, so it hung after a restart */
    uint64_t mask = 0;
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &mask, 8);
    long restarted = e ? 0 : crs_ctx_save(&self.ctx);
    if (restarted) {
        after_restart((const struct crs_restart_info *)restarted, &self, &self_attr, o->seccomp_later);
        syscall(SYS_rt_sigprocmask, SIG_SETMASK, &mask, NULL, 8);
        res->restarted = 1;
        crs_park_release_restarted(o->hold_restarted, o->arg);
        return 0;
    }
    int released = 0;
    if (!e) {
        c->tattrs[c->nthreads] = self_attr;
        c->threads[c->nthreads++] = self;
        e = crs_capture_seccomp(c);
    }
    if (!e) {
        if (!o->fork_mode || !fork_sees_all(c)) {
            e = write_image(c, o, &res->image_bytes, 0);
        } else {
            fork_result->status = -EIO;
            strcpy(fork_result->err, "the image writer died");
            long pid = raw_fork();
            if (pid == 0) {
                uint64_t bytes = 0;
                int we = write_image(c, o, &bytes, 1);
                fork_result->status = we;
                fork_result->bytes = bytes;
                memcpy(fork_result->err, c->err, sizeof fork_result->err);
                syscall(SYS_exit_group, we ? 1 : 0);
            }
            if (pid < 0) {
                e = (int)pid;
                crs_capture_error(c, "cannot fork the image writer: %s", strerror((int)-pid));
            } else {
                crs_hooks_continue(0);
                res->stall_ms = revive_mono_ns() / 1e6 - t0;
                crs_park_release();
                released = 1;
                int st;
                while (waitpid((pid_t)pid, &st, __WALL) < 0 && errno == EINTR)
                    ;
                e = fork_result->status;
                res->image_bytes = fork_result->bytes;
                if (e)
                    memcpy(c->err, fork_result->err, sizeof c->err);
            }
        }
    }
    if (c->opts.smaps_late)
        crs_capture_pkeys_close(pkru);
    res->status = e;
    res->passing = e && c->passing;
    if (e)
        snprintf(res->err, sizeof res->err, "%s", c->err);
    else {
        map_count_warning(c, res->warn, sizeof res->warn);
        shared_note(c, res->shared, sizeof res->shared);
    }
    if (o->after_write && !(res->passing && o->passing_quiet))   /* the caller tries again */
        o->after_write(o->arg, res->status, res->status ? res->err : res->warn);
    if (!released) {
        crs_hooks_continue(res->status);
        res->stall_ms = revive_mono_ns() / 1e6 - t0;
        if (!res->status && o->hold_thread)
            crs_park_release_holding(o->hold_thread, o->arg);
        else
            crs_park_release();
    }
    crs_capture_fobj_release(c);
    image_fd = -1;
    crs_scratch_reset(&scratch);
    return res->status;
}
