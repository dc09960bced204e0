/* launchprog MODE [DIR]: what the launcher tests (launch_*.sh) run natively and under Revive.
 *   output  each rank prints one line to stdout and one to stderr
 *   abort   rank 1 calls MPI_Abort(MPI_COMM_WORLD, 7) while the others wait in MPI_Recv
 *   exit    every rank finalizes; rank 1 then exits with status 3, the others with 0
 *   wait    each rank writes its pid to DIR/pid.RANK, rank 0 creates DIR/ready once all have,
 *           then all loop in Allreduce + sleep for up to 60 s (until a signal ends the job)
 *   env     each rank prints one line: its rank, the job's size, its host, its working
 *           directory, LOPT_A and LOPT_B from its environment and its own arguments (what the
 *           launcher's options gave it: launch_opts.sh compares it with a native run) */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int rank, size;
    const char *mode = argc > 1 ? argv[1] : "output";
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (strcmp(mode, "output") == 0) {
        printf("rank %d of %d: to stdout\n", rank, size);
        fprintf(stderr, "rank %d of %d: to stderr\n", rank, size);
    } else if (strcmp(mode, "abort") == 0) {
        MPI_Barrier(MPI_COMM_WORLD);
        if (rank == 1)
            MPI_Abort(MPI_COMM_WORLD, 7);
        int x;
        MPI_Recv(&x, 1, MPI_INT, 1, 99, MPI_COMM_WORLD, MPI_STATUS_IGNORE); /* never sent */
        printf("rank %d: not stopped by MPI_Abort\n", rank);
    } else if (strcmp(mode, "exit") == 0) {
        MPI_Finalize();
        return rank == 1 ? 3 : 0;
    } else if (strcmp(mode, "wait") == 0 && argc > 2) {
        char path[4096];
        snprintf(path, sizeof path, "%s/pid.%d", argv[2], rank);
        FILE *f = fopen(path, "w");
        if (!f) { perror(path); MPI_Abort(MPI_COMM_WORLD, 2); }
        fprintf(f, "%d\n", (int)getpid());
        fclose(f);
        MPI_Barrier(MPI_COMM_WORLD);
        if (rank == 0) {
            snprintf(path, sizeof path, "%s/ready", argv[2]);
            fclose(fopen(path, "w"));
        }
        time_t end = time(NULL) + 60;
        int one = 1, sum = 0;
        while (time(NULL) < end) {
            MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
            usleep(10000);
        }
        printf("rank %d: not stopped by the signal\n", rank);
    } else if (strcmp(mode, "env") == 0) {
        char host[256] = "?", cwd[4096] = "?", line[8192];
        gethostname(host, sizeof host - 1);
        if (!getcwd(cwd, sizeof cwd))
            snprintf(cwd, sizeof cwd, "?");
        const char *a = getenv("LOPT_A"), *b = getenv("LOPT_B");
        int len = snprintf(line, sizeof line, "rank %d of %d on %s in %s: LOPT_A=%s LOPT_B=%s args:",
                           rank, size, host, cwd, a ? a : "(unset)", b ? b : "(unset)");
        for (int i = 2; i < argc && len > 0 && (size_t)len < sizeof line; i++)
            len += snprintf(line + len, sizeof line - (size_t)len, " %s", argv[i]);
        printf("%s\n", line); /* one write: the ranks' lines do not mix */
    } else {
        fprintf(stderr, "usage: launchprog output|abort|exit|wait DIR|env [ARGS]\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    MPI_Finalize();
    return 0;
}
