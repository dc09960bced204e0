/* revive-restart-rank's node-local caches (restart_rank_cache.h): which copy of its image a
 * rank reads, and the run again from the snapshot directory's image when a cached copy's
 * restore fails. Split from revive-restart-rank.c (diffrev24 K-L2). */
#define _GNU_SOURCE
#include "restart_rank_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/fault.h"
#include "common/text.h"
#include "filem/filem.h"
#include "filem/local_retain.h"
#include "filem/partner.h"
#include "snapc/wire.h"
#include "filem/stage.h"

int rank_cache_lock_fd = -1;
static char used_cache[PATH_MAX]; /* the cached copy img names ("": the snapshot directory's) */
static struct stat used_id;       /* that copy's device and inode when it was chosen */

/* The copy a restore read (ID: its device, inode, and with STAMPED its change time and size)
 * is still the file NOW: a fresh copy renamed in has another inode, or the same inode number
 * given again (freed by an unlink) and another change time (diffrev26 S-L2). A change of the
 * copy's own ctime since (a chmod) makes it "another" copy too: then it is kept, not removed,
 * and the rank reads the snapshot directory's image, the safe side. */
static int same_copy(const struct stat *now, const struct stat *id, int stamped)
{
    return now->st_dev == id->st_dev && now->st_ino == id->st_ino &&
           (!stamped || (now->st_ctim.tv_sec == id->st_ctim.tv_sec && now->st_ctim.tv_nsec == id->st_ctim.tv_nsec &&
                         now->st_size == id->st_size));
}

/* The checksum the metadata records for rank r's image: 0, or -1 (no metadata to check a cached
 * copy against: the shared image is read). */
static int meta_checksum(const char *dir, int r, uint64_t *want)
{
    char err[REVIVE_TEXT_PATHS(2)], key[64];
    struct filem_meta m;
    filem_meta_init(&m);
    snprintf(key, sizeof key, "rank.%d.checksum", r);
    int e = filem_meta_read(dir, &m, err, sizeof err) < 0 || filem_meta_get_u64(&m, key, want) < 0;
    filem_meta_free(&m);
    return e ? -1 : 0;
}

static void use_cache(char *img, size_t len, const char *path)
{
    memcpy(img, path, strlen(path) + 1);
    if (strlen(path) < sizeof used_cache && strlen(path) < len && stat(path, &used_id) == 0)
        memcpy(used_cache, path, strlen(path) + 1);
}

/* Fault point cache-drop-hold: waits until the file REVIVE_STAGE_HOLD exists (10 min at most),
 * the cache's lock held and the copy about to be removed, so that a test renames a fresh copy in
 * meanwhile as --preload does (it must wait for the lock, and stay). */
static void drop_hold(int rank, const char *copy)
{
    const char *f = getenv("REVIVE_STAGE_HOLD");
    if (!revive_fault(REVIVE_FAULT_cache_drop_hold) || !f || !*f)
        return;
    fprintf(stderr, "revive-restart-rank: rank %d: holds before removing %s until %s exists "
                    "(fault point cache-drop-hold)\n", rank, copy, f);
    for (int i = 0; i < 12000 && access(f, F_OK) != 0; i++) {
        struct timespec d = {0, 50 * 1000 * 1000};
        nanosleep(&d, NULL);
    }
}

/* A cached or partner copy whose restore found a chunk damaged and whose whole check then
 * failed (-EBADMSG: its own bytes are wrong, whatever the metadata says; not a read error or a
 * want of memory, which may pass) is removed from this host's cache, as
 * SCR drops a cached dataset that fails its check: kept, every later restart would read it,
 * find it damaged and fall back again (and restart-mpi's fetch would offer it). The snapshot
 * directory's image is the copy this rank restores from; a later checkpoint or --preload fills
 * the cache again. Removed under the cache's lock taken exclusively, and only while COPY is
 * still the file ID names (the one the restore read): a --preload or a partner copy renames
 * its fresh copy in under the shared lock, and is not lost (diffrev25 S-L1). Returns what to
 * say: "removed from this host's cache" or why not. */
static const char *drop_damaged(int rank, const char *copy, const struct stat *id, int stamped, int e,
                                char *buf, size_t len)
{
    if (e != -EBADMSG)
        return "kept (it could not be read whole; a later restart checks it again)";
    char dir[PATH_MAX];
    const char *slash = strrchr(copy, '/');
    size_t n = slash ? (size_t)(slash - copy) : 0;
    if (!slash || n >= sizeof dir)
        return "kept (no cache directory in its name)";
    memcpy(dir, copy, n);
    dir[n ? n : 1] = 0;
    if (!n)
        dir[0] = '/';
    /* the other ranks reading this cache hold the lock until their restore has read their
     * image: seconds */
    int lock = filem_local_lock_exclusive(dir, 60 * 1000);
    if (lock == -ENOENT)
        return "removed from this host's cache (its sequence was removed meanwhile)";
    if (lock < 0) {
        snprintf(buf, len, "not removed (the cache's lock on %s: %s; a later restart checks it "
                 "again)", dir, strerror(-lock));
        return buf;
    }
    struct stat now;
    const char *said = "removed from this host's cache";
    if (lstat(copy, &now) < 0)
        said = errno == ENOENT ? said : "not removed (it cannot be looked at; a later restart checks it again)";
    else if (!same_copy(&now, id, stamped))
        said = "not removed: another copy took its place in this host's cache since its restore "
               "read it (a --preload, a partner copy), kept";
    else {
        drop_hold(rank, copy);
        if (unlink(copy) < 0 && errno != ENOENT) {
            snprintf(buf, len, "not removed (%s: a later restart checks it again)", strerror(errno));
            said = buf;
        }
    }
    close(lock);
    return said;
}

/* This host's cache holds no image of rank r of its own (the rank ran on a host that is lost):
 * the partner copy another node's rank sent here at the checkpoint (mpirun --ckpt-partner,
 * src/filem/partner.h), when it passes the same checks. Says which copy it reads, or why a
 * damaged one is refused. 1 when img names it. */
static int pick_partner(const char *ldir, int r, uint64_t want, char *img, size_t len)
{
    char ppath[PATH_MAX + 32], err[REVIVE_TEXT_PATHS(2)];
    if ((size_t)snprintf(ppath, sizeof ppath, "%s/%s%d.img", ldir, FILEM_PARTNER_PREFIX, r) >=
            sizeof ppath || access(ppath, F_OK) != 0)
        return 0;
    /* not removed: a header that differs from the metadata may be the metadata's fault, and
     * the copy the only good one left (diffrev25 S-L1) */
    if (filem_stage_check_header(ppath, want, err, sizeof err) < 0) {
        fprintf(stderr, "revive-restart-rank: rank %d: the partner copy %s fails its check (%s): "
                        "not used; reading the snapshot directory (%s)\n", r, ppath, err, img);
        return 0;
    }
    if (strlen(ppath) >= len)
        return 0;
    fprintf(stderr, "revive-restart-rank: rank %d reads the partner copy %s (its own node's "
                    "cache is not on this host)\n", r, ppath);
    use_cache(img, len, ppath);
    return 1;
}

void rank_cache_pick(const char *local, const char *dir, int r, int preload, char *img, size_t len)
{
    /* the cache's sequence directory up to PATH_MAX, its image's name after it (a longer path
     * is refused by the system: said with --preload, ENAMETOOLONG) */
    char ldir[PATH_MAX], lpath[PATH_MAX + 32], err[REVIVE_TEXT_PATHS(2)];
    uint64_t want;
    if (meta_checksum(dir, r, &want) < 0)
        return; /* no metadata to check a cached copy against: the shared image */
    int e = filem_local_seq_dir(local, dir, preload, ldir, sizeof ldir, err, sizeof err);
    if (e == 0 && (size_t)snprintf(lpath, sizeof lpath, "%s/rank_%d.img", ldir, r) >= PATH_MAX) {
        e = -ENAMETOOLONG;
        snprintf(err, sizeof err, "%s/rank_%d.img: %s", ldir, r, strerror(ENAMETOOLONG));
    }
    if (e < 0) {
        /* no copy of this snapshot on this host is the common case: nothing to say */
        if (preload || (e != -ENOENT && e != -EINVAL && access(local, F_OK) == 0))
            /* -EINVAL: a copied or renamed snapshot, no cache goes by its name (review: said on
             * every rank) */
            fprintf(stderr, "revive-restart-rank: rank %d: %s; reading the snapshot directory\n",
                    r, err);
        return;
    }
    /* held until the restore has read the image (the descriptor goes with this program):
     * the cache's retention keeps the sequence meanwhile (filem/local_retain.h) */
    int lock = filem_local_lock_shared(ldir);
    if (lock < 0 && !preload)
        return; /* pruned meanwhile: the shared image */
    /* The restore closes its own descriptors, those above every one of the image, when it
     * switches, but not the launcher's it keeps (keep_launcher_fds skips this one) nor a low
     * number the image does not use: either way the lock stayed in the restored rank for ever
     * and the cache of the job restarted from could never be pruned. Moved up among the
     * restore's own. */
    struct rlimit rl;
    int top = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
                      rl.rlim_cur < 65536 ? (int)rl.rlim_cur : 65536;
    int hi = lock >= 0 && top > 128 ? fcntl(lock, F_DUPFD_CLOEXEC, top - 64) : -1;
    if (hi >= 0) {
        close(lock);
        lock = hi;
    }
    rank_cache_lock_fd = lock;
    if (access(lpath, F_OK) == 0) {
        if (filem_stage_check_header(lpath, want, err, sizeof err) == 0 && strlen(lpath) < len) {
            use_cache(img, len, lpath);
            return;
        }
        /* kept, as a partner copy is (pick_partner) */
        fprintf(stderr, "revive-restart-rank: rank %d: the node-local copy fails its check (%s): "
                        "not used; this rank restores from the snapshot directory's image "
                        "instead\n", r, err);
        if (!preload)
            return;
    } else if (pick_partner(ldir, r, want, img, len))
        return;
    if (!preload)
        return;
    char name[32];
    snprintf(name, sizeof name, "rank_%d.img", r);
    if (filem_stage_file(img, ldir, name, want, 0, NULL, err, sizeof err) < 0) {
        fprintf(stderr, "revive-restart-rank: rank %d: --preload: %s; reading the snapshot "
                        "directory\n", r, err);
        return;
    }
    if (strlen(lpath) < len)
        use_cache(img, len, lpath);
    /* this restart's own copy: the restored rank's agent removes it when the job ends
     * normally (handed over with the restart's environment; newuser9 F4) */
    setenv(SNAPC_ENV_PRELOADED, lpath, 1);
}

/* The signal mask and ignored signals this program started with: a run again from the shared
 * image starts as this one did, whatever the failed restore had set. */
static sigset_t start_mask;
static sigset_t start_ignored;

void rank_cache_note_start(void)
{
    sigprocmask(SIG_BLOCK, NULL, &start_mask);
    sigemptyset(&start_ignored);
    for (int s = 1; s < NSIG; s++) {
        struct sigaction sa;
        if (sigaction(s, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
            sigaddset(&start_ignored, s);
    }
}

/* Closes [lo, hi] (close_range, or one by one where the kernel has none). */
static void close_span(unsigned lo, unsigned hi)
{
    if (lo > hi)
        return;
#ifdef SYS_close_range
    if (syscall(SYS_close_range, lo, hi, 0) == 0)
        return;
#endif
    struct rlimit rl;
    unsigned top = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
                           rl.rlim_cur < (1u << 20) ? (unsigned)rl.rlim_cur : (1u << 20);
    for (unsigned fd = lo; fd <= hi && fd < top; fd++)
        close((int)fd);
}

/* Closes every descriptor above the standard streams but the n in keep (the launcher's). */
static void close_all_but(const int *keep, int n)
{
    unsigned lo = 3;
    for (;;) {
        int next = -1; /* the lowest kept descriptor at lo or above */
        for (int i = 0; i < n; i++)
            if (keep[i] >= (int)lo && (next < 0 || keep[i] < next))
                next = keep[i];
        if (next < 0)
            break;
        if ((unsigned)next > lo)
            close_span(lo, (unsigned)next - 1);
        lo = (unsigned)next + 1;
    }
    close_span(lo, ~0u);
}

void rank_cache_run_again(int rank, char **argv, const char *shared, const char *why,
                          const int *keep, int nkeep, const char *cwd)
{
    if (!used_cache[0] || !strcmp(used_cache, shared) || access(shared, R_OK) != 0)
        return; /* no other copy here (the sequence is read from this host's cache) */
    char id[PATH_MAX + 64], stamp[64];
    snprintf(id, sizeof id, "%ju:%ju:%s", (uintmax_t)used_id.st_dev, (uintmax_t)used_id.st_ino,
             used_cache);
    snprintf(stamp, sizeof stamp, "%jd.%09ld:%jd", (intmax_t)used_id.st_ctim.tv_sec, (long)used_id.st_ctim.tv_nsec,
             (intmax_t)used_id.st_size);
    if (setenv(RANK_CACHE_FAILED_VAR, id, 1) != 0 || setenv(RANK_CACHE_STAMP_VAR, stamp, 1) != 0 ||
        setenv(RANK_CACHE_ERR_VAR, why, 1) != 0)
        return;
    /* said before the descriptors go: a run again is visible in the job's output */
    fprintf(stderr, "revive-restart-rank: rank %d: runs again to restore from the snapshot directory's "
                    "image %s (the restore of %s stopped while loading its memory)\n", rank, shared, used_cache);
    close_all_but(keep, nkeep);
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            signal(s, sigismember(&start_ignored, s) ? SIG_IGN : SIG_DFL);
    sigprocmask(SIG_SETMASK, &start_mask, NULL);
    if (cwd[0] && chdir(cwd) != 0)
        return;
    execv("/proc/self/exe", argv);
    fprintf(stderr, "revive-restart-rank: rank %d: cannot run again to restore from the snapshot "
                    "directory's image %s: %s\n", rank, shared, strerror(errno));
}

int rank_cache_failed(int rank, const char *dir, const char *failed, const char *stamp, const char *why,
                      const char *img, char *msg, size_t len)
{
    uint64_t want;
    char err[REVIVE_TEXT_PATHS(2)] = "the snapshot's metadata cannot be read";
    /* DEV:INO:PATH (rank_cache_run_again): the copy the restore read */
    uintmax_t dev, ino;
    int at = -1;
    struct stat id = {0};
    if (sscanf(failed, "%ju:%ju:%n", &dev, &ino, &at) < 2 || at < 0) {
        snprintf(msg, len, "%s", why);
        return -1;
    }
    id.st_dev = (dev_t)dev;
    id.st_ino = (ino_t)ino;
    intmax_t csec, size;
    long cnsec;
    int stamped = stamp && sscanf(stamp, "%jd.%ld:%jd", &csec, &cnsec, &size) == 3;
    if (stamped) {
        id.st_ctim.tv_sec = (time_t)csec;
        id.st_ctim.tv_nsec = cnsec;
        id.st_size = (off_t)size;
    }
    const char *copy = failed + at;
    const char *kind = strstr(copy, "/" FILEM_PARTNER_PREFIX) ? "partner copy" : "node-local copy";
    struct stat now;
    /* another copy renamed in since (a --preload, a partner copy): the one read is gone, this
     * rank reads the snapshot directory's image as it would have */
    int replaced = stat(copy, &now) < 0 || !same_copy(&now, &id, stamped);
    int meta = replaced ? 0 : meta_checksum(dir, rank, &want);
    int v = replaced || meta != 0 ? meta : filem_stage_verify(copy, want, err, sizeof err);
    if (!replaced && v == 0 && (stat(copy, &now) < 0 || !same_copy(&now, &id, stamped)))
        replaced = 1; /* it was while it was checked */
    if (replaced) {
        fprintf(stderr, "revive-restart-rank: rank %d: the %s %s is no longer the copy its restore "
                        "read (replaced or removed in this host's cache since; that restore "
                        "stopped: %s); this rank restores from the "
                        "snapshot directory's image %s instead\n", rank, kind, copy, why, img);
        return 0;
    }
    /* sound, or not checked for want of metadata, memory, descriptors or permission: not the
     * copy's fault (diffrev24 K-M1) */
    if (v == 0 || meta != 0 || v == -ENOMEM || v == -EMFILE || v == -ENFILE || v == -EACCES || v == -EPERM || v == -EINTR) {
        if (v == 0)
            snprintf(msg, len, "%s", why);
        else if (snprintf(msg, len, "%s (the %s %s could not be checked after that: %s)", why, kind,
                          copy, err) >= (int)len)
            revive_text_cut(msg, len);
        return -1;
    }
    char dbuf[REVIVE_TEXT_PATHS(1)];
    fprintf(stderr, "revive-restart-rank: rank %d: the %s %s is damaged (%s): its restore stopped "
                    "before anything of the rank was committed; not used, %s; this rank restores "
                    "from the snapshot directory's image %s instead\n", rank, kind, copy, err,
            drop_damaged(rank, copy, &id, stamped, v, dbuf, sizeof dbuf), img);
    return 0;
}
