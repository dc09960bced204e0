# Sourced by the tests that build Fortran MPI programs at test time (after mpienv.sh: $flavor,
# $tmp). A test is skipped only when the tools are really not there, and the skip names what is
# missing; a test program that does not build is the test's failure, with the compiler's words,
# so that a broken program cannot hide in CI as a skip (rst_fwin.f90 once failed to build on
# MPICH and showed only as SKIP).

# fort_compiler: sets $fc to the MPI's Fortran wrapper (mpif90.openmpi, mpif90.mpich), or skips
# (exit 77) naming what is absent: the wrapper, the compiler the wrapper runs, or the MPI's
# Fortran binding (a program of "use mpi" and MPI_INIT alone does not build and link); exit 99
# when that probe program cannot be written.
fort_compiler() {
    local wrap fcc probe
    wrap=mpif90.$(echo "$flavor" | sed 's/ompi/openmpi/')
    fc=$(command -v "$wrap") || { echo "SKIP: no $wrap (the $flavor Fortran wrapper is absent)"; exit 77; }
    case $flavor in
    ompi) fcc=$("$fc" --showme:command 2>/dev/null) ;;
    *) fcc=$("$fc" -show 2>/dev/null | awk '{print $1; exit}') ;;
    esac
    [ -n "$fcc" ] || { echo "SKIP: $wrap does not say which compiler it runs"; exit 77; }
    command -v "$fcc" >/dev/null ||
        { echo "SKIP: $wrap runs the Fortran compiler $fcc, which is not installed"; exit 77; }
    probe=$tmp/fortprobe
    # a probe that cannot be written (a full $tmp) says nothing of the binding: a hard error
    { mkdir -p "$probe" && printf '%s\n' 'program probe' '  use mpi' '  integer :: ierr' \
        '  call MPI_INIT(ierr)' '  call MPI_FINALIZE(ierr)' 'end program probe' >"$probe/probe.f90" &&
        : >"$probe/err"; } 2>/dev/null ||
        { echo "ERROR: the Fortran probe program cannot be written in $probe"; exit 99; }
    (cd "$probe" && "$fc" -o probe probe.f90) >"$probe/err" 2>&1 ||
        { echo "SKIP: the $flavor Fortran binding is absent ($wrap cannot build a program of use mpi" \
               "and MPI_INIT alone): $(grep -m1 -i 'error\|cannot\|not found' "$probe/err" || head -1 "$probe/err")"
          exit 77; }
}

# fort_build WHAT OUT ARGS...: builds OUT in $tmp with $fc and ARGS (flags, sources, objects);
# if it does not build, the test fails (exit 1) with the compiler's first error lines.
fort_build() {
    local what=$1 out=$2
    shift 2
    (cd "$tmp" && "$fc" -o "$out" "$@") >"$tmp/fc.err" 2>&1 && return 0
    echo "FAIL: $what does not build with $(basename "$fc") (the MPI's Fortran compiler and binding" \
         "are present: a program of use mpi builds):"
    grep -i -B4 -A1 'error' "$tmp/fc.err" | head -16 | sed 's/^/  /'
    grep -qi error "$tmp/fc.err" || head -6 "$tmp/fc.err" | sed 's/^/  /'
    exit 1
}
