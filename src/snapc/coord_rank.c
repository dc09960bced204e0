/* The ranks' frames at the coordinator: HELLO (the job's secret, the rank's
 * place in the job), then the protocol messages, turned into events for proto.c. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "filem/filem.h"
#include "snapc/coord_int.h"

void coord_rank_hello(int i)
{
    struct conn *c = &coord.c[i];
    char err[160];
    if (c->rd.hdr.type == SNAPC_MSG_STARTED) {
        coord_start_started(i);
        return;
    }
    if (c->rd.hdr.type != SNAPC_MSG_HELLO || snapc_wire_check(&c->rd.hdr, c->rd.buf, err, sizeof err) < 0) {
        revive_log_warn("a connection from %s did not start with HELLO; closed", c->peer);
        coord_conn_close(i);
        return;
    }
    struct snapc_hello h;
    memcpy(&h, c->rd.buf, sizeof h);
    int ok = snapc_secret_equal(h.secret, coord.secret, SNAPC_SECRET_HEX);
    explicit_bzero(c->rd.buf, c->rd.hdr.len);
    if (!ok) {
        revive_log_warn("refused a connection from %s: wrong job secret (not a rank of this job)",
                        c->peer);
        const char *why = "wrong job secret: this connection does not belong to the job";
        snapc_wire_send(c->fd, SNAPC_MSG_REFUSED, 0, NULL, 0, why, (uint32_t)strlen(why), 1000);
        coord_conn_close(i);
        return;
    }
    int rank = (int)h.world_rank;
    if (h.world_size == 0 || h.world_size > (1u << 20) || h.world_rank >= h.world_size ||
        (coord.p.nranks && (int)h.world_size != coord.p.nranks) ||
        (rank < coord.nrank_conn && coord.rank_conn[rank] >= 0) ||
        (coord.p.nranks && rank < coord.p.nranks && coord.p.r[rank].hello)) {
        char why[160];
        snapc_fmt(why, sizeof why, "rank %u of %u does not fit this job (%d ranks%s)", h.world_rank,
                 h.world_size, coord.p.nranks,
                 rank < coord.nrank_conn && coord.rank_conn[rank] >= 0 ? ", rank already connected" : "");
        revive_log_warn("refused a rank from %s: %s", c->peer, why);
        snapc_wire_send(c->fd, SNAPC_MSG_REFUSED, 0, NULL, 0, why, (uint32_t)strlen(why), 1000);
        coord_conn_close(i);
        return;
    }
    if (coord.nrank_conn == 0) {
        coord.rank_conn = malloc(h.world_size * sizeof *coord.rank_conn);
        if (!coord.rank_conn) {
            coord_conn_close(i);
            return;
        }
        for (uint32_t r = 0; r < h.world_size; r++)
            coord.rank_conn[r] = -1;
        coord.rank_last = calloc(h.world_size, sizeof *coord.rank_last);
        for (uint32_t r = 0; coord.rank_last && r < h.world_size; r++)
            coord.rank_last[r].fd = -1;
        coord.nrank_conn = (int)h.world_size;
    }
    coord_lost_forget(rank); /* a connection of its before this one is no evidence now */
    c->kind = C_RANK;
    c->rank = rank;
    c->rd.max_len = COORD_RANK_MAX_PAYLOAD;
    snapc_wire_str(c->host, sizeof c->host, h.host, sizeof h.host);
    snapc_wire_str(c->flavor, sizeof c->flavor, h.flavor, sizeof h.flavor);
    c->pid = h.pid;
    c->restarted_seq = (h.flags & SNAPC_HELLO_RESTARTED) ? h.restarted_seq : -1;
    coord.rank_conn[rank] = i;
    struct snapc_welcome w = {.job_id = (uint64_t)getpid(), .world_size = h.world_size};
    if (coord_conn_send(i, SNAPC_MSG_WELCOME, &w, sizeof w, NULL, 0) < 0) {
        coord.rank_conn[rank] = -1;
        c->kind = C_PENDING;
        coord_conn_close(i);
        return;
    }
    revive_log_debug("rank %d (pid %u on %s) connected%s", rank, h.pid, c->host,
                     c->restarted_seq >= 0 ? " after a restart" : "");
    struct snapc_event ev = {.type = SNAPC_EV_HELLO, .rank = rank};
    ev.u.hello.world_size = h.world_size;
    coord_feed(&ev);
    coord_restart_hello();
}

static int epoch_bound(int type)
{
    return type == SNAPC_MSG_SEQS || type == SNAPC_MSG_RAISE || type == SNAPC_MSG_QUIESCED ||
           type == SNAPC_MSG_DRAINED || type == SNAPC_MSG_CAPTURED || type == SNAPC_MSG_FAILED ||
           type == SNAPC_MSG_STAGED || type == SNAPC_MSG_PARTNERED || type == SNAPC_MSG_STAGED_FOR;
}

/* A rank that finished its copy into a sequence whose staging had failed already (a full
 * directory: another rank's copy failed while this one's went on) left its image there, which
 * coord_stage_failed's removal had missed: it goes now, so that the directory gets its room back
 * (review10: 3 of 3 on a 3 MiB tmpfs, one 1.5 MiB image left per failed sequence). */
static void drop_late_copy(int rank, const struct snapc_hdr *h, const uint8_t *p)
{
    if (!coord.failed_stage_set || h->epoch != coord.failed_stage_epoch)
        return;
    int r = rank;
    if (h->type == SNAPC_MSG_STAGED_FOR) {
        struct snapc_staged_for sf;
        memcpy(&sf, p, sizeof sf);
        if (sf.status != 0 || sf.rank > (uint32_t)INT32_MAX)
            return;
        r = (int)sf.rank;
    } else {
        struct snapc_staged sd;
        memcpy(&sd, p, sizeof sd);
        if (sd.status != 0)
            return;
    }
    char img[PATH_MAX];
    filem_image_path(img, sizeof img, coord.jobdir, coord.failed_stage_seq, r);
    if (unlink(img) == 0)
        revive_log_debug("rank %d's image of the failed sequence %llu, copied after the failure, "
                         "removed", r, (unsigned long long)coord.failed_stage_seq);
}

void coord_rank_frame(int i)
{
    struct conn *c = &coord.c[i];
    const struct snapc_hdr *h = &c->rd.hdr;
    const uint8_t *p = c->rd.buf;
    char err[160];
    if (snapc_wire_check(h, p, err, sizeof err) < 0) {
        revive_log_warn("rank %d sent a malformed message (%s); its connection is closed", c->rank,
                        err);
        coord_conn_close(i);
        return;
    }
    if (h->type == SNAPC_MSG_STAGED || h->type == SNAPC_MSG_STAGED_FOR)
        drop_late_copy(c->rank, h, p);
    if (epoch_bound(h->type) && (coord.p.phase == SNAPC_P_IDLE || h->epoch != coord.p.epoch))
        return; /* a late message of an epoch that is over */
    if (h->type == SNAPC_MSG_CONTINUED) {
        coord_rank_continued(c->rank);
        return;
    }
    struct snapc_event ev = {.rank = c->rank};
    switch (h->type) {
    case SNAPC_MSG_INFO: {
        char *t = malloc(h->len + 1);
        if (t) {
            memcpy(t, p, h->len);
            t[h->len] = 0;
            free(c->info);
            c->info = t;
            coord_stdin_note(c->rank, t);
            coord_shared_note(c->rank, t);
            coord_local_full_note(c->rank, t);
        }
        return;
    }
    case SNAPC_MSG_SEQS: {
        struct snapc_table t;
        memcpy(&t, p, sizeof t);
        ev.type = SNAPC_EV_SEQS;
        ev.u.seqs.n = (int)t.n;
        struct snapc_seq *tab = t.n ? malloc(t.n * sizeof *tab) : NULL;
        if (t.n && !tab) {
            coord_conn_close(i);
            return;
        }
        if (t.n)
            memcpy(tab, p + sizeof t, t.n * sizeof *tab);
        ev.u.seqs.t = tab;
        coord_feed(&ev);
        free(tab);
        return;
    }
    case SNAPC_MSG_RAISE: {
        struct snapc_raise r;
        memcpy(&r, p, sizeof r);
        ev.type = SNAPC_EV_RAISE;
        ev.u.raise.cid = r.cid;
        ev.u.raise.target = r.target;
        break;
    }
    case SNAPC_MSG_STATE: {
        struct snapc_state_msg s;
        memcpy(&s, p, sizeof s);
        char what[sizeof s.what + 1];
        snapc_wire_str(what, sizeof what, s.what, sizeof s.what);
        ev.type = SNAPC_EV_STATE;
        ev.u.state.version = h->epoch == coord.p.epoch ? s.version_seen : 0;
        ev.u.state.at_target = s.at_target;
        ev.u.state.in_cs = s.in_cs;
        ev.u.state.finalizing = s.finalizing;
        ev.u.state.what = what;
        coord_feed(&ev);
        return;
    }
    case SNAPC_MSG_QUIESCED: ev.type = SNAPC_EV_QUIESCED; break;
    case SNAPC_MSG_DRAINED: {
        struct snapc_drained d;
        memcpy(&d, p, sizeof d);
        ev.type = SNAPC_EV_DRAINED;
        memcpy(&ev.u.drained, &d, sizeof d);
        break;
    }
    case SNAPC_MSG_CAPTURED: {
        struct snapc_captured cp;
        memcpy(&cp, p, sizeof cp);
        ev.type = SNAPC_EV_CAPTURED;
        ev.u.captured.bytes = cp.bytes;
        ev.u.captured.checksum = cp.checksum;
        break;
    }
    case SNAPC_MSG_STAGED: {
        struct snapc_staged sd;
        memcpy(&sd, p, sizeof sd);
        char msg[SNAPC_TEXT_MAX];
        snapc_wire_text(msg, sizeof msg, (const char *)p + sizeof sd, h->len - sizeof sd);
        if (sd.status == 0)
            revive_log_info("rank %d: image staged (%llu bytes, copy %lld ms, verify %lld ms)",
                            c->rank, (unsigned long long)sd.bytes,
                            (long long)(sd.copy_ns / 1000000), (long long)(sd.verify_ns / 1000000));
        if (sd.partner)
            coord_partner_staged(c->rank, sd.partner < 0 ? sd.partner : 1, msg);
        ev.type = SNAPC_EV_STAGED;
        ev.u.staged.status = sd.status > 0 ? -sd.status : sd.status;
        ev.u.staged.msg = msg;
        coord_feed(&ev);
        return;
    }
    case SNAPC_MSG_PARTNERED: {
        struct snapc_partnered pd;
        memcpy(&pd, p, sizeof pd);
        char msg[SNAPC_TEXT_MAX];
        snapc_wire_text(msg, sizeof msg, (const char *)p + sizeof pd, h->len - sizeof pd);
        coord_partner_staged(c->rank, pd.status < 0 ? pd.status : 1, msg);
        ev.type = SNAPC_EV_PARTNERED;
        ev.u.partnered.holder = pd.status > 0 ? coord_partner_holder(c->rank) : -1;
        if (ev.u.partnered.holder < 0)
            return;
        break;
    }
    case SNAPC_MSG_STAGED_FOR: {
        struct snapc_staged_for sf;
        memcpy(&sf, p, sizeof sf);
        char msg[SNAPC_TEXT_MAX];
        snapc_wire_text(msg, sizeof msg, (const char *)p + sizeof sf, h->len - sizeof sf);
        if (sf.status == 0)
            revive_log_info("rank %u: image staged from its partner copy by rank %d (%llu bytes, "
                            "copy %lld ms, verify %lld ms)",
                            sf.rank, c->rank, (unsigned long long)sf.bytes,
                            (long long)(sf.copy_ns / 1000000), (long long)(sf.verify_ns / 1000000));
        ev.type = SNAPC_EV_STAGED_FOR;
        ev.u.staged.status = sf.status > 0 ? -sf.status : sf.status;
        ev.u.staged.msg = msg;
        ev.u.staged.for_rank = sf.rank > (uint32_t)INT32_MAX ? -1 : (int)sf.rank;
        coord_feed(&ev);
        return;
    }
    case SNAPC_MSG_FAILED: {
        struct snapc_failed f;
        memcpy(&f, p, sizeof f);
        char msg[SNAPC_TEXT_MAX];
        if (h->len > sizeof f) /* the whole message */
            snapc_wire_text(msg, sizeof msg, (const char *)p + sizeof f, h->len - sizeof f);
        else
            snapc_wire_str(msg, sizeof msg, f.msg, sizeof f.msg);
        ev.type = SNAPC_EV_FAILED;
        ev.u.failed.err = f.err;
        ev.u.failed.phase = (int)f.phase;
        ev.u.failed.msg = msg;
        coord_feed(&ev);
        return;
    }
    case SNAPC_MSG_REQUEST: {
        struct snapc_request q;
        memcpy(&q, p, sizeof q);
        ev.type = SNAPC_EV_REQUEST;
        ev.u.req.source = SNAPC_SRC_RANK;
        ev.u.req.collective = (int)q.collective;
        ev.u.req.world_seq = q.world_seq;
        ev.u.req.client = -1;
        if (coord.p.phase == SNAPC_P_IDLE)
            coord_update_next_seq();
        break;
    }
    default:
        revive_log_warn("rank %d sent a message of type %u, which ranks do not send; its "
                        "connection is closed",
                        c->rank, h->type);
        coord_conn_close(i);
        return;
    }
    coord_feed(&ev);
}
