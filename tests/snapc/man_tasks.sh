#!/bin/bash
# man_tasks.sh FLAVOR: the COMMON TASKS sections of ckpt-mpirun(1) and restart-mpi(1) (newuser47
# L5), run as the pages write them, with "-np 2", ./app the program mpi_loop held halfway (so the
# snapshots are taken while it surely runs) and "--ckpt-interval 1" for 600: every command line
# of those sections is here (checked against the pages), each does what its comment says, and
# the restarts finish with the uninterrupted run's result.
flavor=$1
. "$(dirname "$0")/lib.sh"
snapc_mpi_setup tasks restart
src=$REVIVE_SRCDIR
iters=${SNAPC_MPI_ITERS:-40000}
# the commands as a user types them: Revive's mpirun (the wrapper) and the tools first in PATH
export PATH=$B/tools/snapc:$(dirname "$wrapper"):$(dirname "$launcher"):$PATH
timeout -k 5 300 "$launcher" -n $np "$bin" $iters >"$W/native.out" 2>"$W/native.err" ||
    { fail "native run"; cat "$W/native.err"; finish; }
app() { echo "$bin $iters hold $W/go"; }

# every command line of the two sections, as this test runs it (the page's -np 4, ./app, 600
# and 4242 put back)
tasks() {
    sed -n '/^\.SH COMMON TASKS/,/^\.SH /{/^\.EX/,/^\.EE/p}' "$src/man/$1" |
        sed -e '/^\.E[XE]/d' -e '/^#/d' -e '/^$/d' -e 's/\\-/-/g' -e 's/\\e$/\\/'
}
ran=$W/ran.txt
: >"$ran"
# say LINE: the page's line this step runs
say() { printf '%s\n' "$1" >>"$ran"; }

mkdir -m 700 "$W/job" && cd "$W/job" || exit 99
say 'mpirun -am ft-enable-cr --ckpt-dir snaps -np 4 ./app &'
say 'job=$!'
# shellcheck disable=SC2046
( clean_exec PATH="$PATH" mpirun -am ft-enable-cr --ckpt-dir snaps -np $np $(app) ) >a.out 2>a.err &
job=$!; jobs_started="$jobs_started $job"
say 'ref=$(ckpt-mpirun --wait $job | tail -n1)'
ref=$(timeout 300 ckpt-mpirun --wait $job | tail -n1)
case $ref in "$W/job/snaps/revive_global_snapshot_$job.ckpt/0") ;; *) fail "ckpt-mpirun --wait: reference '$ref'" ;; esac
[ "$(stat -c %a snaps 2>/dev/null)" = 700 ] || fail "--ckpt-dir snaps was not made 0700: $(stat -c %a snaps 2>&1)"
kill -0 $job 2>/dev/null || fail "the job does not run on after ckpt-mpirun --wait"
say 'ckpt-mpirun --stop $job'
expect_rc 0 "ckpt-mpirun --stop" timeout 300 ckpt-mpirun --stop $job
# states: the states of the job's ranks (the program run in $W/job), one letter each
states() {
    local p
    for p in /proc/[0-9]*; do
        [ "$(readlink $p/exe 2>/dev/null)" = "$bin" ] && [ "$(readlink $p/cwd 2>/dev/null)" = "$W/job" ] &&
            awk '{printf "%s", $3}' $p/stat 2>/dev/null
    done
}
[ "$(states)" = TT ] || fail "--stop: the ranks' states are '$(states)', not stopped"
say 'kill -CONT $job'
kill -CONT $job
wait_for 60 '! states | grep -q T' || fail "kill -CONT did not continue the ranks: '$(states)'"
say 'ckpt-mpirun --term $job'
expect_rc 0 "ckpt-mpirun --term" timeout 300 ckpt-mpirun --term $job
job_gone $job 60 || fail "--term: the job runs on"
wait $job; st=$?
[ $st = 0 ] || fail "--term: the job's status $st"
pass "$flavor: start with --ckpt-dir, checkpoint (it runs on), --stop and kill -CONT, --term"

say 'ckpt-info snaps'
expect_rc 0 "ckpt-info snaps" ckpt-info snaps && grep -q "committed" "$W/cmd.out" || fail "ckpt-info snaps lists no committed snapshot"
say 'ckpt-info --verify "$ref"'
expect_rc 0 "ckpt-info --verify REF" ckpt-info --verify "$ref"
say 'ckpt-info --verify snaps'
expect_rc 0 "ckpt-info --verify snaps" ckpt-info --verify snaps
say 'restart-mpi --showme snaps'
expect_rc 0 "restart-mpi --showme snaps" restart-mpi --showme snaps
pass "$flavor: ckpt-info of the folder, --verify, restart-mpi --showme"

# the restarted job is held as the job was (its go file missing): checkpointed while it runs
say 'restart-mpi snaps &'
say 'ckpt-mpirun --wait --term $!'
restart-mpi snaps >r1.out 2>r1.err &
r=$!; jobs_started="$jobs_started $r"
expect_rc 0 "ckpt-mpirun --wait --term of the restarted job" timeout 300 ckpt-mpirun --wait --term $!
wait $r; st=$?
[ $st = 0 ] || { fail "the restarted job ended with status $st"; tail -n 3 r1.err; }
[ "$(ls -d snaps/revive_global_snapshot_*.ckpt | wc -l)" = 2 ] || fail "the restart's snapshots are not in snaps: $(ls snaps)"
pass "$flavor: restart-mpi snaps, checkpointed with --term"

touch "$W/go" # from here the restarts finish
case $flavor in ompi) echo "localhost slots=2" >hosts ;; *) echo "localhost:2" >hosts ;; esac
say 'restart-mpi --hostfile hosts snaps'
timeout -k 5 300 restart-mpi --hostfile hosts snaps >r2.out 2>r2.err; st=$?
[ $st = 0 ] && cmp -s "$W/native.out" r2.out || { fail "restart-mpi --hostfile hosts snaps: status $st"; tail -n 3 r2.err; }
jd=snaps/revive_global_snapshot_$job.ckpt
say 'restart-mpi revive_global_snapshot_4242.ckpt'
timeout -k 5 300 restart-mpi "$jd" >r3.out 2>r3.err; st=$?
[ $st = 0 ] && cmp -s "$W/native.out" r3.out || { fail "restart-mpi DIR: status $st"; tail -n 3 r3.err; }
say 'restart-mpi --seq 2 revive_global_snapshot_4242.ckpt'
timeout -k 5 300 restart-mpi --seq 1 "$jd" >r4.out 2>r4.err; st=$?
[ $st = 0 ] && cmp -s "$W/native.out" r4.out || { fail "restart-mpi --seq 1 DIR: status $st"; tail -n 3 r4.err; }
say 'restart-mpi snaps'
timeout -k 5 300 restart-mpi snaps >r5.out 2>r5.err; st=$?
[ $st = 0 ] && cmp -s "$W/native.out" r5.out || { fail "restart-mpi snaps: status $st"; tail -n 3 r5.err; }
say 'restart-mpi -- --oversubscribe snaps'
if [ $flavor = ompi ]; then
    timeout -k 5 300 restart-mpi -- --oversubscribe snaps >r6.out 2>r6.err; st=$?
    [ $st = 0 ] && cmp -s "$W/native.out" r6.out || { fail "restart-mpi -- --oversubscribe snaps: status $st"; tail -n 3 r6.err; }
fi
pass "$flavor: restart-mpi on a hostfile's hosts, of a snapshot directory, --seq, of the folder$([ $flavor = ompi ] && echo ', with a launcher option'): the uninterrupted result"

# periodic: every second (for 600), the newest 3 kept; held until sequence 4 is there
rm -f "$W/go"
say 'mpirun -am ft-enable-cr --ckpt-interval 600 --ckpt-keep 3 \'
say '--ckpt-dir snaps -np 4 ./app'
# shellcheck disable=SC2046
( clean_exec PATH="$PATH" mpirun -am ft-enable-cr --ckpt-interval 1 --ckpt-keep 3 \
    --ckpt-dir snaps2 -np $np $(app) ) >p.out 2>p.err &
p=$!; jobs_started="$jobs_started $p"
wait_for 120 '[ -f snaps2/revive_global_snapshot_$p.ckpt/4/snapshot.meta ]' || fail "periodic: no sequence 4 within 120 s"
touch "$W/go"
wait $p; st=$?
[ $st = 0 ] && cmp -s "$W/native.out" p.out || fail "periodic: status $st, or another result"
n=$(ls snaps2/revive_global_snapshot_$p.ckpt/*/snapshot.meta 2>/dev/null | wc -l)
[ "$n" = 3 ] || fail "periodic: $n committed snapshots kept, not 3"
pass "$flavor: --ckpt-interval --ckpt-keep 3: 3 kept, the uninterrupted result"

# every command line of the two sections was run here
for page in ckpt-mpirun.1 restart-mpi.1; do
    [ "$(tasks $page | wc -l)" -ge 8 ] || fail "$page: no COMMON TASKS section of 8 command lines at least"
    while IFS= read -r l; do
        l=${l%% #*}; l=${l%"${l##*[! ]}"}; l=${l#"${l%%[! ]*}"}
        grep -qxF -- "$l" "$ran" || fail "$page: the COMMON TASKS line '$l' is not run by this test"
    done < <(tasks $page)
done
finish
