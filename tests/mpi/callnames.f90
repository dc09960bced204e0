! Calls that Revive stops, from Fortran: the message must name the Fortran call (callnames.sh).
!   file   MPI_FILE_OPEN after MPI_INIT (MPI-IO is not supported yet)
!   win    MPI_WIN_CREATE after MPI_INIT (one-sided communication is not supported yet)
!   early  MPI_COMM_RANK before MPI_INIT
program callnames
  use mpi
  implicit none
  integer :: ierr, rank, fh, win
  integer :: buf(4)
  character(len=16) :: mode
  call get_command_argument(1, mode)
  if (mode == 'early') then
    call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
    print *, 'MPI_COMM_RANK returned before MPI_INIT'
    stop
  end if
  call MPI_Init(ierr)
  if (mode == 'file') then
    call MPI_File_open(MPI_COMM_WORLD, 'callnames.tmp', MPI_MODE_RDONLY, MPI_INFO_NULL, fh, ierr)
  else
    call MPI_Win_create(buf, int(16, MPI_ADDRESS_KIND), 4, MPI_INFO_NULL, MPI_COMM_WORLD, win, ierr)
  end if
  print *, 'the call returned'
  call MPI_Finalize(ierr)
end program
