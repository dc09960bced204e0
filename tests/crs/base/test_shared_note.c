/* crs/base/shared_note.c: the note of writable shared file mappings an image leaves to their
 * files, written and read back as every user of it does (the capture, a tree's requester adding
 * members with their pids, the readers), and the one warning sentence (diffrev34 R-L23). */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "crs/base/shared_note.h"

#include "../../unit_assert.h"

static void expect_line(const char **cur, int with_pid, long pid, unsigned long long bytes, const char *path)
{
    struct crs_shared_line l;
    ASSERT_EQ(crs_shared_note_next(cur, with_pid, &l), 1);
    ASSERT_EQ(l.more, 0);
    ASSERT_EQ(l.pid, pid);
    ASSERT_EQ(l.bytes, bytes);
    ASSERT_EQ(l.pathlen, strlen(path));
    ASSERT_TRUE(!memcmp(l.path, path, strlen(path)));
}

static void expect_more(const char **cur, int with_pid, unsigned long long n)
{
    struct crs_shared_line l;
    ASSERT_EQ(crs_shared_note_next(cur, with_pid, &l), 1);
    ASSERT_EQ(l.more, n);
}

int main(void)
{
    /* a capture's note: what fits, then "+N" (room kept for it) */
    char note[96];
    struct crs_shared_writer w;
    crs_shared_note_open(&w, note, sizeof note, 0);
    crs_shared_note_put(&w, -1, 8192, "/data/a file", 12);
    crs_shared_note_put(&w, -1, 4096, "/data/b", 7);
    crs_shared_note_put(&w, -1, 1, "/data/a path much too long to fit in what is left of the note", 61);
    crs_shared_note_put(&w, -1, 2, "/c", 2);   /* after one that did not fit: counted too */
    crs_shared_note_close(&w);
    ASSERT_STREQ(note, "8192 /data/a file\n4096 /data/b\n+2\n");
    const char *cur = note;
    expect_line(&cur, 0, 0, 8192, "/data/a file");
    expect_line(&cur, 0, 0, 4096, "/data/b");
    expect_more(&cur, 0, 2);
    struct crs_shared_line l;
    ASSERT_EQ(crs_shared_note_next(&cur, 0, &l), 0);
    cur = NULL;
    ASSERT_EQ(crs_shared_note_next(&cur, 0, &l), 0);
    /* blank lines between and after lines are skipped, a last line without its newline read */
    cur = "\n12 /x\n\n\n+1";
    expect_line(&cur, 0, 0, 12, "/x");
    expect_more(&cur, 0, 1);
    ASSERT_EQ(crs_shared_note_next(&cur, 0, &l), 0);

    /* a tree's: members added one after the other with their pids, the "+N" of each summed */
    char tree[256] = "";
    const char *members[] = {"100 /m/x\n+3\n", "200 /m/y\n", "", "300 /m/z\n+1\n"};
    for (int m = 0; m < 4; m++) {
        crs_shared_note_open(&w, tree, sizeof tree, 1);
        const char *in = members[m];
        while (crs_shared_note_next(&in, 0, &l))
            if (l.more)
                crs_shared_note_more(&w, l.more);
            else
                crs_shared_note_put(&w, 40 + m, l.bytes, l.path, l.pathlen);
        crs_shared_note_close(&w);
    }
    /* a member's "+N" counts every later line of the tree too (as before: only whole lines
     * in the order they came) */
    ASSERT_STREQ(tree, "40 100 /m/x\n+6\n");
    cur = tree;
    expect_line(&cur, 1, 40, 100, "/m/x");
    expect_more(&cur, 1, 6);

    /* without a "+N" */
    crs_shared_note_open(&w, tree, sizeof tree, 0);
    crs_shared_note_put(&w, 7, 300, "/p q", 4);
    crs_shared_note_close(&w);
    crs_shared_note_open(&w, tree, sizeof tree, 1);
    crs_shared_note_put(&w, 8, 5, "/r", 2);
    crs_shared_note_close(&w);
    ASSERT_STREQ(tree, "7 300 /p q\n8 5 /r\n");

    /* the sentence */
    char out[512];
    cur = "20480 /w/count.dat\n+4\n";
    ASSERT_EQ(crs_shared_note_next(&cur, 0, &l), 1);
    crs_shared_warning(out, sizeof out, "process 12", &l, "image", "--save-shared", "cr_info");
    ASSERT_STREQ(out, "process 12 maps /w/count.dat shared and writable (20480 bytes): its pages are not in the "
                      "image, a restart sees the file as it is then (--save-shared saves them)");
    crs_shared_warning(out, sizeof out, "rank 1", &l, "snapshot", NULL, NULL);
    ASSERT_STREQ(out, "rank 1 maps /w/count.dat shared and writable (20480 bytes): its pages are not in the "
                      "snapshot, a restart sees the file as it is then");
    ASSERT_EQ(crs_shared_note_next(&cur, 0, &l), 1);
    crs_shared_warning(out, sizeof out, "process 12", &l, "image", "--save-shared", "cr_info of the image");
    ASSERT_STREQ(out, "and 4 more such mappings of process 12, not saved either (cr_info of the image lists them)");
    l.more = 1;
    crs_shared_warning(out, sizeof out, "rank 3", &l, "snapshot", NULL, NULL);
    ASSERT_STREQ(out, "and 1 more such mapping of rank 3, not saved either");
    printf("shared_note: written, added to, read back and said\n");
    return 0;
}
