/* A communicator's topology as the program sees it (topo.c): its neighbour lists, in the order
 * the neighbourhood collectives use them, kept across a restart.
 *
 * MPI_Dist_graph_create (the non-adjacent form: each rank gives edges of its choice) leaves the
 * order of every rank's in- and out-neighbours to the library; Open MPI 4.1 and MPICH 4.0 order
 * them as the edges arrive, which differs from run to run. A program queries the order once
 * (MPI_Dist_graph_neighbors) and lays out the buffers of every neighbourhood collective by it. So
 * the layer records the lists the library chose at the call (one more item of the record entry),
 * and a restart makes the communicator again with MPI_Dist_graph_create_adjacent from exactly
 * those lists, weights and info, whose order the standard fixes (the order given). Every other
 * topology's order follows from the arguments and the rank map (MPI_Graph_create: the edges as
 * given; MPI_Cart_create: the dimensions; MPI_Dist_graph_create_adjacent: as given), all of which
 * the replay gives again; the check after every restart covers them all (restart.c). */
#ifndef PML_HOOKS_TOPO_H
#define PML_HOOKS_TOPO_H

#include "pml_hooks/replay.h"

#include <stddef.h>

/* The topology of real communicator c, as one array of ints (malloc'd, *n entries): its kind
 * (MPI_Topo_test) first, then for a distributed graph indegree, outdegree, weighted, sources,
 * source weights (when weighted), destinations, destination weights (when weighted); for a
 * graph this rank's neighbour count and neighbours; for a cartesian one ndims, dims, periods,
 * this rank's coordinates; nothing more for none. 0, or -ENOMEM / -EIO (a query failed). */
int pml_topo_describe(uintptr_t c, int **out, int *n);

/* Whether two descriptions differ: NULL when equal, else what differs ("in-neighbours",
 * "out-weights", "dims"...), with both values of that part written into buf ("now: 1 2 3 0;
 * saved: 2 0 3 1"). */
const char *pml_topo_diff(const int *now, int nnow, const int *saved, int nsaved, char *buf,
                          size_t len);

/* pml_rec_dist_graph (layer.h), from MPI_Dist_graph_create's entry point: one 'a' item, the
 * rank in the communicator made, then its description. */

/* The replay of the calls whose replay is written here (MPI_Dist_graph_create); NULL for others. */
pml_rp_fn pml_rp_topo_fn(int fid);

#endif
