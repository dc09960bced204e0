/* Windows at a global snapshot and after a restart (see objs.h and win.c). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/objs.h"

void *pml_win_addr_out(const struct pml_win *w, void *p)
{
    uintptr_t a = (uintptr_t)p;
    if (w->moved && a >= w->lib_lo && a < w->lib_hi)
        return (void *)(a - (uintptr_t)w->moved);
    return p;
}
