/* crs_durable (src/crs/base/durable.c): a file is replaced whole or not at
 * all. A failure between the write and the rename (REVIVE_FAULT=image-commit)
 * or at the rename leaves the older file as it was and no temporary file; a
 * relative path keeps its directory across a chdir; bad paths are refused. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fault.h"
#include "crs/base/durable.h"

#include "../../unit_assert.h"

static char work[4096];

static const char *content(const char *path)
{
    static char buf[256];
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return "(missing)";
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    return buf;
}

/* Names in `dir` other than the ones expected. */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    if (d)
        closedir(d);
    return n;
}

static void write_all(int fd, const char *s)
{
    ASSERT_EQ(write(fd, s, strlen(s)), (long long)strlen(s));
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(work, sizeof work, "%s/revive-durable.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ASSERT_TRUE(mkdtemp(work));
    ASSERT_EQ(chdir(work), 0);
    char err[1024];

    /* a new file, then a replacement, mode as asked whatever the umask */
    umask(077);
    ASSERT_EQ(crs_durable_write_file("f", "old", 3, 0640, err, sizeof err), 0);
    ASSERT_STREQ(content("f"), "old");
    struct stat st;
    ASSERT_EQ(stat("f", &st), 0);
    ASSERT_EQ(st.st_mode & 07777, 0640);
    ASSERT_EQ(crs_durable_write_file("f", "newer", 5, 0600, err, sizeof err), 0);
    ASSERT_STREQ(content("f"), "newer");
    ASSERT_EQ(entries("."), 1);

    /* the fault point between write and rename: the older file stays */
    setenv("REVIVE_FAULT", "image-commit", 1);
    revive_fault_reread(); /* REVIVE_FAULT is read once per process otherwise */
    struct crs_durable d;
    ASSERT_EQ(crs_durable_open(&d, "f", 0600), 0);
    write_all(d.fd, "partial");
    ASSERT_EQ(entries("."), 2);
    ASSERT_TRUE(crs_durable_commit(&d, err, sizeof err) == -EIO);
    ASSERT_TRUE(strstr(err, "image-commit") != NULL);
    ASSERT_STREQ(content("f"), "newer");
    crs_durable_abort(&d);
    ASSERT_EQ(entries("."), 1);
    ASSERT_STREQ(content("f"), "newer");
    unsetenv("REVIVE_FAULT");
    revive_fault_reread();

    /* a relative path stays in its directory when the process moves */
    ASSERT_EQ(mkdir("sub", 0700), 0);
    ASSERT_EQ(chdir("sub"), 0);
    ASSERT_EQ(crs_durable_open(&d, "g", 0600), 0);
    ASSERT_EQ(chdir(".."), 0);
    write_all(d.fd, "in sub");
    ASSERT_EQ(crs_durable_commit(&d, err, sizeof err), 0);
    crs_durable_close(&d);
    ASSERT_STREQ(content("sub/g"), "in sub");
    ASSERT_TRUE(access("g", F_OK) != 0);
    ASSERT_EQ(entries("sub"), 1);

    /* two at once under one name get two temporary files */
    struct crs_durable a, b;
    ASSERT_EQ(crs_durable_open(&a, "h", 0600), 0);
    ASSERT_EQ(crs_durable_open(&b, "h", 0600), 0);
    ASSERT_TRUE(strcmp(a.tmp, b.tmp) != 0);
    write_all(a.fd, "A");
    write_all(b.fd, "B");
    ASSERT_EQ(crs_durable_commit(&b, err, sizeof err), 0);
    ASSERT_EQ(crs_durable_commit(&a, err, sizeof err), 0);
    crs_durable_close(&a);
    crs_durable_close(&b);
    ASSERT_STREQ(content("h"), "A");

    /* a failing rename (the final name is a directory) leaves it alone */
    ASSERT_EQ(mkdir("isdir", 0700), 0);
    int e = crs_durable_write_file("isdir", "x", 1, 0600, err, sizeof err);
    ASSERT_TRUE(e < 0);
    ASSERT_TRUE(strstr(err, "isdir") != NULL);
    ASSERT_EQ(entries("isdir"), 0);

    /* refused before anything is created */
    ASSERT_EQ(crs_durable_open(&d, "nonexistent/f", 0600), -ENOENT);
    ASSERT_STREQ(d.dir, "nonexistent");
    ASSERT_EQ(crs_durable_open(&d, "..", 0600), -EISDIR);
    ASSERT_EQ(crs_durable_open(&d, "", 0600), -ENOENT);
    ASSERT_EQ(entries("."), 4); /* f, sub, h, isdir */

    /* an absolute path, with trailing slashes trimmed away */
    char abs[4200];
    snprintf(abs, sizeof abs, "%s/sub/g", work);
    ASSERT_EQ(crs_durable_write_file(abs, "abs", 3, 0600, err, sizeof err), 0);
    ASSERT_STREQ(content("sub/g"), "abs");

    /* the writer's removal of a temporary file whose requester went away (newuser10 F1):
     * one still under its temporary name goes; one renamed since stays, also to a final name
     * of the temporary's form (".o.tmp.5"), which only the path at hand-over tells apart
     * (diffrev31's question: without it, such an image was removed) */
    ASSERT_TRUE(crs_durable_is_temp_name(".o.tmp.5") && crs_durable_is_temp_name(".o.tmp.12.3"));
    ASSERT_TRUE(!crs_durable_is_temp_name("o.tmp.5") && !crs_durable_is_temp_name(".o.tmp.") &&
                !crs_durable_is_temp_name(".o.tmp.5.") && !crs_durable_is_temp_name(".o.tmp.x") &&
                !crs_durable_is_temp_name(".tmp.5"));
    char given[4200], link[64];
    ASSERT_EQ(crs_durable_open(&d, "o", 0600), 0);
    write_all(d.fd, "orphan");
    snprintf(link, sizeof link, "/proc/self/fd/%d", d.fd);
    ssize_t gl = readlink(link, given, sizeof given - 1);
    ASSERT_TRUE(gl > 0);
    given[gl] = 0;
    ASSERT_EQ(crs_durable_drop_orphan(d.fd, given), 1);
    ASSERT_EQ(entries("."), 4); /* the temporary file gone: f, sub, h, isdir */
    ASSERT_EQ(crs_durable_drop_orphan(d.fd, given), 0); /* removed already */
    crs_durable_close(&d);
    ASSERT_EQ(crs_durable_open(&d, ".o.tmp.5", 0600), 0);
    write_all(d.fd, "kept");
    snprintf(link, sizeof link, "/proc/self/fd/%d", d.fd);
    gl = readlink(link, given, sizeof given - 1);
    ASSERT_TRUE(gl > 0);
    given[gl] = 0;
    ASSERT_EQ(crs_durable_commit(&d, err, sizeof err), 0);
    ASSERT_EQ(crs_durable_drop_orphan(d.fd, given), 0);
    ASSERT_STREQ(content(".o.tmp.5"), "kept");
    crs_durable_close(&d);

    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
    if (system(cmd) != 0)
        return 1;
    printf("PASS durable replacement\n");
    return 0;
}
