/* crs/base/mcast_if_notes.c without a checkpoint: the notes of IP_MULTICAST_IF
 * given by index follow their sockets across a "restart" (each socket at its
 * number again under a new inode) only when the last capture recorded them
 * with their socket; a note of a socket the image left out (--ignore-fds, an
 * inherited descriptor reconnected at restart to cr_restart's own socket)
 * must not pass to whatever socket holds that number after the restart
 * (diffrev26 K-L4: that socket was given, at the next checkpoint, an outgoing
 * interface it never had). */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crs/base/mcast_if_notes.h"

#include "../../unit_assert.h"

static uint64_t ino_of(int fd)
{
    struct stat st;
    ASSERT_EQ(fstat(fd, &st), 0);
    return (uint64_t)st.st_ino;
}

static int keep_all(uint64_t ino, void *arg)
{
    (void)ino; (void)arg;
    return 1;
}

/* A "restart": the socket at fd is replaced by a new one at the same number. */
static void replace(int fd)
{
    int n = socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_TRUE(n >= 0);
    ASSERT_EQ(dup2(n, fd), fd);
    close(n);
}

int main(void)
{
    int kept = socket(AF_INET, SOCK_DGRAM, 0), left = socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_TRUE(kept >= 0 && left >= 0);
    crs_mcast_if_note(kept, 7, 0);
    crs_mcast_if_note(left, 8, 0);
    int idx = 0;
    uint32_t addr = 1;

    /* the capture: both sockets still held; the image restores `kept` only */
    crs_mcast_if_prune(keep_all, NULL);
    ASSERT_EQ(crs_mcast_if_find(ino_of(kept), kept, &idx, &addr), 1);
    ASSERT_EQ(idx, 7);
    ASSERT_EQ(addr, 0);

    replace(kept);
    replace(left);
    crs_mcast_if_restarted();
    idx = 0;
    ASSERT_EQ(crs_mcast_if_find(ino_of(kept), kept, &idx, &addr), 1);   /* followed its socket */
    ASSERT_EQ(idx, 7);
    /* K-L4: the socket now at `left`'s number is another one, which never had index 8 */
    ASSERT_EQ(crs_mcast_if_find(ino_of(left), left, &idx, &addr), 0);

    /* a second capture without the socket (its note not found) and restart: dropped too */
    crs_mcast_if_prune(keep_all, NULL);
    replace(kept);
    crs_mcast_if_restarted();
    ASSERT_EQ(crs_mcast_if_find(ino_of(kept), kept, &idx, &addr), 0);
    printf("mcast_if_notes: a note follows its socket only when the image held it\n");
    return 0;
}
