#!/bin/bash
# Issue 7 F7: an unknown option to ckpt-mpirun, ckpt-info or restart-mpi is said in one line
# that points at --help (status 2), not followed by the whole usage; and restart-mpi refusing a
# damaged sequence (a damaged image, or a damaged snapshot.meta, also for ckpt-info) suggests
# another one, naming it with --seq, only when the job directory holds another committed
# sequence (a job of fake ranks checkpointed twice; sequence 1's image damaged, with and
# without sequence 0 beside it; a copy of it with damaged metadata, with and without 1).
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-usage
export REVIVE_RESTART_RANK=$FRANK REVIVE_COORD_BIN=$COORD

one_line() { [ "$(grep -c . "$W/cmd.err")" = 1 ] || fail "$1: more than one line: $(cat "$W/cmd.err")"; }
# one_message WHAT: one line, but for the refusal said first while another sequence is read
# through to name it (restart-mpi's deep check: diffrev37 R-L14); the message last
one_message() {
    [ "$(grep -vc "; checking sequence [0-9]* of .* (reading every image of it through" "$W/cmd.err")" = 1 ] ||
        fail "$1: more than one line (but the notice of the check): $(cat "$W/cmd.err")"
}
expect_rc 2 "ckpt-mpirun --bogus" "$CKPT" --bogus 1 &&
    err_has "ckpt-mpirun: unknown option --bogus; see ckpt-mpirun --help" && one_line ckpt-mpirun
expect_rc 2 "ckpt-info --bogus" "$INFO" --bogus "$W" &&
    err_has "ckpt-info: unknown option --bogus; see ckpt-info --help" && one_line ckpt-info
expect_rc 2 "restart-mpi --bogus" "$RESTART" --bogus "$W" &&
    err_has "restart-mpi: unknown option --bogus (launcher options go after --); see restart-mpi --help" &&
    one_line restart-mpi
pass "an unknown option: one line, see --help, status 2"

# bad option values: one line each, status 2 (usage) for all three commands (restart-mpi said
# 1 before, where ckpt-mpirun, ckpt-info and cr_checkpoint said 2: review, exit codes); a --seq
# too large for a sequence was taken as the largest number
for v in abc 0 -1 1e3 99999999999 ""; do
    expect_rc 2 "ckpt-mpirun --timeout '$v'" "$CKPT" --timeout "$v" 1 &&
        err_has "ckpt-mpirun: --timeout needs a whole number of seconds from 1 to 604800, not '$v'" &&
        one_line "ckpt-mpirun --timeout '$v'"
done
expect_rc 2 "ckpt-mpirun --timeout (no value)" "$CKPT" --timeout && one_line "ckpt-mpirun --timeout"
for v in abc -1 1x 99999999999999999999 ""; do
    expect_rc 2 "restart-mpi --seq '$v'" "$RESTART" --seq "$v" "$W" &&
        err_has "restart-mpi: --seq needs a sequence number (0 to 999999999999999999), not '$v'" &&
        one_line "restart-mpi --seq '$v'"
done
# every other option value restart-mpi refuses, and options that exclude each other
usage2() { # WHAT PATTERN ARGS...: status 2, one line matching PATTERN
    local what=$1 pat=$2
    shift 2
    expect_rc 2 "$what" "$@" && err_has "$pat" && one_line "$what"
}
usage2 "restart-mpi --hostfile (no file)" "restart-mpi: --hostfile needs a file" "$RESTART" --hostfile
usage2 "restart-mpi --meta-from -x" "--meta-from needs a list of hosts" "$RESTART" --meta-from -x "$W"
usage2 "restart-mpi --recreate-in ''" "--recreate-in needs a directory" "$RESTART" --recreate-in "" "$W"
usage2 "restart-mpi --relocate a=b" "--relocate" "$RESTART" --relocate a=b "$W"
usage2 "restart-mpi --ckpt-local rel" "--ckpt-local needs an absolute path" "$RESTART" --ckpt-local rel "$W"
usage2 "restart-mpi --preload --ckpt-local none" "--preload needs a node-local directory" \
    "$RESTART" --preload --ckpt-local none "$W"
usage2 "restart-mpi --ckpt-file-data-max lots" "--ckpt-file-data-max needs a size such as 4G" \
    "$RESTART" --ckpt-file-data-max lots "$W"
usage2 "restart-mpi with two REFs" "one snapshot reference only" "$RESTART" "$W" "$W"
# REF before "--" (review LOW-3: the last launcher option was taken for the reference, "3 does
# not exist"), an option last after "--", nothing after it
usage2 "restart-mpi REF -- -np 3" "restart-mpi: the snapshot reference goes last, after the launcher options: restart-mpi [OPTIONS] -- -np... $W (it came before --)" \
    "$RESTART" "$W" -- -np 3
usage2 "restart-mpi -- --oversubscribe" "restart-mpi: the last argument after -- is the snapshot reference, not the launcher option --oversubscribe" \
    "$RESTART" -- --oversubscribe
usage2 "restart-mpi --" "restart-mpi: no snapshot reference after --" "$RESTART" --
usage2 "ckpt-info --max-age (no value)" "ckpt-info: --max-age needs a number of days" "$INFO" --clean-cache --max-age
usage2 "ckpt-info --max-age x" "ckpt-info: --max-age needs a number of days" "$INFO" --clean-cache --max-age x
usage2 "ckpt-info with two REFs" "ckpt-info: one snapshot reference only" "$INFO" "$W" "$W"
usage2 "ckpt-mpirun --term --stop" "--term and --stop exclude each other" "$CKPT" --term --stop 1
usage2 "ckpt-mpirun with two PIDs" "one PID only" "$CKPT" 1 2
for t in "$RESTART" "$INFO" "$CKPT"; do
    "$t" --help | tr '\n' ' ' | grep -q "Exit status: .* 2 wrong usage" ||
        fail "${t##*/} --help does not document status 2 for wrong usage"
done
# a REF that is a file: one line saying what to give instead
echo x >"$W/afile"
for cmd in "$RESTART" "$RESTART --showme" "$INFO" "$INFO --verify"; do
    expect_rc 1 "${cmd##*/} of a file" $cmd "$W/afile" &&
        err_has "$W/afile is not a snapshot (not a directory): give a snapshot directory (.../revive_global_snapshot_PID.ckpt) or one of its sequences" &&
        one_line "${cmd##*/} of a file"
done
# "/" (restart-mpi died of SIGSEGV looking for it in the caches) and an empty directory
mkdir -m 700 "$W/empty"
for r in / "$W/empty"; do
    for cmd in "$RESTART" "$RESTART --showme" "$INFO"; do
        expect_rc 1 "${cmd##*/} of $r" $cmd "$r" && err_has "$r is not a snapshot reference" &&
            one_line "${cmd##*/} of $r"
    done
done
pass "bad --timeout and --seq values, a REF that is a file, /, an empty directory: one line, non-zero"

# a job whose TMPDIR cannot hold the default node-local cache: the refusal says what to do
TMPDIR=$W/nothere start_job t 2 --iters $UNTIL_KILLED --sleep-us 500
expect_rc 1 "a snapshot with TMPDIR missing" "$CKPT" --wait $JOB &&
    err_has "cannot create the node-local directory $W/nothere/revive-local-" &&
    err_has "give the job a TMPDIR it can write, or a cache with mpirun's --ckpt-local DIR" &&
    one_line "TMPDIR missing"
kill -TERM $JOB; wait $JOB
pass "TMPDIR missing: the default cache's refusal says what to do"

start_job a 2 --iters $UNTIL_KILLED --sleep-us 500
expect_rc 0 "the first checkpoint" "$CKPT" --wait $JOB
expect_rc 0 "the second checkpoint (--term)" "$CKPT" --term $JOB && ref=$(tail -n1 "$W/cmd.out")
wait $JOB
jd=${ref%/*}
[ "${ref##*/}" = 1 ] && [ -f "$jd/0/snapshot.meta" ] || fail "two committed sequences expected: $(ls "$jd")"
# a file of a snapshot as REF: its sequence named
for cmd in "$RESTART --showme" "$INFO"; do
    expect_rc 1 "${cmd##*/} of a snapshot's file" $cmd "$ref/snapshot.meta" &&
        err_has "$ref/snapshot.meta is a file of snapshot $ref, not a snapshot: give that directory (its sequence) or $jd (its newest committed sequence)" &&
        one_line "${cmd##*/} of a snapshot's file"
done
pass "a file of a snapshot as REF: its sequence named"
# a snapshot on read-only storage (root: a copy on a tmpfs remounted read-only): one line saying
# that a restart writes beside it and to restart a copy (before: only "Read-only file system")
if mkdir -m 700 "$W/ro" && mount -t tmpfs -o size=16m,mode=0700 tmpfs "$W/ro" 2>/dev/null; then
    cleanup='umount -l "$W/ro" 2>/dev/null'
    cp -a "$jd" "$W/ro/" && mount -o remount,ro "$W/ro" || fail "cannot make the read-only copy"
    expect_rc 1 "restart-mpi of a snapshot on read-only storage" "$RESTART" "$W/ro/${jd##*/}" &&
        err_has "Read-only file system; a restart writes beside the snapshot (its outcome, the restarted job's snapshots): copy $W/ro/${jd##*/} to writable storage (cp -a) and restart the copy" &&
        one_line "restart-mpi on read-only storage"
    umount "$W/ro"
    pass "a snapshot on read-only storage: restart a copy"
else
    echo "SKIP-PART: a snapshot on read-only storage (cannot mount a tmpfs: not root?)"
fi
printf X | dd of="$ref/rank_1.img" bs=1 seek=200 conv=notrunc status=none
expect_rc 1 "a damaged sequence beside a good one" "$RESTART" "$ref" &&
    err_has "is damaged" && err_has "sequence 0 beside it is committed (restart-mpi --seq 0 $jd)"
rm -rf "$jd/0"
expect_rc 1 "a damaged sequence alone" "$RESTART" "$ref" &&
    err_has "is damaged" && err_has "$jd holds no other committed sequence to restart from"
grep -q "another sequence\|--seq" "$W/cmd.err" && fail "another sequence suggested where there is none: $(cat "$W/cmd.err")"
pass "restart-mpi suggests another sequence, by --seq, only when there is one"

# a damaged snapshot.meta (src/filem/meta.c's message, shared by restart-mpi and ckpt-info):
# sequence 3, a copy of 1 whose metadata is damaged, beside 1 (committed; its image is damaged
# but its metadata is not), then alone. The old message said "use another sequence" in both;
# then it named 1 as if intact (newuser7f F3: advice_damaged.sh); then as fetchable from the
# node-local caches, though the only cached copy of its image is the same damaged file (staging
# hard-links them): 1 is damaged too, and what is wrong with it is said (newuser8 F4,
# advice_cached.sh).
cp -a "$jd/1" "$jd/3"
printf X | dd of="$jd/3/snapshot.meta" bs=1 seek=60 conv=notrunc status=none
for cmd in "$RESTART --showme" "$INFO"; do
    expect_rc 1 "${cmd##*/} of a damaged snapshot.meta beside a committed one" $cmd "$jd/3" &&
        err_has "$jd/3/snapshot.meta is damaged" &&
        err_has "this snapshot cannot be used, and $jd holds no other intact committed sequence (sequence 1 is damaged too: rank 1: rank_1.img in this directory is damaged (" &&
        one_message "${cmd##*/}"
done
rm -rf "$jd/1"
for cmd in "$RESTART --showme" "$INFO"; do
    expect_rc 1 "${cmd##*/} of a damaged snapshot.meta alone" $cmd "$jd/3" &&
        err_has "this snapshot cannot be used, and $jd holds no other committed sequence" && one_line "${cmd##*/}"
    grep -q "another sequence\|--seq" "$W/cmd.err" && fail "${cmd##*/}: another sequence suggested where there is none: $(cat "$W/cmd.err")"
done
pass "a damaged snapshot.meta: another sequence named (--seq N) only when one is committed"
wait_no_strays
finish
