! What the Fortran rank programs of rst_fort.sh (rst_fort.f90, rst_fmany.f90, rst_flegacy.f90)
! share, as rst_step.c for the C ones: their start (MPI_INIT, the rank and size, the command line
! STEPS PACEFILE MS) and the end of a step (the ranks' checksums summed on rank 0, which prints
! the step line the test compares; then a pause of MS ms while PACEFILE exists, so that the test
! can take its snapshot between two steps, and before the last step a wait for as long as it
! exists, so that the job cannot end before its snapshot: rst_pace.h). Compiled before each of them (rst_fort.sh). Only its
! two subroutines are public: rst_flegacy reaches MPI through mpif.h, not this module's "use mpi".
module rst_fstep
  use mpi
  use iso_c_binding, only: c_int
  implicit none
  private
  public :: rst_fstart, rst_fstep_end
  character(len=256) :: pace = ''
  integer :: ms = 0, me = 0, nsteps = 0
  interface
     function usleep(us) bind(c, name='usleep')
       import :: c_int
       integer(c_int), value :: us
       integer(c_int) :: usleep
     end function usleep
  end interface
contains
  ! MPI_INIT; RANK and NRANKS in MPI_COMM_WORLD; STEPS, PACEFILE and MS from the command line
  ! (without the three: 3 steps, no pause).
  subroutine rst_fstart(rank, nranks, steps)
    integer, intent(out) :: rank, nranks
    integer, intent(out) :: steps
    integer :: ierr
    character(len=256) :: arg
    call MPI_INIT(ierr)
    call MPI_COMM_RANK(MPI_COMM_WORLD, me, ierr)
    call MPI_COMM_SIZE(MPI_COMM_WORLD, nranks, ierr)
    rank = me
    steps = 3
    if (command_argument_count() >= 3) then
       call get_command_argument(1, arg)
       read (arg, *) steps
       call get_command_argument(2, pace)
       call get_command_argument(3, arg)
       read (arg, *) ms
    end if
    nsteps = steps
  end subroutine rst_fstart

  ! The end of step S: the ranks' CK summed on rank 0, which prints "step S: SUM"; then MS ms of
  ! sleep while PACEFILE exists, and before the last step more until it is gone.
  subroutine rst_fstep_end(s, ck)
    integer, intent(in) :: s
    integer(8), intent(in) :: ck
    integer(8) :: tot
    integer :: ierr, r
    logical :: ex
    call MPI_REDUCE(ck, tot, 1, MPI_INTEGER8, MPI_SUM, 0, MPI_COMM_WORLD, ierr)
    if (me == 0) then
       write (*, '(a,i0,a,i0)') 'step ', s, ': ', tot
       flush (6)
    end if
    ex = .false.
    if (len_trim(pace) > 0) inquire (file=trim(pace), exist=ex)
    if (ex) r = usleep(int(ms * 1000, c_int))
    do while (ex .and. s == nsteps - 1 .and. ms > 0)
       r = usleep(int(ms * 1000, c_int))
       inquire (file=trim(pace), exist=ex)
    end do
  end subroutine rst_fstep_end
end module rst_fstep
