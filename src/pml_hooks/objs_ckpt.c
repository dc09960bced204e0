/* Files and windows at a global snapshot (see objs.h): after the drain, with the gate closed and
 * the lower half owned by the agent thread of every rank, pml_objs_settle brings each open file
 * and window to a state that the rank image and the file system hold completely:
 *
 *   - a window in a fence epoch (the last fence did not say MPI_MODE_NOSUCCEED): one more fence,
 *     made by the agents of all its members (their fence counts are equal at a safe point: fences
 *     are counted on the window's clock), completes every operation of the epoch at its origin
 *     and its target. The program's next fence closes the epoch this one opened, whatever its
 *     assert says (no operation came between the two). Unless a member holds a shared lock or
 *     MPI_Win_lock_all of the window: a program may follow a fence with passive-target epochs
 *     when that fence began no epoch (no operation after it), and a fence inside a lock epoch is
 *     erroneous (MPICH aborts the job: "Wrong synchronization of RMA calls", newuser7c H1). The
 *     members agree first (agree_fences): none fences a window one of them holds so.
 *   - a window with shared locks or MPI_Win_lock_all held: MPI_Win_flush of each locked target
 *     (flush_all) completes their operations at the target. The locks stay held.
 *   - post/start epochs and exclusive locks are never open here: a rank holding one is not at a
 *     safe point (win.c counts them in pml_epochs_open; clock.c's pml_all_reached), so it runs
 *     on until it closes them.
 *   - a split collective begun and not ended: ended in the library now (every member began it:
 *     begins are counted on the file's clock); the program's own end call gets the status.
 *   - nonblocking file operations and request-based RMA were completed by the drain (they are in
 *     the request table).
 *   - a shared window's segment is the library's: room for a copy of this rank's part is made
 *     in application memory (win_ckpt.c); the copy is made once every member's fences and
 *     flushes completed (the barrier below) and every thread of the rank is parked for its
 *     image (capture.c), so that neither another rank's operation nor a store of an application
 *     thread outside MPI lands in the window after the copy.
 *   - every file: its data flushed to the disk (fsync of the file), and its state read into its
 *     struct pml_file: both file pointers, the atomicity, the file's identity (device, inode,
 *     size, modification time), which a restart checks before it opens the file again.
 *   - the library's POSIX AIO helper threads (Open MPI's OMPIO starts them for nonblocking file
 *     access; they block every signal, so no checkpoint can park them) have ended: they do
 *     within glibc's idle time (1 s) once their requests are done.
 * Collective steps go in the order of the objects' clock ids, the same on every rank. A last
 * barrier on the layer's private world keeps every rank's progress going until all are done
 * (a flush completes only with its target's progress).
 *
 * An extension section "mpi-objs" in the rank image lists the open files and windows with that
 * state (one line each), for cr_info and people. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/objs.h"
#include "common/fd_guard.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "crs/base/capture_filter.h"
#include "pml_hooks/halves.h"
#include "pml_hooks/objs_line.h"

static int cmp_ref(const void *a, const void *b)
{
    const struct pml_obj_ref *x = a, *y = b;
    return x->cid < y->cid ? -1 : x->cid > y->cid;
}

struct pml_obj_ref *pml_objs_in_clock_order(int *n)
{
    int k = 0;
    for (struct pml_file *f = pml_files; f; f = f->next)
        k++;
    for (struct pml_win *w = pml_wins; w; w = w->next)
        k++;
    *n = k;
    if (!k)
        return NULL;
    struct pml_obj_ref *refs = calloc((size_t)k, sizeof *refs);
    if (!refs) {
        *n = -1;
        return NULL;
    }
    k = 0;
    for (struct pml_file *f = pml_files; f; f = f->next)
        refs[k++] = (struct pml_obj_ref){ f->clock ? f->clock->cid : 0, f, NULL };
    for (struct pml_win *w = pml_wins; w; w = w->next)
        refs[k++] = (struct pml_obj_ref){ w->clock ? w->clock->cid : 0, NULL, w };
    qsort(refs, (size_t)k, sizeof *refs, cmp_ref);
    return refs;
}

static int split_end(struct pml_file *f, char *err, size_t errlen)
{
    MPI_File r = (MPI_File)pml_v2r(f->v);
    void *buf = (void *)f->split_buf;
    MPI_Status st;
    memset(&st, 0, sizeof st);
    int rc;
    switch (f->split) {
    case PML_FILE_SPLIT_READ_ALL: rc = pml_L.MPI_File_read_all_end(r, buf, &st); break;
    case PML_FILE_SPLIT_READ_AT_ALL: rc = pml_L.MPI_File_read_at_all_end(r, buf, &st); break;
    case PML_FILE_SPLIT_READ_ORDERED: rc = pml_L.MPI_File_read_ordered_end(r, buf, &st); break;
    case PML_FILE_SPLIT_WRITE_ALL: rc = pml_L.MPI_File_write_all_end(r, buf, &st); break;
    case PML_FILE_SPLIT_WRITE_AT_ALL: rc = pml_L.MPI_File_write_at_all_end(r, buf, &st); break;
    case PML_FILE_SPLIT_WRITE_ORDERED: rc = pml_L.MPI_File_write_ordered_end(r, buf, &st); break;
    default: return 0;
    }
    /* the program's end call returns what the library said, error included */
    st.MPI_ERROR = rc;
    f->split_status = st;
    f->split_done = 1;
    (void)err, (void)errlen;
    return 0;
}

/* The members of each window agree whether its open fence epoch gets its completing fence: not
 * when one of them holds a lock of it (see the top). Every rank sends the clock ids of the
 * windows it holds so (none for most jobs: one round of counts, no second); a window that
 * another member named has fence_open cleared everywhere, so that the image, the restart's
 * re-fence (win_ckpt.c) and --term's release (term.c) agree too. */
static int agree_fences(struct pml_obj_ref *refs, int n, char *err, size_t errlen)
{
    uint64_t *mine = malloc((size_t)(n > 0 ? n : 1) * sizeof *mine);
    if (!mine) {
        snprintf(err, errlen, "out of memory for the list of locked MPI windows");
        return -ENOMEM;
    }
    int k = 0;
    for (int i = 0; i < n; i++) {
        struct pml_win *w = refs[i].w;
        if (!w || !w->fence_open || !(w->lock_all || w->nlocks))
            continue;
        if (w->clock)
            mine[k++] = refs[i].cid;
        else
            w->fence_open = 0; /* a window of one rank: nobody else to ask */
    }
    uint64_t *all = NULL;
    long n_all = 0;
    int e = pml_xchgv(PML_XCHG_LOCKEDCOUNTS, PML_XCHG_LOCKED, mine, k, &all, &n_all,
                      revive_mono_s() + 60, "the agreement on the fences of locked MPI windows",
                      err, errlen);
    free(mine);
    if (e)
        return e;
    for (int i = 0; i < n; i++) {
        struct pml_win *w = refs[i].w;
        if (!w || !w->fence_open || !w->clock)
            continue;
        for (long j = 0; j < n_all; j++)
            if (all[j] == refs[i].cid) {
                revive_log_debug("snapshot: a window's open fence epoch is left to the program (a "
                                 "member holds a lock of it)");
                w->fence_open = 0;
                break;
            }
    }
    free(all);
    return 0;
}

/* The collective steps of one object. */
/* The agent's fences and flushes wait inside the library for the other ranks: with
 * REVIVE_MPI_YIELD_WHEN_IDLE=1 their idle progress turns yield and sleep as the program's do
 * (PML_LIB_WAIT). Unmarked, 8 MPICH ranks on 2 cores each spun flat out in the fence of every
 * window while its peers waited for a core: 200-300 ms of a snapshot for 4 windows
 * (bench/mpi/README.md, "Global checkpoint"). */
static int settle_collective(struct pml_obj_ref *o, char *err, size_t errlen)
{
    if (o->w && o->w->fence_open) {
        int rc = PML_LIB_WAIT(pml_slot(), pml_L.MPI_Win_fence(0, (MPI_Win)pml_v2r(o->w->v)));
        if (rc != MPI_SUCCESS) {
            snprintf(err, errlen, "the fence that completes the open epoch of a window failed "
                     "(MPI error %d)", rc);
            return -EIO;
        }
    }
    if (o->f && o->f->split && !o->f->split_done)
        return split_end(o->f, err, errlen);
    return 0;
}

static int settle_locks(struct pml_win *w, char *err, size_t errlen)
{
    MPI_Win r = (MPI_Win)pml_v2r(w->v);
    int rc = MPI_SUCCESS;
    if (w->lock_all)
        rc = PML_LIB_WAIT(pml_slot(), pml_L.MPI_Win_flush_all(r));
    for (int t = 0; t < w->comm_size && rc == MPI_SUCCESS && w->nlocks; t++)
        if (w->locks[t])
            rc = PML_LIB_WAIT(pml_slot(), pml_L.MPI_Win_flush(t, r));
    if (rc != MPI_SUCCESS) {
        snprintf(err, errlen, "the flush that completes the operations of a window's locks failed "
                 "(MPI error %d)", rc);
        return -EIO;
    }
    return 0;
}

/* A file opened with MPI_MODE_DELETE_ON_CLOSE: its communicator's rank 0 reads its bytes into
 * its memory, so into its image. The job's close deletes such a file (Open MPI's MPI_Finalize,
 * at --term, too), and a restart needs what it held at the snapshot: newuser13 F1, every restart
 * after the job's end was refused ("the MPI file ... is gone"), on MPICH the second one. The
 * size is the one settle_file read after the flush (nobody writes the file since: every
 * application thread is out of MPI, the members' flushes met in the settling's barrier). */
static int keep_scratch(struct pml_file *f, uint64_t held, uint64_t max, char *err, size_t errlen)
{
    off_t size = f->size;
    if (max && held + (uint64_t)size > max) {
        snprintf(err, errlen, "the MPI file %s, opened with MPI_MODE_DELETE_ON_CLOSE, holds %llu MiB "
                 "that the snapshot must keep; with the rank's other such files that is more than "
                 "the %llu MiB an image may hold of saved files: raise the limit (mpirun -am "
                 "ft-enable-cr --ckpt-file-data-max SIZE, or REVIVE_FILE_DATA_MAX=SIZE for the ranks), "
                 "or close the file before the checkpoint", f->abspath,
                 (unsigned long long)(((uint64_t)size + (1 << 20) - 1) >> 20),
                 (unsigned long long)(max >> 20));
        return -EFBIG;
    }
    char *buf = malloc(size > 0 ? (size_t)size : 1);
    if (!buf) {
        snprintf(err, errlen, "no memory for a copy of the MPI file %s (%lld bytes), opened with "
                 "MPI_MODE_DELETE_ON_CLOSE: the snapshot keeps what such a file holds",
                 f->abspath, (long long)size);
        return -ENOMEM;
    }
    revive_fd_enter();
    int fd = open(f->abspath, O_RDONLY | O_CLOEXEC);
    int e = errno;
    revive_fd_own(fd);
    revive_fd_leave();
    size_t got = 0;
    while (fd >= 0 && got < (size_t)size) {
        ssize_t k = pread(fd, buf + got, (size_t)size - got, (off_t)got);
        if (k <= 0) {
            e = k < 0 ? errno : EIO; /* shorter than its size a moment ago: changed meanwhile */
            break;
        }
        got += (size_t)k;
    }
    revive_close_owned(fd);
    if (got < (size_t)size) {
        free(buf);
        snprintf(err, errlen, "cannot read the MPI file %s, opened with MPI_MODE_DELETE_ON_CLOSE, "
                 "for the snapshot: %s", f->abspath, strerror(e));
        return -e;
    }
    f->kept = buf;
    f->kept_len = got;
    f->scratch_put = 0; /* (a restart of an earlier snapshot wrote the last copy back) */
    return 0;
}

/* In the capture, not in the drain's settling (settle_file): a copy that cannot be taken is the
 * image's failure, and the coordinator names the step that failed ("could not write its image";
 * from the drain it said "could not drain its messages": diffrev43 R-L3). */
int pml_objs_keep_scratch(uint64_t max, uint64_t *held, char *err, size_t errlen)
{
    pml_objs_kept_free();
    *held = 0;
    for (struct pml_file *f = pml_files; f; f = f->next) {
        if (!(f->amode & MPI_MODE_DELETE_ON_CLOSE) || f->comm_rank != 0)
            continue;
        int e = keep_scratch(f, *held, max, err, errlen);
        if (e) {
            pml_objs_kept_free();
            *held = 0;
            return e;
        }
        *held += f->kept_len;
    }
    return 0;
}

void pml_objs_kept_free(void)
{
    for (struct pml_file *f = pml_files; f; f = f->next) {
        free(f->kept);
        f->kept = NULL;
        f->kept_len = 0;
    }
}

/* Data on the disk, pointers and identity read (the file's own descriptor is the library's; an
 * fsync on any descriptor of the file writes its dirty pages). */
static int settle_file(struct pml_file *f, char *err, size_t errlen)
{
    MPI_File r = (MPI_File)pml_v2r(f->v);
    if ((f->amode & (MPI_MODE_WRONLY | MPI_MODE_RDWR))) {
        /* Revive's descriptor while threads outside MPI may fork: owned across the fsync
         * (common/fd_guard.h) */
        revive_fd_enter();
        int fd = open(f->abspath, O_RDONLY | O_CLOEXEC);
        int e = errno;
        revive_fd_own(fd);
        revive_fd_leave();
        if (fd < 0 || fsync(fd) != 0) {
            e = fd < 0 ? e : errno;
            revive_close_owned(fd);
            snprintf(err, errlen, "cannot flush the MPI file %s to the disk: %s", f->abspath,
                     strerror(e));
            return -e;
        }
        revive_close_owned(fd);
    }
    f->pos = f->pos_shared = 0;
    f->have_shared = 0;
    /* MPI_MODE_SEQUENTIAL files have no individual pointer: the call fails, 0 is kept */
    pml_L.MPI_File_get_position(r, &f->pos);
    if (pml_L.MPI_File_get_position_shared(r, &f->pos_shared) == MPI_SUCCESS)
        f->have_shared = 1;
    pml_L.MPI_File_get_atomicity(r, &f->atomic);
    struct stat sb;
    if (stat(f->abspath, &sb) != 0) {
        snprintf(err, errlen, "the MPI file %s cannot be found any more: %s", f->abspath,
                 strerror(errno));
        return -errno;
    }
    f->dev = sb.st_dev;
    f->ino = sb.st_ino;
    f->size = sb.st_size;
    f->mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
    f->btime_ns = pml_file_btime_ns(f->abspath);
    return 0;
}

int64_t pml_file_btime_ns(const char *path)
{
    struct statx sx;
    if (statx(AT_FDCWD, path, 0, STATX_BTIME, &sx) != 0 || !(sx.stx_mask & STATX_BTIME))
        return 0;
    return (int64_t)sx.stx_btime.tv_sec * 1000000000 + sx.stx_btime.tv_nsec;
}

/* Threads of the lower half that block (nearly) every signal: glibc's POSIX AIO helpers, which
 * Open MPI's OMPIO starts for nonblocking file access. A checkpoint cannot park them; once their
 * requests are done they end by themselves (glibc's idle time: 1 s). */
static int lower_sigblocked_threads(void)
{
    revive_fd_enter(); /* no fork copies its descriptors (common/fd_guard.h) */
    DIR *d = opendir("/proc/self/task");
    if (!d) {
        revive_fd_leave();
        return 0;
    }
    int n = 0;
    pid_t self = (pid_t)gettid();
    for (struct dirent *e; (e = readdir(d));) {
        pid_t tid = (pid_t)atoi(e->d_name);
        if (tid <= 0 || tid == self || pml_half_of_thread(tid, NULL) != PML_HALF_LOWER)
            continue;
        char path[64], line[256];
        snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)tid);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        unsigned long long blk = 0;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "SigBlk: %llx", &blk) == 1)
                break;
        fclose(f);
        n += __builtin_popcountll(blk) >= 58;
    }
    closedir(d);
    revive_fd_leave();
    return n;
}

/* Waits (up to 5 s) until the AIO helpers of completed file operations have ended. */
static int wait_aio_helpers(char *err, size_t errlen)
{
    double end = revive_mono_s() + 5;
    int n;
    while ((n = lower_sigblocked_threads()) > 0) {
        if (revive_mono_s() > end) {
            snprintf(err, errlen, "%d thread(s) of the MPI library that block every signal (POSIX "
                     "AIO helpers of MPI-IO) did not end within 5 s", n);
            return -EBUSY;
        }
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    return 0;
}

int pml_objs_settle(char *err, size_t errlen)
{
    /* never, since the calls that open them are counted (win.c): a snapshot with one would be
     * refused by its restart, so this epoch fails instead */
    uint32_t open_epochs = __atomic_load_n(&pml_epochs_open, __ATOMIC_SEQ_CST);
    if (open_epochs) {
        snprintf(err, errlen, "%u post/start epoch(s) or exclusive lock(s) of one-sided "
                 "communication are open (the rank was not at a safe point)", open_epochs);
        return -EBUSY;
    }
    int n;
    struct pml_obj_ref *refs = pml_objs_in_clock_order(&n);
    if (n < 0) {
        snprintf(err, errlen, "out of memory for the list of open MPI files and windows");
        return -ENOMEM;
    }
    int e = agree_fences(refs, n, err, errlen); /* every rank, windows or not */
    for (int i = 0; i < n && !e; i++)
        e = settle_collective(&refs[i], err, errlen);
    for (int i = 0; i < n && !e; i++)
        if (refs[i].w)
            e = settle_locks(refs[i].w, err, errlen);
    for (int i = 0; i < n && !e; i++)
        if (refs[i].f)
            e = settle_file(refs[i].f, err, errlen);
    if (!e)
        e = pml_win_save_memory(err, errlen);
    if (!e && pml_files)
        e = wait_aio_helpers(err, errlen);
    free(refs);
    /* every rank's flushes complete with its targets' progress: keep progressing until all are
     * done (every rank comes here, with or without objects; an error stops only this rank,
     * whose failure the coordinator turns into an abort of the epoch) */
    if (e)
        return e;
    e = pml_xchg(PML_XCHG_SETTLED, NULL, NULL, revive_mono_s() + 60, "the barrier after completing the "
                 "operations on open MPI files and windows", err, errlen);
    if (e)
        return e;
    pml_objs_section_register();
    if (n)
        revive_log_debug("snapshot: %d open MPI files and windows settled", n);
    return 0;
}

/* While a rank waits at a collective's entry during an epoch (clock.c): the library answers
 * other ranks' one-sided requests (a lock, an unlock, a flush aimed at this rank). */
void pml_objs_progress(void)
{
    int flag = 0;
    if (pml_L.MPI_Iprobe && pml_private_world)
        pml_L.MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, (MPI_Comm)pml_private_world, &flag,
                         MPI_STATUS_IGNORE);
}

/* ---- the extension section --------------------------------------------------------------- */
static const char *flavor_name(int f)
{
    switch (f) {
    case MPI_WIN_FLAVOR_CREATE: return "create";
    case MPI_WIN_FLAVOR_ALLOCATE: return "allocate";
    case MPI_WIN_FLAVOR_DYNAMIC: return "dynamic";
    case MPI_WIN_FLAVOR_SHARED: return "shared";
    default: return "?";
    }
}

/* Runs while the image is written, every other thread parked: stack only. */
static int produce(void *arg, struct crs_ext_sink *sink)
{
    (void)arg;
    char line[PATH_MAX + 512];
    int nf = 0, nw = 0;
    for (struct pml_file *f = pml_files; f; f = f->next)
        nf++;
    for (struct pml_win *w = pml_wins; w; w = w->next)
        nw++;
    int n = snprintf(line, sizeof line, "revive-mpi-objs 1\nfiles %d\nwindows %d\n", nf, nw);
    int e = crs_ext_write(sink, line, (size_t)n);
    for (struct pml_file *f = pml_files; f && !e; f = f->next) {
        n = snprintf(line, sizeof line,
                     "file amode=%#x ranks=%d view=%s disp=%lld datarep=%s pos=%lld pos_shared=%s%lld "
                     "atomic=%d split=%d hints=%d dev=%llu ino=%llu size=%lld path=%s\n",
                     (unsigned)f->amode, f->comm_size, f->view_set ? "set" : "default",
                     (long long)f->disp, f->datarep, (long long)f->pos,
                     f->have_shared ? "" : "?", (long long)f->pos_shared, f->atomic, f->split,
                     f->open_hints.n + f->view_hints.n, (unsigned long long)f->dev,
                     (unsigned long long)f->ino, (long long)f->size, f->abspath);
        e = crs_ext_write(sink, line, (size_t)(n < (int)sizeof line ? n : (int)sizeof line - 1));
    }
    for (struct pml_win *w = pml_wins; w && !e; w = w->next) {
        struct pml_objs_win_line l; /* its keys: objs_line.h, shared with restart_wincheck.c */
#define WV(k, ...) snprintf(l.v[PML_WK_##k], sizeof l.v[0], __VA_ARGS__)
        WV(FLAVOR, "%s", flavor_name(w->flavor));
        WV(RANKS, "%d", w->comm_size);
        WV(BASE, "%p", w->base);
        WV(SIZE, "%lld", (long long)w->size);
        WV(DISP_UNIT, "%d", w->disp_unit);
        WV(FENCES, "%llu", (unsigned long long)w->nfence);
        WV(FENCE_EPOCH, "%d", w->fence_open);
        WV(LOCK_ALL, "%d", w->lock_all != 0);
        WV(LOCKS, "%d", w->nlocks);
        WV(MEMORY, "%s", pml_win_memory_kind(w));
#undef WV
        n = pml_objs_win_format(line, sizeof line, &l);
        e = crs_ext_write(sink, line, (size_t)(n < (int)sizeof line ? n : (int)sizeof line - 1));
    }
    return e;
}

void pml_objs_section_register(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    int e = crs_capture_extension_register("mpi-objs", produce, NULL);
    if (e)
        revive_log_warn("cannot register the section of open MPI files and windows: %s",
                        strerror(-e));
}
