#!/bin/bash
# stdin_unread.sh FLAVOR: rank 0 reads its standard input, 20000 bytes given to the launcher from
# a file, 100 bytes a step (stdin_unread.c, 2 ranks); ckpt-mpirun --json --term half way. The
# launcher passed the whole file on at once (it fits in the pipe to rank 0), so what rank 0 had
# not read was in that pipe, outside its image: a restart does not get it. ckpt-mpirun must say
# how many bytes (its JSON: stdin_unread, stdin_rank 0, and its warning line on stderr); the
# restart, given /dev/null, ends with the total rank 0 had read before the snapshot, and that
# total plus the bytes said is the file's size. Before (review9 F1) nothing was said: the
# restarted job ended with a different answer and status 0.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog stdin_unread
ck_workdir stdinunread
size=20000
head -c $size /dev/zero | tr '\0' x >input
clean timeout -k 5 300 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n 2 "$prog" <input >out.0 2>err.0 &
job=$!; pids+=($job)
for i in $(seq 1200); do grep -q '^ready$' out.0 2>/dev/null && break; sleep 0.1; done
grep -q '^ready$' out.0 || { failed "rank 0 did not get ready: $(tail -n 2 err.0)"; exit 1; }
sleep 0.5 # some steps: rank 0 has read part of its input
c=$(coord $job) || { failed "no coordinator under the job"; exit 1; }
clean timeout -k 5 300 "$CKPT" --wait --json --term "$c" >ckpt.out 2>ckpt.err; rc=$?
wait $job
ref=$(tail -n 1 ckpt.out)
if [ $rc != 0 ] || [ ! -d "$ref" ]; then
    failed "ckpt-mpirun --term: status $rc"; show_err ckpt.err err.0; exit 1
fi
if grep -q '^total ' out.0; then
    failed "the job read its whole input before the snapshot: $(grep '^total ' out.0)"; exit 1
fi
clean timeout -k 5 300 "$RESTART" "$ref" </dev/null >out.1 2>err.1; rrc=$?
read_before=$(sed -n 's/^total //p' out.1)
json=$(head -n 1 ckpt.out)
unread=$(sed -n 's/.*"stdin_unread":\([0-9]*\).*/\1/p' <<<"$json")
srank=$(sed -n 's/.*"stdin_rank":\([0-9]*\).*/\1/p' <<<"$json")
warn=$(grep 'warning: rank 0 had not read' ckpt.err)
if [ $rrc != 0 ] || [ -z "$read_before" ]; then
    failed "restart-mpi $ref </dev/null: status $rrc, no total"; show_err err.1 out.1
elif [ -z "$unread" ] || [ "$srank" != 0 ]; then
    failed "ckpt-mpirun's JSON says nothing of rank 0's unread standard input: $json"; show_err ckpt.err
elif [ $((read_before + unread)) != $size ]; then
    failed "rank 0 had read $read_before of $size bytes at the snapshot, ckpt-mpirun says $unread unread"
elif [[ $warn != *"had not read $unread bytes of its standard input (in its pipe"* ]]; then
    failed "ckpt-mpirun's warning: '$warn'"; show_err ckpt.err
else
    pass "ckpt-mpirun --term said: ${warn#ckpt-mpirun: }; the restart had read $read_before: $read_before + $unread = $size"
fi
grep -qx "rank\.0\.stdin_unread $unread" "$ref/snapshot.meta" ||
    failed "snapshot.meta does not record rank 0's $unread unread bytes: $(grep stdin "$ref/snapshot.meta")"
left=$(no_strays "$d/") || failed "processes left: $left"
exit $fail
