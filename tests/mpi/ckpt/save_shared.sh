#!/bin/bash
# save_shared.sh FLAVOR (newuser7b F1): save_shared.c, 2 ranks each adding 1 per step to a counter
# in a file it maps shared and writable (MAP_SHARED, PROT_WRITE).
# 1. ckpt-mpirun --term without --save-shared: the snapshot is taken, and its summary warns once
#    per rank naming the rank, its file and the mapping's length (before: nothing, and a second
#    restart from the snapshot silently read the counters the first left in the files: 332 for
#    200); the snapshot's metadata keeps them (rank.R.shared_file.0) and ckpt-info repeats them.
# 2. ckpt-mpirun --term --save-shared: no warning; two restarts from the one snapshot each end
#    with the uninterrupted run's results (the pages written back into the files first).
# 3. mpirun -am ft-enable-cr --ckpt-save-shared (every snapshot of the job): the same with a plain
#    ckpt-mpirun --term (one restart, then a second from the same snapshot).
# 4. periodic snapshots (--ckpt-interval 1) without it: the job's own stderr warns once per rank,
#    once a job (no ckpt-mpirun is there to).
# 5. one file both ranks map shared and writable (SAVE_SHARED_ONE=1; diffrev34 R-L20, diffrev35
#    R-M3 (b)), rank 1's thread adding to it outside MPI and rank 1 parked 1 s after rank 0's
#    capture (REVIVE_FAULT=mpi-park-late): the two ranks' saved copies differ, rank 1's read
#    last; rank 0 finishes its image 2 s after its pages (mpi-image-late), so that rank 0's image
#    is the one FINISHED last (checked: cr_info --json's created_ns and saved_ns). The file is
#    overwritten after the snapshot. restart-mpi says the file is written back from rank 1's copy
#    only (the one read last), rank 1 finds the file at its own count (D = 0) and the results are
#    the uninterrupted run's. Before: both ranks wrote their copies back in no set order (rank 0's
#    earlier copy last: D < 0, a counter one short), nothing said; with 00c3afb's rule (the image
#    finished last) rank 0's copy only (D < 0).
# 6. as 5, each rank mapping only its own 3 pages of the file (SAVE_SHARED_ONE=slice): rank 1's
#    copy is read last but holds none of rank 0's part, which rank 0's copy writes back (a rule
#    leaving every other copy of the file to the last one lost it: results differ).
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_workdir run
ck_build_src save_shared -pthread
np=2 steps=40 ms=100
run_native $np "$prog" $steps "$d/nopace" 0 "$d/native.cnt" >native.out 2>native.err ||
    { failed "the native run: status $?"; show_err native.err; exit 1; }
grep -q "^done: $steps $steps " native.out || { failed "natively: $(tail -n 1 native.out)"; exit 1; }

# job NAME [WRAPPER OPTIONS]: a paced job under Revive in the folder $d/NAME (its counters in
# NAME/cnt.R, output NAME/out.0), ended by ckpt-mpirun --term $CKOPTS after its second step; sets
# ref (the snapshot) and leaves the shell in $d/NAME. 1 (a FAIL line) when no snapshot was taken.
job() {
    local name=$1 j
    shift
    mkdir -p "$d/$name" && cd "$d/$name" || exit 1
    touch pace
    clean timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d/$name" "$@" -n $np "$prog" $steps \
        "$d/$name/pace" $ms "$d/$name/cnt" >out.0 2>err.0 &
    j=$!; pids+=($j)
    if ! wait_steps out.0 2 $j; then
        rm -f pace; wait $j
        failed "$name: no second step before the snapshot: $(nsteps out.0) steps"; show_err err.0; return 1
    fi
    local c
    c=$(coord $j) || { rm -f pace; wait $j; failed "$name: no coordinator found"; return 1; }
    # shellcheck disable=SC2086
    timeout -k 5 300 "$CKPT" --wait --term $CKOPTS "$c" >ckpt.term.out 2>ckpt.term.err ||
        { rm -f pace; wait $j; failed "$name: ckpt-mpirun --term $CKOPTS:"; show_err ckpt.term.err; return 1; }
    ref=$(tail -n 1 ckpt.term.out)
    wait $j
    rm -f pace
    return 0
}
# restarted N WHAT: restart-mpi of $ref (out.N, err.N); PASS when it ended 0 and the original's
# steps and its own are the native run's
restarted() {
    clean timeout -k 5 600 "$RESTART" "$ref" >out.$1 2>err.$1; rc=$?
    if [ $rc != 0 ]; then
        failed "$2: restart-mpi: status $rc"; show_err err.$1
    elif cmp -s <(results "$d/native.out") <(results out.0 out.$1); then
        pass "$2: snapshot after step $(nsteps out.0), restarted: as uninterrupted: $(grep '^done:' out.$1)"
    else
        failed "$2: the results differ from the uninterrupted run"
        diff <(results "$d/native.out") <(results out.0 out.$1) | head -n 6
    fi
}

# 1. the default: the files keep their pages, and the summary says so
CKOPTS=
if job plain; then
    pat="^ckpt-mpirun: job [0-9]*: warning: rank %d maps $d/plain/cnt\\.%d shared and writable \\(8192 bytes\\): its pages are not in the snapshot"
    n=$(grep -c "shared and writable" ckpt.term.err)
    if [ "$n" = $np ] && grep -qE "$(printf "$pat" 0 0)" ckpt.term.err && grep -qE "$(printf "$pat" 1 1)" ckpt.term.err
    then
        pass "without --save-shared: one warning per rank: $(grep -m1 'shared and writable' ckpt.term.err)"
    else
        failed "without --save-shared: ckpt-mpirun should warn once per rank ($np lines, each naming the rank, its file and 8192 bytes), found $n"
        show_err ckpt.term.err
    fi
    meta=$(grep -h '^rank\.[0-9]*\.shared_file\.' "$ref/snapshot.meta" | sort)
    want=$(printf 'rank.0.shared_file.0 8192 %s\nrank.1.shared_file.0 8192 %s' "$d/plain/cnt.0" "$d/plain/cnt.1")
    [ "$meta" = "$want" ] && pass "the snapshot's metadata keeps them: $(echo $meta)" ||
        failed "snapshot.meta: '$meta', expected '$want'"
    timeout -k 5 60 "$INFO" "$ref" >info.out 2>info.err
    n=$(grep -c "warning: rank [01] maps .*/plain/cnt\.[01] shared and writable (8192 bytes)" info.out)
    [ "$n" = $np ] && pass "ckpt-info repeats them ($n lines)" || { failed "ckpt-info: $n warning lines, expected $np"; show_err info.out; }
    # and in --json: "unsaved_shared", one object per mapping with its rank, bytes and path
    timeout -k 5 60 "$INFO" --json "$ref" >info.json 2>/dev/null
    got=$(python3 -c 'import json, sys
def find(o):
    if isinstance(o, dict):
        if "unsaved_shared" in o:
            return o["unsaved_shared"]
        o = list(o.values())
    if isinstance(o, list):
        for v in o:
            r = find(v)
            if r is not None:
                return r
    return None
u = find(json.load(open(sys.argv[1]))) or []
print(" ".join("%d:%d:%s" % (x["rank"], x["bytes"], x["path"].rsplit("/", 1)[-1]) for x in u))' info.json 2>&1)
    [ "$got" = "0:8192:cnt.0 1:8192:cnt.1" ] && pass "ckpt-info --json: unsaved_shared $got" ||
        failed "ckpt-info --json: unsaved_shared '$got', expected '0:8192:cnt.0 1:8192:cnt.1'"
fi

# 2. ckpt-mpirun --save-shared: two restarts from the one snapshot, each as uninterrupted
CKOPTS=--save-shared
if job saved; then
    if grep -q "shared and writable" ckpt.term.err; then
        failed "--save-shared: ckpt-mpirun still warns: $(grep -m1 'shared and writable' ckpt.term.err)"
    else
        pass "--save-shared: no warning"
    fi
    restarted 1 "--save-shared, first restart"
    restarted 2 "--save-shared, second restart from the same snapshot"
fi

# 3. mpirun --ckpt-save-shared: every snapshot of the job saves them
CKOPTS=
if job always --ckpt-save-shared; then
    grep -q "shared and writable" ckpt.term.err &&
        failed "--ckpt-save-shared: ckpt-mpirun warns: $(grep -m1 'shared and writable' ckpt.term.err)"
    restarted 1 "mpirun --ckpt-save-shared, first restart"
    restarted 2 "mpirun --ckpt-save-shared, second restart from the same snapshot"
fi
# 5. one file both ranks save: the copy read last (rank 1's) is written back
export SAVE_SHARED_ONE=1
CKOPTS=--save-shared
mkdir -p "$d/one" && cd "$d/one" || exit 1
run_native $np "$prog" $steps "$d/nopace" 0 "$d/one/native.cnt" >native.out 2>native.err ||
    { failed "one file: the native run: status $?"; show_err native.err; }
if ! grep -qx "rank 1: file count minus own count: 0" native.err || ! cmp -s <(results "$d/native.out") <(results native.out); then
    failed "one file, natively: not the per-rank files' results, or rank 1's count differs from the file's"
    show_err native.err
elif REVIVE_FAULT=mpi-park-late,mpi-image-late job one; then
    # the premise: rank 1 read the file last, rank 0's image was finished last
    for r in 0 1; do "$REVIVE_BUILDDIR/tools/cr_info" --json "$ref/rank_$r.img" >info.$r.json 2>&1; done
    order=$(python3 -c '
import json, sys
def times(name):
    t = [0, 0]
    def walk(x):
        if isinstance(x, dict):
            if x.get("saved") and "saved_ns" in x: t[0] = max(t[0], x["saved_ns"])
            if "created_ns" in x: t[1] = x["created_ns"]
            for v in x.values(): walk(v)
        elif isinstance(x, list):
            for v in x: walk(v)
    walk(json.load(open(name)))
    return t
a, b = times("info.0.json"), times("info.1.json")
print("rank1-read-last" if b[0] > a[0] > 0 else "rank0-read-last", "rank0-finished-last" if a[1] > b[1] else "rank1-finished-last")' 2>&1)
    # every byte changed since the snapshot: only a write-back gives the counts back
    head -c 12288 /dev/urandom | dd of="$d/one/cnt.all" conv=notrunc status=none
    clean timeout -k 5 600 "$RESTART" "$ref" >out.1 2>err.1; rc=$?
    off=$(sed -n 's/^rank 1: file count minus own count: //p' err.1)
    said="restart-mpi: $d/one/cnt.all on $(hostname), which ranks 0,1 saved (--save-shared), is written back from rank 1's copy, the one read last (a part of the file that copy lacks: from the rank that saved it)"
    if [ $rc != 0 ]; then
        failed "one file: restart-mpi: status $rc"; show_err err.1
    elif [ "$off" != 0 ]; then
        failed "one file: rank 1 found the file $off adds away from its own count: not its copy, read last"
    elif ! cmp -s <(results "$d/native.out") <(results out.0 out.1); then
        failed "one file: the results differ from the uninterrupted run"
        diff <(results "$d/native.out") <(results out.0 out.1) | head -n 6
    elif [ "$order" != "rank1-read-last rank0-finished-last" ]; then
        failed "one file: the premise does not hold (wanted rank 1 read last, rank 0's image finished last): $order"
    elif ! grep -qxF "$said" err.1; then
        failed "one file: restart-mpi does not say that the file is written back from rank 1's copy only"
        show_err err.1
    else
        pass "one file both ranks save, rank 1 read it last, rank 0's image finished last: written back from rank 1's copy only (said), rank 1 finds the file at its own count, results as uninterrupted"
    fi
fi
# 6. one file, each rank mapping only its own part (SAVE_SHARED_ONE=slice): rank 1's copy is read
#    last, but holds none of rank 0's part: rank 0's copy writes that part back
export SAVE_SHARED_ONE=slice
mkdir -p "$d/slice" && cd "$d/slice" || exit 1
run_native $np "$prog" $steps "$d/nopace" 0 "$d/slice/native.cnt" >native.out 2>native.err ||
    { failed "slices: the native run: status $?"; show_err native.err; }
if ! grep -qx "rank 1: file count minus own count: 0" native.err || ! cmp -s <(results "$d/native.out") <(results native.out); then
    failed "slices, natively: not the per-rank files' results, or rank 1's count differs from the file's"
    show_err native.err
elif REVIVE_FAULT=mpi-park-late,mpi-image-late job slice; then
    head -c $((np * 12288)) /dev/urandom | dd of="$d/slice/cnt.all" conv=notrunc status=none
    clean timeout -k 5 600 "$RESTART" "$ref" >out.1 2>err.1; rc=$?
    off=$(sed -n 's/^rank 1: file count minus own count: //p' err.1)
    if [ $rc != 0 ]; then
        failed "slices: restart-mpi: status $rc"; show_err err.1
    elif [ "$off" != 0 ]; then
        failed "slices: rank 1 found its part of the file $off adds away from its own count"
    elif ! cmp -s <(results "$d/native.out") <(results out.0 out.1); then
        failed "slices: the results differ from the uninterrupted run (rank 0's part not written back?)"
        diff <(results "$d/native.out") <(results out.0 out.1) | head -n 6
    else
        pass "one file, each rank mapping its own part: each part written back from its rank's copy, results as uninterrupted"
    fi
fi
unset SAVE_SHARED_ONE
cd "$d" || exit 1

# 4. periodic snapshots (--ckpt-interval 1): no ckpt-mpirun prints the warnings, so the job's own
#    stderr says them, once a job (not again at each snapshot)
mkdir -p "$d/periodic" && cd "$d/periodic" || exit 1
touch pace
clean timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d/periodic" --ckpt-interval 1 -n $np "$prog" $steps \
    "$d/periodic/pace" $ms "$d/periodic/cnt" >out.0 2>err.0 &
j=$!; pids+=($j)
committed() { ls revive_global_snapshot_*.ckpt/*/snapshot.meta 2>/dev/null | wc -l; }
wait_for_job 120 $j '[ "$(committed)" -ge 2 ]' || failed "periodic: $(committed) snapshots committed in 120 s"
rm -f pace; wait $j
n=$(grep -c "shared and writable" err.0)
pat="snapshot [0-9]*: rank %d maps $d/periodic/cnt\\.%d shared and writable \\(8192 bytes\\): its pages are not in the snapshot"
if [ "$(committed)" -ge 2 ] && [ "$n" = $np ] && grep -qE "$(printf "$pat" 0 0)" err.0 && grep -qE "$(printf "$pat" 1 1)" err.0
then
    pass "periodic: $(committed) snapshots, the job's stderr warns once per rank: $(grep -m1 'shared and writable' err.0)"
else
    failed "periodic: $(committed) snapshots, $n warning lines on the job's stderr (expected $np, once per rank)"
    show_err err.0
fi
cd "$d" || exit 1
left=$(no_strays "$d/") || failed "processes left: $left"
exit $fail
