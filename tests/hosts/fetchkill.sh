#!/bin/bash
# fetchkill.sh FLAVOR: a restart whose fetch of a rank image from another host's cache is ended
# mid-way (closing33: "a fetch ended mid-way untested"). A --term snapshot of a job on h1,h2
# (--ckpt-local), rank 2's shared image removed: h2's cache holds its only copy. h2's link is
# slowed (tc tbf, 1 Mbit/s, in h2's network namespace) so that the transfer lasts seconds, and
# the restart-mpi on h1 (ranks on h1,h3) is caught while it receives the copy (its temporary file
# in the snapshot directory holds bytes):
# (a) the sender on h2 is killed (SIGKILL): the bytes it had given its kernel still arrive (the
#     image fits in the socket buffers), so the copy comes whole and the restart goes on, said
#     (restart-mpi waits for the copies under way before it judges); a copy cut short would be
#     one line, status 1, nothing left;
# (a2) h2's link is cut and the sender killed (no byte more, no reset): restart-mpi ends with
#     status 1 in one line naming rank 2 and h2 and how many bytes came; no rank started, no
#     partial file left in the snapshot directory (neither rank_2.img nor its temporary file),
#     no sender, launcher or remote shell left on any host, h2's cached copy unchanged, the
#     sequence not marked as failed;
# (b) restart-mpi itself gets SIGTERM (a ^C's kind): it ends by it (status 143) and leaves the
#     same nothing behind;
# (d) the link at 100 kbit/s (a slow but live copy) and REVIVE_FETCH_TIMEOUT=20: restart-mpi
#     ends at the bound (plus the launch's end), the copy under way ended, in one line naming rank
#     2, h2 and the remedy, nothing left;
# then (c) the link at full speed again: a restart fetches rank 2 from h2 and gives the native
# result.
flavor=$1
. "$(dirname "$0")/lib.sh"
command -v tc >/dev/null 2>&1 || { echo "SKIP: tc (iproute2) is missing: the test slows a host's link with it"; exit 77; }
cache_bed fetchkill 3

term_job a
cached=$HB/node/h2/$jd/0/rank_2.img
[ -f "$cached" ] || { fail "h2's cache does not hold rank 2: $(ls "$(dirname "$cached")" 2>&1)"; finish; }
cp -p "$cached" "$W/rank_2.orig"
rm -f "$ref/rank_2.img"
hostfile "$W/hosts13" h1:2 h3:2
slow() { on h2 tc qdisc replace dev $HB_IF root tbf rate 1mbit burst 32kbit latency 2s; }
fast() { on h2 tc qdisc del dev $HB_IF root 2>/dev/null; }
slow || { fail "cannot slow h2's link (tc qdisc ... tbf in its namespace)"; finish; }
cleanup='fast'
size=$(stat -c %s "$cached")
echo "    rank 2's image: $size bytes; h2's link at 1 Mbit/s: about $((size / 125000)) s to send"

# partial: the temporary file the receiver writes rank 2's copy into, once it holds bytes
partial() { find "$ref" -maxdepth 1 -name '.rank_2.img.tmp.*' -size +0 2>/dev/null | grep -q .; }
# fetch_procs: every process of a fetch still there on any host: a sender, its launcher, a
# remote shell to h2 (the bed's agent)
fetch_procs() {
    local h p c
    for h in h1 h2 h3; do
        for p in $(host_pids $h); do
            c=$(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null)
            case "$c" in
            *--fetch-to*|*hostagent*|*hb-agent*|*hydra_pmi_proxy*|*prted*|*orted*) echo "$h:$p:${c:0:80}" ;;
            esac
        done
    done
}
# nothing_left WHAT: no partial copy, no fetch process, no rank; h2's copy as it was; the
# sequence not marked as failed
nothing_left() {
    local left
    wait_for 30 '[ -z "$(fetch_procs)" ]' || fail "$1: fetch processes left: $(fetch_procs)"
    [ -e "$ref/rank_2.img" ] && fail "$1: a rank_2.img was left in the snapshot directory ($(stat -c %s "$ref/rank_2.img") bytes)"
    left=$(find "$ref" -maxdepth 1 -name '.rank_2.img.*')
    [ -z "$left" ] || fail "$1: the partial copy was left: $left"
    [ -z "$(ranks_hosts)" ] || fail "$1: ranks started: $(ranks_hosts)"
    cmp -s "$cached" "$W/rank_2.orig" || fail "$1: h2's cached copy of rank 2 changed"
    grep -qs "failed_restarts [1-9]" "$(dirname "$ref")/index" &&
        fail "$1: the sequence was marked as failed in the index: $(grep failed_restarts "$(dirname "$ref")/index")"
    # (a cache's restart.failed also records a success: "failed_restarts 0")
    left=$(grep -ls "^failed_restarts [1-9]" "$HB"/node/h*/"$jd"/0/restart.failed)
    [ -z "$left" ] || fail "$1: a cache marks the sequence as failed: $left"
}
# caught NAME: restart-mpi from h1 in the background (RPID; output $W/NAME.out/.err), until the
# copy of rank 2 is arriving (1) or it ended first (0)
caught() {
    ( on h1 timeout -k 5 600 "$RESTART" --ckpt-local "$LOCAL" --hostfile "$W/hosts13" "$ref" \
        >"$W/$1.out" 2>"$W/$1.err" ) &
    RPID=$!
    wait_for 120 'partial || ! kill -0 $RPID 2>/dev/null' && partial && return 0
    fail "$1: the copy of rank 2 never began to arrive (restart-mpi $(kill -0 $RPID 2>/dev/null && echo running || echo ended))"
    sed 's/^/    /' "$W/$1.err"
    return 1
}

# (a) the sender killed mid-way, the link up: the bytes it had handed its kernel still come (an
# image of this size fits in the socket's buffers): the copy is whole, checked, kept, and the
# restart goes on (before, restart-mpi judged on the launcher's end alone: "h2: not reached"
# and status 1, and the copy arriving after that was left in the directory); were it cut
# short, one line saying so. Either way nothing partial is left.
if caught ra; then
    senders=$(for p in $(host_pids h2); do tr '\0' ' ' </proc/$p/cmdline | grep -q -- --fetch-to && echo $p; done)
    [ -n "$senders" ] || fail "ra: no sender found on h2"
    got=$(find "$ref" -maxdepth 1 -name '.rank_2.img.tmp.*' -printf '%s\n' | head -n1)
    kill -KILL $senders 2>/dev/null
    wait $RPID; st=$?
    echo "    the sender killed with ${got:-?} of $size bytes received; restart-mpi status $st"
    if [ $st = 0 ]; then
        grep -qF "rank 2's image was not in $ref: fetched from h2, verified (its sender ended before it said which copy it sent)" "$W/ra.err" ||
            { fail "ra: restart-mpi does not say that rank 2's copy came whole after its sender ended"; sed 's/^/    /' "$W/ra.err"; }
        cmp -s "$W/native.out" "$W/ra.out" || fail "ra: result differs"
        cmp -s "$ref/rank_2.img" "$W/rank_2.orig" || fail "ra: the copy kept differs from h2's"
        pass "$flavor: the fetch's sender killed mid-transfer, its last bytes in flight: the copy came whole, kept (said), native result"
        rm -f "$ref/rank_2.img" # for what follows: h2's copy the only one again
    else
        [ $st = 1 ] || fail "ra: restart-mpi status $st, not 0 or 1"
        grep -q "rank 2's image is in no copy restart-mpi can reach: .*h2: .*broke off after" "$W/ra.err" ||
            { fail "ra: no message naming rank 2, h2 and the broken copy"; sed 's/^/    /' "$W/ra.err"; }
        nothing_left ra
        pass "$flavor: the fetch's sender killed mid-transfer, the copy cut short: one line, status 1, nothing left"
    fi
fi

# (a2) h2's link cut mid-way (no byte more, no reset: a host lost) and its sender killed:
# REVIVE_FETCH_TIMEOUT=60 bounds the launch (its launcher cannot hear from h2), the receiver
# gives up on the silent copy (TCP keepalive, 30 s); one line naming rank 2, h2 and how much
# came, status 1, nothing left; the link back up for what follows
export REVIVE_FETCH_TIMEOUT=60
if caught ra2; then
    hb_in "$(cat "$HB/switch.pid")" ip link set h2 down
    senders=$(for p in $(host_pids h2); do tr '\0' ' ' </proc/$p/cmdline | grep -q -- --fetch-to && echo $p; done)
    kill -KILL $senders 2>/dev/null
    t0=$(date +%s)
    wait $RPID; st=$?
    secs=$(( $(date +%s) - t0 ))
    hb_in "$(cat "$HB/switch.pid")" ip link set h2 up
    echo "    h2's link cut; restart-mpi ended $secs s later, status $st"
    [ $st = 1 ] || fail "ra2: restart-mpi status $st, not 1"
    grep -q "rank 2's image is in no copy restart-mpi can reach: .*h2: its sender began the copy, then the copy broke off after [0-9]* of $size bytes" "$W/ra2.err" ||
        { fail "ra2: no message naming rank 2, h2 and the copy broken off"; sed 's/^/    /' "$W/ra2.err"; }
    [ "$(grep -c . "$W/ra2.err")" = 1 ] || { fail "ra2: more than one line"; sed 's/^/    /' "$W/ra2.err"; }
    [ $secs -lt 120 ] || fail "ra2: restart-mpi took $secs s (REVIVE_FETCH_TIMEOUT 60)"
    nothing_left ra2
    sed 's/^/    /' "$W/ra2.err"
    pass "$flavor: h2's link cut mid-transfer: one line naming rank 2, h2 and the bytes that came, status 1, nothing left, h2's copy intact ($secs s)"
fi
unset REVIVE_FETCH_TIMEOUT

# (b) restart-mpi ended by SIGTERM mid-way
if caught rb; then
    rp=$(pgrep -f -- "^[^ ]*restart-mpi --ckpt-local $LOCAL --hostfile $W/hosts13" | head -n1)
    [ -n "$rp" ] && kill -TERM $rp
    wait $RPID; st=$?
    [ $st = 143 ] || fail "rb: restart-mpi status $st after SIGTERM, not 143"
    nothing_left rb
    sed 's/^/    /' "$W/rb.err"
    pass "$flavor: restart-mpi ended by SIGTERM mid-transfer: status 143, nothing left, h2's copy intact"
fi

# (d) a slow but live copy (h2's link at 100 kbit/s: rank 2's image takes minutes) and
# REVIVE_FETCH_TIMEOUT=20: the bound bounds it (diffrev35 R-L5: restart-mpi waited for the copy
# under way past the bound): restart-mpi ends within the bound and the launch's end (3 s), status
# 1, in one line naming rank 2, h2, how much came and the remedy; nothing left
export REVIVE_FETCH_TIMEOUT=20
if on h2 tc qdisc replace dev $HB_IF root tbf rate 100kbit burst 32kbit latency 2s; then
    t0=$(date +%s)
    on h1 timeout -k 5 600 "$RESTART" --ckpt-local "$LOCAL" --hostfile "$W/hosts13" "$ref" >"$W/rd.out" 2>"$W/rd.err"
    st=$?
    secs=$(( $(date +%s) - t0 ))
    echo "    a copy at 100 kbit/s, REVIVE_FETCH_TIMEOUT=20: restart-mpi ended $secs s later, status $st"
    sed 's/^/    /' "$W/rd.err"
    [ $st = 1 ] || fail "rd: restart-mpi status $st, not 1"
    grep -q "rank 2's image is in no copy restart-mpi can reach: .*h2: its sender began the copy, then the copy was ended after [0-9]* of $size bytes, still coming at the time bound; the part received was removed; not done within 20 s (REVIVE_FETCH_TIMEOUT: raise it for a slow link)" "$W/rd.err" ||
        fail "rd: no message naming rank 2, h2, the copy ended at the bound and the remedy"
    [ "$(grep -c . "$W/rd.err")" = 1 ] || fail "rd: more than one line"
    [ $secs -le 32 ] || fail "rd: restart-mpi took $secs s (REVIVE_FETCH_TIMEOUT 20)"
    nothing_left rd
    pass "$flavor: a slow but live copy ended at REVIVE_FETCH_TIMEOUT=20 ($secs s): one line naming rank 2, h2 and the remedy, status 1, nothing left, h2's copy intact"
else
    fail "cannot slow h2's link to 100 kbit/s"
fi
unset REVIVE_FETCH_TIMEOUT

# (c) full speed: the restart fetches rank 2 and runs
fast
cleanup=
on h1 timeout -k 5 600 "$RESTART" --ckpt-local "$LOCAL" --hostfile "$W/hosts13" "$ref" >"$W/rc.out" 2>"$W/rc.err"
st=$?
[ $st = 0 ] || { fail "rc: restart-mpi status $st"; tail -20 "$W/rc.err"; }
cmp -s "$W/native.out" "$W/rc.out" || { fail "rc: result differs"; cat "$W/native.out" "$W/rc.out"; }
grep -qF "rank 2's image was not in $ref: fetched from h2 ($LOCAL/$jd/0/rank_2.img), verified" "$W/rc.err" ||
    { fail "rc: restart-mpi does not say it fetched rank 2 from h2"; cat "$W/rc.err"; }
pass "$flavor: then a restart at full speed fetched rank 2 from h2's cache, native result"
finish
