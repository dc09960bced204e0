/* What the files of a process tree's restart share (cr_restart_tree.c and the files it is split
 * into by job: cr_restart_tree_member.c, cr_restart_tree_files.c, cr_restart_tree_ns.c,
 * cr_restart_tree_reap.c). Internal to cr_restart and revive-restart-rank; their entry points,
 * restart_tree and restart_tree_here, are in cr_restart.h. */
#ifndef REVIVE_TOOLS_CR_RESTART_TREE_H
#define REVIVE_TOOLS_CR_RESTART_TREE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "crs/base/component.h"
#include "crs/base/tree.h"

struct tree_restart {
    const struct crs_component *crs;
    struct crs_tree t;
    const char *path;
    struct crs_restart_opts *opts;     /* per member */
    struct crs_restart_image *ri;      /* per member (opened: PROCESS) */
    int **placed;                      /* per member: its numbers of shared files */
    int **fill;                        /* per member: of them, the kernel objects its image made */
    int *gfd;                          /* per group: our descriptor */
    struct crs_restart_file *files;    /* the OBJECT groups' files, for every member */
    size_t nfiles;
    int fd_min;                        /* ours live at or above (every member's own_fd_min) */
    int report_w, ready_w, go_r;       /* members -> us, and our word to go on */
    int report_r, ready_r, go_w;       /* our ends: no member holds them (-1 in our init); restart_tree_here:
                                        * member 0 (this process) gives the word */
    int here;                          /* restart_tree_here: member 0 is this process */
    int outer_proc_fd;                 /* in a namespace of our own: the outer /proc */
    int in_ns;
    int user_ns;                       /* a user's restart: in its user+pid namespace already (share_dev_shm) */
    int first_is_init;                 /* member 0 was its pid namespace's init: it is ours again (first_init) */
    const char *const *relocate;       /* --relocate OLD=NEW (crs_restart_opts) */
    size_t nrelocate;
};

/* cr_restart_tree.c: fd moved to a number at or above tr->fd_min (close-on-exec), the old one
 * closed; -1 when fd is negative or cannot be moved (errno). */
int tree_high(struct tree_restart *tr, int fd);

/* ---- cr_restart_tree_member.c: the members' making, each under its pid ---- */

/* Creates member i (a process with its pid, a zombie made to end with its status) from the
 * calling process; 0, or -1 with the message reported. */
int tree_spawn(struct tree_restart *tr, uint32_t i);
/* The life of member i in its own process: its session and group, its children, its shared
 * descriptors at their numbers, then its restore; returns never (exit 1 with its failure
 * reported when the restore fails). */
void tree_member(struct tree_restart *tr, uint32_t i) __attribute__((noreturn));
/* A member's failure, one write (PIPE_BUF at most) into the pipe every member shares. */
void tree_report(struct tree_restart *tr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* crs_restart_opts.before_switch of every member (tree_barrier), and of member 0 of a rank's
 * tree, which lets the others go itself (tree_barrier_first): 0 to go on, -1 to fail. */
int tree_barrier(void *arg);
int tree_barrier_first(void *arg);
/* Whether pid is a member's pid (in the tree file). */
int tree_is_member_pid(const struct tree_restart *tr, pid_t pid);
/* Whether member i's parent is no member: created by cr_restart (or its namespace's init). */
int tree_is_root(const struct tree_restart *tr, uint32_t i);

/* ---- cr_restart_tree_files.c: the open files and shared memory members share ---- */

/* Makes every group of the tree file once, here, at tr->gfd[g]; 0, or -1 with the message
 * printed. */
int tree_make_groups(struct tree_restart *tr);

/* ---- cr_restart_tree_ns.c: the restart's pid namespace and its init ---- */

/* Enters a new pid namespace (and user namespace: a user, unless done already) and forks its
 * init; taken: some of the tree's pids are in use (for the message). Init's pid and, in
 * *status_r, the pipe end its status word comes on; -1 with the message printed. */
pid_t tree_ns_start(struct tree_restart *tr, int taken, int *status_r);
/* Once the members run: passes the forwarded signals on to the first member and unblocks them
 * (unfwd: the mask before), then waits for the first member's wait status from init; *lost
 * says how init ended when it gave no word (else it is left as it is). */
int tree_ns_wait(struct tree_restart *tr, pid_t init, int status_r, const sigset_t *unfwd, char *lost,
                 size_t lostlen);
/* The first member under the pid we see it by (init itself when none is seen). */
pid_t tree_first_member_seen(const struct tree_restart *tr, pid_t init);

/* ---- cr_restart_tree_reap.c: the wait for the members, and the clean-up of a failed tree ---- */

/* Waits until every living member is at the barrier (or one reports a failure, or one died),
 * then lets them go; init: our namespace's init, or -1. 0, or -1 with the message printed. */
int tree_release_when_ready(struct tree_restart *tr, int report_r, int ready_r, int go_w, pid_t init);
/* SIGKILL to every member (init > 0: to our namespace's init, which takes them all). */
void tree_kill_members(const struct tree_restart *tr, pid_t init);
/* restart_tree_here: every other member made by this process ends and is reaped. */
void tree_kill_others(const struct tree_restart *tr);
/* What a failed restart made outside the processes goes (System V segments); returns 1. */
int tree_abandon(const struct crs_component *crs);
/* tree_abandon, then the forwarded signals are passed on to nobody and unfwd is the mask
 * again; returns 1. */
int tree_abandon_unblock(const struct crs_component *crs, const sigset_t *unfwd);
/* The state letter of /proc/PID/stat (0: no such process); *inner, when asked: its pid in its
 * own pid namespace. */
char tree_proc_state(pid_t pid, pid_t *inner);
/* /proc/PID/task/PID/children whole, malloc'd; NULL when it cannot be read. */
char *tree_children_of(pid_t pid);

#endif
