/* The rule of which of the MPI library's opens and closes may wait (src/pml_hooks/lower_waits.h),
 * from made-up stats: FIFOs (but O_RDWR) and terminals wait; the fabric's and the GPU's devices,
 * /dev/null's kin, regular files, directories, sockets do not (diffrev35 R-M2: every device but
 * major 1 was taken out of its fork guard section). */
#define _GNU_SOURCE
#include "pml_hooks/lower_waits.h"
#include "tests/unit_assert.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static int open_waits(unsigned mode, unsigned maj, unsigned min, int acc)
{
    return pml_lower_kind_waits(mode, makedev(maj, min), acc, 0);
}

static int close_waits(unsigned mode, unsigned maj, unsigned min)
{
    return pml_lower_kind_waits(mode, makedev(maj, min), 0, 1);
}

int main(void)
{
    /* FIFOs: an open for one end waits for the other; O_RDWR and a close never wait */
    ASSERT_EQ(open_waits(S_IFIFO | 0600, 0, 0, O_RDONLY), 1);
    ASSERT_EQ(open_waits(S_IFIFO | 0600, 0, 0, O_WRONLY), 1);
    ASSERT_EQ(open_waits(S_IFIFO | 0600, 0, 0, O_RDWR), 0);
    ASSERT_EQ(close_waits(S_IFIFO | 0600, 0, 0), 0);
    /* terminals: /dev/ttyS0 (4,64), /dev/tty (5,0), /dev/ptmx (5,2), /dev/pts/N (136-143) */
    ASSERT_EQ(open_waits(S_IFCHR | 0620, 4, 64, O_RDWR), 1);
    ASSERT_EQ(open_waits(S_IFCHR | 0666, 5, 0, O_RDWR), 1);
    ASSERT_EQ(open_waits(S_IFCHR | 0666, 5, 2, O_RDWR), 1);
    ASSERT_EQ(open_waits(S_IFCHR | 0620, 136, 3, O_WRONLY), 1);
    ASSERT_EQ(open_waits(S_IFCHR | 0620, 143, 255, O_RDONLY), 1);
    ASSERT_EQ(close_waits(S_IFCHR | 0620, 136, 3), 1);
    ASSERT_EQ(close_waits(S_IFCHR | 0620, 4, 64), 1);
    /* devices an MPI library opens, which must keep their section: /dev/null, /dev/urandom (1),
     * uverbs (231), rdma_cm, knem, xpmem (misc 10), nvidia (195), nvidia-uvm and hfi1 (dynamic
     * majors, e.g. 234, 240), and a block device */
    const unsigned kept[][2] = { { 1, 3 }, { 1, 9 }, { 231, 192 }, { 10, 58 }, { 10, 59 }, { 195, 0 },
                                 { 195, 255 }, { 234, 0 }, { 240, 1 }, { 135, 0 }, { 144, 0 } };
    for (unsigned i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        ASSERT_EQ(open_waits(S_IFCHR | 0666, kept[i][0], kept[i][1], O_RDWR), 0);
        ASSERT_EQ(close_waits(S_IFCHR | 0666, kept[i][0], kept[i][1]), 0);
    }
    ASSERT_EQ(open_waits(S_IFBLK | 0660, 8, 0, O_RDONLY), 0);
    /* files, directories, sockets (a socket's close is told by SO_LINGER, not by its kind) */
    ASSERT_EQ(open_waits(S_IFREG | 0600, 0, 0, O_RDONLY), 0);
    ASSERT_EQ(open_waits(S_IFDIR | 0700, 0, 0, O_RDONLY), 0);
    ASSERT_EQ(close_waits(S_IFSOCK | 0600, 0, 0), 0);
    printf("PASS: lower_waits_rule: FIFOs and terminals wait; /dev/null's kin, the fabric's and GPU's devices, "
           "block devices, files, directories, sockets keep their fork guard section\n");
    return 0;
}
