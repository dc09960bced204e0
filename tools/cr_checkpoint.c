/* cr_checkpoint [options] PID: writes the image of a process run under Revive. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/procfs.h"
#include "common/size_arg.h"
#include "crs/base/durable.h"
#include "crs/base/protocol.h"
#include "crs/base/shared_note.h"
#include "crs/base/tree.h"
#include "tools/pid_arg.h"

static const char *me = "cr_checkpoint";

static void usage(FILE *f)
{
    fprintf(f,
            "usage: cr_checkpoint [-f FILE] [--cont|--term|--kill|--stop] [options] PID\n"
            "       cr_checkpoint [options] --tree PID | --pgid PGID | --sid SID\n"
            "Writes the image of process PID (started with cr_run or linked with -lcr)\n"
            "to FILE (default ./context.ID), atomically and with mode 0600.\n"
            "      --tree        PID and all its descendants (BLCR's scopes); one file\n"
            "      --pgid        every process of process group PGID\n"
            "      --sid         every process of session SID\n"
            "                    (with a scope, all members are stopped together, then\n"
            "                    written in turn; --term/--kill/--stop reach each;\n"
            "                    --fork is ignored: they run on together afterwards)\n"
            "  -f, --file FILE   where to write the image\n"
            "      --cont        let the process run on afterwards (default)\n"
            "      --term        send it SIGTERM once the image is safe\n"
            "      --kill        kill it (SIGKILL) once the image is safe\n"
            "      --stop        stop it (SIGSTOP) once the image is safe\n"
            "      --fork        the process stalls only for a fork; a child writes the image\n"
            "  -z, --compress[=LEVEL]  compress page data with zstd (default level 3)\n"
            "      --ignore-fds  record descriptors Revive cannot restore as closed\n"
            "      --save-shared also save the pages of files the process maps shared and\n"
            "                    writable (MAP_SHARED); a restart writes them back into the\n"
            "                    files (without it the files keep them: each mapping is named\n"
            "                    in a warning, and a restart sees the files as they are then)\n"
            "      --file-data-max=SIZE  the image may hold SIZE bytes (K, M, G) of files deleted\n"
            "                    while open and files in /dev/shm (default 1G; 0: no limit;\n"
            "                    at least 1M, counted in whole MiB, rounded up)\n"
            "  -T, --time SEC    give up after SEC seconds (default: wait while the process lives)\n"
            "  -v, --verbose     say what was written\n"
            "Exit status: 0 the image is complete under FILE; 1 no image (an earlier one under\n"
            "that name is intact): the checkpoint failed, or PID names no process this command\n"
            "can checkpoint (no such process, a zombie, another user's, one not under Revive),\n"
            "the reason in one line on standard error; 2 wrong usage (an unknown option, no PID\n"
            "or two, a PID that is no positive number, a bad option value).\n");
}

/* One warning line per writable shared file mapping whose pages the image left to the file
 * (crs/base/shared_note.h's note; a tree's with each member's pid), on standard error. */
static void shared_warnings(const char *lines, const char *who, int with_pid)
{
    struct crs_shared_line l;
    while (crs_shared_note_next(&lines, with_pid, &l)) {
        char whom[64], w[PATH_MAX + 300];
        if (with_pid)
            snprintf(whom, sizeof whom, "process %ld", l.pid);
        else
            snprintf(whom, sizeof whom, "%s", who);
        crs_shared_warning(w, sizeof w, with_pid && l.more ? "the tree's processes" : whom, &l, "image",
                           "--save-shared", "cr_info of the image");
        fprintf(stderr, "cr_checkpoint: warning: %s\n", w);
    }
}

static int commit(void *arg, char *err, size_t errlen)
{
    return crs_durable_commit(arg, err, errlen);
}

/* A tree's temporary image while cr_checkpoint may be ended by a signal: its members get the
 * file only when their turn to write comes, and one that has it removes it when cr_checkpoint
 * goes away (libcr's requester_gone); ended before that (SIGTERM, SIGINT or SIGHUP from a batch
 * system's time limit, `timeout`, ^C), nobody did: an empty .NAME.tmp.PID stayed for good, one
 * per attempt (newuser10b N3). The handler removes it (async-signal-safe: unlinkat of a name
 * only this process makes) and dies of the signal as before. SIGKILL leaves it still. */
static volatile int scope_tmp_dirfd = -1;
static char scope_tmpname[NAME_MAX + 1];

static void drop_scope_tmp(int sig)
{
    if (scope_tmp_dirfd >= 0)
        unlinkat(scope_tmp_dirfd, scope_tmpname, 0);   /* gone already once renamed: ENOENT */
    signal(sig, SIG_DFL);
    raise(sig);   /* delivered on return, with its default action */
}

/* on: the handler for those signals that would end cr_checkpoint (one ignored, under nohup,
 * stays ignored); off: their actions as they were */
static void scope_tmp_guard(const struct crs_durable *d, int on)
{
    static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
    static struct sigaction was[3];
    if (on) {
        memcpy(scope_tmpname, d->tmpname, sizeof scope_tmpname);
        scope_tmp_dirfd = d->dirfd;
    }
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        if (!on) {
            sigaction(sigs[i], &was[i], NULL);
            continue;
        }
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = drop_scope_tmp;
        if (sigaction(sigs[i], NULL, &was[i]) == 0 && was[i].sa_handler != SIG_IGN)
            sigaction(sigs[i], &sa, NULL);
    }
    if (!on)
        scope_tmp_dirfd = -1;
}

/* --tree, --pgid, --sid: every member into one file (crs/base/tree.h). */
static int checkpoint_scope(int scope, pid_t id, const char *file, uint32_t flags, int zstd, uint32_t file_data_mb,
                            int timeout, int sig, int verbose)
{
    const char *what = crs_tree_scope_name((uint32_t)scope);
    if (scope == CRS_TREE_SCOPE_TREE && kill(id, 0) != 0 && errno == ESRCH) {
        /* a restarted tree runs in a pid namespace of its own when its PIDs were taken: the
         * user knows it by the PID it had (review of session 10) */
        pid_t outer = crs_proto_find_inner_pid(id);
        if (outer > 0)
            fprintf(stderr, "cr_checkpoint: no process with PID %d here; process %d runs as %d inside its own "
                            "pid namespace (a restarted process): checkpoint it as %d (cr_checkpoint --tree %d)\n",
                    (int)id, (int)outer, (int)id, (int)outer, (int)outer);
        else
            fprintf(stderr, "cr_checkpoint: no process with PID %d\n", (int)id);
        return 1;
    }
    struct crs_durable d;
    int e = crs_durable_open(&d, file, 0600);
    if (e) {
        fprintf(stderr, "cr_checkpoint: cannot create the image %s (in %s): %s\n", file, d.dir, strerror(-e));
        return 1;
    }
    struct crs_tree_ckpt_opts o = { .scope = (enum crs_tree_scope)scope, .id = id, .flags = flags,
                                    .zstd_level = zstd, .file_data_max_mb = file_data_mb, .timeout_ms = timeout,
                                    .signal_after = sig, .commit = commit, .arg = &d };
    char err[1024], warn[700], shared[2048];
    o.warn = warn;
    o.warnlen = sizeof warn;
    o.shared = shared;
    o.sharedlen = sizeof shared;
    scope_tmp_guard(&d, 1);
    int n = crs_tree_checkpoint(d.fd, &o, err, sizeof err);
    scope_tmp_guard(&d, 0);
    if (n < 0) {
        crs_durable_abort(&d);
        fprintf(stderr, "cr_checkpoint: checkpoint of the %s %d to %s failed: %s\n", what, (int)id, file, err);
        return 1;
    }
    crs_durable_close(&d);
    if (warn[0])   /* written, with a caveat (a restart on this machine would be refused) */
        fprintf(stderr, "cr_checkpoint: warning: the %s %d written to %s, but %s\n", what, (int)id, file, warn);
    shared_warnings(shared, NULL, 1);
    if (verbose) {
        struct stat st;
        stat(file, &st);
        fprintf(stderr, "cr_checkpoint: the %s %d (%d processes) written to %s (%lld bytes)\n", what, (int)id, n,
                file, (long long)st.st_size);
    }
    return 0;
}

/* A whole decimal number in [min, max], or one message naming the option
 * and the range: atoi() would turn "abc" or "5s" into a silent 0 or 5. */
static int int_option(const char *name, const char *arg, long min, long max, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (end == arg || *end || errno || v < min || v > max) {
        fprintf(stderr, "cr_checkpoint: %s takes a whole number from %ld to %ld, not '%s'\n", name, min, max, arg);
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* pid is cr_restart (`cr_restart ctx &` then `cr_checkpoint $!`, as ckpt-mpirun takes
 * restart-mpi's pid): the one child of it that answers as a Revive process (the restarted one,
 * under its old pid), else 0. Before, "does not run under Revive (start it with cr_run)", which
 * did not apply (newuser11 F2). */
static pid_t restarted_by(pid_t pid)
{
    char comm[64], buf[4096];
    tool_pid_comm(pid, comm, sizeof comm);
    if (strcmp(comm, "cr_restart") != 0)
        return 0;
    /* a list cut short (-ENOSPC) could hide a second answering child: refuse as for two */
    if (revive_proc_read(pid, pid, "children", buf, sizeof buf) <= 0)
        return 0;
    pid_t found = 0;
    for (char *p = buf, *end; *p; p = end) {
        long c = strtol(p, &end, 10);
        if (end == p)
            break;
        int s = c > 0 ? crs_proto_connect((pid_t)c) : -1;
        if (s >= 0) {
            close(s);
            if (found)
                return 0; /* more than one: not ours to choose */
            found = (pid_t)c;
        }
    }
    return found;
}

int main(int argc, char **argv)
{
    tool_pid_args(argc, argv); /* repeated whole in advice to run it as another user */
    static const struct option opts[] = {
        { "file", required_argument, 0, 'f' }, { "cont", no_argument, 0, 'C' },
        { "term", no_argument, 0, 'E' },       { "kill", no_argument, 0, 'K' },
        { "stop", no_argument, 0, 'S' },       { "fork", no_argument, 0, 'F' },
        { "compress", optional_argument, 0, 'z' }, { "ignore-fds", no_argument, 0, 'I' },
        { "time", required_argument, 0, 'T' }, { "verbose", no_argument, 0, 'v' },
        { "file-data-max", required_argument, 0, 'D' }, { "save-shared", no_argument, 0, 'M' },
        { "tree", no_argument, 0, 't' },       { "pgid", no_argument, 0, 'g' },
        { "sid", no_argument, 0, 's' },
        /* for libcr's CR_SCOPE_* requests (src/crs/libcr/scope.c): the image
         * goes through an inherited descriptor, any signal number afterwards */
        { "fd", required_argument, 0, 'd' },   { "signal", required_argument, 0, 'g' + 256 },
        { "help", no_argument, 0, 'h' },       { 0, 0, 0, 0 },
    };
    const char *file = NULL;
    int sig = 0, verbose = 0, zstd = 0, timeout = -1;
    uint32_t file_data_mb = 0;
    uint32_t flags = 0;
    int c, scope = 0, fd_given = -1;
    opterr = 0; /* one message of our own instead of getopt's */
    while ((c = getopt_long(argc, argv, "f:z::T:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'f': file = optarg; break;
        case 'C': sig = 0; break;
        case 'E': sig = SIGTERM; break;
        case 'K': sig = SIGKILL; break;
        case 'S': sig = SIGSTOP; break;
        case 'F': flags |= CRS_REQ_F_FORK; break;
        case 'I': flags |= CRS_REQ_F_IGNORE_FDS; break;
        case 'M': flags |= CRS_REQ_F_SAVE_SHARED; break;
        case 'z':
            zstd = 3;
            if (optarg && int_option("--compress", optarg, 1, 19, &zstd) < 0)
                return 2;
            break;
        case 'T': /* seconds; the request carries milliseconds in an int */
            if (int_option("--time", optarg, 0, INT_MAX / 1000, &timeout) < 0)
                return 2;
            timeout *= 1000;
            break;
        case 'v': verbose = 1; break;
        case 'D': {
            uint64_t v;
            if (revive_size_arg(optarg, &v) < 0) {
                fprintf(stderr, "cr_checkpoint: --file-data-max takes a size such as 512M or 4G, not '%s'\n", optarg);
                return 2;
            }
            /* the limit travels in whole MiB: a smaller one would silently become 1 MiB */
            if (v != 0 && v < (1ull << 20)) {
                fprintf(stderr, "cr_checkpoint: --file-data-max=%s is below the smallest limit, 1M (the limit "
                        "counts whole MiB; 0 means no limit)\n", optarg);
                return 2;
            }
            file_data_mb = v == 0 ? CRS_PROTO_NO_LIMIT : (uint32_t)((v + (1ull << 20) - 1) >> 20);
            break;
        }
        case 'd':
            if (int_option("--fd", optarg, 0, INT_MAX, &fd_given) < 0)
                return 2;
            break;
        case 'g' + 256:
            if (int_option("--signal", optarg, 0, SIGRTMAX, &sig) < 0)
                return 2;
            break;
        case 't': scope = CRS_TREE_SCOPE_TREE; break;
        case 'g': scope = CRS_TREE_SCOPE_PGRP; break;
        case 's': scope = CRS_TREE_SCOPE_SESS; break;
        case 'h': usage(stdout); return 0;
        default:
            if (optopt >= '0' && optopt <= '9') {
                /* "-5": a negative number, not an option: name the argument as written */
                for (int i = 1; i < argc; i++)
                    if (argv[i][0] == '-' && argv[i][1] >= '0' && argv[i][1] <= '9') {
                        pid_t dummy;
                        return tool_pid_parse(me, argv[i], &dummy);
                    }
            }
            fprintf(stderr, "cr_checkpoint: bad option '%s'; usage: cr_checkpoint [-f FILE] "
                            "[--cont|--term|--kill|--stop] PID (see --help)\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "cr_checkpoint: %s; usage: cr_checkpoint [-f FILE] [--cont|--term|--kill|--stop] PID "
                        "(see --help)\n", optind < argc ? "one process id expected" : "no process id given");
        return 2;
    }
    pid_t id;
    int pe = tool_pid_parse(me, argv[optind], &id);
    if (pe)
        return pe;
    long pid = id;
    if (sig && (flags & CRS_REQ_F_FORK)) /* the process must not run between image and signal */
        flags &= ~CRS_REQ_F_FORK;
    if (scope)   /* the members of a scope are released together once every image is written */
        flags &= ~CRS_REQ_F_FORK;

    char deflt[64];
    if (!file) {
        snprintf(deflt, sizeof deflt, "context.%ld", pid);
        file = deflt;
    }

    if (scope && fd_given >= 0) {
        /* libcr's helper: one message, and the errno as the exit status */
        struct crs_tree_ckpt_opts o = { .scope = (enum crs_tree_scope)scope, .id = (pid_t)pid, .flags = flags,
                                        .zstd_level = zstd, .file_data_max_mb = file_data_mb,
                                        .timeout_ms = timeout, .signal_after = sig };
        char err[1024], warn[700];
        o.warn = warn;
        o.warnlen = sizeof warn;
        int n = crs_tree_checkpoint(fd_given, &o, err, sizeof err);
        if (n >= 0 && warn[0])
            fprintf(stderr, "libcr: warning: the %s %ld written, but %s\n", crs_tree_scope_name((uint32_t)scope),
                    pid, warn);
        if (n >= 0)
            return 0;
        fprintf(stderr, "libcr: checkpoint of the %s %ld failed: %s\n", crs_tree_scope_name((uint32_t)scope), pid,
                err);
        return -n > 0 && -n < 126 ? -n : EIO;
    }
    /* gone (unless it runs as another PID in a restart's pid namespace: said below), a
     * zombie, another user's: worded as ckpt-mpirun words them. --pgid/--sid name a group,
     * whose first process may be gone. */
    if ((!scope || scope == CRS_TREE_SCOPE_TREE) && !(kill((pid_t)pid, 0) != 0 && errno == ESRCH &&
                                                      crs_proto_find_inner_pid((pid_t)pid) > 0) &&
        tool_pid_check(me, (pid_t)pid, "the PID of a process started with cr_run (or linked with -lcr)"))
        return TOOL_PID_REFUSED;
    if (scope)
        return checkpoint_scope(scope, (pid_t)pid, file, flags, zstd, file_data_mb, timeout, sig, verbose);

    /* Is there a Revive process to talk to at all? Say so before creating
     * files (one just forked or starting its program is waited for). */
    int probe = crs_proto_connect_wait((pid_t)pid);
    pid_t job = 0;
    pid_t restored = probe == -ECONNREFUSED ? restarted_by((pid_t)pid) : 0;
    if (restored > 0) {
        fprintf(stderr, "cr_checkpoint: process %ld is cr_restart: checkpointing the process it "
                        "restarted, %d\n", pid, (int)restored);
        pid = restored;
        probe = crs_proto_connect_wait((pid_t)pid);
    }
    if (probe == -ECONNREFUSED) {
        char cm[64];
        tool_pid_comm((pid_t)pid, cm, sizeof cm);
        job = strcmp(cm, "revive-coord") == 0 ? (pid_t)pid : tool_pid_ancestor_named((pid_t)pid, "revive-coord");
    }
    if (probe >= 0)
        close(probe);
    else if (job > 0) {
        /* a rank (or launcher) of an MPI job of Revive: the job is checkpointed as a whole */
        char comm[64];
        tool_pid_comm((pid_t)pid, comm, sizeof comm);
        fprintf(stderr, "cr_checkpoint: process %ld (%s) belongs to the MPI job of Revive's mpirun %d, "
                        "which is checkpointed as a whole: ckpt-mpirun %d\n", pid, comm, (int)job, (int)job);
        return 1;
    } else if (probe != -EACCES) {
        char err[512];
        struct crs_proto_reply rp;
        crs_proto_checkpoint((pid_t)pid, -1, 0, 0, 0, 0, 0, NULL, NULL, &rp, err, sizeof err);
        fprintf(stderr, "cr_checkpoint: %s\n", err);
        return 1;
    }

    struct crs_durable d;
    int e = crs_durable_open(&d, file, 0600);
    if (e) {
        fprintf(stderr, "cr_checkpoint: cannot create the image %s (in %s): %s\n", file, d.dir, strerror(-e));
        return 1;
    }
    struct crs_proto_reply rp;
    char err[600];
    e = crs_proto_checkpoint((pid_t)pid, d.fd, flags, zstd, file_data_mb, timeout, sig, commit, &d, &rp, err,
                             sizeof err);
    if (e) {
        crs_durable_abort(&d);
        fprintf(stderr, "cr_checkpoint: checkpoint of process %ld to %s failed: %s\n", pid, file, err);
        return 1;
    }
    crs_durable_close(&d);
    if (rp.msg[0])   /* written, with a caveat (a restart on this machine would be refused) */
        fprintf(stderr, "cr_checkpoint: warning: process %ld written to %s, but %s\n", pid, file, rp.msg);
    rp.shared[sizeof rp.shared - 1] = 0;
    char whom[32];
    snprintf(whom, sizeof whom, "process %ld", pid);
    shared_warnings(rp.shared, whom, 0);
    if (verbose) {
        struct stat st;
        stat(file, &st);
        fprintf(stderr, "cr_checkpoint: process %ld written to %s (%lld bytes)\n", pid, file, (long long)st.st_size);
    }
    return 0;
}
