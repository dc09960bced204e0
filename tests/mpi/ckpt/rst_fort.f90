! Fortran handles across a restart (tests/mpi/ckpt/rst_fort.sh). Before its steps the program
! makes objects of every kind and keeps them as INTEGER handles: communicators (a dup with a
! keyval attribute and an error handler of its own, a split, a Cartesian one, one made from a
! group), groups, datatypes (vector, contiguous, resized), a user reduction, an info object. Each
! step uses every one of them; a snapshot taken between two steps and restarted must leave
! every integer naming the same object (Open MPI's library numbers its objects itself, and a
! restarted rank has a fresh library). Rank 0 prints one checksum line per step and a last line.
!   rst_fort STEPS PACEFILE MS    (sleeps MS ms after each step while PACEFILE exists)
module rst_fort_cb
  use mpi
  implicit none
  integer :: watched = MPI_COMM_NULL, copies = 0, badcopies = 0
contains
  subroutine addtwice(invec, inoutvec, len, dtype)
    integer :: len, dtype, i
    integer :: invec(len), inoutvec(len)
    do i = 1, len
       inoutvec(i) = inoutvec(i) + 2 * invec(i)
    end do
    if (dtype /= MPI_INTEGER) inoutvec(1) = -999999
  end subroutine addtwice

  ! the copy callback is given the communicator being duplicated: the program's own integer
  subroutine copier(oldcomm, keyval, extra, valin, valout, flag, ierr)
    integer :: oldcomm, keyval, ierr
    integer(kind=MPI_ADDRESS_KIND) :: extra, valin, valout
    logical :: flag
    copies = copies + 1
    if (oldcomm /= watched .or. extra /= 42) badcopies = badcopies + 1
    valout = valin + 1
    flag = .true.
    ierr = MPI_SUCCESS
  end subroutine copier

  subroutine handler(comm, code)
    integer :: comm, code
    if (comm /= watched) badcopies = badcopies + 1000
    code = 0
  end subroutine handler
end module rst_fort_cb

program rst_fort
  use mpi
  use rst_fort_cb
  use rst_fstep
  implicit none
  integer :: ierr, me, np, steps, s, i, k
  integer :: dup, half, cart, fromg, wg, rg, vec, con, rsz, op, info, kv, eh, eh2, tmp
  integer :: dims(1), ranks(64), tr(1), n1, sz, hr, cr, fr, left, right
  logical :: periods(1), flag
  integer :: mat(3, 4), red, st(MPI_STATUS_SIZE)
  double precision :: pair(2), got(2)
  integer(kind=MPI_ADDRESS_KIND) :: lb, ext, val, extra
  integer(8) :: ck, tot
  character(len=32) :: word

  call rst_fstart(me, np, steps)

  ! ---- the objects -----------------------------------------------------------------------
  call MPI_COMM_DUP(MPI_COMM_WORLD, dup, ierr)
  watched = dup
  extra = 42
  call MPI_COMM_CREATE_KEYVAL(copier, MPI_COMM_NULL_DELETE_FN, kv, extra, ierr)
  val = 1000 + me
  call MPI_COMM_SET_ATTR(dup, kv, val, ierr)
  call MPI_COMM_CREATE_ERRHANDLER(handler, eh, ierr)
  call MPI_COMM_SET_ERRHANDLER(dup, eh, ierr)
  call MPI_COMM_SPLIT(MPI_COMM_WORLD, mod(me, 2), np - me, half, ierr)
  dims(1) = np
  periods(1) = .true.
  call MPI_CART_CREATE(MPI_COMM_WORLD, 1, dims, periods, .false., cart, ierr)
  call MPI_COMM_GROUP(MPI_COMM_WORLD, wg, ierr)
  do i = 1, np
     ranks(i) = np - i
  end do
  call MPI_GROUP_INCL(wg, np, ranks, rg, ierr)
  call MPI_COMM_CREATE(MPI_COMM_WORLD, rg, fromg, ierr)
  call MPI_TYPE_VECTOR(4, 1, 3, MPI_INTEGER, vec, ierr)
  call MPI_TYPE_COMMIT(vec, ierr)
  call MPI_TYPE_CONTIGUOUS(2, MPI_DOUBLE_PRECISION, con, ierr)
  call MPI_TYPE_COMMIT(con, ierr)
  lb = 0
  ext = 24
  call MPI_TYPE_CREATE_RESIZED(con, lb, ext, rsz, ierr)
  call MPI_TYPE_COMMIT(rsz, ierr)
  call MPI_OP_CREATE(addtwice, .true., op, ierr)
  call MPI_INFO_CREATE(info, ierr)
  call MPI_INFO_SET(info, 'rst_fort', 'kept', ierr)

  ! ---- the steps: every object used --------------------------------------------------------
  do s = 1, steps
     ck = s
     ! the vector: a column of rank 0's matrix to everybody
     do k = 1, 4
        do i = 1, 3
           mat(i, k) = merge(s * 100 + i * 10 + k, -1, me == 0)
        end do
     end do
     call MPI_BCAST(mat(2, 1), 1, vec, 0, dup, ierr)
     do k = 1, 4
        ck = ck * 31 + mat(2, k)
     end do
     call MPI_TYPE_SIZE(vec, sz, ierr)
     ck = ck * 31 + sz
     ! the user reduction on the split
     call MPI_ALLREDUCE(me + s, red, 1, MPI_INTEGER, op, half, ierr)
     call MPI_COMM_RANK(half, hr, ierr)
     ck = ck * 31 + red * 7 + hr
     ! the contiguous type around the Cartesian ring
     call MPI_CART_SHIFT(cart, 0, 1, left, right, ierr)
     pair(1) = me + s * 0.5d0
     pair(2) = -me
     call MPI_SENDRECV(pair, 1, con, right, 7, got, 1, con, left, 7, cart, st, ierr)
     call MPI_COMM_RANK(cart, cr, ierr)
     ck = ck * 31 + int(got(1) * 4) + int(got(2)) + cr
     call MPI_TYPE_GET_EXTENT(rsz, lb, ext, ierr)
     call MPI_TYPE_SIZE(rsz, sz, ierr)
     ck = ck * 31 + ext + sz
     ! the groups and the communicator made from one
     call MPI_GROUP_SIZE(rg, n1, ierr)
     tr(1) = 0
     call MPI_GROUP_TRANSLATE_RANKS(rg, 1, tr, wg, ranks, ierr)
     call MPI_COMM_RANK(fromg, fr, ierr)
     ck = ck * 31 + n1 * 3 + ranks(1) + fr
     ! the attribute, its copy callback and the error handler
     call MPI_COMM_GET_ATTR(dup, kv, val, flag, ierr)
     if (.not. flag .or. val /= 1000 + me) ck = ck + 100000
     call MPI_COMM_DUP(dup, tmp, ierr)
     call MPI_COMM_GET_ATTR(tmp, kv, val, flag, ierr)
     if (.not. flag .or. val /= 1001 + me) ck = ck + 200000
     call MPI_COMM_FREE(tmp, ierr)
     call MPI_COMM_GET_ERRHANDLER(dup, eh2, ierr)
     if (eh2 /= eh) ck = ck + 300000
     call MPI_ERRHANDLER_FREE(eh2, ierr)
     call MPI_COMM_CALL_ERRHANDLER(dup, MPI_ERR_OTHER, ierr)
     ! the info object
     call MPI_INFO_GET(info, 'rst_fort', 32, word, flag, ierr)
     if (.not. flag .or. word /= 'kept') ck = ck + 400000
     ck = ck * 31 + copies * 5 + badcopies
     ck = mod(ck, 2147483647_8)
     call rst_fstep_end(s, ck)
  end do

  call MPI_TYPE_FREE(rsz, ierr)
  call MPI_TYPE_FREE(con, ierr)
  call MPI_TYPE_FREE(vec, ierr)
  call MPI_OP_FREE(op, ierr)
  call MPI_INFO_FREE(info, ierr)
  call MPI_GROUP_FREE(rg, ierr)
  call MPI_GROUP_FREE(wg, ierr)
  call MPI_COMM_FREE(fromg, ierr)
  call MPI_COMM_FREE(cart, ierr)
  call MPI_COMM_FREE(half, ierr)
  call MPI_COMM_FREE(dup, ierr)
  call MPI_ERRHANDLER_FREE(eh, ierr)
  call MPI_COMM_FREE_KEYVAL(kv, ierr)
  ck = badcopies
  call MPI_REDUCE(ck, tot, 1, MPI_INTEGER8, MPI_SUM, 0, MPI_COMM_WORLD, ierr)
  if (me == 0) write (*, '(a,i0,a,i0,a,i0,a)') 'done: ', steps, ' steps on ', np, ' ranks, ', tot, &
       ' handles that were not the program''s'
  call MPI_FINALIZE(ierr)
end program rst_fort
