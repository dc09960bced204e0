/* Pointers into a dead lower half left in a restarted rank (lower_refs.c). */
#ifndef PML_HOOKS_LOWER_REFS_H
#define PML_HOOKS_LOWER_REFS_H
#include <stdint.h>
/* Whether a byte of memory belongs to the application's half (restart.c's table). */
typedef int pml_refs_upper_fn(uint64_t addr);
/* With how = "1" (REVIVE_DEAD_SCAN of the restart's environment): logs every word of the
 * application's writable memory outside the heap that points into the code of an object of the
 * dead lower half (pml_ldso_dead_objects), where it is and what it pointed at (at most 200);
 * "2": the heap's too (at most 20000); returns how many there are. 0 for any other how (NULL).
 * After pml_ldso_forget, with the fresh lower half loaded (dladdr names the places). */
int pml_refs_scan(pml_refs_upper_fn *is_upper, const char *how);
#endif
