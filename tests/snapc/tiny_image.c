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
    struct crs_rec_region reg;
    memset(&reg, 0, sizeof reg);
    reg.start = (uint64_t)(uintptr_t)page;
    reg.end = reg.start + sizeof page;
    reg.prot = 3;
    reg.kind = CRS_REGION_ANON;
    reg.file = -1;
    if (!e) e = crs_iw_add_pages(&w, reg.start, page, sizeof page);
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
