#!/bin/bash
# Periodic checkpoints and retention: --interval/--keep of the coordinator (what mpirun's
# --ckpt-interval/--ckpt-keep become) and REVIVE_CKPT_INTERVAL/REVIVE_CKPT_KEEP; the newest
# committed snapshot is never removed, nor one being read (a shared lock on it).
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-retention

committed() { ls -d "$1"/*/snapshot.meta 2>/dev/null | wc -l; }

start_job a 3 --coord --interval 1 --keep 2 -- --iters 1000000 --sleep-us 300
jd=$W/revive_global_snapshot_$JOB.ckpt
sleep 4.6
n=$(ls "$jd" | grep -c '^[0-9]*$')
[ "$(committed "$jd")" = 2 ] || fail "--keep 2: $(committed "$jd") committed sequences"
newest=$(ls "$jd" | grep '^[0-9]*$' | sort -n | tail -1)
[ "$newest" -ge 3 ] || fail "--interval 1: only $((newest + 1)) snapshots in 4.6 s"
for s in $(ls "$jd" | grep '^[0-9]*$'); do consistent "$jd/$s" 3; done
grep -q "current $newest" "$jd/index" || grep -q "current $((newest - 1))" "$jd/index" || fail "index: $(cat "$jd/index")"
# a sequence being read stays
held=$(ls "$jd" | grep '^[0-9]*$' | sort -n | head -1)
flock -s "$jd/$held" sleep 3 &
reader=$!
sleep 2.5
[ -f "$jd/$held/snapshot.meta" ] || fail "a sequence being read was removed"
wait $reader
sleep 1.5
[ -d "$jd/$held" ] && fail "sequence $held stayed after its reader left"
kill -TERM $JOB; wait $JOB
pass "--interval 1 --keep 2 (newest $newest), a sequence being read kept"

# the same from the environment; keep 1
REVIVE_CKPT_INTERVAL=1 REVIVE_CKPT_KEEP=1 start_job b 2 --iters 1000000 --sleep-us 300
jd=$W/revive_global_snapshot_$JOB.ckpt
sleep 3.5
[ "$(committed "$jd")" = 1 ] || fail "REVIVE_CKPT_KEEP=1: $(committed "$jd") committed"
# a request by hand between the timer's
expect_rc 0 "a request between the timer's" "$CKPT" --wait $JOB
kill -TERM $JOB; wait $JOB
[ "$(committed "$jd")" = 1 ] || fail "REVIVE_CKPT_KEEP=1 after a request: $(committed "$jd") committed"
pass "REVIVE_CKPT_INTERVAL/REVIVE_CKPT_KEEP"
finish
