/* See tiny_image.h. */
#define _GNU_SOURCE
#include "tiny_image.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crs/base/durable.h"
#include "crs/base/image.h"

int tiny_image_write(const char *path, const char *text, char *err, size_t errlen)
{
    return tiny_image_write_size(path, text, 4096, err, errlen);
}

int tiny_image_write_size(const char *path, const char *text, size_t bytes, char *err,
                          size_t errlen)
{
    char *page = NULL;
    if (bytes < 4096 || bytes % 4096 || posix_memalign((void **)&page, 4096, bytes) != 0) {
        snprintf(err, errlen, "cannot make %zu bytes of memory for %s", bytes, path);
        return -ENOMEM;
    }
    memset(page, 0, 4096);
    size_t n = strlen(text);
    if (n >= 4096)
        n = 4095;
    memcpy(page, text, n);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 4096 / 8; i < bytes / 8; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        ((uint64_t *)page)[i] = x;
    }
    struct crs_durable d;
    int e = crs_durable_open(&d, path, 0600);
    if (e < 0) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(-e));
        free(page);
        return e;
    }
    size_t nch = 16 + bytes / CRS_CHUNK_MAX;
    size_t slen = crs_iw_scratch_size(nch, 4096, 0);
    void *scratch = malloc(slen);
    struct crs_image_writer w;
    memset(&w, 0, sizeof w);
    e = scratch ? crs_iw_open(&w, d.fd, scratch, slen, nch, 4096, 0) : -ENOMEM;
    struct crs_rec_process proc;
    memset(&proc, 0, sizeof proc);
    proc.pid = getpid();
    proc.ppid = getppid();
    struct crs_rec_region reg;
    memset(&reg, 0, sizeof reg);
    reg.start = (uint64_t)(uintptr_t)page;
    reg.end = reg.start + bytes;
    reg.prot = 3;
    reg.kind = CRS_REGION_ANON;
    reg.file = -1;
    if (!e) e = crs_iw_add_pages(&w, reg.start, page, bytes);
    if (!e) e = crs_iw_string(&w, "/fake/rank", &proc.exe);
    if (!e) e = crs_iw_string(&w, "/", &proc.cwd);
    if (!e) e = crs_iw_string(&w, "fake_rank", &proc.cmdline);
    if (!e) e = crs_iw_section(&w, CRS_SEC_PROCESS, &proc, sizeof proc, 1);
    if (!e) e = crs_iw_section(&w, CRS_SEC_REGIONS, &reg, sizeof reg, 1);
    if (!e) e = crs_iw_extension(&w, "fake", page, n);
    struct crs_image_header tmpl;
    memset(&tmpl, 0, sizeof tmpl);
    crs_host_facts(&tmpl);
    tmpl.pid = getpid();
    if (!e) e = crs_iw_finish(&w, &tmpl);
    if (e < 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, scratch ? w.err : "out of memory");
        free(scratch);
        free(page);
        crs_durable_abort(&d);
        return e;
    }
    free(scratch);
    free(page);
    e = crs_durable_commit(&d, err, errlen);
    if (e < 0) {
        crs_durable_abort(&d);
        return e;
    }
    crs_durable_close(&d);
    return 0;
}
