! Calls that Revive stops, from Fortran: the message must name the Fortran call (callnames.sh).
!   spawn  MPI_COMM_SPAWN after MPI_INIT (dynamic processes are not supported)
!   port   MPI_OPEN_PORT after MPI_INIT
!   early  MPI_COMM_RANK before MPI_INIT
program callnames
  use mpi
  implicit none
  integer :: ierr, rank, inter
  character(len=MPI_MAX_PORT_NAME) :: port
  character(len=16) :: mode
  call get_command_argument(1, mode)
  if (mode == 'early') then
    call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
    print *, 'MPI_COMM_RANK returned before MPI_INIT'
    stop
  end if
  call MPI_Init(ierr)
  if (mode == 'spawn') then
    call MPI_Comm_spawn('true', MPI_ARGV_NULL, 1, MPI_INFO_NULL, 0, MPI_COMM_SELF, inter, &
                        MPI_ERRCODES_IGNORE, ierr)
  else
    call MPI_Open_port(MPI_INFO_NULL, port, ierr)
  end if
  print *, 'the call returned'
  call MPI_Finalize(ierr)
end program
