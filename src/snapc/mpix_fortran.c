/* libmpix_ckpt's Fortran calls (include/mpix_ckptf.h), as MPI libraries
 * give theirs: subroutines whose last argument is IERROR, every argument by
 * reference, under the four names Fortran compilers make of one
 * (mpix_checkpoint_ for gfortran and most, mpix_checkpoint__ for g77's
 * -fsecond-underscore, mpix_checkpoint for xlf, MPIX_CHECKPOINT for
 * old Cray/Intel settings). No Fortran compiler is needed to build them. */
#include "mpix_ckpt.h"

#define MPIX_F_CHECKPOINT(name)                                                 \
    void name(int *flag, int *ierror);                                          \
    void name(int *flag, int *ierror)                                           \
    {                                                                           \
        int rc = MPIX_Checkpoint(flag);                                         \
        if (ierror)                                                             \
            *ierror = rc;                                                       \
    }
#define MPIX_F_REQUEST(name)                                                    \
    void name(int *ierror);                                                     \
    void name(int *ierror)                                                      \
    {                                                                           \
        int rc = MPIX_Checkpoint_request();                                     \
        if (ierror)                                                             \
            *ierror = rc;                                                       \
    }

MPIX_F_CHECKPOINT(mpix_checkpoint_)
MPIX_F_CHECKPOINT(mpix_checkpoint__)
MPIX_F_CHECKPOINT(mpix_checkpoint)
MPIX_F_CHECKPOINT(MPIX_CHECKPOINT)
MPIX_F_REQUEST(mpix_checkpoint_request_)
MPIX_F_REQUEST(mpix_checkpoint_request__)
MPIX_F_REQUEST(mpix_checkpoint_request)
MPIX_F_REQUEST(MPIX_CHECKPOINT_REQUEST)
