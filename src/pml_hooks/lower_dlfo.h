/* The unwinder's table of objects in ld.so, after a restart (lower_dlfo.c; glibc 2.35 to 2.36,
 * x86_64). Part of making a dead lower half harmless (lower_reset.h).
 *
 * glibc 2.35 gave ld.so `_dl_find_object` (address -> object and its unwind data), which
 * libgcc's unwinder (`_Unwind_Find_FDE`: backtraces, C++ exceptions, pthread_cancel and
 * pthread_exit) asks for every return address it meets. It answers from a table of its own
 * (sorted copies of each loaded object's range, link map and `.eh_frame_hdr` address) that
 * dlopen updates and dlclose marks: internal, never exported, kept in the application's heap.
 * A restart drops the dead lower half from ld.so's namespace list, but that table still named
 * its objects: an address in the dead half (a return address an earlier backtrace met, a stale
 * function pointer a signal handler unwinds from) was answered with the dead object and unwind
 * data in memory that is gone (kept PROT_NONE, lower_reset.c), and the unwinder died of SIGSEGV
 * (SEGV_ACCERR) in `_Unwind_Find_FDE` (issue 7, finding A).
 *
 *   pml_dlfo_find   (at MPI_Init and at every checkpoint, every pointer valid) finds where ld.so
 *                   keeps the table: the words of its writable data that point to a chain of the
 *                   table's segments, each entry checked against the link map it names (range
 *                   and link map as the link map says), one of them the object at `probe` as
 *                   `_dl_find_object` itself answers for it; allocates nothing, takes no lock.
 *                   A later call keeps the words an earlier one found (ld.so's static words
 *                   never move; only the chains they point to do) when they still give what the
 *                   whole look would: each NULL or a chain, the same ones holding the probe and
 *                   no other, and, when one word alone held it, its neighbours then left out
 *                   still neither NULL nor a chain; else it looks at the whole data again (a
 *                   checkpoint reads a few words, not ld.so's whole data: issue 7, the capture's
 *                   CPU). What that assumes: no word of ld.so's data beyond the words found and
 *                   their neighbours comes to point to a chain holding the probe (glibc keeps
 *                   the table behind two pointers, the copy readers use and the one dlopen
 *                   rewrites, side by side);
 *   pml_dlfo_close  (in the restarted process, before its threads run on) marks every entry
 *                   whose link map `dead` says is gone closed, exactly as dlclose does (empty
 *                   range, no link map): `_dl_find_object` then finds nothing there, and the
 *                   next dlopen (the fresh lower half's) drops those entries. Allocates
 *                   nothing, takes no lock; returns how many entries it closed.
 * Without `_dl_find_object` (glibc before 2.35; the unwinder then walks the namespaces' link
 * maps, which lower_reset.c empties) both do nothing. pml_dlfo_find returns 0 or -errno with a
 * message in err naming the check that failed. */
#ifndef PML_HOOKS_LOWER_DLFO_H
#define PML_HOOKS_LOWER_DLFO_H

#include <stddef.h>

/* lm_map_start: the offset of l_map_start (then l_map_end) in struct link_map (lower_reset.c
 * learns it); probe: an address inside a loaded object of the lower half. The first call (from
 * pml_ldso_learn) also finds ld.so's writable data, with dl_iterate_phdr. */
int pml_dlfo_find(size_t lm_map_start, const void *probe, char *err, size_t errlen);
unsigned pml_dlfo_close(int (*dead)(const void *map));

#endif
