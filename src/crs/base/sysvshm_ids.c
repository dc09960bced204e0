/* The ids a program kept of its System V segments and the ids a restart
 * gave them (sysvshm_ids.h). */
#include "crs/base/sysvshm_ids.h"
#include "crs/base/capture_filter.h"
#include "common/procfs.h"

#include <stdatomic.h>
#include <string.h>

struct shm_id {
    int used;
    int orig;      /* the program's */
    int id;        /* the kernel's now */
    uint64_t at;   /* where it was attached at the last checkpoint */
};

static struct shm_id ids[CRS_SYSVSHM_IDS_MAX];
static atomic_flag lock = ATOMIC_FLAG_INIT;

void crs_sysvshm_attached(int id, uint64_t at)
{
    crs_park_lock_take(&lock);
    struct shm_id *free_slot = NULL, *plain = NULL;
    for (int i = 0; i < CRS_SYSVSHM_IDS_MAX; i++) {
        struct shm_id *s = &ids[i];
        if (s->used && s->id == id) {
            s->at = at;
            crs_park_lock_drop(&lock);
            return;
        }
        if (!s->used && !free_slot)
            free_slot = s;
        if (s->used && s->orig == s->id && !plain)
            plain = s;   /* translates nothing now: its place may be taken */
    }
    struct shm_id *s = free_slot ? free_slot : plain;
    if (s)   /* else full of renamed segments: this one is not followed */
        *s = (struct shm_id){ 1, id, id, at };
    crs_park_lock_drop(&lock);
}

void crs_sysvshm_restarted(void)
{
    static char buf[4096 + 256];   /* one restart at a time, threads parked */
    struct revive_maps_reader r;
    struct revive_maps_entry e;
    if (revive_maps_open(&r, 0, 0, buf, sizeof buf) != 0)
        return;
    crs_park_lock_take(&lock);
    while (revive_maps_next(&r, &e) > 0) {
        if (strncmp(e.name, "/SYSV", 5) != 0 || e.inode > INT32_MAX)
            continue;
        for (int i = 0; i < CRS_SYSVSHM_IDS_MAX; i++)
            if (ids[i].used && ids[i].at == e.start - e.offset)
                ids[i].id = (int)e.inode;
    }
    crs_park_lock_drop(&lock);
    revive_maps_close(&r);
}

int crs_sysvshm_real(int id)
{
    for (int i = 0; i < CRS_SYSVSHM_IDS_MAX; i++)
        if (ids[i].used && ids[i].orig == id && ids[i].id != id)
            return ids[i].id;
    return id;
}

int crs_sysvshm_known(int id)
{
    for (int i = 0; i < CRS_SYSVSHM_IDS_MAX; i++)
        if (ids[i].used && ids[i].id == id && ids[i].orig != id)
            return ids[i].orig;
    return id;
}

int crs_sysvshm_taken(int id)
{
    return crs_sysvshm_real(id) != id;
}

void crs_sysvshm_forget(int id)
{
    crs_park_lock_take(&lock);
    for (int i = 0; i < CRS_SYSVSHM_IDS_MAX; i++)
        if (ids[i].used && ids[i].id == id)
            ids[i].used = 0;
    crs_park_lock_drop(&lock);
}
