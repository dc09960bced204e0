/* restart-mpi's helper commands started in a process group of their own (spawn_group.h). */
#define _GNU_SOURCE
#include "spawn_group.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "restart_signal.h"

pid_t spawn_group(char *const *argv, int out, int err, int search_path)
{
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        setpgid(0, 0);
        int nul = open("/dev/null", O_RDONLY);
        if (nul > 0) { /* not left open in the command (0: stdin already) */
            dup2(nul, 0);
            close(nul);
        }
        dup2(out, 1);
        dup2(err, 2);
        restart_signals_release(); /* restart-mpi holds SIGINT/TERM/HUP blocked, not its children */
        if (search_path)
            execvp(argv[0], argv);
        else
            execv(argv[0], argv);
        dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid); /* set by both: whichever runs first, the group exists on return */
    return pid;
}
