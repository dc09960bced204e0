/* restart-mpi: placeholder until the restart path is in (see tools/snapc/README.md). */
#include <stdio.h>
int main(void)
{
    fprintf(stderr, "restart-mpi: not built yet\n");
    return 1;
}
