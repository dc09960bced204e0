/* The job's own checkpoint options as a committed sequence's metadata records them (the
 * mpirun wrapper's --ckpt-*, coord_meta.c), which restart-mpi carries into the restarted job
 * (restart_carry_job_options): one line of ckpt-info's text, or its "ckpt_options" JSON object.
 * A key an older snapshot lacks is left out (not carried either). */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "filem/filem.h"
#include "snapc/util.h"
#include "tools/snapc/ckpt_info.h"

/* a flag key: "1" on */
static int on(const struct filem_meta *m, const char *k)
{
    const char *v = filem_meta_get(m, k);
    return v && !strcmp(v, "1");
}

/* a number key other than "0" (0 is the default: no periodic snapshot, keep all, no limit) */
static const char *nonzero(const struct filem_meta *m, const char *k)
{
    const char *v = filem_meta_get(m, k);
    return v && *v && strcmp(v, "0") ? v : NULL;
}

static void json_num(struct snapc_sbuf *jb, int *first, const char *name, const char *v)
{
    if (!v || !*v || strspn(v, "0123456789") != strlen(v))
        return;
    snapc_sb_printf(jb, "%s\"%s\":%s", *first ? "" : ",", name, v);
    *first = 0;
}

static void json_flag(struct snapc_sbuf *jb, int *first, const struct filem_meta *m,
                      const char *name, const char *k)
{
    if (!filem_meta_get(m, k))
        return;
    snapc_sb_printf(jb, "%s\"%s\":%s", *first ? "" : ",", name, on(m, k) ? "true" : "false");
    *first = 0;
}

static void json_str(struct snapc_sbuf *jb, int *first, const char *name, const char *v)
{
    if (!v)
        return;
    snapc_sb_printf(jb, "%s\"%s\":", *first ? "" : ",", name);
    snapc_sb_json_str(jb, v);
    *first = 0;
}

void info_ckpt_options(const struct filem_meta *m, struct snapc_sbuf *jb)
{
    const char *local = filem_meta_get(m, "ckpt.local");
    const char *sf = filem_meta_get(m, "ckpt.save_files");
    const char *fdm = filem_meta_get(m, "ckpt.file_data_max");
    /* save_shared.job: the job's option (ckpt.save_shared says also one snapshot's
     * ckpt-mpirun --save-shared, which a restart does not carry) */
    if (jb) {
        int first = 1;
        snapc_sb_printf(jb, ",\"ckpt_options\":{");
        json_num(jb, &first, "interval_s", filem_meta_get(m, "ckpt.interval_s"));
        json_num(jb, &first, "keep", filem_meta_get(m, "ckpt.keep"));
        json_str(jb, &first, "local", local);
        json_flag(jb, &first, m, "partner", "ckpt.partner");
        json_num(jb, &first, "stage_bw", filem_meta_get(m, "ckpt.stage_bw"));
        json_flag(jb, &first, m, "no_wait_stage", "ckpt.no_wait_stage");
        json_str(jb, &first, "file_data_max", fdm);
        json_flag(jb, &first, m, "save_shared", "ckpt.save_shared.job");
        json_str(jb, &first, "save_files", sf);
        snapc_sb_printf(jb, "}");
        return;
    }
    struct snapc_sbuf b = {0};
    const char *v;
    if ((v = nonzero(m, "ckpt.interval_s")))
        snapc_sb_printf(&b, " --ckpt-interval %s", v);
    if ((v = nonzero(m, "ckpt.keep")))
        snapc_sb_printf(&b, " --ckpt-keep %s", v);
    if (local && strcmp(local, "default"))
        snapc_sb_printf(&b, " --ckpt-local %s", local);
    if (on(m, "ckpt.partner"))
        snapc_sb_printf(&b, " --ckpt-partner");
    if ((v = nonzero(m, "ckpt.stage_bw")))
        snapc_sb_printf(&b, " --ckpt-stage-bw %s", v);
    if (on(m, "ckpt.no_wait_stage"))
        snapc_sb_printf(&b, " --ckpt-no-wait-stage");
    if (fdm && *fdm)
        snapc_sb_printf(&b, " --ckpt-file-data-max %s", fdm);
    if (on(m, "ckpt.save_shared.job"))
        snapc_sb_printf(&b, " --ckpt-save-shared");
    if (sf && *sf)
        snapc_sb_printf(&b, " --ckpt-save-files %s", sf);
    printf("  checkpoint options (a restart keeps them):%s\n", b.p ? b.p : " none (the defaults)");
    snapc_sb_free(&b);
}
