/* ckpt-mpirun [--term | --stop] [--status] [--timeout SEC] [--json] [--wait] PID
 *
 * Takes a global snapshot of the MPI job whose launcher (or any process under
 * it) is PID, started with Revive's `mpirun -am ft-enable-cr` (or restart-mpi).
 * Returns once the snapshot is committed and the job runs again (or is
 * stopped, or has ended with --term). The last line on standard output is the
 * snapshot reference; progress and the summary go to standard error. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/procfs.h"
#include "crs/base/protocol.h"
#include "crs/base/shared_note.h"
#include "snapc/util.h"
#include "snapc/wire.h"
#include "tools/pid_arg.h"
#include "tools/tool_die.h"

static const char *me = "ckpt-mpirun";

/* An interrupt (^C; SIGTERM, SIGHUP too). Before the request is sent it ends the command: nothing
 * was asked. Once it is sent, the handler only notes the signal and wakes the wait (wake_pipe):
 * the command then asks the coordinator to withdraw the request (SNAPC_TOOL_WITHDRAW) and says
 * what it answered, withdrawn (still queued) or going on (its checkpoint had begun: the snapshot
 * commits and the job is ended or stopped as asked; its reference is printed as usual). Before,
 * one sentence covered both cases and the user of a --term had to guess whether the job would
 * survive (newuser15 F1). A second signal, or no answer, ends it at once with that sentence
 * (formatted beforehand: a handler may only write). */
static volatile sig_atomic_t got_signal, request_sent;
static int wake_pipe[2] = {-1, -1};
static char interrupted_msg[512];
static size_t interrupted_len;
static const char before_msg[] = "\nckpt-mpirun: interrupted before the request reached the job's "
                                 "coordinator: nothing was asked of the job, no checkpoint\n";

static void on_interrupt(int sig)
{
    int e = errno;
    if (!request_sent || got_signal) {
        const char *m = request_sent ? interrupted_msg : before_msg;
        size_t n = request_sent ? interrupted_len : sizeof before_msg - 1;
        if (write(2, m, n) < 0) {
            /* nothing more to say */
        }
        _exit(128 + sig);
    }
    got_signal = sig;
    if (write(wake_pipe[1], "", 1) < 0) {
        /* the pipe is full: the wait wakes anyway */
    }
    errno = e;
}

/* From the start: an interrupt before the request is sent says that nothing was asked. */
static void catch_interrupts(void)
{
    if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        wake_pipe[0] = wake_pipe[1] = -1;
    /* SA_RESTART: the summary's writes are not cut by a signal (poll returns EINTR anyway) */
    struct sigaction sa = {.sa_handler = on_interrupt, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* Sends the request with the interrupts held, so that one that comes as it is sent is taken
 * for what it is: after the request (the coordinator may have begun the checkpoint). */
static int send_request(int fd, pid_t coord, const struct snapc_tool_ckpt *req,
                        const char *save_files)
{
    int n = snprintf(interrupted_msg, sizeof interrupted_msg,
                     "\n%s: interrupted; the request was sent to the coordinator of job %d: a "
                     "checkpoint that has begun goes on to its commit without this command "
                     "(ckpt-info on the job's snapshot directory lists it), one still queued is "
                     "withdrawn\n",
                     me, (int)coord);
    interrupted_len = n > 0 && (size_t)n < sizeof interrupted_msg ? (size_t)n : 0;
    sigset_t ints, old;
    sigemptyset(&ints);
    sigaddset(&ints, SIGINT);
    sigaddset(&ints, SIGTERM);
    sigaddset(&ints, SIGHUP);
    sigprocmask(SIG_BLOCK, &ints, &old);
    int se = snapc_wire_send(fd, SNAPC_TOOL_CKPT, 0, req, sizeof *req, save_files,
                             save_files ? (uint32_t)strlen(save_files) : 0, 10000);
    if (se == 0)
        request_sent = 1;
    sigprocmask(SIG_SETMASK, &old, NULL);
    return se;
}

/* snapc_reader_wait, that also returns -EINTR once an interrupt was noted (heed: not yet acted
 * on: the wake pipe stays readable after it) */
static int wait_frame(int fd, struct snapc_reader *rd, int timeout_ms, int heed)
{
    int64_t deadline = revive_mono_ms() + timeout_ms;
    for (;;) {
        int e = snapc_reader_feed(fd, rd);
        if (e != 0)
            return e;
        if (heed && got_signal)
            return -EINTR;
        int64_t left = deadline - revive_mono_ms();
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd pf[2] = {{.fd = fd, .events = POLLIN},
                               {.fd = heed ? wake_pipe[0] : -1, .events = POLLIN}};
        poll(pf, 2, (int)left);
    }
}

/* The end of an interrupted request whose coordinator did not say what became of it: the
 * sentence that covers both cases. */
static void __attribute__((noreturn)) interrupted_unsaid(void)
{
    if (write(2, interrupted_msg, interrupted_len) < 0) {
        /* nothing more to say */
    }
    exit(128 + got_signal);
}

/* The coordinator's answer to the withdrawal (coord_tool.c coord_tool_withdraw): which case, in
 * one line; a snapshot that goes on has its reference as the last line of standard output, as
 * when the command is not interrupted (a script that sent the ^C still finds it). Returns the
 * exit status: 128+N either way (interrupted by signal N). */
static int say_withdrawn(const char *js, pid_t coord, uint32_t asked)
{
    int sig = got_signal;
    if (strstr(js, "\"withdrawn\":true")) {
        char behind[200] = "?";
        snapc_json_str(js, "queued", behind, sizeof behind);
        char stopped[200] = "the job runs on";
        if (strstr(js, "\"job_stopped\":true"))
            snapc_fmt(stopped, sizeof stopped, "the job stays stopped, as an earlier --stop left "
                      "it: kill -CONT %d continues it", (int)coord);
        fprintf(stderr, "\n%s: interrupted (SIG%s): the request was still queued (%s): withdrawn, "
                        "no snapshot from it; %s\n",
                me, sigabbrev_np(sig), behind, stopped);
        return 128 + sig;
    }
    long long seq = -1;
    char ref[4097] = "", after[16] = "running";
    snapc_json_num(js, "seq", &seq);
    snapc_json_str(js, "reference", ref, sizeof ref);
    snapc_json_str(js, "job_after", after, sizeof after);
    uint32_t got = !strcmp(after, "ended") ? SNAPC_TOOL_TERM : !strcmp(after, "stopped") ? SNAPC_TOOL_STOP : 0;
    const char *other = (asked & (SNAPC_TOOL_TERM | SNAPC_TOOL_STOP)) != got
                            ? ", asked by another request that shares the snapshot (--wait)"
                            : "";
    struct snapc_sbuf word = {0};
    snapc_sb_shell_word(&word, ref);
    const char *w = word.p ? word.p : ref;
    int committed = strstr(js, "\"committed\":true") != NULL;
    char then[PATH_MAX + 300];
    /* not committed yet: it may still fail (the job then runs on, as after any failed one) */
    const char *once = committed ? "" : "once it commits, ";
    if (got & SNAPC_TOOL_TERM)
        snapc_fmt(then, sizeof then, "%sthe job ENDS (--term%s); restart-mpi %s runs it again "
                  "from the snapshot", once, other, w);
    else if (got & SNAPC_TOOL_STOP)
        snapc_fmt(then, sizeof then, "%sthe job's ranks and launcher are STOPPED (--stop%s): "
                  "kill -CONT %d continues them", once, other, (int)coord);
    int stopped_now = strstr(js, "\"job_stopped\":true") != NULL;
    if (!(got & (SNAPC_TOOL_TERM | SNAPC_TOOL_STOP)))
        snapc_fmt(then, sizeof then, "%s", stopped_now ? "the job runs on once continued"
                                                        : "the job runs on");
    char stopped[160] = "";
    if (stopped_now)
        /* the ranks reach no safe point until continued (diffrev46 R-L3: "the job runs on") */
        snapc_fmt(stopped, sizeof stopped, "; the job is stopped now (an earlier --stop): the "
                  "checkpoint goes on once kill -CONT %d continues it", (int)coord);
    if (committed)
        /* the answer waited for the job's end (--term) or its stop */
        fprintf(stderr, "\n%s: interrupted (SIG%s): job %d's snapshot %lld is committed (the "
                        "reference is the last line), and %s\n",
                me, sigabbrev_np(sig), (int)coord, seq, then);
    else
        fprintf(stderr, "\n%s: interrupted (SIG%s): job %d's checkpoint had begun, so it was not "
                        "withdrawn: snapshot %lld goes on without this command, and %s (ckpt-info "
                        "says whether it committed; the reference is the last line)%s\n",
                me, sigabbrev_np(sig), (int)coord, seq, then, stopped);
    snapc_sb_free(&word);
    printf("%s\n", ref);
    fflush(stdout);
    return 128 + sig;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ckpt-mpirun [--term | --stop] [--status] [--timeout SEC] [--json] [--wait]\n"
            "                   [--no-wait-stage] [--save-shared] [--save-files PATH[,PATH...]] PID\n"
            "Checkpoints the MPI job started with 'mpirun -am ft-enable-cr' whose launcher (or a\n"
            "process under it) is PID. The last line on standard output is the snapshot\n"
            "reference (give it to restart-mpi); progress and a summary go to standard error.\n"
            "  --term        end the job once the snapshot is committed\n"
            "  --stop        stop the ranks (SIGSTOP) once the snapshot is committed\n"
            "  --status      print each phase as it is reached\n"
            "  --timeout SEC give up when the ranks do not reach a safe point in SEC seconds\n"
            "                (default 120); the job goes on; with --wait on a job still\n"
            "                starting, also when its ranks have not all connected in SEC\n"
            "                seconds (default 300)\n"
            "  --json        print the summary as JSON on standard output (before the reference)\n"
            "  --wait        when a checkpoint of the job is in progress, or the job is still\n"
            "                starting, wait and take the next one (shared by the requests\n"
            "                waiting with this one: --term before --stop before running on)\n"
            "  --no-wait-stage  return once every image is in its node's cache and the\n"
            "                job runs again, before the images are copied to the snapshot\n"
            "                directory and committed (node-local first, the default; not\n"
            "                with --ckpt-local none)\n"
            "  --save-shared also save the pages of files the ranks map shared and writable\n"
            "                (MAP_SHARED); a restart writes them back into the files (without\n"
            "                it each such mapping is named in a warning: a restart sees the\n"
            "                file as it is then)\n"
            "  --save-files PATH[,PATH...]  also copy these files or directories into the\n"
            "                snapshot while every rank is held at its capture (relative PATHs\n"
            "                are the job's working directory's, on the coordinator's host): the\n"
            "                state files a job rewrites between steps; restart-mpi puts them\n"
            "                back before the launch. Regular files, directories (whole) and\n"
            "                symbolic links only; a PATH missing now is refused\n"
            "Exit status: 0 the snapshot is committed (--no-wait-stage: in the nodes' caches);\n"
            "its reference is the last line; 1 no snapshot: refused (the job still starting or\n"
            "ending, another checkpoint running without --wait), failed (the job goes on,\n"
            "earlier snapshots intact), or the job is ending (a rank in MPI_Finalize) or\n"
            "ended before the snapshot could be taken;\n"
            "the reason in one line on standard error, among them a PID that names no job to\n"
            "checkpoint (no such process, a zombie, another user's, no MPI job of Revive); 2\n"
            "wrong usage (an unknown option, no PID or two, a PID that is no positive number,\n"
            "a bad --timeout value, --term with --stop); 3 the snapshot is committed (its\n"
            "reference the last line) but another request waiting with this one (--wait,\n"
            "one snapshot for both) left the job otherwise than this one asked: ended\n"
            "(--term) or stopped (--stop), said on standard error; 128+N interrupted by\n"
            "signal N: the request is withdrawn when it was still queued, while a checkpoint\n"
            "that has begun goes on to its commit (and to its --term or --stop), its reference\n"
            "then the last line as usual; which of the two, said on standard error.\n");
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tool_vdie(1, me, fmt, ap);
}

static int read_small(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, buf, len - 1);
    int e = errno;
    close(fd);
    if (n < 0)
        return -e;
    buf[n] = 0;
    return (int)n;
}

static pid_t parent_of(pid_t p)
{
    char buf[1024];
    uint64_t ppid;
    if (revive_proc_read(p, 0, "stat", buf, sizeof buf) < 0 || revive_stat_field(buf, 4, &ppid))
        return -1;
    return (pid_t)ppid;
}

static void comm_of(pid_t p, char *out, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)p);
    if (read_small(path, out, len) < 0)
        snprintf(out, len, "?");
    out[strcspn(out, "\n")] = 0;
}

static int is_launcher_name(const char *n)
{
    static const char *const names[] = {"mpirun", "mpiexec", "orterun", "prterun", "mpiexec.hydra",
                                        "mpirun.openmpi", "mpiexec.openmpi", "mpiexec.mpich",
                                        "mpirun.mpich", "hydra_pmi_proxy", "orted", "prte"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcmp(n, names[i]) == 0)
            return 1;
    return 0;
}

/* 1 when p is a job of Revive that has not started its coordinator yet: Revive's mpirun
 * wrapper with -am ft-enable-cr still choosing the MPI (a shell script until it execs
 * revive-coord, keeping its pid), or restart-mpi still checking the snapshot (it execs
 * revive-coord too). */
static int starting_job(pid_t p)
{
    char comm[64];
    comm_of(p, comm, sizeof comm);
    if (strcmp(comm, "restart-mpi") == 0 || strcmp(comm, "revive-coord") == 0)
        return 1;
    if (!is_launcher_name(comm))
        return 0;
    char path[64], buf[8192];
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)p);
    int n = read_small(path, buf, sizeof buf);
    if (n == 0)
        return 1; /* between two programs: Linux shows no arguments while an exec (here the
                   * wrapper's of revive-coord) has replaced the memory but not yet set them;
                   * it was taken for a job without ft-enable-cr (mpi_ckpt-ompi under load) */
    if (n < 0)
        return 0;
    int am = 0;
    for (char *a = buf; a < buf + n; a += strlen(a) + 1) {
        if (am && strstr(a, "ft-enable-cr"))
            return 1;
        am = strcmp(a, "-am") == 0 || strcmp(a, "--am") == 0;
    }
    return 0;
}

/* A process under pid (its children first, then theirs; at most 3 levels) that is a Revive job's
 * coordinator (it has a socket in dir) or else an MPI launcher: for the hint of a PID that is
 * neither (`timeout 600 mpirun ...` given timeout's pid). 0 when there is none. */
static pid_t launcher_below(pid_t pid, const char *dir, char *name, size_t namelen)
{
    pid_t level[64], next[64], coordp = 0, launcher = 0;
    int n = 1;
    level[0] = pid;
    for (int depth = 0; depth < 3 && n > 0 && !coordp; depth++) {
        int m = 0;
        DIR *d = opendir("/proc");
        if (!d)
            return 0;
        for (struct dirent *e; (e = readdir(d));) {
            pid_t q = (pid_t)atoi(e->d_name);
            if (q <= 1)
                continue;
            int pp = parent_of(q), mine = 0;
            for (int k = 0; k < n; k++)
                mine |= pp == level[k];
            if (!mine)
                continue;
            char sock[PATH_MAX], comm[64];
            struct stat st;
            snapc_fmt(sock, sizeof sock, "%s/coord.%d", dir, (int)q);
            comm_of(q, comm, sizeof comm);
            if (!coordp && lstat(sock, &st) == 0 && S_ISSOCK(st.st_mode)) {
                coordp = q;
                snapc_fmt(name, namelen, "%s", comm);
            } else if (!launcher && !coordp && is_launcher_name(comm)) {
                launcher = q;
                snapc_fmt(name, namelen, "%s", comm);
            }
            if (m < 64)
                next[m++] = q;
        }
        closedir(d);
        memcpy(level, next, (size_t)m * sizeof *level);
        n = m;
    }
    return coordp ? coordp : launcher;
}

/* --wait and a PID that is none of Revive's yet: `mpirun ... & ckpt-mpirun --wait $!` can look
 * before $! (the forked shell, or nohup, env, setsid in front of mpirun) has exec'd mpirun
 * (issue 7 review F2: refused 1 time in 3 with nohup). Such a process is looked at again until
 * it is this old, then refused. */
#define YOUNG_S 10

/* Seconds since pid started (/proc/PID/stat field 22 against /proc/uptime); -1 when unknown. */
static double age_of(pid_t pid)
{
    char buf[1024], up[128];
    uint64_t start;
    if (revive_proc_read(pid, 0, "stat", buf, sizeof buf) < 0 ||
        read_small("/proc/uptime", up, sizeof up) < 0 || revive_stat_field(buf, 22, &start))
        return -1;
    long hz = sysconf(_SC_CLK_TCK);
    return strtod(up, NULL) - (double)start / (double)(hz > 0 ? hz : 100);
}

/* Set once a young PID was looked at again (--wait): the refusal then says for how long. */
static int young_waited;

/* Finds the coordinator's socket for PID: walks up from PID. Returns the
 * coordinator's pid, or 0 when PID belongs to a Revive job that is still
 * starting, or (wait) is a process younger than YOUNG_S that may still exec
 * mpirun (*why says so); any other failure ends the program with a message. */
static pid_t find_coordinator(pid_t pid, char *sock, size_t socklen, uid_t *owner, char *why,
                              size_t whylen, int wait)
{
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/proc/%d", (int)pid);
    /* gone, a zombie, another user's: worded as cr_checkpoint words them (pid_arg.h) */
    if (tool_pid_check(me, pid, "the PID of the job's mpirun") || stat(path, &st) < 0)
        exit(TOOL_PID_REFUSED);
    *owner = st.st_uid;
    char dir[PATH_MAX];
    snapc_socket_dir(dir, sizeof dir, (unsigned)st.st_uid);
    int launcher_seen = 0;
    pid_t starting = 0;
    char first[64] = "?";
    comm_of(pid, first, sizeof first);
    for (pid_t p = pid; p > 1;) {
        snapc_fmt(sock, socklen, "%s/coord.%d", dir, (int)p);
        if (lstat(sock, &st) == 0 && S_ISSOCK(st.st_mode))
            return p;
        char name[64];
        comm_of(p, name, sizeof name);
        launcher_seen |= is_launcher_name(name);
        if (!starting && starting_job(p))
            starting = p;
        p = parent_of(p);
    }
    if (starting) {
        char name[64];
        comm_of(starting, name, sizeof name);
        if (strcmp(name, "revive-coord") == 0)
            snapc_fmt(why, whylen,
                      "the coordinator %d has no socket in %s: it is still starting (try again "
                      "in a moment, or use --wait), or it was started with another "
                      "REVIVE_SOCKET_DIR",
                      (int)starting, dir);
        else
            snapc_fmt(why, whylen,
                      "job %d (%s) is still starting: its coordinator is not up yet; try again "
                      "in a moment, or use --wait",
                      (int)starting, name);
        return 0;
    }
    if (pid == 1)
        /* every process is under it: the search below would name some other job's mpirun */
        die("process 1 (%s) is the first process of this pid namespace (its init), not an MPI "
            "launcher started with Revive's 'mpirun -am ft-enable-cr'; give the PID of the job's "
            "mpirun", first);
    if (is_launcher_name(first) || launcher_seen)
        die("process %d (%s) belongs to an MPI job that was not started with "
            "'mpirun -am ft-enable-cr': Revive cannot checkpoint it; start the job with Revive's "
            "'mpirun -am ft-enable-cr ...'",
            (int)pid, first);
    char below[64] = "";
    pid_t l = launcher_below(pid, dir, below, sizeof below);
    double age = age_of(pid);
    if (wait && l <= 0 && age >= 0 && age < YOUNG_S) {
        young_waited = 1;
        snapc_fmt(why, whylen, "process %d (%s) has not become an MPI job yet", (int)pid, first);
        return 0;
    }
    char waited[160] = "";
    if (young_waited)
        snapc_fmt(waited, sizeof waited,
                  " (--wait looked at it until it was %d s old: it did not exec Revive's mpirun)",
                  YOUNG_S);
    if (l <= 0 && crs_proto_has_libcr(pid))
        die("process %d (%s) is not an MPI launcher started with Revive's 'mpirun -am "
            "ft-enable-cr' (nor is any process above it)%s; it runs under Revive's cr_run, as one "
            "process: cr_checkpoint %d checkpoints it",
            (int)pid, first, waited, (int)pid);
    if (l > 0)
        die("process %d (%s) is not an MPI launcher started with Revive's 'mpirun -am "
            "ft-enable-cr' (nor is any process above it)%s; under it, process %d (%s) is %s: "
            "ckpt-mpirun %d",
            (int)pid, first, waited, (int)l, below,
            strcmp(below, "revive-coord") == 0 ? "the job's mpirun" : "an MPI launcher", (int)l);
    die("process %d (%s) is not an MPI launcher started with Revive's 'mpirun -am ft-enable-cr' "
        "(nor is any process above it)%s; give the PID of the job's mpirun%s",
        (int)pid, first, waited,
        !wait && age >= 0 && age < YOUNG_S
            ? " (it started a moment ago: if it is about to run mpirun, ckpt-mpirun --wait "
              "waits for that)"
            : "");
}

/* The socket's directory must be private to the job's owner. */
static void check_dir(const char *sock, uid_t owner)
{
    char dir[PATH_MAX];
    snapc_fmt(dir, sizeof dir, "%s", sock);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    struct stat st;
    if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != owner || (st.st_mode & 077))
        die("%s is not a private directory of uid %u: refusing to talk through it (remove it; "
            "the next job recreates it)",
            dir, (unsigned)owner);
    if (lstat(sock, &st) < 0 || st.st_uid != owner)
        die("%s does not belong to uid %u: refusing it", sock, (unsigned)owner);
}

/* wait: a coordinator that is alive but not listening yet (between its bind and its listen, or
 * just exec'd by restart-mpi) is waited for up to 120 s, as a job still starting is. */
static int connect_unix(const char *path, pid_t coord, uid_t owner, int wait)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("cannot create a socket: %s", strerror(errno));
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof a.sun_path)
        die("the socket path %s is too long", path);
    memcpy(a.sun_path, path, strlen(path) + 1);
    int64_t until = revive_mono_ms() + 120000;
    while (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        int e = errno;
        if (wait && (e == ECONNREFUSED || e == ENOENT) && kill(coord, 0) == 0 &&
            revive_mono_ms() < until) {
            /* a fresh socket for each attempt (a failed connect's socket is not reused) */
            close(fd);
            usleep(50000);
            fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0)
                die("cannot create a socket: %s", strerror(errno));
            continue;
        }
        if (e == ECONNREFUSED || e == ENOENT)
            die("the coordinator of job %d does not answer (it has ended or crashed; %s is "
                "stale)",
                (int)coord, path);
        die("cannot reach the coordinator of job %d (%s): %s", (int)coord, path, strerror(e));
    }
    struct ucred cr;
    socklen_t cl = sizeof cr;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0 || cr.uid != owner ||
        cr.pid != coord)
        die("%s is not served by the coordinator of job %d (peer pid %d, uid %u): refusing it",
            path, (int)coord, (int)cr.pid, (unsigned)cr.uid);
    return fd;
}

/* The coordinator has ended, or ends within 10 s (it closes the tools' connections on its
 * way out): 1. A request that meets the job's end gets that answer, not an errno. */
static int coordinator_ends(pid_t coord)
{
    for (int t = 0; t < 200; t++) {
        if (kill(coord, 0) < 0 && errno == ESRCH)
            return 1;
        char st[1024];
        if (revive_proc_read(coord, 0, "stat", st, sizeof st) == -ENOENT)
            return 1;
        char state = revive_stat_state(st);
        if (state == 'Z' || state == 'X')
            return 1;
        usleep(50000);
    }
    return 0;
}

/* A rank's standard input held bytes its image leaves unread (the launcher's pipe to rank 0): a
 * restart reads restart-mpi's standard input instead, so say it (review9 F1); or, when they were
 * the rest of the input, that the snapshot keeps them (agent_epoch.c save_stdin). */
static void print_stdin(const char *json, pid_t coord)
{
    long long rank = -1, unread = 0;
    char kind[32] = "?";
    if (snapc_json_num(json, "stdin_unread", &unread) < 0 || unread <= 0 ||
        snapc_json_num(json, "stdin_rank", &rank) < 0)
        return;
    snapc_json_str(json, "stdin_kind", kind, sizeof kind);
    int ended = strstr(json, "\"stdin_ended\":true") != NULL;
    const char *s = unread == 1 ? "" : "s";
    if (strstr(json, "\"stdin_saved\":true")) {
        /* the rest of the input, kept: restart-mpi feeds it to rank 0, then the end */
        fprintf(stderr,
                "%s: job %d: rank %lld had not read the last %lld byte%s of its standard input "
                "(in its %s, the end of the input) when its image was written; the snapshot "
                "keeps them: a restart from it gives rank 0 these bytes, then the end of its "
                "input\n",
                me, (int)coord, rank, unread, s, kind);
        return;
    }
    fprintf(stderr,
            "%s: job %d: warning: rank %lld had not read %lld byte%s of its standard input (in its "
            "%s%s) when its image was written; the snapshot does not hold %s: %s "
            "(docs/snapshots.md, \"Standard input\")\n",
            me, (int)coord, rank, unread, s, kind,
            ended ? ", the end of the input" : ", and the launcher may hold more",
            unread == 1 ? "it" : "them",
            rank == 0 ? "a restart from it reads restart-mpi's standard input instead"
                      : "a restart gives standard input to rank 0 only");
}

/* The end of the JSON string at s (its opening quote), past its closing quote; NULL when it
 * does not end. */
static const char *json_str_end(const char *s)
{
    for (s++; *s && *s != '"'; s++)
        if (*s == '\\' && s[1])
            s++;
    return *s ? s + 1 : NULL;
}

/* The ranks' writable shared file mappings whose pages the snapshot left to their files: one
 * warning line each (the summary's "unsaved_shared" array, "unsaved_shared_more" for the rest). */
static void print_shared(const char *json, pid_t coord)
{
    const char *p = strstr(json, "\"unsaved_shared\":[");
    while (p && (p = strchr(p, '{')) != NULL) {
        long long rank = -1, bytes = 0;
        char path[PATH_MAX];
        const char *q = strstr(p, "\"path\":");
        if (snapc_json_num(p, "rank", &rank) < 0 || snapc_json_num(p, "bytes", &bytes) < 0 || !q ||
            snapc_json_str(p, "path", path, sizeof path) < 0)
            break;
        char whom[32], w[PATH_MAX + 300];
        struct crs_shared_line l = {.bytes = (unsigned long long)bytes, .path = path, .pathlen = (int)strlen(path)};
        snprintf(whom, sizeof whom, "rank %lld", rank);
        crs_shared_warning(w, sizeof w, whom, &l, "snapshot", "--save-shared", NULL);
        fprintf(stderr, "%s: job %d: warning: %s\n", me, (int)coord, w);
        p = json_str_end(q + 7);
        if (!p || *p != '}' || p[1] != ',')
            break;   /* the array's last */
        p++;
    }
    long long more = 0;
    if (snapc_json_num(json, "unsaved_shared_more", &more) == 0 && more > 0) {
        char w[300];
        struct crs_shared_line l = {.more = (unsigned long long)more};
        crs_shared_warning(w, sizeof w, "the ranks", &l, "snapshot", NULL, "ckpt-info");
        fprintf(stderr, "%s: job %d: warning: %s\n", me, (int)coord, w);
    }
}

/* The ranks whose image went straight into the snapshot directory: their node's cache had no
 * room even once its older copies were gone (the summary's "local_full"; newuser10 F4) */
static void print_local_full(const char *json, pid_t coord)
{
    char ranks[256];
    if (snapc_json_str(json, "local_full", ranks, sizeof ranks) < 0 || !ranks[0])
        return;
    fprintf(stderr,
            "%s: job %d: the node-local cache had no room for the image of rank%s %s, even once "
            "its older copies (kept in the snapshot directory) were gone: written straight into "
            "the snapshot directory instead (slower; a larger --ckpt-local DIR keeps the cache in "
            "use)\n",
            me, (int)coord, strchr(ranks, ',') ? "s" : "", ranks);
}

/* --save-files (or mpirun --ckpt-save-files): what the snapshot keeps, which restart-mpi puts
 * back */
static void print_saved(const char *json, pid_t coord)
{
    long long n = 0;
    static char roots[SNAPC_FILES_LIST_MAX * 2];
    if (snapc_json_str(json, "absent_files", roots, sizeof roots) == 0 && roots[0])
        fprintf(stderr, "%s: job %d: --ckpt-save-files: %s did not exist at the snapshot: "
                        "recorded missing; restart-mpi moves what is there then aside\n",
                me, (int)coord, roots);
    if (snapc_json_num(json, "saved_entries", &n) < 0 || n <= 0 ||
        snapc_json_str(json, "saved_files", roots, sizeof roots) < 0)
        return;
    fprintf(stderr, "%s: job %d: the snapshot keeps %s (%lld entr%s, --save-files); restart-mpi "
                    "puts them back\n",
            me, (int)coord, roots, n, n == 1 ? "y" : "ies");
}

/* How the snapshot left the job, as SNAPC_TOOL_TERM (ended: the answer comes once it has), _STOP
 * (its ranks stopped) or 0 (it runs again): the summary's "job_after", which requests that
 * shared the snapshot (--wait) may have decided otherwise than this one (newuser12 F3); a
 * coordinator that does not say it took this request's own. */
static uint32_t job_after(const char *json, uint32_t asked)
{
    char v[16];
    if (snapc_json_str(json, "job_after", v, sizeof v) < 0)
        return asked & (SNAPC_TOOL_TERM | SNAPC_TOOL_STOP);
    return !strcmp(v, "ended") ? SNAPC_TOOL_TERM : !strcmp(v, "stopped") ? SNAPC_TOOL_STOP : 0;
}

/* flags: job_after's. */
static void print_summary(const char *json, uint64_t seq, pid_t coord, uint32_t flags)
{
    const char *after = (flags & SNAPC_TOOL_TERM)   ? "ranks told to end"
                        : (flags & SNAPC_TOOL_STOP) ? "ranks told to stop"
                                                    : "running again";
    long long ranks = 0, bytes = 0, t_tg = -1, t_q = -1, t_d = -1, t_c = -1, t_e = -1, t_r = -1,
              raises = 0;
    snapc_json_num(json, "ranks", &ranks);
    snapc_json_num(json, "bytes", &bytes);
    snapc_json_num(json, "raises", &raises);
    snapc_json_num(json, "targets", &t_tg);
    snapc_json_num(json, "quiesced", &t_q);
    snapc_json_num(json, "drained", &t_d);
    snapc_json_num(json, "captured", &t_c);
    snapc_json_num(json, "established", &t_e);
    snapc_json_num(json, "recovered", &t_r);
    char hb[32];
    snapc_human_bytes(hb, sizeof hb, (uint64_t)bytes);
    if (strstr(json, "\"status\":\"staging\"")) {
        fprintf(stderr,
                "%s: job %d: snapshot %llu: every image in its node's cache, the job runs again "
                "(%lld ms from the request); %lld ranks, %s being copied to the snapshot "
                "directory, not committed yet (ckpt-info shows when it is)\n",
                me, (int)coord, (unsigned long long)seq, t_r, ranks, hb);
        return;
    }
    if (t_r >= 0 && t_e > t_r) {
        /* node-local first: the job ran again before the commit */
        fprintf(stderr,
                "%s: job %d: snapshot %llu committed: %lld ranks, %s\n"
                "%s:   ms from the request: targets %lld, converged+quiesced %lld (%lld raises), "
                "drained %lld, captured in the nodes' caches %lld, running again (recovered) "
                "%lld, staged and committed (established) %lld\n",
                me, (int)coord, (unsigned long long)seq, ranks, hb, me, t_tg, t_q, raises, t_d,
                t_c, t_r, t_e);
        return;
    }
    fprintf(stderr,
            "%s: job %d: snapshot %llu committed: %lld ranks, %s\n"
            "%s:   ms from the request: targets %lld, converged+quiesced %lld (%lld raises), "
            "drained %lld, captured %lld, committed %lld, %s %lld\n",
            me, (int)coord, (unsigned long long)seq, ranks, hb, me, t_tg, t_q, raises, t_d, t_c,
            t_e, after, t_r);
}

/* The job's state after the snapshot (got: job_after's) and, when requests that shared it
 * (--wait) left it otherwise than this one asked (asked: its SNAPC_TOOL_*), that they did, and
 * which; likewise a snapshot that saved shared file mappings this one did not ask for (a
 * restart writes them back into their files). 1 when the job was left otherwise. */
static int print_job_after(const char *json, const char *ref, pid_t coord, uint32_t asked,
                           uint32_t got)
{
    int other = (asked & (SNAPC_TOOL_TERM | SNAPC_TOOL_STOP)) != got;
    const char *instead = (asked & SNAPC_TOOL_STOP) ? "not stopped (--stop)" : "not left running";
    if (got & SNAPC_TOOL_TERM) {
        /* quoted so that the hint can be pasted into a shell (review11 #6: "restart-mpi
         * /tmp/dir with space/..." broke on the spaces) */
        struct snapc_sbuf word = {0};
        snapc_sb_shell_word(&word, ref);
        if (other)
            fprintf(stderr, "%s: job %d was ended after its checkpoint, %s: another request that "
                            "shared the snapshot (--wait) asked --term; restart-mpi %s runs it "
                            "again from the snapshot\n",
                    me, (int)coord, instead, word.p ? word.p : ref);
        else
            fprintf(stderr, "%s: job %d has ended (--term); restart-mpi %s runs it again from the "
                            "snapshot\n", me, (int)coord, word.p ? word.p : ref);
        snapc_sb_free(&word);
    } else if (got & SNAPC_TOOL_STOP)
        fprintf(stderr, "%s: job %d: its ranks and its launcher are stopped (%s); kill -CONT "
                        "%d (or the launcher under it, or any rank) continues every rank\n", me,
                (int)coord,
                other ? "not running again: another request that shared the snapshot (--wait) "
                        "asked --stop"
                      : "--stop",
                (int)coord);
    if (strstr(json, "\"save_shared\":true") && !(asked & SNAPC_TOOL_SAVE_SHARED))
        fprintf(stderr, "%s: job %d: the snapshot also saves the pages of files the ranks map "
                        "shared and writable: another request that shared it (--wait) asked "
                        "--save-shared; a restart writes them back into the files\n",
                me, (int)coord);
    return other;
}

int main(int argc, char **argv)
{
    tool_pid_args(argc, argv); /* repeated whole in advice to run it as another user */
    catch_interrupts();
    uint32_t flags = 0;
    long timeout = 0;
    int json = 0;
    const char *pid_s = NULL;
    const char *save_files = NULL;
    int opts = 1; /* until "--" (getopt's convention: what follows is no option) */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (opts && !strcmp(a, "--"))
            opts = 0;
        else if (!opts || a[0] != '-') {
            if (pid_s) {
                fprintf(stderr, "%s: one PID only\n", me);
                return 2;
            }
            pid_s = a;
        } else if (!strcmp(a, "--term"))
            flags |= SNAPC_TOOL_TERM;
        else if (!strcmp(a, "--stop"))
            flags |= SNAPC_TOOL_STOP;
        else if (!strcmp(a, "--status") || !strcmp(a, "-s"))
            flags |= SNAPC_TOOL_STATUS;
        else if (!strcmp(a, "--wait"))
            flags |= SNAPC_TOOL_WAIT;
        else if (!strcmp(a, "--no-wait-stage"))
            flags |= SNAPC_TOOL_NOWAIT_STAGE;
        else if (!strcmp(a, "--save-shared"))
            flags |= SNAPC_TOOL_SAVE_SHARED;
        else if (!strcmp(a, "--json"))
            json = 1;
        else if (!strcmp(a, "--save-files") || !strncmp(a, "--save-files=", 13)) {
            const char *v = a[12] == '=' ? a + 13 : (i + 1 < argc ? argv[++i] : "");
            if (!*v) {
                fprintf(stderr, "%s: --save-files needs PATH[,PATH...]\n", me);
                return 2;
            }
            if (strlen(v) >= SNAPC_FILES_LIST_MAX) {
                fprintf(stderr, "%s: --save-files: the list is longer than %d bytes; name "
                                "fewer paths (a directory saves what it holds)\n",
                        me, SNAPC_FILES_LIST_MAX - 1);
                return 2;
            }
            save_files = v;
        }
        else if (!strcmp(a, "--timeout") || !strncmp(a, "--timeout=", 10)) {
            const char *v = a[9] == '=' ? a + 10 : (i + 1 < argc ? argv[++i] : "");
            char *end;
            timeout = strtol(v, &end, 10);
            if (!*v || *end || timeout < 1 || timeout > 86400 * 7) {
                fprintf(stderr, "%s: --timeout needs a whole number of seconds from 1 to %d, not "
                                "'%s'\n", me, 86400 * 7, v);
                return 2;
            }
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (a[1] >= '0' && a[1] <= '9') {
            /* "-5": a number, not an option (no option of ours starts with a digit) */
            pid_t dummy;
            return tool_pid_parse(me, a, &dummy);
        } else {
            /* one line, as GNU tools say it: the usage would push the mistake off the screen */
            fprintf(stderr, "%s: unknown option %s; see %s --help\n", me, a, me);
            return 2;
        }
    }
    if ((flags & SNAPC_TOOL_TERM) && (flags & SNAPC_TOOL_STOP)) {
        fprintf(stderr, "%s: --term and --stop exclude each other: give one\n", me);
        return 2;
    }
    if (!pid_s) {
        usage(stderr);
        return 2;
    }
    pid_t pid;
    int pe = tool_pid_parse(me, pid_s, &pid);
    if (pe)
        return pe;

    char sock[PATH_MAX];
    uid_t owner;
    char why[512];
    int waitf = (flags & SNAPC_TOOL_WAIT) != 0;
    pid_t coord = find_coordinator((pid_t)pid, sock, sizeof sock, &owner, why, sizeof why, waitf);
    /* --wait: a job still starting (its mpirun still a script) is waited for, up to 120 s; a
     * process that may still exec mpirun until it is YOUNG_S old (find_coordinator) */
    for (int64_t until = revive_mono_ms() + 120000; coord == 0;) {
        if (!(flags & SNAPC_TOOL_WAIT))
            die("%s", why);
        if (revive_mono_ms() > until)
            die("%s (waited 120 s)", why);
        usleep(50000);
        coord = find_coordinator((pid_t)pid, sock, sizeof sock, &owner, why, sizeof why, waitf);
    }
    check_dir(sock, owner);
    int fd = connect_unix(sock, coord, owner, (flags & SNAPC_TOOL_WAIT) != 0);
    struct snapc_tool_ckpt req = {.flags = flags, .timeout_s = (uint32_t)timeout};
    /* --save-files: the list as the tail, checked by the coordinator in the job's working
     * directory (relative PATHs are the job's) */
    int se = send_request(fd, coord, &req, save_files);
    if (se < 0) {
        if ((se == -EPIPE || se == -ECONNRESET) && coordinator_ends(coord))
            die("the job ended before the request was read (job %d); no checkpoint", (int)coord);
        die("cannot send the request to the coordinator of job %d: %s", (int)coord,
            strerror(-se));
    }
    const char *ct = getenv("REVIVE_CAPTURE_TIMEOUT");
    long bound_s = (timeout ? timeout : 120) + (ct && atoi(ct) > 0 ? atoi(ct) : 1800) + 120;
    int64_t t0 = revive_mono_ms(), deadline = t0 + bound_s * 1000;
    struct snapc_reader rd;
    snapc_reader_init(&rd, 1 << 20);
    int64_t withdraw_until = 0; /* an interrupt was acted on: its answer is awaited until */
    for (;;) {
        int64_t left = deadline - revive_mono_ms();
        if (withdraw_until && withdraw_until - revive_mono_ms() < left)
            left = withdraw_until - revive_mono_ms();
        if (left <= 0 && withdraw_until)
            interrupted_unsaid();
        if (left <= 0)
            die("no answer from the coordinator of job %d within %ld s; the job may be stuck",
                (int)coord, bound_s);
        int r = wait_frame(fd, &rd, (int)(left > 3600000 ? 3600000 : left), !withdraw_until);
        if (r == -EINTR) {
            /* the coordinator decides (it alone knows whether the epoch has begun): 10 s */
            withdraw_until = revive_mono_ms() + 10000;
            if (snapc_wire_send(fd, SNAPC_TOOL_WITHDRAW, 0, NULL, 0, NULL, 0, 2000) < 0)
                interrupted_unsaid();
            continue;
        }
        if (r == -ETIMEDOUT)
            continue;
        if (r < 0 && withdraw_until)
            interrupted_unsaid(); /* a coordinator of before SNAPC_TOOL_WITHDRAW closes */
        if (r < 0) {
            if (coordinator_ends(coord))
                die("the coordinator of job %d closed the connection without an answer: it has "
                    "ended (the job ended, or the coordinator was killed); no checkpoint",
                    (int)coord);
            die("the coordinator of job %d closed the connection without an answer", (int)coord);
        }
        char err[160];
        if (snapc_wire_check(&rd.hdr, rd.buf, err, sizeof err) < 0)
            die("bad answer from the coordinator: %s", err);
        if (rd.hdr.type == SNAPC_TOOL_PROGRESS) {
            char line[SNAPC_TEXT_MAX]; /* whole up to 4 KiB, "..." where cut (512 cut it silently) */
            snapc_wire_text(line, sizeof line, (const char *)rd.buf, rd.hdr.len);
            fprintf(stderr, "[%8.3f s] %s\n", (double)(revive_mono_ms() - t0) / 1000.0, line);
            snapc_reader_next(&rd);
            continue;
        }
        if (rd.hdr.type == SNAPC_TOOL_WITHDRAWN) {
            char js[SNAPC_TEXT_MAX + PATH_MAX];
            snapc_wire_str(js, sizeof js, (const char *)rd.buf, rd.hdr.len);
            return say_withdrawn(js, coord, flags);
        }
        if (rd.hdr.type != SNAPC_TOOL_DONE)
            die("unexpected answer (type %u) from the coordinator", rd.hdr.type);
        struct snapc_tool_done d;
        memcpy(&d, rd.buf, sizeof d);
        size_t tl = rd.hdr.len - sizeof d;
        char *tail = malloc(tl + 1);
        if (!tail)
            die("out of memory");
        memcpy(tail, rd.buf + sizeof d, tl);
        tail[tl] = 0;
        char ref[4097];
        snapc_fmt(ref, sizeof ref, "%.*s", (int)d.ref_len, tail);
        const char *js = tail + d.ref_len;
        if (json)
            printf("%s\n", js);
        if (d.status != 0) {
            /* the whole message: a rank's failure naming a long path keeps its advice */
            char msg[SNAPC_TEXT_MAX + 512];
            if (snapc_json_str(js, "error", msg, sizeof msg) < 0)
                snapc_fmt(msg, sizeof msg, "%s", strerror(-d.status));
            long long dummy;
            int epoch_failed = snapc_json_num(js, "epoch", &dummy) == 0;
            fflush(stdout);
            fprintf(stderr, "%s: %s%s\n", me, epoch_failed ? "no checkpoint: " : "", msg);
            return 1;
        }
        uint32_t got = job_after(js, flags);
        print_summary(js, d.seq, coord, got);
        int other = print_job_after(js, ref, coord, flags, got);
        print_stdin(js, coord);
        print_shared(js, coord);
        print_local_full(js, coord);
        print_saved(js, coord);
        printf("%s\n", ref);
        fflush(stdout);
        free(tail);
        snapc_reader_free(&rd);
        close(fd);
        /* the snapshot is this request's too, but the job is not as it asked (newuser12 F3) */
        return other ? 3 : 0;
    }
}
