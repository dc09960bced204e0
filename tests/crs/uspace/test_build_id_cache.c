/* src/crs/uspace/build_id_cache.c: a build id remembered for a file is given back only for the
 * same file unchanged (crs_file_stamp: device, inode, size, change time), and a file changed
 * within the last second is not remembered at all: within the same tick of its change time it
 * could be rewritten in place without the stamp moving, and every later capture would write the
 * old build id (diffrev34 R-L2). The stats are made up: no file is read. */
#define _GNU_SOURCE
#include "crs/uspace/build_id_cache.h"

#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../../unit_assert.h"

static struct stat file(uint64_t ino, int64_t ctime_sec)
{
    struct stat st;
    memset(&st, 0, sizeof st);
    st.st_dev = 0x801;
    st.st_ino = ino;
    st.st_size = 123456;
    st.st_ctim.tv_sec = ctime_sec;
    st.st_ctim.tv_nsec = 5000;
    st.st_mtim = st.st_ctim;
    return st;
}

int main(void)
{
    const uint8_t id[4] = { 0xde, 0xad, 0xbe, 0xef };
    uint8_t out[64];
    int64_t now = (int64_t)time(NULL);

    /* changed an hour ago: remembered, given back for the same stamp only */
    struct stat old = file(10, now - 3600);
    ASSERT_EQ(crs_build_id_recall(&old, out), -1);
    crs_build_id_remember(&old, id, sizeof id);
    ASSERT_EQ(crs_build_id_recall(&old, out), 4);
    ASSERT_TRUE(memcmp(out, id, 4) == 0);
    struct stat other = old;
    other.st_size++;
    ASSERT_EQ(crs_build_id_recall(&other, out), -1);   /* another size */
    other = old;
    other.st_ctim.tv_nsec++;
    ASSERT_EQ(crs_build_id_recall(&other, out), -1);   /* changed since */
    other = old;
    other.st_ino++;
    ASSERT_EQ(crs_build_id_recall(&other, out), -1);   /* another file in its place */

    /* a file without a build id is remembered as one (length 0) */
    struct stat none = file(11, now - 3600);
    crs_build_id_remember(&none, id, 0);
    ASSERT_EQ(crs_build_id_recall(&none, out), 0);

    /* changed this second, or the one before: not remembered */
    struct stat fresh = file(12, (int64_t)time(NULL));
    crs_build_id_remember(&fresh, id, sizeof id);
    ASSERT_EQ(crs_build_id_recall(&fresh, out), -1);
    struct stat recent = file(13, (int64_t)time(NULL) - 1);
    crs_build_id_remember(&recent, id, sizeof id);
    ASSERT_EQ(crs_build_id_recall(&recent, out), -1);
    printf("PASS: build ids given back for the same stamp only; a file changed within the last second not remembered\n");
    return 0;
}
