/* Which snapshot restart-mpi takes (restart_mpi.h restart_choose_snapshot): the reference
 * resolved, another user's refused, a snapshot directory that is gone found in the caches, the
 * sequence chosen and the newer ones passed over said; then its metadata read, or why it
 * cannot be and which other sequence to take. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/dirsync.h"
#include "common/fault.h"
#include "common/relocate_arg.h"
#include "common/text.h"
#include "common/size_arg.h"
#include "filem/alive.h"
#include "filem/filem.h"
#include "filem/ref_folder.h"
#include "filem/stage_mark.h"
#include "filem/verified.h"
#include "snapc/hosts.h"
#include "snapc/restart_lock.h"
#include "snapc/util.h"
#include "restart_cache.h"
#include "restart_fetch.h"
#include "restart_files.h"
#include "restart_meta_ask.h"
#include "restart_override.h"
#include "restart_signal.h"
#include "restart_stdin.h"
#include "snap_owner.h"
#include "restart_mpi.h"
#include "seq_pick.h"
#include "tools/tool_die.h"

#ifndef REVIVE_PKGLIBEXECDIR
#define REVIVE_PKGLIBEXECDIR "/usr/local/libexec/revive"
#endif

/* A snapshot of another user: its images hold that user's processes, which must run as that
 * user again (as BLCR's cr_restart and Open MPI's ompi-restart restored the owner's processes).
 * root is told to run restart-mpi, with its own arguments, as the owner; anyone else that only
 * the owner can (snap_owner.h, shared with ckpt-info). */
static struct snap_owner_words owner_words = {
    .me = "restart-mpi", .verb = "restart",
    .why = "its ranks must run as their owner, and Revive reads no snapshot as another user, root "
           "included",
    .tail = "; as root it is not restarted"};

void restart_owner_args(int argc, char **argv)
{
    owner_words.argc = argc;
    owner_words.argv = argv;
}

/* What filem_meta_read said of a damaged snapshot.meta, without its path and its advice
 * ("is damaged (checksum ...)"): restart-mpi names the sequence and what it takes instead. */
static const char *meta_damage(const char *err, char *out, size_t len)
{
    const char *p = strstr(err, FILEM_META_NAME " ");
    p = p ? p + strlen(FILEM_META_NAME " ") : err;
    const char *q = strstr(p, "; this snapshot");
    snprintf(out, len, "%.*s", (int)(q ? q - p : (ptrdiff_t)strlen(p)), p);
    return out;
}

/* The default passed over newer sequences whose snapshot.meta is damaged, that were never
 * committed (their staging failed, the checkpoint was cut short, or the running job still
 * writes or copies them), and newer committed ones whose restart failed (the index marks
 * them): say which and why, and for the last how to take one anyway. A damaged newest sequence
 * was passed over without a word (review LOW-5). */
static void say_skipped(const char *jobdir, uint64_t taken)
{
    struct filem_seq_info *v;
    int n;
    char err[512];
    if (filem_scan(jobdir, &v, &n, err, sizeof err) < 0)
        return;
    char why[512];
    int running = -1;
    for (int i = 0; i < n; i++)
        if (v[i].state == FILEM_SEQ_CORRUPT && v[i].seq > taken)
            fprintf(stderr,
                    "%s: skipping sequence %llu of %s: its %s %s (ckpt-info --verify %s/%llu "
                    "says more); taking sequence %llu\n",
                    restart_me, (unsigned long long)v[i].seq, jobdir, FILEM_META_NAME,
                    meta_damage(v[i].err, why, sizeof why), jobdir, (unsigned long long)v[i].seq,
                    (unsigned long long)taken);
        else if (v[i].state == FILEM_SEQ_UNCOMMITTED && v[i].seq > taken &&
            filem_stage_failed_reason(jobdir, v[i].seq, why, sizeof why))
            fprintf(stderr,
                    "%s: skipping sequence %llu of %s: its staging failed, it was never "
                    "committed (%s); taking sequence %llu\n",
                    restart_me, (unsigned long long)v[i].seq, jobdir, why, (unsigned long long)taken);
        else if (v[i].state == FILEM_SEQ_UNCOMMITTED && v[i].seq > taken &&
                 filem_phase_active(jobdir, v[i].seq, FILEM_PHASE_STAGING))
            fprintf(stderr,
                    "%s: skipping sequence %llu of %s: it is staging, not committed yet (the "
                    "running job's agents copy its images there); taking sequence %llu\n",
                    restart_me, (unsigned long long)v[i].seq, jobdir, (unsigned long long)taken);
        else if (v[i].state == FILEM_SEQ_UNCOMMITTED && v[i].seq > taken &&
                 filem_phase_active(jobdir, v[i].seq, FILEM_PHASE_WRITING))
            fprintf(stderr,
                    "%s: skipping sequence %llu of %s: it is being written, not committed yet "
                    "(the running job's ranks write its images); taking sequence %llu\n",
                    restart_me, (unsigned long long)v[i].seq, jobdir, (unsigned long long)taken);
        else if (v[i].state == FILEM_SEQ_UNCOMMITTED && v[i].seq > taken) {
            if (running < 0)
                running = filem_job_alive(jobdir);
            fprintf(stderr, "%s: skipping sequence %llu of %s: it is not committed (%s); taking "
                            "sequence %llu\n",
                    restart_me, (unsigned long long)v[i].seq, jobdir,
                    running ? "the job still runs: it is being written or copied there, or that "
                              "checkpoint failed"
                            : "its checkpoint did not finish",
                    (unsigned long long)taken);
        }
        else if (v[i].state == FILEM_SEQ_COMMITTED && v[i].seq > taken && v[i].failed_restarts)
            fprintf(stderr,
                    "%s: skipping sequence %llu of %s: %u restart%s from it failed (%s); taking "
                    "sequence %llu (--seq %llu tries it again)\n",
                    restart_me, (unsigned long long)v[i].seq, jobdir, v[i].failed_restarts,
                    v[i].failed_restarts == 1 ? "" : "s",
                    v[i].failed_reason[0] ? v[i].failed_reason : "no reason recorded",
                    (unsigned long long)taken, (unsigned long long)v[i].seq);
    free(v);
}

/* The check restart-mpi makes of the sequence it takes: deep unless --no-verify (set by
 * restart_choose_snapshot); the sequences the hints name pass it too (seq_pick.h). */
static int hint_deep = 1;

/* What to do when sequence seq cannot be used: the newest other committed one that passes the
 * check restart-mpi makes (seq_pick.h), named with --seq, else that there is none (a hint to
 * "use another sequence" sent users looking for one that was not there: issue 7 F7; one naming a
 * damaged one sent them from one damaged sequence to the other and back: newuser7f F3). */
void restart_die_other(const char *jobdir, int64_t seq, const char *sep, const char *fmt, ...)
{
    char refusal[REVIVE_TEXT_PATHS(4)], hint[2 * PATH_MAX + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(refusal, sizeof refusal, fmt, ap);
    va_end(ap);
    struct seq_pick_say say = {restart_me, refusal};
    seq_pick_hint(jobdir, seq, hint_deep, NULL, NULL, &say, NULL, hint, sizeof hint);
    restart_die("%s%s%s", refusal, sep, hint);
}

/* The snapshot o->ref names: its job directory, and the sequence returned (--seq, the one the
 * reference names, else the newest committed one that did not fail a restart, said). When the
 * snapshot directory is gone, its metadata from a node-local cache (restart_cache.h): cached is
 * that copy's path (else left ""). Ends restart-mpi when there is none. */
int64_t restart_choose_snapshot(const struct opts *o, const char *rrank, char *jobdir, size_t jlen,
                                char *cached, size_t clen)
{
    char err[REVIVE_TEXT_PATHS(3)];
    int64_t seq;
    hint_deep = o->verify;
    if (o->hostfile && snapc_hosts_check_file(o->hostfile, err, sizeof err) < 0)
        restart_die("%s", err); /* before anything is started (snapc/hosts.h) */
    int re = filem_resolve_ref(o->ref, jobdir, jlen, &seq, err, sizeof err);
    if (re == -EACCES && snap_owner_refuse_above(&owner_words, o->ref))
        exit(1); /* nothing made yet */
    /* another user's folder of snapshots (--ckpt-dir), closed to the caller (newuser52 NU-2) */
    if (re == -EINVAL && access(o->ref, R_OK | X_OK) < 0 && snap_owner_refuse(&owner_words, o->ref))
        exit(1);
    if (re < 0) {
        /* the snapshot directory gone: its metadata from this host's cache (restart_cache.h) */
        char cerr[8192], ask[64][256], *askv[64];
        int nask = restart_meta_hosts(o->hostfile, o->meta_from, ask, 64);
        for (int i = 0; i < nask; i++)
            askv[i] = ask[i];
        int c = restart_cache_find(o->ref, o->local, o->want_seq, askv, nask, rrank,
                                   o->recreate_in, jobdir, jlen, &seq, cached, clen, cerr,
                                   sizeof cerr);
        if (c == 0)
            restart_die("%s", err);
        if (c < 0)
            restart_die("%s", cerr);
    } else {
        if (err[0]) /* a folder holding snapshot directories: which one */
            fprintf(stderr, "%s: %s\n", restart_me, err);
        char by[PATH_MAX];
        if (filem_superseded_by(jobdir, by, sizeof by)) /* newuser14 F1: going back is allowed */
            fprintf(stderr, "%s: note: %s was superseded by %s (a restart of this job committed "
                            "snapshots there): this restart goes back to %s's own snapshot; give "
                            "%s to go on from the newest\n",
                    restart_me, jobdir, by[0] ? by : "a restart of it", jobdir,
                    by[0] ? by : "that restart's snapshot directory");
        if (o->recreate_in)
            restart_die("--recreate-in is for a snapshot directory that is gone; %s is there", jobdir);
        if (snap_owner_refuse(&owner_words, jobdir))
            exit(1);
        if (filem_private_dir(jobdir, 0, err, sizeof err) < 0)
            restart_die("%s", err);
    }
    if (cached[0])
        ; /* its sequence chosen above */
    else if (seq >= 0 && o->want_seq >= 0 && o->want_seq != seq)
        restart_usage_die("%s is sequence %lld; --seq %ld names another (give the snapshot directory with --seq)",
            o->ref, (long long)seq, o->want_seq);
    if (seq < 0 && o->want_seq >= 0)
        seq = o->want_seq;
    if (seq < 0) {
        uint64_t s;
        int all_failed;
        if (filem_default_seq(jobdir, &s, &all_failed, err, sizeof err) < 0)
            restart_die("%s", err);
        if (all_failed)
            fprintf(stderr, "%s: warning: every committed sequence of %s failed a restart before; "
                            "trying the newest (%llu) again\n",
                    restart_me, jobdir, (unsigned long long)s);
        else
            say_skipped(jobdir, s);
        seq = (int64_t)s;
    }
    return seq;
}

/* The sequence's metadata into m, read in metadir (seqdir, or the cache's copy for --showme of a
 * snapshot directory that is gone). When it cannot be read, restart-mpi ends saying why and what
 * to do: its staging failed, it is staging or being written now, the job that takes it still
 * runs, or which other sequence to take. */
void restart_read_meta(const char *metadir, const char *seqdir, const char *jobdir, int64_t seq,
                       struct filem_meta *m)
{
    char err[REVIVE_TEXT_PATHS(3)], why[512];
    int me_e = filem_meta_read(metadir, m, err, sizeof err);
    if (me_e < 0) {
        if (filem_stage_failed_reason(jobdir, (uint64_t)seq, why, sizeof why))
            restart_die("sequence %lld of %s was never committed: its staging failed (%s); restart from "
                "an earlier sequence (ckpt-info %s lists them)",
                (long long)seq, jobdir, why, jobdir);
        /* a sequence the running job's agents copy now (newuser9 F1) */
        if (me_e == -ENOENT && metadir == seqdir && filem_phase_active(jobdir, (uint64_t)seq, FILEM_PHASE_STAGING))
            restart_die_other(jobdir, seq, ": ", "sequence %lld of %s is staging: the running job's agents are copying its images "
                "there, it is not committed yet; wait for the commit (ckpt-info %s/%lld exits 0 "
                "then; ckpt-mpirun without --no-wait-stage waits for it), or restart from "
                "another",
                (long long)seq, jobdir, jobdir, (long long)seq);
        /* its ranks still writing their images (closing31) */
        if (me_e == -ENOENT && metadir == seqdir && filem_phase_active(jobdir, (uint64_t)seq, FILEM_PHASE_WRITING))
            restart_die_other(jobdir, seq, ": ", "sequence %lld of %s is being written: the running job's ranks are writing its "
                "images, it is not committed yet; wait for the commit (ckpt-info %s/%lld exits "
                "0 then; ckpt-mpirun prints the reference), or restart from another",
                (long long)seq, jobdir, jobdir, (long long)seq);
        /* a sequence the running job still writes: not "never finished" */
        if (me_e == -ENOENT && metadir == seqdir && filem_job_alive(jobdir) == 1)
            restart_die_other(jobdir, seq, ": ", "sequence %lld of %s is not committed (no %s): the job that takes it still runs, "
                "so it is being written or copied there, or that checkpoint failed; wait for the "
                "commit (ckpt-mpirun prints the reference then), or restart from another",
                (long long)seq, jobdir, FILEM_META_NAME);
        /* which one to take instead, as for a damaged one (review newuser7 L1) */
        if (me_e == -ENOENT && metadir == seqdir)
            restart_die_other(jobdir, seq, "; ", "%s", err);
        /* a damaged snapshot.meta: the sequence named instead passes restart-mpi's check
         * (filem_meta_read's own advice only reads the others' metadata: newuser7f F3) */
        if (me_e == -EBADMSG && metadir == seqdir) {
            char msg[REVIVE_TEXT_PATHS(3) + 2 * PATH_MAX + 256];
            restart_die("%s", seq_pick_meta_damaged(err, jobdir, seq, hint_deep, restart_me, msg, sizeof msg));
        }
        restart_die("%s", err);
    }
}
