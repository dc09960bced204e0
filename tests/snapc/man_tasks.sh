#!/bin/bash
# man_tasks.sh FLAVOR: the COMMON TASKS sections of ckpt-mpirun(1), restart-mpi(1) (newuser47
# L5) and revive-mpirun(1) (newuser49 L3), run as the pages write them: each step names the page's line, and what it runs is that
# line's own text after fixed changes (run_text): "-np 2" for 4, ./app the program mpi_loop held
# halfway (so the snapshots are taken while it surely runs), "--ckpt-interval 1" for 600, job
# 4242 this job. Every command line of those sections is run here and every line run is one of
# theirs (checked against the pages), each does what its comment says, and the restarts finish
# with the uninterrupted run's result. (diffrev48 R-L6: the test ran variants of the lines it
# named: a page line broken by a misspelt option passed once the name was changed to match.)
flavor=$1
. "$(dirname "$0")/lib.sh"
snapc_mpi_setup tasks restart
src=$REVIVE_SRCDIR
# 4000 steps: every snapshot is taken at or before the hold (step 2000; the job holds until go);
# the steps after it only run each of the seven jobs and restarts on to the result (40000: 29 s
# of CPU, 66 s of wall in CI49's -j3 run of the Open MPI test)
iters=${SNAPC_MPI_ITERS:-4000}
# the commands as a user types them: Revive's mpirun (the wrapper) and the tools first in PATH
export PATH=$B/tools/snapc:$(dirname "$wrapper"):$(dirname "$launcher"):$PATH
native_run
app() { echo "$bin $iters hold $W/go"; }

# every command line of the two sections, as the page writes it (a comment after it and
# blanks at its end left out)
tasks() {
    sed -n '/^\.SH COMMON TASKS/,/^\.SH /{/^\.EX/,/^\.EE/p}' "$src/man/$1" |
        sed -e '/^\.E[XE]/d' -e '/^#/d' -e '/^$/d' -e 's/\\-/-/g' -e 's/\\e$/\\/' \
            -e 's/ \+#.*//' -e 's/[[:space:]]*$//'
}
ran=$W/ran.txt
: >"$ran"
# say LINE: the page's line this step runs (or, for a launcher's option, names)
say() { printf '%s\n' "$1" >>"$ran"; }
# run_text LINE...: the command this test runs of the page's LINEs (one command: a continued one
# in several), said; in $cmd. The changes, fixed: -np 4 -> -np $np, ./app -> $(app),
# --ckpt-interval 600 -> 1, revive_global_snapshot_4242.ckpt -> snaps/revive_global_snapshot_$job.ckpt
# (the folder it is in, this job's pid); mpirun in a subshell with only fds 0-2 (clean_exec: its
# pid is still the job's); a tool in the foreground bounded by timeout.
run_text() {
    local l
    cmd=
    for l; do say "$l"; cmd+=$l$'\n'; done
    cmd=$(printf '%s' "$cmd" | sed -e 's/ -np 4 / -np $np /' -e 's#\./app\( \|$\)#$(app)\1#' \
        -e 's/--ckpt-interval 600 /--ckpt-interval 1 /' \
        -e 's#\(revive_global_snapshot_\)4242\.ckpt#snaps/\1$job.ckpt#g' \
        -e 's/\$(\(ckpt-mpirun\|restart-mpi\|ckpt-info\) /$(timeout -k 5 300 \1 /')
    case $cmd in
    mpirun\ *\ \&) cmd="( clean_exec PATH=\"\$PATH\" ${cmd% &} ) &" ;;
    mpirun\ *) cmd="( clean_exec PATH=\"\$PATH\" $cmd )" ;;
    *\&) ;;
    ckpt-mpirun\ * | restart-mpi\ * | ckpt-info\ *) cmd="timeout -k 5 300 $cmd" ;;
    esac
}
# run LINE...: the page's LINEs run (run_text) in this shell: $!, job=, ref= are this test's
run() { run_text "$@"; eval "$cmd"; }
# runs WANT WHAT LINE...: run, stdout in $W/cmd.out, stderr in $W/cmd.err, its status WANT
runs() {
    local want=$1 what=$2 rc
    shift 2
    run "$@" >"$W/cmd.out" 2>"$W/cmd.err"
    rc=$?
    [ $rc = "$want" ] && return 0
    fail "$what: exit status $rc, expected $want (run: $cmd)"; sed 's/^/    /' "$W/cmd.err"
    return 1
}

mkdir -m 700 "$W/job" && cd "$W/job" || exit 99
# the wrapper's choice of MPI for the program (revive-mpirun(1))
runs 0 "revive-exec --detect" 'revive-exec --detect ./app' &&
    { [ "$(head -n1 "$W/cmd.out")" = "$flavor" ] || fail "revive-exec --detect: '$(cat "$W/cmd.out")', not $flavor"; }
run 'mpirun -am ft-enable-cr --ckpt-dir snaps -np 4 ./app &' >a.out 2>a.err
run 'job=$!'
jobs_started="$jobs_started $job"
run 'ref=$(ckpt-mpirun --wait $job | tail -n1)'
case $ref in "$W/job/snaps/revive_global_snapshot_$job.ckpt/0") ;; *) fail "ckpt-mpirun --wait: reference '$ref'" ;; esac
[ "$(stat -c %a snaps 2>/dev/null)" = 700 ] || fail "--ckpt-dir snaps was not made 0700: $(stat -c %a snaps 2>&1)"
kill -0 $job 2>/dev/null || fail "the job does not run on after ckpt-mpirun --wait"
runs 0 "ckpt-mpirun --stop" 'ckpt-mpirun --stop $job'
# states: the states of the job's ranks (the program run in $W/job), one letter each
states() {
    local p
    for p in /proc/[0-9]*; do
        [ "$(readlink $p/exe 2>/dev/null)" = "$bin" ] && [ "$(readlink $p/cwd 2>/dev/null)" = "$W/job" ] &&
            awk '{printf "%s", $3}' $p/stat 2>/dev/null
    done
}
[ "$(states)" = TT ] || fail "--stop: the ranks' states are '$(states)', not stopped"
run 'kill -CONT $job'
wait_for 60 '! states | grep -q T' || fail "kill -CONT did not continue the ranks: '$(states)'"
runs 0 "ckpt-mpirun --term" 'ckpt-mpirun --term $job'
job_gone $job 60 || fail "--term: the job runs on"
wait $job; st=$?
[ $st = 0 ] || fail "--term: the job's status $st"
pass "$flavor: start with --ckpt-dir, checkpoint (it runs on), --stop and kill -CONT, --term"

runs 0 "ckpt-info snaps" 'ckpt-info snaps' && grep -q "committed" "$W/cmd.out" || fail "ckpt-info snaps lists no committed snapshot"
runs 0 "ckpt-info --verify REF" 'ckpt-info --verify "$ref"'
runs 0 "ckpt-info --verify snaps" 'ckpt-info --verify snaps'
runs 0 "restart-mpi --showme snaps" 'restart-mpi --showme snaps'
pass "$flavor: ckpt-info of the folder, --verify, restart-mpi --showme"

# the restarted job is held as the job was (its go file missing): checkpointed while it runs
run 'restart-mpi snaps &' >r1.out 2>r1.err
r=$!; jobs_started="$jobs_started $r"
runs 0 "ckpt-mpirun --wait --term of the restarted job" 'ckpt-mpirun --wait --term $!'
wait $r; st=$?
[ $st = 0 ] || { fail "the restarted job ended with status $st"; tail -n 3 r1.err; }
[ "$(ls -d snaps/revive_global_snapshot_*.ckpt | wc -l)" = 2 ] || fail "the restart's snapshots are not in snaps: $(ls snaps)"
pass "$flavor: restart-mpi snaps, checkpointed with --term"

touch "$W/go" # from here the restarts finish
case $flavor in ompi) echo "localhost slots=2" >hosts ;; *) echo "localhost:2" >hosts ;; esac
# restarted LINE: the page's restart LINE runs to the end with the uninterrupted run's result
n=0
restarted() {
    n=$((n + 1))
    run "$1" >r$n.out 2>r$n.err; st=$?
    [ $st = 0 ] && cmp -s "$W/native.out" r$n.out || { fail "$1 (run: $cmd): status $st, or another result"; tail -n 3 r$n.err; }
}
restarted 'restart-mpi --hostfile hosts snaps'
restarted 'restart-mpi revive_global_snapshot_4242.ckpt'
restarted 'restart-mpi --seq 2 revive_global_snapshot_4242.ckpt'
restarted 'restart-mpi snaps'
if [ $flavor = ompi ]; then
    restarted 'restart-mpi -- --oversubscribe snaps'
else
    say 'restart-mpi -- --oversubscribe snaps' # Open MPI's option (the page says so)
fi
pass "$flavor: restart-mpi on a hostfile's hosts, of a snapshot directory, --seq, of the folder$([ $flavor = ompi ] && echo ', with a launcher option'): the uninterrupted result"

# periodic: every second (for 600), the newest 3 kept; held until sequence 4 is there
rm -f "$W/go"
run_text 'mpirun -am ft-enable-cr --ckpt-interval 600 --ckpt-keep 3 \' '    --ckpt-dir snaps -np 4 ./app'
eval "$cmd &" >p.out 2>p.err
p=$!; jobs_started="$jobs_started $p"
wait_for 120 '[ -f snaps/revive_global_snapshot_$p.ckpt/4/snapshot.meta ]' || fail "periodic: no sequence 4 within 120 s"
touch "$W/go"
wait $p; st=$?
[ $st = 0 ] && cmp -s "$W/native.out" p.out || fail "periodic: status $st, or another result"
n=$(ls snaps/revive_global_snapshot_$p.ckpt/*/snapshot.meta 2>/dev/null | wc -l)
[ "$n" = 3 ] || fail "periodic: $n committed snapshots kept, not 3"
pass "$flavor: --ckpt-interval --ckpt-keep 3: 3 kept, the uninterrupted result"

# every command line of the two sections was run here, and every line run is one of theirs
pages=(ckpt-mpirun.1 restart-mpi.1 revive-mpirun.1)
for page in "${pages[@]}"; do
    [ "$(tasks $page | wc -l)" -ge 8 ] || fail "$page: no COMMON TASKS section of 8 command lines at least"
    while IFS= read -r l; do
        grep -qxF -- "$l" "$ran" || fail "$page: the COMMON TASKS line '$l' is not run by this test"
    done < <(tasks $page)
done
while IFS= read -r l; do
    for page in "${pages[@]}"; do tasks $page | grep -qxF -- "$l" && continue 2; done
    fail "this test runs '$l', a line of no page's COMMON TASKS"
done <"$ran"
# README.md's quick start for MPI jobs: each of its commands (but sourcing env.sh, which the
# test's PATH stands for) is a line run here
n=0
while IFS= read -r l; do
    n=$((n + 1))
    grep -qxF -- "$l" "$ran" || fail "README.md's quick start line '$l' is not run by this test"
done < <(sed -n '/^## Quick start: an MPI job/,/^## [A-Z]/{/^    /p}' "$src/README.md" |
    sed -e 's/^    //' -e 's/ \+#.*//' -e 's/[[:space:]]*$//' | grep -v '^\. ')
[ $n -ge 5 ] || fail "README.md has no quick start for MPI jobs of 5 command lines at least ($n)"
finish
