! The Fortran calls whose bindings reach internal functions of the MPI library (see
! src/pml_hooks/fortran_paths.c): attributes (MPI_ATTR_GET/PUT, MPI_COMM/TYPE_GET/SET_ATTR) on
! predefined and created keyvals with callbacks that check their keyval and extra state, error
! handlers, MPI_TYPE_MATCH_SIZE, and the string conversions of names and info. Rank 0 prints
! what every rank saw, so the output is the same natively and under Revive.
module callbacks
  use mpi
  implicit none
  integer :: copies = 0, deletes = 0, handled = 0, handled_code = 0, bad = 0
  integer :: want_keyval = -1, handled_comm = -1
contains
  subroutine copy_fn(oldcomm, keyval, extra_state, val_in, val_out, flag, ierr)
    integer :: oldcomm, keyval, ierr
    integer(kind=MPI_ADDRESS_KIND) :: extra_state, val_in, val_out
    logical :: flag
    if (keyval /= want_keyval .or. extra_state /= 42) bad = bad + 1
    copies = copies + 1
    val_out = val_in + 1
    flag = .true.
    ierr = MPI_SUCCESS
  end subroutine
  subroutine delete_fn(comm, keyval, val, extra_state, ierr)
    integer :: comm, keyval, ierr
    integer(kind=MPI_ADDRESS_KIND) :: val, extra_state
    if (keyval /= want_keyval .or. extra_state /= 42) bad = bad + 1
    deletes = deletes + 1
    ierr = MPI_SUCCESS
  end subroutine
  subroutine handler(comm, code)
    integer :: comm, code
    handled = handled + 1
    handled_comm = comm
    handled_code = code
  end subroutine
end module

program fortran_paths
  use mpi
  use callbacks
  implicit none
  integer :: ierr, rank, nproc, kv, tkv, pkv, dup, dup2, eh, t, tdup, sz, n, info, i
  integer :: ival, res(12)
  integer, allocatable :: all(:)
  integer(kind=MPI_ADDRESS_KIND) :: aval, extra
  logical :: flag
  character(len=MPI_MAX_OBJECT_NAME) :: name
  character(len=40) :: value

  call MPI_Init(ierr)
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
  call MPI_Comm_size(MPI_COMM_WORLD, nproc, ierr)
  res = 0

  ! predefined attributes, MPI-1 and MPI-2 forms
  call MPI_Attr_get(MPI_COMM_WORLD, MPI_TAG_UB, ival, flag, ierr)
  if (flag .and. ival >= 32767) res(1) = 1
  call MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, aval, flag, ierr)
  if (flag .and. aval == ival) res(1) = res(1) + 1

  ! a keyval of the program's, with callbacks
  extra = 42
  call MPI_Comm_create_keyval(copy_fn, delete_fn, kv, extra, ierr)
  want_keyval = kv
  call MPI_Comm_set_attr(MPI_COMM_WORLD, kv, int(1000 + rank, MPI_ADDRESS_KIND), ierr)
  call MPI_Comm_dup(MPI_COMM_WORLD, dup, ierr)
  call MPI_Comm_get_attr(dup, kv, aval, flag, ierr)
  if (flag) res(2) = int(aval)
  call MPI_Attr_put(dup, kv, 77, ierr)            ! replaces: the delete callback runs
  call MPI_Attr_get(dup, kv, ival, flag, ierr)
  if (flag) res(3) = ival
  call MPI_Comm_free(dup, ierr)                   ! delete callback
  call MPI_Comm_delete_attr(MPI_COMM_WORLD, kv, ierr)
  call MPI_Comm_free_keyval(kv, ierr)
  res(4) = copies * 100 + deletes * 10 + bad

  ! a keyval with the predefined callbacks
  call MPI_Comm_create_keyval(MPI_COMM_DUP_FN, MPI_COMM_NULL_DELETE_FN, pkv, extra, ierr)
  call MPI_Comm_set_attr(MPI_COMM_WORLD, pkv, int(5, MPI_ADDRESS_KIND), ierr)
  call MPI_Comm_dup(MPI_COMM_WORLD, dup2, ierr)
  call MPI_Comm_get_attr(dup2, pkv, aval, flag, ierr)
  if (flag) res(5) = int(aval)
  call MPI_Comm_free(dup2, ierr)
  call MPI_Comm_delete_attr(MPI_COMM_WORLD, pkv, ierr)
  call MPI_Comm_free_keyval(pkv, ierr)

  ! datatype attributes
  call MPI_Type_create_keyval(MPI_TYPE_DUP_FN, MPI_TYPE_NULL_DELETE_FN, tkv, extra, ierr)
  call MPI_Type_contiguous(2, MPI_INTEGER, t, ierr)
  call MPI_Type_set_attr(t, tkv, int(9, MPI_ADDRESS_KIND), ierr)
  call MPI_Type_dup(t, tdup, ierr)
  call MPI_Type_get_attr(tdup, tkv, aval, flag, ierr)
  if (flag) res(6) = int(aval)
  call MPI_Type_free(tdup, ierr)
  call MPI_Type_free(t, ierr)
  call MPI_Type_free_keyval(tkv, ierr)

  ! an error handler of the program's
  call MPI_Comm_dup(MPI_COMM_WORLD, dup, ierr)
  call MPI_Comm_create_errhandler(handler, eh, ierr)
  call MPI_Comm_set_errhandler(dup, eh, ierr)
  call MPI_Comm_call_errhandler(dup, MPI_ERR_OTHER, ierr)
  if (handled == 1 .and. handled_comm == dup .and. handled_code == MPI_ERR_OTHER) res(7) = 1
  call MPI_Errhandler_free(eh, ierr)
  call MPI_Comm_free(dup, ierr)

  ! MPI_TYPE_MATCH_SIZE
  call MPI_Type_match_size(MPI_TYPECLASS_REAL, 8, t, ierr)
  call MPI_Type_size(t, sz, ierr)
  res(8) = sz
  call MPI_Type_match_size(MPI_TYPECLASS_INTEGER, 4, t, ierr)
  call MPI_Type_size(t, sz, ierr)
  res(9) = sz
  call MPI_Type_match_size(MPI_TYPECLASS_COMPLEX, 16, t, ierr)
  call MPI_Type_size(t, sz, ierr)
  res(10) = sz

  ! names and info: the bindings' string conversions
  call MPI_Comm_dup(MPI_COMM_WORLD, dup, ierr)
  call MPI_Comm_set_name(dup, '  fortran dup  ', ierr)
  call MPI_Comm_get_name(dup, name, n, ierr)
  if (name == 'fortran dup' .and. n == 11) res(11) = 1
  call MPI_Comm_free(dup, ierr)
  call MPI_Info_create(info, ierr)
  call MPI_Info_set(info, 'key', 'some value', ierr)
  call MPI_Info_get(info, 'key', len(value), value, flag, ierr)
  if (flag .and. value == 'some value') res(12) = 1
  call MPI_Info_free(info, ierr)

  allocate(all(12 * nproc))
  call MPI_Gather(res, 12, MPI_INTEGER, all, 12, MPI_INTEGER, 0, MPI_COMM_WORLD, ierr)
  if (rank == 0) then
    do i = 0, nproc - 1
      print '(a,i0,a,12(1x,i0))', 'rank ', i, ':', all(12*i+1:12*i+12)
    end do
  end if
  call MPI_Finalize(ierr)
end program
