! Fortran calls whose Open MPI bindings read or write the C object behind a handle
! (src/pml_hooks/fortran_objs.c), with use mpi, or use mpi_f08 when built with -DUSE_MPI_F08
! (Open MPI's f08 bindings call the same binding functions of libmpi_mpifh): persistent
! requests completed by every completion call, an active request kept across failed tests, group
! constructors, MPI_ALLTOALLW and MPI_IALLTOALLW, matched probes and receives, a user reduction
! that looks at its datatype. Each rank records numbers; rank 0 prints everyone's, so the output
! is deterministic and compared with a native run. The f08 build leaves the optional error
! argument out of most calls (the macro IE) and gives it to a few.
#ifdef USE_MPI_F08
#define MPIMOD mpi_f08
#define OPSMOD objs08_ops
#define IE
#define IE1
#define HREQ type(MPI_Request)
#define HSTAT type(MPI_Status)
#define HMSG type(MPI_Message)
#define HGRP type(MPI_Group)
#define HCOMM type(MPI_Comm)
#define HTYPE type(MPI_Datatype)
#define HOP type(MPI_Op)
#define STAT1
#define STATN(n) (n)
#define SOURCE(st) st%MPI_SOURCE
#else
#define MPIMOD mpi
#define OPSMOD objs_ops
#define IE , ierr
#define IE1 ierr
#define HREQ integer
#define HSTAT integer
#define HMSG integer
#define HGRP integer
#define HCOMM integer
#define HTYPE integer
#define HOP integer
#define STAT1 (MPI_STATUS_SIZE)
#define STATN(n) (MPI_STATUS_SIZE, n)
#define SOURCE(st) st(MPI_SOURCE)
#endif
module OPSMOD
  use MPIMOD
#ifdef USE_MPI_F08
  use, intrinsic :: iso_c_binding
#endif
  implicit none
contains
  ! a sum, if the datatype comes as MPI_INTEGER (else -999)
#ifdef USE_MPI_F08
  subroutine checked_sum(invec, inoutvec, len, dtype)
    type(c_ptr), value :: invec, inoutvec
    integer :: len
    type(MPI_Datatype) :: dtype
    integer, pointer :: a(:), b(:)
    call c_f_pointer(invec, a, (/ len /))
    call c_f_pointer(inoutvec, b, (/ len /))
    if (dtype == MPI_INTEGER) then
      b = b + a
    else
      b = -999
    end if
  end subroutine
#else
  subroutine checked_sum(invec, inoutvec, len, dtype)
    integer :: len, dtype, i
    integer :: invec(len), inoutvec(len)
    do i = 1, len
      if (dtype == MPI_INTEGER) then
        inoutvec(i) = inoutvec(i) + invec(i)
      else
        inoutvec(i) = -999
      end if
    end do
  end subroutine
#endif
end module

program fortran_objs
  use MPIMOD
  use OPSMOD
  implicit none
  integer, parameter :: MAXREC = 64
  integer :: ierr, rank, nproc, left, right, m, k, i, nrec
  integer :: rec(MAXREC)
  integer, allocatable :: all(:)
  character(len=24) :: names(MAXREC)

  call MPI_Init(IE1)
  call MPI_Comm_rank(MPI_COMM_WORLD, rank IE)
  call MPI_Comm_size(MPI_COMM_WORLD, nproc IE)
  right = mod(rank + 1, nproc)
  left = mod(rank + nproc - 1, nproc)
  nrec = 0
  rec = 0

  ! persistent requests, 3 rounds each, completed by each completion call in turn
  call persistent(1, 'wait')
  call persistent(2, 'test')
  call persistent(3, 'waitany')
  call persistent(4, 'testany')
  call persistent(5, 'waitall')
  call persistent(6, 'testall')
  call persistent(7, 'waitsome')
  call persistent(8, 'testsome')
  call persistent(9, 'request_get_status')
  call failed_tests()
  call matched()
  call groups()
  call alltoallw()
  call user_op()

  allocate(all(MAXREC * nproc))
  call MPI_Gather(rec, MAXREC, MPI_INTEGER, all, MAXREC, MPI_INTEGER, 0, MPI_COMM_WORLD IE)
  if (rank == 0) then
    print '(a,i0)', 'ranks ', nproc
    do k = 1, nrec
      print '(a24,*(1x,i0))', names(k), (all(MAXREC * i + k), i = 0, nproc - 1)
    end do
  end if
  call MPI_Finalize(IE1)

contains

  subroutine put(name, v)
    character(len=*) :: name
    integer :: v
    if (nrec == MAXREC) stop 'fortran_objs: MAXREC too small'
    nrec = nrec + 1
    names(nrec) = name
    rec(nrec) = v
  end subroutine

  ! A receive from the left and a send to the right, persistent, started and completed 3 times
  ! by completion call m; records what arrived and how often both handles were still there.
  subroutine persistent(m, name)
    integer :: m
    character(len=*) :: name
    HREQ :: req(2)
    HSTAT :: st STAT1, sts STATN(2)
    integer :: idx(2)
    ! volatile: the library writes the buffers between the calls the compiler sees
    integer, volatile :: rbuf, sbuf
    integer :: r, got, kept, done, cnt, n, j
    logical :: flag, f2
    got = 0
    kept = 0
    call MPI_Recv_init(rbuf, 1, MPI_INTEGER, left, 10 + m, MPI_COMM_WORLD, req(1) IE)
    call MPI_Send_init(sbuf, 1, MPI_INTEGER, right, 10 + m, MPI_COMM_WORLD, req(2) IE)
    do r = 1, 3
      sbuf = rank * 1000 + m * 10 + r
      rbuf = -1
      if (mod(r, 2) == 1) then
        call MPI_Start(req(1) IE)
        call MPI_Start(req(2), ierr)
      else
        call MPI_Startall(2, req IE)
      end if
      select case (m)
      case (1)
        call MPI_Wait(req(2), st IE)
        call MPI_Wait(req(1), st, ierr)
      case (2)
        do j = 2, 1, -1
          flag = .false.
          do while (.not. flag)
            call MPI_Test(req(j), flag, st IE)
          end do
        end do
      case (3)
        call MPI_Waitany(2, req, n, st IE)
        call MPI_Waitany(2, req, n, MPI_STATUS_IGNORE, ierr)
      case (4)
        done = 0
        do while (done < 2)
          call MPI_Testany(2, req, n, flag, st IE)
          if (flag .and. n /= MPI_UNDEFINED) done = done + 1
          if (flag .and. n == MPI_UNDEFINED) exit
        end do
      case (5)
        call MPI_Waitall(2, req, sts IE)
      case (6)
        flag = .false.
        do while (.not. flag)
          call MPI_Testall(2, req, flag, MPI_STATUSES_IGNORE IE)
        end do
      case (7)
        done = 0
        do while (done < 2)
          call MPI_Waitsome(2, req, cnt, idx, sts IE)
          if (cnt == MPI_UNDEFINED) exit
          done = done + cnt
        end do
      case (8)
        done = 0
        do while (done < 2)
          call MPI_Testsome(2, req, cnt, idx, sts, ierr)
          if (cnt == MPI_UNDEFINED) exit
          done = done + cnt
        end do
      case (9)
        flag = .false.
        f2 = .false.
        do while (.not. (flag .and. f2))
          call MPI_Request_get_status(req(1), flag, st IE)
          call MPI_Request_get_status(req(2), f2, st IE)
        end do
        call MPI_Wait(req(1), st IE)
        call MPI_Wait(req(2), MPI_STATUS_IGNORE IE)
      end select
      got = got + rbuf
      if (req(1) /= MPI_REQUEST_NULL .and. req(2) /= MPI_REQUEST_NULL) kept = kept + 1
    end do
    call put(name // ' received', got)
    call put(name // ' kept', kept)
    call MPI_Request_free(req(1) IE)
    call MPI_Request_free(req(2) IE)
    if (req(1) == MPI_REQUEST_NULL .and. req(2) == MPI_REQUEST_NULL) then
      call put(name // ' freed', 1)
    else
      call put(name // ' freed', 0)
    end if
  end subroutine

  ! A receive nothing was sent to yet, tested by TEST, TESTANY, TESTALL, TESTSOME: it stays
  ! active and the same handle; then the message comes and WAIT completes it.
  subroutine failed_tests()
    HREQ :: rq, rq0, one(1)
    HSTAT :: st STAT1, sts STATN(1)
    integer :: n, cnt, idx(1), nfalse
    integer, volatile :: x
    logical :: flag
    nfalse = 0
    call MPI_Irecv(x, 1, MPI_INTEGER, rank, 99, MPI_COMM_WORLD, rq IE)
    rq0 = rq
    call MPI_Test(rq, flag, st IE)
    if (.not. flag) nfalse = nfalse + 1
    one(1) = rq
    call MPI_Testany(1, one, n, flag, st IE)
    if (.not. flag) nfalse = nfalse + 1
    call MPI_Testall(1, one, flag, sts IE)
    if (.not. flag) nfalse = nfalse + 1
    call MPI_Testsome(1, one, cnt, idx, sts IE)
    if (cnt == 0) nfalse = nfalse + 1
    rq = one(1)
    call put('failed tests', nfalse)
    if (rq == rq0 .and. rq /= MPI_REQUEST_NULL) then
      call put('active kept', 1)
    else
      call put('active kept', 0)
    end if
    call MPI_Send(rank + 42, 1, MPI_INTEGER, rank, 99, MPI_COMM_WORLD IE)
    call MPI_Wait(rq, st IE)
    call put('active received', x)
    if (rq == MPI_REQUEST_NULL) then
      call put('active completed', 1)
    else
      call put('active completed', 0)
    end if
  end subroutine

  ! Matched probes: MPROBE then MRECV, IMPROBE then IMRECV, and MPI_MESSAGE_NO_PROC from a probe
  ! of MPI_PROC_NULL (message handles are converted like requests)
  subroutine matched()
    HMSG :: msg
    HREQ :: rq, rq2
    HSTAT :: st STAT1
    integer :: s, n
    integer, volatile :: x, y
    logical :: flag
    s = 0
    call MPI_Isend(rank + 500, 1, MPI_INTEGER, rank, 77, MPI_COMM_WORLD, rq IE)
    call MPI_Mprobe(rank, 77, MPI_COMM_WORLD, msg, st IE)
    if (msg /= MPI_MESSAGE_NULL .and. msg /= MPI_MESSAGE_NO_PROC) s = s + 1
    call MPI_Mrecv(x, 1, MPI_INTEGER, msg, st IE)
    if (msg == MPI_MESSAGE_NULL) s = s + 10
    call MPI_Wait(rq, st IE)
    call MPI_Isend(rank + 600, 1, MPI_INTEGER, rank, 78, MPI_COMM_WORLD, rq IE)
    flag = .false.
    do while (.not. flag)
      call MPI_Improbe(rank, 78, MPI_COMM_WORLD, flag, msg, st IE)
    end do
    call MPI_Imrecv(y, 1, MPI_INTEGER, msg, rq2 IE)
    if (msg == MPI_MESSAGE_NULL) s = s + 100
    call MPI_Wait(rq2, st IE)
    call MPI_Wait(rq, st IE)
    call MPI_Mprobe(MPI_PROC_NULL, 79, MPI_COMM_WORLD, msg, st IE)
    if (msg == MPI_MESSAGE_NO_PROC) s = s + 1000
    call MPI_Mrecv(n, 1, MPI_INTEGER, msg, st IE)
    if (msg == MPI_MESSAGE_NULL .and. SOURCE(st) == MPI_PROC_NULL) s = s + 10000
    call put('matched checks', s)
    call put('matched received', x + 1000 * y)
  end subroutine

  subroutine groups()
    HGRP :: wg, ev, ex, un, is, df, ri, re
    HCOMM :: c
    integer :: sz, tr(1), zero(1), rg(3, 1), s
    integer, allocatable :: evens(:)
    call MPI_Comm_group(MPI_COMM_WORLD, wg IE)
    allocate(evens((nproc + 1) / 2))
    evens = (/ (2 * i, i = 0, (nproc + 1) / 2 - 1) /)
    zero(1) = 0
    call MPI_Group_incl(wg, size(evens), evens, ev IE)
    call MPI_Group_excl(wg, 1, zero, ex IE)
    call MPI_Group_union(ev, ex, un IE)
    call MPI_Group_intersection(ev, ex, is IE)
    call MPI_Group_difference(wg, ev, df IE)
    rg(:, 1) = (/ nproc - 1, 0, -1 /)
    call MPI_Group_range_incl(wg, 1, rg, ri IE)
    rg(:, 1) = (/ 0, nproc - 1, 2 /)
    call MPI_Group_range_excl(wg, 1, rg, re IE)
    s = 0
    call MPI_Group_size(ev, sz IE); s = s + sz
    call MPI_Group_size(ex, sz IE); s = s + 10 * sz
    call MPI_Group_size(un, sz IE); s = s + 100 * sz
    call MPI_Group_size(is, sz IE); s = s + 1000 * sz
    call MPI_Group_size(df, sz IE); s = s + 10000 * sz
    call MPI_Group_size(ri, sz IE); s = s + 100000 * sz
    call MPI_Group_size(re, sz IE); s = s + 1000000 * sz
    call put('group sizes', s)
    tr(1) = -5
    call MPI_Group_translate_ranks(ri, 1, zero, wg, tr IE)
    call put('range_incl first rank', tr(1))
    call MPI_Comm_create(MPI_COMM_WORLD, un, c IE)
    sz = -1
    if (c /= MPI_COMM_NULL) then
      call MPI_Comm_size(c, sz IE)
      call MPI_Comm_free(c IE)
    end if
    call put('comm of union size', sz)
    call gfree(ev); call gfree(ex); call gfree(un); call gfree(is)
    call gfree(df); call gfree(ri); call gfree(re); call gfree(wg)
  end subroutine

  subroutine gfree(g)
    HGRP :: g
    if (g /= MPI_GROUP_EMPTY) call MPI_Group_free(g IE)
  end subroutine

  subroutine alltoallw()
    integer, allocatable :: sb(:), cnt(:), dsp(:)
    HTYPE, allocatable :: ty(:)
    integer, allocatable, volatile :: rb(:)
    HREQ :: rq
    integer :: j, isz
    allocate(sb(nproc), rb(nproc), cnt(nproc), dsp(nproc), ty(nproc))
    call MPI_Type_size(MPI_INTEGER, isz IE)
    do j = 1, nproc
      sb(j) = rank * 100 + j
      cnt(j) = 1
      dsp(j) = (j - 1) * isz
      ty(j) = MPI_INTEGER
    end do
    rb = 0
    call MPI_Alltoallw(sb, cnt, dsp, ty, rb, cnt, dsp, ty, MPI_COMM_WORLD IE)
    call put('alltoallw', sum(rb) + 7 * rb(1))
    rb = 0
    call MPI_Ialltoallw(sb, cnt, dsp, ty, rb, cnt, dsp, ty, MPI_COMM_WORLD, rq IE)
    call MPI_Wait(rq, MPI_STATUS_IGNORE IE)
    call put('ialltoallw', sum(rb) + 7 * rb(nproc))
  end subroutine

  subroutine user_op()
    HOP :: op
    integer :: res(2)
    call MPI_Op_create(checked_sum, .true., op IE)
    call MPI_Allreduce((/ rank + 1, 1 /), res, 2, MPI_INTEGER, op, MPI_COMM_WORLD IE)
    call put('user op', res(1))
    call put('user op count', res(2))
    call MPI_Op_free(op IE)
    if (op == MPI_OP_NULL) then
      call put('user op freed', 1)
    else
      call put('user op freed', 0)
    end if
  end subroutine
end program
