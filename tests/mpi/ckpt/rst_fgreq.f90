! Generalized requests from Fortran (rst_fort.sh mpich rst_fgreq; `use mpi`): MPI_GREQUEST_START
! with Fortran query, free and cancel functions (extra state by reference, status an INTEGER
! array, the error code last). Every step completes and waits for the request left pending by
! the step before and the one completed but not waited on, with MPI_WAITALL; tests one of this
! step's with MPI_TEST before and after MPI_GREQUEST_COMPLETE, cancels one that is complete
! (cancel function called with COMPLETE true), frees one before its completion (free function at
! MPI_GREQUEST_COMPLETE); then starts a request it leaves pending and one it completes without
! waiting, so that the snapshot between two steps holds both. Each line mixes the statuses the
! query function gave and the calls of the free and cancel functions. Before the layer had
! them, MPICH's binding stopped the job ("MPII_Grequest_set_lang_f77 is not supported").
module rst_fgreq_cb
  use mpi
  implicit none
  integer :: nfree = 0, ncancel = 0, nquery = 0
contains
  subroutine query_fn(extra, status, ierr)
    integer(kind=MPI_ADDRESS_KIND) :: extra
    integer :: status(MPI_STATUS_SIZE), ierr
    call MPI_STATUS_SET_ELEMENTS(status, MPI_INTEGER, int(mod(extra, 11_MPI_ADDRESS_KIND)), ierr)
    call MPI_STATUS_SET_CANCELLED(status, .false., ierr)
    status(MPI_SOURCE) = 3
    status(MPI_TAG) = int(extra)
    nquery = nquery + 1
    ierr = MPI_SUCCESS
  end subroutine query_fn

  subroutine free_fn(extra, ierr)
    integer(kind=MPI_ADDRESS_KIND) :: extra
    integer :: ierr
    nfree = nfree + int(extra)
    ierr = MPI_SUCCESS
  end subroutine free_fn

  subroutine cancel_fn(extra, complete, ierr)
    integer(kind=MPI_ADDRESS_KIND) :: extra
    logical :: complete
    integer :: ierr
    if (complete) ncancel = ncancel + int(extra)
    ierr = MPI_SUCCESS
  end subroutine cancel_fn
end module rst_fgreq_cb

program rst_fgreq
  use mpi
  use rst_fstep
  use rst_fgreq_cb
  implicit none
  integer :: ierr, me, np, steps, s, i, cnt
  integer :: held(2), r(2), t, f
  integer :: sts(MPI_STATUS_SIZE, 2), st(MPI_STATUS_SIZE)
  logical :: flag, canc
  ! the extra states live as long as their requests: the functions get their addresses
  integer(kind=MPI_ADDRESS_KIND), save :: xs(4, 0:64)
  integer(8) :: ck

  call rst_fstart(me, np, steps)
  held = MPI_REQUEST_NULL
  ck = 1
  do s = 1, steps
     do i = 1, 4
        xs(i, s) = s * 10 + i + me * 1000
     end do
     ! the two left by the step before (and the snapshot between them)
     if (s > 1) then
        call MPI_GREQUEST_COMPLETE(held(1), ierr)
        call MPI_WAITALL(2, held, sts, ierr)
        do i = 1, 2
           call MPI_GET_COUNT(sts(:, i), MPI_INTEGER, cnt, ierr)
           call MPI_TEST_CANCELLED(sts(:, i), canc, ierr)
           ck = ck * 31 + sts(MPI_TAG, i) * 7 + sts(MPI_SOURCE, i) + cnt * 3
           if (canc) ck = ck + 1
        end do
     end if
     ! tested before and after its completion, then cancelled when complete
     call MPI_GREQUEST_START(query_fn, free_fn, cancel_fn, xs(1, s), t, ierr)
     call MPI_TEST(t, flag, st, ierr)
     if (flag) ck = ck + 100000
     call MPI_GREQUEST_COMPLETE(t, ierr)
     call MPI_CANCEL(t, ierr)
     call MPI_TEST(t, flag, st, ierr)
     if (flag) ck = ck * 17 + st(MPI_TAG)
     ! freed before its completion
     call MPI_GREQUEST_START(query_fn, free_fn, cancel_fn, xs(2, s), f, ierr)
     r(1) = f
     call MPI_REQUEST_FREE(r(1), ierr)
     call MPI_GREQUEST_COMPLETE(f, ierr)
     ! pending, and complete but not waited on, at the snapshot after this step
     call MPI_GREQUEST_START(query_fn, free_fn, cancel_fn, xs(3, s), held(1), ierr)
     call MPI_GREQUEST_START(query_fn, free_fn, cancel_fn, xs(4, s), held(2), ierr)
     call MPI_GREQUEST_COMPLETE(held(2), ierr)
     ck = ck * 13 + nfree * 5 + ncancel * 3
     if (s == steps) then
        call MPI_GREQUEST_COMPLETE(held(1), ierr)
        call MPI_WAITALL(2, held, MPI_STATUSES_IGNORE, ierr)
        ck = ck + nfree
     end if
     call rst_fstep_end(s, ck)
  end do
  call MPI_FINALIZE(ierr)
end program rst_fgreq
