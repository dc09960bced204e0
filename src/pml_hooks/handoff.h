/* The hand-off blob of an MPI rank's restart: what revive-restart-rank (run by the new job's
 * launcher) tells the restored rank through crs's restart call (crs_restart_opts.handoff, read
 * back with crs_restart_handoff() in a restart hook). No mpi.h, no allocation: the restarter is
 * a static program and the reader runs while the restored process's other threads are parked.
 *
 * Layout: the text "REVIVE-HANDOFF 1" and a NUL, then "rank=R", "size=S" (the world rank and
 * size the new launcher gave), then the restarter's environment as "NAME=value" strings (the
 * launcher's variables, with descriptor numbers rewritten where the restarter moved a
 * descriptor), each NUL-terminated, then an empty string. */
#ifndef PML_HOOKS_HANDOFF_H
#define PML_HOOKS_HANDOFF_H

#include <stddef.h>
#include <string.h>

#define PML_HANDOFF_MAGIC "REVIVE-HANDOFF 1"
/* In the handed-over environment: the descriptors the restarter kept open for the launcher
 * ("905,906"), which are the launcher's, not the application's. */
#define PML_HANDOFF_FDS_VAR "REVIVE_LAUNCHER_FDS"

/* Walks a blob: calls fn for rank, size and each environment string; 0, or -1 when the blob is
 * not one (wrong magic, no terminator, rank or size missing). */
struct pml_handoff {
    int rank, size;
    size_t nenv;           /* environment strings */
    const char *env_first; /* the first of them, followed by the others */
};

static inline int pml_handoff_parse(const char *blob, size_t len, struct pml_handoff *h)
{
    size_t mlen = sizeof PML_HANDOFF_MAGIC; /* with its NUL */
    h->rank = h->size = -1;
    h->nenv = 0;
    h->env_first = NULL;
    if (len < mlen + 1 || memcmp(blob, PML_HANDOFF_MAGIC, mlen) != 0 || blob[len - 1] != 0)
        return -1;
    size_t o = mlen;
    for (int field = 0; field < 2; field++) {
        const char *s = blob + o;
        size_t n = strlen(s);
        const char *key = field ? "size=" : "rank=";
        if (n < 6 || memcmp(s, key, 5) != 0)
            return -1;
        long v = 0;
        for (size_t i = 5; i < n; i++) {
            if (s[i] < '0' || s[i] > '9' || v > 100000000)
                return -1;
            v = v * 10 + (s[i] - '0');
        }
        if (field)
            h->size = (int)v;
        else
            h->rank = (int)v;
        o += n + 1;
        if (o >= len)
            return -1;
    }
    h->env_first = blob + o;
    for (;;) {
        if (o >= len)
            return -1;
        size_t n = strlen(blob + o);
        if (n == 0)
            break;
        h->nenv++;
        o += n + 1;
    }
    return h->rank < h->size ? 0 : -1;
}

#endif
