/* MPIX_Checkpoint and MPIX_Checkpoint_request outside Revive (no MPI layer, no MPI library
 * here at all): each returns an error code, sets the flag to MPIX_CKPT_CONTINUE, changes
 * nothing and does not abort. */
#include <stdio.h>

#include "mpix_ckpt.h"

int main(void)
{
    int flag = 42;
    int a = MPIX_Checkpoint(&flag);
    int b = MPIX_Checkpoint_request();
    int c = MPIX_Checkpoint(NULL);
    if (a == 0 || b == 0 || c == 0 || flag != MPIX_CKPT_CONTINUE) {
        fprintf(stderr, "FAIL: MPIX_Checkpoint %d (flag %d), _request %d, NULL flag %d\n", a, flag,
                b, c);
        return 1;
    }
    printf("PASS: without Revive MPIX_Checkpoint returns %d, MPIX_Checkpoint_request %d\n", a, b);
    return 0;
}
