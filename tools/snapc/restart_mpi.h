/* restart-mpi's own files (tools/snapc/restart-mpi.c and the files of its jobs; nothing else
 * includes this): what they share. Each ends restart-mpi through restart_die (status 1: the
 * snapshot refused or the launch failed; what restart-mpi made is removed first) or
 * restart_usage_die (status 2: a wrong command line, before anything is made).
 *
 *   restart-mpi.c       main: the order of the steps, the checks of the snapshot, the end
 *   restart_options.c   the command line (usage, restart_parse_options)
 *   restart_choose.c    which snapshot and sequence, and its metadata (or why not)
 *   restart_aside.c     images missing or damaged: noted, damaged ones moved aside for the fetch
 *   restart_launch.c    the launcher's arguments, the launch command, the coordinator's exec */
#ifndef REVIVE_TOOLS_SNAPC_RESTART_MPI_H
#define REVIVE_TOOLS_SNAPC_RESTART_MPI_H

#include <stddef.h>
#include <stdint.h>

#include "filem/filem.h"

extern const char restart_me[]; /* "restart-mpi", each message's first word */

/* restart-mpi.c: ends restart-mpi with status 1 and "restart-mpi: MESSAGE" (the images moved
 * aside put back, a re-created snapshot directory removed); restart_usage_die with status 2,
 * nothing being made yet. */
void restart_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void restart_usage_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* restart_launch.c: a growing argument list (NULL-terminated; out of memory ends restart-mpi) */
struct argv {
    char **v;
    int n, cap;
};
void restart_push(struct argv *a, const char *s);
void restart_pushf(struct argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* path under a --relocate OLD of reloc (the longest that applies) moved to NEW: 1 and out
 * filled, else 0 (also when the moved path does not fit in len); the ranks' rule,
 * crs_relocated (crs/base/relocated.h). */
int restart_relocated(const char *path, const struct argv *reloc, char *out, size_t len);
/* Each PATH of LIST ("P1,P2,...": the job's --ckpt-save-files) moved as restart_relocated moves
 * it, into out: 0, or -1 when out is too short (the list left as it is then). */
int restart_relocated_list(const char *list, const struct argv *reloc, char *out, size_t len);
/* s shell-quoted on standard output (--showme) */
void restart_print_quoted(const char *s);

/* restart_options.c */
/* restart-mpi's command line (its usage: restart_options.c), as main takes it. */
struct opts {
    long want_seq; /* --seq, else -1 */
    const char *hostfile, *ref, *meta_from, *recreate_in;
    const char *local; /* --ckpt-local, else REVIVE_LOCAL_DIR: an absolute path, "none" or NULL */
    const char *ckpt_dir; /* --ckpt-dir, absolute (checked: there, or its parent), else NULL:
                           * the restarted job's snapshots beside the old ones */
    int local_given;   /* local came from the command line or REVIVE_LOCAL_DIR (else the job's
                        * own --ckpt-local, restart_carry_job_options) */
    int showme, verify, preload;
    int restore_files; /* put the files --save-files saved back (default; --no-restore-files: 0) */
    struct argv extra, reloc; /* the launcher options after --; each --relocate OLD=NEW */
};
/* The command line into o. A wrong one ends restart-mpi with status 2 (restart_usage_die),
 * --help with 0, before anything is made; REVIVE_LOCAL_DIR is set from --ckpt-local (the
 * restarted job's own snapshots take it too). */
void restart_parse_options(int argc, char **argv, struct opts *o);
/* The job's own --ckpt-* settings its snapshot recorded (m) go on in the restarted job where
 * neither restart-mpi's command line nor the environment says otherwise (newuser50 M5: a job
 * started with --ckpt-local DIR restarted writing into the default caches): --ckpt-local into
 * o->local and REVIVE_LOCAL_DIR, --ckpt-save-shared into REVIVE_SAVE_SHARED, --ckpt-partner
 * into REVIVE_CKPT_PARTNER (not with --ckpt-local none), --ckpt-stage-bw into
 * REVIVE_CKPT_STAGE_BW, --ckpt-no-wait-stage into REVIVE_MPIX_NO_WAIT_STAGE,
 * --ckpt-file-data-max into REVIVE_FILE_DATA_MAX, --ckpt-save-files
 * into REVIVE_SAVE_FILES (each PATH where --relocate moves it). The interval and the
 * retention: restart_exec_coordinator; the snapshot directory: beside the old ones. */
void restart_carry_job_options(struct opts *o, const struct filem_meta *m);

/* restart_choose.c */
/* The command line, for the words that refuse another user's snapshot (snap_owner.h). */
void restart_owner_args(int argc, char **argv);
/* The snapshot o->ref names: its job directory, and the sequence returned (--seq, the one the
 * reference names, else the newest committed one that did not fail a restart, said). When the
 * snapshot directory is gone, its metadata from a node-local cache (restart_cache.h): cached is
 * that copy's path (else left ""). Ends restart-mpi when there is none. */
int64_t restart_choose_snapshot(const struct opts *o, const char *rrank, char *jobdir, size_t jlen,
                                char *cached, size_t clen);
/* The sequence's metadata into m, read in metadir (seqdir, or the cache's copy for --showme of a
 * snapshot directory that is gone). When it cannot be read, restart-mpi ends saying why and what
 * to do: its staging failed, it is staging or being written now, the job that takes it still
 * runs, or which other sequence to take. */
void restart_read_meta(const char *metadir, const char *seqdir, const char *jobdir, int64_t seq,
                       struct filem_meta *m);
/* restart-mpi ends refusing sequence seq: one line, the refusal (fmt ...), then sep and what to
 * do instead: the newest other committed sequence that passes the check restart-mpi makes of
 * the sequence it takes (seq_pick.h), named with --seq, else that there is none (or none
 * intact: run the job again). When that check reads another sequence's images through (every
 * chunk: minutes for a large job), the refusal is said first, with the sequence being checked
 * (seq_pick_say; diffrev37 R-L14). */
void restart_die_other(const char *jobdir, int64_t seq, const char *sep, const char *fmt, ...)
    __attribute__((format(printf, 4, 5), noreturn));

/* restart_aside.c */
/* Images missing from the snapshot directory: which ranks (fetched from the hosts' caches
 * before the launch, restart_fetch.h), and whether anything else is wrong. */
struct missing {
    int n, other;
    int *ranks;
    /* images there but damaged (newuser9 F8): fetched like missing ones from a node-local copy
     * (its node's cache, its partner's) when one is good; the check's words for each */
    const char *seqdir;
    const struct filem_meta *m;
    int ndam;
    int *dam;
    char **dam_why;
};
/* filem_verify_seq's report (arg: a struct missing): a missing image's rank noted, a damaged
 * one's too (with the check's words) when the metadata describes it. */
void restart_note_missing(void *arg, int rank, int status, const char *msg);
/* STEP -1: the damaged images of mi moved aside for the fetch; after it, STEP 1 puts them back
 * where no good copy came, STEP 0 removes those a good copy replaced. */
void restart_damaged_aside(const struct missing *mi, int step);
/* The images moved aside go back under their names unless a good copy came (restart_die and a
 * signal before the launch call it). Returns how many went back. */
int restart_aside_restore(void);
/* Images a restart-mpi killed outright left aside in seqdir: put back, said. */
void restart_aside_left(const char *jobdir, const char *seqdir);

/* restart_launch.c */
/* The job's launcher arguments as this restart runs it (run; where its programs are in it:
 * rprogs, returned how many), from the saved ones (m) and the command line's. Ends restart-mpi
 * when the metadata lacks them or the options given after -- cannot be taken. */
int restart_job_arguments(const struct opts *o, const struct filem_meta *m, const char *seqdir,
                          uint64_t ranks, uint64_t argc_saved, const char *flavor,
                          struct argv *run, int *rprogs);

/* Whether the hosts the launch RUN (N words, the programs at RPROGS[0..NRPROGS)) names are up,
 * asked before the launch (newuser47 M1: with a host of the hostfile down, MPICH's mpiexec
 * waited in silence until REVIVE_LAUNCH_TIMEOUT, 300 s; natively it waits for ever). Each host
 * but this machine is asked at once (host_probe.h; REVIVE_FETCH_CONNECT_TIMEOUT, 10 s), only
 * when the launch goes through a remote shell (not under a resource manager's own launcher),
 * on the port that remote shell uses: REVIVE_FETCH_PROBE_PORT when given (0: not asked); else,
 * when the remote shell is ssh (the launchers' default, Open MPI's plm_rsh_agent, Hydra's
 * -launcher-exec), the host name and port "ssh -G" gives (the user's ssh configuration, the
 * agent's options), not asked through a ProxyJump/ProxyCommand; another remote shell (a
 * site's agent, a container's exec, rsh) is not asked: a refusal of a setup that works would
 * be worse than the launcher's wait. 0 when every host answered (or none was asked), -1 with
 * one sentence naming the first host down and what it said in err. */
int restart_check_hosts(char *const *run, int n, const int *rprogs, int nrprogs,
                        const char *flavor, char *err, size_t errlen);
struct filem_files_moves;
/* The paths the files --save-files saved go back to (m's, where mv moves them), told to the ranks
 * in FILEM_PUT_BACK_VAR<i> (filem/files_save.h) when put_back is 1, so that each takes an MPI
 * file restart-mpi put back as the job's own (newuser11 F1); none told (any left in this
 * process's environment removed) when it is 0, or when they cannot be known (the restore then
 * fails on its own) or do not all fit (a warning: those ranks refuse as before). */
void restart_put_back_tell(const struct filem_meta *m, const struct filem_files_moves *mv, int put_back);
/* The command: launcher [-x ...] then the job's arguments as it runs now (run, its programs at
 * rprogs), each program replaced by the rank restarter rrank with its options and seqdir. */
void restart_launch_command(struct argv *cmd, const struct opts *o, const char *launcher,
                            const char *flavor, const struct argv *run, const int *rprogs,
                            int nrprogs, const char *rrank, const char *seqdir);
/* revive-coord in restart mode, in this process (it launches cmd from the job's directory, where
 * relative names in its options lead); m is freed. Returns only to die. */
void restart_exec_coordinator(const char *coord, const char *seqdir, const char *flavor,
                              const char *launcher, struct filem_meta *m, const struct argv *run,
                              const int *rprogs, int nrprogs, const struct argv *cmd,
                              const struct opts *o) __attribute__((noreturn));

#endif
