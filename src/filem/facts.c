/* What identifies a program or library file (path, size, mtime, build id),
 * recorded in snapshot.meta and checked again at restart. */
#define _GNU_SOURCE
#include "filem/filem.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crs/base/elf_build_id.h"

int filem_file_facts(const char *path, struct filem_file_facts *f, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    snprintf(f->path, sizeof f->path, "%s", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        filem_fmt(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        filem_fmt(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    f->size = (uint64_t)st.st_size;
    f->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    uint8_t id[64];
    uint32_t n = crs_elf_build_id(fd, id, sizeof id);
    close(fd);
    for (uint32_t i = 0; i < n; i++)
        snprintf(f->build_id + 2 * i, 3, "%02x", id[i]);
    return 0;
}

int filem_meta_put_facts(struct filem_meta *m, const char *prefix, const struct filem_file_facts *f)
{
    char k[160];
    int e;
    filem_fmt(k, sizeof k, "%s.path", prefix);
    e = filem_meta_set(m, k, "%s", f->path);
    filem_fmt(k, sizeof k, "%s.size", prefix);
    e = e ?: filem_meta_set(m, k, "%llu", (unsigned long long)f->size);
    filem_fmt(k, sizeof k, "%s.mtime_ns", prefix);
    e = e ?: filem_meta_set(m, k, "%lld", (long long)f->mtime_ns);
    filem_fmt(k, sizeof k, "%s.build_id", prefix);
    e = e ?: filem_meta_set(m, k, "%s", f->build_id[0] ? f->build_id : "none");
    return e;
}

int filem_meta_check_facts(const struct filem_meta *m, const char *prefix, const char *what,
                           const char *path_now, char *err, size_t errlen)
{
    char k[160];
    filem_fmt(k, sizeof k, "%s.path", prefix);
    const char *path = filem_meta_get(m, k);
    if (!path)
        return 0; /* not recorded: nothing to compare */
    if (path_now)
        path = path_now;
    uint64_t size = 0, mt = 0;
    filem_fmt(k, sizeof k, "%s.size", prefix);
    filem_meta_get_u64(m, k, &size);
    filem_fmt(k, sizeof k, "%s.mtime_ns", prefix);
    const char *mts = filem_meta_get(m, k);
    if (mts)
        sscanf(mts, "%" SCNu64, &mt);
    filem_fmt(k, sizeof k, "%s.build_id", prefix);
    const char *bid = filem_meta_get(m, k);
    struct filem_file_facts now;
    char e2[512];
    if (filem_file_facts(path, &now, e2, sizeof e2) < 0) {
        filem_fmt(err, errlen, "the %s of the snapshot, %s, is gone (%s); restore it to restart",
                 what, path, e2);
        return -ENOENT;
    }
    const char *changed = NULL;
    /* a build id is the linker's hash of the contents: the same one and size is the same file,
     * whatever its time (a copy put back with cp, review LOW-3); without one, the time decides */
    int by_id = bid && strcmp(bid, "none") != 0;
    if (bid && strcmp(bid, now.build_id[0] ? now.build_id : "none") != 0)
        changed = "build id";
    else if (now.size != size)
        changed = "size";
    else if ((uint64_t)now.mtime_ns != mt && !by_id)
        changed = "modification time";
    if (!changed && (uint64_t)now.mtime_ns != mt) {
        filem_fmt(err, errlen,
                 "the %s %s has another modification time than when the snapshot was taken, but "
                 "the same size and build id: taken for the same file (a copy put back)",
                 what, path);
        return 1;
    }
    if (changed) {
        filem_fmt(err, errlen,
                 "the %s %s changed since the snapshot was taken (its %s differs); a restart needs "
                 "the same file: reinstall the one the job ran with",
                 what, path, changed);
        return -ESTALE;
    }
    return 0;
}
