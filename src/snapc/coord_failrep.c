/* The same checkpoint failure at every interval said once (newuser49 L4): a periodic job whose
 * snapshot directory stayed full wrote ~3 long lines per rank at every --ckpt-interval after the
 * once-per-job line had said that checkpoints go on failing until the directory has room (a
 * 256-rank job at --ckpt-interval 600: ~260 lines every 10 minutes). A failure is said whole the
 * first time; the next ones that say the same but for their numbers (snapc_text_same_cause: the
 * sequence, the rank, the pid in a temporary name) go to the log at info and are counted; a
 * different failure is said whole again; the first commit after repeated ones says that
 * checkpoints commit again and how many failed; the job's end counts the failed ones. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "snapc/coord_int.h"

static struct {
    char text[SNAPC_TEXT_MAX + 256]; /* the failure said last ("" none since the last commit) */
    int status;
    uint64_t first_seq, last_seq;    /* of the run of failures of that cause */
    unsigned run;                    /* failures of that cause in a row, the first said */
    unsigned failed, committed;      /* of the whole job */
    unsigned alike;                  /* failures of the job said only at info (repeats) */
    int have_call;                   /* the last call's epoch and answer: an epoch whose */
    uint32_t call_epoch;             /* failure is both its ABORT and its STAGE_FAILED is one */
    int call_again;                  /* failure (not the sequence: a discarded one's number is
                                      * taken again by the next epoch) */
    uint64_t last_failed_seq;
    char last_failed[200];           /* the start of the last failure, for the job's end */
} fr;

int coord_fail_repeats(uint32_t epoch, uint64_t seq, int status, const char *text)
{
    if (fr.have_call && fr.call_epoch == epoch)
        return fr.call_again;
    fr.have_call = 1;
    fr.call_epoch = epoch;
    fr.failed++;
    fr.last_failed_seq = seq;
    snapc_fmt(fr.last_failed, sizeof fr.last_failed, "%s", text);
    if (fr.text[0] && fr.status == status && snapc_text_same_cause(fr.text, text)) {
        fr.run++;
        fr.alike++;
        fr.last_seq = seq;
        return fr.call_again = 1;
    }
    snapc_fmt(fr.text, sizeof fr.text, "%s", text);
    fr.status = status;
    fr.first_seq = fr.last_seq = seq;
    fr.run = 1;
    return fr.call_again = 0;
}

void coord_fail_committed(uint64_t seq)
{
    fr.committed++;
    /* (a failure before the staging reuses its number: then one sequence failed N times) */
    if (fr.text[0] && fr.run > 1 && fr.first_seq != fr.last_seq)
        revive_log_warn("checkpoint %llu is committed: checkpoints commit again after %u failed "
                        "alike (sequences %llu to %llu, said once above)",
                        (unsigned long long)seq, fr.run, (unsigned long long)fr.first_seq,
                        (unsigned long long)fr.last_seq);
    else if (fr.text[0] && fr.run > 1)
        revive_log_warn("checkpoint %llu is committed: checkpoints commit again after %u failed "
                        "alike (said once above)", (unsigned long long)seq, fr.run);
    fr.text[0] = 0;
    fr.run = 0;
}

const char *coord_fail_repeat_note(char *buf, size_t len)
{
    snapc_fmt(buf, len, "as before (%u in a row; said once)", fr.run);
    return buf;
}

void coord_fail_summary(void)
{
    if (!fr.alike)
        return; /* every failure was said whole: nothing left to count */
    /* the job's stderr: what the repeated failures said only once comes to a count here */
    revive_log_warn("%u of this job's %u checkpoints failed (%u of them as the one before, said "
                    "once), the last (sequence %llu): %s%s; ckpt-info %s lists the committed ones",
                    fr.failed, fr.failed + fr.committed, fr.alike,
                    (unsigned long long)fr.last_failed_seq,
                    fr.last_failed, strlen(fr.last_failed) + 1 >= sizeof fr.last_failed ? "..." : "",
                    coord.jobdir);
}
