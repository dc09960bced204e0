/* See tiny_image.h. */
#define _GNU_SOURCE
#include "tiny_image.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crs/base/durable.h"
#include "crs/base/elf_build_id.h"
#include "crs/base/image.h"

int tiny_image_write(const char *path, const char *text, char *err, size_t errlen)
{
    return tiny_image_write_mapping(path, text, NULL, err, errlen);
}

/* The file record of `mapped` (its real path stored in the image): 0 or -errno. */
static int mapped_file(struct crs_image_writer *w, const char *mapped, struct crs_rec_file *f)
{
    char real[PATH_MAX];
    struct stat st;
    memset(f, 0, sizeof *f);
    if (!realpath(mapped, real) || stat(real, &st) != 0)
        return -errno;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->size = (uint64_t)st.st_size;
    f->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    f->mode = st.st_mode;
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        f->build_id_len = crs_elf_build_id(fd, f->build_id, CRS_BUILD_ID_MAX);
        close(fd);
    }
    return crs_iw_string(w, real, &f->path);
}

int tiny_image_write_mapping(const char *path, const char *text, const char *mapped, char *err,
                             size_t errlen)
{
    static char page[4096] __attribute__((aligned(4096)));
    memset(page, 0, sizeof page);
    size_t n = strlen(text);
    if (n >= sizeof page)
        n = sizeof page - 1;
    memcpy(page, text, n);
    struct crs_durable d;
    int e = crs_durable_open(&d, path, 0600);
    if (e < 0) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(-e));
        return e;
    }
    size_t slen = crs_iw_scratch_size(16, 4096, 0);
    void *scratch = malloc(slen);
    struct crs_image_writer w;
    memset(&w, 0, sizeof w);
    e = scratch ? crs_iw_open(&w, d.fd, scratch, slen, 16, 4096, 0) : -ENOMEM;
    struct crs_rec_process proc;
    memset(&proc, 0, sizeof proc);
    proc.pid = getpid();
    proc.ppid = getppid();
    struct crs_rec_region reg[2];
    memset(reg, 0, sizeof reg);
    reg[0].start = (uint64_t)(uintptr_t)page;
    reg[0].end = reg[0].start + sizeof page;
    reg[0].prot = 3;
    reg[0].kind = CRS_REGION_ANON;
    reg[0].file = -1;
    /* the mapped file's first page, above the memory page (no bytes of it in the image) */
    reg[1].start = reg[0].end + (1u << 20);
    reg[1].end = reg[1].start + 4096;
    reg[1].prot = 5;
    reg[1].kind = CRS_REGION_FILE;
    reg[1].file = 0;
    struct crs_rec_file file;
    if (!e && mapped && (e = mapped_file(&w, mapped, &file)) < 0 && !w.err[0])
        snprintf(w.err, sizeof w.err, "%s: %s", mapped, strerror(-e));
    if (!e && mapped)
        reg[1].name = file.path; /* as /proc/PID/maps names it */
    if (!e) e = crs_iw_add_pages(&w, reg[0].start, page, sizeof page);
    if (!e) e = crs_iw_string(&w, "/fake/rank", &proc.exe);
    if (!e) e = crs_iw_string(&w, "/", &proc.cwd);
    if (!e) e = crs_iw_string(&w, "fake_rank", &proc.cmdline);
    if (!e) e = crs_iw_section(&w, CRS_SEC_PROCESS, &proc, sizeof proc, 1);
    if (!e) e = crs_iw_section(&w, CRS_SEC_REGIONS, reg, sizeof *reg, mapped ? 2 : 1);
    if (!e && mapped) e = crs_iw_section(&w, CRS_SEC_FILES, &file, sizeof file, 1);
    if (!e) e = crs_iw_extension(&w, "fake", page, n);
    struct crs_image_header tmpl;
    memset(&tmpl, 0, sizeof tmpl);
    crs_host_facts(&tmpl);
    tmpl.pid = getpid();
    if (!e) e = crs_iw_finish(&w, &tmpl);
    if (e < 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, scratch ? w.err : "out of memory");
        free(scratch);
        crs_durable_abort(&d);
        return e;
    }
    free(scratch);
    e = crs_durable_commit(&d, err, errlen);
    if (e < 0) {
        crs_durable_abort(&d);
        return e;
    }
    crs_durable_close(&d);
    return 0;
}
