#!/bin/bash
# stdin_unread.sh FLAVOR: rank 0 reads its standard input, 20000 bytes the launcher passes on,
# 100 bytes a step (stdin_unread.c, 2 ranks); ckpt-mpirun --json --term half way, then
# restart-mpi with /dev/null as its standard input. The launcher passed the 20000 bytes on at
# once (they fit in the pipe to rank 0), so what rank 0 had not read was in that pipe, outside
# its image (review9 F1: a restart lost it, the job ended with another answer and status 0, and
# nothing was said).
#   ended   the input a file (mpirun ... < input): the launcher closed the pipe after it, so the
#           unread bytes were the rest of the input: the snapshot keeps them (rank_0.stdin) and
#           the restart feeds them to rank 0, then the end: it ends with "total 20000", as the
#           uninterrupted run; ckpt-mpirun and restart-mpi say so.
#   open    the input a FIFO whose writer stays open: more could come, nothing is kept;
#           ckpt-mpirun's JSON (stdin_unread, stdin_rank 0) and warning say how many bytes a
#           restart will not get: the restart's total plus those bytes is 20000.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog stdin_unread
size=20000
# run CASE: the job on input (a file, or the FIFO fed from fd 8), --term half way (ckpt.out,
# ckpt.err, ref), the restart with /dev/null (out.1, err.1, rrc, total); 1 with a FAIL line
run() {
    ck_workdir $1
    head -c $size /dev/zero | tr '\0' x >input
    if [ $1 = open ]; then
        mkfifo fifo && exec 8<>fifo && cat input >&8 || { failed "open: no FIFO"; return 1; }
        clean timeout -k 5 300 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n 2 "$prog" <fifo >out.0 2>err.0 &
    else
        clean timeout -k 5 300 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n 2 "$prog" <input >out.0 2>err.0 &
    fi
    job=$!; pids+=($job)
    for i in $(seq 1200); do grep -q '^ready$' out.0 2>/dev/null && break; sleep 0.1; done
    grep -q '^ready$' out.0 || { failed "$1: rank 0 did not get ready: $(tail -n 2 err.0)"; return 1; }
    sleep 0.5 # some steps: rank 0 has read part of its input
    c=$(coord $job) || { failed "$1: no coordinator under the job"; return 1; }
    clean timeout -k 5 300 "$CKPT" --wait --json --term "$c" >ckpt.out 2>ckpt.err; rc=$?
    wait $job
    [ $1 = open ] && exec 8>&-
    ref=$(tail -n 1 ckpt.out)
    if [ $rc != 0 ] || [ ! -d "$ref" ]; then
        failed "$1: ckpt-mpirun --term: status $rc"; show_err ckpt.err err.0; return 1
    fi
    if grep -q '^total ' out.0; then
        failed "$1: the job read its whole input before the snapshot: $(grep '^total ' out.0)"; return 1
    fi
    clean timeout -k 5 300 "$RESTART" "$ref" </dev/null >out.1 2>err.1; rrc=$?
    total=$(sed -n 's/^total //p' out.1)
    json=$(head -n 1 ckpt.out)
    unread=$(sed -n 's/.*"stdin_unread":\([0-9]*\).*/\1/p' <<<"$json")
    srank=$(sed -n 's/.*"stdin_rank":\([0-9]*\).*/\1/p' <<<"$json")
    if [ $rrc != 0 ] || [ -z "$total" ]; then
        failed "$1: restart-mpi $ref </dev/null: status $rrc, no total"; show_err err.1 out.1; return 1
    elif [ -z "$unread" ] || [ "$srank" != 0 ]; then
        failed "$1: ckpt-mpirun's JSON says nothing of rank 0's unread standard input: $json"; show_err ckpt.err; return 1
    fi
    grep -qx "rank\.0\.stdin_unread $unread" "$ref/snapshot.meta" ||
        failed "$1: snapshot.meta does not record rank 0's $unread unread bytes: $(grep stdin "$ref/snapshot.meta")"
    return 0
}

if run ended; then
    said=$(grep "rank 0 had not read the last $unread bytes" ckpt.err)
    fed=$(grep "rank 0 gets as its standard input the $unread bytes" err.1)
    if [ "$total" != $size ]; then
        failed "ended: the restarted job read $total bytes in all, the uninterrupted one $size ($unread were unread at the snapshot)"
        show_err ckpt.err err.1
    elif [[ $json != *'"stdin_ended":true,"stdin_saved":true'* ]] || [ -z "$said" ] || [ -z "$fed" ]; then
        failed "ended: what was said: $json"; show_err ckpt.err err.1
    elif [ "$(stat -c %a "$ref/rank_0.stdin")" != 600 ] || ! grep -qx "rank\.0\.stdin_saved rank_0.stdin" "$ref/snapshot.meta"; then
        failed "ended: rank_0.stdin not 0600 or not in snapshot.meta: $(ls -l "$ref")"
    else
        pass "ended: ${said#ckpt-mpirun: }; the restart (/dev/null) got them: total $total as uninterrupted"
    fi
    # the kept bytes changed: refused before the launch; gone (a directory re-created from a
    # node's cache has only the images): said, and the restart reads restart-mpi's input
    printf y | dd of="$ref/rank_0.stdin" bs=1 seek=100 conv=notrunc 2>/dev/null
    clean "$RESTART" --showme "$ref" </dev/null >show.out 2>show.err; src=$?
    if [ $src != 1 ] || ! grep -q "rank_0.stdin, rank 0's standard input it had not read, is damaged" show.err; then
        failed "ended: restart-mpi --showme with rank_0.stdin changed: status $src"; show_err show.err
    fi
    rm "$ref/rank_0.stdin"
    clean "$RESTART" --showme "$ref" </dev/null >show.out 2>show.err; src=$?
    if [ $src != 0 ] || ! grep -q "warning: .*rank_0.stdin, rank 0's standard input it had not read ($unread bytes, the end of its input), is not there" show.err; then
        failed "ended: restart-mpi --showme with rank_0.stdin gone: status $src"; show_err show.err
    else
        pass "ended: rank_0.stdin changed: refused before the launch; gone: said, the restart goes on"
    fi
fi
left=$(no_strays "$d/") || failed "processes left: $left"
if run open; then
    warn=$(grep 'warning: rank 0 had not read' ckpt.err)
    if [ $((total + unread)) != $size ]; then
        failed "open: rank 0 had read $total of $size bytes at the snapshot, ckpt-mpirun says $unread unread"
    elif [[ $warn != *"had not read $unread bytes of its standard input (in its pipe, and the launcher may hold more)"* ]] ||
        [[ $json != *'"stdin_saved":false'* ]] || [ -e "$ref/rank_0.stdin" ]; then
        failed "open: ckpt-mpirun's warning: '$warn', JSON $json"; show_err ckpt.err
    else
        pass "open: ${warn#ckpt-mpirun: }; the restart had read $total: $total + $unread = $size"
    fi
fi
left=$(no_strays "$d/") || failed "processes left: $left"
exit $fail
