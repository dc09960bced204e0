/* The restarter's own descriptors of a file the process holds fcntl (POSIX) locks on, closed
 * before those locks are taken again.
 *
 * A POSIX lock belongs to the process and goes when the process closes ANY descriptor of the
 * file (README: Kernel objects). Every descriptor at or above work_fd_min is the restarter's
 * and is closed at the switch (restore_switch.c), after the locks are taken: one of them on a
 * locked file released the lock there, silently (newuser10 F2). A process tree's restart is
 * where it happens: each member inherits the tree's copy of every open file members share
 * (cr_restart_tree_files.c, high numbers), puts it at its own numbers, takes its locks on it, and
 * then the switch closed the copy: the program's lock, and a child's on the same open file,
 * were gone, and a member waiting in F_SETLKW at the checkpoint got the range at once. The
 * same holds for any other of the restarter's descriptors that opens a locked file (a file a
 * rank's restart shares, cr_restart's own streams). Closing them before the locks is what the
 * switch would do anyway, only earlier: nothing after the locks reads those files. The
 * descriptors the caller keeps (keep_fds) stay open across the switch and are left alone. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "crs/uspace/restore.h"
#include "common/log.h"

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* where the fallback looks when /proc cannot list our descriptors */
#define SCAN_MAX (1 << 20)

struct locked_file {
    dev_t dev;
    ino_t ino;
};

static int kept(const struct crs_restore *r, int fd)
{
    for (int k = 0; k < r->nkeep_fds; k++)
        if (r->keep_fds[k] == fd)
            return 1;
    return 0;
}

/* fd, one of ours, closed when it opens one of the n locked files; 1 when it was */
static int aside(const struct crs_restore *r, int fd, const struct locked_file *files, size_t n)
{
    struct stat st;
    if (fd < r->work_fd_min || kept(r, fd) || fstat(fd, &st) != 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (files[i].dev == st.st_dev && files[i].ino == st.st_ino) {
            close(fd);
            return 1;
        }
    return 0;
}

int crs_restore_lock_aside(struct crs_restore *r)
{
    const struct crs_image *img = r->img;
    size_t n = 0;
    struct locked_file *files = NULL;
    for (size_t i = 0; i < img->nlocks; i++) {
        struct stat st;
        if (img->locks[i].kind != CRS_LOCK_POSIX || fstat(img->locks[i].fd, &st) != 0)
            continue;   /* (a descriptor not there: crs_restore_locks names it) */
        if (!files && !(files = calloc(img->nlocks, sizeof *files)))
            return -1;
        size_t k = 0;
        while (k < n && !(files[k].dev == st.st_dev && files[k].ino == st.st_ino))
            k++;
        if (k == n)
            files[n++] = (struct locked_file){ st.st_dev, st.st_ino };
    }
    if (!n)
        return 0;
    int closed = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        /* (closing while reading the directory: each entry is read once; the directory's own
         * descriptor is /proc's, never a locked file) */
        int own = dirfd(d);
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            char *end;
            long fd = strtol(e->d_name, &end, 10);
            if (*end || end == e->d_name || fd == own || fd > INT32_MAX)
                continue;
            closed += aside(r, (int)fd, files, n);
        }
        closedir(d);
    } else {
        /* no /proc here: every number up to the descriptor limit */
        struct rlimit lim;
        long top = getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < SCAN_MAX ? (long)lim.rlim_cur : SCAN_MAX;
        for (long fd = r->work_fd_min; fd < top; fd++)
            closed += aside(r, (int)fd, files, n);
    }
    if (closed)
        revive_log_debug("closed %d of the restarter's descriptors of files the process holds fcntl locks on, "
                         "before taking the locks again", closed);
    free(files);
    return closed;
}
