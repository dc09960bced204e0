/* The failed-staging mark and the room kept for it; the mark of a staging in progress
 * (stage_mark.h). */
#define _GNU_SOURCE
#include "filem/stage_mark.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crs/base/durable.h"
#include "filem/alive.h"
#include "filem/filem.h"
#include "filem/stage.h"

int filem_stage_reserve(const char *jobdir, char *err, size_t errlen)
{
    char path[PATH_MAX];
    if ((size_t)filem_fmt(path, sizeof path, "%s/%s", jobdir, FILEM_STAGE_RESERVE_NAME) >=
        sizeof path) {
        filem_fmt(err, errlen, "the path of %s under %s is too long", FILEM_STAGE_RESERVE_NAME,
                  jobdir);
        return -ENAMETOOLONG;
    }
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
        st.st_size >= FILEM_STAGE_RESERVE_SIZE)
        return 0;
    /* real bytes, not a hole: the blocks must be the file's own when the disk is full */
    char buf[FILEM_STAGE_RESERVE_SIZE];
    memset(buf, ' ', sizeof buf);
    static const char head[] = "room kept for the staging.failed mark of a sequence whose copy "
                               "to this directory fails (src/filem/stage_mark.h)";
    memcpy(buf, head, sizeof head - 1);
    buf[sizeof buf - 1] = '\n';
    return crs_durable_write_file(path, buf, sizeof buf, 0600, err, errlen);
}

void filem_stage_unreserve(const char *jobdir)
{
    char path[PATH_MAX];
    if ((size_t)filem_fmt(path, sizeof path, "%s/%s", jobdir, FILEM_STAGE_RESERVE_NAME) <
        sizeof path)
        unlink(path);
}

/* The reservation becomes the mark: TEXT written over its first bytes (its own blocks, no new
 * room), the rest cut off, flushed, renamed into the sequence directory. 0 or -errno. */
static int from_reserve(int jfd, int sfd, const char *text, size_t n)
{
    int fd = openat(jfd, FILEM_STAGE_RESERVE_NAME, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    int e = 0;
    if (fstat(fd, &st) < 0)
        e = -errno;
    else if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_size < (off_t)n)
        e = -EINVAL;
    if (e == 0) {
        ssize_t w = pwrite(fd, text, n, 0);
        if (w < 0)
            e = -errno;
        else if ((size_t)w != n)
            e = -EIO;
    }
    if (e == 0 && (ftruncate(fd, (off_t)n) < 0 || fsync(fd) < 0))
        e = -errno;
    close(fd);
    if (e == 0 && renameat(jfd, FILEM_STAGE_RESERVE_NAME, sfd, FILEM_STAGE_FAILED_NAME) < 0)
        e = -errno;
    return e;
}

int filem_stage_mark_failed(const char *jobdir, uint64_t seq, const char *why, char *err,
                            size_t errlen)
{
    char text[FILEM_STAGE_RESERVE_SIZE];
    size_t n = (size_t)snprintf(text, sizeof text, "%s\n", why);
    if (n >= sizeof text) {
        n = sizeof text - 1; /* cut, still one line */
        text[n - 1] = '\n';
    }
    char seqdir[PATH_MAX], path[PATH_MAX + 32];
    if (filem_seq_path(seqdir, sizeof seqdir, jobdir, seq) < 0 ||
        (size_t)filem_fmt(path, sizeof path, "%s/%s", seqdir, FILEM_STAGE_FAILED_NAME) >=
            sizeof path) {
        filem_fmt(err, errlen, "the path of sequence %llu under %s is too long",
                  (unsigned long long)seq, jobdir);
        return -ENAMETOOLONG;
    }
    int jfd = open(jobdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int sfd = open(seqdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (jfd < 0 || sfd < 0) {
        int e = errno;
        filem_fmt(err, errlen, "cannot open %s: %s", jfd < 0 ? jobdir : seqdir, strerror(e));
        if (jfd >= 0)
            close(jfd);
        if (sfd >= 0)
            close(sfd);
        return -e;
    }
    int e = from_reserve(jfd, sfd, text, n);
    if (e == 0) {
        /* the mark's new name and the reservation's old one, both durable */
        if (fsync(sfd) < 0 || fsync(jfd) < 0) {
            e = -errno;
            filem_fmt(err, errlen, "cannot flush the directory of %s: %s", path, strerror(-e));
        }
    } else {
        /* no reservation (the disk was full before this job's first checkpoint) or it could
         * not be used: a new file, which needs room */
        e = crs_durable_write_file(path, text, n, 0600, err, errlen);
    }
    close(jfd);
    close(sfd);
    return e;
}

int filem_stage_failed_reason(const char *jobdir, uint64_t seq, char *why, size_t len)
{
    char path[PATH_MAX + 64];
    filem_fmt(path, sizeof path, "%s/%llu/%s", jobdir, (unsigned long long)seq,
              FILEM_STAGE_FAILED_NAME);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    if (!fgets(why, (int)len, f))
        why[0] = 0;
    fclose(f);
    why[strcspn(why, "\n")] = 0;
    return 1;
}

/* The mark of each phase, and the marks that end it (filem_phase_active) */
static const char *phase_name(enum filem_phase phase)
{
    return phase == FILEM_PHASE_STAGING ? FILEM_STAGE_ACTIVE_NAME : FILEM_WRITE_ACTIVE_NAME;
}

int filem_phase_mark(const char *jobdir, uint64_t seq, enum filem_phase phase, char *err, size_t errlen)
{
    char path[PATH_MAX + 64], host[256] = "";
    if ((size_t)filem_fmt(path, sizeof path, "%s/%llu/%s", jobdir, (unsigned long long)seq,
                          phase_name(phase)) >= sizeof path) {
        filem_fmt(err, errlen, "the path of sequence %llu under %s is too long",
                  (unsigned long long)seq, jobdir);
        return -ENAMETOOLONG;
    }
    gethostname(host, sizeof host - 1);
    char text[320];
    int n = snprintf(text, sizeof text, "%s %d\n", host, (int)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    int e = fd < 0 ? -errno : 0;
    if (e == 0 && write(fd, text, (size_t)n) != n)
        e = errno ? -errno : -EIO;
    if (fd >= 0 && close(fd) < 0 && e == 0)
        e = -errno;
    if (e < 0) {
        filem_fmt(err, errlen, "cannot write %s: %s", path, strerror(-e));
        unlink(path);
    }
    return e;
}

void filem_phase_unmark(const char *jobdir, uint64_t seq, enum filem_phase phase)
{
    char path[PATH_MAX + 64];
    if ((size_t)filem_fmt(path, sizeof path, "%s/%llu/%s", jobdir, (unsigned long long)seq,
                          phase_name(phase)) < sizeof path)
        unlink(path);
}

int filem_phase_settle_orphan(const char *jobdir, uint64_t seq, enum filem_phase phase, const char *why,
                              char *err, size_t errlen)
{
    char path[PATH_MAX + 64];
    const char *names[] = {FILEM_META_NAME, FILEM_STAGE_FAILED_NAME, phase_name(phase)};
    for (int k = 0; k < 3; k++) {
        if ((size_t)filem_fmt(path, sizeof path, "%s/%llu/%s", jobdir, (unsigned long long)seq,
                              names[k]) >= sizeof path)
            return 0;
        if ((access(path, F_OK) == 0) != (k == 2))
            return 0;
    }
    int e = filem_stage_mark_failed(jobdir, seq, why, err, errlen);
    if (e < 0)
        return e;
    filem_phase_unmark(jobdir, seq, phase);
    return 1;
}

int filem_phase_active(const char *jobdir, uint64_t seq, enum filem_phase phase)
{
    /* the phase's mark there; snapshot.meta, staging.failed and (while writing) staging.active not */
    const char *names[] = {phase_name(phase), FILEM_META_NAME, FILEM_STAGE_FAILED_NAME, FILEM_STAGE_ACTIVE_NAME};
    int n = phase == FILEM_PHASE_STAGING ? 3 : 4;
    char path[PATH_MAX + 64];
    for (int k = 0; k < n; k++) {
        if ((size_t)filem_fmt(path, sizeof path, "%s/%llu/%s", jobdir, (unsigned long long)seq,
                              names[k]) >= sizeof path)
            return 0;
        int there = access(path, F_OK) == 0;
        if (there != (k == 0))
            return 0;
    }
    return filem_job_alive(jobdir) == 1;
}
