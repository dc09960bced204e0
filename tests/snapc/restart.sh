#!/bin/bash
# restart-mpi and the coordinator's restart mode with fake ranks (the fake rank restores its
# sequence numbers and place in the schedule from its image, standing in for
# revive-restart-rank): a job checkpointed with --term and restarted finishes with the result
# of an uninterrupted run; a chain of 10 restart -> checkpoint -> restart generations, each
# generation's snapshots beside the old ones with the parent recorded; --showme; refusals (a
# damaged or uncommitted snapshot, another number of ranks, a changed binary, no restarter);
# a failed restart is recorded and the next default restart skips that sequence; two restarts
# of one snapshot at once: the second refused (restart_lock.c).
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-restart
export REVIVE_RESTART_RANK=$FRANK REVIVE_COORD_BIN=$COORD

opts="--iters 20000 --sleep-us 300 --seed 11"
# the uninterrupted answer
"$COORD" --flavor fake -- "$FLAUNCH" -np 4 "$FRANK" $opts >"$W/native.out" 2>"$W/native.err" ||
    { fail "the uninterrupted run failed"; cat "$W/native.err"; }
sort "$W/native.out" >"$W/native.sorted"
[ "$(grep -c done "$W/native.sorted")" = 4 ] || fail "uninterrupted: $(cat "$W/native.out")"

# checkpoint with --term, then restart: the same answer
start_job a 4 $opts
expect_rc 0 "--term" "$CKPT" --term $JOB
ref=$(tail -n1 "$W/cmd.out")
wait $JOB
expect_rc 0 "--showme" "$RESTART" --showme "$ref"
grep -q "fake_launch -np 4 $FRANK $ref\$" "$W/cmd.out" || fail "--showme: $(cat "$W/cmd.out")"
echo localhost >"$W/hosts"
expect_rc 0 "--showme --hostfile and extra options" "$RESTART" --showme --hostfile "$W/hosts" -- --extra 1 "$ref"
grep -q "fake_launch -f $W/hosts --extra 1 -np 4 $FRANK $ref\$" "$W/cmd.out" || fail "--hostfile: $(cat "$W/cmd.out")"
cd /   # restart from any directory
"$RESTART" "$ref" >"$W/r1.out" 2>"$W/r1.err"
rc=$?
cd "$W"
[ $rc = 0 ] || { fail "restart: status $rc"; cat "$W/r1.err"; }
sort "$W/r1.out" | grep done >"$W/r1.sorted"
cmp -s "$W/native.sorted" "$W/r1.sorted" || { fail "restarted answer differs"; diff "$W/native.sorted" "$W/r1.sorted"; }
# this host's cached copy of the snapshot (kept after --term) holds no failed-restart record:
# no restart of it ever failed (newuser13: "restart.failed" saying "failed_restarts 0" in the
# cache of every snapshot restarted)
acache=$W/revive-local-$(id -u)/$(basename "$(dirname "$ref")")/$(basename "$ref")
[ -f "$acache/rank_0.img" ] || fail "no cached copy of the --term snapshot at $acache: $(ls -R "$W/revive-local-$(id -u)" 2>&1 | head -5)"
[ -e "$acache/restart.failed" ] && fail "a restart that succeeded, none failed, wrote $acache/restart.failed: $(cat "$acache/restart.failed")"
pass "checkpoint --term, restart: the uninterrupted answer"

# one restart of a snapshot at a time: a second restart-mpi is refused in one line while the
# first runs; the note of a restart that was killed (SIGKILL: it removed nothing) holds no later
# restart back
tree() { local p; echo $1; for p in $(pgrep -P $1); do tree $p; done; }
start_job conc 2 --iters 1000000 --sleep-us 300
expect_rc 0 "--term (for the concurrent restarts)" "$CKPT" --term $JOB
cref=$(tail -n1 "$W/cmd.out")
wait $JOB
"$RESTART" "$cref" >"$W/c1.out" 2>"$W/c1.err" &
rp=$!; jobs_started="$jobs_started $rp"
if wait_for 60 '[ "$(cat /proc/$rp/comm 2>/dev/null)" = revive-coord ]'; then
    expect_rc 1 "a second restart of the same snapshot" "$RESTART" "$cref" &&
        err_has "is being restarted already, by process $rp"
    [ "$(grep -c . "$W/cmd.err")" = 1 ] || fail "more than one line: $(cat "$W/cmd.err")"
    kill -KILL $(tree $rp) 2>/dev/null
    wait $rp 2>/dev/null
    "$RESTART" "$cref" >"$W/c2.out" 2>"$W/c2.err" &
    rp=$!; jobs_started="$jobs_started $rp"
    wait_exec $rp
    expect_rc 0 "a restart after the first was killed" "$CKPT" --wait --term $rp ||
        { wait $rp; cat "$W/c2.err"; }
    wait $rp
    pass "a second restart of one snapshot refused while the first runs; a killed one's note is stale"
else
    fail "the first restart did not start: $(cat "$W/c1.err")"
fi

# a chain of 10 generations: each restarted job is checkpointed with --term and restarted
gen_ref=$ref
for g in $(seq 1 10); do
    "$RESTART" "$gen_ref" >"$W/g$g.out" 2>"$W/g$g.err" &
    rp=$!
    jobs_started="$jobs_started $rp"
    # (restart-mpi checks the snapshot before it becomes the coordinator: --wait waits for that)
    wait_exec $rp
    if ! expect_rc 0 "generation $g: checkpoint" "$CKPT" --wait --term $rp; then
        wait $rp; cat "$W/g$g.err"; break
    fi
    new=$(tail -n1 "$W/cmd.out")
    wait $rp
    case $new in "$W"/revive_global_snapshot_$rp.ckpt/0) ;; *) fail "generation $g: snapshot at $new" ;; esac
    grep -q "^parent.jobdir ${gen_ref%/*}$" "$new/snapshot.meta" || fail "generation $g: no parent recorded"
    consistent "$new" 4
    gen_ref=$new
done
"$RESTART" "$gen_ref" >"$W/last.out" 2>"$W/last.err" || fail "the last generation: $(cat "$W/last.err")"
sort "$W/last.out" | grep done >"$W/last.sorted"
cmp -s "$W/native.sorted" "$W/last.sorted" || { fail "answer after 10 generations differs"; diff "$W/native.sorted" "$W/last.sorted"; }
no_strays
pass "10 generations of restart -> checkpoint -> restart: the uninterrupted answer"

# refusals: one clear message, status 1, nothing started
jd=${ref%/*}
expect_rc 1 "another number of ranks" "$RESTART" --showme -- -np 2 "$ref" && err_has "the snapshot has 4 ranks; a restart runs exactly 4 (not -np 2)"
expect_rc 1 "another number of ranks, --np=N" "$RESTART" --showme -- --np=2 "$ref" && err_has "the snapshot has 4 ranks; a restart runs exactly 4 (not --np=2)"
mkdir -m 700 "$jd/5"
expect_rc 1 "an uncommitted sequence" "$RESTART" "$jd/5" && err_has "is not committed"
rmdir "$jd/5"
expect_rc 1 "a sequence that is not there" "$RESTART" --seq 9 "$jd" && err_has "has no sequence 9"
REVIVE_RESTART_RANK=$W/none expect_rc 1 "no restarter" "$RESTART" "$ref" && err_has "$W/none is missing"
cp -a "$ref" "$jd/7"; printf X | dd of="$jd/7/rank_2.img" bs=1 seek=200 conv=notrunc status=none
expect_rc 1 "a damaged image" "$RESTART" "$jd/7" && err_has "is damaged"
rm -rf "$jd/7"
# a changed application binary
mkdir "$W/bin"; cp "$FRANK" "$W/bin/fake_rank"
( clean_exec REVIVE_VERBOSE=2 "$COORD" --flavor fake -- "$FLAUNCH" -np 2 "$W/bin/fake_rank" --iters 1000000 \
    --sleep-us 300 --ready "$W/b.ready" ) >"$W/b.out" 2>"$W/b.err" &
JOB=$!; jobs_started="$jobs_started $JOB"; mkdir -p "$W/b.ready"
wait_for 60 '[ "$(ls "$W/b.ready" | wc -l)" -ge 2 ]' || fail "the job of a copied binary did not start"
expect_rc 0 "a job of a copied binary" "$CKPT" --term $JOB
bref=$(tail -n1 "$W/cmd.out"); wait $JOB
# only its time changed (put back with cp: the same size and build id): taken, with a warning
touch -d '2001-01-01' "$W/bin/fake_rank"
REVIVE_RESTART_RANK=$W/bin/fake_rank expect_rc 0 "a binary put back with cp" "$RESTART" --showme "$bref" &&
    err_has "restart-mpi: warning: the application binary $W/bin/fake_rank has another modification time than when the snapshot was taken, but the same size and build id"
printf '\0' >>"$W/bin/fake_rank"
REVIVE_RESTART_RANK=$W/bin/fake_rank expect_rc 1 "a changed binary" "$RESTART" "$bref" &&
    err_has "the application binary $W/bin/fake_rank changed since the snapshot was taken (its size differs)"
# a binary without a build id (-Wl,--build-id=none; here the note removed) rebuilt with the same
# size and its old modification time put back (cp -p, rsync -t): its content differs, refused
# (newuser7 F4: taken for the same file, the restart ran the new code); only its time changed:
# taken, with a warning naming the content
if objcopy --remove-section .note.gnu.build-id "$FRANK" "$W/bin/nobid" 2>/dev/null &&
    ! readelf -n "$W/bin/nobid" 2>/dev/null | grep -q "Build ID"; then
    ( clean_exec REVIVE_VERBOSE=2 "$COORD" --flavor fake -- "$FLAUNCH" -np 2 "$W/bin/nobid" --iters 1000000 \
        --sleep-us 300 --ready "$W/n.ready" ) >"$W/n.out" 2>"$W/n.err" &
    JOB=$!; jobs_started="$jobs_started $JOB"; mkdir -p "$W/n.ready"
    wait_for 60 '[ "$(ls "$W/n.ready" | wc -l)" -ge 2 ]' || fail "the job of a binary without a build id did not start"
    expect_rc 0 "a job of a binary without a build id" "$CKPT" --term $JOB
    nref=$(tail -n1 "$W/cmd.out"); wait $JOB
    mt=$(sed -n 's/^app.mtime_ns //p' "$nref/snapshot.meta")
    grep -q "^app.build_id none$" "$nref/snapshot.meta" || fail "the binary without a build id has one in the metadata"
    touch -d '2001-01-01' "$W/bin/nobid"
    REVIVE_RESTART_RANK=$W/bin/nobid expect_rc 0 "a binary without a build id put back with cp" "$RESTART" --showme "$nref" &&
        err_has "restart-mpi: warning: the application binary $W/bin/nobid has another modification time than when the snapshot was taken, but the same size and content"
    # one byte of its .comment (the compiler's name) changed: the same size, other content
    python3 - "$W/bin/nobid" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
i = b.find(b'GCC: (')
if i < 0:
    sys.exit(1)
b[i] = ord('g')
open(p, 'wb').write(b)
PY
    [ -n "$mt" ] && touch -d "@${mt%?????????}.${mt: -9}" "$W/bin/nobid"
    REVIVE_RESTART_RANK=$W/bin/nobid expect_rc 1 "a binary without a build id rebuilt, same size, its time put back" \
        "$RESTART" --showme "$nref" &&
        err_has "the application binary $W/bin/nobid changed since the snapshot was taken (its content differs)"
else
    echo "SKIP-PART: a binary without a build id (objcopy cannot remove the note here)"
fi
# a changed MPI library (FAKE_MPI_LIBRARY: the fake ranks report it as theirs and their images map
# it; named by a link, as the loader names libmpi.so.40, while the images name the file linked to)
cp "$FLAUNCH" "$W/bin/libfakempi.so.1.0" && ln -s libfakempi.so.1.0 "$W/bin/libfakempi.so"
( clean_exec REVIVE_VERBOSE=2 FAKE_MPI_LIBRARY=$W/bin/libfakempi.so "$COORD" --flavor fake -- "$FLAUNCH" -np 2 \
    "$FRANK" --iters 1000000 --sleep-us 300 --ready "$W/l.ready" ) >"$W/l.out" 2>"$W/l.err" &
JOB=$!; jobs_started="$jobs_started $JOB"; mkdir -p "$W/l.ready"
wait_for 60 '[ "$(ls "$W/l.ready" | wc -l)" -ge 2 ]' || fail "the job of a fake MPI library did not start"
expect_rc 0 "a job of a fake MPI library" "$CKPT" --term $JOB
lref=$(tail -n1 "$W/cmd.out"); wait $JOB
grep -q "^mpi.path $W/bin/libfakempi.so$" "$lref/snapshot.meta" || fail "the MPI library is not in the metadata: $(grep ^mpi "$lref/snapshot.meta")"
expect_rc 0 "the MPI library unchanged" "$RESTART" --showme "$lref"
touch -d '2001-01-01' "$W/bin/libfakempi.so"
expect_rc 0 "an MPI library put back with cp" "$RESTART" --showme "$lref" &&
    err_has "restart-mpi: warning: the MPI library $W/bin/libfakempi.so has another modification time than when the snapshot was taken, but the same size and build id"
# once (diffrev20 LOW-J: the ranks' mapping of it was warned about again)
nw=$(grep -c 'libfakempi' "$W/cmd.err")
[ "$nw" = 1 ] || { fail "an MPI library put back with cp: $nw lines name it, not 1:"; sed 's/^/    /' "$W/cmd.err"; }
printf '\0' >>"$W/bin/libfakempi.so"
expect_rc 1 "a changed MPI library" "$RESTART" --showme "$lref" &&
    err_has "the MPI library $W/bin/libfakempi.so changed since the snapshot was taken (its size differs)"
pass "refusals"

# a restart that fails (the ranks never come back) is recorded; the default skips that sequence
start_job c 2 $opts
expect_rc 0 "c: snapshot 0" "$CKPT" $JOB
expect_rc 0 "c: snapshot 1" "$CKPT" --term $JOB
wait $JOB
jc=$W/revive_global_snapshot_$JOB.ckpt
# a launch that fails before any rank begins its restore (here the "restarter" is
# /bin/false; a launcher option typo does the same): not the snapshot's failure, not marked
REVIVE_RESTART_RANK=/bin/false expect_rc 1 "a restart whose launch fails" "$RESTART" "$jc/1" &&
    err_has "before any rank began its restore"
grep -q "failed_restarts" "$jc/index" && fail "a failed launch marked the snapshot: $(cat "$jc/index")"
# a signal to restart-mpi (now the coordinator) while the launch starts, before any rank begins:
# said as such, not "the launcher failed"; not marked (the "restarter" waits to be ended). SIGTERM
# (1a42497), and SIGINT and SIGHUP at the same moment (a ^C, a closed terminal); the default
# action of each restored for restart-mpi (a background job of a script ignores SIGINT)
printf '#!/bin/sh\necho $$ > "%s"\nexec sleep 60\n' "$W/slow.started" >"$W/slow_restarter"
chmod 700 "$W/slow_restarter"
for sig in TERM INT HUP; do
    rm -f "$W/slow.started"
    ( REVIVE_RESTART_RANK=$W/slow_restarter clean_exec --default-signal=INT,HUP,TERM "$RESTART" "$jc/1" \
        >"$W/cmd.out" 2>"$W/cmd.err" ) &
    rpid=$!
    if wait_for 60 '[ -e "$W/slow.started" ]'; then
        kill -$sig $rpid
        wait_for 60 '! kill -0 $rpid 2>/dev/null' || fail "SIG$sig: restart-mpi did not end within 60 s"
        wait $rpid; rc=$?
        want=$((128 + $(kill -l $sig)))
        [ "$rc" = $want ] || fail "a restart ended by SIG$sig during its launch exited $rc, not $want"
        err_has "the restarted job was ended by SIG$sig" && ! grep -q "the launcher failed" "$W/cmd.err" ||
            fail "a SIG$sig during the launch was blamed on the launcher"
        grep -q "failed_restarts" "$jc/index" && fail "a restart ended by SIG$sig marked the snapshot: $(cat "$jc/index")"
        kill "$(cat "$W/slow.started")" 2>/dev/null # the fake launcher does not end its ranks
    else
        fail "SIG$sig: the slow restarter never started"; kill -TERM $rpid; wait $rpid
    fi
done
# the snapshot removed while the restart starts (here by the "restarter" itself, before any rank
# begins): the coordinator says it is gone, not that the launcher failed (review8 R3)
cp -a "$jc" "$W/gone.ckpt"
printf '#!/bin/sh\nrm -rf "%s"\nexit 1\n' "$W/gone.ckpt" >"$W/rm_restarter"
chmod 700 "$W/rm_restarter"
REVIVE_RESTART_RANK=$W/rm_restarter expect_rc 1 "a restart whose snapshot is removed" "$RESTART" "$W/gone.ckpt/1" &&
    err_has "$W/gone.ckpt/1 is gone (removed during the restart?)"
grep -q "the launcher failed" "$W/cmd.err" && fail "a removed snapshot was blamed on the launcher"
# the launcher dies of SIGPIPE before any rank begins (MPICH's mpiexec does at times, without a
# word; here the "restarter" sends it): said as such, not marked, not launched again
printf '#!/bin/sh\nkill -PIPE $PPID\nexit 1\n' >"$W/pipe_restarter"
chmod 700 "$W/pipe_restarter"
REVIVE_RESTART_RANK=$W/pipe_restarter "$RESTART" "$jc/1" >"$W/cmd.out" 2>"$W/cmd.err"
rc=$?
[ $rc != 0 ] || fail "a restart whose launcher died of SIGPIPE exited 0"
err_has "the restarted job's launcher died of SIGPIPE (status 141) before any rank began its restore, without a word (MPICH's mpiexec does at times); $jc/1 is not marked as failed: run restart-mpi again"
grep -q "failed_restarts" "$jc/index" && fail "a launcher's SIGPIPE marked the snapshot: $(cat "$jc/index")"
# a rank that cannot restore its image marks the sequence
FAKE_RESTORE_FAIL=1 expect_rc 1 "a restart whose ranks fail" "$RESTART" "$jc/1" &&
    err_has "cannot restore $jc/1; recorded in its index"
grep -q "seq.1.failed_restarts 1" "$jc/index" || fail "the failed restart is not in the index: $(cat "$jc/index")"
expect_rc 0 "--showme after a failed restart" "$RESTART" --showme "$jc"
grep -q "$jc/0\$" "$W/cmd.out" || fail "the default restart did not skip the failed sequence: $(cat "$W/cmd.out")"
expect_rc 0 "ckpt-info shows the failed restart" "$INFO" "$jc"
grep -q "1 failed restart" "$W/cmd.out" || fail "ckpt-info: $(cat "$W/cmd.out")"
pass "failed restart recorded, skipped by default"
# a later restart of that sequence that succeeds clears its mark
ccache=$W/revive-local-$(id -u)/$(basename "$jc")/1
grep -q "^failed_restarts 1$" "$ccache/restart.failed" ||
    fail "the failed restart is not marked in this host's cached copy: $(cat "$ccache/restart.failed" 2>&1)"
expect_rc 0 "a successful restart of the marked sequence" "$RESTART" "$jc/1"
grep -q "failed_restarts" "$jc/index" && fail "the mark stayed after a successful restart: $(cat "$jc/index")"
# the cached copy's mark outweighed by the success (local_failed.h)
grep -q "^failed_restarts 0$" "$ccache/restart.failed" ||
    fail "the success is not recorded over the cached copy's mark: $(cat "$ccache/restart.failed" 2>&1)"
ls -a "$jc" | grep -q '^\.restart\.' && fail "the restart's progress files were left: $(ls -a "$jc")"
pass "a successful restart clears the failed mark"
# a damaged index costs only the failed-restart marks, said once per process (review9 F4: twice
# from ckpt-info --verify, up to five times from restart-mpi); a restart too says it once, though
# restart-mpi and the coordinator it execs both scan the directory (it said it twice)
head -c 200 /dev/urandom | tr '\0' x >"$jc/index"
for cmd in "1 $INFO --verify" "1 $RESTART --showme" "1 $RESTART"; do
    set -- $cmd
    want=$1
    shift
    expect_rc 0 "${*##*/} with a damaged index" "$@" "$jc"
    n=$(grep -c "it is ignored (the failed-restart marks it held are lost)" "$W/cmd.err")
    [ "$n" = "$want" ] || fail "${*##*/} with a damaged index warned $n times, not $want: $(cat "$W/cmd.err")"
done
pass "a damaged index: one warning per process"
finish
