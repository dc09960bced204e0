/* System V shared memory segments: the ids the program kept after a restart
 * gave a segment another id (crs/base/sysvshm_ids.h). A user's restart may
 * not choose ids: a segment made again comes back under another id, attached
 * where it was. Before, the program's shmat and shmctl with the id it kept
 * failed (EINVAL) or reached another's segment, while its attachments worked
 * (crs_user_ids.sh). Now shmat and shmctl take a kept id to the segment's id
 * now, and shmget and SHM_STAT give the kept one back for it. A private
 * segment made later that the kernel gives an id the program knows another
 * by is made again (the kernel hands ids out in a cycle: it gets another).
 * shmdt names an address: nothing to take. Only segments attached at the
 * checkpoint are followed (the others are not in the image); another
 * process that knows the old id finds nothing, or another's segment, there. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "crs/base/sysvshm_ids.h"
#include "crs/libcr/runtime.h"

#define SHM_STAT_ANY_ 15   /* linux/shm.h, Linux 4.17; not in every libc's headers */

#ifdef REVIVE_LIBCR_STATIC
int __real_shmget(key_t, size_t, int);
void *__real_shmat(int, const void *, int);
int __real_shmctl(int, int, struct shmid_ds *);
int __wrap_shmget(key_t, size_t, int);
void *__wrap_shmat(int, const void *, int);
int __wrap_shmctl(int, int, struct shmid_ds *);
#endif

typedef int (*shmget_fn)(key_t, size_t, int);
typedef void *(*shmat_fn)(int, const void *, int);
typedef int (*shmctl_fn)(int, int, struct shmid_ds *);

/* The next definitions, not the system calls: the MPI layer, preloaded after
 * libcr, defines shmat too (its registry learns what the program attaches). */
static int next_shmget(key_t key, size_t size, int flags)
{
    static shmget_fn real;
    if (!real)
        real = CRS_NEXT(shmget_fn, shmget);
    return real ? real(key, size, flags) : (int)syscall(SYS_shmget, key, size, flags);
}

static int next_shmctl(int id, int cmd, struct shmid_ds *buf)
{
    static shmctl_fn real;
    if (!real)
        real = CRS_NEXT(shmctl_fn, shmctl);
    return real ? real(id, cmd, buf) : (int)syscall(SYS_shmctl, id, cmd, buf);
}

int CRS_INTERPOSE(shmget)(key_t key, size_t size, int flags)
{
    int id = next_shmget(key, size, flags);
    for (int k = 0; k < 8 && id >= 0 && key == IPC_PRIVATE && crs_sysvshm_taken(id); k++) {
        int again = next_shmget(key, size, flags);
        next_shmctl(id, IPC_RMID, NULL);   /* new, attached by nobody: gone at once */
        id = again;
    }
    return id < 0 ? id : crs_sysvshm_known(id);
}

void *CRS_INTERPOSE(shmat)(int id, const void *addr, int flags)
{
    static shmat_fn real;
    if (!real)
        real = CRS_NEXT(shmat_fn, shmat);
    id = crs_sysvshm_real(id);
    return real ? real(id, addr, flags) : (void *)syscall(SYS_shmat, id, addr, flags);
}

int CRS_INTERPOSE(shmctl)(int id, int cmd, struct shmid_ds *buf)
{
    int index = cmd == IPC_INFO || cmd == SHM_INFO || cmd == SHM_STAT || cmd == SHM_STAT_ANY_;
    if (!index)   /* those take an index, not an id */
        id = crs_sysvshm_real(id);
    int r = next_shmctl(id, cmd, buf);
    if (r >= 0 && (cmd == SHM_STAT || cmd == SHM_STAT_ANY_))
        return crs_sysvshm_known(r);   /* the id at that index */
    if (r == 0 && cmd == IPC_RMID) {
        int e = errno;
        crs_sysvshm_forget(id);
        errno = e;
    }
    return r;
}
