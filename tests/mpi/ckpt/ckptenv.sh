# Sourced by the tests in tests/mpi/ckpt after tests/mpi/mpienv.sh ($flavor set): the restarter
# and helpers shared by the restart tests.
restarter=$REVIVE_BUILDDIR/tools/revive-restart-rank
prog=$REVIVE_BUILDDIR/tests/mpi/ckpt/rst_prog-$flavor
CKPT=$REVIVE_BUILDDIR/tools/snapc/ckpt-mpirun
RESTART=$REVIVE_BUILDDIR/tools/snapc/restart-mpi
INFO=$REVIVE_BUILDDIR/tools/snapc/ckpt-info
for t in "$prog" "$restarter" "$CKPT" "$RESTART"; do
    [ -x "$t" ] || { echo "SKIP: $t not built"; exit 77; }
done
fail=0
pass() { echo "PASS: $*"; }
failed() { echo "FAIL: $*"; fail=1; }
# ck_exit: every test's exit trap: the processes in pids are killed with everything under them,
# and so is every process whose command line names the work folder; when the test failed, the
# work folder is kept for inspection (copied to REVIVE_TEST_KEEP when that names a folder, else
# left where it is) and named, else removed (a failed restart's snapshot, images and the ranks'
# messages were gone with it: rst_io-ompi and e2e_chain-ompi in CI, session 5). Killing only the
# pid (a "timeout" in front of restart-mpi) left a hung restart running 10 minutes after
# e2e_chain-ompi had failed, beside the rest of CI (the official CI of 6cb5ab4).
pids=()
ck_exit() {
    local p all=
    for p in "${pids[@]}"; do all="$all $(descendants "$p" 2>/dev/null)"; done
    all="$all $(pgrep -f -- "$tmp/" | grep -vx -e $$)"
    for p in $all; do kill -KILL "$p" 2>/dev/null; done
    if [ "$fail" != 0 ]; then
        if [ -n "${REVIVE_TEST_KEEP:-}" ] && cp -r "$tmp" "$REVIVE_TEST_KEEP" 2>/dev/null; then
            rm -rf "$tmp"
            echo "work folder kept for inspection: $REVIVE_TEST_KEEP/$(basename "$tmp")"
        else
            echo "work folder kept for inspection: $tmp"
        fi
        return
    fi
    rm -rf "$tmp"
}
trap ck_exit EXIT
# ck_workdir NAME: d=$tmp/NAME made and entered
ck_workdir() {
    d=$tmp/$1
    mkdir -p "$d" && cd "$d" || exit 1
    pids=()
}
# show_err FILE...: a failed command's messages in full (a restarted rank's own message comes
# before the launcher's banner, and a tail showed only the banner), empty lines left out, at
# most 80 lines per file, indented
show_err() {
    local f
    for f in "$@"; do
        [ -f "$f" ] || { echo "  ($f: not written)"; continue; }
        echo "  --- $f:"
        grep -v '^[[:space:]]*$' "$f" | head -n 80 | sed 's/^/  /'
    done
}
# ref_native OUT ERR N PROG ARG...: the uninterrupted reference run (run_native), its stdout in
# OUT and its stderr in ERR. For MPICH it is the
# native run of Open MPI's build of the same program (PROG-mpich -> PROG-ompi) when there is one,
# as ckcompare.sh does: MPICH 4.0's native ranks poll while they wait, which made its run slow
# (rst_cross np=8: 18.7 s, Open MPI's 6.2 s). (They did not starve an Open MPI job beside them:
# rst_comms-ompi, 200 rounds natively, 0.75 s beside 4 native MPICH ranks of rst_cross at ~35%
# CPU each, 0.49 s alone; beside two busy loops it ran out of 120 s.) Only for a program whose
# lines are the same under either library (rst_cross: compared at 2 and 8 ranks; rst_pscw.sh's
# programs but rst_dynwin, at the ranks and steps of their tests); rst_prog's are
# not (its checksum counts a datatype's size and extent: step 0 is 124183 under Open MPI, 124171
# under MPICH), so its tests keep run_native. A difference fails the test, it cannot hide one of
# Revive's. REVIVE_TEST_CKREF=mpich: MPICH's own native run. The run is mpienv.sh's native_kept:
# the -mpich test takes the run the -ompi test made earlier in the same CI run (the programs
# only look whether their pace file, under the test's folder, exists: none does in a native run).
ref_native() {
    local out=$1 err=$2 n=$3 p=$4 o l
    shift 4
    o=${p%-mpich}-ompi
    l=$(sed -n 's/^MPIEXEC_OMPI = //p' "$mk")
    if [ "$flavor" = mpich ] && [ "${REVIVE_TEST_CKREF:-ompi}" = ompi ] && [ "$o" != "$p" ] &&
        [ -x "$o" ] && [ -n "$l" ] && [ -x "$l" ]; then
        native_kept "$out" "$err" "$l" "$n" "$o" "$@"
    else
        native_kept "$out" "$err" "$launcher" "$n" "$p" "$@"
    fi || return
    [ "$native_from" = kept ] && echo "  (np=$n: the reference is the native run an earlier test made in this run)"
    return 0
}
# clean CMD...: runs CMD with only descriptors 0-2 (the launcher gives ranks its own).
# (a subshell closes them and execs CMD: a "bash -c" doing it was a bash started per job, 7 ms of
# CPU on the loaded machine)
clean() {
    (
        for f in /proc/$BASHPID/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-"; done
        exec "$@"
    )
}
# the lines that count: rank 0's per-step checksums and its last line
results() { grep -hE '^(step [0-9]+: |done: )' "$@"; }
# restart_job N SNAPDIR: the new job (the launcher runs revive-restart-rank as each rank); Open
# MPI's launcher passes REVIVE_RESTART_REPORT on only when told
xenv=()
[ "$flavor" = ompi ] && xenv=(-x REVIVE_RESTART_REPORT)
restart_job() { n=$1; shift; clean timeout -k 5 "$TMO" "$launcher" -n "$n" "${xenv[@]}" "$restarter" "$@"; }
# ck_prog NAME: prog=the test program NAME built for $flavor; the test is skipped when it is not
ck_prog() {
    prog=$REVIVE_BUILDDIR/tests/mpi/ckpt/$1-$flavor
    [ -x "$prog" ] || { echo "SKIP: $prog not built"; exit 77; }
}
# ck_build_src NAME [FLAG...]: prog=$d/NAME (in the folder ck_workdir made), built from this
# folder's NAME.c by the flavor's mpicc (mpicc.openmpi, mpicc.mpich) at -O1, FLAGs after the
# source; the test is skipped when that mpicc is absent and fails naming it when the program does
# not build (the MPI's mpicc is there: a program that does not build is the test's failure).
# ck_srcdir is found when this file is sourced: ck_workdir's cd makes a relative $0 wrong.
ck_srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ck_build_src() {
    local name=$1 cc
    shift
    cc=$(command -v "mpicc.$(echo "$flavor" | sed 's/ompi/openmpi/')")
    [ -n "$cc" ] || { echo "SKIP: no mpicc for $flavor"; exit 77; }
    prog=$d/$name
    "$cc" -O1 -o "$prog" "$ck_srcdir/$name.c" "$@" 2>"$tmp/cc.err" ||
        { echo "FAIL: $name.c does not build with $(basename "$cc"):"; head -6 "$tmp/cc.err" | sed 's/^/  /'
          exit 1; }
}
# cached_seq SEQDIR: where this host's node-local cache keeps its copy of the sequence SEQDIR
# (REVIVE_LOCAL_DIR, else $TMPDIR/revive-local-<uid>, then the job directory's name and the
# sequence), whether it is there or not
cached_seq() {
    local cache=${REVIVE_LOCAL_DIR:-${TMPDIR:-/tmp}/revive-local-$EUID}
    echo "$cache/$(basename "$(dirname "$1")")/$(basename "$1")"
}
# only_shared_copy SEQDIR: the images of the sequence SEQDIR become the only copies a restart
# finds: this host's node-local copies of them (each rank's own, rank_R.img, and the partner
# copies, partner_R.img) are moved into the work folder ($tmp/aside.*) until shared_copy_back
# SEQDIR puts them back. A test that damages an image in the snapshot directory and expects a
# refusal needs it: restart-mpi fetches a good cached copy over a damaged shared one, and
# ckpt-info --verify accepts a sequence whose cached copies are good (newuser9 F8), so with a
# good copy left in the cache the test checks the fetch, not the refusal (a cached copy that is
# a hard link of the shared file is damaged with it: moved aside all the same). 1 with a FAIL
# line when the copies cannot be moved.
only_shared_copy() {
    local c a
    c=$(cached_seq "$1")
    a=$tmp/aside.$(basename "$(dirname "$1")").$(basename "$1")
    [ -d "$c" ] || return 0
    mkdir -p "$a" || { failed "cannot make $a"; return 1; }
    find "$c" -maxdepth 1 -type f \( -name 'rank_*.img' -o -name 'partner_*.img' \) \
        -exec mv -t "$a" {} + || { failed "cannot move the node-local copies of $1 aside"; return 1; }
    [ -z "$(find "$c" -maxdepth 1 -name '*_*.img' -print -quit)" ] ||
        { failed "node-local copies of $1 left in $c"; return 1; }
}
shared_copy_back() {
    local c a
    c=$(cached_seq "$1")
    a=$tmp/aside.$(basename "$(dirname "$1")").$(basename "$1")
    [ -d "$a" ] || return 0
    find "$a" -maxdepth 1 -type f -exec mv -t "$c" {} + && rmdir "$a" ||
        failed "cannot put the node-local copies of $1 back from $a"
}
# rank_images SNAPDIR: how many rank images (rank_R.img) the self-checkpointing programs wrote there
rank_images() { ls "$1" 2>/dev/null | grep -c '^rank_[0-9]*\.img$'; }
# two_restarts N STEPS C1 C2: a self-checkpointing $prog (rst_step.h) at N ranks in d=$tmp/npN:
# a native run (native.out/.err); a run that checkpoints at step C1 and ends (orig.out/.err); a
# restart from sC1 that checkpoints again at C2 and ends (r1.out); a restart from sC2 that
# finishes (r.out; both restarts' messages in r.err). Sets rc, the last restart's status; 1 with
# a FAIL line when a snapshot lacks rank images (the caller compares the outputs).
two_restarts() {
    local np=$1 steps=$2 c1=$3 c2=$4 nimg
    d=$tmp/np$np
    mkdir -p "$d"
    run_native "$np" "$prog" "$steps" >"$d/native.out" 2>"$d/native.err"
    clean timeout -k 5 "$TMO" "$wrapper" -am ft-enable-cr -n "$np" "$prog" "$steps" "$d" "$c1,$c2" --exit \
        >"$d/orig.out" 2>"$d/orig.err"
    nimg=$(rank_images "$d/s$c1")
    if [ "$nimg" != "$np" ]; then
        failed "np=$np: $nimg of $np rank images written"; sed 's/^/  /' "$d/orig.err" | tail -5; return 1
    fi
    # Open MPI's launcher says status 1 for ranks that end without MPI_Finalize, as the first job's
    restart_job "$np" "$d/s$c1" >"$d/r1.out" 2>"$d/r.err"; rc=$?
    nimg=$(rank_images "$d/s$c2")
    if [ "$nimg" != "$np" ]; then
        failed "np=$np: the restarted job wrote $nimg of $np rank images (status $rc$([ $rc = 124 ] && echo ": killed by the ${TMO} s timeout"))"
        grep -v '^$' "$d/r.err" | tail -6 | sed 's/^/  /'
        return 1
    fi
    restart_job "$np" "$d/s$c2" >"$d/r.out" 2>>"$d/r.err"; rc=$?
    return 0
}
# nsteps FILE: step lines in FILE (0 while it does not exist yet)
nsteps() { local k; k=$(grep -c '^step [0-9]*: ' "$1" 2>/dev/null); echo "${k:-0}"; }
# wait_for_job SECONDS JOBPID CONDITION: evaluates the shell CONDITION every 0.1 s until it
# holds (0), or the job JOBPID ended without it holding, or SECONDS passed (1): a job that
# failed early is not waited out. CONDITION is eval'd here: name no positional parameters in it.
wait_for_job() {
    local _w
    for _w in $(seq $(($1 * 10))); do
        eval "$3" && return 0
        kill -0 "$2" 2>/dev/null || { eval "$3"; return; }
        nap 0.1
    done
    return 1
}
# wait_steps FILE K JOBPID [SECONDS]: until FILE holds K step lines (0), or the job ended or
# SECONDS (default 300) passed (1)
wait_steps() {
    local file=$1 k=$2
    wait_for_job "${4:-300}" "$3" '[ "$(nsteps "$file")" -ge "$k" ]'
}
# show_procs ROOT: ROOT and every process under it, one line each with its state, CPU time and
# where it waits: what a job that did not go on was doing (a spinning rank has a CPU time near
# the wall time, a waiting one sits in a wait channel)
show_procs() {
    local l
    l=$(descendants "$1" | tr '\n' ,)
    [ -n "${l%,}" ] && ps -o pid=,stat=,etime=,time=,wchan:24=,args= -p "${l%,}" | cut -c1-220 | sed 's/^/  ps: /'
}
# descendants ROOT: ROOT and every process under it
descendants() {
    local todo=$1 p q
    while [ -n "$todo" ]; do
        p=${todo%% *}
        [ "$p" = "$todo" ] && todo= || todo=${todo#* }
        echo $p
        for q in $(pgrep -P $p); do todo="$todo $q"; todo=${todo# }; done
    done
}
# running PID: PID is there and not a zombie; its state read from /proc by the shell: the loops
# below look at every PID every 0.1 s, and a $(sed ...) per look was two processes (10 ms of CPU)
running() {
    local l
    read -r l 2>/dev/null </proc/$1/stat || return 1
    l=${l##*) }
    [ "${l%% *}" != Z ]
}
# all_ended WHAT PID...: waits up to 30 s until every PID has ended (gone, or a zombie not yet
# waited for); when some have not, "FAIL: WHAT, still there:" with a ps line each, those killed
# (nothing of the job is left for the next run), and status 1. A job's processes (descendants,
# read before it was signalled) after a signal to its coordinator (sig_status.sh, stop_term.sh).
all_ended() {
    local what=$1 i p left
    shift
    for i in $(seq 300); do
        left=
        for p in "$@"; do running $p && left="$left $p"; done
        [ -z "$left" ] && return 0
        nap 0.1
    done
    failed "$what, still there:"
    ps -o pid=,stat=,args= -p "$(echo $left | tr ' ' ,)" | cut -c1-160 | sed 's/^/  ps: /'
    kill -KILL $left 2>/dev/null
    return 1
}
# ranks_choose_pid: 1 when the ranks (this shell's capabilities) may choose a pid, CAP_SYS_ADMIN
# (21) or CAP_CHECKPOINT_RESTORE (40), as src/pml_hooks/children.c asks; else 0
ranks_choose_pid() {
    local cap
    cap=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
    echo $(( (0x${cap:-0} >> 21 & 1) | (0x${cap:-0} >> 40 & 1) ))
}
# refused KEY WHAT PATTERN [NOT]: the snapshot ckpt.KEY.* (checkpoint) was refused in one line
# matching PATTERN (grep), and not NOT when given
refused() {
    local msg
    msg=$(grep -v 'ms from' ckpt.$1.err)
    if [ "$(printf '%s\n' "$msg" | grep -c .)" != 1 ]; then
        failed "$2: ckpt-mpirun's refusal is not one line:"; printf '%s\n' "$msg" | head -n 5
    elif ! printf '%s\n' "$msg" | grep -q "$3"; then
        failed "$2: the refusal does not match '$3': $msg"
    elif [ -n "${4:-}" ] && printf '%s\n' "$msg" | grep -q "$4"; then
        failed "$2: the refusal names '$4': $msg"
    else
        pass "$2: refused in one line: $msg"
    fi
}
# ran_on JOB KEY WHAT: the job JOB (out.KEY, err.KEY; waited for) ended with status 0 and the
# uninterrupted run's results (native.out)
ran_on() {
    local st
    wait $1; st=$?
    if [ $st != 0 ] || ! cmp -s <(results native.out) <(results out.$2); then
        failed "$3: status $st, results differ from the uninterrupted run's"
        tail -n 3 err.$2
    else
        pass "$3: ran on to the uninterrupted run's results"
    fi
}
# Interruption trials (launch_intr.sh, rst_intr.sh): each trial's job is started in a session of
# its own (R: its leader's pid, its process group's), with a marker MARK (VAR=VALUE) in its
# environment, and names the work folder $d in its command line.
# trial_procs R MARK: the trial's processes still there, not zombies, not this shell: its session,
# those with MARK in their environment (the whole entry: =1 is not =10), those naming $d/
trial_procs() {
    {
        ps -eo pid=,sid=,stat= | awk -v s="$1" '$2 == s && $3 !~ /^Z/ { print $1 }'
        grep -lazxF -- "$2" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3
        pgrep -f "$d/"
    } | sort -u | grep -vx -e $$ -e "$BASHPID" | while read -r p; do
        running $p && echo "$p"
    done
}
# trial_end R BOUND: 0 once R has ended (gone, or a zombie not yet waited for), 1 when it still
# runs BOUND s later
trial_end() {
    local i
    for i in $(seq $(($2 * 10))); do
        running $1 || return 0
        nap 0.1
    done
    running $1 && return 1
    return 0
}
# trial_left R MARK: nothing when the trial's processes are all gone within 10 s; else prints
# "processes left: PID ARGS;..." and kills them
trial_left() {
    local i left
    for i in $(seq 100); do
        left=$(trial_procs "$1" "$2" | tr '\n' ' ')
        [ -z "$left" ] && return 0
        nap 0.1
    done
    echo "processes left: $(ps -o pid=,args= -p "$(echo $left | tr ' ' ,)" | cut -c1-100 | tr '\n' ';')"
    kill -KILL $left 2>/dev/null
}
# coord ROOT: the job's coordinator under ROOT (60 s), or fails at once when ROOT has ended. The
# coordinator is the process with a socket coord.PID in the socket directory (REVIVE_SOCKET_DIR,
# else /tmp/revive-UID: where ckpt-mpirun looks) whose parents lead to ROOT; read from /proc by
# the shell, without a process per look. The walk through every descendant with a pgrep each
# (until session 14) took seconds on a loaded machine, and went on for its whole 60 s after
# the job had ended (rst_fmany-mpich in a CI run at three tests at once).
coord() {
    local dir=${REVIVE_SOCKET_DIR:-/tmp/revive-$EUID} i s p q l comm
    for i in $(seq 600); do
        [ -d /proc/$1 ] || return 1
        for s in "$dir"/coord.*; do
            p=${s##*/coord.} q=${s##*/coord.}
            [ -S "$s" ] && read -r comm 2>/dev/null </proc/$p/comm && [ "$comm" = revive-coord ] || continue
            while [ "$q" -gt 1 ] 2>/dev/null; do
                [ "$q" = "$1" ] && { echo "$p"; return 0; }
                read -r l 2>/dev/null </proc/$q/stat || break
                l=${l##*) } l=${l#* } q=${l%% *} # after "(comm) ": the state, then the parent
            done
        done
        nap 0.1
    done
    return 1
}
# launcher_of COORD: the launcher under a coordinator (launcher_of.sh)
. "$(dirname "${BASH_SOURCE[0]}")/../../snapc/launcher_of.sh" || exit 99
# checkpoint JOBPID NAME [--term]: $CKPT (ckpt-mpirun) --wait on the job's coordinator, output in
# ckpt.NAME.out/.err; prints the snapshot's reference. A caller that waits for the job after a
# failed --term removes the pace file first: a paced program holds before its last step while it
# exists (rst_pace.h). (Not here: drain_abort.sh's job must stay paced after a failed one.)
checkpoint() {
    local c
    if ! c=$(coord $1); then
        if [ -d /proc/$1 ]; then echo "no coordinator under $1 within 60 s" >"ckpt.$2.err"
        else echo "the job ($1) ended before its coordinator was found" >"ckpt.$2.err"; fi
        return 1
    fi
    timeout -k 5 300 "$CKPT" --wait $3 "$c" >"ckpt.$2.out" 2>"ckpt.$2.err" || return 1
    tail -n1 "ckpt.$2.out"
}
# two_snapshots JOB: snapshot 0 of the running job JOB (its mpirun, writing out.0 in this
# directory) once it has done 2 steps, snapshot 1 with --term 2 steps later; JOB waited for. Sets
# ref0 and ref (their references) and jd (their job directory); the test ends (failed) when
# either is not taken or they are not sequences 0 and 1 of one directory. (rst_cwdgone.sh,
# restart_opts.sh: diffrev45 R-L3, the block was copied in each.)
two_snapshots() {
    wait_steps out.0 2 $1 && ref0=$(checkpoint $1 run) &&
        wait_steps out.0 $(($(nsteps out.0) + 2)) $1 && ref=$(checkpoint $1 term --term) ||
        { failed "no snapshots of the job"; tail -n 4 ckpt.*.err err.0; exit 1; }
    wait $1
    jd=$(dirname "$ref")
    [ "$(dirname "$ref0")" = "$jd" ] && [ "${ref0##*/}" = 0 ] && [ "${ref##*/}" = 1 ] ||
        { failed "the snapshots are $ref0 and $ref, expected sequences 0 and 1 of one directory"; exit 1; }
}
# term_restart JOB: a --term snapshot of JOB (ckpt.term.out, ckpt.term.err), JOB waited for, then
# restart-mpi of it at full speed (out.1, err.1) and both generations' results in both.out. Sets
# ref, termst (the --term'd job's status: what --term gives back before MPI_Finalize must end it
# cleanly) and rc (the restart's status); 1 when no snapshot was taken.
term_restart() {
    ref=$(checkpoint $1 term --term) || { rm -f pace; wait $1; return 1; }
    wait $1; termst=$?
    rm -f pace
    clean timeout -k 5 600 "$RESTART" "$ref" >out.1 2>err.1; rc=$?
    results out.0 out.1 >both.out
}
# paced_launch WHAT N: the start of a paced job (paced_term_cycle, rst_refchain.sh's chain): the
# native run of the paced program $prog (arguments STEPS PACEFILE MS: $steps, $ms) at N ranks in the
# work folder d (native.out, native.err), then the pace file made and the job started under
# "mpirun -am ft-enable-cr --ckpt-dir $d" (out.0, err.0), in the background: its pid in job (and
# pids). 1 (a FAIL line naming WHAT) when the native run failed, nothing started.
paced_launch() {
    local what=$1 np=$2
    run_native "$np" "$prog" $steps "$d/nopace" $ms >native.out 2>native.err ||
        { failed "$what: the native run: status $?"; tail -n 3 native.err; return 1; }
    touch pace
    clean timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n "$np" "$prog" $steps "$d/pace" \
        $ms >out.0 2>err.0 &
    job=$!; pids+=($job)
}
# paced_term_cycle WHAT N: the paced program $prog (arguments STEPS PACEFILE MS: $steps, $ms) at
# N ranks in the work folder d (ck_workdir): a native run; a job under "mpirun -am ft-enable-cr"
# ended by "ckpt-mpirun --term" after its second step (the program holds before its last step
# while the pace file exists, so the snapshot cannot come after it) and run to its end by
# restart-mpi (term_restart); its verdict (restart_verdict WHAT). 1 (a FAIL line) when no restart
# was reached, else 0.
paced_term_cycle() {
    local what=$1 np=$2 job
    paced_launch "$what" "$np" || return 1
    if ! wait_steps out.0 2 $job; then
        rm -f pace; wait $job
        failed "$what: generation 0 (no checkpoint yet): status $?, $(nsteps out.0) steps"; tail -n 4 err.0; return 1
    fi
    if ! term_restart $job; then
        failed "$what: ckpt-mpirun --term: $(tail -n 2 ckpt.term.err)"; return 1
    fi
    restart_verdict "$what"
    return 0
}
# restart_verdict WHAT: the verdict on a job ended by "ckpt-mpirun --term" after $(nsteps out.0)
# steps and run to its end by restart-mpi (term_restart: rc, ref, both.out), against the native
# run (native.out) of $steps steps: FAIL (WHAT: ...) when restart-mpi failed (with its messages),
# when the snapshot came after the last step (nothing was used after the restart), or when both
# generations' results differ from the native run's; else PASS (WHAT: ...) with the last line.
restart_verdict() {
    local what=$1
    if [ $rc != 0 ]; then
        failed "$what: restart-mpi $ref: status $rc"; show_err err.1
    elif [ "$(nsteps out.0)" -ge $steps ]; then
        failed "$what: the snapshot came after the last step: nothing was used after the restart"
    elif cmp -s <(results native.out) both.out; then
        pass "$what: snapshot after step $(nsteps out.0), restarted, $(wc -l <both.out) result lines as" \
            "uninterrupted: $(tail -n 1 both.out)"
    else
        failed "$what: the results differ from the uninterrupted run"; diff <(results native.out) both.out | head
    fi
}
# tail_verdict WHAT: the verdict on a restart-mpi (status rc, output out.1, messages err.1) of a
# snapshot taken at a step the test does not know, against the native run (native.out): PASS
# (WHAT: ...) when it ended with status 0 and its result lines are the native run's last ones;
# else FAIL (WHAT: ...) with restart-mpi's messages or the difference.
tail_verdict() {
    local what=$1 n1
    n1=$(results out.1 | wc -l)
    if [ $rc != 0 ]; then
        failed "$what: status $rc"; show_err err.1
    elif [ "$n1" -gt 0 ] && cmp -s <(results native.out | tail -n "$n1") <(results out.1); then
        pass "$what: ended (status 0) with the uninterrupted run's last $n1 result lines"
    else
        failed "$what: the restarted job's results differ from an uninterrupted run's ($n1 lines)"
        diff <(results native.out | tail -n "$n1") <(results out.1) | head -n 6
    fi
}
# no_strays PATTERN: waits up to 30 s for every process whose command line holds PATTERN to end
# ("$d/": started from the folder d; "$d": any naming it, as ranks given the folder itself); prints
# those left and returns 1 when some are. The test's own shell is not counted.
no_strays() {
    local i left
    for i in $(seq 300); do
        left=$(pgrep -f "$1" | grep -vx $$) || return 0
        nap 0.1
    done
    ps -o pid=,args= -p "$(echo $left | tr ' ' ,)"
    return 1
}
# strays_after WHAT: no process with the test's folder d in its command line (no_strays: 30 s for
# exits); those left are named in a FAIL line and killed
strays_after() {
    local left
    left=$(no_strays "$d/") && return 0
    failed "$1: processes left: $left"
    kill -KILL $(awk '{print $1}' <<<"$left") 2>/dev/null
}
# rank_kids JOB: sets r0 (rank 0's pid) and kids (every child of a rank and every helper: the
# rank_child processes under JOB whose parent is a rank_child too) for rank_child.c's job JOB
rank_kids() {
    local p c st
    local -a a
    r0= kids=
    for p in $(descendants $1); do
        read -r c 2>/dev/null </proc/$p/comm || continue
        case $c in rank_child*) ;; *) continue ;; esac
        read -r st 2>/dev/null </proc/$p/stat || continue
        a=(${st##*) }); read -r c 2>/dev/null </proc/${a[1]}/comm
        case $c in
        rank_child*) kids="$kids $p" ;;   # a child of a rank, or a helper
        *) tr '\0' '\n' </proc/$p/environ 2>/dev/null | grep -qxE 'OMPI_COMM_WORLD_RANK=0|PMI_RANK=0' && r0=$p ;;
        esac
    done
}
# stopped_child R0 KIDS: stopped= the first of the pids KIDS in state T whose parent is R0 (0), or
# empty (1); builtins only: polled flat out while a capture stops them (stopped_kill, rank_many.sh)
stopped_child() {
    local p st
    local -a a
    stopped=
    for p in $2; do
        st=; read -r st 2>/dev/null </proc/$p/stat || continue
        a=(${st##*) })
        [ "${a[0]}" = T ] && [ "${a[1]}" = "$1" ] && { stopped=$p; return 0; }
    done
    return 1
}
# job_end_bounded JOB TOOL WHAT: waits up to 120 s for the job JOB to end; else FAIL (WHAT: the
# job did not end, with its processes) and TOOL (a ckpt-mpirun) and every process of the job
# killed: a job whose children hold its pipes is not waited out. Then waits for TOOL and JOB.
job_end_bounded() {
    local job=$1 tool=$2 what=$3 p
    if ! wait_for_job 120 $job '! kill -0 $job 2>/dev/null'; then
        failed "$what: the job did not end: $(show_procs $job)"
        kill -TERM $tool 2>/dev/null
        for p in $(descendants $job); do kill -KILL $p 2>/dev/null; done
    fi
    wait $tool
    wait $job
}
# stopped_kill JOB KEY WHAT HOW: rank_child.c's job JOB (RANK_CHILD_WORKER: a worker and its helper
# per rank, rank_child.sh, rank_many.sh) checkpointed with --term (ckpt.KEY.*), and once one of
# rank 0's children is seen stopped by that capture (polled with builtins only: the stop lasts as
# long as a fault point makes it), HOW kills rank 0 there (eval'd: r0 is rank 0's pid, g its
# process group). Then every child and helper of a rank must end (all_ended; PASS or FAIL "WHAT
# while its child C was stopped by a --term capture: ...") and the job must end within 120 s
# (else FAIL, and it is killed: a job whose children hold its pipes is not waited out). FAIL when
# rank 0 or the children are not found, or no child was seen stopped. Waits for the job.
stopped_kill() {
    local job=$1 key=$2 what=$3 how=$4 st r0 kids g ck hit= stopped
    local -a a
    rank_kids $job
    if [ -z "$r0" ] || [ -z "$kids" ]; then
        failed "$what: rank 0 ($r0) or the ranks' children ($kids) not found"
        wait $job
        return 1
    fi
    read -r st </proc/$r0/stat; a=(${st##*) }); g=${a[2]}
    checkpoint $job $key --term >/dev/null &
    ck=$!
    while [ -z "$hit" ] && kill -0 $ck 2>/dev/null; do
        stopped_child $r0 "$kids" && eval "$how" && hit=$stopped
    done
    if [ -z "$hit" ]; then
        wait $ck
        failed "$what after its --term capture: no child of it seen stopped (ckpt-mpirun: $(grep -v 'ms from' ckpt.$key.err | tail -n 1))"
    elif all_ended "$what while its child $hit was stopped by a --term capture: the ranks' children" $kids; then
        pass "$what while its child $hit was stopped by a --term capture: no child or helper of a rank is left (children$kids)"
    fi
    job_end_bounded $job $ck "$what"
}
# oom_kill PID: what the kernel's OOM killer does to its victim PID: SIGKILL to it and to every
# process sharing its memory (found with kcmp KCMP_VM: threads are its own, other processes made
# with clone(CLONE_VM)); prints the pids killed
oom_kill() {
    python3 - "$1" <<'PY'
import ctypes, os, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
victim = int(sys.argv[1])
killed = [victim]
for p in os.listdir('/proc'):
    # kcmp (312 on x86_64) KCMP_VM (1): 0 when both use the same memory
    if p.isdigit() and int(p) != victim and libc.syscall(312, victim, int(p), 1, 0, 0) == 0:
        killed.append(int(p))
for p in killed:
    try:
        os.kill(p, signal.SIGKILL)
    except OSError:
        pass
print(*killed)
PY
}
# lib_listeners RANK PID...: the listening TCP sockets each PID holds that the launcher's process
# over the rank RANK (its parent: orted, Hydra's proxy, mpirun) does not hold, "PID:INODE ...", or
# nothing. The test programs listen nowhere themselves: such a socket is the MPI library's (Hydra
# leaves its own listening socket open in the ranks it starts: the launcher's, not the library's)
lib_listeners() {
    local r=$1 p i st listening own=" "
    local -a a
    shift
    read -r st 2>/dev/null </proc/$r/stat || return 0
    a=(${st##*) })
    for i in $(ls -l /proc/${a[1]}/fd 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\]$/\1/p'); do own="$own$i "; done
    for p in "$@"; do
        listening=" $(awk 'FNR > 1 && $4 == "0A" { print $10 }' /proc/$p/net/tcp /proc/$p/net/tcp6 2>/dev/null | tr '\n' ' ') "
        for i in $(ls -l /proc/$p/fd 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\]$/\1/p'); do
            case $listening in *" $i "*) case $own in *" $i "*) ;; *) printf '%s ' "$p:$i" ;; esac ;; esac
        done
    done
}
# rank_workers JOB: "RANK WORKER..." per rank of rank_child's job JOB, a line each: its children
# and their children whose command is rank_child's (a worker, its helper; a child of a step)
rank_workers() {
    local p c st r k
    local -a a
    for p in $(descendants $1); do
        read -r c 2>/dev/null </proc/$p/comm || continue
        case $c in rank_child*) ;; *) continue ;; esac
        read -r st 2>/dev/null </proc/$p/stat || continue
        a=(${st##*) }); read -r c 2>/dev/null </proc/${a[1]}/comm
        case $c in rank_child*) continue ;; esac
        r=$p k=
        for c in $(descendants $r); do
            [ $c = $r ] && continue
            read -r st 2>/dev/null </proc/$c/comm && case $st in rank_child*) k="$k $c" ;; esac
        done
        echo "$r$k"
    done
}
# workers_hold_none JOB WHAT: the ranks of rank_child's job JOB hold sockets of their MPI library
# listening (else FAIL: the check below would find nothing anyway) and none of their children
# (workers, helpers) holds one (FAIL naming them, or PASS "WHAT: ...")
workers_hold_none() {
    local line r rl wl n=0 bad= what=$2 all i
    # the look again, 0.2 s apart for up to 10 s, while it finds a rank without a child or none (it
    # found none at times under a load of 35, the workers running: a walk of /proc that lost them)
    for i in $(seq 50); do
        all=$(rank_workers $1)
        printf '%s\n' "$all" | grep -q ' ' && ! printf '%s\n' "$all" | grep -qv ' ' && break
        nap 0.2
    done
    while read -r line; do
        set -- $line
        r=$1; shift
        [ $# -gt 0 ] || continue
        n=$((n + 1))
        rl=$(lib_listeners $r $r)
        [ -n "$rl" ] || { failed "$what: rank $r holds no listening socket of its MPI library: nothing to look for"; return 1; }
        wl=$(lib_listeners $r "$@")
        [ -z "$wl" ] || bad="$bad rank $r's children: $wl;"
    done <<<"$all"
    if [ $n = 0 ]; then
        failed "$what: no rank with a child found (10 s of looks): $(show_procs $1 | head -n 12)"
    elif [ -n "$bad" ]; then
        failed "$what: a rank's forked children hold its MPI library's listening sockets (PID:INODE):$bad"
    else
        pass "$what: the children of $n ranks hold none of their MPI library's listening sockets"
    fi
}
# ck_rounds N TMO NSEQ ARG...: the test of $prog (ck_prog), a program that calls MPIX_Checkpoint
# once a round, whose rank 0 prints "round K ..." lines and last a "done: ..." line (sync_drain,
# sync_later, mpix_b2b, mpix_progress): its native run "$prog ARG..." on N ranks (native.out, in
# the current folder; it must say "done: " and nothing matching $ck_bad when that is set: the
# program's own word that the library broke its check), the job under the coordinator (out.0,
# err.0), which must print the same and leave the sequences 0 to NSEQ-1 in one job directory
# ($j; $seqs lists them), then a job restarted from each sequence K (out.rK, err.rK), which
# must print the native run's lines of rounds K on (want.rK; every other line). Each run is
# bounded by TMO seconds (a hang says so). Messages start with "np=N: ". 0 when all held, else 1
# having said FAIL (the three tests repeated this loop: one fix of it, one place).
ck_rounds() {
    local n=$1 tmo=$2 nseq=$3 rc k bad= wantseqs
    shift 3
    wantseqs=$(seq 0 $((nseq - 1)) | tr '\n' ' ')
    run_native "$n" "$prog" "$@" >native.out 2>native.err ||
        { failed "np=$n: the native run: status $?"; show_err native.err; return 1; }
    if { [ -n "${ck_bad:-}" ] && grep -q -- "$ck_bad" native.out; } || ! grep -q '^done: ' native.out; then
        failed "np=$n: the native run itself fails the program's checks"; sed 's/^/  /' native.out; return 1
    fi
    clean timeout -k 5 "$tmo" "$wrapper" -am ft-enable-cr --ckpt-dir "$d" --ckpt-keep $((nseq + 2)) \
        -n "$n" "$prog" "$@" >out.0 2>err.0; rc=$?
    j=$(ls -d "$d"/revive_global_snapshot_*.ckpt 2>/dev/null)
    seqs=$(ls "$j" 2>/dev/null | grep -x '[0-9]*' | sort -n | tr '\n' ' ')
    if [ $rc != 0 ] || ! cmp -s native.out out.0; then
        failed "np=$n: the job that runs on after its snapshots: status $rc$([ $rc = 124 ] && echo " (hung: ${tmo} s timeout)")$(cmp -s native.out out.0 || echo ', output differs from native')"
        diff native.out out.0 | head -12 | sed 's/^/  /'; show_err err.0; return 1
    fi
    if [ "$(echo "$j" | grep -c .)" != 1 ] || [ "$seqs" != "$wantseqs" ]; then
        failed "np=$n: $nseq MPIX_Checkpoint calls left job directories ${j:-none}, sequences ${seqs:-none} (want $wantseqs)"
        show_err err.0; return 1
    fi
    for k in $seqs; do
        # the restarted job prints from round k on: the native run's lines of those rounds
        awk -v k=$k '!/^round / || $2 + 0 >= k' native.out >want.r$k
        clean timeout -k 5 "$tmo" "$RESTART" "$j/$k" >out.r$k 2>err.r$k; rc=$?
        if [ $rc != 0 ] || ! cmp -s want.r$k out.r$k; then
            bad="$bad; sequence $k: status $rc$([ $rc = 124 ] && echo " (hung: ${tmo} s timeout)")$(cmp -s want.r$k out.r$k || echo ', output differs from native')"
            diff want.r$k out.r$k | head -12 | sed 's/^/  /'; show_err err.r$k
        fi
    done
    [ -z "$bad" ] && return 0
    failed "np=$n: restarts: ${bad#; }"
    return 1
}
