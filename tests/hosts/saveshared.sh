#!/bin/bash
# saveshared.sh FLAVOR (diffrev35 R-M3 (a)): --save-shared with a node-local file of one path on
# two hosts. A 4-rank job on h1:2,h2:2 (tests/mpi/ckpt/save_shared.c, SAVE_SHARED_ONE=node): the
# two ranks of each host map $HB/local/cnt.all (the bed's node-local directory, every host's
# TMPDIR: one path, each host its own file), made by the host's first rank, which writes its
# host's name into it; each host's second (odd) rank runs a thread adding to it outside MPI and
# is parked 1 s late (mpi-park-late), so that the two copies of each host's file differ. A
# --term --save-shared snapshot, then both hosts' files overwritten, then restart-mpi on h1,h2:
# each host's file must come back from its own snapshot bytes: restart-mpi says one writer per
# host (rank 1 on h1, rank 3 on h2: the copies read last), ranks 1 and 3 find their files at
# their own counts, no rank finds another host's name in its file, results == native. With a
# writer per PATH across hosts (00c3afb, reverted) one host's file was left as overwritten. Then
# again from the same snapshot with rank 3's image (the writer on h2) only in h2's node-local
# cache: restart-mpi fetches it and chooses as before (R-M3 (c): images only in a cache).
# Then again with --hostfile placing rank 0 alone on h1 and ranks 1-3 on h2 (diffrev36 R-M2):
# h1's writer (rank 1) runs elsewhere, so no writer is named (said) and rank 0 writes its own
# copy: h1's file names h1 again (with a writer named, rank 0 left it to rank 1 and found the
# overwritten bytes). The job's ranks find their host's file by a hash of the host name
# (SAVE_SHARED_ONE=hostname), so that a moved restart is not refused by a node communicator's
# size; the moved job's results are its own (rank 1 shares another host's file) and not compared.
flavor=$1
. "$(dirname "$0")/lib.sh"
hosts_workdir saveshared-$flavor
hostbed_up 2
[ -x "$B/tools/revive-restart-rank" ] || { echo "SKIP: revive-restart-rank not built"; exit 77; }
export REVIVE_RESTART_RANK=$B/tools/revive-restart-rank
launch_opts h1:2,h2:2
cc=$(command -v "mpicc.$(echo "$flavor" | sed 's/ompi/openmpi/')")
[ -n "$cc" ] || { echo "SKIP: no mpicc for $flavor"; exit 77; }
prog=$SHARED/save_shared
"$cc" -O1 -pthread -o "$prog" "$REVIVE_SRCDIR/tests/mpi/ckpt/save_shared.c" 2>"$W/cc.err" ||
    { fail "save_shared.c does not build with $(basename "$cc")"; head -6 "$W/cc.err"; finish; }
results() { grep -hE '^(step [0-9]+: |done: )' "$@"; }
steps=40 ms=100
# the mode reaches the ranks on h2 through the launcher (the bed's remote shell passes no
# environment): Open MPI's -x; MPICH's Hydra passes the whole environment
export SAVE_SHARED_ONE=hostname
case $flavor in ompi) LOPTS+=(-x SAVE_SHARED_ONE) ;; esac
on h1 timeout -k 5 600 "$launcher" "${LOPTS[@]}" -n 4 "$prog" $steps "$W/nopace" 0 "$HB/local/cnt" \
    >"$W/native.out" 2>"$W/native.err" || { fail "the native run: status $?"; tail -5 "$W/native.err"; finish; }
grep -q "^done: $steps $steps $steps $steps " "$W/native.out" || { fail "native: $(tail -n 1 "$W/native.out")"; finish; }
for r in 1 3; do
    grep -qx "rank $r: file count minus own count: 0" "$W/native.err" ||
        { fail "native: rank $r's count differs from its host's file"; tail -5 "$W/native.err"; finish; }
done
grep -q "the file names host" "$W/native.err" && { fail "native: a rank found another host's name"; finish; }
pass "$flavor: native: each host's ranks share their host's $HB/local/cnt.all"

# restarted N: the restart N's output (out.N, err.N): ranks 1 and 3 find their files at their own
# counts, no rank another host's name, the native results, one writer per host said
restarted() {
    local r w
    for r in 1 3; do
        grep -qx "rank $r: file count minus own count: 0" "$W/err.$1" ||
            fail "restart $1: rank $r does not find its host's file at its own count: $(grep "^rank $r: file count" "$W/err.$1")"
    done
    if grep -q "the file names host" "$W/err.$1"; then
        fail "restart $1: a rank found another host's name in its file:"; grep "the file names host" "$W/err.$1"
    fi
    cmp -s <(results "$W/native.out") <(results "$W/out.0" "$W/out.$1") ||
        { fail "restart $1: the results differ from the native run"; diff <(results "$W/native.out") <(results "$W/out.0" "$W/out.$1") | head -6; }
    for w in "h1, which ranks 0,1 saved (--save-shared), is written back from rank 1's copy" \
             "h2, which ranks 2,3 saved (--save-shared), is written back from rank 3's copy"; do
        grep -qF "restart-mpi: $HB/local/cnt.all on $w, the one read last (a part of the file that copy lacks: from the rank that saved it)" "$W/err.$1" ||
            { fail "restart $1: restart-mpi does not say: ...cnt.all on $w"; grep "restart-mpi" "$W/err.$1"; }
    done
}
# under Revive: a --term --save-shared snapshot after the second step, odd ranks parked 1 s late
touch "$W/pace"
( PATH=$(dirname "$launcher"):$PATH clean_exec REVIVE_FAULT=mpi-park-late nsenter -t "$(host_pid h1)" -n -u -m -- \
    "$wrapper" -am ft-enable-cr --ckpt-dir "$SHARED" "${LOPTS[@]}" -n 4 "$prog" $steps "$W/pace" $ms \
    "$HB/local/cnt" ) >"$W/out.0" 2>"$W/err.0" &
JOB=$!; jobs_started="$jobs_started $JOB"
wait_for 120 '[ "$(grep -c "^step" "$W/out.0")" -ge 2 ]' ||
    { fail "the job under Revive did not reach its second step"; rm -f "$W/pace"; tail -10 "$W/err.0"; finish; }
if ! expect_rc 0 "ckpt-mpirun --term --save-shared" on h1 timeout 300 "$CKPT" --wait --term --save-shared $JOB; then
    rm -f "$W/pace"; tail -20 "$W/err.0"; finish
fi
ref=$(tail -n1 "$W/cmd.out")
wait $JOB
rm -f "$W/pace"
# every byte of both hosts' files changed since: only each host's own write-back gives them back
for h in h1 h2; do
    [ -f "$HB/node/$h/cnt.all" ] || { fail "no $HB/node/$h/cnt.all"; finish; }
    head -c 12288 /dev/urandom | dd of="$HB/node/$h/cnt.all" conv=notrunc status=none
done
on h1 timeout -k 5 600 "$RESTART" "$ref" >"$W/out.1" 2>"$W/err.1"; st=$?
[ $st = 0 ] || { fail "restart-mpi: status $st"; tail -20 "$W/err.1"; }
restarted 1
grep "^restart-mpi: .*cnt.all on" "$W/err.1" | sed "s/^/    /"
pass "$flavor: a node-local file of one path on h1 and h2, saved by both ranks of each: each host's file written back from its own copy read last (rank 1 on h1, rank 3 on h2; said), native result"

# the writer's image only in its host's node-local cache (the bed's default, TMPDIR): restart-mpi
# fetches it from h2 first, then reads it for its choice (diffrev35 R-M3 (c))
mkdir -m 0700 "$W/keep" && mv "$ref/rank_3.img" "$W/keep/"
for h in h1 h2; do head -c 12288 /dev/urandom | dd of="$HB/node/$h/cnt.all" conv=notrunc status=none; done
on h1 timeout -k 5 600 "$RESTART" "$ref" >"$W/out.2" 2>"$W/err.2"; st=$?
[ $st = 0 ] || { fail "restart 2: restart-mpi: status $st"; tail -20 "$W/err.2"; }
[ -f "$ref/rank_3.img" ] || fail "restart 2: rank 3's image was not fetched back into $ref"
restarted 2
pass "$flavor: rank 3's image only in h2's cache: fetched, then each host's file written back from its copy read last, native result"

for h in h1 h2; do head -c 12288 /dev/urandom | dd of="$HB/node/$h/cnt.all" conv=notrunc status=none; done
hostfile "$W/hf" h1:1 h2:3
on h1 timeout -k 5 600 "$RESTART" --hostfile "$W/hf" "$ref" >"$W/out.3" 2>"$W/err.3"; st=$?
grep -qF "restart-mpi: the restart's placement may not be the snapshot's (--hostfile): each rank writes its own copy" "$W/err.3" ||
    { fail "restart 3 (--hostfile): restart-mpi does not say that each rank writes its own copy"; grep "restart-mpi" "$W/err.3"; }
grep -q "is written back from rank" "$W/err.3" && fail "restart 3 (--hostfile): restart-mpi still names a writer"
[ "$(grep -c "^restart-mpi: .*--save-shared" "$W/err.3")" = 1 ] ||
    { fail "restart 3 (--hostfile): not one restart-mpi line about --save-shared:"; grep "^restart-mpi: .*--save-shared" "$W/err.3"; }
if grep -q "^rank 0: the file names host" "$W/err.3" || ! grep -q "^done: " "$W/out.3"; then
    fail "restart 3 (--hostfile, status $st): rank 0 on h1 did not find h1's file written back:"
    grep -E "^rank 0: |^done: " "$W/err.3" "$W/out.3"; tail -5 "$W/err.3"
fi
pass "$flavor: a restart with --hostfile moving h1's writer to h2: no writer named (said), h1's file written back by rank 0"
finish
