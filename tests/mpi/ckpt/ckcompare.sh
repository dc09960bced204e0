#!/bin/sh
# ckcompare.sh PROGRAM FLAVOR: runs PROGRAM natively, then tests/mpi/ckpt/PROGRAM-FLAVOR under
# Revive with the test agent (testagent.c) taking checkpoints at random moments (epochs every GAP
# ms: the collective clock converges, the gate closes, the drain runs, the image is captured
# through libcr, the job continues), with 1, 2, 4 and 8 ranks (REVIVE_TEST_QUICK=1: up to 4). Fails
# unless both runs succeed and print the same checksums, every rank ran on the lower half, at
# least one checkpoint was committed with 2 ranks or more, no checkpoint was given up because a
# rank could not write its image (the test agent's capture_failed), and the last
# images are valid and hold nothing of the lower half (no MPI shared-memory segment, no socket).
# The native run is Open MPI's build of the program when FLAVOR is mpich and it was built (see
# below; REVIVE_TEST_CKREF=mpich: MPICH's own), the log says which.
prog=$1 flavor=$2
. "$(dirname "$0")/../mpienv.sh" || exit $?
bin=$REVIVE_BUILDDIR/tests/mpi/ckpt/$prog-$flavor
agent=$REVIVE_BUILDDIR/tests/mpi/ckpt/.libs/testagent.so
[ -x "$bin" ] || { echo "SKIP: $bin not built"; exit 77; }
[ -r "$agent" ] || { echo "SKIP: $agent not built"; exit 77; }
nps="1 2 4 8"
[ "${REVIVE_TEST_QUICK:-0}" = 1 ] && nps="1 2 4"
TMO0=${REVIVE_MPI_TIMEOUT:-120}
# The native run, the reference: MPICH 4.0's native ranks poll flat out while they wait, and with
# 8 ranks on 2 loaded cores its run took 34-45 s where Open MPI's (yielding when idle) took 2-7 s
# and Revive's MPICH run (REVIVE_MPI_YIELD_WHEN_IDLE) 4-18 s. The programs print checksums of
# what they computed, which are the same under either library (a difference fails the test: it
# cannot hide one of Revive's), so MPICH's tests take Open MPI's native run when there is one.
ref_bin=$bin ref_launcher=$launcher ref=$flavor
ompi_bin=$REVIVE_BUILDDIR/tests/mpi/ckpt/$prog-ompi
ompi_launcher=$(sed -n 's/^MPIEXEC_OMPI = //p' "$mk")
if [ "$flavor" = mpich ] && [ "${REVIVE_TEST_CKREF:-ompi}" = ompi ] && [ -x "$ompi_bin" ] &&
    [ -n "$ompi_launcher" ] && [ -x "$ompi_launcher" ]; then
    ref_bin=$ompi_bin ref_launcher=$ompi_launcher ref=ompi
fi
echo "reference: the native run of $prog-$ref"
fail=0
for n in $nps; do
    # rounds: about a second of work natively on this machine, whatever the size
    case $prog in
    ck_coll) rounds=$((900 / n)) ;;
    ck_p2p) rounds=$((320 / n)) ;;
    ck_mpix) rounds=12 ;;
    ck_io) rounds=$((120 / n)) ;;
    ck_rma) rounds=$((300 / n)) ;;
    ck_misc) rounds=$((240 / n)) ;;
    ck_threads) rounds=$((200 / n)) ;;
    *) rounds=100 ;;
    esac
    rm -rf "$tmp/img" "$tmp/report" "$tmp/shm"* && mkdir "$tmp/img"
    truncate -s 8M "$tmp/shm"
    # (the same run as the other MPI's test of PROG when it ran before in this CI run: its kept
    # output, mpienv.sh's native_kept)
    native_kept "$tmp/native.out" "$tmp/native.err" "$ref_launcher" "$n" "$ref_bin" "$rounds"; rn=$?
    # Revive's run may take a few times the native one on a loaded machine, so the limit
    # follows it (a hang still ends: TMO plus three times the native time)
    TMO=$((TMO0 + 3 * native_s))
    REVIVE_MPI_REPORT=$tmp/report REVIVE_MPI_TEST_AGENT=$agent REVIVE_TEST_AGENT_SHM=$tmp/shm \
        REVIVE_TEST_AGENT_GAP_MS=${GAP:-$n:$((10 * n))} REVIVE_TEST_AGENT_CAPTURE=$tmp/img \
        run_revive "$n" "$bin" "$rounds" >"$tmp/revive.out" 2>"$tmp/revive.err"; rr=$?
    lines=$(cat "$tmp/report" 2>/dev/null | wc -l)
    stats=$([ -f "$tmp/shm.stats" ] && tr '\n' ' ' <"$tmp/shm.stats")
    committed=$(sed -n 's/^committed //p' "$tmp/shm.stats" 2>/dev/null)
    bad= lower=
    for img in "$tmp"/img/rank_*.img; do
        [ -e "$img" ] || continue
        "$REVIVE_BUILDDIR/tools/cr_info" --verify "$img" >"$tmp/info" 2>"$tmp/verify.err" || bad="$bad $(basename "$img")"
        # nothing of the lower half: no MPI shared-memory segment, no socket (the build and
        # source folders' names left out: one named like "wt-ucx51", where the program, its
        # current folder and Revive's files are, failed every ck_* test)
        sed -e "s|$REVIVE_BUILDDIR/|BUILD/|g" -e "s|${REVIVE_SRCDIR:-$REVIVE_BUILDDIR}/|SRC/|g" \
            -e "s|$REVIVE_BUILDDIR\$|BUILD|" "$tmp/info" | grep -E '/dev/shm/|socket:|vader|ucx' |
            grep -v "$tmp/shm" >"$tmp/lower" &&
            lower="$lower $(basename "$img"): $(head -2 "$tmp/lower" | tr -s ' ' | tr '\n' ' ')"
    done
    if [ $rn != 0 ] || [ $rr != 0 ]; then
        echo "FAIL np=$n: exit status native $rn, revive $rr ($stats)"
        sed 's/^/  native: /' "$tmp/native.err" | tail -5
        sed 's/^/  revive: /' "$tmp/revive.err" | tail -8; fail=1
    elif ! cmp -s "$tmp/native.out" "$tmp/revive.out"; then
        echo "FAIL np=$n: outputs differ ($stats)"; diff "$tmp/native.out" "$tmp/revive.out" | head -20; fail=1
    elif [ "$lines" != "$n" ]; then
        echo "FAIL np=$n: $lines of $n ranks report running on Revive's lower half"; fail=1
    elif ! grep -q '^capture_failed 0 ' "$tmp/shm.stats" 2>/dev/null; then
        echo "FAIL np=$n: a rank could not write its image ($stats)"; fail=1
    elif [ $n -ge 2 ] && [ "${committed:-0}" -lt 1 ]; then
        echo "FAIL np=$n: no checkpoint was committed during the run ($stats)"; fail=1
    elif [ -n "$bad" ]; then
        echo "FAIL np=$n: images do not verify:$bad"; cat "$tmp/verify.err"; fail=1
    elif [ -n "$lower" ]; then
        echo "FAIL np=$n: the lower half is in an image:$lower"; fail=1
    else
        echo "ok np=$n: $(wc -l <"$tmp/native.out") checksum lines identical$([ "$native_from" = kept ] && echo " (to the native run an earlier test made)"); $stats"
    fi
done
exit $fail
