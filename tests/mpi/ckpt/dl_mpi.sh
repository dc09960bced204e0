#!/bin/bash
# dl_mpi.sh FLAVOR (newuser7e F3): MPI programs that load the MPI library at run time, as Python's
# mpi4py does (the interpreter is not linked against MPI; mpi4py's extension module is, and Python
# dlopens it RTLD_LOCAL at "from mpi4py import MPI"), under "mpirun -am ft-enable-cr":
# 1. dl_mpi_host (not linked against MPI) dlopens dl_mpi_plug.so (built with the MPI's mpicc):
#    without REVIVE_MPI the wrapper refuses it saying to set REVIVE_MPI; with REVIVE_MPI=FLAVOR it
#    runs (revive-exec preloads the library after the layer; each step runs /bin/true from a
#    vfork child that calls close_range and dup2, as Python's subprocess does), a ckpt-mpirun
#    --term at a random step, restart-mpi: the job's and the restart's lines are the native run's.
#    Started by a script with REVIVE_MPI=FLAVOR (no preload): every rank stops with one line
#    saying the library was loaded at run time and what to do (before: "not linked against ...
#    is it an MPI program").
# 1b. dl_mpi_sym (not linked against MPI) calls the library only through dlsym on its handle
#    (Julia's MPI.jl, ctypes; newuser7f F6): with REVIVE_MPI=FLAVOR every rank is under Revive
#    (before: the library's own MPI_Init ran natively, no snapshot); --term, two restarts ==
#    native. A copy of the library in a file of its own: Open MPI stops each rank at its
#    MPI_Init saying so; MPICH's ranks (and Open MPI's job of a program that never calls
#    MPI_Init) run outside Revive, and ckpt-mpirun says no rank is under Revive once 10 s passed
#    without one (also to --wait, at the job's end, and once on the job's stderr for
#    --ckpt-interval; before: "the job is starting", nothing). A lookup that succeeds leaves no
#    error for dlerror() (a library of the program's own, RTLD_LOCAL, MPI-like name); one loaded
#    RTLD_GLOBAL that defines a name the layer defines too (mpi_wait, as R's Rmpi.so) gets its own
#    function on its own handle (newuser10 F1: the layer's, and R died of SIGSEGV); an
#    OpenSHMEM program (Open MPI) stops with words naming OpenSHMEM (diffrev38 R-L2, R-L4).
# 2. (the MPI /usr/bin/python3's mpi4py is built against; SKIP-PART otherwise) dl_mpi4py.py run
#    by /usr/bin/python3 without REVIVE_MPI: as natively; --term at a random step, two restarts
#    of the snapshot, each with the job's lines == native; REVIVE_MPI naming the other MPI is
#    refused naming the module's MPI; each step runs a command with subprocess. Before: refused
#    ("not linked against Open MPI or MPICH"), and with REVIVE_MPI=ompi every rank stopped ("no
#    ompi_mpi_init"); with the layer before the vfork fix every snapshot was refused naming the
#    library's descriptor (the vfork child's close_range had unmarked it). Each rank's layer
#    knows the application's libc by its data (REVIVE_VERBOSE=3's line within a libc.so.6 region
#    of REVIVE_HALVES_DUMP; before, python's: /usr/bin/python3 is not PIE). A chain: a second
#    --term job restarted, checkpointed with --term 2 steps on, twice, the third restart run to
#    the end: the lines of the job and of the 3 generations == native (newuser7f F5: before, the
#    second restart's ranks died of SIGSEGV in malloc whenever the first restart's load watcher
#    had made its malloc arena after the layer's look at the maps).
flavor=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../mpienv.sh" || exit $?
. "$here/ckptenv.sh" || exit $?
mpicc=$(command -v "mpicc.$(echo "$flavor" | sed 's/ompi/openmpi/')")
[ -n "$mpicc" ] || { echo "SKIP: no mpicc for $flavor"; exit 77; }
cc=${CC:-cc}
command -v "$cc" >/dev/null || { echo "SKIP: no C compiler ($cc)"; exit 77; }
np=2 steps=24 ms=150

# paced NAME PROG ARGS...: the job in $d/NAME (out.0/err.0), paced MS ms a step while
# $d/NAME/pace exists, ckpt-mpirun --wait --term at a random step from 2 to steps-6 (to span+1
# when span is set); sets ref (the snapshot), j; 1 with a FAIL line when no snapshot was taken.
# The job has ended on return.
paced() {
    local name=$1 at; shift
    mkdir -p "$d/$name" && cd "$d/$name" || exit 1
    touch pace
    at=$((2 + RANDOM % ${span:-$((steps - 7))}))
    clean timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d/$name" -n $np "$@" $steps \
        "$d/$name/pace" $ms >out.0 2>err.0 &
    j=$!; pids+=($j)
    if ! wait_steps out.0 $at $j || ! c=$(coord $j); then
        rm -f pace; wait $j
        failed "$name: no $at steps or no coordinator before the snapshot ($(nsteps out.0) steps)"; show_err err.0; return 1
    fi
    if ! timeout -k 5 300 "$CKPT" --wait --term "$c" >ckpt.out 2>ckpt.err; then
        rm -f pace; wait $j
        failed "$name: ckpt-mpirun --term (requested after $at steps):"; show_err ckpt.err err.0; return 1
    fi
    wait $j
    rm -f pace
    ref=$(tail -n 1 ckpt.out)
    echo "  ($name: snapshot requested after $at steps, the job ended after $(nsteps out.0))"
    return 0
}
# restart_ok NAME K: restart-mpi of $ref (out.K); the job's lines and restart K's are the native
# run's ($d/NAME.native)
restart_ok() {
    local rc
    clean timeout -k 5 600 "$RESTART" "$ref" >out.$2 2>err.$2; rc=$?
    if [ $rc = 0 ] && cmp -s <(results "$d/$1.native") <(results out.0 out.$2); then
        pass "$1: restart $2 of the --term snapshot: the job's and the restart's lines are the native run's ($(grep '^done:' out.$2))"
    else
        failed "$1: restart $2: status $rc, or the lines differ from the native run's"; show_err err.$2
        diff <(results "$d/$1.native") <(results out.0 out.$2) | head -n 6 | sed 's/^/  /'
    fi
}
# chain_ok NAME NATIVE GENS: a chain of generations from $ref (the job's --term snapshot): GENS
# times restart-mpi (gen.K), and but for the last, ckpt-mpirun --wait --term once that restarted
# job has done 2 more steps, whose snapshot the next restarts; the last runs to the end (unpaced).
# The job's lines and every generation's, in order, are the native run's (NATIVE).
chain_ok() {
    local name=$1 native=$2 gens=$3 g rc c files=(out.0)
    for g in $(seq "$gens"); do
        if [ "$g" = "$gens" ]; then rm -f pace; else touch pace; fi
        clean timeout -k 5 600 "$RESTART" "$ref" >gen.$g 2>gen.$g.err &
        j=$!; pids+=($j); files+=(gen.$g)
        if [ "$g" != "$gens" ]; then
            if ! wait_steps gen.$g 2 $j || ! c=$(coord $j); then
                rm -f pace; wait $j; rc=$?
                failed "$name: generation $g (restart-mpi of $ref): status $rc, $(nsteps gen.$g) steps, no snapshot taken"
                show_err gen.$g.err; return 1
            fi
            if ! timeout -k 5 300 "$CKPT" --wait --term "$c" >ck.$g.out 2>ck.$g.err; then
                rm -f pace; wait $j
                failed "$name: ckpt-mpirun --term of generation $g:"; show_err ck.$g.err gen.$g.err; return 1
            fi
            wait $j
            ref=$(tail -n 1 ck.$g.out)
            continue
        fi
        wait $j; rc=$?
        if [ $rc != 0 ]; then
            failed "$name: generation $g (restart-mpi of $ref, the chain's last): status $rc"; show_err gen.$g.err; return 1
        fi
    done
    if cmp -s <(results "$native") <(results "${files[@]}"); then
        pass "$name: a chain of $gens restarts (each but the last checkpointed with --term 2 steps on): the job's and every generation's lines are the native run's ($(grep '^done:' gen.$gens))"
    else
        failed "$name: the chain's lines (the job's, then generation 1 to $gens) differ from the native run's"
        diff <(results "$native") <(results "${files[@]}") | head -n 6 | sed 's/^/  /'
    fi
}

# 1. a C program that dlopens its MPI code
ck_workdir plug
"$cc" -O1 -o host "$here/dl_mpi_host.c" -ldl 2>cc.err &&
    "$mpicc" -O1 -shared -fPIC -o plug.so "$here/dl_mpi_plug.c" 2>>cc.err ||
    { failed "dl_mpi_host.c or dl_mpi_plug.c does not build:"; head -6 cc.err | sed 's/^/  /'; exit 1; }
run_native $np ./host "$d/plug.so" $steps "$d/nopace" 0 >"$d/plug.native" 2>native.err ||
    { failed "the native run of the plugin: status $?"; show_err native.err; exit 1; }
grep -q "^done: $steps " "$d/plug.native" || { failed "natively: $(tail -n 1 "$d/plug.native")"; exit 1; }
clean timeout -k 5 "$TMO" "$wrapper" -am ft-enable-cr -n $np ./host "$d/plug.so" 3 "$d/nopace" 0 \
    >unset.out 2>unset.err; rc=$?
if [ $rc != 0 ] && grep -q "a program that loads the MPI library at run time with dlopen: set REVIVE_MPI=ompi|mpich" unset.err; then
    pass "plugin without REVIVE_MPI: refused (status $rc), the message says to set REVIVE_MPI"
else
    failed "plugin without REVIVE_MPI: status $rc, no REVIVE_MPI hint"; show_err unset.err
fi
# started by a script: revive-exec cannot see the program, preloads nothing; the layer says why
printf '#!/bin/sh\nexec "%s" "$@"\n' "$d/host" >"$d/run.sh" && chmod +x "$d/run.sh"
REVIVE_MPI=$flavor clean timeout -k 5 "$TMO" "$wrapper" -am ft-enable-cr -n $np "$d/run.sh" "$d/plug.so" 3 \
    "$d/nopace" 0 >script.out 2>script.err; rc=$?
so=libmpi.so.40; [ "$flavor" = mpich ] && so=libmpich.so.12
n=$(grep -c "at run time with dlopen (as Python's mpi4py does), after Revive's layer.*add $so at the end of LD_PRELOAD" script.err)
if [ $rc != 0 ] && [ "$n" -ge 1 ]; then
    pass "plugin started by a script (REVIVE_MPI=$flavor, nothing preloaded): status $rc, $n rank(s) say the library was loaded at run time and what to do"
else
    failed "plugin started by a script: status $rc, $n lines naming the run-time load"; show_err script.err
fi
# a script whose name only looks like an interpreter's (python3.sh) is not run to ask it for
# mpi4py (diffrev37 R-L5): refused as a script, and it did not run
printf '#!/bin/sh\ntouch "%s"\n' "$d/ran" >"$d/python3.sh" && chmod +x "$d/python3.sh"
if ! "$REVIVE_EXEC" --detect "$d/python3.sh" 2>py3sh.err && [ ! -e "$d/ran" ] &&
    grep -q "is a script (#!/bin/sh): Revive cannot tell which MPI the program it starts is linked with; say it with REVIVE_MPI=ompi or REVIVE_MPI=mpich" py3sh.err; then
    pass "python3.sh (a script, not an interpreter): not run, refused as a script"
else
    failed "python3.sh: $([ -e "$d/ran" ] && echo "it was run" || echo "not refused as a script")"; show_err py3sh.err
fi
plugso=$d/plug.so
if REVIVE_MPI=$flavor paced plug "$d/host" "$d/plug.so"; then
    grep -q "^done: $steps " out.0 && failed "plug: the job finished before the snapshot"
    restart_ok plug 1
fi

# 1b. a program that calls the library only through dlsym on the handle dlopen gave for it
# (Julia's MPI.jl, Python ctypes/cffi, Rmpi; newuser7f F6), built with the plain C compiler:
# with REVIVE_MPI=FLAVOR every rank is under Revive (before: the library's own MPI_Init ran,
# natively, and no snapshot could be taken: ckpt-mpirun said "the job is starting" for the
# job's whole life); --term at a random step and two restarts: the lines are the native run's
ck_workdir sym
symdef=; [ "$flavor" = mpich ] && symdef=-DDL_MPICH
"$cc" -O1 $symdef -o "$d/symprog" "$here/dl_mpi_sym.c" -ldl 2>cc.err ||
    { failed "dl_mpi_sym.c does not build:"; head -6 cc.err | sed 's/^/  /'; exit 1; }
run_native $np "$d/symprog" $steps "$d/nopace" 0 >"$d/sym.native" 2>native.err ||
    { failed "the native run of dl_mpi_sym: status $?"; show_err native.err; exit 1; }
grep -q "^done: $steps " "$d/sym.native" || { failed "dl_mpi_sym natively: $(tail -n 1 "$d/sym.native")"; exit 1; }
if REVIVE_MPI=$flavor paced sym "$d/symprog"; then
    grep -q "^done: $steps " out.0 && failed "sym: the job finished before the snapshot"
    restart_ok sym 1
    restart_ok sym 2
fi
# own_lookup SRC LIB NAME WHAT [global]: LIB built from the C source SRC, looked up for NAME by
# dl_mpi_dlerror under the rank's LD_PRELOAD (libcr, the layer): "found, no error" passes
own_lookup() {
    local src=$1 lib=$2 name=$3 what=$4 out rc
    shift 4
    printf '%b' "$src" >"$d/$lib.c"
    if ! "$cc" -shared -fPIC -o "$d/$lib" "$d/$lib.c" 2>cc.err ||
        ! { [ -x "$d/dlerr" ] || "$cc" -O1 -o "$d/dlerr" "$here/dl_mpi_dlerror.c" -ldl 2>>cc.err; }; then
        failed "$lib or dl_mpi_dlerror.c does not build:"; head -6 cc.err | sed 's/^/  /'
        return
    fi
    out=$(REVIVE_MPI_FLAVOR=$flavor LD_PRELOAD="$REVIVE_MPI_LIBDIR/libcr.so.0:$REVIVE_MPI_LIBDIR/revive-mpi-$flavor.so" \
        "$d/dlerr" "$d/$lib" "$name" "$@" 2>&1 </dev/null); rc=$?
    if [ $rc = 0 ] && [ "$out" = "found, no error" ]; then
        pass "dlsym of $name in $what under the layer: its own function, dlerror() NULL"
    else
        failed "dlsym of $name in $what under the layer: status $rc: $out"
    fi
}
# a lookup that succeeds leaves no error for dlerror() (the usual check; Julia's jl_dlsym decides
# "found" by it): a library of the program's own (RTLD_LOCAL, not in the global scope) with an
# MPI-like name (diffrev38 R-L2: the layer's own lookup after the program's left "undefined
# symbol" behind)
own_lookup 'int mpi_foo(void) { return 7; }\n' libmpifoo.so mpi_foo "a library of the program's own"
# a library of the program's own loaded RTLD_GLOBAL (R loads Rmpi.so so) defining a name the
# layer defined too (Open MPI's side: mpi_wait, Fortran's MPI_WAIT), looked up on its own handle,
# and its own pointer to it (as R's registration of Rmpi's entry points): its own function
# (newuser10 F1: the layer's came back, and R's mpi.wait() died of SIGSEGV)
own_lookup 'int mpi_wait(void) { return 7; }\nvoid *registered = (void *)mpi_wait;\n' Rplug.so mpi_wait \
    "a library of the program's own loaded RTLD_GLOBAL" global
# OpenSHMEM (Open MPI's liboshmem starts Open MPI by itself, ompi_mpi_init): stopped with words
# that name OpenSHMEM (diffrev38 R-L4: "MPI_Init of libmpi.so.40 (liboshmem.so.40) was called
# directly ... a copy of the library")
if [ "$flavor" = ompi ] && command -v oshcc >/dev/null; then
    printf '#include <shmem.h>\nint main(void) { shmem_init(); shmem_finalize(); return 0; }\n' >"$d/shm.c"
    if oshcc -o "$d/shm" "$d/shm.c" 2>cc.err; then
        out=$(REVIVE_MPI_FLAVOR=$flavor LD_PRELOAD="$REVIVE_MPI_LIBDIR/libcr.so.0:$REVIVE_MPI_LIBDIR/revive-mpi-$flavor.so" \
            timeout -k 5 60 "$d/shm" 2>&1 </dev/null); rc=$?
        if [ $rc != 0 ] && printf '%s\n' "$out" | grep -q "OpenSHMEM (.*liboshmem.*: shmem_init) starts Open MPI by itself, not through Revive's layer: OpenSHMEM programs do not run under Revive"; then
            pass "an OpenSHMEM program under the layer: stopped (status $rc), the message names OpenSHMEM"
        else
            failed "an OpenSHMEM program under the layer: status $rc:"; printf '%s\n' "$out" | head -n 4 | sed 's/^/  /'
        fi
    else
        echo "SKIP-PART: OpenSHMEM (oshcc cannot build a program: $(head -n 1 cc.err))"
    fi
elif [ "$flavor" = ompi ]; then
    echo "SKIP-PART: OpenSHMEM (no oshcc)"
fi
# A copy of the library in a file of its own (as Julia's MPI.jl or a Python package may bundle),
# dlopen'ed by its path: the layer cannot run it. Open MPI: every rank stops at the copy's
# MPI_Init with one line saying so. MPICH (its MPI_Init calls nothing the layer could stand in
# front of): the ranks run natively, and ckpt-mpirun, once the job has run 10 s with no rank
# connected, says no rank is under Revive and why that may be (a request without --wait; one
# with --wait, said while it waits, and at the job's end); before: "the job is starting: no rank
# is ready yet" and "the job ended"; its --ckpt-interval timer says so once on the job's stderr
# (before: nothing). Open MPI's no-rank job: a program that never calls MPI_Init.
lib=$(ldd "$plugso" 2>/dev/null | awk -v so="$so" '$1 == so && $3 ~ /^\// { print $3; exit }')
if [ -z "$lib" ] || ! mkdir -p "$d/copy" || ! cp "$lib" "$d/copy/$so"; then
    echo "SKIP-PART: a copy of the MPI library ($so: ldd does not find it for $plugso)"
else
    if [ "$flavor" = ompi ]; then
        REVIVE_MPI=$flavor clean timeout -k 5 "$TMO" "$wrapper" -am ft-enable-cr -n $np "$d/symprog" 3 \
            "$d/nopace" 0 "$d/copy/$so" >copy.out 2>copy.err; rc=$?
        n=$(grep -c "MPI_Init of libmpi.so.40 ($d/copy/$so) was called directly, not through Revive's layer" copy.err)
        if [ $rc != 0 ] && [ "$n" -ge 1 ] && ! grep -q '^done:' copy.out; then
            pass "a copy of the library: status $rc, $n rank(s) stop at its MPI_Init saying it was called directly"
        else
            failed "a copy of the library: status $rc, $n lines naming the direct MPI_Init"; show_err copy.err
        fi
        nojob=(env REVIVE_MPI=$flavor "$wrapper" -am ft-enable-cr --ckpt-interval 2 -n $np /bin/sleep 15)
    else
        touch "$d/pace15"
        nojob=(env REVIVE_MPI=$flavor "$wrapper" -am ft-enable-cr --ckpt-interval 2 -n $np "$d/symprog" 75 "$d/pace15" 200 "$d/copy/$so")
    fi
    t0=$SECONDS
    clean timeout -k 5 120 "${nojob[@]}" >none.out 2>none.err &
    j=$!; pids+=($j)
    if c=$(coord $j); then
        timeout -k 5 120 "$CKPT" --wait "$c" >nonew.out 2>nonew.err & w=$!
        # asked every half second from 9 s on (the coordinator counts from its own start,
        # somewhat after the launcher's), until it says so, or the job ends, or 60 s
        said=
        while [ -z "$said" ] && [ $((SECONDS - t0)) -lt 60 ] && kill -0 $j 2>/dev/null; do
            sleep 0.5
            [ $((SECONDS - t0)) -ge 9 ] || continue
            "$CKPT" "$c" >none1.out 2>none1.err; rc=$?
            [ $rc != 0 ] && grep -q "no rank of the job has connected to Revive in the [0-9]* s since it started: its ranks have not reached MPI_Init yet, or they run the MPI library without Revive's layer" none1.err && said=1
        done
        if [ -n "$said" ]; then
            pass "no rank under Revive: ckpt-mpirun says so $((SECONDS - t0)) s after the start (status $rc)"
        else
            failed "no rank under Revive: ckpt-mpirun status $rc after $((SECONDS - t0)) s:"; show_err none1.err
        fi
        wait $j; wait $w; rc=$?
        if [ $rc != 0 ] && grep -q "waiting for the job to start.*no rank of the job has connected to Revive in the" nonew.err &&
            grep -q "ckpt-mpirun: the job ended and no rank of it ever connected to Revive" nonew.err; then
            pass "no rank under Revive: ckpt-mpirun --wait said so while it waited and at the job's end (status $rc)"
        else
            failed "no rank under Revive: ckpt-mpirun --wait status $rc:"; show_err nonew.err
        fi
        # the periodic checkpoints (--ckpt-interval 2): said once on the job's stderr
        n=$(grep -c "no checkpoint at --ckpt-interval: no rank of the job has connected to Revive in the [0-9]* s" none.err)
        if [ "$n" = 1 ]; then
            pass "no rank under Revive: the job's --ckpt-interval timer says so once on its stderr"
        else
            failed "no rank under Revive: the --ckpt-interval timer's line said $n times on the job's stderr"; show_err none.err
        fi
    else
        wait $j; failed "the job without a rank under Revive: no coordinator"; show_err none.err
    fi
fi

# 1c. a Python program through ctypes, no mpi4py (a virtual environment without the system's
# packages), REVIVE_MPI=FLAVOR: revive-exec preloads the library by its soname (before: refused,
# "that Python cannot find mpi4py"); --term at a random step, a restart: the native run's lines
ck_workdir ctypes
if ! /usr/bin/python3 -m venv --without-pip "$d/venv" >venv.err 2>&1 || "$d/venv/bin/python3" -c 'import mpi4py' 2>/dev/null; then
    echo "SKIP-PART: ctypes (no virtual environment without mpi4py: $(tail -n 1 venv.err))"
else
    run_native $np "$d/venv/bin/python3" "$here/dl_mpi_ctypes.py" $flavor $steps "$d/nopace" 0 >"$d/ctypes.native" 2>native.err ||
        { failed "the native run of dl_mpi_ctypes.py: status $?"; show_err native.err; }
    if grep -q "^done: $steps " "$d/ctypes.native" &&
        REVIVE_MPI=$flavor paced ctypes "$d/venv/bin/python3" "$here/dl_mpi_ctypes.py" $flavor; then
        grep -q "^done: $steps " out.0 && failed "ctypes: the job finished before the snapshot"
        restart_ok ctypes 1
    fi
fi

# 2. Python and mpi4py
cd "$tmp" || exit 1
py=/usr/bin/python3
mod=$([ -x $py ] && "$py" -c 'import importlib.util as u; print(u.find_spec("mpi4py.MPI").origin)' 2>/dev/null)
if [ ! -x $py ]; then
    echo "SKIP-PART: mpi4py ($py is not installed)"
elif [ -z "$mod" ]; then
    echo "SKIP-PART: mpi4py (not installed for $py: Debian's python3-mpi4py)"
elif ! ldd "$mod" | grep -q "$so => "; then
    echo "SKIP-PART: mpi4py ($py's mpi4py, $mod, is not built against $flavor's $so; Debian 12 has python3-mpi4py for Open MPI only)"
else
    ck_workdir py
    run_native $np $py "$here/dl_mpi4py.py" $steps "$d/nopace" 0 >"$d/py.native" 2>native.err ||
        { failed "the native run of dl_mpi4py.py: status $?"; show_err native.err; exit 1; }
    grep -q "^done: $steps " "$d/py.native" || { failed "mpi4py natively: $(tail -n 1 "$d/py.native")"; exit 1; }
    # uninterrupted under Revive, every rank on the lower half (REVIVE_MPI_REPORT)
    REVIVE_MPI_REPORT=$d/report clean timeout -k 5 "$TMO" "$wrapper" -am ft-enable-cr -n $np \
        $( [ "$flavor" = ompi ] && echo -x REVIVE_MPI_REPORT ) $py "$here/dl_mpi4py.py" $steps "$d/nopace" 0 >whole.out 2>whole.err; rc=$?
    lows=$(grep -c ": lower half " "$d/report" 2>/dev/null)
    if [ $rc = 0 ] && cmp -s "$d/py.native" whole.out && [ "${lows:-0}" -ge $np ]; then
        pass "mpi4py, $py without REVIVE_MPI: as natively, $lows ranks on the lower half"
    else
        failed "mpi4py uninterrupted under Revive: status $rc, $lows lower-half reports, output $(cmp -s "$d/py.native" whole.out && echo same || echo differs)"
        show_err whole.err
    fi
    # the application's libc, whose malloc arenas are the application's, is the one the layer
    # knows as such (its debug line's data range lies in a libc.so.6 region of REVIVE_HALVES_DUMP):
    # /usr/bin/python3 is not PIE, &malloc is its PLT entry, and the layer took python's data for
    # libc's (newuser7f F5: an arena the application's malloc made while a restart loaded the
    # fresh library was then left out of the image; the chain below crashed when that happened)
    REVIVE_VERBOSE=3 REVIVE_HALVES_DUMP=$d/halves clean timeout -k 5 "$TMO" "$wrapper" -am ft-enable-cr \
        -n $np $( [ "$flavor" = ompi ] && echo -x REVIVE_VERBOSE -x REVIVE_HALVES_DUMP ) $py \
        "$here/dl_mpi4py.py" 2 "$d/nopace" 0 >libc.out 2>libc.err; rc=$?
    regs=$(cat "$d"/halves.* 2>/dev/null | awk '$NF ~ /\/libc\.so\.6$/ { print $2 }')
    inlibc=0 elsewhere=
    for lo in $(sed -n "s/.*the application's libc's data 0x\([0-9a-f]*\)-.*/\1/p" libc.err); do
        hit=0
        for r in $regs; do
            [ $((16#$lo)) -ge $((16#${r%-*})) ] && [ $((16#$lo)) -lt $((16#${r#*-})) ] && hit=1
        done
        [ $hit = 1 ] && inlibc=$((inlibc + 1)) || elsewhere="$elsewhere 0x$lo"
    done
    if [ $rc = 0 ] && [ $inlibc = $np ] && [ -z "$elsewhere" ]; then
        pass "mpi4py: every rank's layer knows the application's libc by its data ($inlibc ranks)"
    else
        failed "mpi4py: status $rc; the application's libc's data found in libc.so.6 in $inlibc ranks, elsewhere:${elsewhere:- none} (python's data when taken from &malloc)"
        grep "the application's libc's data" libc.err | head -n 2 | sed 's/^/  /'
    fi
    # what the interpreter writes on stderr is not taken for the module (diffrev37 R-L4)
    det=$(PYTHONPROFILEIMPORTTIME=1 PYTHONWARNINGS=always "$REVIVE_EXEC" --detect $py 2>noise.err)
    [ "${det%% *}" = "$flavor" ] && pass "mpi4py found with the interpreter writing on stderr (import profile): '$det'" ||
        { failed "with PYTHONPROFILEIMPORTTIME=1, revive-exec --detect $py says '$det'"; show_err noise.err; }
    # REVIVE_MPI naming the other MPI: refused by revive-exec, naming the module's MPI
    other=mpich; oname="Open MPI"; [ "$flavor" = mpich ] && other=ompi oname=MPICH
    if ! REVIVE_MPI=$other "$REVIVE_EXEC" --detect $py >/dev/null 2>other.err &&
        grep -q "REVIVE_MPI=$other, but the mpi4py of $py .* is built against $oname: unset REVIVE_MPI" other.err; then
        pass "mpi4py with REVIVE_MPI=$other: refused, naming the MPI its module is built against"
    else
        failed "mpi4py with REVIVE_MPI=$other:"; show_err other.err
    fi
    if paced py $py "$here/dl_mpi4py.py"; then
        grep -q "^done: $steps " out.0 && failed "py: the job finished before the snapshot"
        restart_ok py 1
        restart_ok py 2
    fi
    # restarted, checkpointed and restarted again (newuser7f F5): before, the second restart's
    # ranks all died of SIGSEGV in the application's malloc: an arena it made while the first
    # restart loaded the fresh library was taken for the library's and left out of the image
    # (/usr/bin/python3 is not PIE: the layer took python's data for libc's)
    if span=6 paced chain $py "$here/dl_mpi4py.py"; then
        grep -q "^done: $steps " out.0 && failed "chain: the job finished before the snapshot"
        chain_ok chain "$d/py.native" 3
    fi
fi
cd "$tmp" || exit 1
left=$(no_strays "$tmp/") || failed "processes left: $left"
exit $fail
