#!/bin/bash
# elk.sh FLAVOR: Elk (Debian elk-lapw: all-electron full-potential LAPW, Fortran, Open MPI over
# k-points) computes the ground state of silicon (elk-si.in, species from the package), 2 ranks,
# one OpenMP thread each: run natively, and under Revive ended by "ckpt-mpirun --term" once
# self-consistent loop 5 has begun (INFO.OUT, which Elk keeps open and flushes every loop), then
# restarted with restart-mpi. Issue 8 names Elk. Two native runs write the same digits: INFO.OUT
# (written by both generations) but for dates and timings, the energy and convergence files
# appended to every loop, and every other output file must equal the native run's, but
# EVECFV.OUT (the eigenvectors: two native runs differ, measured, in the unused ends of records).
flavor=$1
. "$(dirname "$0")/ckapp.sh" || exit $?
elk=/usr/bin/elk-lapw
need_prog "$elk"
[ -r /usr/share/elk-lapw/species/Si.in ] || { echo "SKIP: Elk's species files are not installed"; exit 77; }
ldd "$elk" | grep -q "libmpi.so.40" && [ "$flavor" = ompi ] ||
    { echo "SKIP: $elk is not built with $flavor (Debian's elk-lapw is Open MPI's)"; exit 77; }
export OMP_NUM_THREADS=1
input=$(cd "$(dirname "$0")" && pwd)/elk-si.in
# INFO.OUT without the start's date and time, each loop's CPU time, and the final timings
info() { sed '/^Timings (CPU seconds)/,$d' "$1" | grep -vE '^(Date|Time) \('; }
n=2
d=$tmp/elk
CKAPP_SETUP="cp '$input' elk.in"
ck_try "$d" $n "grep -qsE 'Loop number : +5 ' INFO.OUT" "$elk" || {
    echo "FAIL np=$n: $CK_WHY"; exit 1; }
outs=$(cd "$d/native" && ls *.OUT | grep -vxE 'INFO.OUT|EVECFV.OUT')
files=$(ck_differing "$d/native" "$d/revive" $outs)
loops=$(grep -c 'Loop number' "$d/native/INFO.OUT")
if [ "$loops" -lt 6 ] || ! grep -q 'Self-consistent loop stopped' "$d/native/INFO.OUT"; then
    echo "FAIL np=$n: the native run did not converge"; tail -5 "$d/native/INFO.OUT"; exit 1
fi
info "$d/native/INFO.OUT" >"$d/n.info"
info "$d/revive/INFO.OUT" >"$d/r.info"
cat "$d/revive/gen0.out" "$d/revive/gen1.out" >"$d/r.out"
ck_same "INFO.OUT (written by both generations)" "$d/n.info" "$d/r.info" || exit 1
ck_same "the output of the two generations" "$d/native/native.out" "$d/r.out" || exit 1
[ -z "$files" ] || { echo "FAIL np=$n: files differ from the native run's:$files"; exit 1; }
echo "ok np=$n: checkpointed once loop 5 began ($CK_SNAP), restarted; $loops loops in INFO.OUT and" \
    "$(ls "$d"/native/*.OUT | wc -l) output files (but EVECFV.OUT) identical to the native run's;" \
    "total energy $(tail -1 "$d/native/TOTENERGY.OUT" | tr -d ' ')"
