#!/bin/bash
# newuser7f F3, F2: the sequence restart-mpi names when it refuses one ("sequence N beside it is
# committed (restart-mpi --seq N DIR)") passes the check restart-mpi makes of the sequence it
# takes, and ckpt-info's index line ("restart-mpi takes N") says what restart-mpi does. Before,
# both named the newest other committed sequence unchecked: with two damaged sequences
# restart-mpi sent the user from one to the other and back, and ckpt-info --verify said
# "restart-mpi takes 1" of the sequence it had just called damaged.
# A job of fake ranks (--ckpt-local none: no cache to fetch a good copy from) checkpointed three
# times (0, 1, 2); then, on copies of that snapshot directory: 2's image truncated; 1's image
# with a byte of its chunk data complemented too; 0's too; 2's snapshot.meta damaged with 1's
# image truncated, then 0's too. E: the refusal is said before another sequence is read through.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-advice
export REVIVE_RESTART_RANK=$FRANK REVIVE_COORD_BIN=$COORD

REVIVE_LOCAL_DIR=none start_job a 2 --iters $UNTIL_KILLED --sleep-us 500
expect_rc 0 "checkpoint 0" "$CKPT" --wait $JOB
expect_rc 0 "checkpoint 1" "$CKPT" --wait $JOB
expect_rc 0 "checkpoint 2 (--term)" "$CKPT" --term $JOB && ref=$(tail -n1 "$W/cmd.out")
wait $JOB
jd=${ref%/*}
[ "${ref##*/}" = 2 ] && [ -f "$jd/0/snapshot.meta" ] && [ -f "$jd/1/snapshot.meta" ] ||
    { fail "three committed sequences expected: $(ls "$jd")"; finish; }
cp -a "$jd" "$W/pristine"

# flip FILE: one byte in the middle of FILE (chunk data) complemented
flip() {
    local off=$(($(stat -c %s "$1") / 2)) b
    b=$(od -An -tu1 -j $off -N1 "$1" | tr -d ' ')
    printf "\\$(printf %03o $((255 - b)))" | dd of="$1" bs=1 seek=$off conv=notrunc status=none
}
# index_line: ckpt-info's index line of the last command
index_line() { grep "^index $jd/index: " "$W/cmd.out"; }
# line_has TEXT: that line contains TEXT
line_has() {
    index_line | grep -qF -- "$1" && return 0
    fail "ckpt-info's index line lacks '$1': $(index_line)"; return 1
}
# names_none N...: the last command named none of these sequences with --seq
names_none() {
    local s
    for s; do
        grep -qF -- "--seq $s " "$W/cmd.err" "$W/cmd.out" &&
            fail "sequence $s (damaged) named: $(cat "$W/cmd.err") $(index_line)"
    done
    return 0
}

# A: 2 damaged (truncated image), 1 and 0 intact
truncate -s 1000 "$jd/2/rank_1.img"
expect_rc 1 "restart-mpi, 2 truncated" "$RESTART" "$jd" && err_has "$jd/2 is damaged" &&
    err_has "sequence 1 beside it is committed (restart-mpi --seq 1 $jd)"
for v in "" --verify; do
    expect_rc 1 "ckpt-info $v, 2 truncated" "$INFO" $v "$jd" &&
        line_has "restart-mpi refuses 2 (damaged" &&
        line_has "sequence 1 beside it is committed (restart-mpi --seq 1 $jd)"
    index_line | grep -q "restart-mpi takes" && fail "ckpt-info $v: restart-mpi takes: $(index_line)"
done
index_line | grep -q "not verified" && fail "ckpt-info --verify says not verified: $(index_line)"
expect_rc 0 "restart-mpi --showme --seq 1, as advised" "$RESTART" --showme --seq 1 "$jd"
pass "one damaged sequence: the intact one beside it named, ckpt-info says restart-mpi refuses 2"

# B: 1's image damaged too (a byte of its chunk data): 0 named, never 1
flip "$jd/1/rank_0.img"
expect_rc 1 "restart-mpi, 2 truncated, 1 flipped" "$RESTART" "$jd" && err_has "$jd/2 is damaged" &&
    err_has "sequence 0 beside it is committed (restart-mpi --seq 0 $jd)" && names_none 1
expect_rc 1 "restart-mpi --seq 1, 2 truncated, 1 flipped" "$RESTART" --seq 1 "$jd" &&
    err_has "$jd/1 is damaged" && err_has "sequence 0 beside it is committed (restart-mpi --seq 0 $jd)" &&
    names_none 2
expect_rc 1 "ckpt-info --verify, 2 truncated, 1 flipped" "$INFO" --verify "$jd" &&
    line_has "restart-mpi refuses 2 (damaged): sequence 0 beside it is committed (restart-mpi --seq 0 $jd)"
expect_rc 1 "ckpt-info, 2 truncated, 1 flipped" "$INFO" "$jd" &&
    line_has "restart-mpi refuses 2 (damaged; not verified: ckpt-info --verify checks every chunk"
expect_rc 0 "restart-mpi --showme --seq 0, as advised" "$RESTART" --showme --seq 0 "$jd"
pass "two damaged sequences: the intact third named, not the other damaged one"

# C: every sequence damaged: none named, run the job again
flip "$jd/0/rank_1.img"
expect_rc 1 "restart-mpi, all damaged" "$RESTART" "$jd" && err_has "$jd/2 is damaged" &&
    err_has "$jd holds no other intact committed sequence (sequences 1, 0 are damaged too" &&
    err_has "run the job again from its start" && names_none 0 1
expect_rc 1 "restart-mpi --seq 0, all damaged" "$RESTART" --seq 0 "$jd" && err_has "$jd/0 is damaged" &&
    err_has "$jd holds no other intact committed sequence (sequences 2, 1 are damaged too" && names_none 1 2
expect_rc 1 "restart-mpi --seq 1, all damaged" "$RESTART" --seq 1 "$jd" && err_has "$jd/1 is damaged" &&
    err_has "$jd holds no other intact committed sequence (sequences 2, 0 are damaged too" && names_none 0 2
expect_rc 1 "ckpt-info --verify, all damaged" "$INFO" --verify "$jd" &&
    line_has "restart-mpi refuses 2 (damaged): $jd holds no other intact committed sequence" &&
    line_has "run the job again from its start" && names_none 0 1
pass "every sequence damaged: none named, 'run the job again from its start'"

# D: 2's snapshot.meta damaged, 1's image truncated, 0 intact
rm -rf "$jd" && cp -a "$W/pristine" "$jd"
printf X | dd of="$jd/2/snapshot.meta" bs=1 seek=60 conv=notrunc status=none
truncate -s 1000 "$jd/1/rank_0.img"
for cmd in "$RESTART --showme" "$INFO"; do
    expect_rc 1 "${cmd##*/} of 2 (damaged metadata), 1 truncated" $cmd "$jd/2" &&
        err_has "$jd/2/snapshot.meta is damaged" &&
        err_has "this snapshot cannot be used: sequence 0 beside it is committed (restart-mpi --seq 0 $jd)" &&
        names_none 1
done
expect_rc 1 "restart-mpi, 2 (damaged metadata) skipped, 1 truncated" "$RESTART" "$jd" &&
    err_has "taking sequence 1" && err_has "$jd/1 is damaged" &&
    err_has "sequence 0 beside it is committed (restart-mpi --seq 0 $jd)"
expect_rc 1 "ckpt-info, 2 (damaged metadata), 1 truncated" "$INFO" "$jd" &&
    line_has "restart-mpi refuses 1 (damaged" &&
    line_has "sequence 0 beside it is committed (restart-mpi --seq 0 $jd)" && names_none 1
grep "DAMAGED: " "$W/cmd.out" | grep -qF "sequence 0 beside it is committed (restart-mpi --seq 0 $jd)" ||
    fail "the listing's DAMAGED line does not name sequence 0: $(grep DAMAGED "$W/cmd.out")"
truncate -s 1000 "$jd/0/rank_1.img"
expect_rc 1 "restart-mpi of 2 (damaged metadata), 1 and 0 truncated" "$RESTART" --showme "$jd/2" &&
    err_has "this snapshot cannot be used, and $jd holds no other intact committed sequence (sequences 1, 0 are damaged too" &&
    names_none 0 1
pass "a damaged snapshot.meta: the sequence named passes restart-mpi's check"

# E: the refusal is said before the check of the sequence it names reads that sequence's images
# (every chunk: minutes for a large job, and before nothing was said meanwhile: diffrev37 R-L14).
# 2's image truncated; a write lease on 1's rank 0 image (fcntl F_SETLEASE) makes restart-mpi's
# open of it wait until the lease is let go: the lease holder, told of the open (SIGIO), copies
# what restart-mpi has said by then and lets the lease go. No timing: the open waits for it.
# That first line gives the refusal's head only, its reason once in the last line (newuser47
# L3: the ~650-character reason was said twice); the job directory here is named with ':' and
# '(' (a timestamp, a copy), where the head is not to be cut.
jd="$W/run:03:17 (copy)"
rm -rf "$jd" && cp -a "$W/pristine" "$jd"
truncate -s 1000 "$jd/2/rank_1.img"
if ! command -v python3 >/dev/null; then
    echo "SKIP-PART: the refusal before another sequence is read (no python3 to hold a lease)"
else
    python3 - "$jd/1/rank_0.img" "$W/lease.err" "$W/said_at_open" "$W/lease.ready" 2>"$W/lease.out" <<'PY' &
import fcntl, os, signal, sys, time
img, err, said, ready = sys.argv[1:5]
fd = os.open(img, os.O_RDWR)
def opened(sig, frame):
    with open(err, 'rb') as f, open(said, 'wb') as o:
        o.write(f.read())
    fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
    sys.exit(0)
signal.signal(signal.SIGIO, opened)
fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_WRLCK)
open(ready, 'w').close()
end = time.time() + 300
while time.time() < end:
    time.sleep(0.05)
sys.exit(3)
PY
    lease=$!
    for i in $(seq 100); do [ -e "$W/lease.ready" ] || ! kill -0 $lease 2>/dev/null && break; sleep 0.1; done
    if [ ! -e "$W/lease.ready" ]; then
        echo "SKIP-PART: the refusal before another sequence is read (no lease could be taken: $(head -c 200 "$W/lease.out"))"
        kill $lease 2>/dev/null; wait $lease
    else
        "$RESTART" "$jd" >"$W/lease.out2" 2>"$W/lease.err"; rrc=$?
        wait $lease; lrc=$?
        [ $rrc = 1 ] && grep -qF "sequence 1 beside it is committed (restart-mpi --seq 1 $jd)" "$W/lease.err" ||
            fail "restart-mpi with 2 truncated (1 read under a lease): status $rrc, advice: $(cat "$W/lease.err")"
        if [ $lrc != 0 ]; then
            fail "restart-mpi never opened sequence 1's image (the lease holder's status $lrc): $(cat "$W/lease.out")"
        elif ! grep -qF "restart-mpi: $jd/2 is damaged (why: below); checking sequence 1 of $jd (reading" "$W/said_at_open"; then
            fail "restart-mpi opened sequence 1's image before saying it refuses 2 (said then: '$(cat "$W/said_at_open")')"
        fi
        [ "$(grep -o "is damaged: rank 1: " "$W/lease.err" | wc -l)" = 1 ] ||
            fail "the refusal's reason is not said once: $(cat "$W/lease.err")"
        [ "$(tail -n 1 "$W/lease.err" | grep -c "$jd/2 is damaged: rank 1: .*; sequence 1 beside it is committed")" = 1 ] ||
            fail "restart-mpi's last line is not the refusal with its advice: $(tail -n 1 "$W/lease.err")"
        pass "the refusal said before the sequence named instead is read through: $(head -n 1 "$W/said_at_open" | head -c 200)"
    fi
fi
wait_no_strays
finish
