/*
 * The snapshot-coordination wire: framing shared by the job's coordinator
 * (revive-coord), the rank agents (agent.c, inside each MPI rank) and the
 * tools (ckpt-mpirun, ckpt-info) that talk to a coordinator.
 *
 * A frame is a 16-byte header followed by `len` bytes of payload:
 *
 *     u32 magic "RVSC" (bytes 'R','V','S','C')   u16 version (1)   u16 type
 *     u32 payload length (<= SNAPC_WIRE_MAX_PAYLOAD)                u32 epoch
 *
 * Payloads are the fixed-layout structs below, little-endian, x86_64 only
 * (every struct's size is checked at compile time; no padding holes), some
 * followed by a variable tail (text or an array) whose length the frame's
 * length gives. Every read is bounded and length-checked: a frame with a bad
 * magic, version, type or length, or a payload whose size does not match its
 * type, drops the connection (the caller logs one message naming the peer).
 * Strings inside fixed fields are NUL-terminated by the receiver
 * (snapc_wire_str) before use.
 *
 * Rank agents talk to the coordinator over TCP and prove they belong to the
 * job with the per-job secret in HELLO (compared in constant time). Tools use
 * the coordinator's Unix socket (0600, in a 0700 directory, peer uid checked),
 * message types >= 100.
 */
#ifndef REVIVE_SNAPC_WIRE_H
#define REVIVE_SNAPC_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define SNAPC_WIRE_MAGIC 0x43535652u /* "RVSC" read as a little-endian u32 */
#define SNAPC_WIRE_VERSION 1
#define SNAPC_WIRE_HDR_SIZE 16
#define SNAPC_WIRE_MAX_PAYLOAD (16u << 20)
#define SNAPC_SECRET_HEX 64 /* the per-job secret: 32 random bytes as hex */
#define SNAPC_MAX_COMMS (1u << 19) /* entries of a SEQS/TARGETS table (fits the payload) */
/* A message (a rank's failure, a staging failure, what a tool is told) is carried whole up to
 * this many bytes: paths and the advice after them; a longer one is cut with a visible "..."
 * (snapc_wire_text). 512 bytes (before) cut a failure naming a long directory before its
 * advice. */
#define SNAPC_TEXT_MAX 4096

/* Environment given to every rank (and to a restarted rank through the hand-off). */
#define SNAPC_ENV_COORD "REVIVE_COORD"           /* "ip:port" of the coordinator */
#define SNAPC_ENV_SECRET "REVIVE_JOB_SECRET"     /* 64 hex digits */
#define SNAPC_ENV_JOB_ID "REVIVE_JOB_ID"         /* the coordinator's pid */
/* revive-restart-rank to the restored rank's agent (its hand-off): the copy of the rank's
 * image its --preload made in this node's cache, which the agent removes at a normal end */
#define SNAPC_ENV_PRELOADED "REVIVE_RESTART_PRELOADED"
/* restart mode: the directory where revive-restart-rank leaves begun.<r> / failed.<r>
 * (src/snapc/coord_restart.c says why) */
#define SNAPC_ENV_RESTART_DIR "REVIVE_RESTART_DIR"

struct snapc_hdr {
    uint32_t magic;
    uint16_t version;
    uint16_t type;
    uint32_t len;
    uint32_t epoch;
};

enum snapc_msg_type {
    /* rank agent -> coordinator unless noted */
    SNAPC_MSG_HELLO = 1,    /* struct snapc_hello; first frame of a connection */
    SNAPC_MSG_WELCOME = 2,  /* coord -> rank: struct snapc_welcome */
    SNAPC_MSG_REFUSED = 3,  /* coord -> rank: text (why), then the connection closes */
    SNAPC_MSG_INFO = 4,     /* text: "key value\n" lines about the rank for snapshot.meta */
    SNAPC_MSG_CKPT = 5,     /* coord -> rank: struct snapc_ckpt + the sequence directory (text) */
    SNAPC_MSG_SEQS = 6,     /* struct snapc_table + n struct snapc_seq */
    SNAPC_MSG_TARGETS = 7,  /* coord -> rank: struct snapc_table (version) + n struct snapc_seq */
    SNAPC_MSG_RAISE = 8,    /* struct snapc_raise */
    SNAPC_MSG_STATE = 9,    /* struct snapc_state_msg (also outside epochs: finalizing) */
    SNAPC_MSG_QUIESCE = 10, /* coord -> rank: struct snapc_quiesce */
    SNAPC_MSG_QUIESCED = 11,/* no payload: the gate is closed, the agent owns the lower half */
    SNAPC_MSG_DRAINED = 12, /* struct snapc_drained */
    SNAPC_MSG_CAPTURED = 13,/* struct snapc_captured */
    SNAPC_MSG_FAILED = 14,  /* struct snapc_failed + the whole message (text, optional) */
    SNAPC_MSG_RESUME = 15,  /* coord -> rank: struct snapc_resume */
    SNAPC_MSG_ABORT = 16,   /* coord -> rank: text (the reason) */
    SNAPC_MSG_REQUEST = 17, /* struct snapc_request (MPIX_Checkpoint / _request) */
    SNAPC_MSG_STAGE = 18,   /* coord -> rank: struct snapc_stage: copy the node-local image to
                             * the sequence directory, verify it (issue 9, src/filem/stage.h) */
    SNAPC_MSG_STAGED = 19,  /* struct snapc_staged + text (why, on failure) */
    SNAPC_MSG_PARTNERED = 20, /* struct snapc_partnered + text: this rank's partner copy, sent
                               * before its own staging (a node lost while it stages leaves a
                               * verified copy the coordinator can have staged instead) */
    SNAPC_MSG_STAGE_FOR = 21, /* coord -> rank: struct snapc_stage_for: stage the partner copy
                               * of a lost rank's image from this node's cache, verify it */
    SNAPC_MSG_CONTINUED = 23, /* no payload: after a RESUME(STOP), this rank runs again (it was
                                 continued; coord_stop.c) */
    SNAPC_MSG_STAGED_FOR = 22,/* struct snapc_staged_for + text (why, on failure) */
    SNAPC_MSG_STARTED = 24, /* revive-exec, as a rank's process starts (before its program):
                             * the job's secret (SNAPC_SECRET_HEX bytes, no NUL), alone on its
                             * connection, which then closes. A job that ended with no rank
                             * connected tells by it whether its launcher started any rank
                             * (coord_startwait.c; newuser9 F1) */

    /* tool <-> coordinator (Unix socket) */
    SNAPC_TOOL_CKPT = 100,     /* tool -> coord: struct snapc_tool_ckpt [+ text: --save-files
                                * PATH[,PATH...], sent only when given] */
    SNAPC_TOOL_QUERY = 101,    /* tool -> coord: no payload; reply SNAPC_TOOL_INFO */
    SNAPC_TOOL_PROGRESS = 102, /* coord -> tool: one text line (a phase reached) */
    SNAPC_TOOL_DONE = 103,     /* coord -> tool: struct snapc_tool_done + reference + JSON */
    SNAPC_TOOL_INFO = 104,     /* coord -> tool: JSON text describing the job */
    SNAPC_TOOL_WITHDRAW = 105, /* tool -> coord, after its CKPT: no payload; the user interrupted
                                * ckpt-mpirun: a request still queued is withdrawn, one whose
                                * epoch has begun stays; reply SNAPC_TOOL_WITHDRAWN */
    SNAPC_TOOL_WITHDRAWN = 106,/* coord -> tool: JSON text saying which happened (coord_tool.c
                                * coord_tool_withdraw); the connection then closes */
};

/* ---- payloads ---- */

#define SNAPC_HELLO_RESTARTED 1u /* flags: this rank was restarted from restarted_seq */

struct snapc_hello {
    char secret[SNAPC_SECRET_HEX]; /* not NUL-terminated */
    uint32_t world_rank, world_size;
    uint32_t pid, flags;
    int64_t restarted_seq;         /* -1 unless SNAPC_HELLO_RESTARTED */
    char host[64];
    char flavor[16];               /* "ompi", "mpich", "fake" */
};

struct snapc_welcome {
    uint64_t job_id;               /* the coordinator's pid */
    uint32_t world_size, reserved;
};

#define SNAPC_CKPT_STOP 1u /* the epoch ends with RESUME(stop) */
#define SNAPC_CKPT_TERM 2u /* the epoch ends with RESUME(term) */
#define SNAPC_CKPT_LOCAL 4u /* node-local first: the text is SEQDIR NUL LOCALDIR; the image goes
                             * to LOCALDIR's copy of the sequence, then STAGE copies it; an empty
                             * LOCALDIR: each node's default cache (filem_local_default) */
#define SNAPC_CKPT_PARTNER 8u /* with LOCAL (mpirun --ckpt-partner): each rank listens for the
                               * partner copies of another node's images (src/filem/partner.h)
                               * and says where in its INFO; STAGE names where its own goes */
#define SNAPC_CKPT_NOWAIT_MPIX 16u /* with LOCAL (mpirun --ckpt-no-wait-stage): MPIX_Checkpoint
                                  * returns at "recovered", before the commit; a failed staging
                                  * is reported by the next MPIX_Checkpoint (else MPIX_Checkpoint
                                  * waits for the commit) */
#define SNAPC_CKPT_SAVE_SHARED 32u /* the ranks' writable shared file mappings' pages go into the
                                    * images, written back into the files at restart
                                    * (ckpt-mpirun --save-shared, mpirun --ckpt-save-shared) */
#define SNAPC_CKPT_HOLD 64u /* each rank's application threads stay parked where its capture
                             * parked them (not only at its gate into MPI) until the RESUME or
                             * ABORT of the epoch (snapc_proto_holds: --term, --stop) */

struct snapc_ckpt {               /* + the sequence directory, text, no NUL needed */
    uint64_t seq;
    uint32_t flags, timeout_ms;
};

struct snapc_table {               /* + n struct snapc_seq (wire layout of agent.h's) */
    uint32_t version, n;           /* version: 0 in SEQS, >= 1 in TARGETS */
};

struct snapc_wire_seq {
    uint64_t cid, seq;
};

struct snapc_raise {
    uint64_t cid, target;          /* the rank must pass `cid` up to seq `target` */
};

struct snapc_state_msg {
    uint32_t version_seen, at_target, in_cs, finalizing;
    char what[160];
};

struct snapc_quiesce {
    uint32_t timeout_ms, reserved;
};

struct snapc_drained {
    uint64_t sent, received, expected, drained_msgs, drained_bytes, pending_recvs, nbc_completed;
};

struct snapc_captured {
    uint64_t bytes, checksum;
};

struct snapc_failed {               /* + text: the whole message (up to SNAPC_TEXT_MAX); an
                                    * agent of before sends none, msg is all there is then */
    int32_t err;                   /* errno */
    uint32_t phase;                /* enum snapc_phase the rank failed in */
    char msg[512];                 /* its start ("..." at the end when cut) */
};

struct snapc_resume {
    uint32_t action;               /* SNAPC_RESUME_* (agent.h) */
    uint32_t committed;            /* 1: the epoch's snapshot is committed */
    uint64_t seq;
};

struct snapc_stage {               /* + text: "ip:port" of the receiver of this rank's
                                    * partner copy, or nothing (no partner copies) */
    uint64_t bw;                   /* bytes per second at most per rank, 0: no limit */
};

struct snapc_staged {              /* + text: the reason when status < 0 or partner < 0 */
    int32_t status;                /* 0 or -errno */
    int32_t partner;               /* the partner copy: 0 none asked, 1 verified, -errno */
    uint64_t bytes, copy_ns, verify_ns;
};

struct snapc_partnered {           /* + text: the reason when status < 0 */
    int32_t status;                /* 1 verified by the receiver, -errno */
    uint32_t reserved;
};

struct snapc_stage_for {
    uint32_t rank;                 /* the lost rank whose partner copy this node's cache holds */
    uint32_t reserved;
    uint64_t checksum;             /* its image file's checksum (crs_image_file_sum), as it reported */
    uint64_t bw;                   /* as in snapc_stage */
};

struct snapc_staged_for {          /* + text: the reason when status < 0 */
    int32_t status;                /* 0 or -errno */
    uint32_t rank;                 /* the rank whose image was staged */
    uint64_t bytes, copy_ns, verify_ns;
};

struct snapc_request {
    uint32_t collective;           /* 1: MPIX_Checkpoint (every rank asks), 0: _request */
    uint32_t reserved;
    uint64_t world_seq;            /* the rank's seq on MPI_COMM_WORLD when it asked */
};

#define SNAPC_TOOL_TERM 1u    /* end the job after the commit */
#define SNAPC_TOOL_STOP 2u    /* SIGSTOP the ranks after the commit */
#define SNAPC_TOOL_WAIT 4u    /* queue behind a running epoch instead of being refused */
#define SNAPC_TOOL_STATUS 8u  /* send a PROGRESS line for every phase */
#define SNAPC_TOOL_NOWAIT_STAGE 16u /* node-local first: DONE at "recovered", before staging */
#define SNAPC_TOOL_SAVE_SHARED 32u  /* SNAPC_CKPT_SAVE_SHARED for this snapshot (--save-shared) */

/* bytes of an request's or epoch's --save-files list (PATH,PATH...), NUL included: a tool's request is at
 * most COORD_TOOL_MAX_PAYLOAD (4096) bytes */
#define SNAPC_FILES_LIST_MAX 4096

struct snapc_tool_ckpt {
    uint32_t flags;
    uint32_t timeout_s;            /* convergence bound; 0: the coordinator's default (120) */
};

struct snapc_tool_done {           /* + ref_len bytes of reference, then JSON summary text */
    int32_t status;                /* 0 committed; else -errno (the message is in the JSON) */
    uint32_t ref_len;
    uint64_t seq;
};

/* Job-level phases (ckpt-mpirun --status, FAILED.phase, snapshot.meta). */
enum snapc_phase {
    SNAPC_PHASE_NONE = 0,
    SNAPC_PHASE_REQUESTED,   /* CKPT sent */
    SNAPC_PHASE_PENDING,     /* every rank's seqs known, targets sent */
    SNAPC_PHASE_RUNNING,     /* converging (raises) */
    SNAPC_PHASE_QUIESCED,    /* converged; every gate closed */
    SNAPC_PHASE_DRAINED,
    SNAPC_PHASE_CAPTURED,    /* "Locally Finished": every image durable */
    SNAPC_PHASE_ESTABLISHED, /* snapshot.meta committed */
    SNAPC_PHASE_RECOVERED,   /* ranks running again (or stopped / ended as asked) */
    SNAPC_PHASE_NO_CKPT,     /* aborted; earlier snapshots untouched */
    SNAPC_PHASE_COUNT
};

/* "Requested", "Pending", ..., "No Checkpoint" (Open MPI's names). */
const char *snapc_phase_name(int phase);

/* ---- framing ---- */

/* Sends one frame (header + payload + optional tail) on a blocking or
 * non-blocking stream socket, waiting at most timeout_ms in total for room.
 * 0 or -errno (-ETIMEDOUT, -EPIPE, -EMSGSIZE when too long). Never raises SIGPIPE. */
int snapc_wire_send(int fd, uint16_t type, uint32_t epoch, const void *payload, uint32_t len,
                    const void *tail, uint32_t tail_len, int timeout_ms);

/* Incremental reader for one connection (poll loops): feed it when the socket
 * is readable. It owns a buffer that grows up to the frame's length. */
struct snapc_reader {
    struct snapc_hdr hdr;
    uint8_t hbuf[SNAPC_WIRE_HDR_SIZE];
    uint32_t hgot;        /* header bytes read */
    uint32_t pgot;        /* payload bytes read */
    uint8_t *buf;         /* payload (hdr.len bytes) once complete */
    uint32_t cap;
    uint32_t max_len;     /* largest payload accepted on this connection */
    char err[160];        /* why the last call failed */
};

void snapc_reader_init(struct snapc_reader *r, uint32_t max_len);
void snapc_reader_free(struct snapc_reader *r);
/* Reads what is available without blocking (the fd may be blocking: one
 * read(2) per call). 1: a whole frame is in r->hdr/r->buf (call
 * snapc_reader_next before the next read); 0: need more; -errno: end of
 * stream (-ECONNRESET, r->err "connection closed"), or a malformed frame
 * (-EPROTO, r->err says what). */
int snapc_reader_feed(int fd, struct snapc_reader *r);
void snapc_reader_next(struct snapc_reader *r);
/* Waits (poll, at most timeout_ms) for one whole frame. 1, or -ETIMEDOUT/-errno. */
int snapc_reader_wait(int fd, struct snapc_reader *r, int timeout_ms);

/* Checks a whole frame's payload size for its type: the fixed part must be
 * there, tails within bounds (tables: exact size for n). 0 or -EPROTO. */
int snapc_wire_check(const struct snapc_hdr *h, const void *payload, char *err, size_t errlen);

/* Copies a fixed-size string field into dst (size dstlen), stopping at NUL or
 * at the field's size; always NUL-terminates. Returns dst. */
char *snapc_wire_str(char *dst, size_t dstlen, const char *field, size_t fieldlen);
/* The same for a message: one longer than dst ends with "..." (the cut shows). Returns dst. */
char *snapc_wire_text(char *dst, size_t dstlen, const char *field, size_t fieldlen);
/* 1 when messages a and b say the same but for their numbers (sequences, ranks, pids in paths):
 * the same failure again at the next checkpoint, said once (newuser49 L4). */
int snapc_text_same_cause(const char *a, const char *b);

/* ---- connections ---- */

/* Connects a TCP socket to "host:port" ("[v6addr]:port" too), waiting at most
 * timeout_ms; TCP_NODELAY, close-on-exec, blocking. fd, or -errno with a
 * message in err. */
int snapc_tcp_connect(const char *hostport, int timeout_ms, char *err, size_t errlen);

/* ---- the per-job secret ---- */

/* 32 random bytes from getrandom(2), as 64 lower-case hex digits + NUL. 0 or -errno. */
int snapc_secret_new(char out[SNAPC_SECRET_HEX + 1]);
/* 1 if a and b (n bytes each) are equal; the time taken does not depend on where they differ. */
int snapc_secret_equal(const void *a, const void *b, size_t n);
/* 1 if s is exactly 64 hex digits. */
int snapc_secret_valid(const char *s);

#endif
