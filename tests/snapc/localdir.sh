#!/bin/bash
# Node-local first by default (issue 9, point 1), with fake ranks on one host: without
# --ckpt-local each rank writes into $TMPDIR/revive-local-<uid> (here the test's folder), the
# images reach the snapshot directory (a hard link: the same file system) and commit; the
# default directory not private (0755): the checkpoint fails with one message naming it and
# the way out (--ckpt-local), the job runs on, nothing is "fixed" (a job whose TMPDIR is a long
# path: the message, > 512 bytes, arrives whole); private again: the next one commits; the default directory full (a small tmpfs on it, root only): the checkpoint fails
# naming "No space left on device", the earlier snapshot intact; a job that ends normally
# leaves no cached image. --ckpt-local a missing directory: made 0700 when its parent exists,
# else one line naming it, the host and the remedy (newuser9 F7); a regular file: named with the
# host; the full directory's message names the image and the host (newuser9b N2).
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-localdir
L=$TMPDIR/revive-local-$(id -u)

start_job a 3 --coord -- --iters 1000000 --sleep-us 300
jd=$W/revive_global_snapshot_$JOB.ckpt
expect_rc 0 "a snapshot (default node-local directory)" "$CKPT" $JOB && consistent "$jd/0" 3
[ "$(stat -c %a "$L")" = 700 ] || fail "the default directory is not 0700: $(stat -c %a "$L")"
[ -f "$L/$(basename "$jd")/0/rank_1.img" ] || fail "no cached image in $L: $(ls -R "$L" | head)"
[ "$(stat -c %h "$jd/0/rank_1.img")" = 2 ] || fail "the staged image is not a hard link of the cached one"
chmod 0755 "$L"
expect_rc 1 "a snapshot with the default directory not private" "$CKPT" $JOB &&
    err_has "is not private" && err_has "--ckpt-local"
[ "$(grep -c . "$W/cmd.err")" = 1 ] || { fail "more than one line"; cat "$W/cmd.err"; }
[ "$(stat -c %a "$L")" = 755 ] || fail "the directory's mode was changed"
kill -0 $JOB || fail "the job ended"
chmod 0700 "$L"
expect_rc 0 "a snapshot once it is private again" "$CKPT" $JOB
ref=$(tail -n1 "$W/cmd.out")
pass "default node-local directory: used, linked, refused when not private (named), then used again"

# a rank's failure longer than 512 bytes reaches ckpt-mpirun whole (its FAILED frame carried 512
# bytes: the advice after a long path was cut): a job whose TMPDIR is a long path, the default
# directory under it not private
long=$W/$(printf 'd%.0s' $(seq 200))/$(printf 'e%.0s' $(seq 200))
mkdir -p "$long/revive-local-$(id -u)" && chmod 0755 "$long/revive-local-$(id -u)"
ja=$JOB
TMPDIR=$long start_job h 2 --coord -- --iters 1000000 --sleep-us 300
expect_rc 1 "a snapshot with a long default directory not private" "$CKPT" $JOB &&
    err_has "$long/revive-local-$(id -u) is not private" &&
    err_has "(chmod 700, or another directory); or give each node's cache with --ckpt-local DIR"
[ "$(grep -c . "$W/cmd.err")" = 1 ] || { fail "more than one line"; cat "$W/cmd.err"; }
kill -TERM $JOB; wait $JOB
JOB=$ja
pass "a rank's failure of $(wc -c <"$W/cmd.err") bytes reaches ckpt-mpirun whole"

if mount -t tmpfs -o size=1m,mode=0700 revive-localdir "$L" 2>/dev/null; then
    cleanup='umount -l "$L" 2>/dev/null'
    dd if=/dev/zero of="$L/filler" bs=4k 2>/dev/null
    # the image and the host named (newuser9b N2: "writing byte N of the image failed", no
    # file, no host: with a job on many nodes, whose disk?)
    expect_rc 1 "a snapshot with the default directory full" "$CKPT" $JOB &&
        err_has "No space left on device" &&
        err_has " on host $(hostname)); free space on its file system or give another --ckpt-local DIR" &&
        { grep -q "($L/$(basename "$jd")/[0-9]*/rank_[0-9]*\.img on host " "$W/cmd.err" ||
            fail "the full directory's message does not name the image: $(cat "$W/cmd.err")"; }
    "$INFO" --verify "$ref" >"$W/verify.out" 2>&1 || { fail "the earlier snapshot is damaged"; cat "$W/verify.out"; }
    kill -0 $JOB || fail "the job ended"
    umount -l "$L"; cleanup=:
    pass "default node-local directory full: no checkpoint, named; the earlier snapshot intact"
else
    echo "SKIP: cannot mount a tmpfs here (not root?): the full-directory case is not run"
fi
kill -TERM $JOB; wait $JOB

# a job that ends normally leaves no cached image (its snapshots stay committed)
start_job b 2 --coord -- --iters 20000 --sleep-us 300
jd=$W/revive_global_snapshot_$JOB.ckpt
expect_rc 0 "a snapshot of job b" "$CKPT" $JOB
wait $JOB
[ -f "$jd/0/snapshot.meta" ] || fail "job b's snapshot is not committed"
wait_for 30 '[ -z "$(find "$L/$(basename "$jd")" -name "rank_*.img" 2>/dev/null)" ]' ||
    fail "job b ended normally but its cached images stay: $(find "$L" -name 'rank_*.img')"
pass "a job that ends normally removes its cached images"

# with --ckpt-keep 2 the cache holds two committed sequences while the job runs; at its normal
# end both go (the fresh-user review found the older one left)
start_job c 2 --coord --keep 2 -- --iters 20000 --sleep-us 300
jd=$W/revive_global_snapshot_$JOB.ckpt
expect_rc 0 "a first snapshot of job c" "$CKPT" $JOB
expect_rc 0 "a second snapshot of job c" "$CKPT" $JOB
[ "$(find "$L/$(basename "$jd")" -name "rank_*.img" 2>/dev/null | wc -l)" -ge 3 ] ||
    fail "job c's cache does not hold two sequences while it runs: $(find "$L" -name 'rank_*.img')"
wait $JOB
[ -f "$jd/0/snapshot.meta" ] && [ -f "$jd/1/snapshot.meta" ] || fail "job c's snapshots are not committed"
wait_for 30 '[ -z "$(find "$L/$(basename "$jd")" -name "rank_*.img" 2>/dev/null)" ]' ||
    fail "job c (--ckpt-keep 2) ended normally but cached images stay: $(find "$L" -name 'rank_*.img')"
pass "a job with --ckpt-keep 2 that ends normally removes every cached sequence"

# a restart run beside its original while the original still runs (issue 7 review F1): the
# restart's commits took the original for superseded and removed its caches, the sequence it
# was writing among them (its checkpoints then failed). Now the original's caches and directory
# are left alone while it runs; once it is gone (killed), the restart's next commit removes
# them and marks it superseded, as before.
export REVIVE_RESTART_RANK=$FRANK REVIVE_COORD_BIN=$COORD
start_job d 2 --coord -- --iters 1000000 --sleep-us 300
ja=$JOB; jda=$W/revive_global_snapshot_$ja.ckpt; la=$L/revive_global_snapshot_$ja.ckpt
expect_rc 0 "a snapshot of job d" "$CKPT" $ja
"$RESTART" "$jda/0" >"$W/dr.out" 2>"$W/dr.err" &
jb=$!; jobs_started="$jobs_started $jb"
wait_exec $jb
expect_rc 0 "a snapshot of d's restart" "$CKPT" --wait $jb
expect_rc 0 "a second snapshot of d's restart" "$CKPT" $jb
[ -f "$la/0/rank_1.img" ] || fail "the restart's commits removed the running original's cache: $(ls -R "$la" 2>&1 | head -5)"
[ -e "$jda/superseded" ] && fail "the running original was marked superseded: $(cat "$jda/superseded")"
expect_rc 0 "a snapshot of d while its restart runs" "$CKPT" $ja
[ -f "$la/1/rank_1.img" ] || fail "job d's own new sequence is not in its cache: $(ls -R "$la" 2>&1 | head -5)"
expect_rc 0 "a third snapshot of d's restart" "$CKPT" $jb
[ -f "$la/1/rank_1.img" ] || fail "the restart's commit removed the running original's new sequence"
kill -KILL $ja; wait $ja 2>/dev/null
expect_rc 0 "a snapshot of d's restart once d is gone" "$CKPT" $jb
wait_for 30 '[ ! -e "$la" ]' || fail "the ended original's cache stays after the restart's commit: $(ls -R "$la" | head -5)"
grep -q "^superseded.by $W/revive_global_snapshot_$jb.ckpt" "$jda/superseded" 2>/dev/null ||
    fail "the ended original is not marked superseded by its restart"
# ... and listed as such in its snapshot directory, where the agents' sweep looks (local_retain.h)
[ -f "$W/.superseded-$(id -u)/revive_global_snapshot_$ja.ckpt" ] ||
    fail "the ended original is not listed in $W/.superseded-$(id -u): $(ls -A "$W/.superseded-$(id -u)" 2>&1)"
kill -TERM $jb; wait $jb
pass "a restart beside its running original leaves the original's caches; once it is gone they go"

# garbage collection of the node's cache (issue 7 review F4): caches of killed jobs nobody
# restarts, failed sequences and partial images stayed for ever. Job e is killed outright
# after 2 snapshots (a partial image of a gone writer and a sequence never committed planted in
# its cache); two caches of before (no note of their snapshot directory), one 10 days old, one
# new. The first commit of job f on this node removes what no restart can need (e's cache, the
# old one) and keeps the new one. Then f is killed and its shared image of rank 1 removed (its
# cache holds the only copy): job g's commit keeps it; ckpt-info --clean-cache says why for
# each, and keeps the running job's cache.
deadpid=$(($(cat /proc/sys/kernel/pid_max) - 1))   # a pid no process has
while kill -0 $deadpid 2>/dev/null; do deadpid=$((deadpid - 1)); done
start_job e 2 --coord -- --iters 1000000 --sleep-us 300
je=$JOB; le=$L/revive_global_snapshot_$je.ckpt
expect_rc 0 "job e: a snapshot" "$CKPT" $je
expect_rc 0 "job e: a second snapshot" "$CKPT" $je
kill -KILL $(pgrep -f -- "--ready $W/e.ready") $je 2>/dev/null; wait $je 2>/dev/null   # killed outright: ranks too
cp "$le/1/rank_0.img" "$le/1/.rank_0.img.tmp.$deadpid"
mkdir -m 700 "$le/7"; cp "$le/1/rank_0.img" "$le/7/rank_0.img"
for n in 1 2; do
    mkdir -m 700 -p "$L/revive_global_snapshot_99999$n.ckpt/3"
    cp "$le/1/rank_0.img" "$L/revive_global_snapshot_99999$n.ckpt/3/rank_0.img"
done
touch -d '10 days ago' "$L/revive_global_snapshot_999991.ckpt" "$L"/revive_global_snapshot_999991.ckpt/3{,/rank_0.img}
# the caches of before are no list's: a commit looks at them when it walks every cache, once a
# day (filem/local_gc.h; jobs a-d walked already): the last walk made a day ago
[ -f "$L/.uncollected/.walked" ] || fail "no stamp of the last walk of the node's caches after jobs a-d"
touch -d '25 hours ago' "$L/.uncollected/.walked"
start_job f 2 --coord -- --iters 1000000 --sleep-us 300
jf=$JOB; lf=$L/revive_global_snapshot_$jf.ckpt
expect_rc 0 "job f: a snapshot (its agents collect the cache)" "$CKPT" $jf
wait_for 30 '[ ! -e "$le" ]' || fail "job e (killed, every image committed in its snapshot directory) keeps a cache: $(ls -a "$le" "$le"/* 2>&1 | head -8)"
[ -e "$L/revive_global_snapshot_999991.ckpt" ] && fail "a cache of before, 10 days old, stays"
[ -f "$L/revive_global_snapshot_999992.ckpt/3/rank_0.img" ] || fail "a new cache of before was removed (it may be a running job's)"
grep -q "node-local cache $L: removed .* of ended jobs no restart can need" "$W/f.err" ||
    fail "job f's agents do not say what they removed: $(grep 'node-local cache' "$W/f.err")"
kill -KILL $(pgrep -f -- "--ready $W/f.ready") $jf 2>/dev/null; wait $jf 2>/dev/null
rm -f "$W/revive_global_snapshot_$jf.ckpt/0/rank_1.img"
start_job g 2 --coord -- --iters 1000000 --sleep-us 300
jg=$JOB
expect_rc 0 "job g: a snapshot" "$CKPT" $jg
[ -f "$lf/0/rank_1.img" ] || fail "job f's cached image, the only copy of a committed image, was removed"
expect_rc 0 "ckpt-info --clean-cache" "$INFO" --clean-cache
out=$(cat "$W/cmd.out")
grep -q "^kept    $lf/0: the only copy of a committed image" <<<"$out" || fail "--clean-cache does not keep job f's only copy: $out"
grep -q "^kept    $L/revive_global_snapshot_$jg.ckpt: its job runs" <<<"$out" || fail "--clean-cache does not name job g as running: $out"
[ -f "$L/revive_global_snapshot_$jg.ckpt/0/rank_0.img" ] || fail "--clean-cache removed the running job's cache"
expect_rc 0 "ckpt-info --clean-cache --max-age 0" "$INFO" --clean-cache --max-age 0
[ -e "$L/revive_global_snapshot_999992.ckpt" ] && fail "--max-age 0 left a cache whose snapshot directory is unknown"
[ -f "$lf/0/rank_1.img" ] || fail "--max-age 0 removed job f's only copy"
kill -TERM $jg; wait $jg
rm -rf "$lf"
pass "cache collection: ended jobs' redundant, failed and partial copies go; the only copy, a running job's and young unknown caches stay"
wait_no_strays

# --ckpt-local DIR missing (newuser9 F7: every checkpoint of the run failed, "node-local directory
# DIR: No such file or directory", naming neither the host nor the remedy): made 0700 when its
# parent exists, as --ckpt-dir is; its parent missing too: one line naming DIR, this host and
# the remedy, the job runs on
export REVIVE_LOCAL_DIR=$W/newcache
start_job m 2 --coord -- --iters $UNTIL_KILLED --sleep-us 300
jm=$JOB
unset REVIVE_LOCAL_DIR
expect_rc 0 "a snapshot with --ckpt-local a missing directory whose parent exists" "$CKPT" $jm
[ "$(stat -c %a "$W/newcache" 2>&1)" = 700 ] || fail "the missing --ckpt-local directory was not made 0700: $(stat -c %a "$W/newcache" 2>&1)"
[ -f "$W/newcache/revive_global_snapshot_$jm.ckpt/0/rank_1.img" ] || fail "no cached image in the directory made: $(ls -R "$W/newcache" 2>&1 | head)"
kill -TERM $jm; wait $jm
export REVIVE_LOCAL_DIR=$W/nope/cache
start_job n 2 --coord -- --iters $UNTIL_KILLED --sleep-us 300
jn=$JOB
unset REVIVE_LOCAL_DIR
expect_rc 1 "a snapshot with --ckpt-local a directory whose parent is missing" "$CKPT" $jn &&
    err_has "the node-local directory $W/nope/cache is missing on host $(hostname), and so is its parent: make it there (mkdir -p -m 700 $W/nope/cache on every host of the job), or leave --ckpt-local out"
[ "$(grep -c . "$W/cmd.err")" = 1 ] || { fail "more than one line"; cat "$W/cmd.err"; }
[ -e "$W/nope" ] && fail "the missing parent was made"
kill -0 $jn || fail "job n ended"
kill -TERM $jn; wait $jn
wait_no_strays
pass "--ckpt-local missing: made 0700 when its parent exists; else one line naming it, the host and the remedy"

# --ckpt-local a regular file: one line naming it and this host (newuser9b N2: "... is not a
# directory", no host)
# (made after the job started, as on another host than the coordinator's: a file there at the
# launch is refused by mpirun; start_job waits for this job's own ranks: the file comes after the
# coordinator's look)
export REVIVE_LOCAL_DIR=$W/afile
start_job r 2 --coord -- --iters $UNTIL_KILLED --sleep-us 300
jf=$JOB
unset REVIVE_LOCAL_DIR
: >"$W/afile"
expect_rc 1 "a snapshot with --ckpt-local a regular file" timeout 60 "$CKPT" --wait $jf &&
    err_has "could not write its image: on host $(hostname), $W/afile is not a directory"
[ "$(grep -c "^ckpt-mpirun: " "$W/cmd.err")" = 1 ] || { fail "more than one line"; cat "$W/cmd.err"; }
kill -0 $jf || fail "job r ended"
kill -TERM $jf; wait $jf
wait_no_strays
pass "--ckpt-local a regular file: one line naming it and the host"

# --ckpt-local not private on the launch host, which the launcher was not given (diffrev41 R-L2:
# mpirun on a login node with -host or a hostfile was refused for a directory no rank writes in).
# $far.1 (an address kept for documentation, RFC 5737; one of the two ranges this host's addresses
# are not in) stands for a compute node: not this host by name or address. The coordinator is told
# the user's words (--user-args); the fake launcher starts the ranks here all the same, so the
# ranks' refusal at the first checkpoint, naming the host, is seen too. A 1777 directory:
far=198.51.100
case " $(hostname -I 2>/dev/null) " in *" $far."*) far=203.0.113 ;; esac
mkdir -m 1777 "$W/scratch"
export REVIVE_LOCAL_DIR=$W/scratch
start_job l 2 --coord --user-args 3 -host $far.1 rank --prog 2 -- --iters $UNTIL_KILLED --sleep-us 300
jl=$JOB
unset REVIVE_LOCAL_DIR
[ "$(grep -c "warning: --ckpt-local" "$W/l.err")" = 1 ] &&
    grep -q "revive-coord: warning: --ckpt-local (REVIVE_LOCAL_DIR) on this host $(hostname), where the launcher was given no rank (its hosts: $far.1): .*$W/scratch is shared by every user (mode 1777)" "$W/l.err" ||
    { fail "the launch host given no rank: not one line warning of --ckpt-local:"; sed 's/^/    /' "$W/l.err"; }
expect_rc 1 "a snapshot with --ckpt-local a 1777 directory on the ranks' host" timeout 60 "$CKPT" --wait $jl &&
    err_has "on host $(hostname)" && err_has "$W/scratch is shared by every user (mode 1777)"
kill -0 $jl || fail "job l ended"
kill -TERM $jl; wait $jl
# this host among the launcher's hosts: refused at the launch, one line, as without hosts.
# refused_here WHAT N USERARG... -- PROGINDEX...: the coordinator told the user's N words and
# where the programs are among them refuses the 1777 --ckpt-local at once
refused_here() {
    local what=$1 n=$2 st
    local -a ua=() pr=()
    shift 2
    while [ "$1" != -- ]; do ua+=("$1"); shift; done
    shift
    for k in "$@"; do pr+=(--prog "$k"); done
    ( clean_exec REVIVE_LOCAL_DIR=$W/scratch "$COORD" --flavor fake --user-args $n "${ua[@]}" "${pr[@]}" \
        -- "$FLAUNCH" -np 1 "$FRANK" --iters 10 ) >"$W/m.out" 2>"$W/m.err"
    st=$?
    [ $st = 1 ] && [ "$(grep -c . "$W/m.err")" = 1 ] &&
        grep -q "^revive-coord: --ckpt-local (REVIVE_LOCAL_DIR): .*$W/scratch is shared by every user" "$W/m.err" ||
        { fail "$what: status $st, not one line refusing --ckpt-local:"; sed 's/^/    /' "$W/m.err" "$W/m.out"; }
}
refused_here "this host among the launcher's hosts" 3 -host "$(hostname)" rank -- 2
# not told apart from another host (diffrev42 R-L3: each was a warning, and the job's first
# checkpoint failed): this host last in a hostfile of 112 others (the list was read into 1024
# bytes: the first 73 fill 1023 of them, 2 names of 14 bytes and 71 of 13 with their commas, so
# that no name of this host fits after them, whatever its length), named only after an MPMD
# line's ':', named by an address (loopback, and an address of its own when it has one)
{ echo "$far.100 slots=1"; echo "$far.101"; for i in $(seq 10 80) $(seq 102 140); do echo "$far.$i"; done
  hostname; } >"$W/many.hosts"
refused_here "this host last of 113 in a hostfile" 3 -hostfile "$W/many.hosts" rank -- 2
refused_here "this host named after an MPMD line's ':'" 7 -host $far.1 rank : -host "$(hostname)" rank -- 2 6
refused_here "this host named 127.0.0.1" 3 -host 127.0.0.1 rank -- 2
own=$(hostname -I 2>/dev/null | awk '{print $1}')
[ -z "$own" ] || refused_here "this host named by its address $own" 3 -host "$own" rank -- 2
# each program of an MPMD line given another host: the warning, naming both, and the job runs
( clean_exec REVIVE_LOCAL_DIR=$W/scratch "$COORD" --flavor fake --user-args 7 -host $far.1 rank : \
    -host $far.2 rank --prog 2 --prog 6 -- "$FLAUNCH" -np 1 "$FRANK" --iters 10 ) >"$W/m.out" 2>"$W/m.err"
st=$?
[ $st = 0 ] && [ "$(grep -c "warning: --ckpt-local" "$W/m.err")" = 1 ] &&
    grep -q "given no rank (its hosts: $far.1; $far.2): " "$W/m.err" ||
    { fail "an MPMD line given two other hosts: status $st, not one warning naming both:"; sed 's/^/    /' "$W/m.err" "$W/m.out"; }
# an MPMD line whose hosts come from a hostfile before the first program (Open MPI's --hostfile,
# Hydra's -f apply to every program): the warning too (diffrev43 R-L1: refused, the second
# program taken for one given no host)
echo "$far.3" >"$W/far.hosts"
( clean_exec REVIVE_LOCAL_DIR=$W/scratch "$COORD" --flavor fake --user-args 5 -hostfile "$W/far.hosts" rank : \
    rank --prog 2 --prog 4 -- "$FLAUNCH" -np 1 "$FRANK" --iters 10 ) >"$W/m.out" 2>"$W/m.err"
st=$?
[ $st = 0 ] && [ "$(grep -c "warning: --ckpt-local" "$W/m.err")" = 1 ] &&
    grep -q "given no rank (its hosts: $far.3; $far.3): " "$W/m.err" ||
    { fail "an MPMD line after a hostfile of another host: status $st, not one warning:"; sed 's/^/    /' "$W/m.err" "$W/m.out"; }
wait_no_strays
pass "--ckpt-local not private on a launch host given no rank: one warning, the job runs; its ranks' hosts refuse the checkpoint naming the host; given a rank (by name, address, in a long hostfile, after an MPMD ':'): refused"
finish
