#!/bin/bash
# verify_once.sh FLAVOR: each rank image is read and hashed once in a restart (issue 7, restart
# time; src/filem/verified.h). restart-mpi verifies every chunk of every image before the launch;
# a rank whose image is that very file, unchanged since, copies its chunks into place without
# hashing them again (said at REVIVE_VERBOSE=2):
#  a. restart-mpi REF: each rank says its image is the file restart-mpi verified; the job ends
#     with the native result;
#  b. restart-mpi --no-verify REF: no rank says so (each checks its chunks as it reads them); the
#     native result;
#  d. restart-mpi --showme REF (traced: strace -f) opens each image once;
#  c. an image damaged after restart-mpi's check, before the launch (fault point
#     restart-checked-hold): it is no longer the file the check read, its rank hashes it and
#     refuses it (checksum mismatch, status 1), and no rank takes it for the verified file.
flavor=$1
. "$(dirname "$0")/lib.sh"
snapc_mpi_setup verify-once restart
iters=${SNAPC_MPI_ITERS:-3000}
said="restart-mpi verified, unchanged since: its chunks are not hashed again"
# the ranks' log level: Open MPI's launcher passes a variable on only when told (-x)
xenv=()
[ "$flavor" = ompi ] && xenv=(-- -x REVIVE_VERBOSE)

native_run
held_mpi_job
expect_rc 0 "ckpt-mpirun --term" timeout 300 "$CKPT" --wait --term $JOB || { touch "$W/go"; finish; }
REF=$(tail -n1 "$W/cmd.out")
job_gone $JOB 60 || fail "--term: mpirun still runs"
wait $JOB
touch "$W/go"
# an image changed in the last second is not handed on (its change time could move within the
# same tick of the file system's clock unseen): the snapshot is a few seconds old in a real restart
sleep 2.2

# restart REF NAME [restart-mpi options]: the restart's output in $W/NAME.out, .err; ST its status
restart() {
    local name=$1; shift
    ( clean_exec REVIVE_VERBOSE=2 timeout -k 5 300 "$RESTART" "$@" "${xenv[@]}" "$REF" ) >"$W/$name.out" 2>"$W/$name.err"
    ST=$?
}
# a. verified by restart-mpi: not hashed again
restart a
[ $ST = 0 ] || { fail "restart-mpi: status $ST"; tail -5 "$W/a.err"; }
cmp -s "$W/native.out" "$W/a.out" || { fail "restarted result differs"; cat "$W/a.out"; }
n=$(grep -c "$said" "$W/a.err")
[ "$n" = $np ] || { fail "$n of $np ranks said their image was the file restart-mpi verified (not hashed again)"; grep -i "rank_\|verified" "$W/a.err" | head -5; }
pass "$flavor: restart-mpi REF: every rank copies the image restart-mpi verified without hashing it again ($n of $np), the native result"

# b. --no-verify: the ranks check their chunks
restart b --no-verify
[ $ST = 0 ] || { fail "restart-mpi --no-verify: status $ST"; tail -5 "$W/b.err"; }
cmp -s "$W/native.out" "$W/b.out" || { fail "restarted result differs (--no-verify)"; cat "$W/b.out"; }
grep -q "$said" "$W/b.err" && fail "--no-verify: a rank took its image for one restart-mpi verified: $(grep "$said" "$W/b.err" | head -1)"
pass "$flavor: restart-mpi --no-verify: the ranks hash their chunks, the native result"

# d. restart-mpi's check (every chunk, the files each image maps) opens each image once: they are
#    read through the one descriptor (src/filem/verify.c; tests/snapc/verify_opens.sh with fake
#    ranks); before, 4 opens (the reader, the file checksum, the tree's members, the mapped files)
if command -v strace >/dev/null && strace -qq -o /dev/null -e trace=openat true 2>/dev/null; then
    ( clean_exec strace -f -qq -o "$W/d.trace" -e trace=open,openat,openat2 timeout -k 5 300 "$RESTART" \
        --showme "${xenv[@]}" "$REF" ) >"$W/d.out" 2>"$W/d.err"
    st=$?
    [ $st = 0 ] || fail "d: restart-mpi --showme: status $st: $(tail -n 2 "$W/d.err")"
    counts= other=
    for r in $(seq 0 $((np - 1))); do
        c=$(grep -c "\"$REF/rank_$r\\.img\"" "$W/d.trace")
        counts="$counts $c"
        [ "$c" = 1 ] || other=1
    done
    [ -z "$other" ] &&
        pass "$flavor: restart-mpi --showme opens each image once (per rank:$counts)" ||
        fail "d: restart-mpi --showme opened the images other than once each (per rank:$counts)"
else
    echo "SKIP-PART d: strace cannot trace here"
fi

# c. damaged after the check: the rank hashes it and refuses it
img=$REF/rank_1.img
sz=$(stat -c %s "$img")
( clean_exec REVIVE_VERBOSE=2 REVIVE_FAULT=restart-checked-hold REVIVE_STAGE_HOLD="$W/hold" \
    timeout -k 5 300 "$RESTART" "${xenv[@]}" "$REF" ) >"$W/c.out" 2>"$W/c.err" &
R=$!; jobs_started="$jobs_started $R"
wait_for 120 'grep -q "holds after its check" "$W/c.err" || ! kill -0 $R 2>/dev/null' ||
    fail "restart-mpi did not hold after its check"
grep -q "holds after its check" "$W/c.err" || fail "restart-mpi ended before its hold: $(tail -3 "$W/c.err")"
printf '\377\377\377\377\377\377\377\377' | dd of="$img" bs=1 seek=$((sz / 2)) conv=notrunc status=none
touch "$W/hold"
wait $R; st=$?
[ $st = 1 ] || { fail "an image damaged after restart-mpi's check: status $st, expected 1"; tail -5 "$W/c.err"; }
grep -q "rank 1.*checksum mismatch" "$W/c.err" || fail "rank 1 did not find its damaged chunk: $(grep -i "rank 1" "$W/c.err" | tail -3)"
grep "$said" "$W/c.err" | grep -q "rank_1.img" && fail "rank 1's image changed after the check and was still taken for the verified file"
pass "$flavor: an image damaged after restart-mpi's check: its rank hashes it and refuses it (checksum mismatch, status 1)"
finish
