/* What restart-mpi launches (restart_mpi.h): the job's launcher arguments as this restart runs
 * them (the saved ones, the options given after --, --hostfile), the launch command with each
 * program replaced by the rank restarter, and the coordinator's exec in restart mode; with the
 * argument lists and --relocate's rule they are built with. */
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
#include "crs/base/relocated.h"
#include "filem/alive.h"
#include "filem/filem.h"
#include "filem/files_save.h"
#include "filem/stage_mark.h"
#include "filem/verified.h"
#include "snapc/hosts.h"
#include "snapc/restart_lock.h"
#include "snapc/util.h"
#include "restart_cache.h"
#include "restart_fetch.h"
#include "restart_files.h"
#include "restart_saved.h"
#include "restart_meta_ask.h"
#include "restart_override.h"
#include "restart_signal.h"
#include "restart_stdin.h"
#include "snap_owner.h"
#include "restart_mpi.h"
#include "tools/tool_die.h"

#ifndef REVIVE_PKGLIBEXECDIR
#define REVIVE_PKGLIBEXECDIR "/usr/local/libexec/revive"
#endif

void restart_push(struct argv *a, const char *s)
{
    if (a->n + 2 > a->cap) {
        a->cap = a->cap ? 2 * a->cap : 64;
        a->v = realloc(a->v, (size_t)a->cap * sizeof *a->v);
        if (!a->v)
            restart_die("out of memory");
    }
    a->v[a->n] = strdup(s);
    if (!a->v[a->n])
        restart_die("out of memory");
    a->n++;
    a->v[a->n] = NULL;
}

void restart_pushf(struct argv *a, const char *fmt, ...)
{
    char buf[PATH_MAX + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    restart_push(a, buf);
}

/* Launcher options naming hosts (dropped with --hostfile), each with one value. */
static int host_option(const char *a)
{
    return snapc_launcher_option(a, strlen(a)) & (SNAPC_LOPT_HOSTS | SNAPC_LOPT_HOSTFILE);
}

/* Shell-quotes s for --showme. */
void restart_print_quoted(const char *s)
{
    struct snapc_sbuf b = {0};
    snapc_sb_shell_word(&b, s);
    fputs(b.p ? b.p : "''", stdout);
    snapc_sb_free(&b);
}

/* path under a --relocate OLD (the longest that applies) moved to NEW: 1 and out filled; the
 * ranks' rule (crs/base/relocated.h), so that what restart-mpi checks and puts back is where the
 * ranks look */
int restart_relocated(const char *path, const struct argv *reloc, char *out, size_t len)
{
    const char *p = reloc->n ? crs_relocated((const char *const *)reloc->v, (size_t)reloc->n,
                                             path, out, len)
                             : path;
    return p != path;
}

/* each PATH of a comma-separated list moved as restart_relocated moves it, into out: 0, or -1
 * when out is too short */
int restart_relocated_list(const char *list, const struct argv *reloc, char *out, size_t len)
{
    size_t n = 0;
    if (len)
        out[0] = 0;
    for (const char *p = list; *p;) {
        size_t l = strcspn(p, ",");
        char one[PATH_MAX], to[PATH_MAX];
        snprintf(one, sizeof one, "%.*s", (int)l, p);
        const char *use = restart_relocated(one, reloc, to, sizeof to) ? to : one;
        int w = snprintf(out + n, len - n, "%s%s", n ? "," : "", use);
        if (w < 0 || (size_t)w >= len - n)
            return -1;
        n += (size_t)w;
        p += l + (p[l] == ',');
    }
    return 0;
}

/* The job's launcher arguments as this restart runs it (run; where its programs are in it:
 * rprogs, returned how many), from the saved ones (m) and the command line's. Ends restart-mpi
 * when the metadata lacks them or the options given after -- cannot be taken. */
int restart_job_arguments(const struct opts *o, const struct filem_meta *m, const char *seqdir,
                          uint64_t ranks, uint64_t argc_saved, const char *flavor,
                          struct argv *run, int *rprogs)
{
    char err[REVIVE_TEXT_PATHS(3)];
    /* the saved user arguments and where the programs were */
    struct argv user = {0};
    for (uint64_t i = 0; i < argc_saved; i++) {
        char k[48];
        snprintf(k, sizeof k, "launcher.arg.%llu", (unsigned long long)i);
        const char *v = filem_meta_get(m, k);
        if (!v)
            restart_die("%s/snapshot.meta lacks launcher argument %llu", seqdir, (unsigned long long)i);
        restart_push(&user, v);
    }
    int progs[64], nprogs = 0;
    const char *pl = filem_meta_get(m, "launcher.progs");
    for (const char *p = pl ? pl : ""; *p && nprogs < 64;) {
        char *end;
        long x = strtol(p, &end, 10);
        if (end == p || x < 0 || x >= user.n)
            restart_die("%s/snapshot.meta has a bad program position '%s'", seqdir, pl);
        progs[nprogs++] = (int)x;
        p = *end == ',' ? end + 1 : end;
    }
    if (nprogs == 0)
        restart_die("%s/snapshot.meta does not say where the program is in the launcher arguments", seqdir);
    /* extra options: a number of ranks must be the snapshot's */
    struct argv ex = {0};
    for (int i = 0; i < o->extra.n; i++) {
        /* "-np 4" or "--np=4" (the launchers take both; newuser47 L4: the second slipped past) */
        const char *opt = o->extra.v[i];
        size_t name_len = strcspn(opt, "=");
        int joined = opt[name_len] == '=';
        if (snapc_launcher_option(opt, name_len) == SNAPC_LOPT_NP && (joined || i + 1 < o->extra.n)) {
            const char *val = joined ? opt + name_len + 1 : o->extra.v[i + 1];
            char *end;
            long x = strtol(val, &end, 10);
            if (end == val || *end || x != (long)ranks)
                restart_die("the snapshot has %llu ranks; a restart runs exactly %llu (not %s%s%s)",
                    (unsigned long long)ranks, (unsigned long long)ranks, opt,
                    joined ? "" : " ", joined ? "" : val);
            i += !joined;
            continue;
        }
        restart_push(&ex, o->extra.v[i]);
    }
    /* an option given after -- replaces the saved one: a launcher keeps both or refuses the
     * second (newuser9 F2) */
    user.n = restart_override(user.v, user.n, progs, nprogs, ex.v, ex.n, restart_me, stderr);
    /* without --hostfile, the job's own hosts: still known? (snapc/hosts.h) */
    if (!o->hostfile && snapc_hosts_check_progs(user.v, user.n, progs, nprogs, err, sizeof err) < 0)
        restart_die("%s (or give other hosts with --hostfile)", err);
    /* extra options naming hosts (-hosts, --host, a hostfile) are checked as the job's own
     * were: with an unknown host MPICH's launcher waited until REVIVE_LAUNCH_TIMEOUT (300 s,
     * issue 7 review F6). A relative hostfile is the launcher's, read where it runs: the job's
     * working directory. */
    if (ex.n > 0) {
        const char *jcwd = filem_meta_get(m, "cwd");
        char moved_cwd[PATH_MAX];
        if (jcwd && restart_relocated(jcwd, &o->reloc, moved_cwd, sizeof moved_cwd))
            jcwd = moved_cwd;
        char here[PATH_MAX];
        int back = jcwd && getcwd(here, sizeof here) && chdir(jcwd) == 0;
        int bad = snapc_hosts_check_args(ex.v, ex.n, err, sizeof err) < 0;
        if (back && chdir(here) < 0)
            restart_die("cannot return to %s: %s", here, strerror(errno));
        if (bad)
            restart_die("%s (given after --); nothing was started", err);
    }
    /* The job's launcher arguments as this restart runs it: --hostfile's file, the options
     * given after --, then the saved ones (without those replaced, without their hosts when
     * --hostfile names others), the programs where they are. The launch command, the fetch and
     * the coordinator all take this one list: the coordinator picks its address on the network
     * it names and records it in the restarted job's snapshots, so that a later restart of
     * those runs as this one did (diffrev31 R-M1: an option replaced after -- reached the
     * launcher only; the restarted job's snapshot.meta held neither it nor the saved one). */
    int nrprogs = 0;
    if (o->hostfile) {
        char hf[PATH_MAX];
        if (!realpath(o->hostfile, hf))
            restart_die("the hostfile %s: %s", o->hostfile, strerror(errno));
        restart_push(run, !strcmp(flavor, "ompi") ? "--hostfile" : "-f");
        restart_push(run, hf);
    }
    for (int i = 0; i < ex.n; i++)
        restart_push(run, ex.v[i]);
    for (int i = 0, pi = 0; i < user.n; i++) {
        if (pi < nprogs && progs[pi] == i) {
            rprogs[nrprogs++] = run->n;
            pi++;
            /* the program and its own arguments, up to ":" */
            while (i < user.n && strcmp(user.v[i], ":") != 0)
                restart_push(run, user.v[i++]);
            if (i < user.n)
                restart_push(run, user.v[i]);
            continue;
        }
        if (o->hostfile && host_option(user.v[i]) && i + 1 < user.n) {
            i++; /* and its value: the hosts of --hostfile instead */
            continue;
        }
        restart_push(run, user.v[i]);
    }
    return nrprogs;
}

void restart_put_back_tell(const struct filem_meta *m, const struct filem_files_moves *mv, int put_back)
{
    char var[64], err[REVIVE_TEXT_PATHS(2)];
    for (int i = 0; i < FILEM_PUT_BACK_MAX; i++) { /* none but this restart's */
        snprintf(var, sizeof var, "%s%d", FILEM_PUT_BACK_VAR, i);
        unsetenv(var);
    }
    char **dests = NULL;
    int n = 0;
    if (!put_back || filem_files_dests(m, mv, &dests, &n, err, sizeof err) < 0)
        return;
    if (n > FILEM_PUT_BACK_MAX)
        fprintf(stderr, "%s: warning: the snapshot saved more than %d paths (--save-files): an MPI "
                        "file the job has open in one past them is refused by its ranks once put "
                        "back (another file than at the snapshot); restart with --relocate to "
                        "another path for it\n", restart_me, FILEM_PUT_BACK_MAX);
    for (int i = 0; i < n; i++) {
        if (i < FILEM_PUT_BACK_MAX) {
            snprintf(var, sizeof var, "%s%d", FILEM_PUT_BACK_VAR, i);
            setenv(var, dests[i], 1);
        }
        free(dests[i]);
    }
    free(dests);
}

/* The command: launcher [-x ...] then the job's arguments as it runs now (run, its programs at
 * rprogs), each program replaced by the rank restarter rrank with its options and seqdir. */
void restart_launch_command(struct argv *cmd, const struct opts *o, const char *launcher,
                            const char *flavor, const struct argv *run, const int *rprogs,
                            int nrprogs, const char *rrank, const char *seqdir)
{
    restart_push(cmd, launcher);
    int ompi = !strcmp(flavor, "ompi"), mpich = !strcmp(flavor, "mpich");
    if (ompi) {
        restart_push(cmd, "-x");
        restart_push(cmd, "REVIVE_COORD");
        restart_push(cmd, "-x");
        restart_push(cmd, "REVIVE_JOB_SECRET");
        restart_push(cmd, "-x");
        restart_push(cmd, "REVIVE_JOB_ID");
        /* how far each rank's restore got (src/snapc/coord_restart.c) */
        restart_push(cmd, "-x");
        restart_push(cmd, "REVIVE_RESTART_DIR");
        restart_push(cmd, "-x");
        restart_push(cmd, "REVIVE_RESTART_REPORT");
        if (getenv("REVIVE_RESTART_STRICT_FILES")) { /* -x wants it set */
            restart_push(cmd, "-x");
            restart_push(cmd, "REVIVE_RESTART_STRICT_FILES");
        }
        if (getenv("REVIVE_FILE_DATA_MAX")) {
            restart_push(cmd, "-x");
            restart_push(cmd, "REVIVE_FILE_DATA_MAX");
        }
        if (getenv("REVIVE_WTIME")) { /* src/pml_hooks/wtime.c */
            restart_push(cmd, "-x");
            restart_push(cmd, "REVIVE_WTIME");
        }
        if (getenv(RESTART_SAVED_WRITERS_VAR)) {
            restart_push(cmd, "-x");
            restart_push(cmd, RESTART_SAVED_WRITERS_VAR);
        }
        if (getenv(FILEM_VERIFIED_ENV)) { /* the images the check read (above) */
            restart_push(cmd, "-x");
            restart_push(cmd, FILEM_VERIFIED_ENV);
        }
        for (int i = 0; i < FILEM_PUT_BACK_MAX; i++) { /* restart_put_back_tell's */
            char var[64];
            snprintf(var, sizeof var, "%s%d", FILEM_PUT_BACK_VAR, i);
            if (!getenv(var))
                break;
            restart_push(cmd, "-x");
            restart_push(cmd, var);
        }
    }
    int pi = 0;
    for (int i = 0; i < run->n; i++) {
        if (pi < nrprogs && rprogs[pi] == i) {
            restart_push(cmd, rrank);
            if (o->local && *o->local) {
                restart_push(cmd, "--local");
                restart_push(cmd, o->local); /* else each node's default cache */
            }
            if (o->preload)
                restart_push(cmd, "--preload");
            for (int k = 0; k < o->reloc.n; k++) {
                restart_push(cmd, "--relocate");
                restart_push(cmd, o->reloc.v[k]);
            }
            restart_push(cmd, seqdir);
            /* the program's own arguments stay in the image */
            while (i + 1 < run->n && strcmp(run->v[i + 1], ":") != 0)
                i++;
            pi++;
            continue;
        }
        restart_push(cmd, run->v[i]);
    }
    (void)mpich;
}

/* revive-coord in restart mode, in this process (it launches cmd from the job's directory, where
 * relative names in its options lead); m is freed. Returns only to die. */
void restart_exec_coordinator(const char *coord, const char *seqdir, const char *flavor,
                              const char *launcher, struct filem_meta *m, const struct argv *run,
                              const int *rprogs, int nrprogs, const struct argv *cmd,
                              const struct opts *o)
{
    const struct argv *reloc = &o->reloc;
    struct argv c = {0};
    restart_push(&c, coord);
    restart_push(&c, "--restart-of");
    restart_push(&c, seqdir);
    restart_push(&c, "--flavor");
    restart_push(&c, flavor);
    restart_push(&c, "--launcher");
    restart_push(&c, launcher);
    const char *iv = filem_meta_get(m, "ckpt.interval_s");
    if (iv && !getenv("REVIVE_CKPT_INTERVAL") && strcmp(iv, "0")) {
        restart_push(&c, "--interval");
        restart_push(&c, iv);
    }
    const char *kp = filem_meta_get(m, "ckpt.keep");
    if (kp && !getenv("REVIVE_CKPT_KEEP") && strcmp(kp, "0")) {
        restart_push(&c, "--keep");
        restart_push(&c, kp);
    }
    if (o->ckpt_dir) { /* restart-mpi --ckpt-dir (else beside the old snapshots) */
        restart_push(&c, "--dir");
        restart_push(&c, o->ckpt_dir);
    }
    for (int i = 0; i < nrprogs; i++) {
        restart_push(&c, "--prog");
        restart_pushf(&c, "%d", rprogs[i]);
    }
    restart_push(&c, "--user-args");
    restart_pushf(&c, "%d", run->n);
    for (int i = 0; i < run->n; i++)
        restart_push(&c, run->v[i]);
    restart_push(&c, "--");
    for (int i = 0; i < cmd->n; i++)
        restart_push(&c, cmd->v[i]);
    /* the launcher runs where the job was started (relative names in its options) */
    const char *cwd = filem_meta_get(m, "cwd");
    char moved[PATH_MAX];
    if (cwd && restart_relocated(cwd, reloc, moved, sizeof moved))
        cwd = moved;
    if (cwd && chdir(cwd) < 0)
        fprintf(stderr, "%s: warning: cannot enter the job's directory %s (%s); starting from "
                        "here\n",
                restart_me, cwd, strerror(errno));
    filem_meta_free(m);
    restart_signal_check();
    restart_meta_ask_clean(); /* exec runs no atexit handler */
    /* SIGINT, SIGTERM, SIGHUP stay blocked through the exec: one that comes now is pending for
     * the coordinator, which looks before it launches (restart_signal.h); released here, one
     * ignored by the caller was lost */
    /* the coordinator scans the job directory again: a damaged index is said once */
    if (filem_index_warned())
        setenv(FILEM_INDEX_WARNED_ENV, filem_index_warned(), 1);
    execv(coord, c.v);
    restart_die("cannot run %s: %s", coord, strerror(errno));
}
