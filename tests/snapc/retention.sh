#!/bin/bash
# Periodic checkpoints and retention: --interval/--keep of the coordinator (what mpirun's
# --ckpt-interval/--ckpt-keep become) and REVIVE_CKPT_INTERVAL/REVIVE_CKPT_KEEP/
# REVIVE_SNAPSHOT_DIR; the newest
# committed snapshot is never removed, nor one being read (a shared lock on it). Every wait is
# for a condition (the timer's epochs take longer under load), with a generous bound.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-retention

start_job a 3 --coord --interval 1 --keep 2 -- --iters 1000000 --sleep-us 300
jd=$W/revive_global_snapshot_$JOB.ckpt
wait_for 120 '[ "$(newest_committed "$jd")" -ge 3 ]' ||
    fail "--interval 1: no fourth snapshot in 120 s (newest $(newest_committed "$jd"))"
# between a commit and its retention there are 3 for a moment
wait_for 60 '[ "$(committed "$jd")" = 2 ]' || fail "--keep 2: $(committed "$jd") committed sequences"
newest=$(newest_committed "$jd")
consistent_committed "$jd" 3
cur=$(sed -n 's/^current //p' "$jd/index")
[ -n "$cur" ] && [ "$cur" -ge "$newest" ] 2>/dev/null || fail "index: current ${cur:-none}, newest committed $newest"
# a sequence being read stays while the timer's snapshots go on, and goes once its reader left
# (hold_oldest: the oldest is the one retention removes next, maybe before the lock comes)
if hold_oldest "$jd"; then
    held=$HELD newest=$(newest_committed "$jd")
    wait_for 120 '[ "$(newest_committed "$jd")" -ge $((newest + 3)) ]' || fail "the timer stopped"
    [ -f "$jd/$held/snapshot.meta" ] || fail "sequence $held, being read (locked), was removed"
    exec 9<&-
    wait_for 120 '[ ! -d "$jd/$held" ]' || fail "sequence $held stayed after its reader left"
else
    fail "no committed sequence could be held (locked, and still there) in 60 s"
fi
[ "$(committed "$jd")" -ge 2 ] || fail "fewer than 2 committed left"
kill -TERM $JOB; wait $JOB
pass "--interval 1 --keep 2 (newest $newest), a sequence being read kept"
# a sequence retention removed, given to restart-mpi and ckpt-info: said so, naming the committed
# ones the directory holds and --ckpt-keep (newuser9b N3: "does not exist; give a snapshot
# reference as printed by ckpt-mpirun", to a user who had given one)
have=$(for q in $(ls "$jd" | sort -n); do [ -f "$jd/$q/snapshot.meta" ] && printf '%s, ' "$q"; done)
have=${have%, }
for tool in "$RESTART" "$INFO"; do
    "$tool" "$jd/0" </dev/null >"$W/gone.out" 2>"$W/gone.err"
    rc=$?
    if [ $rc != 0 ] && grep -qF "$jd/0 does not exist: sequence 0 is no longer in $jd, which holds committed sequences $have: removed when a newer one committed (the job kept its newest 2, --ckpt-keep); restart one of those, or $jd for its newest" "$W/gone.err"; then
        pass "$(basename "$tool") of a sequence retention removed: $(head -n 1 "$W/gone.err" | cut -c1-300)"
    else
        fail "$(basename "$tool") of a sequence retention removed: rc $rc, $(head -n 2 "$W/gone.err")"
    fi
done

# the same from the environment; keep 1; the directory from REVIVE_SNAPSHOT_DIR
mkdir -m 700 "$W/envdir"
REVIVE_SNAPSHOT_DIR=$W/envdir REVIVE_CKPT_INTERVAL=1 REVIVE_CKPT_KEEP=1 start_job b 2 --iters 1000000 --sleep-us 300
jd=$W/envdir/revive_global_snapshot_$JOB.ckpt
wait_for 120 '[ "$(newest_committed "$jd")" -ge 2 ]' || fail "REVIVE_CKPT_INTERVAL=1: no third snapshot"
wait_for 60 '[ "$(committed "$jd")" = 1 ]' || fail "REVIVE_CKPT_KEEP=1: $(committed "$jd") committed"
# a request by hand between the timer's
expect_rc 0 "a request between the timer's" "$CKPT" --wait $JOB
ref=$(tail -n1 "$W/cmd.out")
kill -TERM $JOB; wait $JOB
[ "$(committed "$jd")" = 1 ] || fail "REVIVE_CKPT_KEEP=1 after a request: $(committed "$jd") committed"
[ "$(newest_committed "$jd")" -ge "${ref##*/}" ] || fail "the newest committed snapshot $ref was removed"
[ -d "$W/revive_global_snapshot_$JOB.ckpt" ] && fail "REVIVE_SNAPSHOT_DIR: snapshots in the current directory"
pass "REVIVE_CKPT_INTERVAL/REVIVE_CKPT_KEEP/REVIVE_SNAPSHOT_DIR"
finish
