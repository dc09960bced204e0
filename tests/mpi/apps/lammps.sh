#!/bin/sh
# lammps.sh FLAVOR: LAMMPS (Debian lammps, Open MPI) with its MPIIO package natively and under
# Revive with 2 ranks: a Lennard-Jones melt writes dumps with MPI-IO every 50 steps
# (dump custom/mpiio) and a restart file through MPI-IO (write_restart *.mpiio); a second run
# reads the restart file (MPI-IO) and goes on. The dump and restart files must be identical byte
# for byte, and so must the thermo output of both runs.
flavor=$1
. "$(dirname "$0")/appenv.sh" || exit $?
need_prog /usr/bin/lmp
ldd /usr/bin/lmp | grep -q "libmpi.so.40" && [ "$flavor" = ompi ] ||
    { echo "SKIP: /usr/bin/lmp is not built with $flavor"; exit 77; }
/usr/bin/lmp -h 2>/dev/null | grep -q "custom/mpiio" ||
    { echo "SKIP: /usr/bin/lmp has no MPIIO package"; exit 77; }
cat >"$tmp/in.a" <<EOI
units lj
atom_style atomic
lattice fcc 0.8442
region box block 0 6 0 6 0 6
create_box 1 box
create_atoms 1 box
mass 1 1.0
velocity all create 3.0 87287 loop geom
pair_style lj/cut 2.5
pair_coeff 1 1 1.0 1.0 2.5
neighbor 0.3 bin
neigh_modify every 20 delay 0 check no
fix 1 all nve
dump d all custom/mpiio 50 dump.*.mpiio id type x y z
thermo 50
run 200
write_restart restart.mpiio
EOI
cat >"$tmp/in.b" <<EOI
read_restart restart.mpiio
neighbor 0.3 bin
neigh_modify every 20 delay 0 check no
fix 1 all nve
thermo 50
run 100
EOI
n=2 fail=0
mkdir "$tmp/n" "$tmp/r"
(cd "$tmp/n" && run_native $n lmp -in ../in.a -log none && run_native $n lmp -in ../in.b -log none) \
    >"$tmp/n.out" 2>"$tmp/n.err"; rn=$?
(cd "$tmp/r" && REVIVE_MPI_REPORT=$tmp/report run_revive $n lmp -in ../in.a -log none &&
    run_revive $n lmp -in ../in.b -log none) >"$tmp/r.out" 2>"$tmp/r.err"; rr=$?
thermo() { grep -E '^ +[0-9]+ +-?[0-9.]+ ' "$1"; }
files=$(cd "$tmp/n" && ls dump.*.mpiio restart.mpiio 2>/dev/null | tr '\n' ' ')
differ=
for f in $files; do
    cmp -s "$tmp/n/$f" "$tmp/r/$f" || differ="$differ $f"
done
if [ $rn != 0 ] || [ $rr != 0 ]; then
    echo "FAIL np=$n: exit status native $rn, revive $rr"; show_unsupported "$tmp/r.err"
    grep -m3 -iE 'revive:|signal|error' "$tmp/r.err" "$tmp/r.out" | sed 's/^/  revive: /'; fail=1
elif [ "$(echo $files | wc -w)" != 6 ]; then
    echo "FAIL np=$n: the native run wrote $(echo $files | wc -w) of 6 MPI-IO files ($files)"; fail=1
elif [ -n "$differ" ]; then
    echo "FAIL np=$n: MPI-IO files differ:$differ"; fail=1
elif [ "$(thermo "$tmp/n.out" | wc -l)" != 8 ] || [ "$(thermo "$tmp/n.out")" != "$(thermo "$tmp/r.out")" ]; then
    echo "FAIL np=$n: thermo output differs"; diff "$tmp/n.out" "$tmp/r.out" | head; fail=1
elif on_lower $n; then
    echo "ok np=$n: 5 dumps and the restart file (MPI-IO) identical byte for byte, 8 thermo lines identical across write and read of the restart, $n ranks on the lower half"
else
    fail=1
fi
exit $fail
