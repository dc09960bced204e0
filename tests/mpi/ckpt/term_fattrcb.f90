! term_fattrcb STEPS PACEFILE MS LOG: term_attrcb.c's hooks made from Fortran (term_attrcb.sh FLAVOR
! term_fattrcb): keyvals of MPI_COMM_CREATE_KEYVAL and MPI_WIN_CREATE_KEYVAL whose Fortran delete
! callbacks run when their object goes, attributes of them on MPI_COMM_SELF and MPI_COMM_WORLD (in
! MPI_FINALIZE) and on a window of MPI_WIN_ALLOCATE (at MPI_WIN_FREE), and a Fortran error handler
! of the program's own on MPI_COMM_WORLD and MPI_COMM_SELF (no call fails: natively it never
! runs). STEPS steps of rst_fstep.f90 (rank 0 prints "step S: SUM", paced), then rank 0 prints
! "done: STEPS steps", the window is freed and MPI finalized. Each callback prints "callback: rank R
! WHAT at step S" and appends the same line to the file LOG.rR (one per rank: gfortran's append is
! no O_APPEND, two ranks' lines overwrote each other in one file): a job ended by --term must run none of
! them (REVIVE_FAULT=mpi-term-errors raises errors on both communicators in its give-back), its
! restart each delete callback once, at the last step, as natively.
module term_fcb
  use mpi
  implicit none
  integer :: me = 0, step = 0
  character(len=4096) :: logp = ''
contains
  subroutine said(what)
    character(len=*), intent(in) :: what
    character(len=200) :: line
    character(len=4200) :: mine
    integer :: u
    write (line, '(a,i0,a,a,a,i0)') 'callback: rank ', me, ' ', what, ' at step ', step
    write (*, '(a)') trim(line)
    flush (6)
    write (mine, '(a,a,i0)') trim(logp), '.r', me
    open (newunit=u, file=trim(mine), position='append', action='write')
    write (u, '(a)') trim(line)
    close (u)
  end subroutine said

  subroutine del_self(comm, keyval, val, extra, ierr)
    integer :: comm, keyval, ierr
    integer(kind=MPI_ADDRESS_KIND) :: val, extra
    call said('MPI_COMM_SELF delete')
    ierr = MPI_SUCCESS
  end subroutine del_self

  subroutine del_world(comm, keyval, val, extra, ierr)
    integer :: comm, keyval, ierr
    integer(kind=MPI_ADDRESS_KIND) :: val, extra
    call said('MPI_COMM_WORLD delete')
    ierr = MPI_SUCCESS
  end subroutine del_world

  subroutine del_win(win, keyval, val, extra, ierr)
    integer :: win, keyval, ierr
    integer(kind=MPI_ADDRESS_KIND) :: val, extra
    call said('window delete')
    ierr = MPI_SUCCESS
  end subroutine del_win

  subroutine eh_comm(comm, code)
    integer :: comm, code
    if (comm == MPI_COMM_WORLD) then
       call said('MPI_COMM_WORLD error handler')
    else if (comm == MPI_COMM_SELF) then
       call said('MPI_COMM_SELF error handler')
    else
       call said('communicator error handler')
    end if
  end subroutine eh_comm
end module term_fcb

program term_fattrcb
  use mpi
  use rst_fstep
  use term_fcb
  implicit none
  integer :: np, steps, ierr, kself, kworld, kwin, win, eh
  integer(kind=MPI_ADDRESS_KIND) :: extra, val, sz, base
  integer(8) :: ck

  call rst_fstart(me, np, steps)
  if (command_argument_count() < 4) then
     write (0, '(a)') 'usage: term_fattrcb STEPS PACEFILE MS LOG'
     call MPI_ABORT(MPI_COMM_WORLD, 2, ierr)
  end if
  call get_command_argument(4, logp)
  extra = 0
  val = 42
  call MPI_COMM_CREATE_KEYVAL(MPI_COMM_NULL_COPY_FN, del_self, kself, extra, ierr)
  call MPI_COMM_CREATE_KEYVAL(MPI_COMM_NULL_COPY_FN, del_world, kworld, extra, ierr)
  call MPI_WIN_CREATE_KEYVAL(MPI_WIN_NULL_COPY_FN, del_win, kwin, extra, ierr)
  call MPI_COMM_SET_ATTR(MPI_COMM_SELF, kself, val, ierr)
  call MPI_COMM_SET_ATTR(MPI_COMM_WORLD, kworld, val, ierr)
  sz = 128
  call MPI_WIN_ALLOCATE(sz, 8, MPI_INFO_NULL, MPI_COMM_WORLD, base, win, ierr)
  call MPI_WIN_SET_ATTR(win, kwin, val, ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh_comm, eh, ierr)
  call MPI_COMM_SET_ERRHANDLER(MPI_COMM_WORLD, eh, ierr)
  call MPI_COMM_SET_ERRHANDLER(MPI_COMM_SELF, eh, ierr)
  call MPI_ERRHANDLER_FREE(eh, ierr)
  do step = 0, steps - 1
     ck = int(step + me, 8)
     call rst_fstep_end(step, ck)
  end do
  step = steps
  if (me == 0) then
     write (*, '(a,i0,a)') 'done: ', steps, ' steps'
     flush (6)
  end if
  call MPI_WIN_FREE(win, ierr)
  call MPI_FINALIZE(ierr)
end program term_fattrcb
