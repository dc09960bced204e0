/* A /dev/shm object the image brings back, still in use by a live process.
 *
 * A restart makes each saved /dev/shm object again under its name, with the
 * image's bytes (restore_load.c). When the original still runs (a restart
 * beside it: its pid is taken, so the restart comes up in a pid namespace of
 * its own), or another restart from the same image does, the object under
 * that name is the one they map: writing the image's bytes over it, then
 * sharing it, left both with wrong results and exit 0 (review 13 HIGH-13).
 * So before anything is written the restart looks for a process holding the
 * object now: one that maps it (/proc/PID/maps: device and inode, as the
 * capture saw them) or has it open (/proc/PID/fd). Found, the restart either
 * gives the restarted process a /dev/shm of its own, a tmpfs in a mount
 * namespace of its own (cr_restart: crs_restart_opts.dev_shm_private, as CRIU
 * restores objects in the restored ipc and mount namespace), or refuses,
 * naming the object and the process (as BLCR refused conflicts). It never
 * writes over an object another live process uses.
 *
 * The ranks of one restarted MPI job on one node share their objects again:
 * they are children of one launcher daemon (crs_restart_opts.shm_peers_parent),
 * and an object one of them made already is no conflict for the others. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/procfs.h"
#include "restore.h"

struct holder_search {
    int procfd;            /* the /proc to look in */
    dev_t dev;
    ino_t ino;
    pid_t self, peers_parent;
    pid_t found, peer;
    char comm[64];
};

static int maps_object(int procfd, const char *pid, dev_t dev, ino_t ino)
{
    char path[64];
    snprintf(path, sizeof path, "%s/maps", pid);
    int fd = openat(procfd, path, O_RDONLY | O_CLOEXEC);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    char line[4096 + 256];
    int hit = 0;
    while (!hit && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        struct revive_maps_entry e;
        hit = revive_maps_parse_line(line, &e) == 0 && e.inode == (uint64_t)ino && e.dev == (uint64_t)dev;
    }
    fclose(f);
    return hit;
}

static int holds_open(int procfd, const char *pid, dev_t dev, ino_t ino)
{
    char path[64];
    snprintf(path, sizeof path, "%s/fd", pid);
    int dfd = openat(procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return 0;
    }
    int hit = 0;
    struct dirent *de;
    struct stat st;
    while (!hit && (de = readdir(d)))
        hit = de->d_name[0] != '.' && fstatat(dirfd(d), de->d_name, &st, 0) == 0 && st.st_dev == dev &&
              st.st_ino == ino;
    closedir(d);
    return hit;
}

static long holder_of(long n, int dirfd, void *arg)
{
    struct holder_search *h = arg;
    (void)dirfd;
    if ((pid_t)n == h->self)
        return 0;
    char pid[24], path[64], stat[1024];
    snprintf(pid, sizeof pid, "%ld", n);
    snprintf(path, sizeof path, "%s/stat", pid);
    int fd = openat(h->procfd, path, O_RDONLY | O_CLOEXEC);
    ssize_t len = fd >= 0 ? read(fd, stat, sizeof stat - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (len <= 0)
        return 0;   /* gone meanwhile */
    stat[len] = 0;
    uint64_t ppid;
    int peer = h->peers_parent > 0 && revive_stat_field(stat, 4, &ppid) == 0 && (pid_t)ppid == h->peers_parent;
    if (!maps_object(h->procfd, pid, h->dev, h->ino) && !holds_open(h->procfd, pid, h->dev, h->ino))
        return 0;
    if (peer) {   /* a rank of the same restarted job: it made the object, this one shares it */
        h->peer = (pid_t)n;
        return 0;
    }
    const char *open_paren = strchr(stat, '('), *close_paren = strrchr(stat, ')');
    h->comm[0] = 0;
    if (open_paren && close_paren && close_paren > open_paren)
        snprintf(h->comm, sizeof h->comm, "%.*s", (int)(close_paren - open_paren - 1), open_paren + 1);
    h->found = (pid_t)n;
    return 1;
}

static int proc_stat(int procfd, pid_t pid, char *stat, size_t cap)
{
    char path[48];
    snprintf(path, sizeof path, "%d/stat", (int)pid);
    int fd = openat(procfd, path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, stat, cap - 1) : -1;
    if (fd >= 0)
        close(fd);
    stat[n > 0 ? n : 0] = 0;
    return n > 0 ? 0 : -1;
}

static void stat_comm(const char *stat, char *comm, size_t cap)
{
    const char *a = strchr(stat, '('), *b = strrchr(stat, ')');
    snprintf(comm, cap, "%.*s", a && b && b > a ? (int)(b - a - 1) : 0, a ? a + 1 : "");
}

/* An MPI launcher or its node daemon by its name: mpirun, mpiexec and their suffixed names
 * (Debian's mpirun.openmpi, mpiexec.hydra), Open MPI's and PRRTE's, Hydra's proxy. */
static int is_launcher(const char *comm)
{
    static const char *const names[] = { "orterun", "orted", "prterun", "prted", "prte", "hydra_pmi_proxy", NULL };
    if (!strncmp(comm, "mpirun", 6) || !strncmp(comm, "mpiexec", 7))
        return 1;
    for (size_t i = 0; names[i]; i++)
        if (!strcmp(comm, names[i]))
            return 1;
    return 0;
}

/* Whether pid runs the image's program: its executable is the image's (its comm when the link
 * cannot be read, or after a restart, whose executable may show as the restarter). */
static int runs_image_program(struct crs_restore *r, int procfd, pid_t pid, const char *comm)
{
    const struct crs_image *img = r->img;
    char path[48], exe[4096];
    snprintf(path, sizeof path, "%d/exe", (int)pid);
    ssize_t n = readlinkat(procfd, path, exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        if (!strcmp(exe, crs_restore_path(r, crs_image_str(img, img->process->exe))))
            return 1;
    }
    return img->nthreads && !strncmp(comm, img->threads[0].comm, sizeof img->threads[0].comm);
}

void crs_restore_describe_holder(struct crs_restore *r, pid_t pid, char *out, size_t cap)
{
    int own = r->outer_proc_fd < 0;
    int procfd = own ? open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC) : r->outer_proc_fd;
    char stat[1024], comm[64] = "?", lcomm[64] = "";
    pid_t launcher = 0;
    if (procfd >= 0 && proc_stat(procfd, pid, stat, sizeof stat) == 0) {
        stat_comm(stat, comm, sizeof comm);
        /* an MPI rank: the outermost launcher above it names the job */
        uint64_t ppid;
        for (int depth = 0; depth < 16 && revive_stat_field(stat, 4, &ppid) == 0 && ppid > 1; depth++) {
            char pc[64];
            if (proc_stat(procfd, (pid_t)ppid, stat, sizeof stat) != 0)
                break;
            stat_comm(stat, pc, sizeof pc);
            if (is_launcher(pc)) {
                launcher = (pid_t)ppid;
                snprintf(lcomm, sizeof lcomm, "%s", pc);
            }
        }
    }
    /* the original is the image's process itself: another run of the same program (started
     * since, with or without cr_run) is just "process P" (newuser10 M4). A rank of a running
     * job is named by its launcher whatever its pid (a job restarted in a pid namespace runs
     * under other pids out here). */
    int original = procfd >= 0 && runs_image_program(r, procfd, pid, comm) &&
                   (launcher || pid == (pid_t)r->img->process->pid);
    if (own && procfd >= 0)
        close(procfd);
    if (launcher && original)
        snprintf(out, cap, "the original job (launcher %d, %s; its process %d, %s)", (int)launcher, lcomm,
                 (int)pid, comm);
    else if (original)
        snprintf(out, cap, "the original process (%d, %s)", (int)pid, comm);
    else
        snprintf(out, cap, "process %d (%s)", (int)pid, comm);
}

pid_t crs_restore_shm_holder(struct crs_restore *r, const char *path, char *comm, size_t commlen, pid_t *peer)
{
    if (peer)
        *peer = 0;
    struct stat st;
    if (lstat(path, &st) != 0 || (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)))
        return 0;   /* nothing there to write over */
    struct holder_search h = {
        .dev = st.st_dev,
        .ino = st.st_ino,
        .peers_parent = r->shm_peers_parent,
    };
    /* In a pid namespace of its own with its own /proc, the live processes
     * are seen through the outer one (cr_restart.c: mount_own_proc). */
    int own = r->outer_proc_fd < 0;
    h.procfd = own ? open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC) : r->outer_proc_fd;
    h.self = own ? revive_proc_self_pid() : r->outer_pid;
    if (h.procfd < 0)
        return 0;
    char dir[32];
    snprintf(dir, sizeof dir, "/proc/self/fd/%d", h.procfd);
    revive_proc_for_each_number(dir, holder_of, &h);
    if (own)
        close(h.procfd);
    if (comm && commlen)
        snprintf(comm, commlen, "%s", h.comm);
    if (peer)
        *peer = h.peer;
    return h.found;
}

int crs_restore_shm_open(struct crs_restore *r, const char *path, mode_t mode, int *made, int *lock)
{
    /* The ranks of a job on one node restore their objects at once: one makes and fills each,
     * the others wait for it (a lock on the folder, held until it is filled) and take it as it
     * is. Without: a rank that came later truncated and wrote again the object an earlier one
     * already ran on, and its step was lost (MPICH, rst_beside). */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = 0;
    *lock = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    while (*lock >= 0 && flock(*lock, LOCK_EX) != 0 && errno == EINTR)
        ;
    char comm[64];
    pid_t peer;
    pid_t holder = crs_restore_shm_holder(r, path, comm, sizeof comm, &peer);
    if (holder) {
        char who[256];
        crs_restore_describe_holder(r, holder, who, sizeof who);
        if (r->refused_outside)
            *r->refused_outside = 1;
        crs_restore_error(r, "the shared memory object %s that the image brings back is in use by process %d: "
                          "%s still runs and uses it, and the restart would write over it. End it first, "
                          "then restart: the image is fine", path, (int)holder, who);
        if (*lock >= 0)
            close(*lock);
        *lock = -1;
        return -EBUSY;
    }
    *made = !peer;
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (peer ? 0 : O_CREAT), mode);
    if (fd >= 0 && !peer && ftruncate(fd, 0) != 0) {
        close(fd);
        fd = -1;
    }
    return fd >= 0 ? fd : -errno;
}

int crs_restore_check_shm_busy(struct crs_restore *r)
{
    const struct crs_image *img = r->img;
    for (size_t i = 0; i < img->nfobjs; i++) {
        const struct crs_rec_fobj *f = &img->fobjs[i];
        if (f->kind != CRS_FOBJ_SHM || (f->flags & CRS_FOBJ_F_ELSEWHERE))
            continue;
        const char *path = crs_restore_path(r, crs_image_str(img, f->path));
        char comm[64];
        pid_t p = crs_restore_shm_holder(r, path, comm, sizeof comm, NULL);
        if (!p)
            continue;
        char who[256];
        crs_restore_describe_holder(r, p, who, sizeof who);
        int own = r->outer_proc_fd < 0;
        int procfd = own ? open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC) : r->outer_proc_fd;
        int original = procfd >= 0 && runs_image_program(r, procfd, p, comm);
        if (own && procfd >= 0)
            close(procfd);
        if (r->dev_shm_private && original) {   /* made in a /dev/shm of its own (crs_restore_private_dev_shm) */
            snprintf(r->shm_busy, sizeof r->shm_busy, "%s is in use by process %d (%s)", path, (int)p, comm);
            return 0;
        }
        if (r->dev_shm_private) {
            /* not a copy beside the original: a /dev/shm of its own would cut
             * the restarted process off an object that another program now
             * holds under that name */
            crs_restore_error(r, "the shared memory object %s that the image brings back is in use by %s, which "
                              "does not run the image's program: the restart would either write the image's "
                              "bytes over that process's object or hide it from the restarted process. End "
                              "that process or remove the object it made, then restart: the image is fine",
                              path, who);
            return -EBUSY;
        }
        /* (no word of a /dev/shm of its own here: this restart cannot have one, newuser10 M5). The
         * word of root's: for cr_restart's restarts only, not an MPI rank's (revive-restart-rank
         * sets shm_peers_parent), whose restart beside its running job root's gets no /dev/shm of
         * its own either (diffrev29 K-L4) */
        int root_helps = geteuid() != 0 && !r->shm_peers_parent;
        crs_restore_error(r, "the shared memory object %s that the image brings back is in use by process %d: "
                          "%s still runs and uses it; the restart would write the image's bytes over it and "
                          "both would share it. End it first, then restart: the image is fine%s", path, (int)p,
                          who, root_helps ? " (as root, cr_restart gives the restarted processes a /dev/shm "
                                            "of their own instead)" : "");
        return -EBUSY;
    }
    return 0;
}

int crs_restore_private_dev_shm(struct crs_restore *r)
{
    if (!r->shm_busy[0] || r->dev_shm_private == 2)
        return 0;   /* (2: a tree's, made by its cr_restart for every member: crs_restart_opts) */
    /* A mount namespace of its own (cr_restart's child may have one already
     * for its /proc: one more costs nothing), whose mounts do not reach the
     * outer one, and an empty tmpfs on /dev/shm for the image's objects. */
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) != 0 ||
        mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0) {
        crs_restore_error(r, "%s, and a /dev/shm of its own cannot be made for the restarted process (%s): "
                          "end that process first, then restart", r->shm_busy, strerror(errno));
        return -EBUSY;
    }
    revive_log_warn("%s: the restarted process gets a /dev/shm of its own, holding the objects of its image "
                    "(it does not see the other objects in /dev/shm, nor they its own)", r->shm_busy);
    return 0;
}
