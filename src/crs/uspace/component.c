/* The default component: transparent capture of the whole process in user space. */
#include "crs/base/component.h"
#include "crs/uspace/checkpoint.h"
#include "crs/uspace/park.h"
#include "crs/uspace/restore.h"

const struct crs_component crs_uspace_component = {
    .name = "uspace",
    .summary = "transparent user-space capture and restore of the whole process",
    .init = crs_checkpoint_init,
    .checkpoint = crs_checkpoint_self,
    .park_signal = crs_park_signal,
    .set_park_hook = crs_park_set_hook,
    .park_here = crs_park_here,
    .unhold = crs_park_unhold,
    .exec_enter = crs_park_exec_enter,
    .exec_leave = crs_park_exec_leave,
    .restart_open = crs_uspace_restart_open,
    .restart = crs_uspace_restart,
    .restart_make_file = crs_uspace_restart_make_file,
    .restart_make_kobj = crs_uspace_restart_make_kobj,
    .restart_share = crs_uspace_restart_share,
    .restart_close = crs_uspace_restart_close,
    .restart_abandon = crs_restore_sysv_abandon,
};
