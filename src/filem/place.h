/*
 * Placement of a rank (issue 9, point 7), read and applied with hwloc.
 *
 * Before its capture a rank describes where it runs, as "key value" lines the coordinator puts
 * into snapshot.meta under rank.<r>. (the agent's INFO):
 *   place.topo      packages P numa N cores C pus U    (this host, hwloc's counts)
 *   place.cpubind   all | cores LIST                   (logical core indexes it is bound to)
 *   place.cpus      LIST                               (the same as OS processor numbers)
 *   place.membind   default | bind LIST | ...          (memory policy, logical NUMA indexes)
 *   place.mem_nodes LIST | none                        (NUMA nodes holding its pages)
 * LIST is "0-3,6". The rank keeps the text in its memory, so that after a restart (on any host)
 * its agent binds the process to the same logical cores and moves its pages to the same NUMA
 * nodes where this host has them, and says what it could not match.
 *
 * REVIVE_PLACE_TEST (tests only): ";"-separated lines recorded instead of the real ones (a
 * snapshot that names more cores or NUMA nodes than the machine has).
 */
#ifndef REVIVE_FILEM_PLACE_H
#define REVIVE_FILEM_PLACE_H

#include <stddef.h>

#define FILEM_PLACE_TEST_ENV "REVIVE_PLACE_TEST"

/* Writes the lines above into buf (NUL-terminated). Returns the length, or -errno (hwloc
 * could not read the topology: nothing written). */
int filem_place_describe(char *buf, size_t len);

/* Binds this process as `recorded` (filem_place_describe's text) says, where this host allows.
 * `said` gets one sentence per thing that could not be matched ("" when all matched or nothing
 * was recorded). 0, or -errno when hwloc cannot read this host's topology. */
int filem_place_apply(const char *recorded, char *said, size_t len);

/* The host's topology changed (a restart): the next call reads it again. */
void filem_place_forget(void);

/* How many cores this host has (hwloc; at least 1): what sizes parallel copies. */
int filem_place_ncores(void);

/* A node-wide slot for one staging copy: at most filem_place_ncores() copies run at once on a
 * node, whatever its number of ranks (each rank's agent stages its own image). The slots are
 * flocks on LOCAL/.stage-slots/<i> (0700 directory, 0600 files; a dead holder's slot is free at
 * once); takes a free one, else waits for slot rank % ncores. Returns the descriptor to close
 * when the copy is done, or -errno (then copy without a slot). */
int filem_place_stage_slot(const char *local_root, int rank);

#endif
