/* What identifies a program or library file (path, size, mtime, build id),
 * recorded in snapshot.meta and checked again at restart. */
#define _GNU_SOURCE
#include "filem/filem.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "crs/base/elf_build_id.h"

/* XXH3-64 of the whole file at fd (read from its start), hex into out[17]; "" when it cannot
 * be read. */
static void content_hash(int fd, char out[17])
{
    out[0] = 0;
    XXH3_state_t *h = XXH3_createState();
    size_t cap = 1 << 20;
    char *buf = malloc(cap);
    if (!h || !buf || XXH3_64bits_reset(h) != XXH_OK) {
        XXH3_freeState(h);
        free(buf);
        return;
    }
    off_t off = 0;
    for (;;) {
        ssize_t n = pread(fd, buf, cap, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            XXH3_freeState(h);
            free(buf);
            return;
        }
        if (n == 0)
            break;
        XXH3_64bits_update(h, buf, (size_t)n);
        off += n;
    }
    snprintf(out, 17, "%016" PRIx64, (uint64_t)XXH3_64bits_digest(h));
    XXH3_freeState(h);
    free(buf);
}

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
    for (uint32_t i = 0; i < n; i++)
        snprintf(f->build_id + 2 * i, 3, "%02x", id[i]);
    if (!n)
        content_hash(fd, f->content);
    close(fd);
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
    if (f->content[0]) {
        filem_fmt(k, sizeof k, "%s.content_xxh3", prefix);
        e = e ?: filem_meta_set(m, k, "%s", f->content);
    }
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
    filem_fmt(k, sizeof k, "%s.content_xxh3", prefix);
    const char *sum = filem_meta_get(m, k);
    const char *changed = NULL;
    /* a build id is the linker's hash of the contents: the same one and size is the same file,
     * whatever its time (a copy put back with cp, review LOW-3); without one, the hash of the
     * whole file recorded beside it (newuser7 F4: the time alone took a rebuilt binary of the
     * same size whose old time was put back for the same file); metadata without either: the
     * time decides */
    int by_id = bid && strcmp(bid, "none") != 0;
    int by_sum = !by_id && sum && *sum;
    if (bid && strcmp(bid, now.build_id[0] ? now.build_id : "none") != 0)
        changed = "build id";
    else if (now.size != size)
        changed = "size";
    else if (by_sum && strcmp(sum, now.content))
        changed = "content";
    else if ((uint64_t)now.mtime_ns != mt && !by_id && !by_sum)
        changed = "modification time";
    if (!changed && (uint64_t)now.mtime_ns != mt) {
        filem_fmt(err, errlen,
                 "the %s %s has another modification time than when the snapshot was taken, but "
                 "the same size and %s: taken for the same file (a copy put back)",
                 what, path, by_id ? "build id" : "content");
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
