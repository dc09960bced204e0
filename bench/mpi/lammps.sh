#!/bin/bash
# bench/mpi/lammps.sh: LAMMPS end to end with checkpointing armed against native (issue 7,
# "Speed": "LAMMPS end-to-end within 1%"). Runs Debian's LAMMPS (/usr/bin/lmp, package lammps,
# built for Open MPI only) on a Lennard-Jones melt (lammps-lj.in: LAMMPS's own bench/in.lj,
# 4*N^3 atoms, STEPS steps) with NP ranks natively and under "mpirun -am ft-enable-cr"
# (no checkpoint taken), alternating, REPS times each, and prints per side the best and the
# median of the wall time from the launch to the launcher's exit and of LAMMPS's own "Loop time"
# (the timed steps alone), then the ratios Revive / native. The two sides must print the same
# thermodynamic output (the same run), or the script says so and exits 2.
# Settings (environment): BUILD (build folder, default the current one), REPS (default 5),
# NP (default 2), N (default 12: 6912 atoms), STEPS (default 1000; about 17 s per run at load 9 on
# this 2-core machine). Exit status: 0 the ratio of the best wall times is within 1.01,
# 1 not, 2 it could not run.
. "$(dirname "$0")/lib.sh"
reps=${REPS:-5}
np=${NP:-2}
cells=${N:-12}
steps=${STEPS:-1000}
lmp=/usr/bin/lmp
input=$(cd "$(dirname "$0")" && pwd)/lammps-lj.in
[ -x "$lmp" ] || { echo "lammps.sh: $lmp is not installed (apt-get install lammps)"; exit 2; }
ldd "$lmp" | grep -q 'libmpi\.so\.40' ||
    { echo "lammps.sh: $lmp is not linked against Open MPI's libmpi.so.40: cannot run it"; exit 2; }
launcher=$(sed -n 's/^MPIEXEC_OMPI = //p' "$build/Makefile")
[ -x "$launcher" ] || { echo "lammps.sh: no Open MPI launcher in $build/Makefile (BUILD=...)"; exit 2; }
[ -x "$build/tools/mpi/mpirun" ] || { echo "lammps.sh: $build/tools/mpi/mpirun is not built"; exit 2; }
# Open MPI's ranks yield when idle on both sides (as the tests' jobs do, tests/mpi/mpienv.sh):
# on a shared 2-core machine a spinning rank waits a time slice for its peer per exchange
export OMPI_MCA_mpi_yield_when_idle=${OMPI_MCA_mpi_yield_when_idle:-1}

# one SIDE (native|revive) REP: one run in $tmp/SIDE.REP; appends "wall loop" to $tmp/SIDE
one() {
    local d=$tmp/$1.$2 t0 t1 st
    mkdir -p "$d"
    t0=$(date +%s%N)
    if [ "$1" = native ]; then
        (cd "$d" && exec timeout 900 "$launcher" -n "$np" "$lmp" -in "$input" -var n "$cells" \
            -var steps "$steps" -log none) >"$d/out" 2>"$d/err" </dev/null
    else
        (cd "$d" && PATH=$(dirname "$launcher"):$PATH exec timeout 900 "$build/tools/mpi/mpirun" \
            -am ft-enable-cr -n "$np" "$lmp" -in "$input" -var n "$cells" -var steps "$steps" \
            -log none) >"$d/out" 2>"$d/err" </dev/null
    fi
    st=$?
    t1=$(date +%s%N)
    if [ $st != 0 ]; then
        echo "lammps.sh: the $1 run $2 failed (status $st): $(tail -2 "$d/err" | tr '\n' ' ')"
        exit 2
    fi
    local loop
    loop=$(sed -n 's/^Loop time of \([0-9.e+-]*\) on .*/\1/p' "$d/out" | tail -1)
    echo "$(((t1 - t0) / 1000000)) ${loop:-0}" >>"$tmp/$1"
    # the thermodynamic lines (step, temperature, energies, pressure) must match
    awk '/^ *Step /{on=1} /^Loop time/{on=0} on' "$d/out" >"$d/thermo"
    if [ -s "$tmp/native.1/thermo" ] && ! cmp -s "$tmp/native.1/thermo" "$d/thermo"; then
        echo "lammps.sh: the $1 run $2 computed something else than the first native run:"
        diff "$tmp/native.1/thermo" "$d/thermo" | head -5
        exit 2
    fi
}
echo "== LAMMPS ($($lmp -h 2>/dev/null | sed -n 's/^Large-scale Atomic\/Molecular Massively Parallel Simulator - //p' | head -1))" \
    "Lennard-Jones melt, $((4 * cells * cells * cells)) atoms, $steps steps, Open MPI, $np ranks," \
    "$reps alternating runs per side ($(uname -r), $(nproc) cores)"
echo "   load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$reps"); do
    one native "$r"
    one revive "$r"
done
echo "   load at end:   $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   every run's thermodynamic output identical ($(grep -c . "$tmp/native.1/thermo") lines)"
echo "   runs in order (ms wall, s loop): native $(awk '{printf " %d/%s", $1, $2}' "$tmp/native")"
echo "                                    revive $(awk '{printf " %d/%s", $1, $2}' "$tmp/revive")"
printf '%-20s %12s %12s %8s\n' measure native revive ratio
stat() { # FILE COLUMN best|median
    sort -n -k"$2" "$1" | awk -v c="$2" -v w="$3" '{v[NR]=$c} END {
        if (w == "best") print v[1]; else print (NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2) }'
}
for w in best median; do
    for c in 1 2; do
        n=$(stat "$tmp/native" $c $w); r=$(stat "$tmp/revive" $c $w)
        [ $c = 1 ] && name="wall_s ($w)" || name="loop_s ($w)"
        [ $c = 1 ] && { n=$(awk -v x="$n" 'BEGIN{print x/1000}'); r=$(awk -v x="$r" 'BEGIN{print x/1000}'); }
        awk -v m="$name" -v n="$n" -v r="$r" 'BEGIN {printf "%-20s %12.3f %12.3f %8.4f\n", m, n, r, r / n}'
        [ "$w$c" = best1 ] && verdict=$(awk -v n="$n" -v r="$r" 'BEGIN {print (r / n <= 1.01) ? "met" : "NOT met"}')
    done
done
echo "LAMMPS end to end within 1% of native (best wall times): $verdict"
[ "$verdict" = met ]
