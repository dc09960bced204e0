! A Fortran MPI program (use mpi): communicators, requests, a derived datatype and
! collectives; rank 0 prints what everyone computed, so the output is deterministic.
program fortran_test
  use mpi
  implicit none
  integer :: ierr, rank, nproc, sum, dupcomm, half, hrank, hsize, vec, i
  integer :: req(2), stats(MPI_STATUS_SIZE, 2), got, left, right
  integer :: buf(6), recvd(6)
  integer, allocatable :: all(:)
  call MPI_Init(ierr)
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
  call MPI_Comm_size(MPI_COMM_WORLD, nproc, ierr)
  call MPI_Allreduce(rank + 1, sum, 1, MPI_INTEGER, MPI_SUM, MPI_COMM_WORLD, ierr)
  call MPI_Comm_dup(MPI_COMM_WORLD, dupcomm, ierr)
  call MPI_Comm_split(MPI_COMM_WORLD, mod(rank, 2), rank, half, ierr)
  call MPI_Comm_rank(half, hrank, ierr)
  call MPI_Comm_size(half, hsize, ierr)
  right = mod(rank + 1, nproc)
  left = mod(rank + nproc - 1, nproc)
  call MPI_Irecv(got, 1, MPI_INTEGER, left, 5, dupcomm, req(1), ierr)
  call MPI_Isend(rank * 10, 1, MPI_INTEGER, right, 5, dupcomm, req(2), ierr)
  call MPI_Waitall(2, req, stats, ierr)
  call MPI_Type_vector(3, 1, 2, MPI_INTEGER, vec, ierr)
  call MPI_Type_commit(vec, ierr)
  buf = (/ (rank * 100 + i, i = 1, 6) /)
  recvd = 0
  call MPI_Sendrecv(buf, 1, vec, right, 6, recvd, 1, vec, left, 6, dupcomm, stats(:, 1), ierr)
  call MPI_Type_free(vec, ierr)
  allocate(all(4 * nproc))
  call MPI_Gather((/ got, hrank, hsize, recvd(3) /), 4, MPI_INTEGER, all, 4, MPI_INTEGER, 0, &
                  MPI_COMM_WORLD, ierr)
  if (rank == 0) then
    print '(a,i0,a,i0)', 'ranks ', nproc, ' sum ', sum
    do i = 0, nproc - 1
      print '(a,i0,a,i0,a,i0,a,i0,a,i0)', 'rank ', i, ': ring got ', all(4*i+1), ', half rank ', &
            all(4*i+2), ' of ', all(4*i+3), ', vector element ', all(4*i+4)
    end do
  end if
  call MPI_Comm_free(half, ierr)
  call MPI_Comm_free(dupcomm, ierr)
  call MPI_Finalize(ierr)
end program
