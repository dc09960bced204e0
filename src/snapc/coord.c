/* The job's coordinator (see coord.h): its set-up (the signals taken, the settings, where
 * snapshots go, the secret, the listeners, the launcher started); then its one poll loop
 * (coord_loop.c) and its end (coord_end.c). The protocol decisions are proto.c's, the files
 * filem's; the coordinator's other files are listed in coord_int.h. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "filem/alive.h"
#include "filem/stage_mark.h"
#include "snapc/coord_int.h"
#include "snapc/hosts.h"

struct coord_state coord = {.sfd = -1, .ufd = -1, .tfd = -1, .restart_lock = -1, .alive_fd = -1, .parent_seq = -1,
                             .fault_epoch = 1};

/* coord.base from --ckpt-dir DIR (REVIVE_SNAPSHOT_DIR). A DIR that is not there yet is made (its
 * last component only, 0700), as Open MPI's C/R users expect of ompi-checkpoint's snapshot
 * directory; a missing parent is refused with the remedy rather than made: a typo in the middle
 * of the path should not become a tree. A DIR that exists keeps the checks after this. */
static int coord_base_dir(const char *dir)
{
    if (realpath(dir, coord.base))
        return 0;
    int e = errno;
    if (e == ENOENT) {
        if (mkdir(dir, 0700) == 0) {
            fprintf(stderr, "revive-coord: created the snapshot directory %s (mode 0700)\n", dir);
        } else if (errno == ENOENT) {
            fprintf(stderr,
                    "revive-coord: the snapshot directory %s does not exist, nor does its parent; "
                    "create it with 'mkdir -p %s' or choose another (--ckpt-dir, "
                    "REVIVE_SNAPSHOT_DIR)\n",
                    dir, dir);
            return -1;
        } else if (errno != EEXIST) { /* EEXIST: made meanwhile (or a dangling link: below) */
            fprintf(stderr,
                    "revive-coord: cannot create the snapshot directory %s: %s; choose another "
                    "(--ckpt-dir, REVIVE_SNAPSHOT_DIR)\n",
                    dir, strerror(errno));
            return -1;
        }
        if (realpath(dir, coord.base))
            return 0;
        e = errno;
    }
    fprintf(stderr,
            "revive-coord: the snapshot directory %s: %s; create it or choose another "
            "(--ckpt-dir, REVIVE_SNAPSHOT_DIR)\n",
            dir, strerror(e));
    return -1;
}

/* The signals are taken from the start, not only once the launcher runs: one that came
 * before (a ^C to the job's group in its first moments) was dropped when the caller had it
 * ignored (a background job of a script) or ended the coordinator with nothing cleaned up;
 * held now, it ends the job before the launch (coord_launch_signal_before_launch) or is
 * passed on to the launcher (newuser7b M3). *set: the signals held (read through the
 * signalfd), *old: the mask before (the launcher's). */
static void take_signals(const struct snapc_coord_cfg *cfg, sigset_t *set, sigset_t *old)
{
    signal(SIGPIPE, SIG_IGN);
    *set = coord_forwarded_set();
    /* nohup: an ignored SIGHUP stays ignored, for the coordinator and the launcher. Held blocked
     * it would be queued all the same (Linux never discards a blocked signal as ignored), read,
     * and taken for a user ending the job (diffrev27 S-H1: a nohup'd restart-mpi ended 10 s after
     * the logout). Set again, SIG_IGN drops one queued while restart-mpi held it blocked. */
    struct sigaction hup;
    if (sigaction(SIGHUP, NULL, &hup) == 0 && hup.sa_handler == SIG_IGN) {
        sigdelset(set, SIGHUP);
        signal(SIGHUP, SIG_IGN);
        sigset_t h;
        sigemptyset(&h);
        sigaddset(&h, SIGHUP);
        sigprocmask(SIG_UNBLOCK, &h, NULL);
        /* Open MPI's mpirun sets a handler of its own for SIGHUP even when it was ignored, and
         * ends the job on it (natively too: a nohup'd mpirun.openmpi ends, status 1, on a
         * SIGHUP to its group, as bash sends to each job at a logout). So that nohup does what
         * it meant, that launcher leads a process group of its own, out of reach of a signal
         * to the job's group; every signal the coordinator gets is passed on to it instead
         * (newuser7b M4). Not when standard input is a terminal: mpirun reads it, and a
         * process group that is not the terminal's foreground one would be stopped reading
         * it (SIGTTIN); nohup takes the job off the terminal's input anyway. MPICH's mpiexec
         * keeps an ignored SIGHUP ignored: left as it is. */
        coord.launcher_own_group = cfg->flavor && !strcmp(cfg->flavor, "ompi") && !isatty(0);
        /* said, so that a log shows why a signal to the job's group does not reach mpirun
         * (a CI runner that starts everything with SIGHUP ignored: diffrev29 N-L5) */
        if (coord.launcher_own_group)
            revive_log_info("SIGHUP is ignored (nohup): Open MPI's launcher runs in a process "
                            "group of its own; every signal to mpirun is passed on to it");
    }
    sigprocmask(SIG_BLOCK, set, old);
    coord.launch_mask = *old;
}

/* The protocol's settings from cfg and the environment. */
static void settings(const struct snapc_coord_cfg *cfg)
{
    snapc_proto_init(&coord.p);
    coord.p.default_timeout_s = cfg->timeout_s ? cfg->timeout_s : SNAPC_DEFAULT_TIMEOUT_S;
    coord.p.stage = cfg->local_dir != NULL; /* node-local first, then staging (issue 9) */
    coord.p.self_stage = coord.p.stage; /* its host's cached copies (coord_selfstage.c) */
    coord.p.files_always = cfg->save_files && *cfg->save_files; /* --ckpt-save-files */
    filem_meta_init(&coord.files_meta);
    const char *fe = getenv("REVIVE_FAULT_EPOCH");
    if (fe && atoi(fe) > 0)
        coord.fault_epoch = (uint32_t)atoi(fe);
    filem_faults_enable(0);
    const char *ct = getenv("REVIVE_CAPTURE_TIMEOUT");
    if (ct && atoi(ct) > 0)
        coord.p.capture_timeout_s = (uint32_t)atoi(ct);
}

/* coord.base: where snapshots go (a restart's, --ckpt-dir's or the current directory), checked
 * writable by making a directory there; coord.jobdir in it. 0, or -1 said. */
static int snapshot_dir(const struct snapc_coord_cfg *cfg)
{
    if (cfg->restart_of) {
        if (coord_restart_setup() < 0)
            return -1;
        /* restart-mpi --ckpt-dir DIR: the restarted job's snapshots there (coord.base was the
         * old ones' folder); REVIVE_SNAPSHOT_DIR left in the environment does not move them */
        if (cfg->dir_given && cfg->dir && *cfg->dir && coord_base_dir(cfg->dir) < 0)
            return -1;
    } else if (cfg->dir && *cfg->dir) {
        if (coord_base_dir(cfg->dir) < 0)
            return -1;
    } else if (!getcwd(coord.base, sizeof coord.base)) {
        fprintf(stderr, "revive-coord: cannot tell the current directory: %s\n", strerror(errno));
        return -1;
    }
    struct stat st;
    if (stat(coord.base, &st) < 0 || !S_ISDIR(st.st_mode) || access(coord.base, W_OK | X_OK) < 0) {
        fprintf(stderr,
                "revive-coord: cannot write snapshots into %s (%s); choose another directory "
                "with --ckpt-dir or REVIVE_SNAPSHOT_DIR\n",
                coord.base, !S_ISDIR(st.st_mode) ? "not a directory" : strerror(errno));
        return -1;
    }
    /* a directory where nothing can be made (/proc, a read-only mount that access() does not
     * see as such) fails here, not at the first checkpoint (fresh-user review, --ckpt-dir /proc) */
    char probe[PATH_MAX + 32];
    if ((size_t)snprintf(probe, sizeof probe, "%s/.revive-probe.XXXXXX", coord.base) < sizeof probe) {
        if (!mkdtemp(probe)) {
            fprintf(stderr,
                    "revive-coord: cannot write snapshots into %s (cannot create a directory "
                    "there: %s); choose another directory with --ckpt-dir or REVIVE_SNAPSHOT_DIR\n",
                    coord.base, strerror(errno));
            return -1;
        }
        rmdir(probe);
    }
    if (filem_job_path(coord.jobdir, sizeof coord.jobdir, coord.base, (long)getpid()) < 0) {
        fprintf(stderr, "revive-coord: the snapshot directory path %s is too long\n", coord.base);
        return -1;
    }
    return 0;
}

/* The launcher started with the signals held in set (old: its mask), unless one came before:
 * 0, or the coordinator's exit status (said). */
static int launch(const struct snapc_coord_cfg *cfg, sigset_t *set, sigset_t *old)
{
    char err[512];
    if (cfg->restart_of) {
        /* what the launcher leaves of an interrupted restart (a proxy, ranks) becomes ours to
         * end, not init's (newuser7 H1: hydra_pmi_proxy and both ranks stayed) */
        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        /* restart-mpi held these blocked through its exec (restart_signal.h), not its caller:
         * the launcher gets them unblocked; one that came meanwhile ends the restart here */
        sigdelset(old, SIGINT);
        sigdelset(old, SIGTERM);
        sigdelset(old, SIGHUP);
        int s = coord_restart_signal_before_launch(set);
        if (s) {
            coord_restart_cleanup();
            unlink(coord.sock_path);
            return 128 + s;
        }
    } else {
        int s = coord_launch_signal_before_launch(set);
        if (s)
            return 128 + s;
    }
    coord.sfd = signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (coord.sfd < 0 || coord_spawn(cfg->cmd, old, err, sizeof err) < 0) {
        if (coord.sfd < 0)
            snapc_fmt(err, sizeof err, "signalfd: %s", strerror(errno));
        fprintf(stderr, "revive-coord: %s\n", err);
        unlink(coord.sock_path);
        return 127;
    }
    /* after the launcher, which has exec'd by now (coord_spawn waits for that); its pid is not
     * always the higher one (pids wrap): the tests' launcher_of tells the two apart by name */
    coord_witness_start(set);
    revive_log_info("job %d: launcher %d, ranks connect to %s, snapshots in %s", (int)getpid(),
                    (int)coord.child, coord.coord_addr, coord.jobdir);
    return 0;
}

int snapc_coord_run(const struct snapc_coord_cfg *cfg)
{
    char err[512];
    coord.cfg = cfg;
    sigset_t set, old;
    take_signals(cfg, &set, &old);
    settings(cfg);
    /* the hosts named to the launcher, for every program, are known (restart-mpi checked a
     * restart's) */
    if (!cfg->restart_of &&
        snapc_hosts_check_progs(cfg->user_args, cfg->nuser_args, cfg->progs, cfg->nprogs, err,
                                sizeof err) < 0) {
        fprintf(stderr, "revive-coord: %s\n", err);
        return 1;
    }
    if (snapshot_dir(cfg) < 0)
        return 1;
    if (snapc_secret_new(coord.secret) < 0) {
        fprintf(stderr, "revive-coord: cannot get random bytes for the job's secret: %s\n",
                strerror(errno));
        return 1;
    }
    if (coord_listen_unix(err, sizeof err) < 0 || coord_listen_tcp(err, sizeof err) < 0) {
        fprintf(stderr, "revive-coord: %s\n", err);
        if (coord.sock_path[0])
            unlink(coord.sock_path);
        return 1;
    }
    int rc = launch(cfg, &set, &old);
    if (rc)
        return rc;
    coord_launch_wait_start();
    coord_start_mark();
    coord_cache_sweep_start();
    if (cfg->interval_s > 0)
        coord.next_tick = coord_now_ms() + (int64_t)cfg->interval_s * 1000;
    coord_loop();
    return coord_finish();
}
