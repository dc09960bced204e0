/* pmpi_tool STEPS PACEFILE MS: the program a PMPI tool watches (pmpi_tool.sh, pmpi_tool_lib.c).
 * Every step each rank calls MPI_Allreduce, MPI_Bcast (root: the step's rank), MPI_Send and
 * MPI_Recv around the ring, MPI_Pcontrol (with an extra argument every third step) and
 * PMPI_Barrier (never counted by a tool of MPI_ names); rank 0 prints "step S: SUM" (an
 * MPI_Reduce) and "done: SUM". */
#include "rst_pace.h"

int main(int argc, char **argv)
{
    struct rst_run r = rst_begin(&argc, &argv, "pmpi_tool");
    long long acc = 0;
    for (int s = 0; s < r.steps; s++) {
        int x = s + r.me, sum = 0, b[4] = { s, r.me, 0, 0 }, in = -1, out = s * 10 + r.me;
        MPI_Allreduce(&x, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
        MPI_Bcast(b, 4, MPI_INT, s % r.np, MPI_COMM_WORLD);
        if (r.me % 2 == 0) {
            MPI_Send(&out, 1, MPI_INT, r.right, s, MPI_COMM_WORLD);
            MPI_Recv(&in, 1, MPI_INT, r.left, s, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else {
            MPI_Recv(&in, 1, MPI_INT, r.left, s, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Send(&out, 1, MPI_INT, r.right, s, MPI_COMM_WORLD);
        }
        if (s % 3 == 0)
            MPI_Pcontrol(7, s);
        else
            MPI_Pcontrol(s % 3);
        PMPI_Barrier(MPI_COMM_WORLD);
        acc += sum + b[1] + in;
        rst_step_sum(&r, s, acc);
    }
    rst_done_sum(&r, acc);
    MPI_Finalize();
    return 0;
}
