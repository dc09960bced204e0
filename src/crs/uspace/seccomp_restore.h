/*
 * The program's seccomp filters installed again in the restored process,
 * last (crs/base/seccomp_notes.h holds them, in the process's memory; each
 * thread's THREADATTR record, beside its THREADS record on its stack, says
 * how many it ran under). The checkpoint thread installs those every thread
 * had, with SECCOMP_FILTER_FLAG_TSYNC, once everything else of the restart
 * is done and before the other threads run on; then each thread installs
 * the rest of its own. A filter that cannot go in (no no_new_privs and no
 * CAP_SYS_ADMIN: restore_check.c refuses such a restart beforehand) ends the
 * process with a message: it must not run without a filter it had.
 */
#ifndef REVIVE_CRS_SECCOMP_RESTORE_H
#define REVIVE_CRS_SECCOMP_RESTORE_H

#include "crs/base/image_format.h"

/* The checkpoint thread, whose attributes are *self. */
void crs_seccomp_restore_common(const struct crs_rec_thread_attr *self);
/* Each thread (the checkpoint thread too), after the common ones. */
void crs_seccomp_restore_own(const struct crs_rec_thread_attr *a);

/* The checkpoint thread, for crs_ckpt_opts.seccomp_later: the filters wait
 * (crs_seccomp_restore_waiting says 1, every restored thread is held) until
 * crs_seccomp_restore_late, from the component's unhold, installs the
 * checkpoint thread's (the calling thread must be that thread) before the
 * held threads run on and take theirs. */
void crs_seccomp_restore_defer(const struct crs_rec_thread_attr *self);
void crs_seccomp_restore_late(void);

#endif
