#!/bin/bash
# A process restarted in a pid namespace of its own (the original still held its PID),
# checkpointed there by its outer PID, then restarted directly under its PID (as root, once the
# PID is free) must be checkpointable again, and its last restart must end as the uninterrupted
# run. Before, the image kept the first restart's outer PID in libcr and the direct restart
# listened for checkpoint requests under that dead PID's name: cr_checkpoint waited 5 s and said
# the process had no checkpoint thread yet (crt_ids; found by hand with a counter program).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup ns_then_direct
crs_need_tools cr_run cr_checkpoint cr_restart
crs_need_root "a restart directly under the original PID"
prog=$CRS_BIN/crt_ids

# in_own_ns PID: a process runs as PID inside a pid namespace of its own; prints its outer PID.
in_own_ns() {
    grep -h '^NSpid:' /proc/[0-9]*/status 2>/dev/null |
        awk -v p="$1" 'NF > 2 && $NF == p { print $2; f = 1; exit } END { exit !f }'
}

# runs_directly PID: PID is a test program in the outermost pid namespace.
runs_directly() {
    grep -q "^NSpid:[[:space:]]*$1\$" "/proc/$1/status" 2>/dev/null &&
        tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q crt_ids
}

r=$WORK/ref
st=$(crs_uninterrupted "$r" ref "$prog")
[ "$st" = 42 ] || { crs_fail "the uninterrupted run: $(crs_status_text "$st")"; crs_summary ns_then_direct; }
crs_after_point 2 "$r/ref.out" >"$WORK/ref.after2"

# the original at point 1 keeps its PID; its image ($WORK/img) is restarted beside it
crs_busy_image ns_then_direct "$prog"
pid=$PID
crs_launch "$WORK/r1" "$CRS_TOOLS/cr_restart" "$WORK/img"
outer=
for _ in $(seq 100); do
    outer=$(in_own_ns "$pid") && break
    [ -e "$WORK/r1.status" ] && break
    sleep 0.1
done
if [ -z "$outer" ]; then
    crs_fail "1st restart: no copy runs as PID $pid in a pid namespace while the original holds it"
    crs_show "$WORK/r1.err"
    crs_summary ns_then_direct
fi
crs_pass "1st restart: in a pid namespace of its own as $pid (outer PID $outer)"
kill -9 "$pid"
crs_wait_status "$d/orig" 30 >/dev/null
rm -f "$d/ready.2"
touch "$d/go.1"
crs_wait_for "$d/ready.2" 30 "$WORK/r1.status" || {
    crs_fail "1st restart: never reached point 2"
    crs_show "$WORK/r1.err"
    crs_summary ns_then_direct
}
crs_tool "$WORK/ck2" cr_checkpoint --kill -f "$WORK/img2" "$outer" ||
    { crs_fail "checkpoint of the 1st restart by its outer PID $outer: $(head -n 1 "$WORK/ck2.err")"; crs_summary ns_then_direct; }
crs_wait_status "$WORK/r1" 30 >/dev/null

# the PID is free now: the 2nd restart comes back directly under it
crs_launch "$WORK/r2" "$CRS_TOOLS/cr_restart" "$WORK/img2"
for _ in $(seq 100); do
    runs_directly "$pid" && break
    [ -e "$WORK/r2.status" ] && break
    sleep 0.1
done
if ! runs_directly "$pid"; then
    if o=$(in_own_ns "$pid"); then
        kill -9 "$o"
        crs_skip "PID $pid was taken by another process meanwhile: the 2nd restart could not have it"
    fi
    crs_fail "2nd restart: not running as PID $pid ($(crs_status_text "$(cat "$WORK/r2.status" 2>/dev/null)"))"
    crs_show "$WORK/r2.err"
    crs_summary ns_then_direct
fi
crs_pass "2nd restart: directly under PID $pid"
CRS_CKPT_TIMEOUT=30 crs_tool "$WORK/ck3" cr_checkpoint --kill -f "$WORK/img3" "$pid"
st=$?
if [ "$st" = 0 ]; then
    crs_pass "the 2nd restart is checkpointed by its PID $pid"
else
    crs_fail "checkpoint of the 2nd restart by its PID $pid: $(crs_status_text "$st"): $(head -n 1 "$WORK/ck3.err")"
    kill -9 "$pid" 2>/dev/null
    crs_summary ns_then_direct
fi
crs_wait_status "$WORK/r2" 30 >/dev/null

touch "$d/go.2"
st=$(crs_run "$WORK/r3" "$CRS_TOOLS/cr_restart" "$WORK/img3")
crs_expect_run "the 3rd restart ends as the uninterrupted run after point 2" "$WORK/ref.after2" "$WORK/r3" "$st"
crs_summary ns_then_direct
