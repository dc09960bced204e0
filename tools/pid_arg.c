/* The PID operand of cr_checkpoint and ckpt-mpirun, read and refused alike (pid_arg.h). */
#define _GNU_SOURCE
#include "tools/pid_arg.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/procfs.h"

int tool_pid_parse(const char *me, const char *s, pid_t *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < 1 || v > TOOL_PID_MAX) {
        /* "-5" reaches here only after "--" (or from ckpt-mpirun, which reads no number as an
         * option): a process group is given to kill(1) that way, not to a checkpoint */
        fprintf(stderr, "%s: '%s' is not a process id: give a PID, a whole number from 1 to %d "
                        "(see %s --help)\n", me, s, TOOL_PID_MAX, me);
        return TOOL_PID_USAGE;
    }
    *out = (pid_t)v;
    return 0;
}

void tool_pid_comm(pid_t pid, char *out, size_t len)
{
    char buf[64];
    long n = revive_proc_read(pid, 0, "comm", buf, sizeof buf);
    if (n <= 0) {
        snprintf(out, len, "?");
        return;
    }
    buf[strcspn(buf, "\n")] = 0;
    snprintf(out, len, "%s", buf);
}

static pid_t parent_of(pid_t pid)
{
    char buf[1024];
    uint64_t ppid;
    long n = revive_proc_read(pid, 0, "stat", buf, sizeof buf);
    if ((n < 0 && n != -ENOSPC) || revive_stat_field(buf, 4, &ppid))
        return 0;
    return (pid_t)ppid;
}

pid_t tool_pid_ancestor_named(pid_t pid, const char *name)
{
    for (pid_t p = parent_of(pid); p > 1; p = parent_of(p)) {
        char comm[64];
        tool_pid_comm(p, comm, sizeof comm);
        if (strcmp(comm, name) == 0)
            return p;
    }
    return 0;
}

static int args_n;
static char **args_v;

void tool_pid_args(int argc, char **argv)
{
    args_n = argc;
    args_v = argv;
}

/* The command to run as another user: me and every argument given (each quoted for a shell
 * when it needs it), else me and the PID. */
static void command_words(const char *me, pid_t pid, char *out, size_t len)
{
    size_t o = (size_t)snprintf(out, len, "%s", me);
    if (!args_v || args_n < 2) {
        if (o < len)
            snprintf(out + o, len - o, " %d", (int)pid);
        return;
    }
    for (int i = 1; i < args_n && o < len; i++) {
        const char *a = args_v[i];
        int plain = *a && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789-_=.,/:+@%") == strlen(a);
        if (plain) {
            o += (size_t)snprintf(out + o, len - o, " %s", a);
            continue;
        }
        o += (size_t)snprintf(out + o, len - o, " '");
        for (const char *c = a; *c && o < len; c++)
            o += (size_t)snprintf(out + o, len - o, *c == '\'' ? "'\\''" : "%c", *c);
        if (o < len)
            o += (size_t)snprintf(out + o, len - o, "'");
    }
}

int tool_pid_check(const char *me, pid_t pid, const char *give)
{
    char path[64], stat_line[1024], comm[64];
    struct stat st;
    snprintf(path, sizeof path, "/proc/%d", (int)pid);
    long n = revive_proc_read(pid, 0, "stat", stat_line, sizeof stat_line);
    if (stat(path, &st) != 0 || (n < 0 && n != -ENOSPC)) {
        fprintf(stderr, "%s: there is no process %d (it has ended, or the number is wrong): give %s\n",
                me, (int)pid, give);
        return TOOL_PID_REFUSED;
    }
    tool_pid_comm(pid, comm, sizeof comm);
    char state = revive_stat_state(stat_line);
    if (state == 'Z' || state == 'X') {
        /* it keeps its PID only until its parent reaps it: nothing of it is left to write */
        fprintf(stderr, "%s: process %d has exited (%s, a zombie its parent %d has not reaped yet): "
                        "there is nothing left to checkpoint\n",
                me, (int)pid, comm, (int)parent_of(pid));
        return TOOL_PID_REFUSED;
    }
    if (geteuid() != 0 && st.st_uid != geteuid()) {
        /* the caller is not root here, so runuser is no remedy: say whose it is and who can */
        struct passwd *pw = getpwuid(st.st_uid);
        char cmd[2048];
        command_words(me, pid, cmd, sizeof cmd);
        fprintf(stderr, "%s: process %d (%s) belongs to user %s (uid %u): only that user or root can "
                        "checkpoint it; run %s as %s\n",
                me, (int)pid, comm, pw ? pw->pw_name : "?", (unsigned)st.st_uid, cmd,
                st.st_uid == 0 ? "root" : "that user or as root");
        return TOOL_PID_REFUSED;
    }
    return 0;
}
