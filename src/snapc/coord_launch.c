/* The launcher child: started with the job's REVIVE_* environment, signals
 * forwarded to it (unless its process group got them too: coord_witness.c), its exit status passed on, ranks that outlive it killed. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fault.h"
#include "common/log.h"
#include "common/procfs.h"
#include "snapc/coord_int.h"

sigset_t coord_forwarded_set(void)
{
    sigset_t s;
    sigemptyset(&s);
    int sigs[] = {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGCONT};
    for (size_t k = 0; k < sizeof sigs / sizeof *sigs; k++)
        sigaddset(&s, sigs[k]);
    return s;
}

int coord_spawn(char **cmd, const sigset_t *oldmask, char *err, size_t errlen)
{
    char jobid[32];
    snprintf(jobid, sizeof jobid, "%d", (int)getpid());
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        int e = -errno;
        snapc_fmt(err, errlen, "pipe: %s", strerror(-e));
        return e;
    }
    pid_t coord_pid = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int e = -errno;
        close(pfd[0]);
        close(pfd[1]);
        snapc_fmt(err, errlen, "cannot start the launcher: %s", strerror(-e));
        return e;
    }
    if (pid == 0) {
        /* the launcher (and with it the ranks) ends when the coordinator is killed */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != coord_pid)
            _exit(127);
        if (coord.launcher_own_group)
            setpgid(0, 0); /* nohup'd Open MPI job: out of reach of the group's SIGHUP */
        signal(SIGPIPE, SIG_DFL);
        /* The launcher acts on these even if our caller ignored them (mpirun and mpiexec set
         * their own handlers): a background job of a script inherits SIGINT and SIGQUIT
         * ignored, and one that reached the group before the launcher's handlers were set was
         * dropped there and not passed on (the group got it): the job ran to its end
         * (newuser7b M3). At their default until then, they end the launcher as natively in a
         * terminal. SIGHUP keeps what the caller chose (nohup). */
        signal(SIGINT, SIG_DFL);
        signal(SIGQUIT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        sigprocmask(SIG_SETMASK, oldmask, NULL);
        setenv(SNAPC_ENV_COORD, coord.coord_addr, 1);
        setenv(SNAPC_ENV_SECRET, coord.secret, 1);
        setenv(SNAPC_ENV_JOB_ID, jobid, 1);
        execvp(cmd[0], cmd);
        int e = errno;
        ssize_t w = write(pfd[1], &e, sizeof e);
        (void)w;
        _exit(127);
    }
    close(pfd[1]);
    if (coord.launcher_own_group)
        setpgid(pid, pid); /* also here: before anything is sent to it (EACCES once it exec'd) */
    int childerr = 0;
    ssize_t n = read(pfd[0], &childerr, sizeof childerr);
    close(pfd[0]);
    if (n == (ssize_t)sizeof childerr) {
        waitpid(pid, NULL, 0);
        snapc_fmt(err, errlen, "cannot run the launcher %s: %s", cmd[0], strerror(childerr));
        return -childerr;
    }
    coord.child = pid;
    return 0;
}

int coord_launch_signal_before_launch(const sigset_t *set)
{
    static const int ends[] = {SIGINT, SIGTERM, SIGQUIT, SIGHUP};
    sigset_t p;
    if (sigpending(&p) != 0)
        return 0;
    for (size_t i = 0; i < sizeof ends / sizeof *ends; i++) {
        int sig = ends[i];
        if (sigismember(set, sig) != 1 || sigismember(&p, sig) != 1)
            continue;
        /* the user ended the job before it was launched: end as a launcher that got it at
         * its start would, by the signal (the shell sees 128+N), with nothing left behind */
        revive_log_info("SIG%s came before the launch: nothing launched", sigabbrev_np(sig));
        unlink(coord.sock_path);
        if (sig == SIGQUIT)
            return sig; /* 128 + 3, without a core of the coordinator (coord_end_like_launcher) */
        signal(sig, SIG_DFL);
        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, sig);
        sigprocmask(SIG_UNBLOCK, &one, NULL); /* the pending one acts now */
        raise(sig);
        return sig;
    }
    return 0;
}

/* SIGCONT to every rank of this host (launchers do not all pass SIGCONT on). */
static void cont_ranks(void)
{
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    for (int r = 0; r < coord.nrank_conn; r++) {
        int i = coord.rank_conn[r];
        if (i >= 0 && strcmp(coord.c[i].host, host) == 0 && coord.c[i].pid > 1)
            kill((pid_t)coord.c[i].pid, SIGCONT);
    }
}

/* 1 for the signals that end a launcher (what a user sends to end the job). */
static int ends_job(int sig)
{
    return sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT;
}

void coord_on_signal(void)
{
    struct signalfd_siginfo si;
    while (read(coord.sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        int sig = (int)si.ssi_signo;
        if (sig == SIGCHLD) {
            int st;
            pid_t p;
            while ((p = waitpid(-1, &st, WNOHANG | WCONTINUED)) > 0) {
                if (coord_witness_reaped(p, st) || coord_fetch_reaped(p, st))
                    continue;
                if (p == coord.child && WIFCONTINUED(st)) {
                    /* a SIGCONT to the real mpirun/mpiexec, after ckpt-mpirun --stop */
                    coord_job_continued("the launcher was continued");
                    continue;
                }
                if (p == coord.child) {
                    coord.child_done = 1;
                    coord.child_status = st;
                    coord.child_done_ms = coord_now_ms();
                }
            }
            continue;
        }
        /* A terminal's signal (^C) reached the launcher already (same process group). So did
         * one sent to the process group (kill -INT -- -PGID: Hydra took the second SIGINT for
         * "abort now", review9 F3); one sent to this process alone did not. Neither is passed
         * on; a job stopped by --stop is continued below all the same. The witness is asked
         * for a terminal's signal too: its copy is taken, not left to stand for a later one. */
        int group = coord_witness_group_signal(sig);
        if (ends_job(sig) && coord.end_signal && coord.end_before_up && coord.p.nranks > 0 &&
            coord.p.nhello >= coord.p.nranks) {
            /* A later ending signal, every rank up: the launcher gets this one (passed on
             * below, or its group got it) with its ranks running, so the start's signal is
             * not its to act on any more. Neither given again (the redelivery: one more for a
             * launcher that is already ending the job, a third ^C within seconds for Hydra,
             * which takes a second one for "abort now") nor escalated as a start's (SIGTERM
             * and SIGKILL to the launcher 10 and 20 s after the first signal, and the hunt for
             * what it left): from here the job ends as any running job a signal reached
             * (N-L6: the flag stayed set for the whole job). */
            coord.end_before_up = 0;
            coord.end_redeliver_at = 0;
            revive_log_info("SIG%s with every rank up, after SIG%s during the start: the "
                            "launcher acts on this one (the first is not given again)",
                            sigabbrev_np(sig), sigabbrev_np(coord.end_signal));
        }
        if (ends_job(sig) && !coord.end_signal && coord.child > 0 && !coord.child_done) {
            coord.end_signal = sig;
            coord.end_signal_ms = coord_now_ms();
            coord.end_before_back = coord.cfg && coord.cfg->restart_of && !coord.recovered;
            coord.end_before_up = !(coord.cfg && coord.cfg->restart_of) &&
                                  (coord.p.nranks <= 0 || coord.p.nhello < coord.p.nranks);
            if (coord.end_before_up) {
                coord.end_redeliver_at = coord.end_signal_ms + COORD_REDELIVER_MS;
                /* what the launcher leaves if it has to be ended (below) is ours to end */
                prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
            }
        }
        if (si.ssi_code != SI_KERNEL || coord.launcher_own_group) {
            if (group && !coord.launcher_own_group)
                revive_log_debug("signal %d reached the launcher's process group too: not passed "
                                 "on", sig);
            else if (coord.child > 0 && !coord.child_done)
                kill(coord.child, sig);
        }
        if (sig == SIGCONT) {
            cont_ranks(); /* after ckpt-mpirun --stop: the ranks were stopped */
            coord_job_continued("SIGCONT to mpirun");
        } else if (coord_job_stopped() && ends_job(sig)) {
            /* A job stopped by ckpt-mpirun --stop: the stopped launcher holds the signal pending
             * and the job would stay stopped for ever (review10: "kill <mpirun>" or ^C left the
             * launcher and every rank in state T, the coordinator waiting). Continue it, as a
             * shell's kill does for a stopped job: the launcher then takes the signal and ends
             * the ranks as in a running job. */
            if (coord.child > 0 && !coord.child_done)
                kill(coord.child, SIGCONT);
            cont_ranks();
            if (!coord.stop_end_signal)
                coord.stop_end_signal = sig;
            char how[48];
            snapc_fmt(how, sizeof how, "SIG%s to a stopped job", sigabbrev_np(sig));
            coord_job_continued(how);
        }
    }
    /* tests: a signal sent now must still be told apart (it used to lose its evidence here) */
    if (revive_fault(REVIVE_FAULT_snapc_signal_gap))
        sleep(1);
}

/* 1 while pid exists and is not a zombie (a zombie writes nothing). */
static int alive(pid_t pid)
{
    char s = revive_proc_state(pid);
    return s && s != 'Z' && s != 'X';
}

/* After the launcher ended: a rank still connected on this host is a stray. */
void coord_kill_strays(void)
{
    pid_t killed[64];
    int nkilled = 0;
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    for (int r = 0; r < coord.nrank_conn; r++) {
        int i = coord.rank_conn[r];
        if (i < 0)
            continue;
        if (strcmp(coord.c[i].host, host) == 0 && coord.c[i].pid > 1) {
            revive_log_warn("rank %d (pid %u) outlived the launcher; killed", r, coord.c[i].pid);
            kill((pid_t)coord.c[i].pid, SIGKILL);
            killed[nkilled < 64 ? nkilled++ : 63] = (pid_t)coord.c[i].pid;
        } else {
            revive_log_warn("rank %d (pid %u on %s) is still connected after the launcher ended",
                            r, coord.c[i].pid, coord.c[i].host);
        }
    }
    /* gone before the coordinator ends (and before it cleans up after them): at most 5 s */
    for (int t = 0; t < 500 && nkilled > 0; t++) {
        int left = 0;
        for (int k = 0; k < nkilled; k++)
            left += alive(killed[k]);
        if (!left)
            break;
        usleep(10000);
    }
}

/* The first rank that never said it entered MPI_Finalize, or -1 when every rank did. A rank's
 * agent says so before MPI_Finalize returns (agent_fin_check sends the STATE itself), and the
 * coordinator reads each rank's connection to its end (or COORD_EXIT_GRACE_MS) before it asks:
 * a rank that ended after MPI_Finalize has its word in. No rank ever connected: rank 0. */
static int first_unfinalized(void)
{
    if (coord.p.nranks <= 0)
        return 0;
    for (int r = 0; r < coord.p.nranks; r++)
        if (!coord.p.r[r].finalizing)
            return r;
    return -1;
}

/* The job was ended by a signal the coordinator got (the user's ^C, a batch system's SIGTERM:
 * ends_job) before every rank reached MPI_Finalize: the first rank that had not, else -1. */
static int ended_by_signal(void)
{
    return coord.end_signal && !coord.term_pending ? first_unfinalized() : -1;
}

int coord_restart_interrupted(void)
{
    return coord.cfg && coord.cfg->restart_of && ended_by_signal() >= 0;
}

int coord_exit_status(void)
{
    /* A job stopped by --stop and then ended by a signal to mpirun did not succeed, whatever
     * the launcher says: a batch system that preempted the job with --stop and SIGTERM must
     * not take it as done. */
    if (WIFEXITED(coord.child_status) && WEXITSTATUS(coord.child_status) == 0 && coord.stop_end_signal)
        return 128 + coord.stop_end_signal;
    /* A job (or a restart) that a signal ended before all its ranks reached MPI_Finalize:
     * 128 + the signal, whatever the launcher made of it, the status a shell gives a program
     * ended by that signal (Open MPI's mpirun itself exits 1: tests/mpi/apps/launch.sh). Hydra's mpiexec, signalled, exits
     * 0 or the signal's number by timing (natively too: 5 of 10 SIGTERMs and 3 of 10 SIGINTs
     * at step 2 of 60 gave 0, and a batch script took a job ended at step 2 as done: review11
     * #2); it exits with its ranks' wait statuses OR'ed together (mpiexec.c: exit_status |=
     * proxy->exit_status[i]): 15 after SIGTERM, and after a ^C 2 | 9 = 11 when it killed
     * (SIGKILL, 9) a rank the SIGINT (2) had not ended, which it calls "Segmentation fault
     * (signal 11)" though no rank crashed (newuser7 M5: `mpiexec.mpich -n 2 sh -c ...` with
     * one rank ending by SIGINT does it natively). A job whose ranks had all reached
     * MPI_Finalize did its work: the launcher's status stands. After --term's commit the job
     * ends by Revive's hand, as asked. */
    int r = ended_by_signal();
    if (r >= 0) {
        int want = 128 + coord.end_signal;
        static int said; /* once: coord_restart.c asks too, for its messages */
        if (WIFEXITED(coord.child_status) && WEXITSTATUS(coord.child_status) != want && !said++) {
            int got = WEXITSTATUS(coord.child_status);
            char ored[200] = "";
            if (got == (coord.end_signal | SIGKILL) && got != coord.end_signal && coord.cfg &&
                !strcmp(coord.cfg->flavor ? coord.cfg->flavor : "", "mpich"))
                snapc_fmt(ored, sizeof ored, " (MPICH's mpiexec ORs its ranks' ends: SIG%s %d | "
                          "SIGKILL %d = %d, which it prints as \"%s (signal %d)\": no rank "
                          "crashed)", sigabbrev_np(coord.end_signal), coord.end_signal, SIGKILL,
                          got, strsignal(got), got);
            revive_log_info("the launcher exited %d after SIG%s%s, but rank %d never reached "
                            "MPI_Finalize: status %d (128 + the signal)",
                            got, sigabbrev_np(coord.end_signal), ored, r, want);
        }
        return want;
    }
    if (WIFEXITED(coord.child_status))
        return WEXITSTATUS(coord.child_status);
    if (WIFSIGNALED(coord.child_status))
        return 128 + WTERMSIG(coord.child_status);
    return 1;
}

/* The launcher died of a signal: so does the coordinator (the shell sees what it
 * would natively), except for signals that would leave a core of the coordinator. */
void coord_end_like_launcher(void)
{
    if (coord_restart_interrupted())
        return; /* 128 + the user's signal (coord_exit_status), not the launcher's end */
    if (WIFSIGNALED(coord.child_status) &&
        (ended_by_signal() < 0 || WTERMSIG(coord.child_status) == coord.end_signal)) {
        int sig = WTERMSIG(coord.child_status);
        if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGKILL || sig == SIGPIPE ||
            sig == SIGUSR1 || sig == SIGUSR2 || sig == SIGALRM) {
            signal(sig, SIG_DFL);
            sigset_t one;
            sigemptyset(&one);
            sigaddset(&one, sig);
            sigprocmask(SIG_UNBLOCK, &one, NULL);
            raise(sig);
        }
    }
}

/* After --term: the launcher still runs REVIVE_TERM_WAIT s after the commit (a rank did not
 * leave): SIGTERM, then SIGKILL after REVIVE_TERM_GRACE s (default 10). */
void coord_term_tick(int64_t now)
{
    if (coord.child_done) {
        coord.term_signal_at = coord.term_kill_at = 0;
        return;
    }
    if (coord.term_signal_at && now >= coord.term_signal_at) {
        revive_log_warn("the job did not end after its checkpoint (--term); SIGTERM to the "
                        "launcher %d",
                        (int)coord.child);
        kill(coord.child, SIGTERM);
        const char *g = getenv("REVIVE_TERM_GRACE");
        int grace = g && *g ? atoi(g) : 10;
        coord.term_signal_at = 0;
        coord.term_kill_at = now + (int64_t)(grace > 0 ? grace : 10) * 1000;
    }
    if (coord.term_kill_at && now >= coord.term_kill_at) {
        revive_log_warn("the launcher %d did not end after SIGTERM; SIGKILL", (int)coord.child);
        kill(coord.child, SIGKILL);
        coord.term_kill_at = 0;
    }
}

/* A restart interrupted before every rank was back: the launcher passes the signal on to ranks
 * that may not act on it (an image taken with SIGINT ignored, as a background job of a script
 * starts; a rank in its fresh MPI's start waiting on a launcher that, having taken the ^C,
 * waits for it: newuser7 H1 hung for ever). Still there REVIVE_TERM_GRACE s (default 10) after
 * the signal: SIGTERM to the launcher; as long again: SIGKILL. The processes it leaves are the
 * coordinator's (its subreaper) and are ended with it (coord_restart_kill_orphans). */
static int64_t end_grace_ms(void)
{
    const char *g = getenv("REVIVE_TERM_GRACE");
    int grace = g && *g && atoi(g) > 0 ? atoi(g) : 10;
    return (int64_t)grace * 1000;
}

int64_t coord_restart_end_deadline(void)
{
    /* also a launch whose ending signal came before every rank was up: Hydra's mpiexec took a
     * ^C at 0.2 s ("Sending Ctrl-C to processes as requested"), its proxy never passed it on
     * and the ranks waited in MPI_Init for ever (newuser7b M3's trials, natively too) */
    if (!(coord.end_before_back || coord.end_before_up) || coord.child_done ||
        coord.end_escalated >= 2)
        return 0;
    return coord.end_signal_ms + end_grace_ms() * (coord.end_escalated + 1);
}

void coord_restart_end_tick(int64_t now)
{
    int64_t at = coord_restart_end_deadline();
    if (!at || now < at || coord.child <= 0)
        return;
    coord.end_escalated++;
    int sig = coord.end_escalated == 1 ? SIGTERM : SIGKILL;
    revive_log_warn("the %sjob did not end within %lld s of SIG%s (its ranks were being "
                    "%s): SIG%s to the launcher %d", coord.end_before_up ? "" : "restarted ",
                    (long long)((now - coord.end_signal_ms) / 1000), sigabbrev_np(coord.end_signal),
                    coord.end_before_up ? "started" : "restored", sigabbrev_np(sig),
                    (int)coord.child);
    kill(coord.child, sig);
}

/* Its parent's pid from /proc/PID/stat, -1 when gone. */
static pid_t parent_of(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    char *r = strrchr(buf, ')');
    char st;
    int pp;
    if (!r || sscanf(r + 1, " %c %d", &st, &pp) != 2 || st == 'Z' || st == 'X')
        return -1;
    return (pid_t)pp;
}

void coord_restart_kill_orphans(void)
{
    if (!coord_restart_interrupted() && !coord.end_before_back && !coord.end_before_up)
        return;
    pid_t me = getpid(), w = coord_witness_pid();
    for (int round = 0; round < 500; round++) {
        int left = 0;
        DIR *d = opendir("/proc");
        for (struct dirent *de; d && (de = readdir(d));) {
            char *end;
            long p = strtol(de->d_name, &end, 10);
            if (*end || p <= 1 || p == me || p == w || parent_of((pid_t)p) != me)
                continue;
            if (!left++ && round == 0)
                revive_log_info("processes of the interrupted %s left after its launcher: "
                                "killed", coord.end_before_up ? "start" : "restart");
            kill((pid_t)p, SIGKILL);
        }
        if (d)
            closedir(d);
        /* the launcher was reaped already; the witness, if it ended on its own meanwhile, is
         * told as such (coord_witness_stop would kill and wait for a reaped pid, which may be
         * another process's by then: diffrev27 S-L1) */
        int st;
        for (pid_t p; (p = waitpid(-1, &st, WNOHANG)) > 0;)
            if (!coord_witness_reaped(p, st))
                coord_fetch_reaped(p, st);
        if (!left)
            return;
        usleep(10000);
    }
}

/* A launch's ending signal that came while the job started (before every rank said HELLO) may
 * be dropped by the launcher itself: Hydra's mpiexec took a ^C before its proxies ran and went
 * on, the job ran to its end, status 0 (newuser7b M3: 1 in 10 ^C's at 0-500 ms; natively too,
 * where mpiexec.mpich also hung once). COORD_REDELIVER_MS after the signal, every rank
 * connected and the launcher still there: it did not act (one that did has ended or is
 * ending the ranks by then: 5 s, longer than Open MPI's 5 s "hit ctrl-c again" window and
 * than a teardown under load, so that a launcher that acted is not sent a second ^C, which
 * Hydra takes for "abort now": diffrev29 N-L2), so it is given the signal again; while the
 * ranks are still starting, looked at again every 250 ms. Once only. */
int64_t coord_launch_redeliver_deadline(void)
{
    if (!coord.end_before_up || !coord.end_redeliver_at || coord.child_done || coord.child <= 0)
        return 0;
    return coord.end_redeliver_at;
}

void coord_launch_redeliver_tick(int64_t now)
{
    int64_t at = coord_launch_redeliver_deadline();
    if (!at || now < at)
        return;
    if (coord.term_pending || coord.p.nranks <= 0 || coord_live_rank_conns() < coord.p.nranks) {
        coord.end_redeliver_at = now + 250; /* ranks still starting (or ending) */
        return;
    }
    coord.end_redeliver_at = 0;
    revive_log_info("SIG%s came while the job started and the launcher did not act on it (every "
                    "rank runs %lld ms later): given to the launcher %d again",
                    sigabbrev_np(coord.end_signal), (long long)(now - coord.end_signal_ms),
                    (int)coord.child);
    kill(coord.child, coord.end_signal);
}

void coord_restart_redeliver(void)
{
    if (!coord.end_before_back || !coord.end_signal || coord.child_done)
        return;
    /* The signal came while the ranks were being restored, and they are back running: a rank
     * takes the action its image had for it only from now on (a copy that reached it during
     * the restore, or its launcher's copy, was lost: newuser7 M4, H1; 2 of 8 group ^C's in
     * rst_intr-mpich ran the job to its end, status 0). Given again to this host's ranks. */
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    int n = 0;
    for (int r = 0; r < coord.nrank_conn; r++) {
        int i = coord.rank_conn[r];
        if (i >= 0 && strcmp(coord.c[i].host, host) == 0 && coord.c[i].pid > 1 &&
            kill((pid_t)coord.c[i].pid, coord.end_signal) == 0)
            n++;
    }
    revive_log_info("SIG%s came while the ranks were being restored: given to %d rank(s) now "
                    "that they are back", sigabbrev_np(coord.end_signal), n);
}
