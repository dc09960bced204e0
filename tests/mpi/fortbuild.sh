#!/bin/sh
# fortbuild.sh FLAVOR: the helpers of fortenv.sh that the Fortran tests (fortran.sh, callnames.sh,
# ckpt/rst_fort.sh) build with skip only when a tool is absent, naming it, and fail when a test
# program does not build. With wrappers made here in front of PATH: one whose compiler is not
# installed and one that runs gfortran without the MPI's module and libraries (the binding
# absent) must skip (77), naming the compiler or the binding; with the MPI's own wrapper, a
# program with an error must fail (1) with the compiler's error line, and a good one must build;
# a probe program that cannot be written (a file where its folder goes) is a hard error (99),
# not a skip naming the binding.
flavor=$1
. "$(dirname "$0")/mpienv.sh" || exit $?
fail=0
wrap=mpif90.$(echo "$flavor" | sed 's/ompi/openmpi/')
command -v "$wrap" >/dev/null || { echo "SKIP: no $wrap (the $flavor Fortran wrapper is absent)"; exit 77; }
command -v gfortran >/dev/null || { echo "SKIP: no gfortran"; exit 77; }
# try DESC WANT_STATUS WANT_TEXT PATH_DIR SOURCE: fort_compiler then fort_build of SOURCE in a
# subshell (both exit), with PATH_DIR (if not empty) in front of PATH
try() {
    desc=$1 want=$2 text=$3 dir=$4 src=$5
    out=$( [ -n "$dir" ] && PATH=$dir:$PATH
           . "$(dirname "$0")/fortenv.sh" && fort_compiler && fort_build "$(basename "$src")" "$tmp/prog" "$src" ) 2>&1
    rc=$?
    if [ $rc != "$want" ]; then
        echo "FAIL $desc: exit status $rc, want $want: $(echo "$out" | head -3)"; fail=1
    elif ! echo "$out" | grep -q -- "$text"; then
        echo "FAIL $desc: no '$text' in: $(echo "$out" | head -3)"; fail=1
    else
        echo "ok $desc: $(echo "$out" | head -2 | tr '\n' ' ')"
    fi
}
# fake_wrapper DIR COMPILER: a wrapper named as the MPI's that says it runs COMPILER and runs it
# without any of the MPI's flags
fake_wrapper() {
    mkdir -p "$1"
    cat >"$1/$wrap" <<EOW
#!/bin/sh
case "\$1" in --showme:command) echo $2; exit 0 ;; -show) echo "$2 -O2"; exit 0 ;; esac
exec $2 "\$@"
EOW
    chmod 700 "$1/$wrap"
}
printf '%s\n' 'program good' '  use mpi' '  integer :: ierr' '  call MPI_INIT(ierr)' \
    '  print *, MPI_COMM_WORLD' '  call MPI_FINALIZE(ierr)' 'end program good' >"$tmp/good.f90"
sed 's/print \*, MPI_COMM_WORLD/print *, MPI_COMM_WORLD +/' "$tmp/good.f90" >"$tmp/broken.f90"
fake_wrapper "$tmp/nocomp" gfortran-not-installed-here
fake_wrapper "$tmp/nobind" gfortran
: >"$tmp/fortprobe" # a file where the probe's folder goes: the probe cannot be written
try "probe not written" 99 "ERROR: the Fortran probe program cannot be written" "" "$tmp/good.f90"
rm -f "$tmp/fortprobe"
try "compiler absent" 77 "runs the Fortran compiler gfortran-not-installed-here, which is not installed" \
    "$tmp/nocomp" "$tmp/good.f90"
try "binding absent" 77 "SKIP: the $flavor Fortran binding is absent" "$tmp/nobind" "$tmp/good.f90"
try "a test program with an error" 1 "FAIL: broken.f90 does not build" "" "$tmp/broken.f90"
try "its error named" 1 "Error" "" "$tmp/broken.f90"
try "a good program" 0 "" "" "$tmp/good.f90"
[ -x "$tmp/prog" ] || { echo "FAIL a good program: no executable built"; fail=1; }
exit $fail
