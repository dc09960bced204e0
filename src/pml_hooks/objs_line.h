/* The "window" line of a rank image's "mpi-objs" section: the one definition of its keys, shared
 * by the layer that writes it (objs_ckpt.c) and revive-restart-rank's check of window memory
 * (tools/restart_wincheck.c). Before, the check looked its keys up by names of its own: a key
 * renamed on one side would have turned the check off without a word. A round trip of every key
 * and the refusal of an unknown or missing one are tested (tests/mpi/objs_line.c).
 *
 *   window flavor=allocate ranks=2 base=0x7f.. size=128 disp_unit=8 fences=3 fence_epoch=1
 *          lock_all=0 locks=0 memory=shared
 *
 * Plain C, no MPI: the tools include it. */
#ifndef REVIVE_PML_OBJS_LINE_H
#define REVIVE_PML_OBJS_LINE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PML_OBJS_WIN_PREFIX "window "

/* The keys, in the order they are written; memory= is missing in images of a Revive before it
 * (restart_wincheck.c tells those apart). */
enum pml_objs_win_key {
    PML_WK_FLAVOR,
    PML_WK_RANKS,
    PML_WK_BASE,
    PML_WK_SIZE,
    PML_WK_DISP_UNIT,
    PML_WK_FENCES,
    PML_WK_FENCE_EPOCH,
    PML_WK_LOCK_ALL,
    PML_WK_LOCKS,
    PML_WK_MEMORY,
    PML_WK_N
};

static const char *const pml_objs_win_keys[PML_WK_N] = {
    "flavor", "ranks", "base", "size", "disp_unit", "fences", "fence_epoch", "lock_all",
    "locks", "memory",
};

/* A window line's values, as text (each at most 31 characters). */
struct pml_objs_win_line {
    char v[PML_WK_N][32];
    unsigned have; /* bit k: key k was in the line */
};

/* Writes the line (with its "window " prefix and newline) into buf; returns its length as
 * snprintf does. */
static inline int pml_objs_win_format(char *buf, size_t n, const struct pml_objs_win_line *l)
{
    int k = snprintf(buf, n, "%s", PML_OBJS_WIN_PREFIX);
    for (int i = 0; i < PML_WK_N && k >= 0; i++) {
        int m = snprintf(buf + ((size_t)k < n ? (size_t)k : n), (size_t)k < n ? n - (size_t)k : 0,
                         "%s=%s%s", pml_objs_win_keys[i], l->v[i], i + 1 < PML_WK_N ? " " : "\n");
        k = m < 0 ? m : k + m;
    }
    return k;
}

/* Reads the window line [s, e) (its prefix included). 0 with every key found set in l->have; -1
 * when it is no window line or holds a key not above (its name in bad). */
static inline int pml_objs_win_parse(const char *s, const char *e, struct pml_objs_win_line *l,
                                     char *bad, size_t badlen)
{
    size_t pl = strlen(PML_OBJS_WIN_PREFIX);
    memset(l, 0, sizeof *l);
    if (bad && badlen)
        bad[0] = 0;
    if ((size_t)(e - s) < pl || strncmp(s, PML_OBJS_WIN_PREFIX, pl))
        return -1;
    for (const char *p = s + pl; p < e;) {
        while (p < e && (*p == ' ' || *p == '\n'))
            p++;
        if (p >= e)
            break;
        const char *t = p, *eq = NULL;
        while (p < e && *p != ' ' && *p != '\n') {
            if (*p == '=' && !eq)
                eq = p;
            p++;
        }
        int k = -1;
        for (int i = 0; eq && i < PML_WK_N && k < 0; i++)
            if ((size_t)(eq - t) == strlen(pml_objs_win_keys[i]) &&
                !strncmp(t, pml_objs_win_keys[i], (size_t)(eq - t)))
                k = i;
        if (k < 0) {
            if (bad && badlen) {
                size_t n = (size_t)((eq ? eq : p) - t);
                n = n < badlen - 1 ? n : badlen - 1;
                memcpy(bad, t, n);
                bad[n] = 0;
            }
            return -1;
        }
        size_t n = (size_t)(p - eq - 1);
        n = n < sizeof l->v[k] - 1 ? n : sizeof l->v[k] - 1;
        memcpy(l->v[k], eq + 1, n);
        l->v[k][n] = 0;
        l->have |= 1u << k;
    }
    return 0;
}

#endif
