/* revive-cover FD [late]: the cover of a rank's children stopped by a --term capture
 * (children.c, where the rank starts it). A program of its own, so a process with memory of its
 * own: the kernel's OOM killer kills the victim and every process that shares its memory, and a
 * cover that shared the rank's (clone with CLONE_VM) died with an OOM-killed rank, leaving the
 * children stopped for ever (diffrev30 R-L5). Started by a vfork-like clone of the rank and an
 * exec: nothing of the rank is copied (a fork's copy was charged the rank's whole private memory:
 * refused under vm.overcommit_memory=2 for a large rank, diffrev29 T-L2).
 *
 * FD is its end of a socket pair with the rank, the only descriptor it holds (the rank closed
 * every other one in the child before the exec; its session is its own, every signal blocked,
 * an empty environment). On it the rank sends the list: a struct pml_cover_head, then that many
 * struct pml_cover_entry (the stopped processes and their start times). The cover answers one
 * byte once it has the list ("late": 1 s later, fault point mpi-cover-late), then waits: the
 * end of the connection (the rank is gone, however it died) makes it SIGKILL every listed
 * process that still has its start time (a pid used again is not touched), then it ends. While
 * the rank lives, the rank ends it (SIGKILL) once it has continued or ended the children itself
 * (children.c's cover_gap: ended before, a kill of the rank in between left them stopped).
 * Nothing is said: no descriptor to say it on. */
#define _GNU_SOURCE
#include "pml_hooks/cover.h"
#include "common/procfs.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct pml_cover_entry list[PML_COVER_MAX];

static int read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* field 22 of /proc/PID/stat (the start time in clock ticks), or 0: read and parsed by the same
 * src/common functions as children.c's start_time, which made the list, so the two agree on what
 * a start time is (a second parser here could differ and the cover would end nothing) */
static uint64_t start_time(int32_t pid)
{
    char buf[1024];
    uint64_t t = 0;
    if (revive_proc_read(pid, 0, "stat", buf, sizeof buf) <= 0 || revive_stat_field(buf, 22, &t) != 0)
        return 0;
    return t;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    int fd = atoi(argv[1]);
    struct pml_cover_head h;
    if (read_all(fd, &h, sizeof h) != 0 || h.magic != PML_COVER_MAGIC || h.n > PML_COVER_MAX ||
        read_all(fd, list, h.n * sizeof *list) != 0)
        return 1; /* the rank warns: no answer came */
    if (argc > 2 && !strcmp(argv[2], "late")) {
        struct timespec d = { 1, 0 };
        nanosleep(&d, NULL);
    }
    char c = 'r';
    while (write(fd, &c, 1) < 0 && errno == EINTR)
        ;
    ssize_t n;
    while ((n = read(fd, &c, 1)) != 0 && !(n < 0 && errno != EINTR))
        ;
    /* the end (0), or the connection reset (the rank died with the answer unread: before its
     * commit returned; the children, parked by the capture, are let go then, and ended here as
     * the --term would have) */
    if (n == 0 || errno == ECONNRESET)
        for (uint32_t k = 0; k < h.n; k++)
            if (list[k].start && start_time(list[k].pid) == list[k].start)
                kill(list[k].pid, SIGKILL);
    return 0;
}
