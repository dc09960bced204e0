/* The coordinator's end (coord_int.h coord_finish), once its loop has returned: the launcher
 * ended (or killed, when the loop itself failed), the strays and orphans ended, the job
 * directory's leftovers removed, the caches given up, the tools told, the sockets and locks
 * let go, and the exit status the launcher's (or the signal it ended by, raised again). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "filem/alive.h"
#include "filem/stage_mark.h"
#include "snapc/coord_int.h"

int coord_finish(void)
{
    if (!coord.child_done) {
        /* the loop failed: do not leave the job behind */
        kill(coord.child, SIGTERM);
        sleep(1);
        kill(coord.child, SIGKILL);
        waitpid(coord.child, &coord.child_status, 0);
        coord.child_done = 1;
    }
    coord_kill_strays();
    coord_restart_kill_orphans();
    coord_witness_stop();
    if (coord.jobdir_ok && filem_trash_clean(coord.jobdir) > 0)
        revive_log_warn("%s holds hidden directories of failed checkpoints that could not be "
                        "removed (.discarded.*); remove them by hand",
                        coord.jobdir);
    if (coord.jobdir_ok)
        filem_stage_unreserve(coord.jobdir); /* no staging can fail any more */
    if (coord.alive_fd >= 0) {
        /* the job has ended: its caches are no longer its own alone (filem/alive.h) */
        char alive[PATH_MAX + 16];
        snapc_fmt(alive, sizeof alive, "%s/%s", coord.jobdir, FILEM_ALIVE_NAME);
        unlink(alive);
        close(coord.alive_fd);
        coord.alive_fd = -1;
    }
    coord_cache_sweep_end();
    coord_fail_summary();
    coord_tools_job_ended();
    coord_restart_cleanup();
    /* made at the first checkpoint, which failed, and none since (review newuser7 L2: an empty
     * revive_global_snapshot_PID.ckpt left after a --timeout): nothing in it, so not kept;
     * rmdir removes only an empty directory */
    if (coord.jobdir_ok && rmdir(coord.jobdir) == 0)
        revive_log_info("%s removed: empty, no checkpoint of the job was committed there",
                        coord.jobdir);
    if (coord.sock_path[0])
        unlink(coord.sock_path);
    if (coord.restart_lock >= 0)
        close(coord.restart_lock);
    int status = coord_exit_status();
    explicit_bzero(coord.secret, sizeof coord.secret);
    snapc_proto_fini(&coord.p);
    if (coord_launch_ended_by_revive())
        return 1; /* said why above; the launcher's SIGTERM was ours, not the user's */
    coord_end_like_launcher();
    return status;
}
