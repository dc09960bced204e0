/* The metadata of a snapshot (snapshot.meta, see filem.h): the job, the
 * launcher, the application, and each rank's image and counts. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "snapc/coord_int.h"

static void put_time(struct filem_meta *m, const char *key, int phase)
{
    if (!coord.p.t_phase[phase])
        return;
    char t[32];
    snapc_wall_str(t, sizeof t, coord.wall_start + (coord.p.t_phase[phase] - coord.mono_start));
    filem_meta_set(m, key, "%s", t);
}

int coord_list_has(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *s = list; s && *s;) {
        size_t l = strcspn(s, ",");
        if (l == n && !strncmp(s, item, n))
            return 1;
        s += l + (s[l] == ',');
    }
    return 0;
}

/* Copies "key value" lines of a rank's INFO under rank.<r>.<key>. */
static void put_info(struct filem_meta *m, int r, const char *info)
{
    const char *s = info;
    while (s && *s) {
        const char *nl = strchr(s, '\n');
        size_t ll = nl ? (size_t)(nl - s) : strlen(s);
        const char *sp = memchr(s, ' ', ll);
        /* partner_listen: where the rank took partner copies this epoch, not a fact to keep */
        if (sp && sp > s && sp - s < 64 && strncmp(s, "partner_listen ", 15) != 0) {
            char key[96];
            snprintf(key, sizeof key, "rank.%d.%.*s", r, (int)(sp - s), s);
            filem_meta_set(m, key, "%.*s", (int)(ll - (size_t)(sp - s) - 1), sp + 1);
        }
        s = nl ? nl + 1 : NULL;
    }
}

int coord_build_meta(struct filem_meta *m, char *err, size_t errlen)
{
    const struct snapc_coord_cfg *cfg = coord.cfg;
    filem_meta_init(m);
    filem_meta_set(m, "format", "1");
    filem_meta_set(m, "revive_version", "%s", PACKAGE_VERSION);
    filem_meta_set(m, "seq", "%llu", (unsigned long long)coord.p.seq);
    filem_meta_set(m, "epoch", "%u", coord.p.epoch);
    filem_meta_set(m, "job_id", "%d", (int)getpid());
    filem_meta_set(m, "reference", "%s", coord.seqdir);
    filem_meta_set(m, "state", "committed");
    if (coord.parent_seq >= 0) {
        filem_meta_set(m, "parent.jobdir", "%s", coord.parent_jobdir);
        filem_meta_set(m, "parent.seq", "%lld", (long long)coord.parent_seq);
    }
    static const char *const tk[SNAPC_PHASE_COUNT] = {
        [SNAPC_PHASE_REQUESTED] = "time.requested", [SNAPC_PHASE_PENDING] = "time.pending",
        [SNAPC_PHASE_RUNNING] = "time.running",     [SNAPC_PHASE_QUIESCED] = "time.quiesced",
        [SNAPC_PHASE_DRAINED] = "time.drained",     [SNAPC_PHASE_CAPTURED] = "time.captured",
    };
    for (int ph = 0; ph < SNAPC_PHASE_COUNT; ph++)
        if (tk[ph])
            put_time(m, tk[ph], ph);
    char t[32];
    snapc_wall_str(t, sizeof t, snapc_wall_ms());
    filem_meta_set(m, "time.established", "%s", t);
    filem_meta_set(m, "timeout_s", "%u", coord.p.timeout_s);
    filem_meta_set(m, "ckpt.interval_s", "%d", cfg->interval_s);
    filem_meta_set(m, "ckpt.keep", "%d", cfg->keep);
    if (cfg->save_files) /* the job's --ckpt-save-files (absolute): a restart saves them too */
        filem_meta_set(m, "ckpt.save_files", "%s", cfg->save_files);
    /* where the images were written first: each node's cache ("default": its own
     * $TMPDIR/revive-local-<uid>), or "none" (straight into the snapshot directory) */
    filem_meta_set(m, "ckpt.local", "%s",
                   !cfg->local_dir ? "none" : *cfg->local_dir ? cfg->local_dir : "default");
    /* whether the ranks saved the files they map shared (--save-shared): restart-mpi reads the
     * images' saved regions to pick each file's writer only then (restart_saved.h) */
    filem_meta_set(m, "ckpt.save_shared", "%d",
                   (coord.p.flags & SNAPC_TOOL_SAVE_SHARED) || cfg->save_shared ? 1 : 0);
    /* the job's --ckpt-save-shared alone (not one snapshot's ckpt-mpirun --save-shared): a
     * restart's snapshots save them too (restart_carry_job_options) */
    filem_meta_set(m, "ckpt.save_shared.job", "%d", cfg->save_shared ? 1 : 0);
    /* the job's other --ckpt-* options, which a restart takes again (restart_carry_job_options)
     * unless restart-mpi's own say otherwise: --ckpt-partner, --ckpt-stage-bw (bytes per
     * second, 0: no limit), --ckpt-no-wait-stage, and --ckpt-file-data-max (read by each rank
     * from REVIVE_FILE_DATA_MAX, which the coordinator has too; recorded only when given) */
    filem_meta_set(m, "ckpt.partner", "%d", cfg->partner ? 1 : 0);
    filem_meta_set(m, "ckpt.stage_bw", "%llu", (unsigned long long)cfg->stage_bw);
    filem_meta_set(m, "ckpt.no_wait_stage", "%d", cfg->mpix_nowait ? 1 : 0);
    const char *fdm = getenv("REVIVE_FILE_DATA_MAX");
    if (fdm && *fdm)
        filem_meta_set(m, "ckpt.file_data_max", "%s", fdm);
    filem_meta_set(m, "raises", "%u", coord.p.raises);
    filem_meta_set(m, "ranks", "%d", coord.p.nranks);
    /* launcher and application */
    filem_meta_set(m, "launcher.flavor", "%s", cfg->flavor ? cfg->flavor : "?");
    if (cfg->launcher)
        filem_meta_set(m, "launcher.path", "%s", cfg->launcher);
    filem_meta_set(m, "launcher.argc", "%d", cfg->nuser_args);
    for (int i = 0; i < cfg->nuser_args; i++) {
        char k[48];
        snprintf(k, sizeof k, "launcher.arg.%d", i);
        filem_meta_set(m, k, "%s", cfg->user_args[i]);
    }
    struct snapc_sbuf pb = {0};
    for (int i = 0; i < cfg->nprogs; i++)
        snapc_sb_printf(&pb, "%s%d", i ? "," : "", cfg->progs[i]);
    filem_meta_set(m, "launcher.progs", "%s", pb.p ? pb.p : "");
    snapc_sb_free(&pb);
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd))
        filem_meta_set(m, "cwd", "%s", cwd);
    filem_meta_set(m, "env_filter", "the lower half gets the new launcher's environment; the "
                                    "application keeps its own (restored with its memory)");
    if (cfg->nprogs > 0 && cfg->progs[0] < cfg->nuser_args) {
        struct snapc_sbuf ab = {0};
        for (int i = cfg->progs[0]; i < cfg->nuser_args && strcmp(cfg->user_args[i], ":"); i++)
            snapc_sb_printf(&ab, "%s%s", i > cfg->progs[0] ? " " : "", cfg->user_args[i]);
        filem_meta_set(m, "app.argv", "%s", ab.p ? ab.p : "");
        snapc_sb_free(&ab);
    }
    /* per rank */
    uint64_t total = 0;
    struct snapc_sbuf hosts = {0}, lost = {0};
    /* (the hosts of ranks that ended were asked before: coord_commit, coord_lost_settle) */
    for (int r = 0; r < coord.p.nranks; r++) {
        const struct snapc_rank_rec *rr = &coord.p.r[r];
        int i = r < coord.nrank_conn ? coord.rank_conn[r] : -1;
        char k[64];
#define RK(name) (snprintf(k, sizeof k, "rank.%d." name, r), k)
        filem_meta_set(m, RK("image"), "rank_%d.img", r);
        filem_meta_set(m, RK("size"), "%llu", (unsigned long long)rr->bytes);
        filem_meta_set(m, RK("checksum"), "0x%016" PRIx64, rr->checksum);
        filem_meta_set(m, RK("sent"), "%llu", (unsigned long long)rr->drain.sent);
        filem_meta_set(m, RK("received"), "%llu", (unsigned long long)rr->drain.received);
        filem_meta_set(m, RK("drained_msgs"), "%llu", (unsigned long long)rr->drain.drained_msgs);
        filem_meta_set(m, RK("drained_bytes"), "%llu", (unsigned long long)rr->drain.drained_bytes);
        filem_meta_set(m, RK("pending_recvs"), "%llu", (unsigned long long)rr->drain.pending_recvs);
        filem_meta_set(m, RK("nbc_completed"), "%llu", (unsigned long long)rr->drain.nbc_completed);
        if (i >= 0) {
            filem_meta_set(m, RK("host"), "%s", coord.c[i].host);
            filem_meta_set(m, RK("pid"), "%u", coord.c[i].pid);
            if (coord.c[i].info)
                put_info(m, r, coord.c[i].info);
            /* still connected, but its host did not answer when asked (cut off: no FIN came;
             * coord_lost_settle asks only when other ranks ended): lost with its node */
            int cut = coord.rank_last && r < coord.nrank_conn && coord.rank_last[r].lost;
            if (cut) {
                filem_meta_set(m, RK("gone"), "1");
                filem_meta_set(m, RK("gone.why"), "%s", coord.rank_last[r].answer);
            }
            struct snapc_sbuf *list = cut ? &lost : &hosts;
            if (!coord_list_has(list->p, coord.c[i].host))
                snapc_sb_printf(list, "%s%s", list->len ? "," : "", coord.c[i].host);
        } else if (coord.rank_last && r < coord.nrank_conn && coord.rank_last[r].host[0]) {
            /* its connection closed after its image was captured (its node lost while
             * staging, the image staged from its partner copy; or the launcher ended it, its
             * node up): where it ran, as it said. "hosts" keeps the hosts whose ranks were
             * there at the commit or ended with their node up ("hosts.lost" the others): a
             * commit after Open MPI's mpirun had ended the job named the coordinator's own
             * host's ranks as lost with their node, and no host at all (newuser9b N4).
             * Lost: its host went silent, or did not answer when asked just now
             * (coord_lost_settle), whatever order the ranks' ends were read in */
            const struct rank_last *l = &coord.rank_last[r];
            filem_meta_set(m, RK("host"), "%s", l->host);
            filem_meta_set(m, RK("pid"), "%u", l->pid);
            filem_meta_set(m, RK("gone"), "%s", l->lost ? "1" : "ended");
            if (l->answer[0]) /* the evidence: what its host answered, or its silence */
                filem_meta_set(m, RK("gone.why"), "%s", l->answer);
            struct snapc_sbuf *list = l->lost ? &lost : &hosts;
            if (l->host[0] && !coord_list_has(list->p, l->host))
                snapc_sb_printf(list, "%s%s", list->len ? "," : "", l->host);
            if (l->info)
                put_info(m, r, l->info);
        }
#undef RK
        total += rr->bytes;
    }
    coord_self_stage_meta(m);
    coord_files_meta(m); /* --save-files: files.* */
    coord_partner_meta(m);
    filem_meta_set(m, "bytes", "%llu", (unsigned long long)total);
    filem_meta_set(m, "hosts", "%s", hosts.p ? hosts.p : "");
    if (lost.p)
        filem_meta_set(m, "hosts.lost", "%s", lost.p);
    snapc_sb_free(&hosts);
    snapc_sb_free(&lost);
    /* the application binary and the MPI library, as the ranks ran them */
    const char *exe = filem_meta_get(m, "rank.0.exe");
    struct filem_file_facts f;
    char e2[512];
    if (exe && filem_file_facts(exe, &f, e2, sizeof e2) == 0)
        filem_meta_put_facts(m, "app", &f);
    const char *lib = filem_meta_get(m, "rank.0.mpi_library");
    if (lib && filem_file_facts(lib, &f, e2, sizeof e2) == 0)
        filem_meta_put_facts(m, "mpi", &f);
    (void)err;
    (void)errlen;
    return 0;
}
