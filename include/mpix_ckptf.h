!     mpix_ckptf.h: MPIX_CHECKPOINT and MPIX_CHECKPOINT_REQUEST from
!     Fortran (Revive; see mpix_ckpt(3)). Fixed or free form, with mpif.h,
!     use mpi or use mpi_f08; link with -lmpix_ckpt:
!
!         INCLUDE 'mpix_ckptf.h'
!         INTEGER FLAG, IERROR
!         CALL MPIX_CHECKPOINT(FLAG, IERROR)
!         CALL MPIX_CHECKPOINT_REQUEST(IERROR)
!
!     FLAG and IERROR are default INTEGERs (4 bytes: do not build with
!     -fdefault-integer-8). IERROR is MPI_SUCCESS or the library's
!     MPI_ERR_OTHER, as the C calls return.
      INTEGER MPIX_CKPT_CONTINUE, MPIX_CKPT_RESTARTED
      PARAMETER (MPIX_CKPT_CONTINUE = 0, MPIX_CKPT_RESTARTED = 1)
      EXTERNAL MPIX_CHECKPOINT, MPIX_CHECKPOINT_REQUEST
