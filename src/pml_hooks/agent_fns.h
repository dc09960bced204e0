/* The calls the MPI layer makes into a rank agent: src/snapc's (the default), or a test
 * harness's, loaded by REVIVE_MPI_TEST_AGENT=PATH (a library exporting
 * `const struct pml_agent_fns revive_test_agent`), which drives the same operations inside the
 * rank without a coordinator process (tests/mpi/ckpt). No mpi.h here. */
#ifndef PML_HOOKS_AGENT_FNS_H
#define PML_HOOKS_AGENT_FNS_H

#include <stdint.h>

#include "snapc/agent.h"

struct pml_agent_fns {
    int (*start)(const struct snapc_rank_ops *ops, int world_rank, int world_size);
    void (*notify)(void);
    int (*raise)(uint64_t cid, uint64_t target);
    int (*request)(int collective, uint64_t world_seq);
    int (*wait_epoch)(uint64_t world_seq, int *restarted);
    int (*finalize_wait)(void);   /* NULL: nothing to wait for */
};

#endif
