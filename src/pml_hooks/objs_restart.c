/* Files and windows after a restart (see objs.h, objs_ckpt.c): called in the restarted process
 * once the fresh lower half is up and the creation record has been replayed (its communicators
 * and datatypes exist again), from the agent thread, on every rank.
 *
 * Each file open at the snapshot is checked first (find_file: the same file, not shorter, still
 * open to the user for its access mode; one written on after the snapshot is taken as it is,
 * with a note); the members of its communicator agree, so that a file one rank refuses fails
 * the restart on every rank, the reason said once, instead of a collective open that the others
 * wait in; such a refusal is the environment's, not the snapshot's (pml_restart_refused: the
 * snapshot is not marked as failed). Then it is opened again collectively on
 * its communicator with its access mode (MPI_MODE_EXCL left out: the file exists) and hints, in
 * the order of the files' clock ids (the same on every rank), its view is set again (the layer
 * held references to its datatypes, so the replay made them again even if the program freed
 * them), so is its error handler (referenced the same way), its atomicity, and both file
 * pointers are moved back. The communicator it is opened on is the one the replay made for the
 * file's MPI_File_open (replay.c): one the program freed while the file stayed open (the file
 * keeps its own reference, as the standard allows) is made again as an ancestor and freed once
 * every file is open again (newuser8 F6). A split collective that the snapshot ended keeps its
 * status for the program's _end call. The file's data is the file's: nothing of it is in the
 * image.
 *
 * Windows were made again by the replay (win_ckpt.c); their locks are taken again last. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/objs.h"
#include "common/fault.h"
#include "common/fd_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crs/base/component.h"
#include "filem/files_save.h"
#include "pml_hooks/restart.h"

static int cmp_file(const void *a, const void *b)
{
    const struct pml_file *x = *(struct pml_file *const *)a, *y = *(struct pml_file *const *)b;
    uint64_t cx = x->clock ? x->clock->cid : 0, cy = y->clock ? y->clock->cid : 0;
    return cx < cy ? -1 : cx > cy;
}

/* How a file open at the snapshot is found at the restart. A job that checkpointed and then ran
 * on wrote on to its files before it ended: a file that grew or was written in place is what a
 * crash leaves, and the restart goes on with it as it is, at the snapshot's file pointers (the
 * file's data is the file's, as BLCR and DMTCP do with regular files). What the snapshot's state
 * relies on and no longer finds refuses the restart: the file gone, another file at its path,
 * the file shorter than at the snapshot (data written before it is gone), or no longer open to
 * the user for the recorded access mode. REVIVE_RESTART_STRICT_FILES=1 (restart-mpi
 * --strict-files) refuses any change. */
enum file_found { FILE_SAME, FILE_LATER, FILE_REFUSED };

static int strict_files(void)
{
    const char *v = pml_restart_getenv("REVIVE_RESTART_STRICT_FILES");
    return v && *v && strcmp(v, "0") != 0;
}

/* restart-mpi --relocate OLD=NEW (revive-restart-rank hands them over): where the file at
 * `path` is now, written to buf; `path` itself when no move applies. */
static const char *relocated(const char *path, char *buf, size_t cap)
{
    const char *moves[64];
    size_t n = 0;
    for (; n < sizeof moves / sizeof moves[0]; n++) {
        char var[64];
        snprintf(var, sizeof var, "REVIVE_RESTART_RELOCATE_%zu", n);
        if (!(moves[n] = pml_restart_getenv(var)))
            break;
    }
    return n ? crs_relocated(moves, n, path, buf, cap) : path;
}

/* 1 when restart-mpi put the snapshot's saved copy (--save-files) back at path, or at a directory
 * holding it (FILEM_PUT_BACK_VAR<i>, through the hand-off): the copy is a new inode, made by
 * restart-mpi from the snapshot's own checked bytes, so it is the job's file. The path as the
 * job named it, else through its links as they are now (restart-mpi's paths are). */
static int put_back(const char *path)
{
    char real[PATH_MAX];
    const char *as[2] = {path, realpath(path, real) ? real : NULL};
    for (int i = 0; i < FILEM_PUT_BACK_MAX; i++) {
        char var[64];
        snprintf(var, sizeof var, "%s%d", FILEM_PUT_BACK_VAR, i);
        const char *root = pml_restart_getenv(var);
        if (!root)
            break;
        size_t l = strlen(root);
        while (l > 1 && root[l - 1] == '/')
            l--;
        for (int k = 0; k < 2; k++)
            if (as[k] && !strncmp(as[k], root, l) && (as[k][l] == 0 || as[k][l] == '/'))
                return 1;
    }
    return 0;
}

/* FILE_SAME, or FILE_LATER / FILE_REFUSED with the note or the reason in why. At `path`: the
 * recorded one, or where --relocate says it is now (then another device and inode are expected:
 * a copy, and the user said it is the job's file), or the copy restart-mpi put back (put_back). */
static enum file_found find_file(const struct pml_file *f, const char *path, int strict,
                                 char *why, size_t len)
{
    int moved = strcmp(path, f->abspath) != 0;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (moved) {
            snprintf(why, len, "the MPI file %s, open at the snapshot and moved to %s by "
                     "--relocate, is not there (%s): put it there, or give where it is",
                     f->abspath, path, strerror(errno));
            return FILE_REFUSED;
        }
        snprintf(why, len, "the MPI file %s, open at the snapshot, is gone (%s); the job needs it "
                 "to go on: put the job's file back at that path, or a copy of it (as it was at "
                 "the snapshot or later) at another path with restart-mpi --relocate %s=COPY",
                 f->abspath, strerror(errno), f->abspath);
        return FILE_REFUSED;
    }
    /* the same file: its inode number and, where the file system keeps one, its birth time; not
     * its device: st_dev is the mount's on this host (NFS, Lustre, BeeGFS: an anonymous device
     * number each client gets at mount time), and a restart on other hosts than the snapshot's
     * was refused the job's own file ("another file ... device/inode", diffrev45 R-M1). The
     * inode number is the file system's, the same from every host; a file made since that got
     * the number again has another birth time; a file system with no birth times (older NFS
     * clients) leaves the number alone to tell, as written_back below */
    int64_t born = moved || !f->btime_ns ? 0 : pml_file_btime_ns(path);
    int other = !moved && (sb.st_ino != f->ino || (born && born != f->btime_ns));
    if (other && put_back(path))
        revive_log_debug("restart: MPI file %s: restart-mpi put the snapshot's copy back there "
                         "(--save-files): taken as the job's", path);
    else if (other) {
        snprintf(why, len, "the MPI file %s is another file than the one open at the snapshot "
                 "(inode %llu now, %llu at the snapshot%s: it was replaced or copied back); put "
                 "the job's own file back at that path, or give a copy of it at another path "
                 "with restart-mpi --relocate %s=COPY", f->abspath,
                 (unsigned long long)sb.st_ino, (unsigned long long)f->ino,
                 born && born != f->btime_ns ? "; made again since: another birth time" : "",
                 f->abspath);
        return FILE_REFUSED;
    }
    if (sb.st_size < f->size) {
        snprintf(why, len, "the MPI file %s is shorter than at the snapshot (%lld bytes now, %lld "
                 "at the snapshot): data the job wrote before the snapshot is gone; put the file "
                 "back as it was at the snapshot or later, or restart from a snapshot taken "
                 "after it was shortened", path, (long long)sb.st_size, (long long)f->size);
        return FILE_REFUSED;
    }
    int acc = (f->amode & MPI_MODE_RDWR) ? R_OK | W_OK : (f->amode & MPI_MODE_WRONLY) ? W_OK : R_OK;
    if (faccessat(AT_FDCWD, path, acc, AT_EACCESS) != 0) {
        snprintf(why, len, "the MPI file %s cannot be opened for %s any more, as the job opened "
                 "it (%s; mode %04o now): give its owner that access again (chmod u+%s)",
                 path, acc == (R_OK | W_OK) ? "reading and writing"
                 : acc == W_OK ? "writing" : "reading", strerror(errno),
                 (unsigned)(sb.st_mode & 07777), acc == (R_OK | W_OK) ? "rw"
                 : acc == W_OK ? "w" : "r");
        return FILE_REFUSED;
    }
    int64_t mt = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
    if (sb.st_size == f->size && mt == f->mtime_ns)
        return FILE_SAME;
    char what[160];
    snprintf(what, sizeof what, "%lld bytes now, %lld at the snapshot; modified %+.3f s from the "
             "snapshot's time", (long long)sb.st_size, (long long)f->size,
             (double)(mt - f->mtime_ns) / 1e9);
    if (strict) {
        snprintf(why, len, "the MPI file %s changed since the snapshot (%s), and --strict-files "
                 "(REVIVE_RESTART_STRICT_FILES) refuses any change: put it back as it was at "
                 "the snapshot, or restart without --strict-files to go on with it as it is",
                 path, what);
        return FILE_REFUSED;
    }
    snprintf(why, len, "note: the MPI file %s was written after the snapshot (%s), as when the job "
             "ran on after it: opened as it is, at the snapshot's file pointers (the "
             "job writes again from there; --strict-files refuses this)", path, what);
    return FILE_LATER;
}

/* 1 when the file at path holds exactly the len bytes at want. */
static int holds_bytes(const char *path, const void *want, size_t len)
{
    revive_fd_enter();
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    revive_fd_own(fd);
    revive_fd_leave();
    if (fd < 0)
        return 0;
    struct stat sb;
    int same = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size == len;
    char buf[65536];
    for (size_t at = 0; same && at < len;) {
        size_t want_n = len - at < sizeof buf ? len - at : sizeof buf;
        ssize_t k = pread(fd, buf, want_n, (off_t)at);
        if (k <= 0 || memcmp(buf, (const char *)want + at, (size_t)k) != 0)
            same = 0;
        else
            at += (size_t)k;
    }
    revive_close_owned(fd);
    return same;
}

/* 1 when the file at path holds the snapshot's bytes and is not the very file open at the
 * snapshot (its inode and, where the file system keeps one, birth time): the original
 * job, still running beside its restart, keeps that file, and taking it would make the two jobs
 * share one scratch file, each reading the other's writes (diffrev44 R-H1). So such a file is
 * one another handle of this restart wrote back. */
static int written_back(const struct pml_file *f, const char *path)
{
    if (!holds_bytes(path, f->kept, f->kept_len))
        return 0;
    /* by inode (and birth time) alone: a folder shared by several hosts (NFS, Lustre) has an
     * st_dev of each host's, and a restart on another host than the snapshot's took the original's
     * very file for another (diffrev45 R-M1); another file system's file with the same inode
     * number is only written anew */
    struct stat sb;
    if (stat(path, &sb) != 0 || sb.st_ino != f->ino)
        return 1;
    int64_t born = f->btime_ns ? pml_file_btime_ns(path) : 0;
    return born && born != f->btime_ns; /* the inode number used again by a new file */
}

/* mpi-scratch-late: between the look at the file at the path and its replace, 2 s x (1 + the
 * world rank): writers delayed alike still replaced within milliseconds of each other, before any
 * rank opened, and two writers' race showed only now and then (diffrev46 R-L1: 1 of 4); staggered,
 * every writer replaces after the ones before it opened the file, so a second writer of one file
 * is seen every time. The first wait is more than the ranks' restarts differ by on a loaded
 * machine. */
static void scratch_late(void)
{
    if (pml_restart_fault(REVIVE_FAULT_mpi_scratch_late)) {
        struct timespec late = { 2 * (1 + (pml_world_rank < 0 ? 0 : pml_world_rank % 32)), 0 };
        nanosleep(&late, NULL);
    }
}

/* A file opened with MPI_MODE_DELETE_ON_CLOSE: the bytes the snapshot kept (objs_ckpt.c
 * keep_scratch, in the image of rank 0 of the file's communicator) written back at path, as a new
 * file moved there (a job still running with the old one keeps its own). FILE_SAME, or
 * FILE_REFUSED with the reason in why.
 *
 * One file may have several handles at the snapshot (opened twice, or on MPI_COMM_SELF by each
 * rank), each with its copy: the first write-back puts the file there and the others must open
 * that one, not move theirs over it, or the handles already open hold a file no longer at the
 * path and the program's handles see two files (diffrev43 R-H2). So a file already holding the
 * snapshot's bytes is left, and a new one is linked in place only where none is (link fails
 * if another's came first: then it is compared); a file there with other bytes (the job wrote on
 * after the snapshot), or the very file open at the snapshot (the original job still running:
 * written_back), is replaced. The look and the replace are two steps: two ranks that both looked
 * before either replaced both replaced it, each opening its own file (R-H2 again), so the restart
 * lets one rank per file and node write (scratch_rounds) before any handle is opened. */
static enum file_found write_back(struct pml_file *f, const char *path, char *why, size_t len)
{
    if (written_back(f, path))
        goto done;
    char tmp[PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s.revive-%d", path, (int)getpid());
    revive_fd_enter();
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL | O_CLOEXEC, 0600);
    int e = errno;
    revive_fd_own(fd);
    revive_fd_leave();
    size_t put = 0;
    while (fd >= 0 && put < f->kept_len) {
        ssize_t k = write(fd, (const char *)f->kept + put, f->kept_len - put);
        if (k <= 0) {
            e = k < 0 ? errno : EIO;
            break;
        }
        put += (size_t)k;
    }
    int ok = fd >= 0 && put == f->kept_len && fsync(fd) == 0;
    if (fd >= 0 && !ok && put == f->kept_len)
        e = errno;
    revive_close_owned(fd);
    if (ok && link(tmp, path) == 0)
        unlink(tmp);
    else if (ok && errno == EEXIST && written_back(f, path))
        unlink(tmp); /* another handle's write-back came first */
    else if (ok && (scratch_late(), rename(tmp, path) != 0)) {
        e = errno;
        ok = 0;
    }
    if (!ok) {
        unlink(tmp);
        snprintf(why, len, "cannot write back the MPI file %s (opened with "
                 "MPI_MODE_DELETE_ON_CLOSE; the snapshot holds its %zu bytes): %s", path,
                 f->kept_len, strerror(e));
        return FILE_REFUSED;
    }
    revive_log_debug("restart: MPI file %s (MPI_MODE_DELETE_ON_CLOSE) written back from the "
                     "snapshot: %zu bytes", path, f->kept_len);
done:
    free(f->kept);
    f->kept = NULL;
    f->kept_len = 0;
    f->scratch_put = 1;
    return FILE_SAME;
}

/* reopen's look at a MPI_MODE_DELETE_ON_CLOSE file, after scratch_rounds: its writer put it in
 * place; a rank of the same node that holds another handle's copy of that file finds it there.
 * (A copy no writer wrote, its folder changed between the plan and this look, is written back
 * here, as before the rounds.) */
static enum file_found put_scratch(struct pml_file *f, const char *path, char *why, size_t len)
{
    if (f->comm_rank != 0 || f->scratch_put)
        return FILE_SAME;
    if (!f->kept) {
        snprintf(why, len, "the snapshot holds no copy of the MPI file %s, opened with "
                 "MPI_MODE_DELETE_ON_CLOSE", f->abspath);
        return FILE_REFUSED;
    }
    return write_back(f, path, why, len);
}

/* ---- one writer per file, turns only where hosts may share it: scratch_rounds ----
 *
 * Every handle whose rank holds a copy (rank 0 of a MPI_MODE_DELETE_ON_CLOSE file's
 * communicator: each rank of a file opened on MPI_COMM_SELF) may find the file at its path
 * outdated (the job wrote on after the snapshot and was killed; the original job still runs):
 * each replaced it, and two that looked before either replaced both did, so the handles opened
 * after the first replace named an unlinked file (R-H2: the ranks no longer shared one file, on
 * either MPI). A marker beside the user's file to claim the write is left behind by a rank killed
 * in the middle and needs cleaning (session 44's claim files); the restart's ranks can agree
 * instead, every one of them being in its restart at this point: they learn where each copy goes
 * (an exchange on MPI_COMM_WORLD) and one rank writes each file.
 *
 * Where a copy goes is told by the folder the path is in, not by the path's text nor the host's
 * name: within one kernel (one boot_id) the folder's device and inode name it exactly, so the
 * ranks of one node (or of containers on it, whatever their host names: diffrev46 R-L2) that see
 * one folder have one writer, and the ranks of containers with folders of their own each have
 * theirs. Across kernels st_dev means nothing (NFS and Lustre give each client its own), so the
 * folder's inode and birth time (with the file's name: a "site") are compared: nodes whose
 * folders differ there (node-local /tmp, $TMPDIR, a local disk) write at once, in one round; only
 * nodes that may see one shared folder take turns, one round each, ended by an MPI_Allreduce
 * that also carries a refusal to every rank: the first node's writer writes, and a later node's
 * writer finds that file if the folder is shared (written_back: the snapshot's bytes in another
 * file than the snapshot's own) or writes its own copy where the folders only looked alike (the
 * same image cloned onto several nodes' disks). So the rounds are as many as the most nodes that
 * may share one folder, not the nodes with a copy (diffrev46 R-M1: per-rank node-local scratch
 * files were written back node after node). The folder, not the file at the path: a file absent
 * on every node (a restart on fresh nodes) looks alike everywhere, and a shared file's presence
 * and size can look different from two NFS clients for a while (their lookup and attribute
 * caches), which would let both write at once; a folder keeps its inode and birth time. Wrong
 * only the safe way: two nodes' folders that look alike take turns for nothing (birth times
 * count only where every node reports one: scratch_plan). Nothing is left on the disk but the file; a rank
 * killed meanwhile ends the restart (its launcher ends the others). */

struct scratch_want {
    uint64_t node; /* the kernel: boot_id */
    uint64_t dev;  /* the folder's st_dev: comparable within one node only */
    uint64_t site; /* the folder's inode, with the file's name */
    int64_t born;  /* the folder's birth time, 0 where the file system keeps none */
};

static uint64_t fnv(const char *s, uint64_t h)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static uint64_t fnv_u64(uint64_t v, uint64_t h)
{
    for (int i = 0; i < 8; i++, v >>= 8)
        h = (h ^ (v & 0xff)) * 1099511628211ull;
    return h;
}

#define FNV0 1469598103934665603ull

/* this rank's kernel: its boot_id, the same for every process (and container) of one boot of
 * one node, another on every other node whatever its host name; the host name only where no
 * boot_id can be read */
static uint64_t node_key(void)
{
    char id[64] = "";
    revive_fd_enter();
    int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    revive_fd_own(fd);
    revive_fd_leave();
    ssize_t n = fd >= 0 ? read(fd, id, sizeof id - 1) : -1;
    if (fd >= 0)
        revive_close_owned(fd);
    if (n > 0) {
        id[n] = 0;
        return fnv(id, fnv("boot_id:", FNV0));
    }
    char h[256] = "";
    if (gethostname(h, sizeof h - 1) != 0)
        h[0] = 0;
    return fnv(h, fnv("host:", FNV0));
}

/* where the copy of path goes, as this rank sees it */
static struct scratch_want want_of(uint64_t node, const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    size_t dl = slash ? (size_t)(slash - path) : 0;
    if (!slash || dl >= sizeof dir)
        snprintf(dir, sizeof dir, ".");
    else if (!dl)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)dl, path);
    const char *base = slash ? slash + 1 : path;
    struct stat sb;
    if (stat(dir, &sb) != 0) /* no folder: the writer's write fails and says so; one site by path */
        return (struct scratch_want){ node, 0, fnv(path, fnv("nodir:", FNV0)), 0 };
    return (struct scratch_want){ node, (uint64_t)sb.st_dev, fnv(base, fnv_u64((uint64_t)sb.st_ino, FNV0)),
                                  pml_file_btime_ns(dir) };
}

/* the handles whose copy this rank writes back (comm rank 0, a copy) */
static int is_copy(const struct pml_file *f)
{
    return (f->amode & MPI_MODE_DELETE_ON_CLOSE) && f->comm_rank == 0 && f->kept && !f->scratch_put;
}

struct plan_key {
    struct scratch_want w;
    long i;
};

static int cmp_u64(uint64_t a, uint64_t b)
{
    return a < b ? -1 : a > b;
}

/* by site, birth time, node and device, then place in the gathered wants (world rank order) */
static int plan_cmp(const void *pa, const void *pb)
{
    const struct plan_key *a = pa, *b = pb;
    int c = cmp_u64(a->w.site, b->w.site);
    if (!c)
        c = (a->w.born > b->w.born) - (a->w.born < b->w.born);
    if (!c)
        c = cmp_u64(a->w.node, b->w.node);
    if (!c)
        c = cmp_u64(a->w.dev, b->w.dev);
    return c ? c : (a->i > b->i) - (a->i < b->i);
}

/* The plan every rank computes alike from all the wants (t of them, in world rank order): turn[i]
 * the round want i's rank writes its copy in, -1 when another rank writes that file (the lowest
 * with its node, device, site and birth time: one file, one kernel); the nodes (and devices) with
 * one site take one round each, in a fixed order. Birth times part a site only where every node
 * knows its folder's: a client that reports none (an older kernel or file system) may look at the
 * very folder another reports one for. Sorted, not compared pairwise: a job of 10^5 ranks, each
 * with its MPI_COMM_SELF file, has 10^5 wants. Returns the number of rounds, or -1 (no memory). */
static int scratch_plan(const struct scratch_want *all, long t, int *turn)
{
    struct plan_key *k = malloc((size_t)t * sizeof *k);
    if (!k)
        return -1;
    for (long i = 0; i < t; i++)
        k[i] = (struct plan_key){ all[i], i };
    qsort(k, (size_t)t, sizeof *k, plan_cmp);
    int rounds = 0, r = 0, by_born = 0;
    for (long j = 0; j < t; j++) {
        int same_site = j && k[j].w.site == k[j - 1].w.site;
        if (!same_site) { /* a site's first want: do all its wants know their folder's birth? */
            by_born = 1;
            for (long m = j; m < t && k[m].w.site == k[j].w.site && by_born; m++)
                by_born = k[m].w.born != 0;
        }
        int same_born = same_site && k[j].w.born == k[j - 1].w.born;
        if (same_born && k[j].w.node == k[j - 1].w.node && k[j].w.dev == k[j - 1].w.dev) {
            turn[k[j].i] = -1; /* the same file in one kernel: its first holder writes it */
            continue;
        }
        /* another node with that site (and birth time, where known) takes the next round */
        r = same_site && (same_born || !by_born) ? r + 1 : 0;
        turn[k[j].i] = r;
        if (r + 1 > rounds)
            rounds = r + 1;
    }
    free(k);
    return rounds;
}

/* This rank's part of round r: each copy it writes in that round, written back. */
static enum file_found round_writes(struct pml_file **mf, const int *turn, int cnt, int r,
                                    char *why, size_t len)
{
    for (int i = 0; i < cnt; i++) {
        if (turn[i] != r || !is_copy(mf[i]))
            continue;
        char movebuf[PATH_MAX];
        enum file_found k = write_back(mf[i], relocated(mf[i]->abspath, movebuf, sizeof movebuf),
                                       why, len);
        if (k == FILE_REFUSED)
            return k;
    }
    return FILE_SAME;
}

static int scratch_rounds(char *err, size_t errlen)
{
    MPI_Comm w = (MPI_Comm)pml_lower_world();
    MPI_Datatype ti = (MPI_Datatype)pml_v2r(PML_H(MPI_INT)), tb = (MPI_Datatype)pml_v2r(PML_H(MPI_BYTE));
    int size = 0, cnt = 0, rc = MPI_SUCCESS;
    pml_L.MPI_Comm_size(w, &size);
    uint64_t me = node_key();
    for (struct pml_file *f = pml_files; f; f = f->next)
        cnt += is_copy(f);
    struct scratch_want *mine = malloc((size_t)(cnt ? cnt : 1) * sizeof *mine), *all = NULL;
    struct pml_file **mf = malloc((size_t)(cnt ? cnt : 1) * sizeof *mf);
    int *counts = malloc((size_t)size * sizeof *counts), *displs = malloc((size_t)size * sizeof *displs);
    int *bc = malloc((size_t)size * sizeof *bc), *bd = malloc((size_t)size * sizeof *bd);
    int *turn = NULL;
    int e = -ENOMEM, k = 0;
    if (!mine || !mf || !counts || !displs || !bc || !bd)
        goto out;
    for (struct pml_file *f = pml_files; f; f = f->next)
        if (is_copy(f)) {
            char movebuf[PATH_MAX];
            mf[k] = f;
            mine[k++] = want_of(me, relocated(f->abspath, movebuf, sizeof movebuf));
        }
    e = -EIO;
    if ((rc = pml_L.MPI_Allgather(&cnt, 1, ti, counts, 1, ti, w)) != MPI_SUCCESS)
        goto out;
    long t = 0;
    for (int r = 0; r < size; r++) {
        displs[r] = (int)t;
        bd[r] = (int)(t * (long)sizeof *all);
        bc[r] = counts[r] * (int)sizeof *all;
        t += counts[r];
    }
    e = 0;
    if (!t)
        goto out; /* no copy anywhere: no round */
    e = -E2BIG;
    if (t > 0x7fffffffL / (long)sizeof *all)
        goto out;
    e = -ENOMEM;
    if (!(all = malloc((size_t)t * sizeof *all)) || !(turn = malloc((size_t)t * sizeof *turn)))
        goto out;
    e = -EIO;
    if ((rc = pml_L.MPI_Allgatherv(mine, cnt * (int)sizeof *mine, tb, all, bc, bd, tb, w)) != MPI_SUCCESS)
        goto out;
    e = -ENOMEM;
    int rounds = scratch_plan(all, t, turn);
    if (rounds < 0)
        goto out;
    e = -EIO;
    if (pml_world_rank == 0)
        revive_log_info("restart: MPI_MODE_DELETE_ON_CLOSE files: %ld copies held, %d write-back "
                        "round%s", t, rounds, rounds == 1 ? "" : "s");
    for (int r = 0; r < rounds; r++) {
        char why[2 * PATH_MAX + 512] = "";
        struct { int found, rank; } mine2 = { FILE_SAME, pml_world_rank }, worst;
        mine2.found = round_writes(mf, turn + displs[pml_world_rank], cnt, r, why, sizeof why);
        if ((rc = pml_L.MPI_Allreduce(&mine2, &worst, 1, (MPI_Datatype)pml_v2r(PML_H(MPI_2INT)),
                                      (MPI_Op)pml_v2r(PML_H(MPI_MAXLOC)), w)) != MPI_SUCCESS)
            goto out;
        if (worst.found == FILE_REFUSED) {
            if (worst.rank == pml_world_rank)
                snprintf(err, errlen, "%s", why);
            else
                snprintf(err, errlen, "rank %d could not write back a MPI_MODE_DELETE_ON_CLOSE file the "
                         "snapshot holds", worst.rank);
            pml_restart_refused(worst.rank != pml_world_rank, err);
            if (pml_L.MPI_Barrier(w) != MPI_SUCCESS) /* every word with the coordinator first (reopen) */
                revive_log_warn("rank %d: the ranks could not meet before refusing the restart",
                                pml_world_rank);
            e = -ESTALE;
            goto out;
        }
    }
    e = 0;
out:
    if (e == -EIO)
        snprintf(err, errlen, "the ranks cannot agree on who writes back the MPI_MODE_DELETE_ON_CLOSE "
                 "files the snapshot holds (MPI error %d on MPI_COMM_WORLD)", rc);
    else if (e == -ENOMEM || e == -E2BIG)
        snprintf(err, errlen, "the ranks cannot agree on who writes back the MPI_MODE_DELETE_ON_CLOSE "
                 "files the snapshot holds (%s)", e == -E2BIG ? "too many" : "out of memory");
    free(mine);
    free(mf);
    free(all);
    free(turn);
    free(counts);
    free(displs);
    free(bc);
    free(bd);
    return e;
}

/* The files a note "written after the snapshot" was given for: one note per file, however many
 * of its handles are open (review11 #5: a file opened twice was noted twice). */
struct noted {
    char *path[64];
    int n;
};

/* 1 the first time PATH is asked for (then kept), 0 after. */
static int first_note(struct noted *nt, const char *path)
{
    for (int i = 0; i < nt->n; i++)
        if (!strcmp(nt->path[i], path))
            return 0;
    if (nt->n < (int)(sizeof nt->path / sizeof nt->path[0]) && (nt->path[nt->n] = strdup(path)))
        nt->n++;
    return 1;
}

void pml_objs_file_comm(uintptr_t vfile, uintptr_t rcomm, int owned)
{
    struct pml_file *f = pml_file_of(vfile);
    if (!f)
        return;
    f->restart_comm = rcomm;
    f->restart_comm_owned = owned;
}

/* The communicators the replay made only for files (the program had freed its handles) are
 * freed once every file is open again on them, each once, as the program's MPI_Comm_free did in
 * the first run; the files keep them in the library. */
static void free_file_comms(struct pml_file **v, int n)
{
    for (int i = 0; i < n; i++) {
        uintptr_t c = v[i]->restart_comm;
        int owned = v[i]->restart_comm_owned, first = 1;
        for (int j = 0; j < i && first; j++)
            first = v[j]->restart_comm != c;
        if (owned && c && first) {
            MPI_Comm r = (MPI_Comm)c;
            pml_L.MPI_Comm_free(&r);
        }
    }
    for (int i = 0; i < n; i++) {
        v[i]->restart_comm = 0;
        v[i]->restart_comm_owned = 0;
    }
}

static int reopen(struct pml_file *f, int strict, struct noted *nt, char *err, size_t errlen)
{
    /* the communicator the replay made again for it: the program may have freed its own */
    MPI_Comm comm = (MPI_Comm)f->restart_comm;
    if (!f->restart_comm) {
        snprintf(err, errlen, "the communicator the MPI file %s was opened on did not come back "
                 "from the replay of the creation record", f->abspath);
        return -EIO;
    }
    char why[2 * PATH_MAX + 512] = "", movebuf[PATH_MAX];
    const char *path = relocated(f->abspath, movebuf, sizeof movebuf);
    /* every member learns the worst any of them found and the lowest rank that found it, which
     * alone says so: one line per file, not one per rank */
    struct { int found, rank; } mine = {(f->amode & MPI_MODE_DELETE_ON_CLOSE)
                                            ? put_scratch(f, path, why, sizeof why)
                                            : find_file(f, path, strict, why, sizeof why),
                                        f->comm_rank}, worst;
    int rc = pml_L.MPI_Allreduce(&mine, &worst, 1, (MPI_Datatype)pml_v2r(PML_H(MPI_2INT)),
                                 (MPI_Op)pml_v2r(PML_H(MPI_MAXLOC)), comm);
    if (rc != MPI_SUCCESS) {
        snprintf(err, errlen, "the communicator of the MPI file %s is not usable after the "
                 "restart (MPI error %d)", f->abspath, rc);
        return -EIO;
    }
    if (worst.found == FILE_REFUSED) {
        if (worst.rank == f->comm_rank)
            snprintf(err, errlen, "%s", why);
        else
            snprintf(err, errlen, "rank %d of its communicator refused the MPI file %s",
                     worst.rank, f->abspath);
        pml_restart_refused(worst.rank != f->comm_rank, err);
        /* every member's word is with the coordinator before one exits (the one that refused
         * could be killed by the launcher before it wrote, and the restart be taken as the
         * snapshot's failure: seen with MPICH) */
        if (pml_L.MPI_Barrier(comm) != MPI_SUCCESS)
            revive_log_warn("rank %d: the members of an MPI file's communicator could not meet "
                            "before refusing the restart (MPI_Barrier failed): the refusal may "
                            "be recorded as a failure of the snapshot", pml_world_rank);
        return -ESTALE;
    }
    if (worst.found == FILE_LATER && worst.rank == f->comm_rank && first_note(nt, path))
        revive_log_warn("%s", why);
    if (path != f->abspath) {
        /* opened where it is now, a ROMIO file system prefix ("ufs:") kept; the next snapshot
         * records the new place */
        const char *colon = strchr(f->path, ':'), *slash = strchr(f->path, '/');
        int pre = colon && (!slash || colon < slash) ? (int)(colon - f->path) + 1 : 0;
        char *np = malloc(strlen(path) + (size_t)pre + 1), *na = strdup(path);
        if (!np || !na) {
            free(np);
            free(na);
            snprintf(err, errlen, "out of memory for the new place of the MPI file %s", path);
            return -ENOMEM;
        }
        sprintf(np, "%.*s%s", pre, f->path, path);
        revive_log_info("restart: MPI file %s taken from %s (--relocate)", f->abspath, path);
        free(f->path);
        free(f->abspath);
        f->path = np;
        f->abspath = na;
    }
    uintptr_t info = pml_hints_info(&f->open_hints);
    MPI_File r = (MPI_File)pml_v2r(PML_H(MPI_FILE_NULL));
    /* the library's duplicate of comm gets what the old one had (dup_attrs.c) */
    rc = pml_dupattr_handback_begin(&f->dup, comm);
    if (rc == MPI_SUCCESS)
        rc = pml_L.MPI_File_open(comm, f->path, f->amode & ~MPI_MODE_EXCL, (MPI_Info)info, &r);
    pml_dupattr_handback_end(&f->dup, comm);
    pml_hints_info_free(info);
    if (rc != MPI_SUCCESS) {
        char es[MPI_MAX_ERROR_STRING] = "";
        int el = 0;
        pml_L.MPI_Error_string(rc, es, &el);
        snprintf(err, errlen, "the MPI file %s cannot be opened again: %s", f->abspath, es);
        return -EIO;
    }
    pml_vh_update(f->v, PML_H(r));
    if (f->view_set) {
        info = pml_hints_info(&f->view_hints);
        rc = pml_L.MPI_File_set_view(r, f->disp, (MPI_Datatype)pml_v2r(f->etype),
                                     (MPI_Datatype)pml_v2r(f->filetype), f->datarep, (MPI_Info)info);
        pml_hints_info_free(info);
        if (rc != MPI_SUCCESS) {
            snprintf(err, errlen, "the view of the MPI file %s cannot be set again (MPI error %d; "
                     "a user data representation must be registered again first)", f->abspath, rc);
            return -EIO;
        }
    }
    if (f->errh && (rc = pml_L.MPI_File_set_errhandler(r, (MPI_Errhandler)pml_v2r(f->errh)))) {
        snprintf(err, errlen, "the error handler of the MPI file %s cannot be set again (MPI "
                 "error %d)", f->abspath, rc);
        return -EIO;
    }
    if (f->atomic)
        rc = pml_L.MPI_File_set_atomicity(r, 1);
    if (rc == MPI_SUCCESS && !(f->amode & MPI_MODE_SEQUENTIAL))
        rc = pml_L.MPI_File_seek(r, f->pos, MPI_SEEK_SET);
    if (rc == MPI_SUCCESS && f->have_shared)
        rc = pml_L.MPI_File_seek_shared(r, f->pos_shared, MPI_SEEK_SET); /* collective */
    if (rc != MPI_SUCCESS) {
        snprintf(err, errlen, "the MPI file %s cannot be positioned again (MPI error %d)",
                 f->abspath, rc);
        return -EIO;
    }
    revive_log_debug("restart: MPI file %s open again at %lld (shared %lld)", f->abspath,
                     (long long)f->pos, (long long)f->pos_shared);
    return 0;
}

int pml_objs_restart(char *err, size_t errlen)
{
    /* every rank, with files or not: the write-back's rounds are on MPI_COMM_WORLD */
    int e = scratch_rounds(err, errlen);
    if (e)
        return e;
    int n = 0;
    for (struct pml_file *f = pml_files; f; f = f->next)
        n++;
    if (!n)
        return pml_objs_restart_wins(err, errlen);
    struct pml_file **v = calloc((size_t)n, sizeof *v);
    if (!v) {
        snprintf(err, errlen, "out of memory for the list of open MPI files");
        return -ENOMEM;
    }
    int k = 0;
    for (struct pml_file *f = pml_files; f; f = f->next)
        v[k++] = f;
    qsort(v, (size_t)n, sizeof *v, cmp_file);
    int strict = strict_files();
    struct noted nt = { .n = 0 };
    for (int i = 0; i < n && !e; i++)
        e = reopen(v[i], strict, &nt, err, errlen);
    for (int i = 0; i < nt.n; i++)
        free(nt.path[i]);
    free_file_comms(v, n);
    free(v);
    return e ? e : pml_objs_restart_wins(err, errlen);
}
