/* Unit test of filem_fetch_send_meta's answer when writing it fails (src/filem/fetch.c, diffrev
 * L6): the error named is the failed write's, never a stale errno left by an earlier call. The
 * answer goes to a stream whose writes fail without setting errno (as a stream of any kind may);
 * meanwhile the sender's access() of a sequence without a failed-restart mark leaves ENOENT in
 * errno, which the old code then reported ("cannot write its answer: No such file or
 * directory"). A stream whose writes fail with EPIPE is named by EPIPE; one that works gets the
 * whole answer. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "filem/fetch.h"
#include "snapc_test.h"

static int fail_errno; /* what a failed write sets errno to (0: leaves it as it is) */

static ssize_t failing_write(void *cookie, const char *buf, size_t len)
{
    (void)cookie;
    (void)buf;
    (void)len;
    if (fail_errno)
        errno = fail_errno;
    return -1;
}

static FILE *failing_stream(int e)
{
    fail_errno = e;
    cookie_io_functions_t io = {.write = failing_write};
    return fopencookie(NULL, "w", io);
}

int main(void)
{
    char dir[] = "/tmp/revive-test-fetch-meta.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char cj[PATH_MAX], seq[PATH_MAX + 8], meta[PATH_MAX + 32], jobdir[PATH_MAX];
    snprintf(cj, sizeof cj, "%s/revive_global_snapshot_7.ckpt", dir);
    snprintf(seq, sizeof seq, "%s/0", cj);
    snprintf(meta, sizeof meta, "%s/snapshot.meta", seq);
    snprintf(jobdir, sizeof jobdir, "/nowhere/revive_global_snapshot_7.ckpt");
    CHECK_EQ(mkdir(cj, 0700), 0);
    CHECK_EQ(mkdir(seq, 0700), 0);
    FILE *m = fopen(meta, "w");
    CHECK(m != NULL);
    fputs("REVIVE-SNAPSHOT-META 1\nseq 0\n", m);
    fclose(m);
    CHECK_EQ(chmod(meta, 0600), 0);

    char err[512] = "";
    FILE *out = failing_stream(0);
    CHECK(out != NULL);
    int e = filem_fetch_send_meta(dir, jobdir, out, err, sizeof err);
    fclose(out);
    CHECK_EQ(e, -EIO);
    CHECK_STR_CONTAINS(err, "cannot write its answer: Input/output error");

    out = failing_stream(EPIPE);
    err[0] = 0;
    e = filem_fetch_send_meta(dir, jobdir, out, err, sizeof err);
    fclose(out);
    CHECK_EQ(e, -EPIPE);
    CHECK_STR_CONTAINS(err, "cannot write its answer: Broken pipe");

    char *buf = NULL;
    size_t len = 0;
    out = open_memstream(&buf, &len);
    e = filem_fetch_send_meta(dir, jobdir, out, err, sizeof err);
    fclose(out);
    CHECK_EQ(e, 0);
    CHECK_STR_CONTAINS(buf, "seq 0\n");
    free(buf);

    char rm[PATH_MAX + 16];
    snprintf(rm, sizeof rm, "rm -rf %s", dir);
    CHECK_EQ(system(rm), 0);
    return test_summary("test_fetch_meta");
}
