/* Runs a program where process_vm_writev(2) is refused (EPERM), as a sandbox's seccomp filter
 * refuses it; for fill_fallback.sh (the restore's fill copies from its buffer then).
 *   no_vm_writev PROGRAM [ARGS...]
 * The filter (with no_new_privs, so that any user may set it) is kept across the execve and by
 * everything the program starts. Exit 127 when the program cannot be run, 126 when the filter
 * cannot be set. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../seccomp_refuse.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: no_vm_writev PROGRAM [ARGS...]\n");
        return 2;
    }
    if (seccomp_refuse(SYS_process_vm_writev, EPERM, 0) != 0) {
        fprintf(stderr, "no_vm_writev: cannot set the seccomp filter: %s\n", strerror(errno));
        return 126;
    }
    execvp(argv[1], argv + 1);
    fprintf(stderr, "no_vm_writev: cannot run %s: %s\n", argv[1], strerror(errno));
    return 127;
}
