/* revive-restart-rank [--ignore-kernel] [--relocate OLD=NEW]... DIR: one rank of a job restarted from a global snapshot.
 *
 * The new job's launcher runs this program as each rank's program (restart-mpi arranges it:
 * `mpirun -np N revive-restart-rank SNAPSHOT/SEQ`). It reads the rank it was given from the
 * launcher's environment, and becomes, in this very process (its pid, new thread ids), the rank
 * saved in DIR/rank_<r>.img: the restore is crs's (crs/base/component.h), here is only where it
 * runs and what it hands over:
 *   - the launcher's descriptors (Hydra's PMI_FD socket, anything else open above the standard
 *     streams) are moved to high numbers that the restore keeps open, and the variables that
 *     name them (PMI_FD, *_FD) are rewritten;
 *   - this program's environment (the new launcher's) and the rank and size go to the restored
 *     process as the hand-off blob (src/pml_hooks/handoff.h), where the MPI layer loads a
 *     fresh MPI with it while the application keeps its own environment;
 *   - the standard streams stay the launcher's (crs keeps those that were pipes or terminals).
 * A rank whose image is a process tree's file (it had running children at the snapshot) becomes
 * that tree's first process here, its children made again under it (restart_tree_here).
 * Returns only when the restart is refused or fails: one message naming the rank and the
 * reason, status 1. Static and linked away from where programs and libraries are mapped, like
 * cr_restart. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "crs/base/component.h"
#include "crs/base/image.h"
#include "crs/base/tree.h"
#include "cr_restart.h" /* restart_tree_here */
#include "filem/fetch.h"
#include "filem/filem.h"
#include "filem/local_retain.h"
#include "filem/partner.h"
#include "filem/stage.h"
#include "filem/verified.h"
#include "pml_hooks/handoff.h"
#include "common/text.h" /* REVIVE_TEXT_PATHS, REVIVE_RESTART_TEXT_MAX */
#include "restart_rank_cache.h"
#include "restart_wincheck.h"
#include "tools/snapc/restart_saved.h" /* RESTART_SAVED_WRITERS_VAR */
#include "tools/tool_die.h"

#define KEEP_BASE 900 /* below 1024: a lower half may still use select() on them */

static int rank = -1;
static int begun; /* the restore of this rank's image has begun */
/* Why the restore stopped, for the coordinator: "failed" (the image itself: the snapshot is
 * marked as failed) or "refused" (what lies outside it: a library it maps changed, the host,
 * capabilities; the snapshot is not marked, so that once that is put right restart-mpi takes
 * the same sequence again). */
static const char *stop_kind = "failed";

/* For restart-mpi's coordinator (REVIVE_RESTART_DIR, src/snapc/coord_restart.c): NAME.<rank>
 * with text, so that only a rank's failure to restore marks the snapshot as failed. */
static void progress_file(const char *name, const char *text)
{
    const char *dir = getenv("REVIVE_RESTART_DIR");
    if (!dir || !*dir || rank < 0)
        return;
    /* by the directory's descriptor: short names however deep the job directory (a path near
     * PATH_MAX left no room for "/failed.<r>") */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return;
    char path[64], tmp[96];
    snprintf(path, sizeof path, "%s.%d", name, rank);
    snprintf(tmp, sizeof tmp, ".%s.%d.tmp", path, (int)getpid()); /* whole when it has its name */
    int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
        ssize_t w = write(fd, text, strlen(text));
        (void)w;
        close(fd);
        if (renameat(dfd, tmp, dfd, path) < 0)
            unlinkat(dfd, tmp, 0);
    }
    close(dfd);
}

/* MPICH's mpiexec (Hydra) does not end a job when one of its processes exits 1 before MPI_Init:
 * the other ranks, restored, wait in their fresh MPI's start for this one for ever (measured:
 * `mpiexec.mpich -n 2 revive-restart-rank` from a snapshot with a damaged rank_1.img ran until
 * the test's 30 s timeout; restart-mpi's coordinator ends such a job, 5 s after the rank's
 * failed.<r>, coord_launchwait.c). So a rank that gives up asks the launcher to end the job, as
 * the MPI library's MPI_Abort would: Hydra's PMI-1 wire command, on the socket PMI_FD names,
 * which Hydra's proxy acts on without an init first. Open MPI's launcher sets no PMI_FD, and ends
 * the job itself when a rank exits 1. */
static void abort_job(void)
{
    const char *v = getenv("PMI_FD");
    char *end = NULL;
    long fd = v && *v ? strtol(v, &end, 10) : -1;
    if (fd < 3 || *end || fd > 65535)
        return;
    static const char cmd[] = "cmd=abort exitcode=1\n";
    ssize_t w = write((int)fd, cmd, sizeof cmd - 1);
    (void)w; /* not a Hydra socket, or gone: the exit below is all there is */
}

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
    /* Every rank may refuse the same snapshot at once; the launcher tears the others down when
     * the first exits and closes their output pipes: a rank that writes then must exit 1, not
     * die of SIGPIPE (seen: MPICH's mpiexec ended 141 with no message at all). */
    signal(SIGPIPE, SIG_IGN);
    char who[48] = "revive-restart-rank";
    if (rank >= 0)
        snprintf(who, sizeof who, "revive-restart-rank: rank %d", rank);
    char msg[REVIVE_RESTART_TEXT_MAX]; /* whole for paths up to PATH_MAX, "..." where cut (tool_vsay) */
    va_list ap;
    va_start(ap, fmt);
    tool_vsay(who, msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (begun) {
        char line[REVIVE_RESTART_TEXT_MAX + 64];
        snprintf(line, sizeof line, "rank %d: %s\n", rank, msg);
        progress_file(stop_kind, line);
    }
    /* Hydra drops output still in its forwarding pipes when it kills the job: let it pass the
     * message on first, as the MPI layer does before it stops a job (layer.c). */
    if (rank >= 0) {
        struct timespec pause = {0, 300 * 1000 * 1000};
        nanosleep(&pause, NULL);
        abort_job();
    }
    exit(1);
}

static int env_int(const char *const *names, const char **which)
{
    for (int i = 0; names[i]; i++) {
        const char *v = getenv(names[i]);
        if (!v || !*v)
            continue;
        char *end;
        long x = strtol(v, &end, 10);
        if (*end || x < 0 || x > 100000000)
            die("%s=%s is not a rank or size", names[i], v);
        if (which)
            *which = names[i];
        return (int)x;
    }
    return -1;
}

/* How many ranks the snapshot holds: its metadata says, else the images DIR has (0..N-1). */
static int snapshot_ranks(const char *dir, const char **how)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", dir, FILEM_META_NAME);
    if (access(path, F_OK) == 0) {
        struct filem_meta m;
        char err[REVIVE_TEXT_PATHS(2)];
        filem_meta_init(&m);
        if (filem_meta_read(dir, &m, err, sizeof err) < 0)
            die("%s", err);
        uint64_t n = 0;
        if (filem_meta_get_u64(&m, "ranks", &n) < 0 || n == 0 || n > (1u << 20))
            die("%s names no number of ranks: the snapshot is damaged", path);
        filem_meta_free(&m);
        *how = "its metadata";
        return (int)n;
    }
    int n = 0;
    for (;; n++) {
        snprintf(path, sizeof path, "%s/rank_%d.img", dir, n);
        if (access(path, F_OK) != 0)
            break;
    }
    *how = "the images in it";
    return n;
}

/* Moves the launcher's descriptors (every one above the standard streams) to KEEP_BASE and up
 * and rewrites the variables that name them. */
static int keep_launcher_fds(int *keep, int max)
{
    int old[CRS_KEEP_FDS_MAX], n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        die("cannot list /proc/self/fd: %s", strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (*end || e->d_name[0] == '.' || fd < 3 || fd == dirfd(d) || fd == rank_cache_lock_fd)
            continue; /* the cache lock is ours, not the launcher's: it goes with the restarter */
        if (n == max || n == CRS_KEEP_FDS_MAX)
            die("the launcher left more than %d descriptors open", CRS_KEEP_FDS_MAX);
        old[n++] = (int)fd;
    }
    closedir(d);
    int next = KEEP_BASE;
    for (int i = 0; i < n; i++) {
        int fd = old[i];
        if (fd >= KEEP_BASE) {
            keep[i] = fd;
            continue;
        }
        int flags = fcntl(fd, F_GETFD);
        int nfd = fcntl(fd, F_DUPFD, next);
        if (nfd < 0 || flags < 0)
            die("cannot move the launcher's descriptor %d: %s", fd, strerror(errno));
        fcntl(nfd, F_SETFD, flags);
        close(fd);
        keep[i] = nfd;
        next = nfd + 1;
        /* the variables that name it */
        char num[16];
        snprintf(num, sizeof num, "%d", fd);
        for (char **v = environ; *v; v++) {
            char *eq = strchr(*v, '=');
            if (!eq || strcmp(eq + 1, num) != 0 || eq - *v < 3 || memcmp(eq - 3, "_FD", 3) != 0)
                continue;
            char name[256];
            size_t len = (size_t)(eq - *v) < sizeof name - 1 ? (size_t)(eq - *v) : sizeof name - 1;
            memcpy(name, *v, len);
            name[len] = 0;
            char val[16];
            snprintf(val, sizeof val, "%d", nfd);
            setenv(name, val, 1); /* environ may move: start over */
            v = environ - 1;
        }
    }
    return n;
}

static char *handoff_blob(int size, size_t *len)
{
    size_t cap = 64;
    for (char **v = environ; *v; v++)
        cap += strlen(*v) + 1;
    char *b = malloc(cap + 64), *p = b;
    if (!b)
        die("out of memory");
    memcpy(p, PML_HANDOFF_MAGIC, sizeof PML_HANDOFF_MAGIC);
    p += sizeof PML_HANDOFF_MAGIC;
    p += sprintf(p, "rank=%d", rank) + 1;
    p += sprintf(p, "size=%d", size) + 1;
    for (char **v = environ; *v; v++) {
        size_t l = strlen(*v) + 1;
        memcpy(p, *v, l);
        p += l;
    }
    *p++ = 0;
    *len = (size_t)(p - b);
    return b;
}

/* The image reader's advice for one process ("use an earlier checkpoint", CRS_IMAGE_ADVICE)
 * in restart-mpi's words: SEQDIR (JOBDIR/N, as restart-mpi gave it) is one sequence of a
 * global snapshot, and the coordinator marks it failed once a rank's restore failed, so that a
 * restart of the job directory takes the newest earlier one by default. */
static void advise_restart_mpi(char *err, size_t len, const char *seqdir)
{
    char job[PATH_MAX], adv[REVIVE_TEXT_PATHS(3)];
    const char *slash = strrchr(seqdir, '/');
    uint64_t seq;
    if (slash && slash != seqdir && (size_t)(slash - seqdir) < sizeof job &&
        filem_parse_seq(slash + 1, &seq) == 0) {
        snprintf(job, sizeof job, "%.*s", (int)(slash - seqdir), seqdir);
        snprintf(adv, sizeof adv,
                 "; restart from an earlier sequence: restart-mpi %s takes the newest one whose "
                 "restart has not failed, restart-mpi --seq N %s a given one (ckpt-info --verify "
                 "%s/N checks its images first)", job, job, job);
    } else
        snprintf(adv, sizeof adv, "; restart from an earlier sequence of the snapshot "
                                  "(restart-mpi --seq N JOBDIR; ckpt-info --verify JOBDIR/N "
                                  "checks its images first)");
    crs_image_advise(err, len, adv);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: revive-restart-rank [--ignore-kernel] [--relocate OLD=NEW]... DIR\n"
               "Run by an MPI launcher as each rank's program: becomes the rank saved in\n"
               "DIR/rank_<r>.img, r being the rank the launcher gave (OMPI_COMM_WORLD_RANK,\n"
               "PMIX_RANK or PMI_RANK). restart-mpi starts it; see docs/mpi.md.\n"
               "  --relocate OLD=NEW  a file or folder the rank used moved (as cr_restart's)\n"
               "  --fetch-to ADDR --ranks LIST [--local DIR]  not a rank: sends this host's\n"
               "                 cached copies of those ranks' images to restart-mpi at ADDR\n"
               "                 (--sums R:0xHEX,...: the checksums, when no snapshot.meta is there)\n"
               "  --send-meta [--local DIR] JOBDIR  not a rank: writes the snapshot.meta\n"
               "                 copies this host's cache holds of JOBDIR's job (restart-mpi)\n");
}

static void say_source(int r, const char *img)
{
    const char *v = getenv("REVIVE_VERBOSE");
    if (v && atoi(v) >= 2)
        fprintf(stderr, "revive-restart-rank: rank %d reads %s\n", r, img);
}

/* The snapshot directory is not on this host: the job was restarted from storage only the
 * launching host sees (restart-mpi --recreate-in a node-local directory, or a shared file
 * system not mounted here). This host's node-local cache may hold the same sequence (the job
 * directory's name and the sequence number) with the committed metadata beside its images:
 * read from there, said, as the images are checked against that metadata (rank_cache_pick). Else
 * the rank stops before its restore begins (the coordinator then does not mark the snapshot as
 * failed: its images were never read, coord_restart.c). */
static const char *cached_sequence(const char *local, const char *dir, char *out, size_t len)
{
    char host[256] = "?", err[REVIVE_TEXT_PATHS(2)], meta[PATH_MAX + 32];
    gethostname(host, sizeof host - 1);
    if (local && filem_local_seq_dir(local, dir, 0, out, len, err, sizeof err) == 0 &&
        (size_t)snprintf(meta, sizeof meta, "%s/%s", out, FILEM_META_NAME) < sizeof meta &&
        access(meta, R_OK) == 0) {
        fprintf(stderr, "revive-restart-rank: rank %d: %s is not on this host (%s): its sequence "
                        "read from this host's node-local cache (%s)\n", rank, dir, host, out);
        return out;
    }
    if (!local)
        die("%s: No such file or directory on this host (%s), and no node-local cache is used "
            "(--ckpt-local none): give the snapshot's path, or restart on hosts that see it", dir, host);
    die("%s: No such file or directory on this host (%s), and its node-local cache (%s) holds "
        "no copy of that sequence: give the snapshot's path, or restart on hosts that see it or "
        "hold its images", dir, host, local);
}

/* revive-restart-rank's command line (usage above), as main takes it. */
struct opts {
    int ignore_kernel, preload, send_meta;
    const char *local, *fetch_to, *fetch_ranks, *fetch_sums;
    const char *dir;              /* SEQDIR */
    const char *const *relocate;  /* each --relocate OLD=NEW */
    size_t nrelocate;
};

/* The command line into o: a wrong one ends with status 2 and the usage, --help with 0. */
static void parse_options(int argc, char **argv, struct opts *o)
{
    int ignore_kernel = 0, a = 1, preload = 0;
    const char *local = NULL, *fetch_to = NULL, *fetch_ranks = NULL, *fetch_sums = NULL;
    int send_meta = 0;
    static const char *relocate[64];
    size_t nrelocate = 0;
    for (; a < argc && argv[a][0] == '-'; a++) {
        if (!strcmp(argv[a], "--ignore-kernel"))
            ignore_kernel = 1;
        else if (!strcmp(argv[a], "--local") && a + 1 < argc)
            local = argv[++a];
        else if (!strcmp(argv[a], "--preload"))
            preload = 1;
        else if (!strcmp(argv[a], "--fetch-to") && a + 1 < argc)
            fetch_to = argv[++a];
        else if (!strcmp(argv[a], "--ranks") && a + 1 < argc)
            fetch_ranks = argv[++a];
        else if (!strcmp(argv[a], "--sums") && a + 1 < argc)
            fetch_sums = argv[++a];
        else if (!strcmp(argv[a], "--send-meta"))
            send_meta = 1;
        else if (!strcmp(argv[a], "--relocate") && a + 1 < argc) {
            const char *v = argv[++a], *eq = strchr(v, '=');
            if (!eq || eq == v || !eq[1])
                die("--relocate takes OLD=NEW (two paths), not '%s'", v);
            if (nrelocate == sizeof relocate / sizeof relocate[0])
                die("at most %zu --relocate options", nrelocate);
            relocate[nrelocate++] = v;
        } else if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
            usage(stdout);
            exit(0);
        } else {
            usage(stderr);
            exit(2);
        }
    }
    if (a != argc - 1) {
        usage(stderr);
        exit(2);
    }
    *o = (struct opts){.ignore_kernel = ignore_kernel, .preload = preload, .send_meta = send_meta,
                       .local = local, .fetch_to = fetch_to, .fetch_ranks = fetch_ranks,
                       .fetch_sums = fetch_sums, .dir = argv[a], .relocate = relocate,
                       .nrelocate = nrelocate};
}

/* Not a rank: restart-mpi asks this host for its cached metadata (--send-meta) or sends for its
 * cached copies of images (--fetch-to ADDR --ranks LIST) (filem/fetch.h), the answer on standard
 * output. 1 when o asked for either (answered; a failure ends revive-restart-rank), else 0. */
static int serve_host_request(const struct opts *o)
{
    if (o->send_meta || o->fetch_to || o->fetch_ranks)
        /* not a rank: restart-mpi reads the answer through a launcher or a remote shell; a
         * reader gone (ended at its bound) must not kill the sender without a word */
        signal(SIGPIPE, SIG_IGN);
    if (o->send_meta) {
        /* not a rank: restart-mpi asks for this host's cached metadata (filem/fetch.h) */
        char err[REVIVE_TEXT_PATHS(2)];
        if (filem_fetch_send_meta(o->local, o->dir, stdout, err, sizeof err) < 0)
            die("cached metadata: %s", err);
        return 1;
    }
    if (o->fetch_to || o->fetch_ranks) {
        /* not a rank: restart-mpi's fetch of this host's cached copies (filem/fetch.h) */
        char err[REVIVE_TEXT_PATHS(2)];
        if (!o->fetch_to || !o->fetch_ranks)
            die("--fetch-to ADDR and --ranks LIST go together");
        if (filem_fetch_send(o->local, o->dir, o->fetch_ranks, o->fetch_sums, o->fetch_to,
                             getenv(FILEM_FETCH_SECRET_ENV),
                             stdout, err, sizeof err) < 0)
            die("fetch of cached images: %s", err);
        if (fflush(stdout) != 0 || ferror(stdout))
            die("fetch of cached images: cannot write its answer: %s", strerror(errno));
        return 1;
    }
    return 0;
}

/* --save-shared: the files several ranks of one host saved whose pages another rank writes
 * back (its copy read last: restart-mpi's RESTART_SAVED_WRITERS_VAR, lines "WRITER DEV INO HOST
 * RANKS RANGES PATH", tools/snapc/restart_saved.h): this rank's restore leaves its saved
 * regions of them that lie within the writer's RANGES (crs_restart_opts.saved_skip) when it runs
 * on HOST, the file's host at the checkpoint; on another host it writes its own copy, as before
 * (the writer may not be there). Said at REVIVE_VERBOSE=1. The variable stays set: a run again
 * (rank_cache_run_again) reads it too. */
#define SAVED_SKIP_MAX 256
#define SAVED_RANGES_MAX 4096
static int in_list(const char *list, long r)
{
    for (const char *p = list; *p;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p)
            return 0;
        if (v == r)
            return 1;
        p = *end == ',' ? end + 1 : end;
    }
    return 0;
}

/* "A-B,A-B" into ranges (pairs) from *used on: how many, or -1 when malformed or past the room */
static long parse_ranges(const char *t, uint64_t *ranges, size_t *used)
{
    long n = 0;
    for (const char *p = t; *p; n++) {
        char *end;
        unsigned long long a = strtoull(p, &end, 10), b;
        if (end == p || *end != '-')
            return -1;
        p = end + 1;
        b = strtoull(p, &end, 10);
        if (end == p || (*end && *end != ',') || *used + 2 > SAVED_RANGES_MAX)
            return -1;
        ranges[(*used)++] = a;
        ranges[(*used)++] = b;
        p = *end ? end + 1 : end;
    }
    return n;
}

static size_t saved_skips(struct crs_saved_skip *skip)
{
    static char buf[64 * 1024];
    static uint64_t ranges[SAVED_RANGES_MAX];
    size_t rused = 0;
    const char *v = getenv(RESTART_SAVED_WRITERS_VAR);
    const char *vb = getenv("REVIVE_VERBOSE");
    int verbose = vb ? atoi(vb) : 0;
    char here[256] = "";
    size_t n = 0;
    if (!v || snprintf(buf, sizeof buf, "%s", v) >= (int)sizeof buf)
        return 0;
    gethostname(here, sizeof here - 1);
    for (char *l = buf, *nl; *l && n < SAVED_SKIP_MAX; l = nl + 1) {
        if (!(nl = strchr(l, '\n')))
            break;
        *nl = 0;
        /* six words, then the path (the rest of the line, spaces and all) */
        char *f[7];
        int k = 0;
        for (char *p = l; k < 7 && p && *p; k++) {
            f[k] = p;
            if (k < 6 && (p = strchr(p, ' ')))
                *p++ = 0;
        }
        if (k < 7)
            continue;
        long w = strtol(f[0], NULL, 10);
        if (w == rank || !in_list(f[4], rank))
            continue;
        if (strcmp(here, f[3])) {
            if (verbose >= 1)
                fprintf(stderr, "revive-restart-rank: rank %d: %s (saved by ranks %s on %s, --save-shared) "
                                "is written back from this rank's copy: it runs on %s now\n",
                        rank, f[6], f[4], f[3], here);
            continue;
        }
        size_t first = rused;
        long nr = parse_ranges(f[5], ranges, &rused);
        if (nr < 0) {
            rused = first;
            continue; /* this rank writes its own copy, as before */
        }
        skip[n].dev = strtoull(f[1], NULL, 10);
        skip[n].ino = strtoull(f[2], NULL, 10);
        skip[n].ranges = ranges + first;
        skip[n].nranges = (size_t)nr;
        n++;
        if (verbose >= 1)
            fprintf(stderr, "revive-restart-rank: rank %d: %s (saved by ranks %s on %s, --save-shared) "
                            "is written back from rank %ld's copy, read last, where it holds the file's bytes "
                            "(%s), not from this rank's\n",
                    rank, f[6], f[4], f[3], w, f[5]);
    }
    return n;
}

/* This rank's restore from img (shared: its name in the snapshot directory seqdir, for a run
 * again from there when a cached copy img fails while its memory is loaded): the hand-off for
 * the fresh MPI (the launcher's descriptors, the moves of --relocate, the job's size), then the
 * image's restore, as a tree file's member 0 when the rank had running children. Returns only
 * to die with the restore's error. */
static void restore_rank(const struct opts *opt, char **argv, const char *img, const char *shared,
                         const char *seqdir, int size) __attribute__((noreturn));
static void restore_rank(const struct opts *opt, char **argv, const char *img, const char *shared,
                         const char *seqdir, int size)
{
    /* this rank's image as restart-mpi's check read every chunk of it (filem/verified.h): the
     * restore does not hash it again when it reads that very file, unchanged; not handed on
     * to the fresh MPI (the hand-off below) */
    struct crs_file_stamp vstamp;
    int verified = filem_verified_find(getenv(FILEM_VERIFIED_ENV), rank, &vstamp) == 0;
    unsetenv(FILEM_VERIFIED_ENV);

    int keep[CRS_KEEP_FDS_MAX];
    int nkeep = keep_launcher_fds(keep, CRS_KEEP_FDS_MAX);
    /* the restored rank leaves them out of its later images (they are the launcher's) */
    char list[CRS_KEEP_FDS_MAX * 8 + 1] = "";
    for (int i = 0; i < nkeep; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%d", i ? "," : "", keep[i]);
    setenv(PML_HANDOFF_FDS_VAR, list, 1);
    /* the MPI layer reopens the job's MPI files itself (objs_restart.c): it reads the moves
     * from the hand-off, as REVIVE_RESTART_RELOCATE_<i>=OLD=NEW */
    for (size_t i = 0; i < opt->nrelocate; i++) {
        char var[64];
        snprintf(var, sizeof var, "REVIVE_RESTART_RELOCATE_%zu", i);
        setenv(var, opt->relocate[i], 1);
    }
    size_t blen;
    char *blob = handoff_blob(size, &blen);
    int outside = 0, data_failed = 0;
    struct crs_restart_opts o = {
        .path = img,
        .fd = -1,
        .restore_ids = 0,
        .ignore_kernel = opt->ignore_kernel,
        .handoff = blob,
        .handoff_len = blen,
        .keep_fds = keep,
        .nkeep_fds = nkeep,
        .relocate = opt->relocate,
        .nrelocate = opt->nrelocate,
        .refused_outside = &outside,
        .data_failed = &data_failed,
        /* the ranks of this job on this node are the launcher daemon's children: they share
         * their /dev/shm objects again; any other process using one (the original job still
         * running) refuses the restart (crs_restart_opts) */
        .shm_peers_parent = getppid(),
        .verified = verified ? &vstamp : NULL,
    };
    static struct crs_saved_skip skip[SAVED_SKIP_MAX];
    o.nsaved_skip = saved_skips(skip);
    o.saved_skip = o.nsaved_skip ? skip : NULL;
    char err[REVIVE_RESTART_TEXT_MAX], cwd[PATH_MAX]; /* the paths whole and the advice after them */
    if (!getcwd(cwd, sizeof cwd))
        cwd[0] = 0;
    const struct crs_component *crs = crs_component_select(NULL, err, sizeof err);
    /* a rank that had running children (src/pml_hooks/capture.c): its image is member 0 of a
     * tree file, the children come back as its children under their pids */
    int tfd = crs ? open(img, O_RDONLY | O_CLOEXEC) : -1;
    int e, tree = tfd >= 0 && crs_tree_is_tree(tfd) == 1;
    if (tfd >= 0 && !tree)
        close(tfd);
    if (tree)
        e = restart_tree_here(crs, &o, tfd, err, sizeof err);
    else
        e = crs ? crs_restart(crs, &o, err, sizeof err) : 0;
    /* only a failure while loading the memory: later steps have changed this process (its
     * descriptors, limits, credentials), and a run again would inherit that */
    if (e && data_failed && !outside)
        rank_cache_run_again(rank, argv, shared, err, keep, nkeep, cwd);
    advise_restart_mpi(err, sizeof err, seqdir);
    if (outside)
        stop_kind = "refused";
    die("%s", err);
}

int main(int argc, char **argv)
{
    struct opts o;
    parse_options(argc, argv, &o);
    if (serve_host_request(&o))
        return 0;
    const char *dir = o.dir, *seqdir = o.dir; /* dir: maybe this host's cached copy */
    const char *local = o.local;
    static const char *const rank_vars[] = { "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", NULL };
    static const char *const size_vars[] = { "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", NULL };
    const char *rank_var = NULL;
    rank = env_int(rank_vars, &rank_var);
    if (rank < 0)
        die("no rank in the environment (OMPI_COMM_WORLD_RANK, PMIX_RANK, PMI_RANK): run me under"
            " the MPI launcher (restart-mpi does)");
    /* run again after a cached copy's restore failed (rank_cache_run_again): not the rank's own
     * environment, gone before the hand-off is made of it */
    static char failed_copy[PATH_MAX + 64], failed_why[REVIVE_RESTART_TEXT_MAX]; /* DEV:INO:PATH */
    static char failed_stamp[64];
    const char *fv = getenv(RANK_CACHE_FAILED_VAR), *fw = getenv(RANK_CACHE_ERR_VAR);
    const char *fs = getenv(RANK_CACHE_STAMP_VAR);
    if (fv) {
        snprintf(failed_copy, sizeof failed_copy, "%s", fv);
        /* longer than the first run's own words can be (set by hand): cut visibly, "..." */
        if (snprintf(failed_why, sizeof failed_why, "%s", fw ? fw : "the restore failed") >= (int)sizeof failed_why)
            revive_text_cut(failed_why, sizeof failed_why);
        snprintf(failed_stamp, sizeof failed_stamp, "%s", fs ? fs : "");
    }
    unsetenv(RANK_CACHE_FAILED_VAR);
    unsetenv(RANK_CACHE_ERR_VAR);
    unsetenv(RANK_CACHE_STAMP_VAR);
    rank_cache_note_start();
    char ldef[PATH_MAX];
    if (!local) {
        /* each node's default cache (filem_local_default), where the job wrote without
         * --ckpt-local; none there (or not private): the snapshot directory */
        char lerr[REVIVE_TEXT_PATHS(1)];
        if (filem_local_default(ldef, sizeof ldef, o.preload, lerr, sizeof lerr) == 0)
            local = ldef;
        else if (o.preload)
            fprintf(stderr, "revive-restart-rank: rank %d: --preload: %s; reading the snapshot "
                            "directory\n", rank, lerr);
    } else if (!strcmp(local, "none"))
        local = NULL;
    struct stat st;
    char cached[PATH_MAX]; /* a longer one cannot be opened */
    if (stat(dir, &st) != 0 && errno == ENOENT)
        dir = cached_sequence(local, dir, cached, sizeof cached);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        die("%s: %s", dir, stat(dir, &st) != 0 ? strerror(errno) : "not a directory");
    const char *how = NULL;
    int nsnap = snapshot_ranks(dir, &how);
    int size = env_int(size_vars, NULL);
    if (nsnap == 0)
        die("%s holds no rank image (rank_0.img, ...)", dir);
    if (size >= 0 && size != nsnap)
        die("the snapshot %s has %d ranks (by %s), this job has %d: restart it with -np %d", dir,
            nsnap, how, size, nsnap);
    if (size < 0)
        size = nsnap;
    if (rank >= nsnap)
        die("the snapshot %s has %d ranks; there is no rank %d (%s)", dir, nsnap, rank, rank_var);
    /* room for DIR up to PATH_MAX and the name: a longer one is refused by the system, said
     * (ENAMETOOLONG), never cut here */
    char img[PATH_MAX + 32];
    snprintf(img, sizeof img, "%s/rank_%d.img", dir, rank);
    char shared[PATH_MAX + 32];
    snprintf(shared, sizeof shared, "%s", img);
    if (failed_copy[0]) {
        static char msg[REVIVE_RESTART_TEXT_MAX];
        if (rank_cache_failed(rank, dir, failed_copy, failed_stamp, failed_why, img, msg, sizeof msg) < 0) {
            advise_restart_mpi(msg, sizeof msg, seqdir);
            begun = 1;
            die("%s", msg);
        }
    } else if (local)
        rank_cache_pick(local, dir, rank, o.preload, img, sizeof img);
    say_source(rank, img);
    /* from here a failure is the restore's (before, the launch's: a rank that is not there) */
    begun = 1;
    progress_file("begun", img);
    if (access(img, R_OK) != 0)
        die("%s: %s", img, strerror(errno));
    /* before the restore: the image's own MPI layer would find it only after a fresh MPI, and
     * one from before 0122f2d says less (restart_wincheck.c); the snapshot is marked failed */
    char werr[REVIVE_TEXT_PATHS(2)];
    if (restart_wincheck(img, werr, sizeof werr))
        die("%s", werr);

    restore_rank(&o, argv, img, shared, seqdir, size);
}
