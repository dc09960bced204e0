/* revive-restart-rank's node-local caches (restart_rank_cache.h): which copy of its image a
 * rank reads, and the run again from the snapshot directory's image when a cached copy's
 * restore fails. Split from revive-restart-rank.c (diffrev24 K-L2). */
#define _GNU_SOURCE
#include "restart_rank_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/text.h"
#include "filem/filem.h"
#include "filem/local_retain.h"
#include "filem/partner.h"
#include "filem/stage.h"

int rank_cache_lock_fd = -1;
static char used_cache[4096];   /* the cached copy img names ("": the snapshot directory's) */

/* The checksum the metadata records for rank r's image: 0, or -1 (no metadata to check a cached
 * copy against: the shared image is read). */
static int meta_checksum(const char *dir, int r, uint64_t *want)
{
    char err[1024], key[64];
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
    if (strlen(path) < sizeof used_cache && strlen(path) < len)
        memcpy(used_cache, path, strlen(path) + 1);
}

/* A cached or partner copy whose restore found a chunk damaged and whose whole check then
 * failed (-EBADMSG: its own bytes are wrong, whatever the metadata says; not a read error or a
 * want of memory, which may pass) is removed from this host's cache, as
 * SCR drops a cached dataset that fails its check: kept, every later restart would read it,
 * find it damaged and fall back again (and restart-mpi's fetch would offer it). The snapshot
 * directory's image is the copy this rank restores from; a later checkpoint or --preload fills
 * the cache again. Returns what to say: "removed from this host's cache" or why not. */
static const char *drop_damaged(const char *copy, int e, char *buf, size_t len)
{
    if (e != -EBADMSG)
        return "kept (it could not be read whole; a later restart checks it again)";
    if (unlink(copy) == 0 || errno == ENOENT)
        return "removed from this host's cache";
    snprintf(buf, len, "not removed (%s: a later restart checks it again)", strerror(errno));
    return buf;
}

/* This host's cache holds no image of rank r of its own (the rank ran on a host that is lost):
 * the partner copy another node's rank sent here at the checkpoint (mpirun --ckpt-partner,
 * src/filem/partner.h), when it passes the same checks. Says which copy it reads, or why a
 * damaged one is refused. 1 when img names it. */
static int pick_partner(const char *ldir, int r, uint64_t want, char *img, size_t len)
{
    char ppath[4096], err[REVIVE_TEXT_PATHS(2)];
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
    char ldir[3800], lpath[4096], err[REVIVE_TEXT_PATHS(2)];
    uint64_t want;
    if (meta_checksum(dir, r, &want) < 0)
        return; /* no metadata to check a cached copy against: the shared image */
    int e = filem_local_seq_dir(local, dir, preload, ldir, sizeof ldir, err, sizeof err);
    if (e < 0 || (size_t)snprintf(lpath, sizeof lpath, "%s/rank_%d.img", ldir, r) >= sizeof lpath) {
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
    if (setenv(RANK_CACHE_FAILED_VAR, used_cache, 1) != 0 || setenv(RANK_CACHE_ERR_VAR, why, 1) != 0)
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

int rank_cache_failed(int rank, const char *dir, const char *copy, const char *why,
                      const char *img, char *msg, size_t len)
{
    uint64_t want;
    char err[REVIVE_TEXT_PATHS(2)] = "the snapshot's metadata cannot be read";
    const char *kind = strstr(copy, "/" FILEM_PARTNER_PREFIX) ? "partner copy" : "node-local copy";
    int meta = meta_checksum(dir, rank, &want);
    int v = meta == 0 ? filem_stage_verify(copy, want, err, sizeof err) : meta;
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
    char dbuf[128];
    fprintf(stderr, "revive-restart-rank: rank %d: the %s %s is damaged (%s): its restore stopped "
                    "before anything of the rank was committed; not used, %s; this rank restores "
                    "from the snapshot directory's image %s instead\n", rank, kind, copy, err,
            drop_damaged(copy, v, dbuf, sizeof dbuf), img);
    return 0;
}
