/* The rank agent's side of node-local first (agent.h, docs/snapshots.md): STAGE copies this
 * epoch's image from the node's cache to the shared sequence directory, with the copy to the
 * partner node beside it; STAGE_FOR stages a lost node's rank from its partner copy here; the
 * partner receiver of an epoch. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include "snapc/agent_int.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fault.h"
#include "common/log.h"
#include "filem/partner.h"
#include "filem/place.h"
#include "filem/stage.h"

/* The partner receiver of the last epoch goes before anything else happens: it never runs
 * while this process is captured, and a copy still coming in is finished first. */
void agent_partner_rx_stop(void)
{
    if (A.prx) {
        filem_partner_rx_stop(A.prx);
        A.prx = NULL;
        A.partner_addr[0] = 0;
    }
}

/* A full file system (or quota) is the user's to fix: say which option moves the snapshots
 * elsewhere (--ckpt-local for the node-local cache, else --ckpt-dir), in place of the image
 * writer's advice for cr_checkpoint (one piece of advice, not two). IMAGE (or NULL): the file
 * that was being written, named with this host before the advice: with a job on many nodes the
 * user must know whose disk is full (newuser9b N2: neither was said). FULL_CACHE (or NULL): the
 * node-local cache that had no room first, IMAGE being the snapshot directory's file it went to
 * instead (agent_cache_full): said whatever the error, since both file systems are involved. */
void agent_full_advice(int e, char *msg, size_t len, int local, const char *image,
                       const char *full_cache)
{
    int full = e == -ENOSPC || e == -EDQUOT;
    if (!full && !full_cache)
        return;
    char *generic = full ? strstr(msg, "; free space") : NULL; /* the image writer's, for cr_checkpoint */
    if (generic)
        *generic = 0;
    size_t n = strlen(msg), at = n < len / 2 ? n : len / 2;   /* the advice fits */
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    int k = 0;
    if (image && full_cache)
        k = snprintf(msg + at, len - at, " (%s on host %s, written there because this node's cache "
                     "%s had no room for it)", image, host[0] ? host : "?", full_cache);
    else if (image)
        k = snprintf(msg + at, len - at, " (%s on host %s)", image, host[0] ? host : "?");
    else if (full_cache)
        k = snprintf(msg + at, len - at, " (this node's cache %s on host %s had no room for it)",
                     full_cache, host[0] ? host : "?");
    if (k > 0)
        at += (size_t)k < len - at ? (size_t)k : len - at - 1;
    if (!full)
        return;
    if (full_cache)
        snprintf(msg + at, len - at, "; free space on either file system, or give another "
                 "--ckpt-dir DIR (REVIVE_SNAPSHOT_DIR) or --ckpt-local DIR (REVIVE_LOCAL_DIR)");
    else
        snprintf(msg + at, len - at, "; free space on its file system or give another %s",
                 local ? "--ckpt-local DIR (REVIVE_LOCAL_DIR)" : "--ckpt-dir DIR (REVIVE_SNAPSHOT_DIR)");
}

/* Fault point filem-stage-hold: wait until the file REVIVE_STAGE_HOLD exists (10 min at most),
 * so that a test kills a host or a rank while this sequence is surely staging. */
static void stage_hold(void)
{
    const char *f = getenv("REVIVE_STAGE_HOLD");
    if (!f || !*f)
        return;
    revive_log_info("rank %d: staging holds until %s exists (fault point filem-stage-hold)",
                    A.world_rank, f);
    for (int i = 0; i < 12000 && access(f, F_OK) != 0; i++) {
        struct timespec d = {0, 50 * 1000 * 1000};
        nanosleep(&d, NULL);
    }
}

/* The copy to the partner node (filem/partner.h), reported at once (PARTNERED): a node lost
 * while its images are still on their way to shared storage then leaves a verified copy on
 * another node, which the coordinator has staged in its place (STAGE_FOR). */
struct partner_job {
    char to[128];
    int st;                       /* 1 verified there, else -errno */
    char err[2 * PATH_MAX];
};

static void *partner_copy(void *arg)
{
    struct partner_job *j = arg;
    int pst = filem_partner_send(j->to, A.env.secret, A.image, A.world_rank, A.seq, A.image_sum,
                                 j->err, sizeof j->err);
    j->st = pst < 0 ? pst : 1;
    struct snapc_partnered pd = {.status = j->st};
    agent_send(SNAPC_MSG_PARTNERED, &pd, sizeof pd, j->st < 0 ? j->err : NULL,
               j->st < 0 ? (uint32_t)strlen(j->err) : 0);
    /* said after the coordinator was told (a test loses the node once it reads this) */
    if (j->st < 0)
        revive_log_warn("rank %d: no partner copy: %s", A.world_rank, j->err);
    else
        revive_log_info("rank %d: partner copy: %s", A.world_rank, j->err);
    return NULL;
}

/* A failed copy said on the job's stderr once: the same failure again at the next checkpoint
 * (a snapshot directory that stays full: the coordinator said that checkpoints go on failing
 * until it has room) at info, by every rank at every --ckpt-interval before (newuser49 L4); a
 * different one, or one after a copy that worked, whole again. */
static char stage_failed_said[SNAPC_TEXT_MAX];

static void said_stage_failure(const char *err)
{
    if (stage_failed_said[0] && snapc_text_same_cause(stage_failed_said, err)) {
        revive_log_info("rank %d: staging failed as before: %s", A.world_rank, err);
        return;
    }
    snprintf(stage_failed_said, sizeof stage_failed_said, "%s", err);
    revive_log_warn("rank %d: staging failed: %s", A.world_rank, err);
}

/* STAGE: copy this epoch's node-local image to the shared sequence directory and verify the
 * copy (src/filem/stage.c); the rank runs on meanwhile (its RESUME came first) unless the
 * epoch ends the job (--term, --stop), whose RESUME comes after the commit. With partner copies
 * the copy to the partner node runs at the same time, in a thread of its own (before, it ran
 * first: the two times added up, and a partner lost mid-transfer held this rank's own staging
 * for the transfer's bound); STAGED, which carries both answers, waits for it, so PARTNERED
 * always comes first. REVIVE_PARTNER_SERIAL=1 (bench/stage's baseline) runs them one after the
 * other as before. */
void agent_on_stage(const struct snapc_hdr *h, const uint8_t *p)
{
    struct snapc_stage sg;
    memcpy(&sg, p, sizeof sg);
    A.staged = 1;
    struct partner_job pj = {.st = 0};
    snapc_wire_str(pj.to, sizeof pj.to, (const char *)p + sizeof sg, h->len - sizeof sg);
    char err[2 * PATH_MAX] = "";
    struct filem_stage_stats st;
    memset(&st, 0, sizeof st);
    char name[32];
    snprintf(name, sizeof name, "rank_%d.img", A.world_rank);
    pthread_t pth;
    int partner = pj.to[0] && A.image[0] && A.local[0], threaded = 0;
    if (partner) {
        const char *serial = getenv("REVIVE_PARTNER_SERIAL");
        if (!(serial && *serial == '1'))
            threaded = pthread_create(&pth, NULL, partner_copy, &pj) == 0;
        if (!threaded)
            partner_copy(&pj);
    }
    int e;
    if (!A.image[0] || !A.local[0]) {
        e = -EPROTO;
        snprintf(err, sizeof err, "no node-local image of this epoch to stage");
    } else if (A.direct) {
        /* the node's cache had no room: the image went into the sequence directory itself, as
         * with --ckpt-local none; read back and checked where it is, as a copy would be */
        e = filem_stage_verify(A.image, A.image_sum, err, sizeof err);
    } else if (agent_fault_epoch() && revive_fault(REVIVE_FAULT_filem_stage)) {
        e = -EIO;
        snprintf(err, sizeof err, "cannot copy %s (fault point filem-stage)", A.image);
    } else {
        if (agent_fault_epoch() && revive_fault(REVIVE_FAULT_filem_stage_hold))
            stage_hold();
        /* at most as many copies at once on this node as it has cores (hwloc) */
        int slot = filem_place_stage_slot(A.local, A.world_rank);
        e = filem_stage_file(A.image, A.dir, name, A.image_sum, sg.bw, &st, err, sizeof err);
        if (slot >= 0)
            close(slot);
    }
    agent_full_advice(e, err, sizeof err, 0, NULL, NULL);
    if (threaded)
        pthread_join(pth, NULL);
    int pst = pj.st;
    if (e == -ENOENT && access(A.dir, F_OK) != 0 && errno == ENOENT) {
        /* the coordinator set the sequence aside once another rank's copy failed (a full disk):
         * "cannot create a file ...: No such file or directory" under that rank's message sent
         * users looking for a missing directory (seen in diskfull.sh's job output) */
        snprintf(err, sizeof err, "the sequence directory %s is gone (the checkpoint was "
                 "abandoned, or the directory removed): this rank's image was not copied", A.dir);
        revive_log_info("rank %d: %s", A.world_rank, err);
    } else if (e == -ENOENT && access(A.image, F_OK) != 0 && errno == ENOENT) {
        /* another rank's copy failed first and the failed sequence went from this node's cache
         * (agent_cache_drop_failed, coord_cache_drop_failed) before this rank's copy began */
        snprintf(err, sizeof err, "this rank's node-local image %s is gone (the checkpoint "
                 "failed and its node-local copies were removed, or the file was removed): it "
                 "was not copied", A.image);
        revive_log_info("rank %d: %s", A.world_rank, err);
    } else if (e < 0)
        said_stage_failure(err);
    else if (pst < 0)
        snprintf(err, sizeof err, "%s", pj.err);
    struct snapc_staged d = {.status = e, .partner = pst, .bytes = st.bytes,
                             .copy_ns = (uint64_t)st.copy_ns, .verify_ns = (uint64_t)st.verify_ns};
    if (e >= 0)
        stage_failed_said[0] = 0; /* copies work again: a later failure is said whole */
    int say = e < 0 || pst < 0;
    agent_send(SNAPC_MSG_STAGED, &d, sizeof d, say ? err : NULL, say ? (uint32_t)strlen(err) : 0);
}

/* STAGE_FOR: a rank of another node was lost before its image reached shared storage; this
 * node's cache holds its verified partner copy (received by this rank's listener): the copy
 * goes to the shared sequence directory under that rank's name, verified as its own would be
 * (the file's checksum the lost rank reported, every chunk). */
void agent_on_stage_for(const uint8_t *p)
{
    struct snapc_stage_for sf;
    memcpy(&sf, p, sizeof sf);
    char err[2 * PATH_MAX] = "", src[PATH_MAX + 64], name[48];
    struct filem_stage_stats st;
    memset(&st, 0, sizeof st);
    int e;
    if (!A.local_seq[0] || !A.dir[0]) {
        e = -EPROTO;
        snprintf(err, sizeof err, "no node-local sequence of this epoch on this node");
    } else {
        snprintf(src, sizeof src, "%s/%s%u.img", A.local_seq, FILEM_PARTNER_PREFIX, sf.rank);
        snprintf(name, sizeof name, "rank_%u.img", sf.rank);
        int slot = filem_place_stage_slot(A.local, A.world_rank);
        e = filem_stage_file(src, A.dir, name, sf.checksum, sf.bw, &st, err, sizeof err);
        if (slot >= 0)
            close(slot);
        agent_full_advice(e, err, sizeof err, 0, NULL, NULL);
    }
    if (e < 0)
        revive_log_warn("rank %d: cannot stage the partner copy of rank %u: %s", A.world_rank,
                        sf.rank, err);
    else
        revive_log_info("rank %d: staged the partner copy of rank %u", A.world_rank, sf.rank);
    struct snapc_staged_for d = {.status = e, .rank = sf.rank, .bytes = st.bytes,
                                 .copy_ns = (uint64_t)st.copy_ns,
                                 .verify_ns = (uint64_t)st.verify_ns};
    agent_send(SNAPC_MSG_STAGED_FOR, &d, sizeof d, e < 0 ? err : NULL,
               e < 0 ? (uint32_t)strlen(err) : 0);
}
