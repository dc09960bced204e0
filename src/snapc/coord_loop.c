/* The coordinator's one poll loop (coord_int.h coord_loop): each turn runs the timers and
 * ticks, works out how long it may sleep, then polls the launcher's signals, the tools' Unix
 * socket, the ranks' TCP listener, the coordinator's own staging and fetch, and every
 * connection, and hands what is ready to the file that owns it. It returns when the job has
 * ended and nothing is left to finish, or when the loop itself fails (poll, memory). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "snapc/coord_int.h"

/* The launcher has ended: 1 when the loop is done, 0 while the job's end is still being
 * finished (ranks closing, the coordinator's own staging, a held or asked commit). */
static int child_done_turn(int64_t now)
{
    /* node-local first, in COMMIT: every image is verified on shared storage, the
     * commit needs nobody (a job whose launcher ended after a node was lost) */
    /* staging, ranks still connected: their connections close now (GONE), and the
     * images nobody is left to stage the coordinator stages from its host's cache
     * (coord_selfstage.c, newuser9 F5) before the outcome is known */
    int closing = coord.p.self_stage && coord.p.phase == SNAPC_P_STAGE &&
                  (coord_self_stage_busy() ||
                   (coord_live_rank_conns() > 0 && now - coord.child_done_ms < COORD_EXIT_GRACE_MS));
    /* (nor a commit whose hosts are being asked: coord_lost.c, it commits then) */
    if (coord.p.phase != SNAPC_P_IDLE &&
        !(coord.p.phase == SNAPC_P_COMMIT && (coord.p.stage || coord_lost_asking())) &&
        !closing)
        coord_local_fail(-ESRCH, "the job ended during the checkpoint");
    coord_restart_job_ended();
    /* --term's tools hear once the ranks are gone too (after the loop) */
    /* (nor while it copies an image itself: its commit may follow) */
    return !coord.commit_held && !coord_self_stage_busy() &&
           (coord_live_rank_conns() == 0 || now - coord.child_done_ms >= COORD_EXIT_GRACE_MS);
}

/* The timers of a turn: each file's tick, the --ckpt-interval request, the connections that
 * never said HELLO, and the protocol's own tick. */
static void ticks(int64_t now)
{
    coord_fetch_tick();
    coord_lost_tick(); /* the hosts asked for a commit or a failure's reason (R-L3) */
    coord_launch_wait_tick(now);
    coord_start_wait_tick(now);
    coord_term_tick(now);
    coord_restart_end_tick(now);
    coord_launch_redeliver_tick(now);
    coord_stop_tick(now);
    coord_wait_note_tick(now);
    if (coord.next_tick && now >= coord.next_tick) {
        coord.next_tick = now + (int64_t)coord.cfg->interval_s * 1000;
        if (!coord.term_pending && !coord.child_done) {
            coord_start_timer_none(); /* no rank under Revive: said once (coord_startwait.c) */
            if (coord.p.phase == SNAPC_P_IDLE)
                coord_update_next_seq();
            struct snapc_event ev = {.type = SNAPC_EV_REQUEST};
            ev.u.req.source = SNAPC_SRC_TIMER;
            ev.u.req.client = -1;
            coord_feed(&ev);
        }
    }
    /* pending connections that never said HELLO */
    for (int i = 0; i < coord.nc; i++)
        if ((coord.c[i].kind == C_PENDING || (coord.c[i].kind == C_TOOL && !coord.c[i].asked)) &&
            now - coord.c[i].t_accept > COORD_HELLO_TIMEOUT_MS) {
            revive_log_info("a connection from %s said nothing for %d s; closed", coord.c[i].peer,
                            COORD_HELLO_TIMEOUT_MS / 1000);
            coord_conn_close(i);
        }
    struct snapc_event tick = {.type = SNAPC_EV_TICK};
    coord_feed(&tick);
}

/* How long poll may sleep (ms, -1: until something comes): until the earliest deadline of
 * any timer, at most a minute. */
static int poll_timeout(int64_t now)
{
    int64_t wake = -1;
#define WAKE(t) do { int64_t _t = (t); if (_t > 0 && (wake < 0 || _t < wake)) wake = _t; } while (0)
    WAKE(snapc_proto_deadline(&coord.p));
    WAKE(coord.next_tick);
    WAKE(coord.term_signal_at);
    WAKE(coord.term_kill_at);
    WAKE(coord_restart_end_deadline());
    WAKE(coord_launch_redeliver_deadline());
    WAKE(coord_stop_wake(now));
    WAKE(coord_wait_note_deadline());
    WAKE(coord_launch_wait_deadline());
    WAKE(coord_start_wait_deadline());
    if (coord.child_done)
        WAKE(coord.child_done_ms + COORD_EXIT_GRACE_MS);
    if (coord.commit_held || coord_gone_held())
        WAKE(now + 50);
    if (coord_lost_asking())
        WAKE(now + 10);
    for (int i = 0; i < coord.nc; i++)
        if (coord.c[i].kind == C_PENDING || (coord.c[i].kind == C_TOOL && !coord.c[i].asked))
            WAKE(coord.c[i].t_accept + COORD_HELLO_TIMEOUT_MS + 1);
#undef WAKE
    return wake < 0 ? -1 : (int)(wake > now ? (wake - now > 60000 ? 60000 : wake - now) : 0);
}

/* What poll watches: pf[k] with who[k] its owner (a connection's index, or one of these). */
enum { W_SIGNALS = -1, W_UNIX = -2, W_TCP = -3, W_SELF_STAGE = -4, W_FETCH = -5 };
struct watch {
    struct pollfd *pf;
    int *who;
    int cap;
};

/* Fills w for this turn; returns how many, -1 when out of memory. */
static int watch_fill(struct watch *w)
{
    int need = coord.nc + 5;
    if (need > w->cap) {
        w->cap = need + 16;
        w->pf = realloc(w->pf, (size_t)w->cap * sizeof *w->pf);
        w->who = realloc(w->who, (size_t)w->cap * sizeof *w->who);
        if (!w->pf || !w->who)
            return -1;
    }
    int np = 0;
    /* (snapc-gone-hold: nor the launcher's end while ranks' ends are held) */
    w->pf[np] = (struct pollfd){.fd = coord_gone_held() ? -1 : coord.sfd, .events = POLLIN};
    w->who[np++] = W_SIGNALS;
    w->pf[np] = (struct pollfd){.fd = coord.child_done ? -1 : coord.ufd, .events = POLLIN};
    w->who[np++] = W_UNIX;
    w->pf[np] = (struct pollfd){.fd = coord.child_done ? -1 : coord.tfd, .events = POLLIN};
    w->who[np++] = W_TCP;
    w->pf[np] = (struct pollfd){.fd = coord_self_stage_fd(), .events = POLLIN};
    w->who[np++] = W_SELF_STAGE;
    w->pf[np] = (struct pollfd){.fd = coord_fetch_fd(), .events = POLLIN};
    w->who[np++] = W_FETCH;
    for (int i = 0; i < coord.nc; i++)
        if (coord.c[i].kind != C_FREE && !coord.c[i].gone_held) {
            w->pf[np] = (struct pollfd){.fd = coord.c[i].fd, .events = POLLIN};
            w->who[np++] = i;
        }
    return np;
}

static void dispatch(const struct watch *w, int np, int ready)
{
    for (int k = 0; k < np && ready > 0; k++) {
        if (!w->pf[k].revents)
            continue;
        switch (w->who[k]) {
        case W_SIGNALS: coord_on_signal(); break;
        case W_UNIX: coord_accept_unix(); break;
        case W_TCP: coord_accept_tcp(); break;
        case W_SELF_STAGE: coord_self_stage_ready(); break;
        case W_FETCH: coord_fetch_ready(); break;
        default:
            if (coord.c[w->who[k]].kind != C_FREE && coord.c[w->who[k]].fd == w->pf[k].fd)
                coord_conn_readable(w->who[k]);
        }
    }
}

void coord_loop(void)
{
    struct watch w = {0};
    for (;;) {
        int64_t now = coord_now_ms();
        coord_commit_hold_tick(now);
        coord_gone_hold_tick(now);
        if (coord.child_done && child_done_turn(now))
            break;
        ticks(now);
        int timeout = poll_timeout(now);
        int np = watch_fill(&w);
        if (np < 0) {
            revive_log_error("out of memory in the coordinator");
            break;
        }
        int r = poll(w.pf, (nfds_t)np, timeout);
        if (r < 0 && errno != EINTR) {
            revive_log_error("poll: %s", strerror(errno));
            break;
        }
        dispatch(&w, np, r);
    }
    free(w.pf);
    free(w.who);
}
