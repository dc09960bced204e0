#!/bin/bash
# The wrapper's ^C sentinel (revive-coord --sentinel, mpirun.in) is not listed as a coordinator
# by any of the usual ways to find one: ps -C / pgrep revive-coord (comm), pidof revive-coord
# (argv[0]'s name) and pgrep -f revive-coord (the command line). Seen while it runs: the
# wrapper's program detection (revive-rank --detect, a stand-in beside REVIVE_EXEC that looks
# first, then runs the real one) runs while the sentinel waits. Before (diffrev48 R-N2): its
# comm said revive-sentinel, but pidof and pgrep -f still listed it as revive-coord.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-sentinel
command -v pidof >/dev/null && command -v pgrep >/dev/null || { echo "SKIP: pidof or pgrep missing"; exit 77; }
WRAP=$B/tools/mpi/mpirun
mkdir -p "$W/bin"
ln -s "$B/tools/mpi/revive-exec" "$W/bin/revive-exec"
# the stand-in: the wrapper's children (its parent is the wrapper) as each way names them
cat >"$W/bin/revive-rank" <<EOS
#!/bin/bash
if [ "\$1" = --detect ]; then
    mine() { for p in \$*; do [ "\$(ps -o ppid= -p \$p | tr -d ' ')" = \$PPID ] && echo \$p; done; }
    {
        echo "sentinel \$(pgrep -P \$PPID -x revive-sentinel | tr '\n' ' ')"
        echo "comm \$(pgrep -P \$PPID -x revive-coord | tr '\n' ' ')"
        echo "pidof \$(mine \$(pidof revive-coord) | tr '\n' ' ')"
        echo "pgrep-f \$(pgrep -P \$PPID -f revive-coord | tr '\n' ' ')"
    } >>"$W/seen"
fi
exec "$B/tools/mpi/revive-rank" "\$@"
EOS
chmod +x "$W/bin/revive-rank"
cat >"$W/mpirun.openmpi" <<EOS
#!/bin/bash
# stand-in for Open MPI's mpirun: drops -mca A B and -x NAME, runs fake_launch
args=()
while [ \$# -gt 0 ]; do
    case \$1 in -mca) shift 3 ;; -x) shift 2 ;; *) args+=("\$1"); shift ;; esac
done
exec "$FLAUNCH" "\${args[@]}"
EOS
chmod +x "$W/mpirun.openmpi"
export REVIVE_MPI=ompi REVIVE_MPIEXEC_OMPI=$W/mpirun.openmpi REVIVE_COORD_BIN=$COORD
export REVIVE_EXEC=$W/bin/revive-exec
( clean_exec "$WRAP" -am ft-enable-cr -np 2 "$FRANK" --iters 10 --sleep-us 100 ) >"$W/r.out" 2>"$W/r.err"
st=$?
[ $st = 0 ] || { fail "the job's status $st"; cat "$W/r.err"; }
[ -s "$W/seen" ] || fail "the wrapper did not run the stand-in revive-rank --detect"
cat "$W/seen"
grep -Eq '^sentinel [0-9]+ $' "$W/seen" || fail "no sentinel (revive-sentinel) under the wrapper while it detected the program"
for way in comm pidof pgrep-f; do
    grep -qx "$way " "$W/seen" || fail "the sentinel is listed as revive-coord by $way: $(grep "^$way " "$W/seen")"
done
pass "the ^C sentinel: listed by none of ps -C, pidof, pgrep -f revive-coord"
finish
