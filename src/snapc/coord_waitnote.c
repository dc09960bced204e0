/* The coordinator's notes while a checkpoint waits on some ranks (newuser49 L1): ckpt-mpirun was
 * silent for its whole --timeout (120 s) when a rank was stopped (kill -STOP), though its state T
 * in /proc was visible from the first second; and a capture has no other bound than
 * REVIVE_CAPTURE_TIMEOUT (1800 s). Once an epoch has waited COORD_WAIT_NOTE_FIRST_MS, and then
 * every COORD_WAIT_NOTE_EVERY_MS while it still waits, one line says which ranks it waits for,
 * in which step, how long it will still wait, and, for a rank of this host whose process is
 * stopped or held by its tracer, so and what to do. The first look says something only when such
 * a rank is there (or the job is stopped): a checkpoint merely slow at 10 s (a loaded machine, a
 * large image) is said from the second look on, 40 s after the request, so that the tools' one
 * line answers stay one line for the checkpoints that end in a normal time. The line goes to every tool waiting for the
 * epoch (whether or not it asked for --status: this is no phase, it is why there is none) and to
 * the coordinator's log: a warning when a rank is stopped (a periodic checkpoint has no tool to
 * tell), else at info. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/procfs.h"
#include "snapc/coord_int.h"

#define COORD_WAIT_NOTE_FIRST_MS 10000
#define COORD_WAIT_NOTE_EVERY_MS 30000
#define NOTE_RANKS 8    /* ranks named in a note */
#define LOOK_RANKS 64   /* waited ranks whose process state is looked at, per note */
#define TRACER_MS 20    /* a thread in t this long is held by its tracer (procfs.h) */

static uint32_t note_epoch; /* the epoch the schedule below is for */
static int64_t note_at;     /* the next note's time (ms), 0 none */
/* the last note said as a warning: the same again (but for its numbers: the seconds, the
 * sequence, the pid) goes to the log at info until a checkpoint commits, so that a periodic
 * job with a rank stopped for hours does not repeat its warnings at every interval (the class of
 * newuser49 L4); each tool hears every note of its own request */
static char warned[SNAPC_TEXT_MAX];

/* Appends to b the ranks of this host among WAIT[0..n) whose process is stopped (T) or held by
 * its tracer (t), with what continues them; returns how many (0: nothing appended). */
static int say_stopped(struct snapc_sbuf *b, const int *wait, int n)
{
    if (coord_job_stopped()) {
        snapc_sb_printf(b, "; the job is stopped (ckpt-mpirun --stop): continue it with kill "
                        "-CONT %d", (int)getpid());
        return 1;
    }
    int ns = 0;
    for (int k = 0; k < n && k < LOOK_RANKS; k++) {
        pid_t pid = coord_rank_local_pid(wait[k]);
        char st = pid > 1 ? revive_proc_held_stopped(pid, TRACER_MS) : 0;
        if (st != 'T' && st != 't')
            continue;
        if (++ns > NOTE_RANKS)
            continue;
        if (st == 'T')
            snapc_sb_printf(b, "; rank %d's process (pid %d) is stopped (state T: SIGSTOP or a "
                            "debugger): continue it with kill -CONT %d",
                            wait[k], (int)pid, (int)pid);
        else
            snapc_sb_printf(b, "; rank %d's process (pid %d) is held by its tracer (state t: a "
                            "debugger at a breakpoint): continue or detach it in the debugger",
                            wait[k], (int)pid);
    }
    return ns;
}

/* One note of the current epoch, waiting for n ranks (their first ones in wait); ALL: said also
 * when no rank is stopped. */
static void note(int64_t now, const int *wait, int n, const char *step, const char *task, int all)
{
    const struct snapc_proto *p = &coord.p;
    struct snapc_sbuf st = {0};
    int stopped = say_stopped(&st, wait, n);
    if (!stopped && !all) {
        snapc_sb_free(&st);
        return;
    }
    struct snapc_sbuf b = {0};
    snapc_sb_printf(&b, "checkpoint %llu has waited %lld s for ", (unsigned long long)p->seq,
                    (long long)((now - p->t_start) / 1000));
    if (n == 1)
        snapc_sb_printf(&b, "rank %d", wait[0]);
    else {
        snapc_sb_printf(&b, "%d of %d ranks (", n, p->nranks);
        for (int k = 0; k < n && k < NOTE_RANKS; k++)
            snapc_sb_printf(&b, "%s%d", k ? " " : "", wait[k]);
        snapc_sb_printf(&b, "%s)", n > NOTE_RANKS ? " ..." : "");
    }
    snapc_sb_printf(&b, " to %s (step %s)%s", task, step, st.p && !st.oom ? st.p : "");
    snapc_sb_free(&st);
    if (p->deadline > now) {
        int conv = p->phase == SNAPC_P_SEQS || p->phase == SNAPC_P_CONVERGE;
        snapc_sb_printf(&b, "; it gives up in %lld s (%s %u s)",
                        (long long)((p->deadline - now + 999) / 1000),
                        !conv                             ? "REVIVE_CAPTURE_TIMEOUT,"
                        : p->source == SNAPC_SRC_TOOL     ? "the request's --timeout,"
                                                          : "the bound of reaching the targets,",
                        conv ? p->timeout_s : p->capture_timeout_s);
    }
    if (!b.p || b.oom) {
        snapc_sb_free(&b); /* out of memory: no note */
        return;
    }
    coord_tool_note(p->epoch, b.p);
    if (stopped && !(warned[0] && snapc_text_same_cause(warned, b.p))) {
        snapc_fmt(warned, sizeof warned, "%s", b.p);
        revive_log_warn("%s", b.p);
    } else
        revive_log_info("%s", b.p);
    snapc_sb_free(&b);
}

void coord_wait_note_tick(int64_t now)
{
    const struct snapc_proto *p = &coord.p;
    if (p->phase == SNAPC_P_IDLE || p->phase == SNAPC_P_COMMIT) {
        note_at = 0;
        return;
    }
    if (note_epoch != p->epoch || !note_at) {
        note_epoch = p->epoch;
        note_at = p->t_start + COORD_WAIT_NOTE_FIRST_MS;
    }
    if (now < note_at)
        return;
    note_at = now + COORD_WAIT_NOTE_EVERY_MS;
    int wait[LOOK_RANKS];
    const char *step, *task;
    int n = snapc_proto_waiting(p, wait, LOOK_RANKS, &step, &task);
    int all = now - p->t_start >= COORD_WAIT_NOTE_FIRST_MS + COORD_WAIT_NOTE_EVERY_MS;
    if (n > 0)
        note(now, wait, n, step, task, all);
}

int64_t coord_wait_note_deadline(void)
{
    const struct snapc_proto *p = &coord.p;
    if (p->phase == SNAPC_P_IDLE || p->phase == SNAPC_P_COMMIT)
        return -1;
    if (note_epoch != p->epoch || !note_at)
        return p->t_start + COORD_WAIT_NOTE_FIRST_MS;
    return note_at;
}

void coord_wait_note_committed(void)
{
    warned[0] = 0;
}
