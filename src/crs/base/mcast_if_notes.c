/* The outgoing multicast interfaces IPv4 sockets were given by index
 * (mcast_if_notes.h). A small table in the process's memory (the image
 * holds it). */
#include "crs/base/mcast_if_notes.h"
#include "crs/base/capture_filter.h"

#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct note {
    uint64_t ino;   /* 0: a free slot */
    uint64_t age;   /* when it was noted, to drop the oldest when full */
    int fd;
    int in_image;   /* the last capture recorded it with its socket (crs_mcast_if_find) */
    int ifindex;
    uint32_t addr;
};

static struct note notes[CRS_MCAST_IF_NOTES_MAX];
static uint64_t clock_;
static atomic_flag lock = ATOMIC_FLAG_INIT;   /* crs_park_lock_take/drop */

void crs_mcast_if_note(int fd, int ifindex, uint32_t addr)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode) || !st.st_ino)
        return;
    crs_park_lock_take(&lock);
    struct note *n = NULL, *oldest = &notes[0];
    for (int i = 0; i < CRS_MCAST_IF_NOTES_MAX && !n; i++)
        if (notes[i].ino == st.st_ino)
            n = &notes[i];
    if (!n && ifindex)
        for (int i = 0; i < CRS_MCAST_IF_NOTES_MAX && !n; i++) {
            if (!notes[i].ino)
                n = &notes[i];
            else if (notes[i].age < oldest->age)
                oldest = &notes[i];
        }
    if (!n && ifindex)
        n = oldest;   /* full: most likely a socket long closed */
    if (n && ifindex) {
        n->ino = st.st_ino;
        n->age = ++clock_;
        n->fd = fd;
        n->ifindex = ifindex;
        n->addr = addr;
    } else if (n) {
        memset(n, 0, sizeof *n);
    }
    crs_park_lock_drop(&lock);
}

int crs_mcast_if_find(uint64_t ino, int fd, int *ifindex, uint32_t *addr)
{
    for (int i = 0; ino && i < CRS_MCAST_IF_NOTES_MAX; i++)
        if (notes[i].ino == ino) {
            notes[i].fd = fd;
            notes[i].in_image = 1;
            *ifindex = notes[i].ifindex;
            *addr = notes[i].addr;
            return 1;
        }
    return 0;
}

void crs_mcast_if_prune(int (*keep)(uint64_t ino, void *arg), void *arg)
{
    for (int i = 0; i < CRS_MCAST_IF_NOTES_MAX; i++) {
        struct stat st;
        notes[i].in_image = 0;   /* until this capture finds it */
        if (!notes[i].ino || keep(notes[i].ino, arg))
            continue;
        if (fstat(notes[i].fd, &st) == 0 && S_ISSOCK(st.st_mode) && (uint64_t)st.st_ino == notes[i].ino)
            continue;   /* still at its descriptor (one the capture did not list) */
        memset(&notes[i], 0, sizeof notes[i]);
    }
}

void crs_mcast_if_restarted(void)
{
    for (int i = 0; i < CRS_MCAST_IF_NOTES_MAX; i++) {
        if (!notes[i].ino)
            continue;
        struct stat st;
        /* only a socket the image restored: whatever else sits at that number now (cr_restart's
         * own socket, an inherited descriptor reconnected) never had that interface (diffrev26 K-L4) */
        if (notes[i].in_image && fstat(notes[i].fd, &st) == 0 && S_ISSOCK(st.st_mode))
            notes[i].ino = st.st_ino;
        else
            memset(&notes[i], 0, sizeof notes[i]);
    }
}

void crs_mcast_if_forked(void)
{
    atomic_flag_clear(&lock);
}
