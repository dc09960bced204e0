! rst_fwin (rst_fort.sh FLAVOR rst_fwin): windows of one rank used from Fortran with RMA across a
! snapshot. Every rank holds, from before the steps to after them:
!   wa  MPI_WIN_ALLOCATE on MPI_COMM_SELF, in fence epochs: each step puts and accumulates, gets
!       it all back in the next epoch, and ends with a fence that opens an epoch left open over
!       the pause between steps (where the test's snapshot comes);
!   ws  MPI_WIN_ALLOCATE_SHARED on MPI_COMM_SELF, in lock epochs: each step an exclusive
!       lock/unlock epoch (put, accumulate), then a shared lock held over the pause (put, flush,
!       accumulate, get, flush; loads through the pointer after MPI_WIN_SYNC);
!   ww  MPI_WIN_ALLOCATE on MPI_COMM_WORLD under MPI_WIN_LOCK_ALL held over the pause: put,
!       accumulate and get on the next rank (one rank at np=1).
! On Open MPI a window of one rank lies in memory the lower half's root served from a shared
! mapping while the window was made (src/pml_hooks/lower_winmem.c); on MPICH the layer's own
! memory. The program keeps the Fortran pointers it made from the base addresses at the start and
! reads and writes through them at every step: a restart must bring back each window's contents
! at those addresses, its epoch and its locks. Each step's checksum covers everything read back.
! Every predefined attribute of each window read from Fortran must equal the C binding's value
! (rst_fwin_c.c), before the snapshot and after the restart.
module rst_fwin_util
  use iso_c_binding, only: c_ptr, c_null_ptr, c_f_pointer
  use mpi, only: MPI_ADDRESS_KIND
  implicit none
  private
  public :: window_array, mix, attrs_as_c
contains
  ! The NW 8-byte integers at the base address BASE that MPI gave the program
  subroutine window_array(base, nw, a)
    integer(kind=MPI_ADDRESS_KIND), intent(in) :: base
    integer, intent(in) :: nw
    integer(8), pointer, intent(out) :: a(:)
    call c_f_pointer(transfer(base, c_null_ptr), a, [nw])
  end subroutine window_array

  ! Each predefined attribute of window WIN (MPI_WIN_BASE, _SIZE, _DISP_UNIT, _CREATE_FLAVOR,
  ! _MODEL) read with MPI_WIN_GET_ATTR and through the C binding (rst_fwin_c.c); BIT is or-ed
  ! into WRONG when one differs from the other, or the size or the displacement unit from SZ and
  ! DU, or an attribute is not set
  subroutine attrs_as_c(win, sz, du, bit, wrong)
    use mpi, only: MPI_WIN_BASE, MPI_WIN_SIZE, MPI_WIN_DISP_UNIT, MPI_WIN_CREATE_FLAVOR, &
         MPI_WIN_MODEL
    integer, intent(in) :: win, du
    integer(kind=MPI_ADDRESS_KIND), intent(in) :: sz
    integer(8), intent(in) :: bit
    integer(8), intent(inout) :: wrong
    integer :: keys(5), i, cflag, ierr
    integer(kind=MPI_ADDRESS_KIND) :: fval, cval
    logical :: flag
    keys = [MPI_WIN_BASE, MPI_WIN_SIZE, MPI_WIN_DISP_UNIT, MPI_WIN_CREATE_FLAVOR, MPI_WIN_MODEL]
    do i = 1, 5
       call MPI_WIN_GET_ATTR(win, keys(i), fval, flag, ierr)
       call rst_fwin_cattr(win, i, cval, cflag)
       if (.not. flag .or. cflag /= 1 .or. fval /= cval) wrong = ior(wrong, bit)
       if (i == 2 .and. fval /= sz) wrong = ior(wrong, bit)
       if (i == 3 .and. fval /= du) wrong = ior(wrong, bit)
    end do
  end subroutine attrs_as_c

  ! CK with the values X folded in, in order
  subroutine mix(ck, x)
    integer(8), intent(inout) :: ck
    integer(8), intent(in) :: x(:)
    integer :: i
    do i = 1, size(x)
       ck = mod(ck * 31 + mod(x(i), 1000003_8) + 1000003_8, 2147483647_8)
    end do
  end subroutine mix
end module rst_fwin_util

program rst_fwin
  use mpi
  use rst_fstep
  use rst_fwin_util
  implicit none
  integer, parameter :: nw = 16, h = 6 ! RMA reaches elements 1..2h; the rest only loads and stores
  integer :: ierr, me, np, steps, s, i, wa, ws, ww, right, flavor
  integer(kind=MPI_ADDRESS_KIND) :: sz, ba, bs, bw, d0, dh, qsz, qb
  integer(kind=MPI_ADDRESS_KIND) :: attr
  logical :: flag
  integer :: qdu
  integer(8), pointer :: a(:), sh(:), w(:)
  ! MPI writes them after the call that names them returns (at the end of the epoch)
  integer(8), volatile :: buf(nw), buf2(nw), got(nw)
  integer(8) :: ck, tot, wrong, wattr

  call rst_fstart(me, np, steps)
  sz = nw * 8
  d0 = 0
  dh = h
  call MPI_WIN_ALLOCATE(sz, 8, MPI_INFO_NULL, MPI_COMM_SELF, ba, wa, ierr)
  call MPI_WIN_ALLOCATE_SHARED(sz, 8, MPI_INFO_NULL, MPI_COMM_SELF, bs, ws, ierr)
  call MPI_WIN_ALLOCATE(sz, 8, MPI_INFO_NULL, MPI_COMM_WORLD, bw, ww, ierr)
  call window_array(ba, nw, a)
  call window_array(bs, nw, sh)
  call window_array(bw, nw, w)
  do i = 1, nw
     a(i) = 1000 * me + i
     sh(i) = 2000 * me + i
     w(i) = 3000 * me + i
  end do
  right = mod(me + 1, np)
  ! every predefined attribute as the C binding gives it, before the snapshot and after it
  wattr = 0
  call attrs_as_c(wa, sz, 8, 64_8, wattr)
  call attrs_as_c(ws, sz, 8, 128_8, wattr)
  call attrs_as_c(ww, sz, 8, 256_8, wattr)
  call MPI_WIN_FENCE(0, wa, ierr)
  call MPI_WIN_LOCK(MPI_LOCK_SHARED, 0, 0, ws, ierr)
  call MPI_WIN_LOCK_ALL(0, ww, ierr)
  call MPI_BARRIER(MPI_COMM_WORLD, ierr) ! every ww initialised before the first put into it
  do s = 1, steps
     ck = s
     do i = 1, nw
        buf(i) = 100 * s + 10 * me + i
        buf2(i) = 7 * s - 3 * me + i * i
     end do
     ! wa: the epoch the last fence opened (open at the snapshot: the layer fences it)
     call MPI_PUT(buf, h, MPI_INTEGER8, 0, d0, h, MPI_INTEGER8, wa, ierr)
     call MPI_ACCUMULATE(buf, h, MPI_INTEGER8, 0, dh, h, MPI_INTEGER8, MPI_SUM, wa, ierr)
     call MPI_WIN_FENCE(0, wa, ierr)
     call MPI_GET(got, nw, MPI_INTEGER8, 0, d0, nw, MPI_INTEGER8, wa, ierr)
     call MPI_WIN_FENCE(0, wa, ierr)
     call mix(ck, got)
     a(nw) = a(nw) + a(h + 1) ! a store of the program's, outside RMA's reach
     call mix(ck, a)
     ! ws: the shared lock held since the last step let go, an exclusive epoch, a shared one
     call MPI_WIN_UNLOCK(0, ws, ierr)
     call MPI_WIN_LOCK(MPI_LOCK_EXCLUSIVE, 0, 0, ws, ierr)
     call MPI_PUT(buf2, h, MPI_INTEGER8, 0, dh, h, MPI_INTEGER8, ws, ierr)
     call MPI_ACCUMULATE(buf, h, MPI_INTEGER8, 0, d0, h, MPI_INTEGER8, MPI_SUM, ws, ierr)
     call MPI_WIN_UNLOCK(0, ws, ierr)
     call MPI_WIN_LOCK(MPI_LOCK_SHARED, 0, 0, ws, ierr)
     call MPI_ACCUMULATE(buf2, h, MPI_INTEGER8, 0, dh, h, MPI_INTEGER8, MPI_SUM, ws, ierr)
     call MPI_WIN_FLUSH(0, ws, ierr)
     call MPI_GET(got, nw, MPI_INTEGER8, 0, d0, nw, MPI_INTEGER8, ws, ierr)
     call MPI_WIN_FLUSH(0, ws, ierr)
     call mix(ck, got)
     call MPI_WIN_SYNC(ws, ierr)
     sh(nw - 1) = sh(nw - 1) * 3 + sh(1)
     call mix(ck, sh)
     ! ww: under the lock_all held since the start, on the next rank (this one at np=1)
     call MPI_PUT(buf, h, MPI_INTEGER8, right, d0, h, MPI_INTEGER8, ww, ierr)
     call MPI_ACCUMULATE(buf2, h, MPI_INTEGER8, right, dh, h, MPI_INTEGER8, MPI_SUM, ww, ierr)
     call MPI_WIN_FLUSH(right, ww, ierr)
     call MPI_GET(got, 2 * h, MPI_INTEGER8, right, d0, 2 * h, MPI_INTEGER8, ww, ierr)
     call MPI_WIN_FLUSH(right, ww, ierr)
     call mix(ck, got(1:2 * h))
     w(nw) = w(nw) + s ! outside RMA's reach
     call mix(ck, w(2 * h + 1:nw))
     call rst_fstep_end(s, ck)
  end do
  ! every rank's last operations on ww done before its contents are read below
  call MPI_WIN_FLUSH_ALL(ww, ierr)
  call MPI_BARRIER(MPI_COMM_WORLD, ierr)
  call MPI_WIN_SYNC(ww, ierr)
  ck = 0
  call mix(ck, w)
  call MPI_WIN_UNLOCK_ALL(ww, ierr)
  call MPI_WIN_UNLOCK(0, ws, ierr)
  call MPI_WIN_FENCE(MPI_MODE_NOSUCCEED, wa, ierr)
  ! the addresses the program was told, as it was told them; and every window's contents
  ! each check its bit: 1 MPI_WIN_SHARED_QUERY of ws, 2 (4, 32) MPI_WIN_BASE of wa (ws, ww),
  ! 8 (16) the flavor of wa (ws), 64 (128, 256) an attribute of wa (ws, ww) from Fortran not as
  ! from C (attrs_as_c, at the start or here)
  wrong = wattr
  call attrs_as_c(wa, sz, 8, 64_8, wrong)
  call attrs_as_c(ws, sz, 8, 128_8, wrong)
  call attrs_as_c(ww, sz, 8, 256_8, wrong)
  call MPI_WIN_SHARED_QUERY(ws, 0, qsz, qdu, qb, ierr)
  if (qb /= bs .or. qsz /= sz .or. qdu /= 8) wrong = ior(wrong, 1_8)
  call MPI_WIN_GET_ATTR(wa, MPI_WIN_BASE, attr, flag, ierr)
  if (.not. flag .or. attr /= ba) wrong = ior(wrong, 2_8)
  call MPI_WIN_GET_ATTR(ws, MPI_WIN_BASE, attr, flag, ierr)
  if (.not. flag .or. attr /= bs) wrong = ior(wrong, 4_8)
  call MPI_WIN_GET_ATTR(ww, MPI_WIN_BASE, attr, flag, ierr)
  if (.not. flag .or. attr /= bw) wrong = ior(wrong, 32_8)
  call MPI_WIN_GET_ATTR(wa, MPI_WIN_CREATE_FLAVOR, attr, flag, ierr)
  flavor = int(attr)
  if (.not. flag .or. flavor /= MPI_WIN_FLAVOR_ALLOCATE) wrong = ior(wrong, 8_8)
  call MPI_WIN_GET_ATTR(ws, MPI_WIN_CREATE_FLAVOR, attr, flag, ierr)
  flavor = int(attr)
  if (.not. flag .or. flavor /= MPI_WIN_FLAVOR_SHARED) wrong = ior(wrong, 16_8)
  call mix(ck, a)
  call mix(ck, sh)
  call MPI_WIN_FREE(wa, ierr)
  call MPI_WIN_FREE(ws, ierr)
  call MPI_WIN_FREE(ww, ierr)
  call MPI_REDUCE(ck, tot, 1, MPI_INTEGER8, MPI_SUM, 0, MPI_COMM_WORLD, ierr)
  call MPI_REDUCE(wrong, ck, 1, MPI_INTEGER8, MPI_BOR, 0, MPI_COMM_WORLD, ierr)
  if (me == 0) write (*, '(a,i0,a,i0,a,i0,a,i0,a)') 'done: ', steps, ' steps on ', np, &
       ' ranks, windows ', tot, ', checks failed: ', ck, ' (0: the addresses and flavors as given)'
  call MPI_FINALIZE(ierr)
end program rst_fwin
