! Fortran's MPI_TYPE_GET_CONTENTS and MPI_FILE_GET_VIEW across a restart (rst_fort.sh FLAVOR
! rst_fhandout): a struct's derived output kept (the struct and its vector freed), committed and
! used at every step, its f90 output, the derived filetype of a view kept (the program's freed);
! every step a struct taken apart and a view read again, their derived outputs freed. Each line
! mixes the data received through them and their combiners, sizes and extents. Before session 45
! these handles were not recorded: every restart failed (diffrev45 R-H2; rst_handout.c in C).
program rst_fhandout
  use mpi
  use rst_fstep
  implicit none
  integer :: ierr, me, np, steps, s, i, left, right
  integer :: vec, st, f90, fh, mine, et, ft, e2, f2, st2
  integer :: out(4), tmp(4), bl(2), ts(2), is(8)
  integer(kind=MPI_ADDRESS_KIND) :: as(8), dp(2)
  integer(kind=MPI_OFFSET_KIND) :: disp
  character(len=MPI_MAX_DATAREP_STRING) :: rep
  double precision :: d(32), o(32)
  integer(8) :: ck

  call rst_fstart(me, np, steps)
  right = mod(me + 1, np)
  left = mod(me + np - 1, np)
  call MPI_TYPE_CREATE_F90_REAL(15, 300, f90, ierr)
  call MPI_TYPE_VECTOR(2, 1, 2, MPI_DOUBLE_PRECISION, vec, ierr)
  bl = (/1, 2/)
  dp = (/0_MPI_ADDRESS_KIND, 64_MPI_ADDRESS_KIND/)
  ts = (/vec, f90/)
  call MPI_TYPE_CREATE_STRUCT(2, bl, dp, ts, st, ierr)
  call take_apart(st, out)
  call MPI_TYPE_FREE(st, ierr)
  call MPI_TYPE_FREE(vec, ierr)
  call MPI_TYPE_COMMIT(out(1), ierr)

  call MPI_FILE_OPEN(MPI_COMM_WORLD, 'rst_fhandout.dat', MPI_MODE_CREATE + MPI_MODE_RDWR, &
       MPI_INFO_NULL, fh, ierr)
  call MPI_TYPE_VECTOR(3, 1, 3, MPI_DOUBLE_PRECISION, mine, ierr)
  call MPI_TYPE_COMMIT(mine, ierr)
  disp = 0
  call MPI_FILE_SET_VIEW(fh, disp, MPI_DOUBLE_PRECISION, mine, 'native', MPI_INFO_NULL, ierr)
  call MPI_TYPE_FREE(mine, ierr)
  call MPI_FILE_GET_VIEW(fh, disp, et, ft, rep, ierr)

  ck = 1
  do s = 1, steps
     do i = 1, 32
        d(i) = s + i * 0.25d0 + me
        o(i) = 0
     end do
     call MPI_SENDRECV(d, 1, out(1), right, 1, o, 1, out(1), left, 1, MPI_COMM_WORLD, &
          MPI_STATUS_IGNORE, ierr)
     call MPI_SENDRECV(d(5), 2, out(2), right, 2, o(5), 2, out(2), left, 2, MPI_COMM_WORLD, &
          MPI_STATUS_IGNORE, ierr)
     call MPI_SENDRECV(d(9), 1, ft, right, 3, o(9), 1, ft, left, 3, MPI_COMM_WORLD, &
          MPI_STATUS_IGNORE, ierr)
     do i = 1, 32
        ck = mix(ck, int(o(i) * 4, 8))
     end do
     ck = describe(out(1), describe(out(2), describe(ft, describe(et, ck))))
     ts = (/out(1), out(2)/)
     call MPI_TYPE_CREATE_STRUCT(2, bl, dp, ts, st2, ierr)
     call take_apart(st2, tmp)
     ck = describe(tmp(1), ck)
     call MPI_TYPE_FREE(tmp(1), ierr)
     call MPI_TYPE_FREE(st2, ierr)
     call MPI_FILE_GET_VIEW(fh, disp, e2, f2, rep, ierr)
     ck = describe(f2, ck)
     call MPI_TYPE_FREE(f2, ierr)
     call rst_fstep_end(s, ck)
  end do
  call MPI_FILE_CLOSE(fh, ierr)
  call MPI_TYPE_FREE(ft, ierr)
  call MPI_TYPE_FREE(out(1), ierr)
  if (me == 0) write (*, '(a,i0,a,i0,a)') 'done: ', steps, ' steps on ', np, ' ranks'
  call MPI_FINALIZE(ierr)

contains

  integer(8) function mix(h, v)
    integer(8), intent(in) :: h, v
    mix = mod(ieor(h, v) * 1000003_8 + 7_8, 2147483647_8)
  end function mix

  ! what the standard fixes about a type: its combiner, size and extent
  integer(8) function describe(t, h)
    integer, intent(in) :: t
    integer(8), intent(in) :: h
    integer :: ni, na, nd, comb, sz, e
    integer(kind=MPI_ADDRESS_KIND) :: lb, ext
    call MPI_TYPE_GET_ENVELOPE(t, ni, na, nd, comb, e)
    call MPI_TYPE_SIZE(t, sz, e)
    call MPI_TYPE_GET_EXTENT(t, lb, ext, e)
    describe = mix(mix(mix(h, int(comb, 8)), int(sz, 8)), int(ext, 8))
  end function describe

  subroutine take_apart(t, ds)
    integer, intent(in) :: t
    integer, intent(out) :: ds(4)
    integer :: ni, na, nd, comb, e
    call MPI_TYPE_GET_ENVELOPE(t, ni, na, nd, comb, e)
    if (ni > 8 .or. na > 8 .or. nd > 4) call MPI_ABORT(MPI_COMM_WORLD, 2, e)
    call MPI_TYPE_GET_CONTENTS(t, ni, na, nd, is, as, ds, e)
  end subroutine take_apart
end program rst_fhandout
