#!/bin/bash
# rst_libchg.sh FLAVOR: a restart that a rank refuses because of what lies outside its image is
# not the snapshot's failure. rst_libchg keeps a copy of libz (in the work folder) mapped in
# every rank; the job (2 ranks) is ended by "ckpt-mpirun --term" after its second step, then a
# byte is added to the copy (its size differs, as after an upgrade of a library or of Revive
# between the checkpoint and the restart). restart-mpi of the snapshot directory is refused before
# the launch: status 1, one line on stderr naming the file and the rank and saying the snapshot is
# not marked, nothing on stdout, the index unchanged, no process started (before, every rank
# refused after the launch, behind the launcher's banner). With --no-verify that check is left to
# the ranks: status non-zero, the ranks' reason naming the file, the coordinator's line saying the
# restart was refused and the snapshot not marked, the index unchanged, no process left. Before
# (review8 R2) the ranks' refusal was recorded as a failed restart, and the next default restart
# went back to an older sequence, which failed the same way. Then the file is put back with plain
# cp (the same contents, size and build id, a new modification time): the default restart takes
# the same sequence, restart-mpi warns once naming the file's new time, and the job ends as
# uninterrupted (review LOW-3: a copy put back was refused for its time alone). Last, a data file
# every rank maps read-only is changed (same size): refused before the launch, in words for data,
# naming the time a copy needs (touch -d @SECONDS); then a library linked without a build id (a
# copy of libz with its note removed), changed: refused in words for code, as it is mapped
# executable.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rst_libchg
export REVIVE_RESTART_RANK=$restarter REVIVE_TERM_WAIT=5
n=2 steps=40 ms=200
ck_workdir libchg
lib=$d/libchg.so.1
src=$(ldconfig -p 2>/dev/null | awk '/libz\.so\.1 .*x86-64/ {print $NF; exit}')
[ -f "$src" ] || src=/lib/x86_64-linux-gnu/libz.so.1
[ -f "$src" ] || { echo "SKIP: no libz.so.1 to copy"; exit 77; }
cp "$src" "$lib" && cp -p "$lib" "$lib.orig" || { failed "cannot copy $src"; exit 1; }
# a data file every rank maps read-only (RST_LIBCHG_DATA), changed in the last part
data=$d/input.dat
head -c 65536 /dev/urandom >"$data" || { failed "cannot make $data"; exit 1; }
cp -p "$data" "$data.orig" || { failed "cannot copy $data"; exit 1; }
export RST_LIBCHG_DATA=$data
# a library without a build id (libz's copy with its note removed), changed in the last part
noid=$d/libnoid.so.1
if command -v objcopy >/dev/null && objcopy --remove-section=.note.gnu.build-id "$src" "$noid"; then
    export RST_LIBCHG_NOID=$noid
else
    echo "SKIP-PART: a changed library without a build id (objcopy of binutils is needed)"
fi
run_native "$n" "$prog" "$lib" $steps "$d/nopace" $ms >native.out 2>native.err ||
    { failed "the native run: status $?"; tail -n 3 native.err; exit 1; }
touch pace
clean timeout -k 5 600 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n "$n" "$prog" "$lib" $steps \
    "$d/pace" $ms >out.0 2>err.0 &
job=$!; pids+=($job)
wait_steps out.0 2 $job || { failed "no steps before the checkpoint"; tail -n 4 err.0; exit 1; }
ref=$(checkpoint $job term --term) ||
    { rm -f pace; wait $job; failed "ckpt-mpirun --term: $(tail -n 2 ckpt.term.err | tr '\n' ' ')"; exit 1; }
wait $job
rm -f pace
jd=$(dirname "$ref")
cp -p "$jd/index" index.keep
printf '\0' >>"$lib"
clean timeout -k 5 300 "$RESTART" "$jd" >pre.out 2>pre.err; rc=$?
if [ $rc != 1 ]; then
    failed "the changed library, before the launch: restart-mpi status $rc, not 1"; show_err pre.err
elif [ "$(wc -l <pre.err)" != 1 ] || [ -s pre.out ]; then
    failed "the changed library, before the launch: not one line: $(wc -l <pre.err) on stderr," \
        "$(wc -l <pre.out) on stdout"; show_err pre.err
elif ! grep -q "^restart-mpi: .*$lib, mapped by rank 0, changed since the checkpoint (its size differs).*not marked as failed" pre.err; then
    failed "the changed library, before the launch: the line does not name it and say not marked"
    show_err pre.err
elif ! cmp -s index.keep "$jd/index"; then
    failed "the changed library, before the launch: the index changed"
else
    pass "the changed library, before the launch: $(cut -c1-240 pre.err)"
fi
left=$(no_strays "$d/") || failed "the changed library, before the launch: processes left: $left"
clean timeout -k 5 300 "$RESTART" --no-verify "$jd" >bad.out 2>bad.err; rc=$?
if [ $rc = 0 ] || [ $rc = 124 ]; then
    failed "the changed library: restart-mpi status $rc"; show_err bad.err
elif ! grep -q "$lib changed since the checkpoint (its size differs)" bad.err; then
    failed "the changed library: no rank named it"; show_err bad.err
elif ! grep -q -- "$ref was refused: .*not marked as failed" bad.err; then
    failed "the changed library: the refusal does not say the snapshot is not marked as failed"
    show_err bad.err
elif ! cmp -s index.keep "$jd/index"; then
    failed "the changed library: the index changed: $(grep failed_reason "$jd/index" | cut -c1-200)"
elif results bad.out | grep -q .; then
    failed "the changed library: the job ran on: $(results bad.out | head -n 2)"
else
    pass "the changed library: status $rc, not marked: $(grep -m1 'was refused' bad.err | cut -c1-240)"
fi
left=$(no_strays "$d/") || failed "the changed library: processes left: $left"
sleep 0.01
cp "$lib.orig" "$lib"
[ "$(stat -c %Y.%y "$lib")" != "$(stat -c %Y.%y "$lib.orig")" ] || { failed "cp kept the file's time"; exit 1; }
"$RESTART" --showme "$jd" >show.out 2>show.err
if grep -qF "$ref" show.out && ! grep -q skipping show.err; then
    pass "the library put back: the default restart takes $ref again"
else
    failed "the library put back: the default restart is not $ref: $(cat show.out show.err | cut -c1-200)"
fi
clean timeout -k 5 600 "$RESTART" "$jd" >out.1 2>err.1; rc=$?
results out.0 out.1 >both.out
restart_verdict "the library put back"
nw=$(grep -c "^restart-mpi: warning: $lib, mapped by rank 0, has another modification time than at the checkpoint, but the same size and build id" err.1)
if [ "$nw" != 1 ]; then
    failed "the library put back with cp: restart-mpi warned $nw times naming its new time, not once"; show_err err.1
else
    pass "the library put back with cp: warned once: $(grep -m1 "warning: $lib" err.1 | cut -c1-200)"
fi
left=$(no_strays "$d/") || failed "processes left: $left"
# a data file (no build id) changed in place, same size: refused before the launch in words for
# data, saying that its time is compared, not its bytes (newuser7c F3: "the ranks would run
# different code")
printf 'X' | dd of="$data" bs=1 seek=100 conv=notrunc status=none
touch -d '1 hour ago' "$data"
clean timeout -k 5 300 "$RESTART" "$jd" >data.out 2>data.err; rc=$?
if [ $rc != 1 ]; then
    failed "the changed data file: restart-mpi status $rc, not 1"; show_err data.err
elif ! grep -q "$data, mapped by rank 0, changed since the checkpoint (its modification time differs): the ranks would read other data than they mapped; .*its size and modification time are compared, not its bytes.* touch -d @$(stat -c %Y "$data.orig")\\.[0-9]\\{9\\})" data.err; then
    failed "the changed data file: the refusal does not speak of data"; show_err data.err
else
    pass "the changed data file: refused before the launch: $(cut -c1-240 data.err)"
fi
left=$(no_strays "$d/") || failed "the changed data file: processes left: $left"
# a library linked without a build id, changed: refused in words for code, as it is mapped
# executable (diffrev35 R-L1: it was called data)
if [ -n "$RST_LIBCHG_NOID" ]; then
    cp -p "$data.orig" "$data"
    printf '\0' >>"$noid"
    clean timeout -k 5 300 "$RESTART" "$jd" >noid.out 2>noid.err; rc=$?
    if [ $rc != 1 ]; then
        failed "the changed library without a build id: restart-mpi status $rc, not 1"; show_err noid.err
    elif ! grep -q "$noid, mapped by rank 0, changed since the checkpoint (its size differs): the ranks would run different code; put back" noid.err ||
        grep -q 'touch -d' noid.err; then
        failed "the changed library without a build id: the refusal does not speak of code"; show_err noid.err
    else
        pass "the changed library without a build id: refused in words for code: $(cut -c1-200 noid.err)"
    fi
    left=$(no_strays "$d/") || failed "the changed library without a build id: processes left: $left"
fi
exit $fail
