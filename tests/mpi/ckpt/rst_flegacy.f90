! The MPI-1 calls that MPI-2 deprecated and MPI-3 removed, from Fortran through mpif.h as old
! codes call them, and many keyvals made from Fortran, across a restart (rst_fort.sh FLAVOR
! rst_flegacy). Before the steps: MPI_KEYVAL_CREATE with the program's callbacks, MPI_ATTR_PUT
! on a duplicate, a keyval freed (MPI_KEYVAL_FREE) while its attribute is still set, 1100 keyvals
! of MPI_COMM_CREATE_KEYVAL (Open MPI's binding path kept them in a table of 1024: the job
! stopped at the 1025th), each with an attribute on one communicator (freeing a duplicate of it
! under Revive with Open MPI died now and then: Open MPI reads past the end of a keyval made from
! Fortran, which ended in a thread stack's guard page: guard_read.sh; only every Nth with
! RST_FLEGACY_EVERY=N), MPI_ERRHANDLER_CREATE/SET/GET,
! datatypes of MPI_TYPE_STRUCT (displacements from MPI_ADDRESS), MPI_TYPE_HVECTOR and
! MPI_TYPE_HINDEXED. Every step reads and replaces attributes (MPI_ATTR_GET, MPI_ATTR_DELETE,
! MPI_ATTR_PUT), duplicates the communicators with attributes and frees the duplicates (copy and
! delete callbacks), calls the error handler, moves data with
! the three datatypes and reads MPI_TYPE_EXTENT, _LB and _UB. Rank 0 prints a checksum per step.
!   rst_flegacy [STEPS PACEFILE MS]    (sleeps MS ms after each step while PACEFILE exists;
!                                      without arguments: 3 steps, no pause)
module rst_flegacy_cb
  implicit none
  include 'mpif.h'
  integer :: copies = 0, dels = 0, bad = 0, handled = 0, kfreed = 0, nmany = 0
  integer :: kmany(1100)
  integer(8) :: delsum = 0
contains
  ! MPI_KEYVAL_CREATE's callbacks: INTEGER values and extra state
  subroutine lcopy(oldcomm, keyval, extra, valin, valout, flag, ierr)
    integer :: oldcomm, keyval, extra, valin, valout, ierr
    logical :: flag
    if (extra /= 7 .and. extra /= 8) bad = bad + 1
    if (extra == 8 .and. keyval /= kfreed) bad = bad + 1
    copies = copies + 1
    valout = valin + 1000
    flag = .true.
    ierr = MPI_SUCCESS
  end subroutine lcopy

  subroutine ldel(comm, keyval, val, extra, ierr)
    integer :: comm, keyval, val, extra, ierr
    if (extra /= 7 .and. extra /= 8) bad = bad + 1
    if (extra == 8 .and. keyval /= kfreed) bad = bad + 1
    dels = dels + 1
    delsum = delsum + val
    ierr = MPI_SUCCESS
  end subroutine ldel

  ! the many keyvals' callbacks: address-sized values, the keyval's own index as extra state
  subroutine mcopy(oldcomm, keyval, extra, valin, valout, flag, ierr)
    integer :: oldcomm, keyval, ierr
    integer(kind=MPI_ADDRESS_KIND) :: extra, valin, valout
    logical :: flag
    if (extra < 1 .or. extra > nmany) then
       bad = bad + 1
    else if (kmany(extra) /= keyval) then
       bad = bad + 1
    end if
    copies = copies + 1
    valout = valin + 1
    flag = .true.
    ierr = MPI_SUCCESS
  end subroutine mcopy

  subroutine mdel(comm, keyval, val, extra, ierr)
    integer :: comm, keyval, ierr
    integer(kind=MPI_ADDRESS_KIND) :: val, extra
    if (extra < 1 .or. extra > nmany) bad = bad + 1
    dels = dels + 1
    delsum = delsum + val
    ierr = MPI_SUCCESS
  end subroutine mdel

  subroutine handler(comm, code)
    integer :: comm, code
    handled = handled + code
  end subroutine handler
end module rst_flegacy_cb

program rst_flegacy
  use rst_flegacy_cb
  use rst_fstep
  implicit none
  integer :: ierr, me, np, steps, s, i, k, every, elen
  integer :: ehc, dup, dfree, many, tmp, kl, kf, eh, eh2, ts, th, tx, ival, xs7, xs8
  integer :: bl(3), types(3), hbl(2), iv(15), ia(2), a0, a1, a2, base
  integer :: ext(3), lbs(3), ubs(3), alltypes(3)
  ! one extra state variable per keyval: MPICH's binding keeps the variable's address, Open
  ! MPI's its value (both seen natively), so each keyval gets its own
  integer(kind=MPI_ADDRESS_KIND) :: extras(1100), aval
  integer :: disp(3), hd(2)
  logical :: flag
  double precision :: dv(8), dd
  integer(8) :: ck, tot
  character(len=256) :: arg
  common /rec/ ia, dd

  call rst_fstart(me, np, steps)

  ! ---- attributes through the MPI-1 calls ---------------------------------------------------
  call MPI_COMM_DUP(MPI_COMM_WORLD, dup, ierr)
  call MPI_COMM_DUP(MPI_COMM_WORLD, dfree, ierr)
  call MPI_COMM_DUP(MPI_COMM_WORLD, many, ierr)
  call MPI_COMM_DUP(MPI_COMM_WORLD, ehc, ierr)
  xs7 = 7
  xs8 = 8
  call MPI_KEYVAL_CREATE(lcopy, ldel, kl, xs7, ierr)
  call MPI_ATTR_PUT(dup, kl, 20 + me, ierr)
  call MPI_KEYVAL_CREATE(lcopy, ldel, kf, xs8, ierr)
  kfreed = kf
  call MPI_ATTR_PUT(dfree, kf, 300 + me, ierr)
  call MPI_KEYVAL_FREE(kf, ierr)
  if (kf /= MPI_KEYVAL_INVALID) bad = bad + 1
  every = 1
  call get_environment_variable('RST_FLEGACY_EVERY', arg, elen)
  if (elen > 0) read (arg, *) every
  ! ---- many keyvals made from Fortran, an attribute of each on one communicator -------------
  do i = 1, size(kmany)
     extras(i) = i
     call MPI_COMM_CREATE_KEYVAL(mcopy, mdel, kmany(i), extras(i), ierr)
     if (ierr /= MPI_SUCCESS) bad = bad + 1
     nmany = i
     aval = i
     if (mod(i, every) == 0) call MPI_COMM_SET_ATTR(many, kmany(i), aval, ierr)
  end do
  ! ---- an error handler, on a communicator of its own -----------------------------------------
  call MPI_ERRHANDLER_CREATE(handler, eh, ierr)
  call MPI_ERRHANDLER_SET(ehc, eh, ierr)
  call MPI_ERRHANDLER_GET(ehc, eh2, ierr)
  if (eh2 /= eh) bad = bad + 1
  call MPI_ERRHANDLER_FREE(eh2, ierr)
  call MPI_ERRHANDLER_FREE(eh, ierr)
  ! ---- datatypes -------------------------------------------------------------------------------
  call MPI_ADDRESS(ia, base, ierr)
  call MPI_ADDRESS(ia(1), a0, ierr)
  call MPI_ADDRESS(ia(2), a1, ierr)
  call MPI_ADDRESS(dd, a2, ierr)
  bl = (/ 1, 1, 1 /)
  disp = (/ a0 - base, a1 - base, a2 - base /)
  types = (/ MPI_INTEGER, MPI_INTEGER, MPI_DOUBLE_PRECISION /)
  call MPI_TYPE_STRUCT(3, bl, disp, types, ts, ierr)
  call MPI_TYPE_HVECTOR(3, 2, 20, MPI_INTEGER, th, ierr)
  hbl = (/ 1, 3 /)
  hd = (/ 32, 0 /)
  call MPI_TYPE_HINDEXED(2, hbl, hd, MPI_DOUBLE_PRECISION, tx, ierr)
  call MPI_TYPE_COMMIT(ts, ierr)
  call MPI_TYPE_COMMIT(th, ierr)
  call MPI_TYPE_COMMIT(tx, ierr)
  alltypes = (/ ts, th, tx /)

  ! ---- the steps ---------------------------------------------------------------------------------
  do s = 1, steps
     ck = s
     call MPI_ATTR_GET(dup, kl, ival, flag, ierr)
     if (.not. flag) ival = -1
     ck = ck * 31 + ival
     call MPI_ATTR_DELETE(dup, kl, ierr)
     call MPI_ATTR_PUT(dup, kl, ival + 1, ierr)
     call MPI_COMM_DUP(dup, tmp, ierr)
     call MPI_ATTR_GET(tmp, kl, ival, flag, ierr)
     if (.not. flag) ival = -1
     ck = ck * 31 + ival
     call MPI_COMM_FREE(tmp, ierr)
     call MPI_COMM_DUP(dfree, tmp, ierr)
     call MPI_COMM_FREE(tmp, ierr)
     call MPI_COMM_DUP(many, tmp, ierr)
     call MPI_COMM_GET_ATTR(tmp, kmany(50 * s), aval, flag, ierr)
     if (.not. flag) aval = -1
     ck = ck * 31 + aval
     call MPI_COMM_FREE(tmp, ierr)
     call MPI_COMM_CALL_ERRHANDLER(ehc, 3 + s, ierr)
     ia = merge((/ s, 2 * s /), (/ -1, -1 /), me == 0)
     dd = merge(0.5d0 * s, -1d0, me == 0)
     do k = 1, 15
        iv(k) = merge(k * s, 0, me == 0)
     end do
     do k = 1, 8
        dv(k) = merge(k + 0.25d0 * s, 0d0, me == 0)
     end do
     call MPI_BCAST(ia, 1, ts, 0, MPI_COMM_WORLD, ierr)
     call MPI_BCAST(iv, 1, th, 0, MPI_COMM_WORLD, ierr)
     call MPI_BCAST(dv, 1, tx, 0, MPI_COMM_WORLD, ierr)
     ck = ck * 31 + ia(1) + 3 * ia(2) + int(dd * 4)
     do k = 1, 15
        ck = ck * 3 + iv(k)
     end do
     do k = 1, 8
        ck = ck * 3 + int(dv(k) * 4)
     end do
     do k = 1, 3
        call MPI_TYPE_EXTENT(alltypes(k), ext(k), ierr)
        call MPI_TYPE_LB(alltypes(k), lbs(k), ierr)
        call MPI_TYPE_UB(alltypes(k), ubs(k), ierr)
        ck = ck * 31 + ext(k) * 5 + lbs(k) * 3 + ubs(k)
     end do
     ck = ck * 31 + copies * 5 + dels * 3 + mod(delsum, 100000_8) + handled * 7 + bad * 1000
     ck = mod(ck, 2147483647_8)
     call rst_fstep_end(s, ck)
  end do

  call MPI_TYPE_FREE(ts, ierr)
  call MPI_TYPE_FREE(th, ierr)
  call MPI_TYPE_FREE(tx, ierr)
  k = dels
  call MPI_COMM_FREE(dfree, ierr)
  call MPI_COMM_FREE(many, ierr)
  k = dels - k
  call MPI_COMM_FREE(dup, ierr)
  call MPI_COMM_FREE(ehc, ierr)
  call MPI_KEYVAL_FREE(kl, ierr)
  do i = 1, size(kmany)
     call MPI_COMM_FREE_KEYVAL(kmany(i), ierr)
  end do
  ck = bad
  call MPI_REDUCE(ck, tot, 1, MPI_INTEGER8, MPI_SUM, 0, MPI_COMM_WORLD, ierr)
  if (me == 0) write (*, '(a,i0,a,i0,a,i0,a,i0,a)') 'done: ', steps, ' steps on ', np, &
       ' ranks, ', k, ' last deletes, ', tot, ' wrong'
  call MPI_FINALIZE(ierr)
end program rst_flegacy
