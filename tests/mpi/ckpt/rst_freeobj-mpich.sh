#!/bin/sh
# rank 1 parked by a snapshot at MPI_Win_free, then (another job) at MPI_File_close, and
# restarted (rst_finalize.sh): fails when either part fails, skips when either skips
d=$(dirname "$0")
"$d/rst_finalize.sh" mpich win; a=$?
"$d/rst_finalize.sh" mpich file; b=$?
for s in $a $b; do [ $s = 0 ] || [ $s = 77 ] || exit 1; done
[ $a = 0 ] && [ $b = 0 ] && exit 0
exit 77
