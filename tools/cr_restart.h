/* What cr_restart.c and cr_restart_tree.c (a process tree's restart; its parts share
 * cr_restart_tree.h) share. */
#ifndef REVIVE_TOOLS_CR_RESTART_H
#define REVIVE_TOOLS_CR_RESTART_H

#include <sys/types.h>
#include "crs/base/component.h"

/* The image reader's advice (CRS_IMAGE_ADVICE) in cr_restart's words: a damaged image file of
 * one process, or of a member of a process tree (cr_restart_tree.c, the same words); the way on
 * is another file of it, checked before it is restarted. */
#define CR_RESTART_ADVICE "; restart an earlier checkpoint of the process instead (cr_info " \
                          "--verify FILE checks one first)"
#define CR_RESTART_TREE_ADVICE "; restart an earlier checkpoint of the process tree instead " \
                               "(cr_info --verify FILE checks one first)"

/* fork() that asks for a given pid (root, or CAP_CHECKPOINT_RESTORE); a
 * plain fork when it cannot have it (want 0, or refused). */
pid_t fork_with_pid(pid_t want);
/* Whether pid is in use: a process or thread has it, or a process group or
 * session still goes by it (its leader gone, members left): the kernel
 * hands out neither, so clone3 cannot give it back. */
int pid_in_use(pid_t pid);
/* unshare a new pid namespace (and a user namespace for a user); 0 or -1. */
int enter_user_pid_namespace(void);
/* The process led a session of its own without a terminal. */
int own_session(const struct crs_restart_image *ri);
/* setsid() or setpgid(0, 0) as the image's process led its session or group. */
void restore_leadership(const struct crs_restart_image *ri);
/* Dies of signal sig (unblocked, its default action). */
void raise_like(int sig);
/* Gives the calling process a /proc of its pid namespace in a mount namespace
 * of its own; the outer /proc stays open as *outer_proc_fd (at or above
 * fd_min). 0, or -1 with errno (*outer_proc_fd is -1 then). */
int mount_own_proc(int fd_min, int *outer_proc_fd);
/* The first child of a pid namespace's init, under the pid we see it by;
 * init itself when there is none. */
pid_t process_of_init(pid_t init);
/* The wait status the namespace's init writes on fd, once init has been reaped; when none
 * comes (init killed), 1 << 8 with a message naming path and how init ended. */
int status_from_init(int fd, const char *path);
/* How a process with wait status st ended ("was killed by signal 9 (Killed)"), for a message;
 * st < 0: not known. */
void init_end_text(int st, char *out, size_t cap);
/* Exits like a process that ended with wait status st (its signal too). */
int exit_like(int st);
/* The signals cr_restart passes on to the restored process (forward_signals_to). */
#define CR_RESTART_NFORWARDED 6
extern const int forwarded_signals[CR_RESTART_NFORWARDED];
/* Like a shell for a foreground job: keyboard signals ignored here, others
 * passed on to pid (a hangup not, when ignore_hangup). */
void forward_signals_to(pid_t pid, int ignore_hangup);
/* Unblocks the signals cr_restart passes on. A pid namespace's init made by cr_restart passes
 * them on to the restored process too (forward_signals_to there): the kernel drops a signal sent
 * to a namespace's init that has no handler for it, such as a SIGTERM of cr_restart's passed on
 * while the restored process was not known by its pid yet (diffrev30 K-L2). */
void unblock_forwarded(void);

/* The restart of a process tree's file open at fd (cr_restart_tree.c);
 * returns cr_restart's exit status. */
int restart_tree(const struct crs_component *crs, const struct crs_restart_opts *o, int fd);
/* The restart of a rank's tree file open at fd (revive-restart-rank: an MPI rank that had
 * running children, src/pml_hooks/capture.c): member 0 is restored in this very process with o
 * (its new pid, the hand-off, the launcher's descriptors), the other members as its children
 * under their pids (pids of one's choice: root or CAP_CHECKPOINT_RESTORE) with the pipes and
 * files they share with it. Returns only when the restart failed: -errno with the message in
 * err (a reason the tree's code printed on standard error first is named there). */
int restart_tree_here(const struct crs_component *crs, const struct crs_restart_opts *o, int fd, char *err,
                      size_t errlen);

#endif
