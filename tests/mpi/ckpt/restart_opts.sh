#!/bin/bash
# restart_opts.sh FLAVOR: restart-mpi's options and refusals on a real job (issue 7). A job
# started with "mpirun -am ft-enable-cr" and a launcher option of its own (Open MPI:
# --oversubscribe; MPICH: -launcher fork) is checkpointed while it runs (sequence 0) and with
# --term (sequence 1). Then, from another working directory:
#   --showme of the snapshot directory names the newest sequence, the saved launcher option and
#   the rank restarter; --seq 0 names sequence 0; --hostfile F and "-- OPTIONS" go in;
#   a restart of sequence 0 by a relative path, with --hostfile and an extra option, runs to the
#   end (its results are the native run's last ones) with status 0;
#   a copy of the snapshot with a truncated image, a missing image or damaged metadata is refused
#   in one message naming what is wrong, status non-zero, no process left, and the original
#   snapshot still restarts to the native result;
#   a corrupted (not truncated) image is refused by restart-mpi before the launch, naming the
#   rank and file (--no-verify leaves it to the rank); a 0644 image is "not private";
#   a launcher option typo fails the restart without marking the snapshot as failed;
#   a rank killed in a restarted job makes restart-mpi exit non-zero, no process left;
#   a copy of the snapshot under another name, with the working directory and the program in it
#   moved, restarts with --relocate OLD=NEW to the native result (without it: one message naming
#   the program and --relocate).
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
export REVIVE_RESTART_RANK=$restarter
n=2 steps=400 ms=150
case $flavor in
ompi) opt=(--oversubscribe) extra=(--bind-to none) hf=--hostfile hline="localhost slots=8" ;;
*) opt=(-launcher fork) extra=(-bind-to none) hf=-f hline="localhost:8" ;;
esac
d=$tmp/opts
mkdir -p "$d/elsewhere"
cd "$d" || exit 1
touch pace
echo "$hline" >hosts
run_native "$n" "$prog" $steps >native.out 2>native.err ||
    { failed "the native run: status $?"; tail -n 3 native.err; exit 1; }
pids=()
# one_message WHAT PATTERN FILE RC: refused with status RC != 0 in one or two lines matching
# PATTERN, not counting the refusal said first while another sequence is read through to name it
# (restart-mpi's deep check of the advice: diffrev37 R-L14, f4107b4)
one_message() {
    if [ "$4" != 0 ] && grep -q -- "$2" "$3" &&
        [ "$(grep -v "; checking sequence [0-9]* of .* (reading every image of it through" "$3" |
            grep -c .)" -le 2 ]; then
        pass "$1: $(head -n 1 "$3")"
    else
        failed "$1: status $4, expected one message matching '$2'"; head -n 5 "$3"
    fi
    strays_after "$1"
}

# the job runs a copy of the program in the work folder, so that --relocate moves it too
cp -p "$prog" "$d/rst_prog"
clean timeout -k 5 600 "$wrapper" -am ft-enable-cr "${opt[@]}" --ckpt-dir "$d" -n "$n" "$d/rst_prog" \
    $steps --pace "$d/pace" $ms >out.0 2>err.0 &
job=$!; pids+=($job)
two_snapshots $job

# ---- --showme, --seq, --hostfile, -- options, from another directory --------------------------
cd "$d/elsewhere" || exit 1
"$RESTART" --showme "$jd" >show.1 2>&1; rc=$?
if [ $rc = 0 ] && grep -qF -- "${opt[*]}" show.1 && grep -qF "$restarter $jd/1" show.1; then
    pass "--showme of the directory: the newest sequence, the job's '${opt[*]}'"
else
    failed "--showme of the directory: status $rc: $(cat show.1)"
fi
"$RESTART" --showme --seq 0 "$jd" >show.0 2>&1; rc=$?
[ $rc = 0 ] && grep -qF "$restarter $jd/0" show.0 && pass "--showme --seq 0: sequence 0" ||
    failed "--showme --seq 0: status $rc: $(cat show.0)"
"$RESTART" --showme --hostfile ../hosts -- "${extra[@]}" "$jd" >show.h 2>&1; rc=$?
[ $rc = 0 ] && grep -qF -- "$hf $d/hosts ${extra[*]}" show.h && grep -qF -- "${opt[*]}" show.h &&
    pass "--showme --hostfile F -- ${extra[*]}: $(cut -c1-150 show.h)" ||
    failed "--showme --hostfile F -- ${extra[*]}: status $rc: $(cat show.h)"

# ---- a real restart of sequence 0: relative path, hostfile, extra option ------------------------
rm -f "$d/pace"
clean timeout -k 5 600 "$RESTART" --hostfile ../hosts -- "${extra[@]}" ../"${jd#$d/}"/0 >out.r0 2>err.r0
rc=$?
k=$(grep -chE '^(step [0-9]+: |done: )' out.r0)
if [ $rc = 0 ] && [ "$k" -gt 1 ] && cmp -s <(results "$d/native.out" | tail -n "$k") <(results out.r0); then
    pass "restart of sequence 0 by a relative path from elsewhere, with --hostfile and -- ${extra[*]}: status 0, its $k result lines as uninterrupted"
else
    failed "restart of sequence 0: status $rc, $k result lines"; tail -n 5 err.r0
fi
strays_after "restart of sequence 0"

# ---- damaged copies are refused -----------------------------------------------------------------
bad() { # b: a fresh copy of the job's snapshot directory; its images the only copies (a
    # node-local cache going by the copy's name would be fetched over a damaged one, newuser9 F8)
    b=$d/revive_global_snapshot_1.ckpt
    rm -rf "$b"
    cp -a "$jd" "$b"
    only_shared_copy "$b/1"
}
bad
sz=$(stat -c %s "$b/1/rank_1.img")
truncate -s $((sz / 2)) "$b/1/rank_1.img"
clean timeout -k 5 120 "$RESTART" "$b/1" >bad.out 2>bad.err; rc=$?
one_message "a truncated rank image" "rank_1.img" bad.err $rc
bad
rm -f "$b/1/rank_0.img"
clean timeout -k 5 120 "$RESTART" "$b/1" >bad.out 2>bad.err; rc=$?
one_message "a missing rank image" "rank_0.img" bad.err $rc
bad
printf 'XXXX' | dd of="$b/1/snapshot.meta" bs=1 seek=40 conv=notrunc 2>/dev/null
clean timeout -k 5 120 "$RESTART" "$b/1" >bad.out 2>bad.err; rc=$?
one_message "damaged metadata" "snapshot.meta" bad.err $rc
rm -f "$d/revive_global_snapshot_1.ckpt/1/snapshot.meta"
clean timeout -k 5 120 "$RESTART" "$d/revive_global_snapshot_1.ckpt/1" >bad.out 2>bad.err; rc=$?
one_message "missing metadata" "revive_global_snapshot_1.ckpt" bad.err $rc
# corrupted, not truncated: bytes changed in the middle of an image (its size and header
# intact): restart-mpi checks every chunk before the launch and names the rank and the file
# (the rank used to find it after the launch); --no-verify leaves it to the rank
bad
sz=$(stat -c %s "$b/1/rank_1.img")
printf 'CORRUPTCORRUPT' | dd of="$b/1/rank_1.img" bs=1 seek=$((sz / 2)) conv=notrunc 2>/dev/null
clean timeout -k 5 120 "$RESTART" "$b/1" >bad.out 2>bad.err; rc=$?
one_message "a corrupted rank image" "restart-mpi: .*rank 1.*rank_1.img" bad.err $rc
grep -q "revive-restart-rank" bad.err && failed "a corrupted rank image: the job was launched"
clean timeout -k 5 120 "$RESTART" --no-verify "$b/1" >bad.out 2>bad.err; rc=$?
[ $rc != 0 ] && grep -q "rank 1" bad.err && pass "--no-verify: the rank finds it: $(grep -m1 'rank 1' bad.err | cut -c1-150)" ||
    failed "--no-verify of a corrupted image: status $rc: $(tail -n 3 bad.err)"
strays_after "--no-verify"
# an image others could write is "not private", not "damaged"
bad
chmod 644 "$b/1/rank_0.img"
clean timeout -k 5 120 "$RESTART" "$b/1" >bad.out 2>bad.err; rc=$?
one_message "a 0644 rank image" "rank_0.img is not private" bad.err $rc
grep -q "damaged" bad.err && failed "a 0644 rank image is called damaged: $(cat bad.err)"
# a 0755 newest sequence directory: restart-mpi refuses it, so ckpt-info and ckpt-info --verify
# of the snapshot directory must not call it good (they said OK, status 0: issue 7 review F5);
# both give restart-mpi's reason and remedy
bad
chmod 755 "$b/1"
clean timeout -k 5 120 "$RESTART" "$b" >bad.out 2>bad.err; rc=$?
one_message "a 0755 sequence directory, restart-mpi" "$b/1 is not private (mode 0755).*chmod 700" bad.err $rc
for v in "" --verify; do
    clean timeout -k 5 120 "$INFO" $v "$b" >info.out 2>info.err; rc=$?
    if [ $rc = 1 ] && grep -q "$b/1 cannot be restarted: $b/1 is not private (mode 0755).*chmod 700" info.err &&
        grep -q "REFUSED by restart-mpi" info.out; then
        pass "a 0755 sequence directory, ckpt-info $v: status 1, $(head -n 1 info.err | cut -c1-160)"
    else
        failed "a 0755 sequence directory, ckpt-info $v: status $rc (restart-mpi refuses it): $(cat info.err)"
    fi
done
rm -rf "$d/revive_global_snapshot_1.ckpt"

# ---- hosts given after -- must resolve (issue 7 review F6) --------------------------------------
# before, MPICH's launcher, given a host nobody knows, waited for REVIVE_LAUNCH_TIMEOUT (300 s);
# now refused before the launch in one line naming it, as the job's own hosts are
case $flavor in ompi) hopt=--host ;; *) hopt=-hosts ;; esac
t0=$SECONDS
clean timeout -k 5 100 "$RESTART" -- $hopt nosuchhost "$ref" >bad.out 2>bad.err; rc=$?
one_message "restart-mpi -- $hopt nosuchhost (in $((SECONDS - t0)) s)" \
    "the launcher option $hopt nosuchhost names host 'nosuchhost', which this machine cannot resolve" bad.err $rc
grep -q "failed_restarts" "$jd/index" && failed "an unknown host marked the snapshot as failed"

# ---- a failed launch is not the snapshot's failure -------------------------------------------------
# a launcher option that does not exist: the launcher fails before any rank begins; the
# sequence is not marked as failed in its index (the next default restart would skip it)
clean timeout -k 5 120 "$RESTART" -- --no-such-launcher-option "$ref" >typo.out 2>typo.err; rc=$?
if [ $rc != 0 ] && ! grep -q "failed_restarts" "$jd/index" && grep -q "before any rank began" typo.err; then
    pass "a launcher option typo: status $rc, the snapshot not marked as failed"
else
    failed "a launcher option typo: status $rc, index: $(grep failed "$jd/index"); $(tail -n 2 typo.err)"
fi
strays_after "a launcher option typo"

# ---- a rank killed in a restarted job ---------------------------------------------------------------
touch "$d/pace"
clean timeout -k 5 600 "$RESTART" "$ref" >out.k 2>err.k &
rjob=$!; pids+=($rjob)
if wait_steps out.k 2 $rjob; then
    victim=
    for p in $(descendants $rjob); do
        [ "$(cat /proc/$p/comm 2>/dev/null)" = rst_prog ] && victim=$p
    done
    [ -n "$victim" ] && kill -KILL $victim
    wait $rjob; rc=$?
    if [ -n "$victim" ] && [ $rc != 0 ] && ! grep -q '^done: ' out.k; then
        pass "a rank killed in the restarted job: restart-mpi exits with status $rc"
    else
        failed "a rank killed in the restarted job: victim '$victim', status $rc"
    fi
else
    failed "the restarted job printed no step"; tail -n 5 err.k
fi
strays_after "a rank killed"

# ---- copied under another name, working directory moved: --relocate ------------------------------
# the whole work folder (the job's cwd, the snapshot in it) moves; a copy of the snapshot under a
# name of the user's choosing is known by its metadata; --relocate OLD=NEW reaches every rank
cd "$tmp" || exit 1
mv "$d" "$d.moved"
cp -a "$d.moved/${jd#$d/}" "$d.moved/my-snapshot"
clean timeout -k 5 600 "$RESTART" "$d.moved/my-snapshot/1" >"$tmp/out.nr" 2>"$tmp/err.nr"; rc=$?
one_message "the program moved, no --relocate" "rst_prog.*--relocate" "$tmp/err.nr" $rc
clean timeout -k 5 600 "$RESTART" --relocate "$d=$d.moved" "$d.moved/my-snapshot/1" \
    >"$d.moved/out.m" 2>"$d.moved/err.m"; rc=$?
mv "$d.moved" "$d"
cd "$d/elsewhere" || exit 1
if [ $rc = 0 ] && cmp -s <(results "$d/native.out") <(results "$d/out.0" "$d/out.m"); then
    pass "a renamed copy, the working directory moved, --relocate: the native result"
else
    failed "a renamed copy with --relocate: status $rc"; tail -n 5 "$d/err.m"
fi
# no node-local cache goes by the copy's name: that is no news to print on every rank
! grep -q "is not a snapshot sequence directory" "$d/err.m" ||
    failed "a renamed copy: every rank says its cache is not used: $(grep -m1 'not a snapshot' "$d/err.m")"
strays_after "--relocate"

# ---- the original snapshot still restarts ------------------------------------------------------------
rm -f "$d/pace"
clean timeout -k 5 600 "$RESTART" "$ref" >out.1 2>err.1; rc=$?
if [ $rc = 0 ] && cmp -s <(results "$d/native.out") <(results "$d/out.0" out.1); then
    pass "the snapshot restarts after all this: $(results "$d/native.out" | wc -l) result lines as uninterrupted"
else
    failed "the snapshot after all this: status $rc"; tail -n 5 err.1
fi
strays_after "the last restart"
exit $fail
