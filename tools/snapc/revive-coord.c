/* revive-coord: the coordinator of one checkpointable MPI job. Revive's mpirun
 * wrapper execs it (so it keeps the pid the user sees) with the real launcher's
 * command; restart-mpi execs it in restart mode. See src/snapc/coord.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filem/filem.h"
#include "filem/files_save.h"
#include "filem/stage.h"
#include "host_probe.h"
#include "restart_fetch.h"
#include "restart_signal.h"
#include "snapc/coord.h"
#include "snapc/hosts.h"
#include "snapc/wire.h"

/* The coordinator's fetch of images from other hosts' caches while a sequence stages
 * (snapc_coord_cfg.fetch_images, newuser9b N6): restart-mpi's fetch (restart_fetch.h) through
 * the job's own launcher and options, each sender given the checksums (no snapshot.meta yet).
 * In the coordinator's fetch child: SIGINT, SIGTERM and SIGHUP are held as in restart-mpi (the
 * coordinator ends the fetch with SIGTERM; the launches are ended, the child exits). */
static int fetch_images(const struct snapc_coord_cfg *cfg, const struct snapc_fetch_req *req,
                        char *err, size_t errlen)
{
    char rrbuf[PATH_MAX];
    const char *rrank = getenv("REVIVE_RESTART_RANK");
    if (!rrank || !*rrank) {
        snprintf(rrbuf, sizeof rrbuf, "%s/revive-restart-rank", REVIVE_PKGLIBEXECDIR);
        rrank = rrbuf;
    }
    restart_signals_hold(NULL);
    restart_signals_base(req->mask);
    struct restart_fetch f = {
        .seqdir = req->seqdir, .seq = req->seq, .m = req->m, .launcher = cfg->launcher,
        .flavor = cfg->flavor, .user = cfg->user_args,
        .prog0 = cfg->nprogs > 0 ? cfg->progs[0] : cfg->nuser_args, .rrank = rrank,
        .send_sums = 1, .who = "revive-coord", .got = req->got, .got_arg = req->got_arg};
    return restart_fetch_images(&f, req->ranks, req->n, err, errlen);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: revive-coord [--interval SEC] [--keep N] [--dir DIR] [--timeout SEC]\n"
            "                    [--flavor ompi|mpich|fake] [--launcher PATH] [--prog K]...\n"
            "                    [--user-args N ARG...] [--restart-of SEQDIR] -- COMMAND...\n"
            "Runs COMMAND (the real MPI launcher) as a job that ckpt-mpirun can checkpoint.\n"
            "Normally started by Revive's 'mpirun -am ft-enable-cr', not by hand.\n");
}

/* what: "seconds" for a time, NULL for a count (newuser7e F4: "--interval 0.5" was refused as
 * not "a number of 0 or more", which 0.5 is) */
static int num_of(const char *opt, const char *v, int *out, const char *what)
{
    char *end;
    errno = 0;
    long x = v ? strtol(v, &end, 10) : -1;
    if (!v || errno || *end || x < 0 || x > 100000000) {
        fprintf(stderr, "revive-coord: %s needs a whole number%s%s from 0 to 100000000 (got '%s')\n",
                opt, what ? " of " : "", what ? what : "", v ? v : "");
        return -1;
    }
    *out = (int)x;
    return 0;
}

static int num(const char *opt, const char *v, int *out)
{
    return num_of(opt, v, out, NULL);
}

static int env_num(const char *name, int *out, const char *what)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return 0;
    return num_of(name, v, out, what);
}

/* 1 when this host is among HOSTS ("h1,h2", as snapc_hosts_list_args gives them), by name or
 * by an address of its own (127.0.0.1, its interfaces'). */
static int launch_host_among(const char *hosts)
{
    for (const char *s = hosts; *s;) {
        size_t l = strcspn(s, ",");
        char h[256];
        if (l < sizeof h) {
            memcpy(h, s, l);
            h[l] = 0;
            if (host_probe_this_machine(h))
                return 1;
        }
        s += l + (s[l] == ',');
    }
    return 0;
}

/* 1 when a rank of program K (cfg->progs[K]) may run on this host: its launcher options (those
 * before the first program; for a later program of an MPMD line "... : OPTIONS PROG ...",
 * those after the ':' before it, or when they name no host the options before the first
 * program, where Open MPI's --hostfile and Hydra's -f apply to every program: diffrev43 R-L1)
 * name no host, name this one, or name more hosts than HOSTS holds (cut: the rest cannot be
 * told); else 0 and HOSTS lists them. */
static int runs_here(const struct snapc_coord_cfg *cfg, int k, char *hosts, size_t len)
{
    int from, to = snapc_prog_options(cfg->user_args, cfg->nuser_args, cfg->progs, cfg->nprogs,
                                      k, &from);
    long np = 0;
    hosts[0] = 0;
    if (to < 0)
        return 1; /* no ':' between the two programs: their options cannot be told apart */
    if (snapc_hosts_list_args(cfg->user_args + from, to - from, hosts, len, &np))
        return 1;
    if (!hosts[0] && k > 0 && snapc_hosts_list_args(cfg->user_args, cfg->progs[0], hosts, len, &np))
        return 1;
    return !hosts[0] || launch_host_among(hosts);
}

/* A --ckpt-local directory that is no private one of the user's fails every checkpoint: said
 * at the launch, once (newuser10 F4: a 1777 scratch directory was taken, then each checkpoint
 * failed "not private"). Only this host's directory can be seen here: when the launcher was
 * given hosts for every program and this one is not among them by name or address (mpirun on
 * a login node with -host or a hostfile), no rank may write here, so it is a warning
 * (diffrev41 R-L2); the ranks' hosts refuse at the first checkpoint, naming the host. A list
 * too long to read whole, or a program given no host, keeps the refusal (diffrev42 R-L3).
 * 0, or -1 refused (said). */
static int local_dir_check(const struct snapc_coord_cfg *cfg)
{
    char why[2 * PATH_MAX + 512];
    if (!cfg->local_dir || !*cfg->local_dir || filem_local_check(cfg->local_dir, why, sizeof why) == 0)
        return 0;
    char all[1024] = "", hosts[1024], self[256] = "";
    for (int k = 0; k < (cfg->nprogs > 0 ? cfg->nprogs : 1); k++) {
        if (runs_here(cfg, k, hosts, sizeof hosts)) {
            fprintf(stderr, "revive-coord: --ckpt-local (REVIVE_LOCAL_DIR): %s\n", why);
            return -1;
        }
        size_t used = strlen(all);
        snprintf(all + used, sizeof all - used, "%s%s", used ? "; " : "", hosts);
    }
    gethostname(self, sizeof self - 1);
    fprintf(stderr, "revive-coord: warning: --ckpt-local (REVIVE_LOCAL_DIR) on this host %s, "
                    "where the launcher was given no rank (its hosts: %s): %s; a host of the job "
                    "where it is so refuses the job's first checkpoint\n",
            self[0] ? self : "?", all, why);
    return 0;
}

int main(int argc, char **argv)
{
    /* revive-coord --exec-sigdfl PROGRAM ARGS...: PROGRAM run with SIGINT and SIGQUIT at their
     * default. Revive's mpirun wrapper runs itself again so when its caller ignored them (a job
     * in the background of a script: a ^C must still reach it). GNU env --default-signal did it,
     * with configure's answer on it baked into the installed wrapper: an install shared with
     * hosts whose coreutils lack it (before 8.31: RHEL 8) failed every such job at once,
     * "env: unrecognized option" (diffrev45 R-L7). This program is installed with the wrapper,
     * so nothing is asked; its start costs no more than env's (300 runs each on the loaded
     * machine: 10.2 ms of CPU against 12.8 ms). */
    if (argc >= 3 && !strcmp(argv[1], "--exec-sigdfl")) {
        signal(SIGINT, SIG_DFL);
        signal(SIGQUIT, SIG_DFL);
        execvp(argv[2], argv + 2);
        fprintf(stderr, "revive: mpi: cannot run %s again: %s\n", argv[2], strerror(errno));
        return 127;
    }
    /* revive-coord --sentinel: the wrapper's ^C sentinel (mpirun.in): with SIGINT and SIGQUIT at
     * their default, reads its standard input, a pipe only the wrapper writes to, until the
     * wrapper closes it, and exits 0; a ^C to the job's group kills it (status 130 to the
     * wrapper). It was "env --default-signal=INT,QUIT cat": two programs started in every job,
     * ~10 ms of CPU (perf record of 8 two-rank jobs), this one program ~3 ms. */
    if (argc == 2 && !strcmp(argv[1], "--sentinel")) {
        /* its own name in ps and /proc/PID/comm: as "revive-coord" it was taken for the job's
         * coordinator, a child of the wrapper that ends before the wrapper execs the real one
         * (e2e_coll-ompi in the CI of 49673d54: "there is no process"), and a user's pgrep
         * revive-coord would list it too */
        prctl(PR_SET_NAME, "revive-sentinel");
        signal(SIGINT, SIG_DFL);
        signal(SIGQUIT, SIG_DFL);
        char buf[512];
        ssize_t n;
        while ((n = read(0, buf, sizeof buf)) != 0)
            if (n < 0 && errno != EINTR)
                return 1;
        return 0;
    }
    struct snapc_coord_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.flavor = "?";
    cfg.fetch_images = fetch_images;
    int timeout = 0;
    if (env_num("REVIVE_CKPT_INTERVAL", &cfg.interval_s, "seconds") < 0 ||
        env_num("REVIVE_CKPT_KEEP", &cfg.keep, NULL) < 0)
        return 1; /* as the options' refusals (review: the variables' exit status was 2) */
    cfg.dir = getenv("REVIVE_SNAPSHOT_DIR");
    /* restart-mpi has warned about this damaged index already (not the launcher's business) */
    const char *iw = getenv(FILEM_INDEX_WARNED_ENV);
    if (iw) {
        filem_index_warned_set(iw);
        unsetenv(FILEM_INDEX_WARNED_ENV);
    }
    /* node-local first (mpirun --ckpt-local DIR, --ckpt-stage-bw BYTES): by default each
     * node's private cache under its TMPDIR or /tmp ("": each rank's agent resolves it on its
     * node); "none": images go straight into the shared snapshot directory */
    cfg.local_dir = getenv("REVIVE_LOCAL_DIR");
    if (!cfg.local_dir)
        cfg.local_dir = "";
    if (strcmp(cfg.local_dir, "none") == 0)
        cfg.local_dir = NULL;
    if (cfg.local_dir && *cfg.local_dir && cfg.local_dir[0] != '/') {
        fprintf(stderr, "revive-coord: REVIVE_LOCAL_DIR must be an absolute path (the same on "
                        "every host) or 'none', not '%s'\n", cfg.local_dir);
        return 1;
    }
    /* mpirun --ckpt-partner: each node's cached images also in another node's cache */
    const char *pt = getenv("REVIVE_CKPT_PARTNER");
    cfg.partner = pt && *pt == '1';
    if (cfg.partner && !cfg.local_dir) {
        fprintf(stderr, "revive-coord: --ckpt-partner keeps copies in the node-local caches: it "
                        "cannot go with --ckpt-local none\n");
        return 1;
    }
    /* mpirun --ckpt-no-wait-stage: MPIX_Checkpoint returns at "recovered", before the commit
     * (nothing to wait for with --ckpt-local none: the ranks write straight into the snapshot
     * directory and the call returns at the commit anyway) */
    const char *nw = getenv("REVIVE_MPIX_NO_WAIT_STAGE");
    if (nw && *nw && strcmp(nw, "0") != 0 && strcmp(nw, "1") != 0) {
        fprintf(stderr, "revive-coord: REVIVE_MPIX_NO_WAIT_STAGE must be 1 or 0, not '%s'\n", nw);
        return 1;
    }
    cfg.mpix_nowait = nw && *nw == '1';
    /* mpirun --ckpt-save-shared: every snapshot of the job saves the pages of the ranks'
     * writable shared file mappings, written back into the files at restart */
    const char *ss = getenv("REVIVE_SAVE_SHARED");
    if (ss && *ss && strcmp(ss, "0") != 0 && strcmp(ss, "1") != 0) {
        fprintf(stderr, "revive-coord: REVIVE_SAVE_SHARED must be 1 or 0, not '%s'\n", ss);
        return 1;
    }
    cfg.save_shared = ss && *ss == '1';
    const char *bw = getenv("REVIVE_CKPT_STAGE_BW");
    if (bw && *bw) {
        char *end;
        unsigned long long v = strtoull(bw, &end, 10);
        if (*end || bw[0] == '-') {
            fprintf(stderr, "revive-coord: REVIVE_CKPT_STAGE_BW must be bytes per second, not "
                            "'%s'\n", bw);
            return 1;
        }
        cfg.stage_bw = v;
    }
    int i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (strcmp(a, "--interval") == 0) {
            if (num_of(a, v, &cfg.interval_s, "seconds") < 0)
                return 2;
            i++;
        } else if (strcmp(a, "--keep") == 0) {
            if (num(a, v, &cfg.keep) < 0)
                return 2;
            i++;
        } else if (strcmp(a, "--timeout") == 0) {
            if (num_of(a, v, &timeout, "seconds") < 0)
                return 2;
            cfg.timeout_s = (uint32_t)timeout;
            i++;
        } else if (strcmp(a, "--dir") == 0 && v) {
            cfg.dir = v;
            cfg.dir_given = 1;
            i++;
        } else if (strcmp(a, "--flavor") == 0 && v) {
            cfg.flavor = v;
            i++;
        } else if (strcmp(a, "--launcher") == 0 && v) {
            cfg.launcher = v;
            i++;
        } else if (strcmp(a, "--restart-of") == 0 && v) {
            cfg.restart_of = v;
            i++;
        } else if (strcmp(a, "--prog") == 0) {
            int k;
            if (num(a, v, &k) < 0)
                return 2;
            if (cfg.nprogs == SNAPC_COORD_MAX_PROGS) {
                fprintf(stderr, "revive-coord: more than %d programs\n", SNAPC_COORD_MAX_PROGS);
                return 2;
            }
            cfg.progs[cfg.nprogs++] = k;
            i++;
        } else if (strcmp(a, "--user-args") == 0) {
            int n;
            if (num(a, v, &n) < 0 || i + 1 + n >= argc) {
                fprintf(stderr, "revive-coord: --user-args N needs N arguments\n");
                return 2;
            }
            cfg.user_args = argv + i + 2;
            cfg.nuser_args = n;
            i += 1 + n;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "revive-coord: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "revive-coord: no command to run (give it after --)\n");
        usage(stderr);
        return 2;
    }
    cfg.cmd = argv + i;
    if (!cfg.user_args) {
        cfg.user_args = argv + i + 1;
        cfg.nuser_args = argc - i - 1;
    }
    if (!cfg.launcher)
        cfg.launcher = cfg.cmd[0];
    if (cfg.nprogs == 0) {
        /* not told (started by hand): the first word after "-np N"-like options */
        for (int k = 0; k < cfg.nuser_args; k++) {
            const char *a = cfg.user_args[k];
            if (a[0] != '-') {
                cfg.progs[cfg.nprogs++] = k;
                break;
            }
            if (!strcmp(a, "-np") || !strcmp(a, "-n") || !strcmp(a, "-c") || !strcmp(a, "--np"))
                k++;
        }
    }
    for (int k = 0; k < cfg.nprogs; k++)
        if (cfg.progs[k] >= cfg.nuser_args) {
            fprintf(stderr, "revive-coord: --prog %d is past the %d user arguments\n", cfg.progs[k],
                    cfg.nuser_args);
            return 2;
        }
    if (local_dir_check(&cfg) < 0)
        return 1;
    /* mpirun --ckpt-save-files PATH[,PATH...]: every snapshot of the job copies these files
     * (the job's working directory's: this one) into itself while the ranks are held. A PATH
     * missing now is judged at each snapshot (a code that makes its output directory itself
     * and refuses one that exists: newuser15 F3): saved when it exists then, recorded missing
     * otherwise (a restart moves what is there then aside); said once here (filem/files_save.h) */
    const char *sf = getenv("REVIVE_SAVE_FILES");
    static char sf_abs[SNAPC_FILES_LIST_MAX];
    if (sf && *sf) {
        char err[1024], base[PATH_MAX], jobdir[PATH_MAX];
        /* the job's snapshot directory (made at its first snapshot) is no PATH's, nor in one */
        if (cfg.dir ? snprintf(base, sizeof base, "%s", cfg.dir) < (int)sizeof base
                    : getcwd(base, sizeof base) != NULL) {
            if (filem_job_path(jobdir, sizeof jobdir, base, (long)getpid()) == 0) {
                const char *ko[1] = {jobdir};
                filem_files_keep_out(ko, 1);
            }
        }
        /* absolute: snapshot.meta's ckpt.save_files, which a restart takes again from another
         * working directory */
        if (filem_files_absolute(sf, sf_abs, sizeof sf_abs) < 0) {
            fprintf(stderr, "revive-coord: --ckpt-save-files (REVIVE_SAVE_FILES): the list is "
                            "longer than %d bytes once its paths are made absolute; name fewer "
                            "(or an empty PATH)\n",
                    SNAPC_FILES_LIST_MAX - 1);
            return 1;
        }
        filem_files_absent_ok(sf_abs);
        if (filem_files_check(sf, err, sizeof err) < 0) {
            fprintf(stderr, "revive-coord: --ckpt-save-files (REVIVE_SAVE_FILES): %s\n", err);
            return 1;
        }
        for (const char *p = sf_abs; *p;) {
            size_t l = strcspn(p, ",");
            char one[PATH_MAX];
            struct stat st;
            snprintf(one, sizeof one, "%.*s", (int)l, p);
            if (lstat(one, &st) < 0 && errno == ENOENT)
                fprintf(stderr, "revive: warning: --ckpt-save-files: %s does not exist yet: judged "
                                "at each snapshot (saved if it exists then; if not, the snapshot "
                                "records it missing and a restart from it moves what is there "
                                "then aside)\n", one);
            p += l + (p[l] == ',');
        }
        cfg.save_files = sf_abs;
    }
    return snapc_coord_run(&cfg);
}
