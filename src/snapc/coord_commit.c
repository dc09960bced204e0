/* The commit of a snapshot: every image checked against what its rank
 * reported, snapshot.meta written durably (= committed), then the index and
 * retention, which never undo it. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "crs/base/durable.h"
#include "filem/local_retain.h"
#include "filem/stage.h"
#include "filem/stage_mark.h"
#include "snapc/coord_int.h"

/* Every image is there, of the size its rank reported, and opens with the
 * reported file checksum (crs_image_file_sum; the pages' checksums are checked when read). */
static int check_images(char *err, size_t errlen)
{
    for (int r = 0; r < coord.p.nranks; r++) {
        char path[PATH_MAX], e2[512];
        filem_image_path(path, sizeof path, coord.jobdir, coord.p.seq, r);
        struct stat st;
        if (lstat(path, &st) == 0 &&
            (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))) {
            snapc_fmt(err, errlen,
                      "rank %d's image %s is not private (uid %u, mode %04o; Revive writes 0600 "
                      "files of the job's user)",
                      r, path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
            return -EPERM;
        }
        uint64_t sum, size;
        int e = filem_image_checksum(path, &sum, &size, e2, sizeof e2);
        if (e == -ENOENT) {
            snapc_fmt(err, errlen,
                     "rank %d's image %s is not visible from the coordinator's host (snapshot "
                     "directories must be on storage every host shares)",
                     r, path);
            return e;
        }
        if (e < 0) {
            snapc_fmt(err, errlen, "rank %d's image is unusable: %s", r, e2);
            return e;
        }
        if (size != coord.p.r[r].bytes || sum != coord.p.r[r].checksum) {
            snapc_fmt(err, errlen,
                     "rank %d's image %s is not what the rank reported (%llu bytes, checksum "
                     "%016" PRIx64 "; reported %llu, %016" PRIx64 ")",
                     r, path, (unsigned long long)size, sum,
                     (unsigned long long)coord.p.r[r].bytes, coord.p.r[r].checksum);
            return -EBADMSG;
        }
    }
    return 0;
}

/* Fault point snapc-commit-hold: the commit waits until the file REVIVE_COMMIT_HOLD exists (10
 * min at most) while the coordinator goes on reading its connections, as when a slow commit
 * overlaps what the ranks do: ranks that end then (in MPI_Finalize, or a node lost after its
 * images were staged) are seen before the commit. 1 when the commit was put off. */
static int commit_hold(void)
{
    const char *f = getenv("REVIVE_COMMIT_HOLD");
    if (!f || !*f || access(f, F_OK) == 0)
        return 0;
    revive_log_info("the commit of sequence %llu holds until %s exists (fault point "
                    "snapc-commit-hold)", (unsigned long long)coord.p.seq, f);
    coord.commit_held = 1;
    coord.commit_held_since = coord_now_ms();
    return 1;
}

void coord_commit_hold_tick(int64_t now)
{
    if (!coord.commit_held)
        return;
    if (coord.p.phase != SNAPC_P_COMMIT) {
        coord.commit_held = 0; /* the epoch ended otherwise */
        return;
    }
    const char *f = getenv("REVIVE_COMMIT_HOLD");
    if (f && access(f, F_OK) != 0 && now - coord.commit_held_since < 600000)
        return;
    coord_commit(); /* commit_held is still set: it does not hold again */
}

void coord_commit(void)
{
    char err[512];
    struct snapc_event ev = {.type = SNAPC_EV_COMMITTED};
    if (coord.commit_held)
        coord.commit_held = 0;
    else if (coord.p.stage && coord_fault(REVIVE_FAULT_snapc_commit_hold) && commit_hold())
        return;
    if (coord_fault(REVIVE_FAULT_snapc_captured)) {
        ev.u.done.status = -EIO;
        ev.u.done.msg = "the coordinator failed before writing the metadata (fault point "
                        "snapc-captured)";
        coord_feed(&ev);
        return;
    }
    /* the hosts of ranks that ended are asked first (snapshot.meta names the lost ones), in
     * the loop: coord_lost_tick calls this again once every one has a verdict (R-L3) */
    if (coord_lost_settle(LOST_FOR_COMMIT))
        return;
    int e = check_images(err, sizeof err);
    if (e == 0)
        e = coord_files_verify(err, sizeof err); /* the --save-files copies, re-read */
    struct filem_meta m;
    filem_meta_init(&m);
    if (e == 0)
        e = coord_build_meta(&m, err, sizeof err);
    if (e == 0)
        e = filem_meta_write(coord.seqdir, &m, err, sizeof err);
    filem_meta_free(&m);
    /* committed, or about to be failed: no longer staging (ckpt-info reads the meta first) */
    filem_phase_unmark(coord.jobdir, coord.p.seq, FILEM_PHASE_STAGING);
    filem_phase_unmark(coord.jobdir, coord.p.seq, FILEM_PHASE_WRITING);
    ev.u.done.status = e;
    ev.u.done.msg = err;
    int asked = coord.p.source == SNAPC_SRC_TOOL;   /* its tools print the warnings */
    uint64_t seq = coord.p.seq;
    uint32_t epoch = coord.p.epoch;
    coord_feed(&ev);
    if (e < 0)
        return;
    coord_fail_committed(seq);
    coord_wait_note_committed();
    if (!asked) {
        coord_shared_warn_once(seq, epoch);
        coord_local_full_warn_once(seq, epoch);
    }
    /* after the commit: the index and retention never undo it */
    if (filem_index_update(coord.jobdir, err, sizeof err) < 0)
        revive_log_warn("the snapshot is committed, but the index was not updated: %s", err);
    /* a restarted job: the jobs it came from are superseded, their caches on hosts this job
     * does not run on go when a job of the user next commits there (local_retain.h) */
    if (coord.parent_jobdir[0] && filem_mark_superseded(coord.seqdir, err, sizeof err) < 0)
        revive_log_warn("the jobs this one was restarted from are not marked superseded: %s", err);
    if (coord.cfg->keep > 0) {
        int removed, skipped;
        if (filem_retain(coord.jobdir, coord.cfg->keep, -1, &removed, &skipped, err, sizeof err) < 0)
            revive_log_warn("retention: %s", err);
        if (removed && filem_index_update(coord.jobdir, err, sizeof err) < 0)
            revive_log_warn("the index was not updated after retention: %s", err);
    }
}

void coord_stage_failed(uint32_t epoch, uint64_t seq, int status, const char *why)
{
    /* this host's copies first, also of its ranks that ended (the live ranks' agents drop
     * theirs: RESUME not committed, or ABORT once STAGE came): gone once the failure is said */
    if (coord.cfg->local_dir)
        coord_cache_drop_failed(seq);
    /* the same failure at every interval (a full snapshot directory) is said once */
    int again = coord_fail_repeats(epoch, seq, status, why);
    char note[160];
    if (again)
        revive_log_info("checkpoint %llu is not committed, %s: %s", (unsigned long long)seq,
                        coord_fail_repeat_note(note, sizeof note), why);
    else
        revive_log_warn("checkpoint %llu is not committed: %s (the previous committed snapshot is "
                        "untouched; its node-local copies are removed: they can never be restarted)",
                        (unsigned long long)seq, why);
    /* once per job: a job whose snapshot directory stays full or unwritable fails every
     * periodic checkpoint (review MEDIUM-1: the caches then held 14 copies of every image after
     * 9 s at --ckpt-interval 1; now each failed sequence's go at its failure) */
    static int bound_said;
    if (!bound_said && coord.cfg->local_dir) {
        bound_said = 1;
        revive_log_warn("each node removes a failed checkpoint's images from its cache at the "
                        "failure (said once per job); when the cause is the snapshot directory "
                        "(full or not writable), checkpoints go on failing until %s has room and "
                        "can be written, or the job is started with another --ckpt-dir",
                        coord.jobdir);
    }
    if (!coord.seqdir[0])
        return;
    filem_phase_unmark(coord.jobdir, seq, FILEM_PHASE_STAGING);
    filem_phase_unmark(coord.jobdir, seq, FILEM_PHASE_WRITING);
    /* the images already copied are never offered without the commit: they go, so that a
     * full shared directory gets its room back (and the mark below fits); the node-local
     * copies stay */
    for (int r = 0; r < coord.p.nranks; r++) {
        char img[PATH_MAX];
        filem_image_path(img, sizeof img, coord.jobdir, seq, r);
        unlink(img);
    }
    /* a rank still copying now renames its copy in later: that one goes when it says so */
    coord.failed_stage_set = 1;
    coord.failed_stage_seq = seq;
    coord.failed_stage_epoch = coord.p.epoch;
    /* the mark goes into the room kept for it (filem/stage_mark.h): a full disk was the
     * commonest failure, and the mark of a failed sequence was then lost with the sequence */
    char err[512];
    if (filem_stage_mark_failed(coord.jobdir, seq, why, err, sizeof err) < 0) {
        /* not even that (no reservation and no room): the sequence goes instead, with the
         * temporary copies of agents still failing (CI: rmdir met one, the sequence was
         * left unmarked) */
        char e2[512];
        if (filem_seq_discard(coord.jobdir, seq, e2, sizeof e2) < 0)
            revive_log_warn("cannot mark the failed sequence (%s) nor remove it: %s", err, e2);
        else if (again)
            revive_log_info("cannot mark the failed sequence (%s): it was removed", err);
        else
            revive_log_warn("cannot mark the failed sequence (%s): it was removed", err);
    }
    coord.seqdir[0] = 0;
}
