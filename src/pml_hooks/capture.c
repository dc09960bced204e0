/* Capture: the rank's image through libcr, from the agent thread, with the gate closed and the
 * drain done. The halves' capture filter leaves the lower half out (its memory, threads and
 * descriptors, the agent's socket among them); the image is written under a temporary name,
 * flushed and renamed (libcr's durable replacement); the layer's state summary rides in an
 * extension section "mpi". */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/ckpt.h"
#include "pml_hooks/halves.h"
#include "pml_hooks/restart.h"
#include "pml_hooks/lower_reset.h" /* pml_ldso_loader_busy */
#include "pml_hooks/halves_internal.h" /* pml_arena_locked */
#include "pml_hooks/objs.h"       /* window memory */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crs/base/capture_filter.h"
#include "crs/base/durable.h"
#include "crs/base/image_format.h"
#include "crs/base/protocol.h" /* CRS_REQ_F_SAVE_SHARED */
#include "crs/base/seccomp_notes.h"
#include "crs/base/tree.h"
#include "crs/libcr/runtime.h"
#include "common/clock.h"
#include "common/fault.h"
#include "common/fd_guard.h"
#include "common/size_arg.h"
#include "snapc/agent.h" /* snapc_agent_epoch */


static volatile int capture_dirfd = -1; /* the image's folder, held open by the durable write */

/* The capture's folder, and the agent's socket and eventfd: Revive's, never the application's
 * (the halves' rule knows them by their maker's mark; this holds also when a mark was lost, as
 * when a restart forgets the dead library's marks after the agent made new ones). */
static int forked_child;

static int own_fd(void *arg, int fd)
{
    (void)arg;
    /* a child the rank forked has no agent: the numbers of the rank's agent descriptors are
     * the child's own files there (a child's scratch file opened as the rank's eventfd's number
     * was left out of its image, its bytes lost at the restart: session 45) */
    if (forked_child)
        return 0;
    int agent[4], n = snapc_agent_fds(agent, 4);
    for (int i = 0; i < n; i++)
        if (agent[i] == fd)
            return 1;
    return fd >= 0 && fd == capture_dirfd;
}

/* The summary (text, "key value" lines): read by cr_info and the snapshot metadata. Runs with
 * every other thread parked: stack only, no lock. */
static int loader_busy; /* the last capture found ld.so's loader lock held (produce) */
static int arena_busy;  /* ... or a malloc arena locked, with threads to be held after it */
static int agent_busy;  /* ... or the agent's lock held by a thread to be held after it */
/* pml_capture_self is under way: the program's own thread takes the image (no agent epoch, no
 * coordinator); in the image, so the restarted process knows it too. */
static int self_mode;
static int will_hold;   /* this capture holds threads after it (--term, or its restart) */

/* A child the rank forked (a helper, a worker: taken along by a tree capture) is no rank: its
 * image holds an empty "mpi" section, which a restart reads as no rank's (crs/uspace/restart.c);
 * forked_child is declared above own_fd */

static void after_fork_child(void)
{
    forked_child = 1;
}

static int produce(void *arg, struct crs_ext_sink *sink)
{
    (void)arg;
    if (forked_child)
        return 0;
    if (pml_world_rank == 0 && revive_fault(REVIVE_FAULT_mpi_image_late)) {
        struct timespec late = { 2, 0 }; /* after the pages: the image finishes late (save_shared.sh) */
        nanosleep(&late, NULL);
    }
    /* every other thread is parked now: one that owns ld.so's loader lock (inside dlopen or
     * dlclose) would keep it in the image, which no restart can undo, and keep it from the agent
     * for the rest of a --term epoch (pml_capture tries again) */
    if (pml_ldso_loader_busy()) {
        loader_busy = 1;
        return -EAGAIN;
    }
    /* A thread parked inside malloc keeps its arena locked: held after the capture (--term) or
     * in the restarted rank (hold_restarted), it would keep the agent's malloc waiting for ever
     * (the staging's, ld.so's when the fresh MPI loads; measured with MALLOC_ARENA_MAX=1,
     * tests/mpi/ckpt/rst_heldlock.sh). Tried again once the threads ran a little. */
    if (will_hold && pml_arena_locked() == 1) {
        arena_busy = 1;
        return -EAGAIN;
    }
    /* So does a thread parked holding the agent's lock (inside MPIX_Checkpoint's wait, between
     * a wake and its next wait): the agent takes it to end the epoch before it lets the held
     * threads go (agent_epoch_ended), and waited for ever (diffrev37 R-L11) */
    if (will_hold && pml_agent_running && !self_mode && snapc_agent_lock_busy()) {
        agent_busy = 1;
        return -EAGAIN;
    }
    int live = 0, all = pml_rec_counts(&live);
    uint64_t dmsgs = 0, dbytes = 0, claimed = 0, precv = 0, psend = 0, pother = 0, ncomm = 0;
    for (struct pml_dmsg *m = pml_dbuf_head; m; m = m->next) {
        dmsgs++;
        dbytes += m->bytes;
        claimed += m->claimed != 0;
    }
    for (struct pml_req *r = pml_rq_head; r; r = r->next) {
        if (r->kind == PML_RQ_RECV)
            precv++;
        else if (r->kind == PML_RQ_SEND)
            psend++;
        else
            pother++;
    }
    for (struct pml_comm *c = pml_comms; c; c = c->next)
        ncomm += !(c->flags & PML_COMM_FREED);
    uint64_t sent = 0;
    for (int i = 0; i < pml_world_size; i++)
        sent += pml_sent_to[i];
    char buf[1024];
    int n = snprintf(buf, sizeof buf,
                     "revive-mpi 1\n"
                     "world_rank %d\nworld_size %d\n"
                     "record_entries %d\nrecord_live %d\n"
                     "pending_receives %llu\npending_sends %llu\npending_other %llu\n"
                     "completed_by_revive %u\n"
                     "drained_messages %llu\ndrained_bytes %llu\ndrained_matched %llu\n"
                     "communicators %llu\nmessages_sent %llu\nmessages_received %llu\n"
                     "zombie_children %d\n",
                     pml_world_rank, pml_world_size, all, live, (unsigned long long)precv,
                     (unsigned long long)psend, (unsigned long long)pother, pml_rq_ndone,
                     (unsigned long long)dmsgs, (unsigned long long)dbytes, (unsigned long long)claimed,
                     (unsigned long long)ncomm, (unsigned long long)sent,
                     (unsigned long long)pml_received, pml_children_kept());
    return crs_ext_write(sink, buf, (size_t)n);
}

/* At MPI_Init: the summary producer and the filter for the capture's own descriptor. */
void pml_capture_init(void)
{
    static const struct crs_capture_filter f = { .owner = "mpi-capture", .fd_exclude = own_fd };
    int e = crs_capture_filter_register(&f);
    if (!e)
        e = crs_capture_extension_register("mpi", produce, NULL);
    pml_children_init();
    static int atfork;
    if (!e && !atfork++)
        e = -pthread_atfork(NULL, NULL, after_fork_child);
    if (e)
        revive_log_warn("cannot register the MPI layer's capture callbacks: %s", strerror(-e));
}

/* An epoch that holds (--term, --stop: SNAPC_CKPT_HOLD): after the capture every thread of the
 * application stays parked where the capture stopped it until the epoch's RESUME or ABORT (a
 * thread outside MPI ran on until its next MPI call, printing or writing after the snapshot point
 * what the restarted job prints again, or rewriting a state file one step past the image); the
 * lower half's threads run on, for the finalize of resume(TERM). Asked by libcr's checkpoint, in
 * the agent thread, while every other thread is parked (as the capture filter's questions). */
static int hold_upper(void *arg, pid_t tid)
{
    (void)arg;
    return pml_half_of_thread(tid, NULL) != PML_HALF_LOWER;
}

static int holding;

/* ... and in its restarted process the fresh MPI failed: said to the program, not retried */
static int self_restart_failed;

/* The last try's refusal was the rank's zombies being more than a snapshot keeps (copy_windows):
 * only the application's wait makes them fewer, which no retry waits for. */
static int zombies_over;
static int stopping_seen; /* the rank was stopping the job (pml_stopping_job): refused at once */
/* ... or zombies only, which the rank cannot keep (no pid of its choice at a restart) */
static int zombies_unchosen;

/* This try takes the rank's running children along (a tree image: pml_children_running) */
static int tree_mode;
/* ... and was refused as a holding snapshot stopping more processes under the rank than it can
 * (tree_commit): only the application makes them fewer, which no retry waits for */
static int tree_refused;
/* ... or because the rank cannot choose a pid (copy_windows: no restart could bring the running
 * child back under its pid), tried again as for a running child before */
static int tree_nocap;

/* The last try's refusal was of a passing state (crs_ckpt_result.passing): a client of a system
 * daemon with the reply to its request waiting unread, which the rank's thread reads as soon as
 * it runs (pml_capture tries again). */
static int request_in_progress;

/* Every thread of the rank is parked (and every member's operations on its windows completed:
 * the settle's last barrier came before the capture): the library's window memory is copied
 * now, so the image has what the application's threads stored in it up to where they stopped
 * (win_ckpt.c). */
static int copy_windows(void *arg, char *err, size_t errlen)
{
    /* the rank's zombie children, which its image keeps (children.c): libcr lets them be */
    struct crs_ckpt_opts *o = arg;
    if (pml_stopping_refusal(err, errlen)) {
        stopping_seen = 1;
        return -ENOTRECOVERABLE;
    }
    pml_halves_recheck_chunks(); /* (done in the capture's memory map, before libcr asks the filter
                                  * which memory is the library's) */
    o->nkept_zombies = pml_children_note(&o->kept_zombies);
    if (pml_children_zombies_over()) {
        /* refused now, in our words: libcr's refusal would name them as children and
         * pml_capture's retries (for a running child, which ends soon) took 10 s for nothing */
        zombies_over = 1;
        snprintf(err, errlen, "rank %d had more than 64 zombie children (ended, not reaped): a "
                 "rank's snapshot keeps at most 64; reap them (wait, waitpid, pclose) before the "
                 "snapshot", pml_world_rank);
        return -ENOTSUP;
    }
    if (tree_mode) {
        /* the tree's members are the rank's children, zombies too (none kept by the layer);
         * revive-restart-rank brings the running ones back under their pids */
        o->nkept_zombies = 0;
        int32_t rp;
        const char *rc;
        int nrun = pml_children_running(1, &rp, &rc);
        if (nrun) {
            tree_nocap = 1;
            /* tried again as before (pml_capture): a command's child ends soon, and a rank
             * with zombies only is said so then */
            snprintf(err, errlen, "rank %d had %s (%d '%.16s'%s): a rank's snapshot brings a running child "
                     "back under its pid, which only a rank that may choose a pid can (root or "
                     "CAP_CHECKPOINT_RESTORE); let the rank's commands (system, popen, fork) end before the "
                     "snapshot, or run the job with that capability", pml_world_rank,
                     nrun == 1 ? "a running child process" : "running child processes", (int)rp, rc,
                     nrun > 1 ? " and others" : "");
            return -ENOTSUP;
        }
        /* a rank that cannot choose a pid whose running child ended since the look before the
         * capture: zombies only, said as below (the tree would take them, for no restart) */
        if (!pml_children_zombies_refused())
            return pml_win_copy_saved(pml_agent_running && !self_mode ? snapc_agent_epoch() : 0, err, errlen);
    }
    int32_t zp;
    const char *zc;
    int nzo = pml_children_zombies_only(&zp, &zc);
    if (nzo) {
        /* Zombies only, and the rank cannot choose a pid: libcr refuses them as children, and
         * pml_capture's tries (for a running child, which ends soon) waited 10 s although only the
         * application's wait makes zombies fewer. Said now (pml_capture tries once more, for a
         * zombie of system() or pclose that its parked caller had not reaped yet). */
        zombies_unchosen = 1;
        snprintf(err, errlen, "rank %d had %s that had ended and %s not reaped (%s: %d '%.16s'%s): "
                 "a rank's snapshot brings them back only when the rank may choose a pid (root or "
                 "CAP_CHECKPOINT_RESTORE); reap them (wait, waitpid, pclose) before the snapshot, or "
                 "run the job with that capability", pml_world_rank,
                 nzo > 64 ? "more than 64 child processes" : nzo == 1 ? "a child process" : "child processes",
                 nzo == 1 ? "was" : "were", nzo == 1 ? "a zombie" : "a zombie each", (int)zp, zc,
                 nzo > 1 ? " and others" : "");
        return -ENOTSUP;
    }
    /* a capture of the program's own (pml_capture_self) is no epoch of the agent's: its ranks
     * copy without meeting, as they reach it at the same point of the program */
    return pml_win_copy_saved(pml_agent_running && !self_mode ? snapc_agent_epoch() : 0, err, errlen);
}

/* In the restarted rank: the library's window memory the application reads and writes
 * directly (MPI_Win_allocate(_shared)) is not mapped until the replay made its window again and
 * every rank put its part back (restart.c's last barrier). An application thread that was
 * outside MPI at the snapshot would run on into it at once: SIGSEGV on the addresses kept free
 * for it, or a store the copy-back then overwrote (campaign-failures.md #25). Every restored
 * thread is held until then; without such windows none is. */
static int held_restart;

static int hold_restarted(void *arg, pid_t tid)
{
    (void)arg, (void)tid;
    /* the program's seccomp filters go in at the unhold too, once the fresh MPI_Init ran
     * (seccomp_later below): no thread runs on without them */
    if (!pml_win_lib_memory() && !crs_seccomp_restore_waiting())
        return 0;
    held_restart = 1;
    return 1;
}

/* As early as the windows allow (and the program's seccomp filters, which go in here first:
 * crs_ckpt_opts.seccomp_later): a held thread parked where the snapshot found it may hold a
 * lock of the application's libc (stdio's list, the environment's) that the rank's own code
 * would wait for; the restart until its barrier takes none of those (the fresh library's calls
 * go to its own libc, the layer's allocations to the agent thread's malloc arena). */
void pml_capture_restart_unhold(void)
{
    if (held_restart || crs_seccomp_restore_waiting()) {
        held_restart = 0;
        crs_runtime_component()->unhold();
    }
}

void pml_capture_unhold(void)
{
    pml_children_cont(); /* a holding tree capture's children, stopped after it */
    if (holding) {
        holding = 0;
        crs_runtime_component()->unhold();
    }
}

static int capture_once(const char *image_path, struct snapc_capture_result *r, int hold, int term);
/* this capture saves the pages of the rank's writable shared file mappings (r->save_shared) */
static int save_shared;

/* Whether a thread of this process has a child now (/proc/self/task/T/children, as libcr's
 * capture looks): libcr refuses an image of a process with children (ENOTSUP). */
static int rank_has_children(void)
{
    revive_fd_enter(); /* the application's threads run: no fork copies these (common/fd_guard.h) */
    DIR *d = opendir("/proc/self/task");
    if (!d) {
        revive_fd_leave();
        return 0;
    }
    int found = 0;
    for (struct dirent *t; !found && (t = readdir(d));) {
        if (t->d_name[0] == '.')
            continue;
        char path[64], c = 0;
        snprintf(path, sizeof path, "/proc/self/task/%.16s/children", t->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            found = read(fd, &c, 1) == 1;
            close(fd);
        }
    }
    closedir(d);
    revive_fd_leave();
    return found;
}

/* A capture that found ld.so's loader lock held is tried again once the threads ran a little
 * (a thread inside dlopen or dlclose leaves it within microseconds, unless the program loads
 * libraries without pause: then up to 200 tries and at least 10 s, each pause as long as the
 * try before it and 10 ms at least: on a loaded machine the parked thread may not have run at
 * all in a fixed 10 ms, so it was still inside dlopen at each of 200 tries, term_dlopen-mpich in
 * CI); so is one that would hold
 * threads after it and found a malloc arena locked (produce). So is one refused because the
 * rank had a running child process: a rank inside system() or popen() (a helper command between
 * steps) is no safe point for one process's image, but the command ends soon; up to 10 s, 20 ms
 * apart (review of session 10: a job running a command each step could almost never be
 * checkpointed). A child that has ended and was not reaped (a zombie) is no obstacle: the image
 * keeps its pid and status and the restarted rank makes it again (children.c); more than it
 * keeps refuse at once (copy_windows: no try waits for the application's wait). A client of a
 * system daemon with a reply waiting unread (a request in progress) is tried again the same way
 * (issue 7). */
int pml_capture(const char *image_path, struct snapc_capture_result *r)
{
    int hold = r->hold != 0, term = hold && r->term != 0;
    save_shared = r->save_shared != 0;
    double first = revive_mono_s();
    int unchosen_seen = 0; /* a try found zombies only, which the rank cannot keep */
    char at[PATH_MAX + 64]; /* where the image goes: r->full may name another place */
    snprintf(at, sizeof at, "%s", image_path);
    /* the callers' In fields that capture_once clears with the result (a try after the first
     * ran without them) */
    void (*parked)(void) = r->parked;
    int (*full)(char *, size_t, int) = r->full;
    for (int attempt = 1, kids = 0, busy = 0, trees = 0;; attempt++) {
        double start = revive_mono_s();
        loader_busy = arena_busy = agent_busy = 0;
        will_hold = hold || pml_win_lib_memory() || crs_seccomp_notes_any();
        /* a failed attempt dropped the copies of the windows' library memory (pml_restart_done):
         * mapped again, or the next image held none and the restart gave the window zeros */
        if (attempt > 1 && pml_win_save_memory(r->err, sizeof r->err))
            return -ENOMEM;
        pml_restart_on_parked(parked);
        zombies_over = zombies_unchosen = request_in_progress = tree_refused = stopping_seen = 0;
        self_restart_failed = 0;
        int e = capture_once(at, r, hold, term);
        pml_restart_on_parked(NULL);
        if (e == 1 || self_restart_failed)
            return e; /* the restarted rank (its fresh MPI failed: pml_capture_self says why) */
        /* a full file system: the agent frees room in its node's cache or names the snapshot
         * directory instead (agent_epoch.c), and the image is taken again */
        if ((e == -ENOSPC || e == -EDQUOT) && full && full(at, sizeof at, e))
            continue;
        if ((e == -ENOTSUP && zombies_over) || tree_refused || (e && stopping_seen))
            return e; /* at once, its message from copy_windows (tree_commit) */
        if (e == -ENOTSUP && zombies_unchosen) {
            /* its message from copy_windows; one try more, after the threads ran (the length of
             * a try, 20 ms at least), for a command's zombie that a parked system() or pclose had
             * not reaped yet */
            if (unchosen_seen)
                return e;
            unchosen_seen = 1;
            double pause = revive_mono_s() - start;
            pause = pause < 0.02 ? 0.02 : pause > 0.5 ? 0.5 : pause;
            struct timespec d = {0, (long)(pause * 1e9)};
            nanosleep(&d, NULL);
            continue;
        }
        /* A request to a system daemon in progress, its reply waiting unread (libcr's refusal,
         * crs_ckpt_result.passing): the rank's thread reads it as soon as it runs, so the rank is
         * released and parked again, 20 ms apart, for up to 10 s as for a running child below
         * (issue 7: the --term park, at any moment, caught a rank after the reply arrived and
         * before its recv returned, and the snapshot was refused at once). */
        if (e && request_in_progress) {
            double now = revive_mono_s();
            if (++busy >= 3 && now - first >= 10) {
                char was[sizeof r->err];
                memcpy(was, r->err, sizeof was);
                snprintf(r->err, sizeof r->err, "%.330s; it was so at each of %d tries over %d s (is "
                         "the rank stopped or blocked before it reads the reply, or did the service send "
                         "only part of it?)", was, busy, (int)(now - first + 0.5));
                return e;
            }
            struct timespec d = {0, 20 * 1000 * 1000};
            nanosleep(&d, NULL);
            continue;
        }
        /* A tree capture (the rank had a running child) that failed: tried again 20 ms apart for
         * up to 10 s, as a running child was before (a child of system() or popen() is a vfork
         * child until it starts its command, which no capture can take; a command that ends
         * meanwhile is gone), then said in the tree's words (the process, the object, what to
         * do), the rank named; a timeout at once, and so is a tree over the saved-file limit
         * (-EFBIG, crs_tree_fdata_add), which no try changes: it was tried again for 10 s
         * (tests/snapc/mpi_scratch.sh's tree case: its refusal took 10.5 s, 0.5 s without a child). */
        if (e < 0 && tree_mode && !tree_nocap && !loader_busy && !arena_busy && !agent_busy) {
            if (e == -ETIMEDOUT || e == -EFBIG || (++trees >= 3 && revive_mono_s() - first >= 10)) {
                char was[sizeof r->err];
                memcpy(was, r->err, sizeof was);
                snprintf(r->err, sizeof r->err, "rank %d had a running child process, which its snapshot "
                         "takes along, but: %.400s", pml_world_rank, was);
                return e;
            }
            struct timespec d = {0, 20 * 1000 * 1000};
            nanosleep(&d, NULL);
            continue;
        }
        /* the child may have been reaped between libcr's look and ours: its refusal
         * (src/crs/uspace/capture_children.c) names child processes */
        if (e == -ENOTSUP && !loader_busy && !arena_busy && !agent_busy &&
            (rank_has_children() || strstr(r->err, " child process"))) {
            if (++kids == 500) {
                /* libcr's refusal names the children but ends with cr_checkpoint --tree, which no
                 * rank can use, and is long enough that with our words around it the line was
                 * cut (wire text is 512 bytes): only the names are kept from it. */
                char names[128] = "";
                const char *p = strstr(r->err, " child process");
                const char *q = p ? strchr(p, '(') : NULL;
                const char *z = q ? strstr(q, "): ") : NULL;
                if (z && z - q - 1 < (ptrdiff_t)sizeof names - 3)
                    snprintf(names, sizeof names, " (%.*s)", (int)(z - q - 1), q + 1);
                if (pml_children_zombies_refused())
                    snprintf(r->err, sizeof r->err, "rank %d had a child process%s at each of %d tries "
                             "over 10 s: a rank's snapshot brings back its children (running, or ended "
                             "and not reaped) under their pids only when the rank may choose a pid (root "
                             "or CAP_CHECKPOINT_RESTORE); run the job with that capability, or let the "
                             "rank's commands (system, popen, fork) end and reap them (pclose, wait) "
                             "before the snapshot", pml_world_rank, names, kids);
                else {
                    char was[sizeof r->err];
                    memcpy(was, r->err, sizeof was);
                    snprintf(r->err, sizeof r->err, "rank %d had a child process%s at each of %d tries "
                             "over 10 s that its snapshot could not take: %.200s", pml_world_rank, names,
                             kids, was);
                }
                return e;
            }
            struct timespec d = {0, 20 * 1000 * 1000};
            nanosleep(&d, NULL);
            continue;
        }
        if (!loader_busy && !arena_busy && !agent_busy)
            return e;
        double now = revive_mono_s();
        int last = attempt >= 200 && now - first >= 10;
        if (last && arena_busy) {
            snprintf(r->err, sizeof r->err, "a thread of rank %d was inside malloc or free (an arena "
                     "of its malloc locked) at each of %d tries: a snapshot so would leave it "
                     "holding that lock while the rank needs it", pml_world_rank, attempt);
            return -EBUSY;
        }
        if (last && agent_busy) {
            snprintf(r->err, sizeof r->err, "a thread of rank %d held Revive's agent lock (inside "
                     "MPIX_Checkpoint) at each of %d tries: a snapshot so would leave it holding "
                     "that lock while the rank needs it", pml_world_rank, attempt);
            return -EBUSY;
        }
        if (last) {
            snprintf(r->err, sizeof r->err, "a thread of rank %d was inside dlopen or dlclose (ld.so's "
                     "loader lock held) at each of %d tries: a snapshot so could not be restarted",
                     pml_world_rank, attempt);
            return -EBUSY;
        }
        /* the threads run for as long as a try took (the machine's load), 10 ms at least */
        double pause = now - start > 0.01 ? now - start : 0.01;
        if (pause > 0.5)
            pause = 0.5;
        struct timespec d = {0, (long)(pause * 1e9)};
        nanosleep(&d, NULL);
    }
}

/* The program's own thread takes the rank's image (pml_restart_capture: a rank program checkpoints
 * itself without a coordinator), as the agent's capture does: the calling thread is libcr's
 * checkpoint thread, every other one parked. So in the restarted rank this thread returns first
 * while the others are held, runs the fresh lower half's MPI_Init (pml_restart_done), and only
 * then the program's seccomp filters go in (seccomp_later, at the unhold). Through libcr's request
 * path (cr_request_checkpoint, which this replaced) they went in before that MPI_Init, which
 * failed on a call the program had forbidden for itself after its own MPI_Init (rst_lockdown.sh). */
int pml_capture_self(const char *image_path, char *err, size_t errlen)
{
    struct snapc_capture_result r;
    memset(&r, 0, sizeof r);
    self_mode = 1;
    int e = pml_capture(image_path, &r);
    self_mode = 0;
    if (e < 0)
        snprintf(err, errlen, "%s", r.err);
    return e;
}

int pml_file_data_max(uint64_t *bytes)
{
    /* a restarted job: restart-mpi's environment first (the application keeps its own) */
    const char *v = pml_restart_getenv("REVIVE_FILE_DATA_MAX");
    if (!v)
        v = getenv("REVIVE_FILE_DATA_MAX");
    uint64_t b;
    if (!v || !*v)
        return 0;
    if (revive_size_arg(v, &b) < 0)
        return -1;
    *bytes = b ? b : UINT64_MAX;
    return 1;
}

/* The capture's limit from pml_file_data_max: 0, or -EINVAL with the reason in err (a value
 * that is no size). */
static int file_data_limit(struct crs_ckpt_opts *o, char *err, size_t len)
{
    o->file_data_hint = "mpirun -am ft-enable-cr --ckpt-file-data-max SIZE, or "
                        "REVIVE_FILE_DATA_MAX=SIZE for the ranks";
    uint64_t b;
    int set = pml_file_data_max(&b);
    if (set < 0) {
        const char *v = pml_restart_getenv("REVIVE_FILE_DATA_MAX");
        snprintf(err, len, "REVIVE_FILE_DATA_MAX=%.64s is no size (give one such as 4G, 512M, or "
                 "0 for no limit)", v ? v : getenv("REVIVE_FILE_DATA_MAX"));
        return -EINVAL;
    }
    if (set)
        o->file_data_max = b;
    return 0;
}

/* A tree capture's commit (crs_tree_ckpt_opts.commit): the tree file durable under its name,
 * before the children are stopped (an epoch that holds) or run on. */
struct tree_commit_arg {
    struct crs_durable *d;
    int stop; /* the epoch holds: libcr SIGSTOPs the children right after this */
    int term; /* --term: they end with the rank (the refusal's words) */
};

static int tree_commit(void *arg, char *err, size_t errlen)
{
    struct tree_commit_arg *a = arg;
    int e = a->stop ? pml_children_stop_list(a->term, err, errlen) : 0;
    if (e) {
        tree_refused = 1; /* not a passing state: no retry */
        return e;
    }
    e = crs_durable_commit(a->d, err, errlen);
    if (e)
        tree_refused = 1; /* a disk's failure (flush, rename): no passing state either */
    /* the stopped tree's list and its cover, made before libcr stops anyone: a rank killed at
     * any moment after leaves no child stopped for ever (diffrev27 T-H2'; the cover made after
     * the stop left a gap a SIGKILL of the rank hit) */
    if (!e && a->stop)
        pml_children_stop();
    return e;
}

static int capture_once(const char *image_path, struct snapc_capture_result *r, int hold, int term)
{
    memset(r, 0, sizeof *r);
    /* what a restart will check, saved now; the layer's restart hook armed (restart.c) */
    int e = pml_restart_prepare(r->err, sizeof r->err);
    if (e)
        return e;
    struct crs_durable d;
    e = crs_durable_open(&d, image_path, 0600);
    if (e) {
        pml_restart_done(0, NULL, 0);
        snprintf(r->err, sizeof r->err, "cannot create the image %.300s: %s", d.path,
                 strerror(-e));
        return e;
    }
    capture_dirfd = d.dirfd;
    struct crs_ckpt_opts o;
    memset(&o, 0, sizeof o);
    o.fd = d.fd;
    o.timeout_ms = 30000;
    /* A descriptor of the rank that cannot be restored refuses the snapshot,
     * naming it: recording it as closed (as cr_checkpoint --ignore-fds does)
     * committed snapshots whose restart then failed (a TCP connection between
     * ranks, review13 HIGH-1). The launcher's pipes and sockets were open when
     * the rank started, so they are inherited ones (reconnected at restart);
     * the lower half's are left out by the halves filter. */
    o.ignore_fds = 0;
    o.no_ignore_hint = 1;
    o.save_shared = save_shared;
    /* the files deleted while open (scratch files) and in /dev/shm the image may hold: the
     * ranks' limit is mpirun's --ckpt-file-data-max, which a refusal names (cr_checkpoint's
     * option, which it named, is no MPI user's: review MEDIUM-6) */
    e = file_data_limit(&o, r->err, sizeof r->err);
    /* the copies of MPI_MODE_DELETE_ON_CLOSE files (objs_ckpt.c), within the same limit */
    uint64_t max = o.file_data_max == UINT64_MAX ? 0
                   : o.file_data_max                ? o.file_data_max
                                                    : CRS_FILE_DATA_MAX_DEFAULT;
    uint64_t scratch = 0;
    if (!e)
        e = pml_objs_keep_scratch(max, &scratch, r->err, sizeof r->err);
    /* ... and one limit for the image: the files deleted while open that the capture saves count
     * with these copies (each kind checked on its own, a rank's image held twice the limit, and
     * with children (a tree file) each of them the default's 1 GiB more: session 45) */
    o.file_data_held = scratch;
    o.file_data_held_what = "copies of the rank's MPI_MODE_DELETE_ON_CLOSE files";
    if (e) {
        pml_restart_done(0, NULL, 0);
        crs_durable_abort(&d);
        capture_dirfd = -1;
        return e;
    }
    /* daemons' sockets a site adds to the reconnectable ones (revive(7)): a restarted job's
     * from restart-mpi's environment first (the application keeps its own) */
    o.service_sockets = pml_restart_getenv("REVIVE_SERVICE_SOCKETS");
    if (hold)
        o.hold_thread = hold_upper;
    o.after_park = copy_windows;
    o.arg = &o; /* copy_windows sets the kept zombies */
    o.hold_restarted = hold_restarted;
    /* a filter the program installed after MPI_Init may forbid calls MPI_Init makes: in the
     * restarted rank it goes in at the unhold, after the fresh lower half's MPI_Init and the
     * restart's barrier (diffrev19 LOW-D) */
    o.seccomp_later = 1;
    held_restart = 0;
    if (!self_mode && (pml_world_rank & 1) && pml_agent_running && snapc_agent_epoch() == 1 &&
        revive_fault(REVIVE_FAULT_mpi_meet_absent)) {
        capture_dirfd = -1;
        pml_restart_done(0, NULL, 0);
        snprintf(r->err, sizeof r->err, "rank %d does not take part (fault point mpi-meet-absent)",
                 pml_world_rank);
        crs_durable_abort(&d);
        return -EIO;
    }
    if ((pml_world_rank & 1) && revive_fault(REVIVE_FAULT_mpi_park_late)) {
        struct timespec late = { 1, 0 }; /* the others park first (shstore.sh) */
        nanosleep(&late, NULL);
    }
    struct crs_ckpt_result res;
    int rc;
    tree_mode = pml_children_running(0, NULL, NULL) > 0;
    tree_nocap = 0;
    if (tree_mode && hold && (e = pml_children_stop_precheck(term, r->err, sizeof r->err)) != 0) {
        tree_refused = 1; /* as tree_commit's refusal: at once, no retry */
        capture_dirfd = -1;
        pml_restart_done(0, NULL, 0);
        crs_durable_abort(&d);
        return e;
    }
    if (tree_mode) {
        /* A running child (a command the rank runs, a helper it forked): its image is taken with
         * the rank's, into one tree file whose member 0 is the rank (libcr's
         * crs_runtime_tree_here); the file is made durable inside (to.commit), before the
         * children are stopped (signal_after), so that they run no further than their images.
         * Every epoch that holds the rank stops them so (--term, --stop, --save-files): left
         * running until --stop's stop of the job, or for ever with --save-files and a job that
         * runs on, a child wrote files past its image before the copy (diffrev37 R-M2). The
         * unhold continues them (pml_capture_unhold), --stop's job stop takes them over. */
        struct crs_tree_ckpt_opts to;
        memset(&to, 0, sizeof to);
        to.scope = CRS_TREE_SCOPE_TREE;
        to.id = getpid();
        to.timeout_ms = o.timeout_ms;
        to.signal_after = hold ? SIGSTOP : 0;
        to.flags = save_shared ? CRS_REQ_F_SAVE_SHARED : 0;   /* the children's mappings too */
        to.commit = tree_commit;
        to.no_ignore_hint = 1; /* a rank offers neither --tree nor --ignore-fds (newuser7d F1) */
        /* the rank's limit for the whole tree file (its children asked to write theirs with
         * it too: unset, they had the default's 1 GiB each), the scratch copies within it */
        to.file_data_max = o.file_data_max ? o.file_data_max : CRS_FILE_DATA_MAX_DEFAULT;
        uint64_t mb = (o.file_data_max + (1 << 20) - 1) >> 20;
        to.file_data_max_mb = o.file_data_max == UINT64_MAX ? CRS_PROTO_NO_LIMIT
                              : mb >= CRS_PROTO_NO_LIMIT    ? CRS_PROTO_NO_LIMIT - 1
                                                            : (uint32_t)mb;
        to.file_data_held = o.file_data_held;
        to.file_data_held_what = o.file_data_held_what;
        to.file_data_hint = o.file_data_hint;
        struct tree_commit_arg ta = { &d, hold, term };
        to.arg = &ta;
        rc = crs_runtime_tree_here(&o, &to, &res);
        if (rc < 0) {
            pml_children_cont(); /* (a failure after the commit: none known) the cover ended, none stopped */
            /* A refusal at the commit (more processes under the rank than a holding epoch
             * stops, the file not made durable) comes after the rank's own capture, which kept
             * its application threads held (hold_upper): let go now, as for any failed
             * capture. Left held (holding is set for a committed capture only), nobody let them go:
             * the epoch failed, the job hung in the held threads. Harmless when none is held. */
            if (hold)
                crs_runtime_component()->unhold();
        }
    } else {
        rc = crs_runtime_checkpoint_here(&o, &res);
    }
    if (rc == 1) {
        /* the restarted process: its descriptors of the past are gone (never saved); the
         * original committed the image. A fresh MPI underneath before the agent goes on. */
        capture_dirfd = -1;
        char err[1024];
        if (pml_restart_done(1, err, sizeof err)) {
            if (self_mode) {
                /* the program's call returns the failure, as any failed checkpoint call */
                pml_capture_restart_unhold();
                snprintf(r->err, sizeof r->err, "%.500s", err);
                self_restart_failed = 1;
                return -EIO;
            }
            if (pml_restart_refusal_said_elsewhere()) {
                revive_log_info("the restart of rank %d stops: %s", pml_world_rank, err);
                _exit(1);
            }
            pml_fatal("the restart of rank %d failed: %s", pml_world_rank, err);
        }
        pml_capture_restart_unhold(); /* done after the restart's barrier; a fallback */
        return 1;
    }
    capture_dirfd = -1;
    holding = hold && rc == 0;
    pml_restart_done(0, NULL, 0);
    if (rc) {
        request_in_progress = res.passing;
        snprintf(r->err, sizeof r->err, "%s", res.err);
        crs_durable_abort(&d);
        return rc;
    }
    struct crs_image_header h;
    /* a tree file (committed already): the header of member 0's image, the rank's */
    const char *back = tree_mode ? d.path : d.tmp;
    revive_fd_enter(); /* (threads may run: --continue) */
    int rfd = tree_mode ? openat(d.dirfd, d.name, O_RDONLY | O_CLOEXEC)
                        : open(back, O_RDONLY | O_CLOEXEC); /* d.fd is write-only */
    uint64_t at = 0;
    ssize_t got = -1;
    if (rfd >= 0 && (!tree_mode || crs_tree_first_image(rfd, &at) >= 0))
        got = pread(rfd, &h, sizeof h, (off_t)at);
    e = errno;
    struct stat st;
    uint64_t bytes = rfd >= 0 && tree_mode && fstat(rfd, &st) == 0 ? (uint64_t)st.st_size : res.image_bytes;
    if (rfd >= 0)
        close(rfd);
    revive_fd_leave();
    /* what the metadata records: the whole file's checksum, a tree file's every member's
     * (crs_image_file_sum; a plain image's is its header's) */
    uint64_t sum = h.header_checksum;
    char serr[256] = "";
    if (got == (ssize_t)sizeof h && tree_mode &&
        (e = -crs_image_file_sum(back, &sum, NULL, NULL, serr, sizeof serr)) != 0)
        got = -1;
    if (got != (ssize_t)sizeof h) {
        e = got < 0 && e ? -e : -EIO;
        snprintf(r->err, sizeof r->err, "cannot read back the header%s of %.300s: %s", serr[0] ? "s" : "",
                 back, serr[0] ? serr : strerror(-e));
        if (tree_mode) {
            unlinkat(d.dirfd, d.name, 0);
            crs_durable_close(&d);
            pml_children_cont();
        } else {
            crs_durable_abort(&d);
        }
        pml_capture_unhold();
        return e;
    }
    if (!tree_mode) {
        e = crs_durable_commit(&d, r->err, sizeof r->err);
        if (e) {
            crs_durable_abort(&d);
            pml_capture_unhold();
            return e;
        }
    }
    crs_durable_close(&d);
    r->bytes = bytes;
    r->checksum = sum;
    snprintf(r->shared, sizeof r->shared, "%s", res.shared);
    return 0;
}
