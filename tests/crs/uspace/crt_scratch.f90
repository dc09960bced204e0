! State test: gfortran STATUS='SCRATCH' units (issue 10, point 7). gfortran
! opens each scratch unit as a file in $TMPDIR (or /tmp) and removes it at
! once, so only the open descriptor holds it. Two units: an unformatted one
! holding 2000 records of 512 doubles (8 MiB), read back after each point,
! and a formatted one positioned in the middle when the checkpoint comes.
! The points and the end go through the C contract (crt_common.h, libcrt).
program crt_scratch
    use iso_c_binding
    implicit none
    interface
        subroutine crt_checkpoint_point(n) bind(C, name='crt_checkpoint_point')
            import :: c_int
            integer(c_int), value :: n
        end subroutine
        subroutine crt_finish() bind(C, name='crt_finish')
        end subroutine
    end interface
    integer, parameter :: nrec = 2000, nval = 512
    real(8) :: rec(nval)
    integer :: i, j, bad, line_no, ios, nline
    character(len=40) :: line

    open(newunit=i, status='scratch', form='unformatted', access='direct', recl=8*nval)
    call run(i)

contains

    subroutine fill(k, r)
        integer, intent(in) :: k
        real(8), intent(out) :: r(nval)
        integer :: m
        do m = 1, nval
            r(m) = real(k, 8) * 1000.0d0 + real(m, 8) / 7.0d0
        end do
    end subroutine

    subroutine say(text)
        character(len=*), intent(in) :: text
        nline = nline + 1
        write(*, '(I2.2, 1X, A)') nline, text
        flush(6)
    end subroutine

    subroutine check_records(u, when)
        integer, intent(in) :: u
        character(len=*), intent(in) :: when
        real(8) :: want(nval)
        bad = 0
        do j = 1, nrec
            read(u, rec=j) rec
            call fill(j, want)
            if (any(rec /= want)) bad = bad + 1
        end do
        if (bad == 0) then
            call say('unformatted scratch unit: 2000 records of 512 doubles read back ' // when // ': ok')
        else
            call say('FAIL unformatted scratch unit ' // when)
        end if
    end subroutine

    subroutine check_text(u, when)
        integer, intent(in) :: u
        character(len=*), intent(in) :: when
        ! the unit stands after line 50: the next read gives line 51
        read(u, '(A)', iostat=ios) line
        read(line(6:), *) line_no
        if (ios == 0 .and. line_no == 51) then
            call say('formatted scratch unit: the next line is 51 ' // when // ': ok')
        else
            call say('FAIL formatted scratch unit ' // when)
        end if
        backspace(u)
    end subroutine

    subroutine run(u)
        integer, intent(in) :: u
        integer :: t
        nline = 0
        do j = 1, nrec
            call fill(j, rec)
            write(u, rec=j) rec
        end do
        open(newunit=t, status='scratch', form='formatted')
        do j = 1, 100
            write(t, '(A, I4)') 'line ', j
        end do
        rewind(t)
        do j = 1, 50
            read(t, '(A)') line
        end do
        call say('two scratch units written')
        call check_records(u, 'at start')
        call check_text(t, 'at start')
        call crt_checkpoint_point(1)
        call check_records(u, 'after point 1')
        call check_text(t, 'after point 1')
        call crt_checkpoint_point(2)
        call check_records(u, 'after point 2')
        call check_text(t, 'after point 2')
        close(u)
        close(t)
        call crt_finish()
    end subroutine
end program
