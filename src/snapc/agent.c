/* The rank agent (see agent.h). First version: the interface only, so that
 * the MPI layer can build against it; every call reports "no coordinator". */
#include "snapc/agent.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "snapc/wire.h"

int snapc_agent_start(const struct snapc_rank_ops *ops, int world_rank, int world_size)
{
    (void)ops;
    (void)world_size;
    const char *coord = getenv(SNAPC_ENV_COORD);
    if (!coord || !*coord)
        return 1;
    fprintf(stderr, "revive: snapc: rank %d: the rank agent is not built yet; running without "
                    "checkpoints\n", world_rank);
    return -ENOSYS;
}

void snapc_agent_notify(void) {}

int snapc_agent_raise(uint64_t cid, uint64_t target)
{
    (void)cid;
    (void)target;
    return -ENOTCONN;
}

int snapc_agent_request(int collective, uint64_t world_seq)
{
    (void)collective;
    (void)world_seq;
    return -ENOTCONN;
}

int snapc_agent_wait_epoch(uint64_t world_seq, int *restarted)
{
    (void)world_seq;
    if (restarted)
        *restarted = 0;
    return -ENOTCONN;
}

int snapc_agent_restarted(void)
{
    return -ENOTCONN;
}

void snapc_agent_set_restart_env(char *const *envp)
{
    (void)envp;
}

int snapc_agent_fds(int *fds, int max)
{
    (void)fds;
    (void)max;
    return 0;
}

int snapc_agent_is_agent_thread(void)
{
    return 0;
}
