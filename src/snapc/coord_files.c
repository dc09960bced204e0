/* --save-files in the coordinator: the files a job rewrites, copied into the sequence while every
 * rank is held after its capture (SNAPC_ACT_SAVE_FILES), checked again at the commit and listed
 * in snapshot.meta (src/filem/files_save.h; newuser7e F2). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "filem/files_save.h"
#include "snapc/coord_int.h"

/* The job's list (--ckpt-save-files) and the epoch's requests' (ckpt-mpirun --save-files),
 * each PATH once. */
static void epoch_list(char *out, size_t len)
{
    const char *job = coord.cfg->save_files ? coord.cfg->save_files : "";
    snprintf(out, len, "%s", job);
    size_t n = strlen(out);
    for (const char *s = coord.p.files; *s;) {
        size_t l = strcspn(s, ",");
        char item[PATH_MAX + 1];
        snprintf(item, sizeof item, "%.*s", (int)(l < PATH_MAX ? l : PATH_MAX), s);
        if (l && !coord_list_has(out, item) && n + 1 + l + 1 <= len) {
            n += (size_t)snprintf(out + n, len - n, "%s%s", n ? "," : "", item);
        }
        s += l + (s[l] == ',');
    }
}

/* The job's snapshot directory and this host's node-local cache: no PATH may be, hold or lie in
 * one (diffrev37 R-H1); set once, the job directory known from the coordinator's set-up */
static void keep_out(void)
{
    static int set;
    if (set)
        return;
    set = 1;
    char cache[PATH_MAX] = "";
    if (coord_cache_dir(cache, sizeof cache) < 0)
        cache[0] = 0;
    const char *ko[2] = {coord.jobdir, cache};
    filem_files_keep_out(ko, 2);
}

int coord_files_check(const char *list, char *err, size_t errlen)
{
    keep_out();
    return filem_files_check(list, err, errlen);
}

int coord_files_absolute(const char *list, char *out, size_t len)
{
    return filem_files_absolute(list, out, len);
}

void coord_save_files(void)
{
    char list[2 * SNAPC_FILES_LIST_MAX], err[1024] = "";
    keep_out();
    epoch_list(list, sizeof list);
    filem_meta_free(&coord.files_meta);
    filem_meta_init(&coord.files_meta);
    int64_t t0 = coord_now_ms();
    int e = coord.seqdir[0] ? filem_files_save(coord.seqdir, list, &coord.files_meta, err, sizeof err)
                            : -ENOENT;
    if (e == -ENOENT && !coord.seqdir[0])
        snapc_fmt(err, sizeof err, "no sequence directory");
    struct snapc_event ev = {.type = SNAPC_EV_FILES_SAVED};
    ev.u.done.status = e;
    ev.u.done.msg = err;
    if (e == 0)
        revive_log_info("checkpoint %llu: %d files, directories and links of --save-files (%s) "
                        "copied in %lld ms",
                        (unsigned long long)coord.p.seq, filem_files_count(&coord.files_meta), list,
                        (long long)(coord_now_ms() - t0));
    else
        filem_meta_free(&coord.files_meta);
    const char *absent = e == 0 ? filem_meta_get(&coord.files_meta, "files.absent") : NULL;
    if (absent)
        /* the job's list, judged at each snapshot (revive-coord.c): said each time, it changes */
        revive_log_info("checkpoint %llu: --ckpt-save-files: %s did not exist: recorded missing; "
                        "a restart from this snapshot moves what is there then aside",
                        (unsigned long long)coord.p.seq, absent);
    coord_feed(&ev);
}

int coord_files_verify(char *err, size_t errlen)
{
    if (!filem_files_count(&coord.files_meta))
        return 0;
    char e2[768];
    int e = filem_files_verify(coord.seqdir, &coord.files_meta, NULL, e2, sizeof e2);
    if (e < 0)
        snapc_fmt(err, errlen, "%s", e2);
    return e;
}

void coord_files_meta(struct filem_meta *m)
{
    for (int i = 0; i < coord.files_meta.n; i++)
        filem_meta_set(m, coord.files_meta.kv[i].key, "%s", coord.files_meta.kv[i].value);
}

void coord_files_reset(void)
{
    filem_meta_free(&coord.files_meta);
    filem_meta_init(&coord.files_meta);
}
