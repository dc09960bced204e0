/* The first pattern of the reference mail: cr_request() then an empty
 * critical section to wait for the checkpoint, twice. Prints its state after
 * each point, so a restart from either image must print the same tail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcr.h"

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    if (chdir(dir) != 0)
        return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    cr_client_id_t cr = cr_init();
    if (cr < 0) {
        perror("cr_init");
        return 2;
    }
    unsigned long long acc = 1469598103934665603ull;
    for (int step = 0; step < 6; step++) {
        for (int i = 0; i < 100000; i++)
            acc = (acc ^ (unsigned)(i + step)) * 1099511628211ull;
        printf("step %d acc %016llx\n", step, acc);
        if (step == 1 || step == 3) {
            cr_request();          /* place1 / place3 */
            cr_enter_cs(cr);       /* waits until the checkpoint is done */
            cr_leave_cs(cr);
            char name[64];
            snprintf(name, sizeof name, "context.%d", (int)getpid());
            if (step == 1)
                rename(name, "first.img");   /* keep place1's image, as the mail suggests */
            printf("after place %d\n", step == 1 ? 1 : 3);
        }
    }
    printf("done %016llx\n", acc);
    return 7;
}
