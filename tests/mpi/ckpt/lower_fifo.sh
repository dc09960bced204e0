#!/bin/bash
# lower_fifo.sh FLAVOR: the MPI library's open of a FIFO that waits for a writer (lower_fifo.c: rank
# 0's MPI_File_open of a FIFO nobody writes, 2 ranks). diffrev33 R-L7: the lower half's open ran
# inside a fork guard section whatever it opened (src/pml_hooks/lower_waits.h), so a fork by
# another thread of the rank (outside MPI) waited until the open returned, and a checkpoint's park
# waited for the section until its timeout. Checks:
#   - the other thread's fork returns within 10 s while the open waits (before: only once a
#     writer came);
#   - ckpt-mpirun --timeout 5 meanwhile ends within 60 s, with a snapshot or a "no checkpoint"
#     line naming rank 0 and what it waits for ("is in MPI_File_open, blocked opening PATH (a
#     FIFO: ...)"; before: "is in MPI_File_open" alone);
#   - a writer comes: the open returns, both ranks end normally.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog lower_fifo
ck_workdir lowerfifo
mkfifo fifo || exit 1
clean timeout -k 5 300 "$wrapper" -am ft-enable-cr -n 2 "$prog" "$d/fifo" >out.0 2>err.0 &
job=$!; pids+=($job)
for i in $(seq 1200); do grep -q '^ready$' out.0 2>/dev/null && break; sleep 0.1; done
grep -q '^ready$' out.0 || { failed "rank 0 did not get ready: $(tail -n 2 err.0)"; exit 1; }
for i in $(seq 100); do grep -q '^forked in' out.0 && break; sleep 0.1; done
if grep -q '^forked in' out.0; then
    pass "a fork outside MPI while the library's open of a FIFO waits: $(grep '^forked in' out.0)"
else
    failed "a fork outside MPI did not return within 10 s while the library's open of a FIFO waited"
fi
c=$(coord $job) || { failed "no coordinator under the job"; exit 1; }
t0=$(date +%s)
clean timeout -k 5 60 "$CKPT" --timeout 5 "$c" >ckpt.out 2>ckpt.err; rc=$?
t=$(($(date +%s) - t0))
msg=$(grep 'no checkpoint' ckpt.err)
if [ $rc = 0 ]; then
    pass "a checkpoint while the library's open waits: taken in $t s"
elif [ $rc = 1 ] && [[ $msg == *"rank 0 is in MPI_File_open, blocked opening $d/fifo (a FIFO"* ]]; then
    pass "a checkpoint while the library's open waits: refused in $t s, naming rank 0: ${msg#ckpt-mpirun: }"
else
    failed "ckpt-mpirun --timeout 5 while the library's open waits: status $rc after $t s"
    show_err ckpt.err
fi
# a writer opens the FIFO and closes it (the rank's open returns; it may close before a write)
timeout 20 sh -c ': >fifo'; [ $? = 124 ] && failed "the writer's open of the FIFO did not return within 20 s"
wait $job; rc=$?
if [ $rc = 0 ] && [ "$(grep -c '^rank [01] done, open ' out.0)" = 2 ] && grep -q '^forked in' out.0; then
    pass "the job ended normally once a writer came ($(grep '^rank 0 done' out.0))"
else
    failed "the job after the writer came: status $rc"; show_err out.0 err.0
fi
left=$(no_strays "$d/") || failed "processes left: $left"
exit $fail
