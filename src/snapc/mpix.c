/* libmpix_ckpt: MPIX_Checkpoint and MPIX_Checkpoint_request (include/mpix_ckpt.h).
 *
 * The work is the MPI layer's (src/pml_hooks, preloaded into every rank under
 * Revive): it exports revive_mpix_checkpoint(int collective, int *flag),
 * found here with dlsym(RTLD_DEFAULT, ...), which returns 0 or -errno. Without
 * it the job does not run under Revive: return the MPI library's
 * MPI_ERR_OTHER and change nothing. No mpi.h: one library for both MPIs. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpix"
#include "mpix_ckpt.h"

#include <dlfcn.h>
#include <errno.h>
#include <string.h>

#include "common/log.h"

typedef int (*revive_mpix_fn)(int collective, int *flag);
typedef int (*libver_fn)(char *version, int *len);

/* MPI_ERR_OTHER of the library in the process: 16 in Open MPI, 15 in MPICH. */
static int err_other(void)
{
    static int value;
    if (value)
        return value;
    int v = 15;
    if (dlsym(RTLD_DEFAULT, "ompi_mpi_comm_world"))
        v = 16;
    else {
        libver_fn f = (libver_fn)dlsym(RTLD_DEFAULT, "MPI_Get_library_version");
        char s[8192];
        int len = 0;
        if (f && f(s, &len) == 0 && strstr(s, "Open MPI"))
            v = 16;
    }
    value = v;
    return v;
}

static int call(int collective, int *flag, const char *name)
{
    revive_mpix_fn fn = (revive_mpix_fn)dlsym(RTLD_DEFAULT, "revive_mpix_checkpoint");
    if (!fn) {
        revive_log_info("%s: this job does not run under Revive (start it with 'mpirun -am "
                        "ft-enable-cr'); nothing done",
                        name);
        return err_other();
    }
    int f = 0;
    int rc = fn(collective, &f);
    if (rc == 0) {
        if (flag)
            *flag = f ? MPIX_CKPT_RESTARTED : MPIX_CKPT_CONTINUE;
        return 0;
    }
    switch (rc) {
    case -ENOTCONN:
        revive_log_warn("%s: the job has no Revive coordinator (start it with 'mpirun -am "
                        "ft-enable-cr'); nothing done",
                        name);
        break;
    case -ESHUTDOWN:
        revive_log_warn("%s: MPI is not initialised or already finalized; nothing done", name);
        break;
    case -EIO:       /* taken, not committed; rank 0 said why (src/snapc/agent_mpix.c) */
    case -EREMOTEIO: /* an earlier snapshot's copy failed (--ckpt-no-wait-stage); rank 0 said */
        break;
    case -ECANCELED:
        revive_log_warn("%s: no snapshot was taken (the reason is above); the job goes on", name);
        break;
    default:
        revive_log_warn("%s: %s; no snapshot was taken", name, strerror(rc < 0 ? -rc : rc));
        break;
    }
    return err_other();
}

int MPIX_Checkpoint(int *flag)
{
    if (flag)
        *flag = MPIX_CKPT_CONTINUE;
    return call(1, flag, "MPIX_Checkpoint");
}

int MPIX_Checkpoint_request(void)
{
    return call(0, NULL, "MPIX_Checkpoint_request");
}
