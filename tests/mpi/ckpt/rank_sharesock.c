/* rank_sharesock STEPS PACEFILE MS (rank_sharesock.sh; newuser7d F1): each rank makes a UDP
 * socket, then forks a helper child ("ss_child") that keeps the socket it inherited (a common
 * shape: the child never uses it, nor closes it) and waits until the rank closes its pipe. Each
 * step: an MPI_Allreduce, rank 0 prints "step N: SUM", rst_pace. At the end every rank reaps its
 * child and rank 0 prints "done: children ok" when each ended 0. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "rst_pace.h"

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: rank_sharesock STEPS PACEFILE MS\n");
        return 2;
    }
    int steps = atoi(argv[1]);
    long ms = atol(argv[3]);
    MPI_Init(&argc, &argv);
    int me;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0)
        return 1;
    int p[2];
    if (pipe(p))
        return 1;
    pid_t c = fork();
    if (c == 0) {
        prctl(PR_SET_NAME, "ss_child");
        close(p[1]);
        char b;
        while (read(p[0], &b, 1) < 0)
            ;
        _exit(0); /* the socket kept to the end */
    }
    close(p[0]);
    for (int i = 0; i < steps; i++) {
        int v = i * (me + 1), w = 0;
        MPI_Allreduce(&v, &w, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
        if (me == 0) {
            printf("step %d: %d\n", i, w);
            fflush(stdout);
        }
        rst_pace(argv[2], ms, steps - i);
    }
    close(p[1]);
    int st = -1;
    while (c > 0 && waitpid(c, &st, 0) < 0)
        ;
    int ok = c > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, all = 0;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (me == 0)
        printf("done: children %s\n", all ? "ok" : "FAILED");
    close(s);
    MPI_Finalize();
    return 0;
}
