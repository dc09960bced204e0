/* The signal witness: whether a signal the coordinator got reached the launcher's process group
 * too.
 *
 * The coordinator passes the signals it gets on to the launcher (coord_on_signal). A signal sent
 * to the whole process group (`kill -INT -- -PGID` from a script or a batch system, a terminal's
 * ^C) reaches the launcher already, since it runs in the coordinator's group: passed on as well,
 * it arrives twice (Hydra took a second SIGINT for "abort now" and failed an assertion, exit
 * status 255: review9 F3). Nothing in the siginfo says whether a kill() named the process or
 * its group, and the launcher's own handlers take its copy at once. So a child of the
 * coordinator that does nothing stays in the group with the forwarded signals blocked: a signal
 * sent to the group stays pending there (the kernel queues it to every member before kill()
 * returns, so before the coordinator reads its own), and /proc/PID/status shows it (ShdPnd).
 * After each batch of signals the coordinator has it drop what is pending (it answers once done),
 * so the next signal is judged on its own. Without a witness (it could not start, or ended)
 * every signal but a terminal's is passed on, as before. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "snapc/coord_int.h"

static pid_t witness = -1;
static int wfd = -1; /* the coordinator's end of the socket pair */

/* The witness's life: each byte asks it to drop its pending signals, answered by a byte. It
 * holds no descriptor but its end of the pair (not the coordinator's stdout, which a shell
 * may wait on), and ends with the coordinator. */
static void witness_main(int s, pid_t coord_pid, const sigset_t *set)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != coord_pid)
        _exit(0);
    prctl(PR_SET_NAME, "revive-witness");
    if (dup2(s, 0) < 0)
        _exit(0);
    close_range(1, ~0U, 0);
    struct timespec zero = {0, 0};
    char c;
    while (read(0, &c, 1) == 1) {
        while (sigtimedwait(set, NULL, &zero) > 0)
            ;
        if (write(0, &c, 1) != 1)
            break;
    }
    _exit(0);
}

void coord_witness_start(const sigset_t *set)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        revive_log_debug("no signal witness: socketpair: %s", strerror(errno));
        return;
    }
    pid_t coord_pid = getpid();
    pid_t p = fork();
    if (p == 0) {
        close(sv[0]);
        witness_main(sv[1], coord_pid, set);
    }
    close(sv[1]);
    if (p < 0) {
        revive_log_debug("no signal witness: fork: %s", strerror(errno));
        close(sv[0]);
        return;
    }
    witness = p;
    wfd = sv[0];
}

/* The pending process-wide signals of the witness (its ShdPnd), or 0 when unknown. */
static unsigned long long witness_pending(void)
{
    if (witness <= 0)
        return 0;
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)witness);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    unsigned long long m = 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "ShdPnd:", 7) == 0) {
            m = strtoull(line + 7, NULL, 16);
            break;
        }
    fclose(f);
    return m;
}

int coord_witness_group_signal(int sig)
{
    if (witness <= 0 || coord.child <= 0 || sig < 1 || sig > 64)
        return 0;
    /* the witness speaks for the launcher only while both are in one process group */
    pid_t g = getpgid(witness);
    if (g < 0 || getpgid(coord.child) != g)
        return 0;
    return (witness_pending() >> (sig - 1)) & 1;
}

void coord_witness_clear(void)
{
    if (wfd < 0 || !witness_pending())
        return;
    char c = 1;
    if (write(wfd, &c, 1) != 1)
        return;
    /* it answers at once; bounded all the same (a stopped witness: ^Z of the whole group) */
    struct pollfd p = {.fd = wfd, .events = POLLIN};
    if (poll(&p, 1, 1000) == 1 && read(wfd, &c, 1) == 1)
        return;
    revive_log_debug("the signal witness %d did not answer; it is no longer asked", (int)witness);
    coord_witness_stop();
}

int coord_witness_reaped(pid_t p)
{
    if (p <= 0 || p != witness)
        return 0;
    witness = -1;
    if (wfd >= 0)
        close(wfd);
    wfd = -1;
    return 1;
}

void coord_witness_stop(void)
{
    if (wfd >= 0)
        close(wfd); /* it ends at the end of its input */
    wfd = -1;
    if (witness > 0) {
        kill(witness, SIGKILL); /* stopped or not, and not left behind for a moment */
        waitpid(witness, NULL, 0);
    }
    witness = -1;
}
