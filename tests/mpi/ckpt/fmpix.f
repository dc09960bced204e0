C     fmpix.f: MPIX_CHECKPOINT from fixed-form Fortran through
C     mpif.h and mpix_ckptf.h (tests/mpi/ckpt/fmpix.sh). Six steps of an
C     allreduce; MPIX_CHECKPOINT after step 3, and with the argument
C     "req" MPIX_CHECKPOINT_REQUEST after step 5. Rank 0 prints each
C     step's sum and what each call returned.
      PROGRAM FMPIX
      IMPLICIT NONE
      INCLUDE 'mpif.h'
      INCLUDE 'mpix_ckptf.h'
      INTEGER IERR, RANK, STEP, FLAG, RC
      DOUBLE PRECISION X, TOTAL
      CHARACTER*8 ARG
      CALL MPI_INIT(IERR)
      CALL MPI_COMM_RANK(MPI_COMM_WORLD, RANK, IERR)
      ARG = ' '
      IF (COMMAND_ARGUMENT_COUNT() .GE. 1) CALL GET_COMMAND_ARGUMENT(1,
     &    ARG)
      X = RANK + 1
      DO 10 STEP = 1, 6
         X = X * 1.5D0 + STEP
         CALL MPI_ALLREDUCE(X, TOTAL, 1, MPI_DOUBLE_PRECISION, MPI_SUM,
     &       MPI_COMM_WORLD, IERR)
         IF (RANK .EQ. 0) WRITE (*, '(A,I0,A,F0.4)') 'step ', STEP,
     &       ': ', TOTAL
         IF (STEP .EQ. 3) THEN
            FLAG = -1
            RC = -1
            CALL MPIX_CHECKPOINT(FLAG, RC)
            IF (RANK .EQ. 0) WRITE (*, '(A,I0,A,I0)')
     &          'checkpoint: ierror ', RC, ' flag ', FLAG
         END IF
         IF (STEP .EQ. 5 .AND. ARG .EQ. 'req') THEN
            RC = -1
            CALL MPIX_CHECKPOINT_REQUEST(RC)
            IF (RANK .EQ. 0) WRITE (*, '(A,I0)') 'request: ierror ', RC
         END IF
   10 CONTINUE
      CALL MPI_FINALIZE(IERR)
      END
