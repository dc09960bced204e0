#!/bin/bash
# restart-mpi carries the rest of the job's checkpoint options and takes --ckpt-dir (closing51
# item 4), with fake ranks. A job with --ckpt-local DIR, --ckpt-partner, --ckpt-stage-bw,
# --ckpt-no-wait-stage and --ckpt-file-data-max (their variables) is ended by ckpt-mpirun --term;
# with none of them in the environment:
#   its snapshot records the four, and ckpt-info shows them (text and --json);
#   the restarted job's snapshot records them again (carried), beside the old one;
#   restart-mpi's own --ckpt-stage-bw and --ckpt-file-data-max, REVIVE_CKPT_PARTNER=0 and
#   REVIVE_MPIX_NO_WAIT_STAGE=0 replace them (the command line beats the saved value), and
#   --ckpt-dir D (missing, its parent there) puts the restarted job's snapshots in D, made 0700;
#   --ckpt-dir whose parent is missing, --ckpt-dir naming a file, a bad --ckpt-stage-bw and
#   --ckpt-partner with --ckpt-local none are refused in one line, status 2, nothing made.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-restart-carry-opts
export REVIVE_RESTART_RANK=$FRANK REVIVE_COORD_BIN=$COORD
unset REVIVE_CKPT_PARTNER REVIVE_CKPT_STAGE_BW REVIVE_MPIX_NO_WAIT_STAGE REVIVE_FILE_DATA_MAX REVIVE_SNAPSHOT_DIR
C=$W/cache
mkdir -m 700 "$C"
# meta_has FILE KEY VALUE...: each "KEY VALUE" pair is a line of FILE
meta_has() {
    local f=$1
    shift
    while [ $# -ge 2 ]; do grep -qx -- "$1 $2" "$f" || return 1; shift 2; done
}
REVIVE_LOCAL_DIR=$C REVIVE_CKPT_PARTNER=1 REVIVE_CKPT_STAGE_BW=900000000 REVIVE_MPIX_NO_WAIT_STAGE=1 \
    REVIVE_FILE_DATA_MAX=64M start_job a 2 --iters $UNTIL_KILLED --sleep-us 300
expect_rc 0 "a snapshot with --term" "$CKPT" --term $JOB
ref=$(tail -n1 "$W/cmd.out")
wait $JOB
saved=(ckpt.partner 1 ckpt.stage_bw 900000000 ckpt.no_wait_stage 1 ckpt.file_data_max 64M)
meta_has "$ref/snapshot.meta" "${saved[@]}" &&
    pass "the job's --ckpt-partner, --ckpt-stage-bw, --ckpt-no-wait-stage, --ckpt-file-data-max recorded" ||
    fail "the job's options are not all recorded: $(grep -E '^ckpt\.' "$ref/snapshot.meta" | tr '\n' ' ')"

# ckpt-info shows them
"$INFO" "$ref" >"$W/i.out" 2>"$W/i.err"
grep -qF -- "--ckpt-local $C --ckpt-partner --ckpt-stage-bw 900000000 --ckpt-no-wait-stage --ckpt-file-data-max 64M" "$W/i.out" &&
    pass "ckpt-info: $(grep 'checkpoint options' "$W/i.out" | sed 's/^ *//')" ||
    fail "ckpt-info does not show the job's options: $(grep -i option "$W/i.out")"
"$INFO" --json "$ref" >"$W/j.out" 2>"$W/j.err"
if python3 - "$W/j.out" "$C" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
def find(x):
    if isinstance(x, dict):
        if "ckpt_options" in x:
            return x["ckpt_options"]
        x = list(x.values())
    if isinstance(x, list):
        for y in x:
            r = find(y)
            if r is not None:
                return r
o = find(d)
want = {"local": sys.argv[2], "partner": True, "stage_bw": 900000000, "no_wait_stage": True,
        "file_data_max": "64M", "save_shared": False}
sys.exit(0 if o and all(o.get(k) == v for k, v in want.items()) else 1)
PY
then pass "ckpt-info --json: ckpt_options as recorded"
else fail "ckpt-info --json: $(grep -o '"ckpt_options":{[^}]*}' "$W/j.out" || head -c 300 "$W/j.out")"
fi

# the restarted job takes them again
"$RESTART" "$ref" >"$W/r1.out" 2>"$W/r1.err" &
jb=$!; jobs_started="$jobs_started $jb"
wait_exec $jb
nap 1
expect_rc 0 "a snapshot of the restarted job" "$CKPT" --term $jb
wait $jb 2>/dev/null
r1=$(tail -n1 "$W/cmd.out")
case $r1 in "$W"/revive_global_snapshot_$jb.ckpt/*) ;; *) fail "the restarted job's snapshot $r1 is not beside the old one" ;; esac
meta_has "$r1/snapshot.meta" "${saved[@]}" ckpt.local "$C" &&
    pass "the restarted job's snapshot: the job's four options carried" ||
    fail "the restarted job's snapshot: $(grep -E '^ckpt\.' "$r1/snapshot.meta" | tr '\n' ' ')"

# restart-mpi's own options and variables win; --ckpt-dir elsewhere
D=$W/other
REVIVE_CKPT_PARTNER=0 REVIVE_MPIX_NO_WAIT_STAGE=0 "$RESTART" --ckpt-stage-bw 800000000 \
    --ckpt-file-data-max 32M --ckpt-dir "$D" "$ref" >"$W/r2.out" 2>"$W/r2.err" &
jc=$!; jobs_started="$jobs_started $jc"
wait_exec $jc
nap 1
expect_rc 0 "a snapshot of the second restart" "$CKPT" --term $jc
wait $jc 2>/dev/null
r2=$(tail -n1 "$W/cmd.out")
case $r2 in "$D"/revive_global_snapshot_$jc.ckpt/*) pass "--ckpt-dir $D: the restarted job's snapshots there" ;;
*) fail "--ckpt-dir $D: the restarted job's snapshot went to $r2" ;; esac
[ "$(stat -c %a "$D" 2>/dev/null)" = 700 ] && pass "--ckpt-dir: $D made 0700" ||
    fail "--ckpt-dir: $D is $(stat -c %a "$D" 2>&1)"
meta_has "$r2/snapshot.meta" ckpt.partner 0 ckpt.stage_bw 800000000 ckpt.no_wait_stage 0 ckpt.file_data_max 32M &&
    pass "restart-mpi --ckpt-stage-bw, --ckpt-file-data-max, REVIVE_CKPT_PARTNER=0, REVIVE_MPIX_NO_WAIT_STAGE=0: taken" ||
    fail "restart-mpi's own options: $(grep -E '^ckpt\.' "$r2/snapshot.meta" | tr '\n' ' ')"

# refusals: one line, status 2, nothing made
expect_rc 2 "--ckpt-dir with its parent missing" "$RESTART" --ckpt-dir "$W/no/such" "$ref" &&
    err_has "--ckpt-dir $W/no/such does not exist, nor does its parent" &&
    [ "$(grep -c . "$W/cmd.err")" = 1 ] && [ ! -e "$W/no" ] && pass "--ckpt-dir with its parent missing: refused"
: >"$W/afile"
expect_rc 2 "--ckpt-dir naming a file" "$RESTART" --ckpt-dir "$W/afile" "$ref" &&
    err_has "is not a directory" && pass "--ckpt-dir naming a file: refused"
expect_rc 2 "--ckpt-stage-bw 1.5" "$RESTART" --ckpt-stage-bw 1.5 "$ref" &&
    err_has "--ckpt-stage-bw needs a whole number of bytes per second" && pass "--ckpt-stage-bw 1.5: refused"
expect_rc 2 "--ckpt-partner --ckpt-local none" "$RESTART" --ckpt-partner --ckpt-local none "$ref" &&
    err_has "cannot go with --ckpt-local none" && pass "--ckpt-partner --ckpt-local none: refused"
finish
