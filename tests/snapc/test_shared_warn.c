/* The coordinator's once-a-job warning of the writable shared file mappings a snapshot left to
 * their files (src/snapc/coord_tool.c coord_shared_warn_once), read from the ranks' INFO lines
 * as coord_rank.c hands them over (coord_shared_note): at most 8 lines, then one that says how
 * many more mappings were left out and of which ranks (diffrev34 R-L22: the rest went unsaid,
 * where every other hop ends with "+N"); said once a job; only the epoch's own notes. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapc/coord_int.h"
#include "snapc_test.h"

/* What coord_shared_warn_once(seq, epoch) writes on standard error. */
static char *warned(uint64_t seq, uint32_t epoch)
{
    static char out[16384];
    char path[] = "/tmp/test_shared_warn.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return strcpy(out, "");
    unlink(path);
    int saved = dup(2);
    dup2(fd, 2);
    coord_shared_warn_once(seq, epoch);
    dup2(saved, 2);
    close(saved);
    ssize_t n = pread(fd, out, sizeof out - 1, 0);
    out[n > 0 ? n : 0] = 0;
    close(fd);
    return out;
}

static int count(const char *s, const char *sub)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, sub)) != NULL; p += strlen(sub))
        n++;
    return n;
}

int main(void)
{
    /* an older epoch's notes are not this snapshot's */
    coord.p.epoch = 4;
    coord_shared_note(9, "shared_file.0 4096 /old/cnt\n");
    /* epoch 5: ranks 0-5 each map two files; rank 5 also counted 3 more that did not fit in its
     * INFO: 12 lines + 3 */
    coord.p.epoch = 5;
    for (int r = 0; r < 6; r++) {
        char info[512];
        snprintf(info, sizeof info, "ckpt_ok 1\nshared_file.0 8192 /data/a.%d\nshared_file.1 4096 /data/b.%d\n%s",
                 r, r, r == 5 ? "shared_file.more 3\n" : "");
        coord_shared_note(r, info);
    }
    char *out = warned(7, 5);
    fprintf(stderr, "--- what the coordinator said:\n%s---\n", out);
    CHECK_EQ(count(out, "shared and writable"), 8);
    CHECK_STR_CONTAINS(out, "snapshot 7: rank 0 maps /data/a.0 shared and writable (8192 bytes): its pages are "
                            "not in the snapshot");
    CHECK_STR_CONTAINS(out, "rank 3 maps /data/b.3 shared and writable (4096 bytes)");
    CHECK_EQ(count(out, "/data/a.4"), 0);
    CHECK_EQ(count(out, "/old/cnt"), 0);
    /* the rest: ranks 4 and 5's four lines and rank 5's 3 more */
    CHECK_STR_CONTAINS(out, "snapshot 7: and 7 more such mappings of ranks 4-5, not saved either (ckpt-info "
                            "lists them)");
    CHECK_EQ(count(out, "\n"), 9);
    /* once a job */
    out = warned(8, 5);
    CHECK_EQ(strlen(out), 0);
    return test_summary("test_shared_warn");
}
