#!/bin/bash
# Checkpoints taken while a process sleeps must not cut its sleeps short
# (the kernel makes an interrupted sleep return EINTR when a handler runs;
# Revive finishes it instead). Three checkpoints (--cont) land in the three
# kinds of sleep of crt_sleeper: sleep(2), usleep(1.5 s), nanosleep(1 s). The
# program repeats each kind until it sees a checkpoint inside one (crt_sleeper.c),
# so that a checkpoint late on a loaded machine lands in the next round rather
# than after the program's end (a CI at load 15: "checkpoint at +1.2 s" came after
# it had exited, the times from point 1 being fixed); each kind is checkpointed
# once it began, again (5 tries) when the checkpoint fell between two rounds.
CRS_TIMEOUT=${CRS_TIMEOUT:-300} # the program lives until each kind of sleep had its checkpoint
. "$(dirname "$0")/../crs_lib.sh"
crs_setup sleep_through
crs_need_tools cr_run cr_checkpoint
d=$WORK/run
mkdir -p "$d"
touch "$d/go.1" "$d/go.2"
if ! crs_start "$d" orig "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_sleeper"; then
    crs_fail "crt_sleeper under cr_run never started"
    crs_show "$d/orig.err"
    crs_summary sleep_through
fi
# moved_on KIND ROUND: the program left KIND (its next kind began, or point 2) or began a round
# after ROUND; 0 when it left, 1 when it began another round of KIND, 2 when it ended or 120 s passed
moved_on() {
    local next=$d/ready.s$(($1 + 1)) i=0
    [ "$1" = 3 ] && next=$d/ready.2
    while [ $i -lt 6000 ]; do
        [ -e "$next" ] && return 0
        [ "$(cat "$d/ready.s$1" 2>/dev/null)" -gt "$2" ] 2>/dev/null && return 1
        if [ -e "$d/orig.status" ]; then # it ended: after point 2 (written first) or not
            [ -e "$next" ] && return 0
            return 2
        fi
        crs_nap 0.02
        i=$((i + 1))
    done
    return 2
}
names=("" "sleep(2)" "usleep(1.5 s)" "nanosleep(1 s)")
ncks=0
for k in 1 2 3; do
    what=${names[$k]}
    if ! crs_wait_for "$d/ready.s$k" 120 "$d/orig.status"; then
        crs_fail "crt_sleeper never began its $what"
        break
    fi
    for try in 1 2 3 4 5; do
        ncks=$((ncks + 1))
        if ! crs_tool "$WORK/ck" cr_checkpoint -f "$WORK/img" "$PID"; then
            crs_fail "checkpoint in $what: $(crs_status_text $?): $(head -n 1 "$WORK/ck.err")"
            break 2
        fi
        round=$(cat "$d/ready.s$k")
        moved_on $k "$round"
        case $? in
        0) break ;;
        1) crs_note "the checkpoint in $what came between two of its rounds: again" ;;
        *) crs_fail "crt_sleeper ended or hung in its $what after a checkpoint"; break 2 ;;
        esac
        [ $try = 5 ] && crs_fail "no checkpoint landed inside $what in 5 tries"
    done
done
st=$(crs_wait_status "$d/orig")
if [ "$st" = 42 ] && tail -n 1 "$d/orig.out" | grep -q ' RESULT ok$'; then
    crs_pass "every sleep lasted its full time, a checkpoint inside each kind ($ncks checkpoints)"
else
    crs_fail "crt_sleeper: $(crs_status_text "$st")"
fi
crs_show "$d/orig.out" 20
crs_summary sleep_through
