#!/bin/bash
# rank_libchunk.sh FLAVOR: memory of the MPI library's whose bytes look like a malloc chunk's
# header at a snapshot stays the library's (diffrev32 R-L9). A region that appeared while MPI_Init
# ran and that nothing explains is the library's unless it holds a chunk of the application's
# malloc (src/pml_hooks/halves_moments.c); each capture looks again for a chunk whose header was
# not written when MPI_Init ended. It looked at every page of the library's memory again, so a
# live buffer of the library whose data at a page start read like a header (0, then a page
# multiple with IS_MMAPPED) was taken for the application's, saved and restored. One rank of
# rank_libchunk.c under mpirun -am ft-enable-cr: three regions made while MPI_Init runs (the
# library's to the layer); A written then, B written after MPI_Init, both then given a chunk's
# header (A before the first MPIX_Checkpoint, B between the first and the second); C given a
# header after MPI_Init (the late header the recheck is for). After the second: A and B the
# library's, C the application's. A run whose regions were not made while MPI_Init ran proves
# nothing: tried again (3 runs at most), else SKIP-PART.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rank_libchunk
ck_workdir rlibchunk
for try in 1 2 3; do
    rm -rf "$d"/revive_global_snapshot_*
    clean timeout -k 5 300 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n 1 "$prog" >out.$try 2>err.$try </dev/null
    st=$?
    v=$(sed -n 's/^verdict: //p' out.$try)
    case $v in
    ok)
        [ $st = 0 ] && pass "run $try: $(grep -E '^[ABC]: ' out.$try | sed 's/ why:.*//' | tr '\n' ' ')(A, B the library's buffers shaped like chunks; C the application's chunk)" ||
            failed "run $try: the job ended with status $st"
        break ;;
    none*)
        echo "run $try: $v"
        [ $try = 3 ] && echo "SKIP-PART: the regions were not made while MPI_Init ran in 3 runs (the check proves nothing)" ;;
    *)
        failed "run $try (status $st): ${v:-no verdict}"
        sed 's/^/  /' out.$try; show_err err.$try
        break ;;
    esac
done
left=$(no_strays "$d/") || failed "processes left: $left"
exit $fail
