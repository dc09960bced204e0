/* The job's coordinator (see coord.h): set-up, then one poll loop over the
 * launcher child's signals, the tools' Unix socket, the ranks' TCP connections
 * and the timers. The protocol decisions are proto.c's, the files filem's; the
 * coordinator's other files are listed in coord_int.h. */
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

int snapc_coord_run(const struct snapc_coord_cfg *cfg)
{
    char err[512];
    coord.cfg = cfg;
    /* The signals are taken from the start, not only once the launcher runs: one that came
     * before (a ^C to the job's group in its first moments) was dropped when the caller had it
     * ignored (a background job of a script) or ended the coordinator with nothing cleaned up;
     * held now, it ends the job before the launch (coord_launch_signal_before_launch) or is
     * passed on to the launcher (newuser7b M3). */
    signal(SIGPIPE, SIG_IGN);
    sigset_t set = coord_forwarded_set(), old;
    /* nohup: an ignored SIGHUP stays ignored, for the coordinator and the launcher. Held blocked
     * it would be queued all the same (Linux never discards a blocked signal as ignored), read,
     * and taken for a user ending the job (diffrev27 S-H1: a nohup'd restart-mpi ended 10 s after
     * the logout). Set again, SIG_IGN drops one queued while restart-mpi held it blocked. */
    struct sigaction hup;
    if (sigaction(SIGHUP, NULL, &hup) == 0 && hup.sa_handler == SIG_IGN) {
        sigdelset(&set, SIGHUP);
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
    sigprocmask(SIG_BLOCK, &set, &old);
    coord.launch_mask = old;
    snapc_proto_init(&coord.p);
    coord.p.default_timeout_s = cfg->timeout_s ? cfg->timeout_s : SNAPC_DEFAULT_TIMEOUT_S;
    coord.p.stage = cfg->local_dir != NULL; /* node-local first, then staging (issue 9) */
    coord.p.self_stage = coord.p.stage; /* its host's cached copies (coord_selfstage.c) */
    const char *fe = getenv("REVIVE_FAULT_EPOCH");
    if (fe && atoi(fe) > 0)
        coord.fault_epoch = (uint32_t)atoi(fe);
    filem_faults_enable(0);
    const char *ct = getenv("REVIVE_CAPTURE_TIMEOUT");
    if (ct && atoi(ct) > 0)
        coord.p.capture_timeout_s = (uint32_t)atoi(ct);

    /* the hosts named to the launcher are known (restart-mpi checked a restart's) */
    if (!cfg->restart_of &&
        snapc_hosts_check_args(cfg->user_args, cfg->nprogs > 0 ? cfg->progs[0] : cfg->nuser_args,
                               err, sizeof err) < 0) {
        fprintf(stderr, "revive-coord: %s\n", err);
        return 1;
    }
    /* where snapshots go */
    if (cfg->restart_of) {
        if (coord_restart_setup() < 0)
            return 1;
    } else if (cfg->dir && *cfg->dir) {
        if (coord_base_dir(cfg->dir) < 0)
            return 1;
    } else if (!getcwd(coord.base, sizeof coord.base)) {
        fprintf(stderr, "revive-coord: cannot tell the current directory: %s\n", strerror(errno));
        return 1;
    }
    struct stat st;
    if (stat(coord.base, &st) < 0 || !S_ISDIR(st.st_mode) || access(coord.base, W_OK | X_OK) < 0) {
        fprintf(stderr,
                "revive-coord: cannot write snapshots into %s (%s); choose another directory "
                "with --ckpt-dir or REVIVE_SNAPSHOT_DIR\n",
                coord.base, !S_ISDIR(st.st_mode) ? "not a directory" : strerror(errno));
        return 1;
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
            return 1;
        }
        rmdir(probe);
    }
    if (filem_job_path(coord.jobdir, sizeof coord.jobdir, coord.base, (long)getpid()) < 0) {
        fprintf(stderr, "revive-coord: the snapshot directory path %s is too long\n", coord.base);
        return 1;
    }
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
    if (cfg->restart_of) {
        /* what the launcher leaves of an interrupted restart (a proxy, ranks) becomes ours to
         * end, not init's (newuser7 H1: hydra_pmi_proxy and both ranks stayed) */
        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        /* restart-mpi held these blocked through its exec (restart_signal.h), not its caller:
         * the launcher gets them unblocked; one that came meanwhile ends the restart here */
        sigdelset(&old, SIGINT);
        sigdelset(&old, SIGTERM);
        sigdelset(&old, SIGHUP);
        int s = coord_restart_signal_before_launch(&set);
        if (s) {
            coord_restart_cleanup();
            unlink(coord.sock_path);
            return 128 + s;
        }
    } else {
        int s = coord_launch_signal_before_launch(&set);
        if (s)
            return 128 + s;
    }
    coord.sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (coord.sfd < 0 || coord_spawn(cfg->cmd, &old, err, sizeof err) < 0) {
        if (coord.sfd < 0)
            snapc_fmt(err, sizeof err, "signalfd: %s", strerror(errno));
        fprintf(stderr, "revive-coord: %s\n", err);
        unlink(coord.sock_path);
        return 127;
    }
    /* after the launcher, which has exec'd by now (coord_spawn waits for that); its pid is not
     * always the higher one (pids wrap): the tests' launcher_of tells the two apart by name */
    coord_witness_start(&set);
    revive_log_info("job %d: launcher %d, ranks connect to %s, snapshots in %s", (int)getpid(),
                    (int)coord.child, coord.coord_addr, coord.jobdir);
    coord_launch_wait_start();
    coord_start_mark();
    coord_cache_sweep_start();
    if (cfg->interval_s > 0)
        coord.next_tick = coord_now_ms() + (int64_t)cfg->interval_s * 1000;

    struct pollfd *pf = NULL;
    int *pidx = NULL;
    int pcap = 0;
    for (;;) {
        int64_t now = coord_now_ms();
        coord_commit_hold_tick(now);
        coord_gone_hold_tick(now);
        if (coord.child_done) {
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
            if (!coord.commit_held && !coord_self_stage_busy() &&
                (coord_live_rank_conns() == 0 || now - coord.child_done_ms >= COORD_EXIT_GRACE_MS))
                break;
        }
        coord_fetch_tick();
        coord_lost_tick(); /* the hosts asked for a commit or a failure's reason (R-L3) */
        coord_launch_wait_tick(now);
        coord_start_wait_tick(now);
        coord_term_tick(now);
        coord_restart_end_tick(now);
        coord_launch_redeliver_tick(now);
        coord_stop_tick(now);
        if (coord.next_tick && now >= coord.next_tick) {
            coord.next_tick = now + (int64_t)cfg->interval_s * 1000;
            if (!coord.term_pending && !coord.child_done) {
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

        int64_t wake = -1;
#define WAKE(t) do { int64_t _t = (t); if (_t > 0 && (wake < 0 || _t < wake)) wake = _t; } while (0)
        WAKE(snapc_proto_deadline(&coord.p));
        WAKE(coord.next_tick);
        WAKE(coord.term_signal_at);
        WAKE(coord.term_kill_at);
        WAKE(coord_restart_end_deadline());
        WAKE(coord_launch_redeliver_deadline());
        WAKE(coord_stop_wake(now));
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
        int timeout = wake < 0 ? -1 : (int)(wake > now ? (wake - now > 60000 ? 60000 : wake - now) : 0);

        int need = coord.nc + 5;
        if (need > pcap) {
            pcap = need + 16;
            pf = realloc(pf, (size_t)pcap * sizeof *pf);
            pidx = realloc(pidx, (size_t)pcap * sizeof *pidx);
            if (!pf || !pidx) {
                revive_log_error("out of memory in the coordinator");
                break;
            }
        }
        int np = 0;
        /* (snapc-gone-hold: nor the launcher's end while ranks' ends are held) */
        pf[np] = (struct pollfd){.fd = coord_gone_held() ? -1 : coord.sfd, .events = POLLIN};
        pidx[np++] = -1;
        pf[np] = (struct pollfd){.fd = coord.child_done ? -1 : coord.ufd, .events = POLLIN};
        pidx[np++] = -2;
        pf[np] = (struct pollfd){.fd = coord.child_done ? -1 : coord.tfd, .events = POLLIN};
        pidx[np++] = -3;
        pf[np] = (struct pollfd){.fd = coord_self_stage_fd(), .events = POLLIN};
        pidx[np++] = -4;
        pf[np] = (struct pollfd){.fd = coord_fetch_fd(), .events = POLLIN};
        pidx[np++] = -5;
        for (int i = 0; i < coord.nc; i++)
            if (coord.c[i].kind != C_FREE && !coord.c[i].gone_held) {
                pf[np] = (struct pollfd){.fd = coord.c[i].fd, .events = POLLIN};
                pidx[np++] = i;
            }
        int r = poll(pf, (nfds_t)np, timeout);
        if (r < 0 && errno != EINTR) {
            revive_log_error("poll: %s", strerror(errno));
            break;
        }
        for (int k = 0; k < np && r > 0; k++) {
            if (!pf[k].revents)
                continue;
            if (pidx[k] == -1)
                coord_on_signal();
            else if (pidx[k] == -2)
                coord_accept_unix();
            else if (pidx[k] == -3)
                coord_accept_tcp();
            else if (pidx[k] == -4)
                coord_self_stage_ready();
            else if (pidx[k] == -5)
                coord_fetch_ready();
            else if (coord.c[pidx[k]].kind != C_FREE && coord.c[pidx[k]].fd == pf[k].fd)
                coord_conn_readable(pidx[k]);
        }
    }
    free(pf);
    free(pidx);
    if (!coord.child_done) {
        /* the loop failed: do not leave the job behind */
        kill(coord.child, SIGTERM);
        sleep(1);
        kill(coord.child, SIGKILL);
        waitpid(coord.child, &coord.child_status, 0);
        coord.child_done = 1;
    }
    coord_kill_strays();
    coord_restart_kill_orphans();
    coord_witness_stop();
    if (coord.jobdir_ok && filem_trash_clean(coord.jobdir) > 0)
        revive_log_warn("%s holds hidden directories of failed checkpoints that could not be "
                        "removed (.discarded.*); remove them by hand",
                        coord.jobdir);
    if (coord.jobdir_ok)
        filem_stage_unreserve(coord.jobdir); /* no staging can fail any more */
    if (coord.alive_fd >= 0) {
        /* the job has ended: its caches are no longer its own alone (filem/alive.h) */
        char alive[PATH_MAX + 16];
        snapc_fmt(alive, sizeof alive, "%s/%s", coord.jobdir, FILEM_ALIVE_NAME);
        unlink(alive);
        close(coord.alive_fd);
        coord.alive_fd = -1;
    }
    coord_cache_sweep_end();
    coord_tools_job_ended();
    coord_restart_cleanup();
    /* made at the first checkpoint, which failed, and none since (review newuser7 L2: an empty
     * revive_global_snapshot_PID.ckpt left after a --timeout): nothing in it, so not kept;
     * rmdir removes only an empty directory */
    if (coord.jobdir_ok && rmdir(coord.jobdir) == 0)
        revive_log_info("%s removed: empty, no checkpoint of the job was committed there",
                        coord.jobdir);
    if (coord.sock_path[0])
        unlink(coord.sock_path);
    if (coord.restart_lock >= 0)
        close(coord.restart_lock);
    int status = coord_exit_status();
    explicit_bzero(coord.secret, sizeof coord.secret);
    snapc_proto_fini(&coord.p);
    if (coord_launch_ended_by_revive())
        return 1; /* said why above; the launcher's SIGTERM was ours, not the user's */
    coord_end_like_launcher();
    return status;
}
