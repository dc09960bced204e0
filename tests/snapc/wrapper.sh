#!/bin/bash
# Revive's mpirun wrapper with -am ft-enable-cr, without MPI: REVIVE_MPI=ompi makes it take the
# fake rank for an Open MPI program and a stand-in for mpirun.openmpi drops the Open MPI options
# (-mca, -x) and runs fake_launch. Shown: the wrapper's pid is the coordinator's (ckpt-mpirun
# PID works), the ranks get REVIVE_COORD/REVIVE_JOB_SECRET/REVIVE_JOB_ID, --ckpt-interval,
# --ckpt-keep and --ckpt-dir (both spellings) work, the metadata keeps the user's arguments
# (not the wrapper's), the --ckpt-* options are refused without -am ft-enable-cr, and a --ckpt-dir
# not there yet is made 0700 when its parent exists (refused with the remedy when not).
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-wrapper
WRAP=$B/tools/mpi/mpirun
[ -x "$WRAP" ] || { echo "SKIP: $WRAP not built"; exit 77; }

cat >"$W/mpirun.openmpi" <<EOS
#!/bin/bash
# stand-in for Open MPI's mpirun: drops -mca A B and -x NAME, checks the variables are there
args=()
while [ \$# -gt 0 ]; do
    case \$1 in
    -mca) shift 3 ;;
    -x) [ -n "\${!2}" ] || { echo "stand-in: \$2 is not set" >&2; exit 9; }; shift 2 ;;
    *) args+=("\$1"); shift ;;
    esac
done
exec "$FLAUNCH" "\${args[@]}"
EOS
chmod +x "$W/mpirun.openmpi"
export REVIVE_MPI=ompi REVIVE_MPIEXEC_OMPI=$W/mpirun.openmpi REVIVE_COORD_BIN=$COORD
export REVIVE_EXEC=$B/tools/mpi/revive-exec

mkdir -m 700 "$W/snaps" "$W/r.ready"
( clean_exec REVIVE_VERBOSE=2 "$WRAP" -am ft-enable-cr --ckpt-interval 1 --ckpt-keep=2 \
    --ckpt-dir "$W/snaps" -np 3 "$FRANK" --ready "$W/r.ready" --iters 1000000 --sleep-us 300 \
    --ckpt-dir-of-the-app ) \
    >"$W/r.out" 2>"$W/r.err" &
JOB=$!; jobs_started="$jobs_started $JOB"
wait_for 120 '[ "$(ls "$W/r.ready" | wc -l)" -ge 3 ]' || { fail "the job did not start"; cat "$W/r.err"; }
[ "$(cat /proc/$JOB/comm)" = revive-coord ] || fail "the wrapper's pid runs $(cat /proc/$JOB/comm)"
expect_rc 0 "ckpt-mpirun on the wrapper's pid" "$CKPT" --wait $JOB
ref=$(tail -n1 "$W/cmd.out")
case $ref in "$W/snaps/revive_global_snapshot_$JOB.ckpt/"*) ;; *) fail "--ckpt-dir: $ref" ;; esac
jd=$W/snaps/revive_global_snapshot_$JOB.ckpt
wait_for 120 '[ "$(newest_committed "$jd")" -ge 3 ]' ||
    fail "--ckpt-interval 1: only $(( $(newest_committed "$jd") + 1 )) snapshots in 120 s"
# (3 for a moment between a commit and its retention)
wait_for 60 '[ "$(committed "$jd")" = 2 ]' || fail "--ckpt-interval 1 --ckpt-keep=2: $(committed "$jd") committed sequences"
# read under a shared lock: retention leaves it alone meanwhile
last=$(newest_committed "$jd")
exec 9<"$jd/$last" && flock -s 9
m=$W/last.meta
cp "$jd/$last/snapshot.meta" "$m" || fail "sequence $last went away"
exec 9<&-
grep -qx "launcher.arg.0 -np" "$m" && grep -qx "launcher.progs 2" "$m" && grep -qx "launcher.path $W/mpirun.openmpi" "$m" &&
    grep -qx "launcher.flavor ompi" "$m" || { fail "the metadata's launcher"; grep launcher "$m"; }
grep -Eq "^launcher.arg.[0-9]+ (--ckpt-(interval|keep(=.*)?|dir)|-am|ft-enable-cr|orte_fork_agent)$" "$m" &&
    fail "the wrapper's own options are in the metadata"
grep -q "^launcher.arg.[0-9]* --ckpt-dir-of-the-app$" "$m" || fail "the program's own --ckpt-* argument was taken"
pgrep -f -- "--ckpt-dir-of-the-app" >/dev/null || fail "the program did not get its --ckpt-* argument"
grep -qx "ckpt.interval_s 1" "$m" && grep -qx "ckpt.keep 2" "$m" || fail "interval/keep not recorded"
kill -TERM $JOB; wait $JOB
no_strays
pass "mpirun -am ft-enable-cr --ckpt-interval/--ckpt-keep/--ckpt-dir"

expect_rc 1 "--ckpt-interval without ft-enable-cr" "$WRAP" --ckpt-interval 5 -np 1 /bin/true &&
    err_has "--ckpt-interval needs -am ft-enable-cr"
expect_rc 1 "a bad --ckpt-keep" "$WRAP" -am ft-enable-cr --ckpt-keep x -np 1 "$FRANK" &&
    err_has "--ckpt-keep needs a whole number, 0 or more (got 'x')"
# 0.5 is a number of 0 or more: the message says what is taken (newuser7e F4), in each form
expect_rc 1 "--ckpt-interval=0.5" "$WRAP" -am ft-enable-cr --ckpt-interval=0.5 -np 1 "$FRANK" &&
    err_has "--ckpt-interval needs a whole number of seconds, 0 or more (got '0.5')"
expect_rc 1 "--ckpt-interval 0.5" "$WRAP" -am ft-enable-cr --ckpt-interval 0.5 -np 1 "$FRANK" &&
    err_has "--ckpt-interval needs a whole number of seconds, 0 or more (got '0.5')"
expect_rc 1 "--ckpt-stage-bw 1.5" "$WRAP" -am ft-enable-cr --ckpt-stage-bw 1.5 -np 1 "$FRANK" &&
    err_has "--ckpt-stage-bw needs a whole number of bytes per second, 0 or more (got '1.5')"
expect_rc 1 "a --ckpt-dir whose parent is not there" "$WRAP" -am ft-enable-cr --ckpt-dir "$W/nothing/snaps" -np 1 "$FRANK" &&
    err_has "the snapshot directory $W/nothing/snaps does not exist, nor does its parent; create it with 'mkdir -p $W/nothing/snaps'"
[ -e "$W/nothing" ] && fail "a missing parent of --ckpt-dir was made"
REVIVE_CKPT_INTERVAL=abc expect_rc 1 "a bad REVIVE_CKPT_INTERVAL" "$WRAP" -am ft-enable-cr -np 1 "$FRANK" &&
    err_has "REVIVE_CKPT_INTERVAL needs a whole number of seconds from 0 to 100000000 (got 'abc')"
REVIVE_CKPT_INTERVAL=0.5 expect_rc 1 "REVIVE_CKPT_INTERVAL=0.5" "$WRAP" -am ft-enable-cr -np 1 "$FRANK" &&
    err_has "REVIVE_CKPT_INTERVAL needs a whole number of seconds from 0 to 100000000 (got '0.5')"
REVIVE_CKPT_KEEP=-1 expect_rc 1 "REVIVE_CKPT_KEEP=-1" "$WRAP" -am ft-enable-cr -np 1 "$FRANK" &&
    err_has "REVIVE_CKPT_KEEP needs a whole number from 0 to 100000000 (got '-1')"
if [ -d /proc/self ]; then
    expect_rc 1 "--ckpt-dir /proc (nothing can be made there)" "$WRAP" -am ft-enable-cr --ckpt-dir /proc -np 1 "$FRANK" &&
        err_has "cannot write snapshots into /proc"
fi
pass "bad --ckpt-* options"

# a --ckpt-dir (REVIVE_SNAPSHOT_DIR) that is not there but whose parent is: made 0700 and said so
# (as ompi-checkpoint made its snapshot directory); the job runs
expect_rc 0 "a --ckpt-dir that is not there yet" "$WRAP" -am ft-enable-cr --ckpt-dir "$W/fresh" -np 1 "$FRANK" --iters 10 &&
    err_has "created the snapshot directory $W/fresh (mode 0700)"
[ "$(stat -c %a "$W/fresh" 2>/dev/null)" = 700 ] || fail "--ckpt-dir $W/fresh: mode $(stat -c %a "$W/fresh" 2>&1)"
REVIVE_SNAPSHOT_DIR=$W/fresh2 expect_rc 0 "a REVIVE_SNAPSHOT_DIR that is not there yet" "$WRAP" -am ft-enable-cr -np 1 "$FRANK" --iters 10 &&
    err_has "created the snapshot directory $W/fresh2 (mode 0700)"
[ "$(stat -c %a "$W/fresh2" 2>/dev/null)" = 700 ] || fail "REVIVE_SNAPSHOT_DIR $W/fresh2: mode $(stat -c %a "$W/fresh2" 2>&1)"
# one that exists is taken as it is: no message
expect_rc 0 "an existing --ckpt-dir" "$WRAP" -am ft-enable-cr --ckpt-dir "$W/fresh" -np 1 "$FRANK" --iters 10 &&
    grep -q "created the snapshot directory" "$W/cmd.err" && fail "an existing --ckpt-dir was reported as created"
pass "a missing --ckpt-dir is made (0700) when its parent exists"

# started with SIGINT and SIGQUIT ignored (in the background of a script), on a host whose env has
# no --default-signal (coreutils before 8.31, as RHEL 8: an env that refuses it as that one does,
# status 125): the wrapper runs itself again with both at their default all the same, and the job
# runs (diffrev45 R-L7: configure's answer, baked in, made every such job fail at once with
# "env: unrecognized option"); a ^C to the job's group then ends it
mkdir -p "$W/oldenv" "$W/i.ready"
cat >"$W/oldenv/env" <<'EOS'
#!/bin/bash
for a; do case $a in --default-signal*) echo "env: unrecognized option '$a'" >&2; exit 125 ;; esac; done
exec /usr/bin/env "$@"
EOS
chmod +x "$W/oldenv/env"
( PATH=$W/oldenv:$PATH; trap '' INT QUIT
  exec "$WRAP" -am ft-enable-cr -np 2 "$FRANK" --ready "$W/i.ready" --iters $UNTIL_KILLED --sleep-us 300 ) \
    >"$W/i.out" 2>"$W/i.err" &
JOB=$!; jobs_started="$jobs_started $JOB"
if wait_for 120 '[ "$(ls "$W/i.ready" | wc -l)" -ge 2 ]'; then
    grep -q "^SigIgn:.*" /proc/$JOB/status && (( (16#$(sed -n 's/^SigIgn:\s*//p' /proc/$JOB/status) & 0x6) == 0 )) ||
        fail "the job's coordinator still ignores SIGINT or SIGQUIT: $(grep SigIgn /proc/$JOB/status)"
    kill -INT -- -$JOB 2>/dev/null || kill -INT $JOB
    job_gone $JOB 60 || fail "a ^C did not end the job started with SIGINT ignored"
else
    fail "the job started with SIGINT ignored, env without --default-signal, did not run: $(head -c 400 "$W/i.err")"
    kill -TERM $JOB 2>/dev/null
fi
wait $JOB 2>/dev/null
pass "SIGINT ignored on entry, env without --default-signal: the job runs, a ^C ends it"
finish
