! MPI-IO and one-sided communication from Fortran (use mpi): the handle conversions of files and
! windows, the bindings that reach the library's internals (window attributes and keyvals, file
! and window error handlers), and the data through them. Rank 0 prints what every rank saw.
program fortran_io
  use mpi
  use iso_c_binding
  implicit none
  integer :: ierr, rank, nprocs, fh, win, kv, eh, i, amode, right
  logical :: flag
  integer :: status(MPI_STATUS_SIZE)
  integer(kind=MPI_OFFSET_KIND) :: off, fsize
  integer(kind=MPI_ADDRESS_KIND) :: wsize, baseptr, val, extra
  integer :: buf(8), got(8), all(8, 64)
  integer, pointer :: wmem(:)
  character(len=128) :: path
  character(len=MPI_MAX_OBJECT_NAME) :: wname
  integer :: nlen, ferr_seen, werr_seen
  common /seen/ ferr_seen, werr_seen
  external file_handler, win_handler

  call MPI_Init(ierr)
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
  call MPI_Comm_size(MPI_COMM_WORLD, nprocs, ierr)
  ferr_seen = 0
  werr_seen = 0
  if (rank == 0) then
    call get_environment_variable('TMPDIR', path)
    if (len_trim(path) == 0) path = '/tmp'
    write(path, '(a,a,i0,a)') trim(path), '/revive-fio-', getpid(), '.dat'
  end if
  call MPI_Bcast(path, len(path), MPI_CHARACTER, 0, MPI_COMM_WORLD, ierr)

  ! ---- a file: explicit offsets, a view, collective access, an error handler
  call MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_CREATE + MPI_MODE_RDWR + MPI_MODE_DELETE_ON_CLOSE, &
                     MPI_INFO_NULL, fh, ierr)
  call MPI_File_get_amode(fh, amode, ierr)
  do i = 1, 8
    buf(i) = rank * 100 + i
  end do
  off = rank * 8 * 4
  call MPI_File_write_at_all(fh, off, buf, 8, MPI_INTEGER, status, ierr)
  call MPI_File_sync(fh, ierr)
  call MPI_Barrier(MPI_COMM_WORLD, ierr)
  call MPI_File_sync(fh, ierr)
  off = mod(rank + 1, nprocs) * 8 * 4
  call MPI_File_read_at(fh, off, got, 8, MPI_INTEGER, status, ierr)
  call MPI_File_get_size(fh, fsize, ierr)
  call MPI_File_create_errhandler(file_handler, eh, ierr)
  call MPI_File_set_errhandler(fh, eh, ierr)
  call MPI_File_call_errhandler(fh, MPI_ERR_OTHER, ierr)
  call MPI_Errhandler_free(eh, ierr)
  call MPI_File_close(fh, ierr)
  call MPI_Gather(got, 8, MPI_INTEGER, all, 8, MPI_INTEGER, 0, MPI_COMM_WORLD, ierr)
  if (rank == 0) then
    print '(a,i0,a,i0,a,i0)', 'file amode ', amode, ' size ', fsize, ' handler ', ferr_seen
    do i = 1, nprocs
      print '(a,i0,a,8i6)', 'file rank ', i - 1, ':', all(:, i)
    end do
  end if

  ! ---- a window from MPI_Win_allocate: fence Put, lock Accumulate, attributes, keyvals
  wsize = 8 * 4
  call MPI_Win_allocate(wsize, 4, MPI_INFO_NULL, MPI_COMM_WORLD, baseptr, win, ierr)
  call c_f_pointer(transfer(baseptr, c_null_ptr), wmem, [8])
  wmem = -1
  right = mod(rank + 1, nprocs)
  call MPI_Win_fence(0, win, ierr)
  off = 0
  call MPI_Put(buf, 4, MPI_INTEGER, right, int(2, MPI_ADDRESS_KIND), 4, MPI_INTEGER, win, ierr)
  call MPI_Win_fence(0, win, ierr)
  call MPI_Win_lock(MPI_LOCK_EXCLUSIVE, right, 0, win, ierr)
  call MPI_Accumulate(buf, 1, MPI_INTEGER, right, int(0, MPI_ADDRESS_KIND), 1, MPI_INTEGER, &
                      MPI_SUM, win, ierr)
  call MPI_Win_unlock(right, win, ierr)
  call MPI_Barrier(MPI_COMM_WORLD, ierr)
  got = wmem
  call MPI_Win_get_attr(win, MPI_WIN_SIZE, val, flag, ierr)
  call MPI_Win_set_name(win, 'fortran window', ierr)
  call MPI_Win_get_name(win, wname, nlen, ierr)
  extra = 7
  call MPI_Win_create_keyval(MPI_WIN_DUP_FN, MPI_WIN_NULL_DELETE_FN, kv, extra, ierr)
  call MPI_Win_set_attr(win, kv, int(42, MPI_ADDRESS_KIND), ierr)
  call MPI_Win_get_attr(win, kv, val, flag, ierr)
  call MPI_Win_free_keyval(kv, ierr)
  call MPI_Win_create_errhandler(win_handler, eh, ierr)
  call MPI_Win_set_errhandler(win, eh, ierr)
  call MPI_Win_call_errhandler(win, MPI_ERR_OTHER, ierr)
  call MPI_Errhandler_free(eh, ierr)
  call MPI_Win_free(win, ierr)
  call MPI_Gather(got, 8, MPI_INTEGER, all, 8, MPI_INTEGER, 0, MPI_COMM_WORLD, ierr)
  if (rank == 0) then
    print '(a,a,a,i0,a,l1,a,i0)', 'window ', wname(1:nlen), ' attr ', val, ' flag ', flag, &
          ' handler ', werr_seen
    do i = 1, nprocs
      print '(a,i0,a,8i6)', 'window rank ', i - 1, ':', all(:, i)
    end do
  end if
  call MPI_Finalize(ierr)
end program

subroutine file_handler(fh, err)
  integer :: fh, err
  integer :: ferr_seen, werr_seen
  common /seen/ ferr_seen, werr_seen
  if (fh /= 0) ferr_seen = 100 + err
end subroutine

subroutine win_handler(win, err)
  integer :: win, err
  integer :: ferr_seen, werr_seen
  common /seen/ ferr_seen, werr_seen
  if (win /= 0) werr_seen = 200 + err
end subroutine
