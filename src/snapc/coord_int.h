/*
 * The coordinator's insides, shared by its files (coord*.c); nothing outside
 * src/snapc includes this. One coordinator per process: its state is the
 * single `coord` below, touched only by the poll loop's thread.
 *
 *   coord.c         snapc_coord_run: set-up, the launcher started
 *   coord_loop.c    the poll loop: timers, the wait, what is ready to whom
 *   coord_end.c     the end: what is left cleaned, the exit status
 *   coord_conn.c    the connection table: accept, read frames, send, close
 *   coord_lost.c    which ended ranks' hosts are lost (asked at the commit)
 *   coord_listen.c  the tools' Unix socket and the ranks' TCP listener
 *   coord_rank.c    the ranks' frames (HELLO with the secret, protocol messages)
 *   coord_tool.c    the tools' requests and their replies (progress, DONE, refusals)
 *   coord_epoch.c   the epoch driver: events into proto.c, its actions out
 *   coord_commit.c  the commit: images checked, snapshot.meta, index, retention
 *   coord_meta.c    the metadata of a snapshot
 *   coord_launch.c  the launcher child: start, signals, exit status, strays
 *   coord_witness.c whether a signal reached the launcher's process group too
 *   coord_restart.c restart mode: where snapshots go, Recovered, a failed restart
 */
#ifndef REVIVE_SNAPC_COORD_INT_H
#define REVIVE_SNAPC_COORD_INT_H

#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "common/fault.h"
#include "filem/filem.h"
#include "snapc/coord.h"
#include "snapc/proto.h"
#include "snapc/util.h"
#include "snapc/wire.h"

#define COORD_MAX_CONNS 8192
#define COORD_HELLO_TIMEOUT_MS 10000
#define COORD_SEND_TIMEOUT_MS 10000
#define COORD_TOOL_MAX_PAYLOAD 4096
#define COORD_RANK_MAX_PAYLOAD SNAPC_WIRE_MAX_PAYLOAD
#define COORD_PENDING_MAX_PAYLOAD 4096
#define COORD_EXIT_GRACE_MS 5000
/* A rank's host that answers no TCP keepalive probe nor acknowledges data for this long
 * (REVIVE_HOST_SILENT_S overrides it, 2-3600 s) is taken as lost: the rank's connection is
 * closed (coord_conn.c). As long as a partner transfer waits for a silent peer (filem/partner.c). */
#define COORD_HOST_SILENT_S 30

enum conn_kind { C_FREE, C_PENDING, C_RANK, C_TOOL };

struct conn {
    int kind;
    int fd;
    int rank;               /* C_RANK */
    struct snapc_reader rd;
    int64_t t_accept;
    char peer[96];          /* "ip:port" or "tool pid N" */
    struct sockaddr_storage addr; /* C_PENDING, C_RANK: the peer's address (coord_lost.c asks
                                     its host after the connection ended) */
    socklen_t addrlen;
    int64_t gone_held;      /* fault point snapc-gone-hold: its end read and held since (ms) */
    int ended_there;        /* C_RANK: its end was read (EOF or a reset): its peer's kernel sent
                             * it; 0 when this side closes it (a failed send, a protocol error) */
    /* C_RANK */
    char host[64];
    char flavor[16];
    uint32_t pid;
    int64_t restarted_seq;
    char *info;             /* INFO text */
    /* C_TOOL */
    uint32_t foreign_uid;   /* uid + 1 of a peer that is not the job's user: refused */
    uint32_t tool_flags;
    int asked;              /* sent a CKPT request */
    int done_deferred;      /* --term: DONE waits for the job's end; --stop: until it is stopped */
    int stop_ack;           /* C_RANK: said CONTINUED since the last RESUME(STOP) */
    int32_t done_status;
    char done_text[512];
    uint64_t done_seq;
    /* C_TOOL: --wait on a job still starting (coord_startwait.c), ms; 0 not waiting */
    int64_t start_wait_until, start_wait_say;
    uint32_t start_wait_s;
    int start_none_said;    /* told that no rank has connected START_NONE_S after the start */
    uint32_t req_timeout_s; /* the request's --timeout (0: none given) */
};

struct coord_state {
    const struct snapc_coord_cfg *cfg;
    struct snapc_proto p;
    uint32_t send_epoch;     /* the epoch frames to ranks carry while an action runs (0: p's) */
    struct filem_meta files_meta; /* the epoch's --save-files entries (coord_files.c), put into
                                   * snapshot.meta at the commit */
    struct conn *c;
    int nc;
    int *rank_conn;          /* rank -> conn index, -1 */
    int nrank_conn;
    /* rank -> what its connection said, kept once it closed (a node lost after its images
     * were copied: the metadata still names the rank's host and pid, review9 F7) */
    struct rank_last {
        char host[64];
        uint32_t pid;
        char *info;
        /* 1: its node taken as lost, on evidence about its host (coord_lost.c): its host went
         * silent while the connection was open (coord_silent.c, keepalive), or did not answer
         * when asked at the commit (coord_lost_settle); 0: it ended with its node up (its host
         * answered, or it is the coordinator's own). Not which host's end was read first: that
         * called a live host lost when the launcher ended its ranks (diffrev32 R-M1 residual,
         * stagelost-ompi part c in CI). Also 1 for a rank still connected at the commit whose
         * host did not answer then (cut off: no FIN), asked when other ranks had ended */
        int lost;
        int verdict;        /* LOST_ASK (not asked yet), LOST_UP, LOST_SILENT */
        int heard;          /* LOST_UP on its host's own answer (not for want of evidence) */
        int fd;             /* the ended connection, kept to ask its host on it; -1 none */
        int ended_there;    /* its connection's end came from its host (conn.ended_there): while
                             * the host was asked, an answer; one this side closed is none */
        struct sockaddr_storage addr; /* where the rank was: asked with a connect when no */
        socklen_t addrlen;            /* connection is left to ask on (it was reset) */
        char answer[160];   /* what its host answered (for the log and a failure's reason) */
    } *rank_last;
    int sfd, ufd, tfd;       /* signalfd, unix listener, tcp listener */
    sigset_t launch_mask;    /* the signal mask before the coordinator blocked its signals: the
                                launcher's, and the coordinator's fetch's launchers' */
    char sock_path[PATH_MAX];
    char coord_addr[128];
    char secret[SNAPC_SECRET_HEX + 1];
    pid_t child;
    int child_status;        /* wait status once reaped */
    int child_done;
    int64_t child_done_ms;
    int64_t term_signal_at;  /* --term: SIGTERM the launcher then if it still runs (ms), 0 none */
    int64_t term_kill_at;    /* SIGKILL the launcher then (ms), 0 none */
    int64_t next_tick;       /* interval timer (ms), 0 none */
    char base[PATH_MAX];     /* base snapshot directory */
    char jobdir[PATH_MAX];
    int jobdir_ok;
    int alive_fd;            /* flock on JOBDIR/.alive while the job runs (local_retain.h) */
    char seqdir[PATH_MAX];   /* of the current epoch */
    int64_t wall_start;      /* wall ms of the epoch's start */
    int64_t mono_start;
    /* Fault points fire from epoch REVIVE_FAULT_EPOCH on (default 1): a test can take good
     * snapshots first, then see a failure leave them intact. */
    uint32_t fault_epoch;
    /* restart mode */
    int restart_lock;        /* shared lock on the sequence restarted from */
    int recovered;           /* every rank said HELLO after the restart */
    int64_t parent_seq;
    char parent_jobdir[PATH_MAX];
    char restart_dir[PATH_MAX + 32]; /* the ranks' restore progress (coord_restart.c), "" none */
    int restart_ranks;       /* of the snapshot restarted from */
    int term_pending;        /* an epoch with --term committed: the job is ending */
    int stopped;             /* an epoch with --stop committed, the job not continued since */
    int stop_end_signal;     /* the first signal that ends a job (SIGTERM...) given to the job
                                while stopped: the exit status is never 0 (coord_launch.c) */
    int end_signal;          /* the first signal that ends a job that reached it while the
                                launcher ran (passed on or sent to its group): a launcher's 0
                                then counts only if every rank reached MPI_Finalize */
    int64_t end_signal_ms;   /* when end_signal came */
    int end_before_back;     /* ... to a restart before every rank was back (coord_launch.c) */
    int end_escalated;       /* 1 SIGTERM, 2 SIGKILL sent to its launcher since */
    int end_before_up;       /* end_signal came to a launch before every rank said HELLO;
                                cleared by a later ending signal with every rank up */
    int64_t end_redeliver_at; /* when to look whether the launcher acted on it (0: done) */
    int launcher_own_group;  /* the launcher leads a process group of its own (nohup'd Open
                                MPI job: coord_spawn); every signal is then passed on to it */
    int failed_stage_set;    /* the last sequence whose staging failed, and its epoch: an */
    uint64_t failed_stage_seq; /* image a rank copied there after the failure is removed */
    uint32_t failed_stage_epoch; /* (coord_rank.c) */
    int stop_wait;           /* --stop: the tools' answer waits until the job is stopped */
    int64_t stop_since;
    int launcher_stopped;    /* the coordinator sent SIGSTOP to the launcher */
    int cont_wanted;         /* the job was continued: SIGCONT to what is stopped, until every
                                rank said CONTINUED (coord_stop.c) */
    int64_t cont_since;
    int commit_held;         /* fault point snapc-commit-hold: the commit waits, events do not */
    int64_t commit_held_since;
};

extern struct coord_state coord;

/* coord_conn.c */
int coord_conn_new(int fd, int kind);
void coord_conn_close(int i);
/* The same, the rank's GONE saying WHY (its host silent: coord_silent.c). */
void coord_conn_close_why(int i, const char *why);
/* Whether the comma-separated LIST holds ITEM whole ("h1" is not in "h10"). */
int coord_list_has(const char *list, const char *item);
/* A rank's connection closes while the sequence stages (coord_silent.c, newuser9 F3): the hosts
 * of the other ranks not staged yet are asked at once (TCP keepalive probes, 2.5 s at most);
 * the ranks of a host that does not answer are closed first, their GONE naming the host, so
 * that a staging failure names the lost host, not a rank its launcher ended on a live one. */
void coord_silent_check(int closing);
/* coord_tcp.c: what this host's kernel knows of a rank's host from the rank's TCP connection,
 * the rule coord_silent.c and coord_lost.c share (diffrev33 R-L2). _seen: FD's TCP_INFO (state
 * TCP_*, keepalive probes unanswered, retransmissions backed off, ms since the last ACK came
 * in), 0 or -1 (not readable: errno); _silent: two probes or retransmissions unanswered (nobody
 * answers there); _acked_since: an ACK came in since the asking began ELAPSED ms ago, the last
 * one BEFORE ms old then (-1 unknown: no); _ask: 1 s keepalive idle time and interval on FD (a
 * probe soon on an idle connection; coord_conn_keepalive puts the usual timing back). */
struct coord_tcp_seen {
    int state, probes, backoff;
    int64_t ack_age;
};
int coord_tcp_seen(int fd, struct coord_tcp_seen *t);
int coord_tcp_silent(const struct coord_tcp_seen *t);
int coord_tcp_acked_since(const struct coord_tcp_seen *t, int64_t before, int64_t elapsed);
void coord_tcp_ask(int fd);
/* coord_lost.c: which ended ranks' hosts are lost, on evidence, whatever order their ends were
 * read in (diffrev32 R-M1 residual). */
enum { LOST_ASK, LOST_UP, LOST_SILENT };
/* Rank R's connection (FD, the peer's address ADDR) ended, WHY its host's silence (NULL: it
 * ended otherwise): what is known of its host is kept in coord.rank_last[R]. Takes FD (and
 * returns 1) when its host is to be asked on it later (the rank's end closed it, its host not
 * the coordinator's); else returns 0 and the caller closes FD. */
int coord_lost_keep(int r, int fd, const struct sockaddr_storage *addr, socklen_t addrlen,
                    const char *host, const char *why);
/* Asks the hosts of the ranks whose connection ended and whose host was not heard of since
 * (each host's kernel on the rank's own kept connection: 1 s keepalive probes, an ACK after the
 * asking began = up, two unanswered or the kernel's own give-up = lost; a connection reset at
 * its end is asked with a connect to the rank's address: refused or accepted = up), 3 s at
 * most, all at once, and sets coord.rank_last[r].lost. When ranks ended, the hosts of the
 * ranks still connected are asked too, on their connections (a host cut off sends no FIN): only
 * two unanswered probes make one lost. One verdict per host: a host that answered on one rank's
 * connection is up for all its ranks. Once an ended rank's host was heard of, it is not asked
 * again. The asking runs in the loop (diffrev33 R-L3): returns 0 when the verdicts are in (the
 * caller goes on), 1 when the asking goes on in the loop, and then WHAT (LOST_FOR_COMMIT:
 * coord_commit, LOST_FOR_FAIL: coord_fail_naming_lost_resume) is called again once it ended,
 * when its epoch still commits (stages); that call gets 0. Called by the commit (its metadata
 * names the lost hosts) and a self-stage or fetch failure's reason. */
enum { LOST_FOR_COMMIT = 1, LOST_FOR_FAIL = 2 };
int coord_lost_settle(int what);
/* 1 while an asking runs (the loop wakes every 10 ms and does not end); _tick looks at the
 * hosts asked once, without waiting, and goes on with the callers once every one has a verdict. */
int coord_lost_asking(void);
void coord_lost_tick(void);
/* A rank said HELLO again at R: what was kept of its earlier connection goes. */
void coord_lost_forget(int r);
/* Fault point snapc-gone-hold (coord_conn.c): rank connections whose end was read are held
 * (and no signal is read) until the file REVIVE_GONE_HOLD exists (10 min at most), then closed
 * lowest rank first in one turn of the loop. coord_gone_held: how many are held. */
void coord_gone_hold_tick(int64_t now);
int coord_gone_held(void);
/* Restores a rank connection's keepalive timing (the one set at accept, coord_conn.c). */
void coord_conn_keepalive(int fd);
int coord_conn_send(int i, uint16_t type, const void *p, uint32_t len, const void *tail,
                    uint32_t tlen);
void coord_send_ranks(int rank, uint16_t type, const void *p, uint32_t len, const void *tail,
                      uint32_t tlen);
int coord_live_rank_conns(void);
void coord_conn_readable(int i);
int coord_accept_tcp(void); /* 0: a connection accepted, -1: none waiting */
int coord_accept_unix(void); /* the new connection's index, or -1 */

/* coord_loop.c: the poll loop, until the job has ended and nothing is left to finish (or the
 * loop failed: poll, memory) */
void coord_loop(void);
/* coord_end.c: after the loop, the job's end made clean; returns the coordinator's status (or
 * raises the launcher's signal again: coord_end_like_launcher) */
int coord_finish(void);

/* coord_listen.c */
int coord_listen_unix(char *err, size_t errlen);
int coord_listen_tcp(char *err, size_t errlen);
/* coord_iface.c: snapc_reach_addr (snapc/iface.h) */

/* coord_launchwait.c: a restart's launch that never completes (an unreachable host) */
void coord_launch_wait_start(void);
int64_t coord_launch_wait_deadline(void); /* ms, 0 none */
void coord_launch_wait_tick(int64_t now);
/* ranks whose restore failed so far (failed.<r>), the first one's message in msg */
int coord_restart_failed(char *msg, size_t len);
/* ranks that refused the restart because of something outside the snapshot (refused.<r>: a file
 * the job had open changed or gone), the first one's message in msg */
int coord_restart_refused(char *msg, size_t len);
int coord_launch_timed_out(void);
/* The coordinator ended the restarted launcher itself (a rank not started, or one whose restore
 * failed): the job's status is then 1, not the signal the launcher died of. */
int coord_launch_ended_by_revive(void);

/* coord_startwait.c: ckpt-mpirun --wait on a job still starting, bounded (--timeout, default
 * 300 s), with progress and, on giving up, the ranks and hosts that never connected */
void coord_start_wait_begin(int i, uint32_t timeout_s);
int64_t coord_start_wait_deadline(void); /* ms, 0 none */
void coord_start_wait_tick(int64_t now);
/* The launcher was started now (the job's start, for coord_start_refuse). */
void coord_start_mark(void);
/* Refuses tool request I (status, text from the protocol). A job still starting for longer
 * than the request's --timeout (none given: the checkpoint's default, 120 s) gets, instead of "try again in a moment",
 * the ranks not connected and the hosts where none did. */
void coord_start_refuse(int i, int status, const char *text);
/* When no rank has ever connected (no rank is under Revive), what the job's end tells a request
 * that waited: the launcher ended without starting any rank (no revive-exec said STARTED:
 * newuser9 F1), or its ranks never reached Revive's MPI_Init (newuser7f F6); NULL when some rank
 * connected. */
const char *coord_start_none_at_end(void);
/* A pending connection's first frame is SNAPC_MSG_STARTED (a rank's revive-exec): counted when it
 * holds the job's secret; the connection is closed. */
void coord_start_started(int i);
/* The --ckpt-interval timer fired: says once on the job's stderr when no rank has connected. */
void coord_start_timer_none(void);

/* coord_rank.c */
void coord_rank_hello(int i);
void coord_rank_frame(int i);

/* coord_tool.c (coord_stdin_note: a rank's INFO said it had standard input unread at its
 * capture, stdin_unread: kept for the epoch's summary) */
void coord_stdin_note(int rank, const char *info);
/* the same for its writable shared file mappings whose pages its image left to their files
 * (shared_file.K lines: ckpt-mpirun's warnings) */
void coord_shared_note(int rank, const char *info);
/* after a commit no tool asked for (timer, MPIX_Checkpoint): those mappings on the job's stderr,
 * once a job */
void coord_shared_warn_once(uint64_t seq, uint32_t epoch);
/* a rank's INFO said its image went straight into the snapshot directory, its node's cache full
 * ("local_full 1"): kept for the epoch's summary ("local_full": the ranks) */
void coord_local_full_note(int rank, const char *info);
/* after a commit no tool asked for: those ranks on the job's stderr, once a job */
void coord_local_full_warn_once(uint64_t seq, uint32_t epoch);
void coord_send_done(int client, int status, const char *text, int epoch_summary);
void coord_act_done(const struct snapc_action *a);
void coord_act_progress(const struct snapc_action *a);
void coord_tool_withdraw(int i);
/* LINE to every tool waiting for EPOCH, --status or not (coord_waitnote.c) */
void coord_tool_note(uint32_t epoch, const char *line);
void coord_tool_frame(int i);
void coord_refuse_foreign(int i);
void coord_flush_deferred(void);
void coord_tools_job_ended(void);

/* coord_epoch.c */
int coord_fault(enum revive_fault_point p);
int64_t coord_now_ms(void);
void coord_feed(struct snapc_event *ev);
void coord_local_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void coord_run_actions(void);
/* SNAPC_ACT_HELD (coord_epoch.c): every image durable, every rank held; feeds SNAPC_EV_HELD_DONE */
void coord_epoch_held(const struct snapc_action *a);
void coord_update_next_seq(void);

/* coord_commit.c */
void coord_commit(void);
/* snapc-commit-hold: the held commit goes on once its file exists (each turn of the loop) */
void coord_commit_hold_tick(int64_t now);
/* Node-local first: staging of seq failed; the sequence stays uncommitted with a marker
 * (FILEM_STAGE_FAILED_NAME, the reason) that ckpt-info shows. */
void coord_stage_failed(uint32_t epoch, uint64_t seq, int status, const char *why);
/* coord_failrep.c: the same checkpoint failure at every interval said once (newuser49 L4).
 * coord_fail_repeats: 1 when sequence SEQ failed as the one before (STATUS, and TEXT but for its
 * numbers): the caller says it at info, with coord_fail_repeat_note; 0: said whole. An epoch's
 * failure told twice (its ABORT and its STAGE_FAILED) is one. */
int coord_fail_repeats(uint32_t epoch, uint64_t seq, int status, const char *text);
const char *coord_fail_repeat_note(char *buf, size_t len);
void coord_fail_committed(uint64_t seq); /* a commit: checkpoints commit again, when they failed alike */
void coord_fail_summary(void);           /* the job's end: the failures said once, counted */

/* coord_files.c: --save-files. _check: a request's (or the job's) list, in the job's working
 * directory (0 or -errno, err); coord_save_files: SNAPC_ACT_SAVE_FILES (feeds FILES_SAVED);
 * _verify: the copies re-read before the commit; _meta: their keys into snapshot.meta; _reset:
 * at each epoch's start */
int coord_files_check(const char *list, char *err, size_t errlen);
int coord_files_absolute(const char *list, char *out, size_t len); /* 0, or < 0: too long */
void coord_save_files(void);
int coord_files_verify(char *err, size_t errlen);
void coord_files_meta(struct filem_meta *m);
void coord_files_reset(void);

/* coord_meta.c */
int coord_build_meta(struct filem_meta *m, char *err, size_t errlen);

/* coord_partner.c: partner copies (mpirun --ckpt-partner; src/filem/partner.h) */
void coord_partner_stage(const struct snapc_stage *sg);  /* STAGE to every rank, with where */
void coord_partner_staged(int rank, int status, const char *msg); /* STAGED's partner part */
void coord_partner_meta(struct filem_meta *m);           /* partner.*, rank.<r>.partner.host, and
                                                          * rank.<r>.staged.from of a rank whose
                                                          * shared image came from its partner copy */
int coord_partner_holder(int rank); /* the rank whose node holds rank's verified copy, or -1 */
const char *coord_partner_host(int rank); /* the host that holds it, or NULL */

/* coord_launch.c */
sigset_t coord_forwarded_set(void);
int coord_spawn(char **cmd, const sigset_t *oldmask, char *err, size_t errlen);
/* A job's launch: an ending signal (SIGINT, SIGTERM, SIGQUIT, SIGHUP when in set) already
 * pending ends the coordinator by that signal, nothing launched (its socket removed); if it
 * cannot die of it, returns the signal's number. 0 when none is pending. */
int coord_launch_signal_before_launch(const sigset_t *set);
void coord_on_signal(void);
/* coord_witness.c: whether a signal reached the launcher's process group too (then it is not
 * passed on). Start after the launcher, with SET (the forwarded signals) blocked; _group_signal
 * says 1 when SIG, just read, was sent to the group (asked for every signal read but SIGCHLD:
 * it takes the witness's copy); _reaped(pid, status) is 1 for the witness (ended; or only
 * continued, then it is kept); _stop before the coordinator ends. Without a witness: 0.
 * _job_stopped(pids, n) before --stop stops the job (pids[0] the launcher, then this host's
 * ranks): should the coordinator die while the job is stopped, the witness continues them so
 * that they end; _job_runs once it runs again. _jobdir(dir) once the job's snapshot directory
 * is made: should the coordinator die (kill -9), the witness removes what it would have at its
 * end there (.alive, .staging.reserve; the directory if then empty). */
void coord_witness_start(const sigset_t *set);
int coord_witness_group_signal(int sig);
int coord_witness_reaped(pid_t p, int st);
pid_t coord_witness_pid(void); /* -1 when none */
void coord_witness_job_stopped(const pid_t *pids, int n);
void coord_witness_job_runs(void);
void coord_witness_jobdir(const char *jobdir);
void coord_witness_stop(void);
void coord_kill_strays(void);
int coord_exit_status(void);
/* 1 when a restart (--restart-of) was ended by a signal to restart-mpi or its process group
 * before every rank reached MPI_Finalize: status 128 + that signal, never recorded as failed */
int coord_restart_interrupted(void);
/* coord_restart.c: SIGINT, SIGTERM, SIGHUP or SIGQUIT of SET pending before the launch (sent to
 * restart-mpi after its last look, kept blocked through its exec): said, taken, returned; else 0 */
int coord_restart_signal_before_launch(const sigset_t *set);
void coord_end_like_launcher(void);
void coord_term_tick(int64_t now);
/* coord_launch.c: a restart interrupted before every rank was back ends within a bound; its
 * orphans (the coordinator is their subreaper) go with it */
void coord_restart_end_tick(int64_t now);
int64_t coord_restart_end_deadline(void);
void coord_restart_kill_orphans(void);
/* the signal that interrupted the restart, to this host's ranks once every one is back */
void coord_restart_redeliver(void);
/* A launch whose ending signal came before every rank said HELLO: given to the launcher again
 * when, COORD_REDELIVER_MS after it, every rank is connected (the launcher dropped it). */
#define COORD_REDELIVER_MS 5000
int64_t coord_launch_redeliver_deadline(void);
void coord_launch_redeliver_tick(int64_t now);
/* coord_stop.c: ckpt-mpirun --stop, and the job continued again */
int coord_job_stopped(void);
void coord_stop_begin(void);          /* RESUME(STOP) sent */
int coord_stop_defer(void);           /* 1: a tool's answer waits until the job is stopped */
void coord_job_continued(const char *how);
/* How many ranks of this host are stopped (state T) though the job is not (kill -STOP of a
 * rank); WHY then says which and how to continue them. */
int coord_ranks_stopped(char *why, size_t len);
void coord_rank_continued(int rank);  /* its CONTINUED */
/* The pid of rank's process when it runs on this host (its /proc is this one's), else 0. */
pid_t coord_rank_local_pid(int rank);
/* coord_waitnote.c: while an epoch waits on some ranks, every 30 s from 40 s on (from 10 s when
 * one's process is stopped), a line naming them, their step, and a stopped process with what
 * continues it (newuser49 L1) */
void coord_wait_note_tick(int64_t now);
int64_t coord_wait_note_deadline(void); /* ms, -1 none */
void coord_wait_note_committed(void);   /* a commit: a stopped rank is warned of again */
void coord_stop_tick(int64_t now);
int64_t coord_stop_wake(int64_t now); /* ms, 0 none */

/* coord_cache.c: this host's node-local cache: what jobs ended during a checkpoint left there
 * (partial images of gone writers, uncommitted sequences) goes, at the start (jobs that do not
 * run) and at the end (this job's own, after its ranks) */
void coord_cache_sweep_start(void);
/* This host's cache directory (--ckpt-local's, else the default one): 0 or -errno. */
int coord_cache_dir(char *out, size_t len);
/* SNAPC_ACT_STAGE_SELF (coord_selfstage.c): stages rank R's image from this host's cache
 * (its own node's copy, else its partner copy), verified against the checksum it reported,
 * then snapc_proto_self_staged, or LOCAL_FAIL naming what was tried. */
void coord_self_stage(int r, const char *why);
/* The copy runs in a thread: the pipe its outcome comes on while one runs (polled by the
 * loop), else -1; coord_self_stage_ready reads the outcomes and tells the protocol; busy: how
 * many copies run (the loop does not end before they do). */
int coord_self_stage_fd(void);
void coord_self_stage_ready(void);
int coord_self_stage_busy(void);
/* "the copy in h1's cache (PATH)" for a rank the coordinator staged this epoch, else NULL
 * (snapshot.meta's rank.<r>.staged.from); _note records it. */
const char *coord_self_staged_from(int r);
void coord_self_stage_note(int r, const char *text);
/* rank.<r>.staged.from of every rank the coordinator staged this epoch (with partner copies or
 * without; the partner file adds the ranks staged from a partner copy) */
void coord_self_stage_meta(struct filem_meta *m);
/* How many of the coordinator's own copies run (their threads); coord_self_stage_busy counts
 * the fetch below too. */
int coord_self_stage_copying(void);
/* The lost hosts first, for a failure's reason (newuser9b N6: "rank 2 ended" named a rank on a
 * live host): "host h3 (rank 3) was lost; Open MPI's mpirun then ended the ranks on h1,h2", from
 * rank_last after coord_lost_settle (coord_lost.c's rule for "lost"); "" when no host was
 * taken as lost. */
void coord_lost_hosts_text(char *out, size_t len);
/* Fails the staging sequence (coord_local_fail with STATUS) with the reason FMT..., the lost
 * hosts named first (coord_lost_hosts_text) once their hosts were asked (coord_lost_settle: in
 * the loop, the failure then waits; one failure per epoch waits, later ones add nothing).
 * _resume: the asking ended (coord_lost.c), the waiting failure goes out if its sequence still
 * stages. */
void coord_fail_naming_lost(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void coord_fail_naming_lost_resume(void);

/* coord_fetch.c: images this host's cache lacks fetched from the other hosts' caches while a
 * sequence stages (cfg->fetch_images, in a forked child; newuser9b N6). _add queues rank R
 * (WHY: why the coordinator stages it, TRIED: what this host's cache lacked): 0, or -1 when no
 * fetch can help (no fetch given, no node-local caches, no other host named for its copies);
 * _kick starts one fetch of every queued rank once no own copy runs (BUSY: how many do);
 * _fd its pipe while it runs (-1 none), _ready reads it (at its end: each rank staged, or the
 * sequence fails naming the lost hosts and what each host answered); _reaped(pid, status) is 1
 * for its child; _tick ends it (SIGTERM) when the epoch ended or the job is ending; _busy: one
 * runs or is queued. */
int coord_fetch_add(int r, const char *why, const char *tried);
void coord_fetch_kick(int busy);
int coord_fetch_fd(void);
void coord_fetch_ready(void);
int coord_fetch_reaped(pid_t p, int st);
void coord_fetch_tick(void);
int coord_fetch_busy(void);
void coord_cache_sweep_end(void);
/* The staging of sequence SEQ failed (coord_stage_failed): this host's cached copy of it goes
 * now, whole (also the images of this host's ranks that ended during the checkpoint, which no
 * agent drops); the live ranks' agents drop theirs everywhere (agent_cache_drop_failed). */
void coord_cache_drop_failed(uint64_t seq);

/* coord_restart.c */
int coord_restart_setup(void);
void coord_restart_hello(void);
void coord_restart_job_ended(void);
void coord_restart_cleanup(void);
/* How many ranks of the restart started (a begun.<r> file, or HELLO); the ranks that did not,
 * as "2,3", into which (may be NULL). */
int coord_restart_begun(char *which, size_t len);

#endif
