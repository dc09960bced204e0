! More reduction functions and error handlers than the layer's fixed trampolines once allowed
! (32 from Fortran on Open MPI, 64 C reduction functions, 32 C error handlers: a Fortran one
! reaches the C ones too), across a restart (tests/mpi/ckpt/rst_fort.sh rst_fmany).
! 70 Fortran reduction functions and 70 Fortran error handlers, each made an MPI object before
! the steps; every step reduces with every op and calls every handler on a duplicated
! communicator, each function counting its own calls: a call reaching another function than
! the one the object was made with shows in the counts. Rank 0 prints one line per step (the
! reductions' results and the counts) and a last line; a snapshot between two steps and its
! restart must leave the same lines as an uninterrupted run. A keyval's copy and delete functions
! on MPI_COMM_WORLD also run, every step, for the duplicate of it that a window makes (an object
! the program never had: its handle must not outlive the call, or the next snapshot fails).
! One more window, held from before the steps to after them, is made again
! by a restart: its delete function must run once at its free, with the value the copy function
! gave before the snapshot (handed back through Fortran's attribute calls, src/pml_hooks/
! dup_attrs.c: Open MPI's Fortran integer callbacks, MPICH's Fortran proxy); the last line
! counts the ranks where it did not.
!   rst_fmany STEPS PACEFILE MS    (sleeps MS ms after each step while PACEFILE exists)
! (One subroutine a line: 70 alike, told apart by their number.)
module rst_fmany_cb
  use mpi
  implicit none
  integer, parameter :: nf = 70
  integer :: hits(nf) = 0, called(nf) = 0, watched = MPI_COMM_NULL, wcopies = 0, wdels = 0
  integer(kind=MPI_ADDRESS_KIND) :: wdelsum = 0
contains
  ! MPI_COMM_WORLD's attribute: both MPIs copy it to the duplicate a window makes of its
  ! communicator (these run for an object the program never had) and delete it with the window
  subroutine wcopy(comm, keyval, extra, valin, valout, flag, ierr)
    integer :: comm, keyval, ierr
    integer(kind=MPI_ADDRESS_KIND) :: extra, valin, valout
    logical :: flag
    wcopies = wcopies + 1
    valout = valin + 1
    flag = .true.
    ierr = MPI_SUCCESS
  end subroutine wcopy
  subroutine wdel(comm, keyval, val, extra, ierr)
    integer :: comm, keyval, ierr
    integer(kind=MPI_ADDRESS_KIND) :: val, extra
    wdels = wdels + 1
    wdelsum = wdelsum + val
    ierr = MPI_SUCCESS
  end subroutine wdel
  subroutine op01(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(1) = hits(1) + 1; end subroutine op01
  subroutine op02(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(2) = hits(2) + 1; end subroutine op02
  subroutine op03(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(3) = hits(3) + 1; end subroutine op03
  subroutine op04(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(4) = hits(4) + 1; end subroutine op04
  subroutine op05(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(5) = hits(5) + 1; end subroutine op05
  subroutine op06(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(6) = hits(6) + 1; end subroutine op06
  subroutine op07(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(7) = hits(7) + 1; end subroutine op07
  subroutine op08(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(8) = hits(8) + 1; end subroutine op08
  subroutine op09(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(9) = hits(9) + 1; end subroutine op09
  subroutine op10(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(10) = hits(10) + 1; end subroutine op10
  subroutine op11(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(11) = hits(11) + 1; end subroutine op11
  subroutine op12(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(12) = hits(12) + 1; end subroutine op12
  subroutine op13(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(13) = hits(13) + 1; end subroutine op13
  subroutine op14(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(14) = hits(14) + 1; end subroutine op14
  subroutine op15(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(15) = hits(15) + 1; end subroutine op15
  subroutine op16(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(16) = hits(16) + 1; end subroutine op16
  subroutine op17(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(17) = hits(17) + 1; end subroutine op17
  subroutine op18(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(18) = hits(18) + 1; end subroutine op18
  subroutine op19(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(19) = hits(19) + 1; end subroutine op19
  subroutine op20(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(20) = hits(20) + 1; end subroutine op20
  subroutine op21(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(21) = hits(21) + 1; end subroutine op21
  subroutine op22(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(22) = hits(22) + 1; end subroutine op22
  subroutine op23(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(23) = hits(23) + 1; end subroutine op23
  subroutine op24(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(24) = hits(24) + 1; end subroutine op24
  subroutine op25(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(25) = hits(25) + 1; end subroutine op25
  subroutine op26(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(26) = hits(26) + 1; end subroutine op26
  subroutine op27(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(27) = hits(27) + 1; end subroutine op27
  subroutine op28(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(28) = hits(28) + 1; end subroutine op28
  subroutine op29(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(29) = hits(29) + 1; end subroutine op29
  subroutine op30(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(30) = hits(30) + 1; end subroutine op30
  subroutine op31(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(31) = hits(31) + 1; end subroutine op31
  subroutine op32(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(32) = hits(32) + 1; end subroutine op32
  subroutine op33(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(33) = hits(33) + 1; end subroutine op33
  subroutine op34(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(34) = hits(34) + 1; end subroutine op34
  subroutine op35(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(35) = hits(35) + 1; end subroutine op35
  subroutine op36(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(36) = hits(36) + 1; end subroutine op36
  subroutine op37(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(37) = hits(37) + 1; end subroutine op37
  subroutine op38(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(38) = hits(38) + 1; end subroutine op38
  subroutine op39(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(39) = hits(39) + 1; end subroutine op39
  subroutine op40(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(40) = hits(40) + 1; end subroutine op40
  subroutine op41(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(41) = hits(41) + 1; end subroutine op41
  subroutine op42(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(42) = hits(42) + 1; end subroutine op42
  subroutine op43(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(43) = hits(43) + 1; end subroutine op43
  subroutine op44(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(44) = hits(44) + 1; end subroutine op44
  subroutine op45(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(45) = hits(45) + 1; end subroutine op45
  subroutine op46(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(46) = hits(46) + 1; end subroutine op46
  subroutine op47(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(47) = hits(47) + 1; end subroutine op47
  subroutine op48(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(48) = hits(48) + 1; end subroutine op48
  subroutine op49(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(49) = hits(49) + 1; end subroutine op49
  subroutine op50(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(50) = hits(50) + 1; end subroutine op50
  subroutine op51(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(51) = hits(51) + 1; end subroutine op51
  subroutine op52(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(52) = hits(52) + 1; end subroutine op52
  subroutine op53(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(53) = hits(53) + 1; end subroutine op53
  subroutine op54(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(54) = hits(54) + 1; end subroutine op54
  subroutine op55(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(55) = hits(55) + 1; end subroutine op55
  subroutine op56(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(56) = hits(56) + 1; end subroutine op56
  subroutine op57(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(57) = hits(57) + 1; end subroutine op57
  subroutine op58(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(58) = hits(58) + 1; end subroutine op58
  subroutine op59(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(59) = hits(59) + 1; end subroutine op59
  subroutine op60(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(60) = hits(60) + 1; end subroutine op60
  subroutine op61(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(61) = hits(61) + 1; end subroutine op61
  subroutine op62(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(62) = hits(62) + 1; end subroutine op62
  subroutine op63(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(63) = hits(63) + 1; end subroutine op63
  subroutine op64(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(64) = hits(64) + 1; end subroutine op64
  subroutine op65(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(65) = hits(65) + 1; end subroutine op65
  subroutine op66(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(66) = hits(66) + 1; end subroutine op66
  subroutine op67(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(67) = hits(67) + 1; end subroutine op67
  subroutine op68(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(68) = hits(68) + 1; end subroutine op68
  subroutine op69(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(69) = hits(69) + 1; end subroutine op69
  subroutine op70(a, b, n, t); integer :: n, t; integer :: a(n), b(n); b = b + a; hits(70) = hits(70) + 1; end subroutine op70
  subroutine eh01(c, e); integer :: c, e; if (c == watched) called(1) = called(1) + e; end subroutine eh01
  subroutine eh02(c, e); integer :: c, e; if (c == watched) called(2) = called(2) + e; end subroutine eh02
  subroutine eh03(c, e); integer :: c, e; if (c == watched) called(3) = called(3) + e; end subroutine eh03
  subroutine eh04(c, e); integer :: c, e; if (c == watched) called(4) = called(4) + e; end subroutine eh04
  subroutine eh05(c, e); integer :: c, e; if (c == watched) called(5) = called(5) + e; end subroutine eh05
  subroutine eh06(c, e); integer :: c, e; if (c == watched) called(6) = called(6) + e; end subroutine eh06
  subroutine eh07(c, e); integer :: c, e; if (c == watched) called(7) = called(7) + e; end subroutine eh07
  subroutine eh08(c, e); integer :: c, e; if (c == watched) called(8) = called(8) + e; end subroutine eh08
  subroutine eh09(c, e); integer :: c, e; if (c == watched) called(9) = called(9) + e; end subroutine eh09
  subroutine eh10(c, e); integer :: c, e; if (c == watched) called(10) = called(10) + e; end subroutine eh10
  subroutine eh11(c, e); integer :: c, e; if (c == watched) called(11) = called(11) + e; end subroutine eh11
  subroutine eh12(c, e); integer :: c, e; if (c == watched) called(12) = called(12) + e; end subroutine eh12
  subroutine eh13(c, e); integer :: c, e; if (c == watched) called(13) = called(13) + e; end subroutine eh13
  subroutine eh14(c, e); integer :: c, e; if (c == watched) called(14) = called(14) + e; end subroutine eh14
  subroutine eh15(c, e); integer :: c, e; if (c == watched) called(15) = called(15) + e; end subroutine eh15
  subroutine eh16(c, e); integer :: c, e; if (c == watched) called(16) = called(16) + e; end subroutine eh16
  subroutine eh17(c, e); integer :: c, e; if (c == watched) called(17) = called(17) + e; end subroutine eh17
  subroutine eh18(c, e); integer :: c, e; if (c == watched) called(18) = called(18) + e; end subroutine eh18
  subroutine eh19(c, e); integer :: c, e; if (c == watched) called(19) = called(19) + e; end subroutine eh19
  subroutine eh20(c, e); integer :: c, e; if (c == watched) called(20) = called(20) + e; end subroutine eh20
  subroutine eh21(c, e); integer :: c, e; if (c == watched) called(21) = called(21) + e; end subroutine eh21
  subroutine eh22(c, e); integer :: c, e; if (c == watched) called(22) = called(22) + e; end subroutine eh22
  subroutine eh23(c, e); integer :: c, e; if (c == watched) called(23) = called(23) + e; end subroutine eh23
  subroutine eh24(c, e); integer :: c, e; if (c == watched) called(24) = called(24) + e; end subroutine eh24
  subroutine eh25(c, e); integer :: c, e; if (c == watched) called(25) = called(25) + e; end subroutine eh25
  subroutine eh26(c, e); integer :: c, e; if (c == watched) called(26) = called(26) + e; end subroutine eh26
  subroutine eh27(c, e); integer :: c, e; if (c == watched) called(27) = called(27) + e; end subroutine eh27
  subroutine eh28(c, e); integer :: c, e; if (c == watched) called(28) = called(28) + e; end subroutine eh28
  subroutine eh29(c, e); integer :: c, e; if (c == watched) called(29) = called(29) + e; end subroutine eh29
  subroutine eh30(c, e); integer :: c, e; if (c == watched) called(30) = called(30) + e; end subroutine eh30
  subroutine eh31(c, e); integer :: c, e; if (c == watched) called(31) = called(31) + e; end subroutine eh31
  subroutine eh32(c, e); integer :: c, e; if (c == watched) called(32) = called(32) + e; end subroutine eh32
  subroutine eh33(c, e); integer :: c, e; if (c == watched) called(33) = called(33) + e; end subroutine eh33
  subroutine eh34(c, e); integer :: c, e; if (c == watched) called(34) = called(34) + e; end subroutine eh34
  subroutine eh35(c, e); integer :: c, e; if (c == watched) called(35) = called(35) + e; end subroutine eh35
  subroutine eh36(c, e); integer :: c, e; if (c == watched) called(36) = called(36) + e; end subroutine eh36
  subroutine eh37(c, e); integer :: c, e; if (c == watched) called(37) = called(37) + e; end subroutine eh37
  subroutine eh38(c, e); integer :: c, e; if (c == watched) called(38) = called(38) + e; end subroutine eh38
  subroutine eh39(c, e); integer :: c, e; if (c == watched) called(39) = called(39) + e; end subroutine eh39
  subroutine eh40(c, e); integer :: c, e; if (c == watched) called(40) = called(40) + e; end subroutine eh40
  subroutine eh41(c, e); integer :: c, e; if (c == watched) called(41) = called(41) + e; end subroutine eh41
  subroutine eh42(c, e); integer :: c, e; if (c == watched) called(42) = called(42) + e; end subroutine eh42
  subroutine eh43(c, e); integer :: c, e; if (c == watched) called(43) = called(43) + e; end subroutine eh43
  subroutine eh44(c, e); integer :: c, e; if (c == watched) called(44) = called(44) + e; end subroutine eh44
  subroutine eh45(c, e); integer :: c, e; if (c == watched) called(45) = called(45) + e; end subroutine eh45
  subroutine eh46(c, e); integer :: c, e; if (c == watched) called(46) = called(46) + e; end subroutine eh46
  subroutine eh47(c, e); integer :: c, e; if (c == watched) called(47) = called(47) + e; end subroutine eh47
  subroutine eh48(c, e); integer :: c, e; if (c == watched) called(48) = called(48) + e; end subroutine eh48
  subroutine eh49(c, e); integer :: c, e; if (c == watched) called(49) = called(49) + e; end subroutine eh49
  subroutine eh50(c, e); integer :: c, e; if (c == watched) called(50) = called(50) + e; end subroutine eh50
  subroutine eh51(c, e); integer :: c, e; if (c == watched) called(51) = called(51) + e; end subroutine eh51
  subroutine eh52(c, e); integer :: c, e; if (c == watched) called(52) = called(52) + e; end subroutine eh52
  subroutine eh53(c, e); integer :: c, e; if (c == watched) called(53) = called(53) + e; end subroutine eh53
  subroutine eh54(c, e); integer :: c, e; if (c == watched) called(54) = called(54) + e; end subroutine eh54
  subroutine eh55(c, e); integer :: c, e; if (c == watched) called(55) = called(55) + e; end subroutine eh55
  subroutine eh56(c, e); integer :: c, e; if (c == watched) called(56) = called(56) + e; end subroutine eh56
  subroutine eh57(c, e); integer :: c, e; if (c == watched) called(57) = called(57) + e; end subroutine eh57
  subroutine eh58(c, e); integer :: c, e; if (c == watched) called(58) = called(58) + e; end subroutine eh58
  subroutine eh59(c, e); integer :: c, e; if (c == watched) called(59) = called(59) + e; end subroutine eh59
  subroutine eh60(c, e); integer :: c, e; if (c == watched) called(60) = called(60) + e; end subroutine eh60
  subroutine eh61(c, e); integer :: c, e; if (c == watched) called(61) = called(61) + e; end subroutine eh61
  subroutine eh62(c, e); integer :: c, e; if (c == watched) called(62) = called(62) + e; end subroutine eh62
  subroutine eh63(c, e); integer :: c, e; if (c == watched) called(63) = called(63) + e; end subroutine eh63
  subroutine eh64(c, e); integer :: c, e; if (c == watched) called(64) = called(64) + e; end subroutine eh64
  subroutine eh65(c, e); integer :: c, e; if (c == watched) called(65) = called(65) + e; end subroutine eh65
  subroutine eh66(c, e); integer :: c, e; if (c == watched) called(66) = called(66) + e; end subroutine eh66
  subroutine eh67(c, e); integer :: c, e; if (c == watched) called(67) = called(67) + e; end subroutine eh67
  subroutine eh68(c, e); integer :: c, e; if (c == watched) called(68) = called(68) + e; end subroutine eh68
  subroutine eh69(c, e); integer :: c, e; if (c == watched) called(69) = called(69) + e; end subroutine eh69
  subroutine eh70(c, e); integer :: c, e; if (c == watched) called(70) = called(70) + e; end subroutine eh70
end module rst_fmany_cb

program rst_fmany
  use mpi
  use rst_fmany_cb
  use rst_fstep
  implicit none
  integer :: ierr, me, np, steps, s, k, dup, red, kw, win, held
  integer(kind=MPI_ADDRESS_KIND) :: wsize, wbase, val, extra
  integer :: ops(nf), ehs(nf)
  integer(8) :: ck, tot, bad, badtot

  call rst_fstart(me, np, steps)
  call MPI_COMM_DUP(MPI_COMM_WORLD, dup, ierr)
  watched = dup
  extra = 7
  call MPI_COMM_CREATE_KEYVAL(wcopy, wdel, kw, extra, ierr)
  val = 100 + me
  call MPI_COMM_SET_ATTR(MPI_COMM_WORLD, kw, val, ierr)
  ! the window a restart makes again; its copied attribute is 101 + me, deleted at the end.
  ! A shared one: at 2 ranks or more the layer makes a window of its own beside it, for which
  ! the program's callbacks must not run
  wsize = 64
  call MPI_WIN_ALLOCATE_SHARED(wsize, 1, MPI_INFO_NULL, MPI_COMM_WORLD, wbase, held, ierr)
  call MPI_OP_CREATE(op01, .true., ops(1), ierr)
  call MPI_OP_CREATE(op02, .true., ops(2), ierr)
  call MPI_OP_CREATE(op03, .true., ops(3), ierr)
  call MPI_OP_CREATE(op04, .true., ops(4), ierr)
  call MPI_OP_CREATE(op05, .true., ops(5), ierr)
  call MPI_OP_CREATE(op06, .true., ops(6), ierr)
  call MPI_OP_CREATE(op07, .true., ops(7), ierr)
  call MPI_OP_CREATE(op08, .true., ops(8), ierr)
  call MPI_OP_CREATE(op09, .true., ops(9), ierr)
  call MPI_OP_CREATE(op10, .true., ops(10), ierr)
  call MPI_OP_CREATE(op11, .true., ops(11), ierr)
  call MPI_OP_CREATE(op12, .true., ops(12), ierr)
  call MPI_OP_CREATE(op13, .true., ops(13), ierr)
  call MPI_OP_CREATE(op14, .true., ops(14), ierr)
  call MPI_OP_CREATE(op15, .true., ops(15), ierr)
  call MPI_OP_CREATE(op16, .true., ops(16), ierr)
  call MPI_OP_CREATE(op17, .true., ops(17), ierr)
  call MPI_OP_CREATE(op18, .true., ops(18), ierr)
  call MPI_OP_CREATE(op19, .true., ops(19), ierr)
  call MPI_OP_CREATE(op20, .true., ops(20), ierr)
  call MPI_OP_CREATE(op21, .true., ops(21), ierr)
  call MPI_OP_CREATE(op22, .true., ops(22), ierr)
  call MPI_OP_CREATE(op23, .true., ops(23), ierr)
  call MPI_OP_CREATE(op24, .true., ops(24), ierr)
  call MPI_OP_CREATE(op25, .true., ops(25), ierr)
  call MPI_OP_CREATE(op26, .true., ops(26), ierr)
  call MPI_OP_CREATE(op27, .true., ops(27), ierr)
  call MPI_OP_CREATE(op28, .true., ops(28), ierr)
  call MPI_OP_CREATE(op29, .true., ops(29), ierr)
  call MPI_OP_CREATE(op30, .true., ops(30), ierr)
  call MPI_OP_CREATE(op31, .true., ops(31), ierr)
  call MPI_OP_CREATE(op32, .true., ops(32), ierr)
  call MPI_OP_CREATE(op33, .true., ops(33), ierr)
  call MPI_OP_CREATE(op34, .true., ops(34), ierr)
  call MPI_OP_CREATE(op35, .true., ops(35), ierr)
  call MPI_OP_CREATE(op36, .true., ops(36), ierr)
  call MPI_OP_CREATE(op37, .true., ops(37), ierr)
  call MPI_OP_CREATE(op38, .true., ops(38), ierr)
  call MPI_OP_CREATE(op39, .true., ops(39), ierr)
  call MPI_OP_CREATE(op40, .true., ops(40), ierr)
  call MPI_OP_CREATE(op41, .true., ops(41), ierr)
  call MPI_OP_CREATE(op42, .true., ops(42), ierr)
  call MPI_OP_CREATE(op43, .true., ops(43), ierr)
  call MPI_OP_CREATE(op44, .true., ops(44), ierr)
  call MPI_OP_CREATE(op45, .true., ops(45), ierr)
  call MPI_OP_CREATE(op46, .true., ops(46), ierr)
  call MPI_OP_CREATE(op47, .true., ops(47), ierr)
  call MPI_OP_CREATE(op48, .true., ops(48), ierr)
  call MPI_OP_CREATE(op49, .true., ops(49), ierr)
  call MPI_OP_CREATE(op50, .true., ops(50), ierr)
  call MPI_OP_CREATE(op51, .true., ops(51), ierr)
  call MPI_OP_CREATE(op52, .true., ops(52), ierr)
  call MPI_OP_CREATE(op53, .true., ops(53), ierr)
  call MPI_OP_CREATE(op54, .true., ops(54), ierr)
  call MPI_OP_CREATE(op55, .true., ops(55), ierr)
  call MPI_OP_CREATE(op56, .true., ops(56), ierr)
  call MPI_OP_CREATE(op57, .true., ops(57), ierr)
  call MPI_OP_CREATE(op58, .true., ops(58), ierr)
  call MPI_OP_CREATE(op59, .true., ops(59), ierr)
  call MPI_OP_CREATE(op60, .true., ops(60), ierr)
  call MPI_OP_CREATE(op61, .true., ops(61), ierr)
  call MPI_OP_CREATE(op62, .true., ops(62), ierr)
  call MPI_OP_CREATE(op63, .true., ops(63), ierr)
  call MPI_OP_CREATE(op64, .true., ops(64), ierr)
  call MPI_OP_CREATE(op65, .true., ops(65), ierr)
  call MPI_OP_CREATE(op66, .true., ops(66), ierr)
  call MPI_OP_CREATE(op67, .true., ops(67), ierr)
  call MPI_OP_CREATE(op68, .true., ops(68), ierr)
  call MPI_OP_CREATE(op69, .true., ops(69), ierr)
  call MPI_OP_CREATE(op70, .true., ops(70), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh01, ehs(1), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh02, ehs(2), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh03, ehs(3), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh04, ehs(4), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh05, ehs(5), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh06, ehs(6), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh07, ehs(7), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh08, ehs(8), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh09, ehs(9), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh10, ehs(10), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh11, ehs(11), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh12, ehs(12), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh13, ehs(13), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh14, ehs(14), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh15, ehs(15), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh16, ehs(16), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh17, ehs(17), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh18, ehs(18), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh19, ehs(19), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh20, ehs(20), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh21, ehs(21), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh22, ehs(22), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh23, ehs(23), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh24, ehs(24), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh25, ehs(25), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh26, ehs(26), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh27, ehs(27), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh28, ehs(28), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh29, ehs(29), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh30, ehs(30), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh31, ehs(31), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh32, ehs(32), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh33, ehs(33), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh34, ehs(34), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh35, ehs(35), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh36, ehs(36), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh37, ehs(37), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh38, ehs(38), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh39, ehs(39), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh40, ehs(40), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh41, ehs(41), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh42, ehs(42), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh43, ehs(43), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh44, ehs(44), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh45, ehs(45), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh46, ehs(46), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh47, ehs(47), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh48, ehs(48), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh49, ehs(49), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh50, ehs(50), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh51, ehs(51), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh52, ehs(52), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh53, ehs(53), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh54, ehs(54), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh55, ehs(55), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh56, ehs(56), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh57, ehs(57), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh58, ehs(58), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh59, ehs(59), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh60, ehs(60), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh61, ehs(61), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh62, ehs(62), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh63, ehs(63), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh64, ehs(64), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh65, ehs(65), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh66, ehs(66), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh67, ehs(67), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh68, ehs(68), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh69, ehs(69), ierr)
  call MPI_COMM_CREATE_ERRHANDLER(eh70, ehs(70), ierr)

  do s = 1, steps
     ck = s
     do k = 1, nf
        call MPI_ALLREDUCE(me + s + k, red, 1, MPI_INTEGER, ops(k), dup, ierr)
        ck = mod(ck * 31 + red, 2147483647_8)
        call MPI_COMM_SET_ERRHANDLER(dup, ehs(k), ierr)
        call MPI_COMM_CALL_ERRHANDLER(dup, k, ierr)
     end do
     call MPI_COMM_SET_ERRHANDLER(dup, MPI_ERRORS_ARE_FATAL, ierr)
     ! a window made and freed within the step (a snapshot may come while it is open: on one
     ! rank Open MPI's memory for it is a shared mapping the layer's lower root serves while the
     ! window is made, src/pml_hooks/lower_winmem.h; rst_rma.sh restarts from that moment)
     wsize = 64
     call MPI_WIN_ALLOCATE(wsize, 1, MPI_INFO_NULL, MPI_COMM_WORLD, wbase, win, ierr)
     call MPI_WIN_FREE(win, ierr)
     ck = mod(ck * 31 + wcopies * 7 + wdels, 2147483647_8)
     ! each function counted its own calls: op k once a reduction (np > 1), handler k with code k
     do k = 1, nf
        ck = mod(ck * 31 + hits(k) * 3 + called(k), 2147483647_8)
     end do
     call rst_fstep_end(s, ck)
  end do
  ck = 0
  do k = 1, nf
     if (called(k) /= k * steps) ck = ck + 1
     call MPI_OP_FREE(ops(k), ierr)
     call MPI_ERRHANDLER_FREE(ehs(k), ierr)
  end do
  call MPI_COMM_FREE(dup, ierr)
  ! the held window's delete: every other window's is counted in the steps already
  k = wdels
  val = wdelsum
  bad = 0
  call MPI_WIN_FREE(held, ierr)
  if (wdels /= k + 1) bad = bad + 1
  if (wdelsum - val /= 101 + me) bad = bad + 1
  call MPI_COMM_DELETE_ATTR(MPI_COMM_WORLD, kw, ierr)
  call MPI_COMM_FREE_KEYVAL(kw, ierr)
  call MPI_REDUCE(ck, tot, 1, MPI_INTEGER8, MPI_SUM, 0, MPI_COMM_WORLD, ierr)
  call MPI_REDUCE(bad, badtot, 1, MPI_INTEGER8, MPI_SUM, 0, MPI_COMM_WORLD, ierr)
  if (me == 0) write (*, '(a,i0,a,i0,a,i0,a,i0,a,i0,a)') 'done: ', steps, ' steps on ', np, &
       ' ranks, ', nf, ' ops and handlers, ', tot, ' handlers called a wrong number of times, ', &
       badtot, ' held-window deletes wrong (count or value)'
  call MPI_FINALIZE(ierr)
end program rst_fmany
