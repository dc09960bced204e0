/* Knowing the halves apart: the capture filter. The MPI layer registers it with libcr when it
 * loads (halves_moments.c), so that a checkpoint of the rank saves the upper half only: the
 * lower half's memory (a mapping whose parts differ is cut into pieces), its threads and its
 * descriptors are left out, as the queries of halves_query.c decide them. The callbacks run in
 * the checkpoint thread while every other thread is parked: they allocate nothing, and the
 * registry's lock is free then (halves_registry.c). */
#define _GNU_SOURCE
#include "pml_hooks/halves_internal.h"

static int region_exclude(void *arg, uint64_t start, uint64_t end, const char *path,
                          struct crs_span *out, int max)
{
    (void)arg;
    int n = 0;
    uint64_t a = start;
    while (a < end) {
        struct pml_half_span s[32];
        int k = pml_halves_split(a, end, path, s, 32);
        if (k <= 0)
            break;
        if (k > 32)
            k = 32; /* the rest on the next turn */
        for (int i = 0; i < k; i++) {
            if (s[i].half != PML_HALF_LOWER)
                continue;
            if (n > 0 && out[n - 1].end == s[i].start) {
                out[n - 1].end = s[i].end;
            } else if (n < max) {
                out[n++] = (struct crs_span){ s[i].start, s[i].end };
            } else {
                /* more lower pieces than capture takes: the rest is saved, which is harmless
                 * (the library's memory comes back unused), where failing is not */
                return n;
            }
        }
        a = s[k - 1].end;
    }
    return n;
}

static int thread_exclude(void *arg, pid_t tid)
{
    (void)arg;
    return pml_half_of_thread(tid, NULL) == PML_HALF_LOWER;
}

static int fd_exclude(void *arg, int fd)
{
    (void)arg;
    return pml_half_of_fd(fd, NULL) == PML_HALF_LOWER;
}

static int regions_begin(void *arg, const struct crs_filter_map *maps, size_t n, char *err, size_t errlen)
{
    (void)arg, (void)err, (void)errlen;
    return pml_halves_recheck_map(maps, n);
}

static const struct crs_capture_filter filter = {
    .owner = "mpi",
    .region_exclude = region_exclude,
    .thread_exclude = thread_exclude,
    .fd_exclude = fd_exclude,
    .regions_begin = regions_begin,
    .arg = NULL,
};

const struct crs_capture_filter *pml_halves_capture_filter(void)
{
    return &filter;
}
