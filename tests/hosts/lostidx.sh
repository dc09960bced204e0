#!/bin/bash
# lostidx.sh FLAVOR: the failed-restart index survives the loss of the snapshot directory
# (issue 9; src/filem/local_failed.h). A 4-rank job on h1,h2 with --ckpt-local --ckpt-keep 2:
# sequence 0, then a --term sequence 1 (every cache holds both). A restart from 1 fails (rank
# 1's image damaged in the shared directory and in h1's cache; --no-verify): marked in the
# index and in h1's cached sequence 1 (restart.failed, 0600). Then the job's directory is
# removed (its file system lost): restart-mpi JOBDIR from h2 (no mark in its cache) restarts
# from the caches, asks h1 for its marks, skips sequence 1 saying why (as with the directory
# there) and takes sequence 0; the re-created
# directory holds both sequences' metadata and an index with the failed restart of 1; native
# result. (Before, the restart took sequence 1 again, and failed.)
flavor=$1
. "$(dirname "$0")/lib.sh"
cache_bed lostidx 2

revive_job a --ckpt-dir "$SHARED" --ckpt-local "$LOCAL" --ckpt-keep 2
expect_rc 0 "a: checkpoint 0" on h1 timeout 300 "$CKPT" --wait $JOB || { touch "$W/a.go"; finish; }
expect_rc 0 "a: checkpoint 1 --term" on h1 timeout 300 "$CKPT" --wait --term $JOB ||
    { touch "$W/a.go"; finish; }
ref=$(tail -n1 "$W/cmd.out")
J=$(dirname "$ref")
jd=$(basename "$J")
wait $JOB
touch "$W/a.go"
for h in h1 h2; do
    [ -f "$HB/node/$h/$jd/0/snapshot.meta" ] && [ -f "$HB/node/$h/$jd/1/snapshot.meta" ] ||
        { fail "$h's cache does not hold sequences 0 and 1: $(ls "$HB/node/$h/$jd")"; finish; }
done

# a restart from 1 fails: marked in the index and in h1's cache. The byte at 3/5 of each copy
# of rank 1's image is complemented, once per file (lib.sh damage_copies). A cached copy whose
# restore finds a chunk damaged is removed from the cache (dfd1577, as SCR drops a cached dataset
# that fails its check): h1's sound copy is kept aside to be put back below.
cp -p "$HB/node/h1/$jd/1/rank_1.img" "$W/h1.rank_1.img" || fail "cannot keep h1's cached rank 1 image aside"
damage_copies "$J/1/rank_1.img" "$HB/node/h1/$jd/1/rank_1.img" ||
    fail "cannot damage every copy of rank 1's image of 1 (lib.sh damage_copies)"
on h1 timeout -k 5 300 "$RESTART" --no-verify --ckpt-local "$LOCAL" "$J/1" >"$W/r1.out" 2>"$W/r1.err"
st=$?
[ $st != 0 ] || fail "r1: a restart from a damaged image succeeded"
grep -q "^seq.1.failed_restarts 1$" "$J/index" || { fail "r1: the failed restart is not in the index"; tail -5 "$W/r1.err"; }
m=$HB/node/h1/$jd/1/restart.failed
[ "$(stat -c %a "$m" 2>&1)" = 600 ] && grep -q "^failed_restarts 1$" "$m" ||
    { fail "r1: h1's cached sequence 1 holds no failed-restart mark 0600: $(stat -c %a "$m" 2>&1)"; cat "$m"; }
[ ! -e "$HB/node/h1/$jd/1/rank_1.img" ] || fail "r1: h1's damaged cached copy of rank 1's image was kept"
pass "$flavor: a failed restart from 1 is marked in the index and in h1's cached sequence (0600), the damaged cached copy removed"

# the directory lost: the restart from the caches, run from h2 (whose cache holds both
# sequences' metadata and no mark: the failed restart ran from h1), asks the other holder h1
# for its marks (through the remote shell, REVIVE_RSH), skips 1 and takes 0. Before, only
# the cache of the host the restart ran from was read: from h2 it took 1 again, and failed.
[ -e "$HB/node/h2/$jd/1/restart.failed" ] && fail "h2's cache holds a mark (the failed restart ran from h1)"
rm -rf "${J:?}"
on h2 env REVIVE_RSH="$HB/agent" timeout -k 5 600 "$RESTART" --ckpt-local "$LOCAL" "$J" >"$W/r.out" 2>"$W/r.err"
st=$?
[ $st = 0 ] || { fail "r: restart-mpi status $st"; tail -20 "$W/r.err"; }
cmp -s "$W/native.out" "$W/r.out" || { fail "r: result differs"; cat "$W/native.out" "$W/r.out"; }
grep -q "^restart-mpi: skipping sequence 1 of $J: 1 restart from it failed (.*), recorded in h1's node-local cache; taking sequence 0 (--seq 1 tries it again)$" "$W/r.err" ||
    { fail "r: restart-mpi does not say it skips sequence 1"; cat "$W/r.err"; }
grep -qF "restart-mpi: $J was gone: re-created with sequence 0's snapshot.meta from this host's node-local cache ($LOCAL/$jd/0, checked)" "$W/r.err" ||
    { fail "r: restart-mpi does not say it re-created the directory with sequence 0"; cat "$W/r.err"; }
cmp -s "$J/1/snapshot.meta" "$HB/node/h2/$jd/1/snapshot.meta" ||
    fail "r: sequence 1's metadata is not re-created beside 0"
[ "$(stat -c %a "$J/index" 2>&1)" = 600 ] && grep -q "^seq.1.failed_restarts 1$" "$J/index" &&
    grep -q "^seq.0.state committed$" "$J/index" ||
    { fail "r: the re-created index lacks the sequences or the mark"; cat "$J/index"; }
grep -E "skipping|was gone" "$W/r.err" | sed 's/^/    /'
pass "$flavor: the directory lost: the restart from the caches run from h2 learns h1's mark, skips the failed 1 (said), takes 0, the index rebuilt with the mark, native result"

# rank 1's sound image put back in h1's cache, sequence 1 restarted from h2
# with --seq 1 (its images fetched from the caches): it succeeds, and h2's cached sequence 1
# records the success, later than h1's mark. The directory lost again: the default restart
# from h2 takes sequence 1 (h1's older mark does not count). Before, only h2's own mark was
# cleared: h1's made every later restart from the caches skip the good sequence 1.
cp -p "$W/h1.rank_1.img" "$HB/node/h1/$jd/1/rank_1.img" || fail "cannot put rank 1's cached image back"
on h2 env REVIVE_RSH="$HB/agent" timeout -k 5 600 "$RESTART" --ckpt-local "$LOCAL" --seq 1 "$J" \
    >"$W/s1.out" 2>"$W/s1.err"
st=$?
[ $st = 0 ] || { fail "s1: restart-mpi --seq 1 status $st"; tail -20 "$W/s1.err"; }
cmp -s "$W/native.out" "$W/s1.out" || { fail "s1: result differs"; cat "$W/native.out" "$W/s1.out"; }
grep -q "^failed_restarts 0$" "$HB/node/h2/$jd/1/restart.failed" ||
    { fail "s1: h2's cached sequence 1 does not record the success"; cat "$HB/node/h2/$jd/1/restart.failed"; }
grep -q "^failed_restarts 1$" "$HB/node/h1/$jd/1/restart.failed" || fail "s1: h1's mark changed (h1 was not asked)"
rm -rf "${J:?}"
on h2 env REVIVE_RSH="$HB/agent" timeout -k 5 600 "$RESTART" --ckpt-local "$LOCAL" "$J" >"$W/s.out" 2>"$W/s.err"
st=$?
[ $st = 0 ] || { fail "s: restart-mpi status $st"; tail -20 "$W/s.err"; }
cmp -s "$W/native.out" "$W/s.out" || { fail "s: result differs"; cat "$W/native.out" "$W/s.out"; }
grep -q "skipping sequence 1" "$W/s.err" && fail "s: sequence 1 skipped after it restarted well: $(grep skipping "$W/s.err")"
grep -qF "restart-mpi: $J was gone: re-created with sequence 1's snapshot.meta from this host's node-local cache ($LOCAL/$jd/1, checked)" "$W/s.err" ||
    { fail "s: restart-mpi did not take sequence 1"; cat "$W/s.err"; }
grep -q "^seq.1.failed_restarts" "$J/index" && { fail "s: the re-created index marks 1 failed"; cat "$J/index"; }
grep -E "skipping|was gone" "$W/s.err" | sed 's/^/    /'
pass "$flavor: sequence 1 restarted well from h2 (recorded in h2's cache, later than h1's mark); the directory lost again: the default restart from the caches takes 1, native result"

# A holder that does not answer for its records: h2's cache holds the metadata, so restart-mpi
# asks the other holder h1 only for its failed-restart records. (t) h1's remote shell hangs
# (HB_AGENT_HANG: its port answers): bounded by REVIVE_MARKS_TIMEOUT (5 s), one line naming h1;
# before, silent and bounded by REVIVE_FETCH_TIMEOUT (here 60 s; 120 by default). (u) h1's
# remote shell answers, closes its output and lingers (an ssh holding a forwarded
# connection): its answer taken, the shell ended; before, waited for without bound (diffrev
# L8). --showme: the question is asked, nothing launched.
rm -rf "${J:?}"
t0=$(date +%s)
on h2 env REVIVE_RSH="$HB/agent" HB_AGENT_HANG=h1 REVIVE_FETCH_TIMEOUT=60 timeout -k 5 300 \
    "$RESTART" --showme --ckpt-local "$LOCAL" "$J" >"$W/t.out" 2>"$W/t.err"
st=$? dt=$(($(date +%s) - t0))
[ $st = 0 ] || { fail "t: restart-mpi --showme status $st"; cat "$W/t.err"; }
[ $dt -lt 30 ] || fail "t: a holder whose shell hangs held restart-mpi $dt s"
[ "$(grep -c "no failed-restart records from h1 (no answer within 5 s (REVIVE_MARKS_TIMEOUT))" "$W/t.err")" = 1 ] &&
    [ "$(wc -l <"$W/t.err")" = 1 ] || { fail "t: not one line naming h1"; cat "$W/t.err"; }
sed 's/^/    /' "$W/t.err"
pass "$flavor: a holder whose remote shell hangs costs REVIVE_MARKS_TIMEOUT ($dt s), said in one line naming it"
printf '#!/bin/sh\n"%s" "$@"\nexec >&- 2>&-\nexec sleep 3171\n' "$HB/agent" >"$W/linger"
chmod 700 "$W/linger"
t0=$(date +%s)
on h2 env REVIVE_RSH="$W/linger" REVIVE_FETCH_TIMEOUT=60 timeout -k 5 300 \
    "$RESTART" --showme --ckpt-local "$LOCAL" "$J" >"$W/u.out" 2>"$W/u.err"
st=$? dt=$(($(date +%s) - t0))
[ $st = 0 ] || { fail "u: restart-mpi --showme status $st"; cat "$W/u.err"; }
[ $dt -lt 30 ] || fail "u: a remote shell lingering after its answer held restart-mpi $dt s"
grep -q "warning: no failed-restart records" "$W/u.err" && { fail "u: h1's whole answer was not taken"; cat "$W/u.err"; }
[ -z "$(pgrep -f "^sleep 3171")" ] || fail "u: the lingering shell was left (the bed's teardown ends it)"
pass "$flavor: a remote shell that answered and lingers is ended ($dt s), its answer taken"
finish
