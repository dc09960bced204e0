#!/bin/bash
# scratch.sh FLAVOR: MPI_MODE_DELETE_ON_CLOSE files in a node-local folder, written back at
# restarts on three hosts of the bed (h1:1, h2:1, h3:2; each host its own $HB/local and its own
# boot_id). A 4-rank job (rst_scratchrace with FILE: each rank opens $HB/local/scratch.tmp on
# MPI_COMM_SELF, so each host has one file, shared by its ranks) takes a snapshot at step 3
# (MPIX_Checkpoint) and is crashed (every rank SIGKILLed) at step 8: each host's file stays, written
# on after the snapshot. Two restarts of that snapshot, each with REVIVE_FAULT=mpi-scratch-late
# (a writer waits 2 s x (1 + its rank) between its look and its replace):
#  (a) the hosts' own names: the restart writes the three hosts' files back in ONE round (rank 0
#      says "N write-back rounds" at REVIVE_VERBOSE=2): the folders differ, nothing needs a turn
#      (diffrev46 R-M1: one round per host, 3 here, a restart's time growing with the nodes);
#      every restarted rank's descriptor of scratch.tmp names its host's file at the path;
#      crashed again at step 8;
#  (b) h2 and h3 renamed to one host name (containers, a misconfigured cluster): still one round,
#      and h3's two ranks still one file (diffrev46 R-L2: by host name h2 and h3 were one host,
#      h3 got no writer of its own and both its ranks replaced the file, one of them left on a
#      deleted file); the job runs to its end with the lines of an uninterrupted run;
#  (c) a second job whose ranks open $SHARED/scratch.tmp (one folder every host sees: one file
#      for the job), crashed the same way: its restart takes three rounds (the three nodes see
#      one folder and take turns: the first writes, the later ones find its file), every rank's
#      descriptor names the one file at the path, and the lines are an uninterrupted run's.
# Open MPI: each host has a boot_id of its own (hostbed.sh HB_NODE_IDS), as nodes have. MPICH:
# the hosts keep this machine's (with boot_ids of their own, UCX connects them over TCP, where
# MPICH 4.0's MPI_Finalize hung now and then, natively too): one kernel, whose ranks tell the
# folders apart by device and inode; (a) and (b) the same, (c) one round (one writer).
flavor=$1
. "$(dirname "$0")/lib.sh"
prog=$B/tests/mpi/ckpt/rst_scratchrace-$flavor
[ -x "$prog" ] || { echo "SKIP: $prog not built"; exit 77; }
hosts_workdir scratch-$flavor
# (the hosts' boot_ids: see above)
[ "$flavor" = ompi ] && export HB_NODE_IDS=1
hostbed_up 3
[ -x "$B/tools/revive-restart-rank" ] || { echo "SKIP: revive-restart-rank not built"; exit 77; }
export REVIVE_RESTART_RANK=$B/tools/revive-restart-rank
# the bed's hosts are nodes of their own only with boot_ids of their own (hostbed.sh)
ids=$(for h in h1 h2 h3; do on $h cat /proc/sys/kernel/random/boot_id; done | sort -u | wc -l)
if [ "${HB_NODE_IDS:-}" = 1 ] && [ "$ids" != 3 ]; then
    echo "SKIP: the bed's hosts share one boot_id (cannot bind one over /proc here)"; exit 77
fi
# (c): nodes of their own that see one folder take turns, one round each; in one kernel the
# folder's device and inode name it: one writer for the file, one round
shared_rounds=1 shared_why="one kernel sees one folder: one writer"
[ "$ids" = 3 ] && shared_rounds=3 shared_why="the three nodes see one folder: they take turns"
launch_opts h1:1,h2:1,h3:2
hostfile "$W/hosts" h1:1 h2:1 h3:2
file=$HB/local/scratch.tmp
steps=12 ck=3 hs=8

touch "$W/go.native"
on h1 timeout -k 5 900 "$launcher" "${LOPTS[@]}" -n 4 "$prog" $steps $ck $hs "$W/go.native" "$file" \
    >"$W/native.out" 2>"$W/native.err" || { fail "native job: status $?"; tail -5 "$W/native.err"; finish; }
grep -q '^done' "$W/native.out" || { fail "native job printed no end"; cat "$W/native.out"; finish; }

# rank_pids HOST: the ranks (started or restarted) running on HOST
rank_pids() {
    local p
    for p in $(host_pids "$1"); do
        case "$(tr '\0' ' ' 2>/dev/null </proc/$p/cmdline)" in
        "$prog "* | */revive-restart-rank\ *) echo $p ;;
        esac
    done
}
# crash: every rank of the job on every host SIGKILLed at once (their files stay as they are),
# then the launcher ($1) ends
crash() {
    local h crashed=$1 # (wait_for's $1 is its own)
    for h in h1 h2 h3; do kill -KILL $(rank_pids $h) 2>/dev/null; done
    wait_for 60 '! kill -0 $crashed 2>/dev/null' || { kill -KILL $(pgrep -P $crashed) $crashed 2>/dev/null; }
    wait $crashed 2>/dev/null
    wait_for 60 '[ -z "$(rank_pids h1)$(rank_pids h2)$(rank_pids h3)" ]' || fail "ranks left after the crash"
}
# one_file WHAT: on each host, every descriptor of the ranks naming scratch.tmp names the file at
# the path on that host (its inode), none a deleted one; at least one per rank
one_file() {
    local h p f l seen at nfd n
    for h in h1 h2 h3; do
        at=$(on $h stat -c %i "$file" 2>/dev/null)
        seen=$(for p in $(rank_pids $h); do
            for f in /proc/$p/fd/*; do
                l=$(readlink "$f" 2>/dev/null) || continue
                case $l in
                "$file") echo "$(stat -L -c %i "$f" 2>/dev/null)" ;;
                "$file (deleted)") echo deleted ;;
                esac
            done
        done | sort | uniq -c)
        nfd=$(awk '{s += $1} END {print s + 0}' <<<"$seen")
        n=1; [ $h = h3 ] && n=2
        if [ "$nfd" -lt $n ]; then
            fail "$1: the restarted ranks on $h hold $nfd descriptors of scratch.tmp (at least $n expected)"
        elif [ "$(wc -l <<<"$seen")" != 1 ] || [ "$(awk '{print $2}' <<<"$seen")" != "$at" ]; then
            fail "$1: the restarted ranks on $h do not share one file: $(echo $seen) (the path's inode there: $at)"
        fi
    done
}
# rounds WHAT ERRFILE N WHY: rank 0 said N write-back rounds (at the job's REVIVE_VERBOSE=2)
rounds() {
    local r
    r=$(sed -n 's/.*MPI_MODE_DELETE_ON_CLOSE files: [0-9]* copies held, \([0-9]*\) write-back round.*/\1/p' "$2" | tail -n1)
    if [ "$r" != "$3" ]; then
        fail "$1: ${r:-no} write-back rounds ($3 expected: $4)"
        grep -i 'write-back\|MPI_MODE_DELETE' "$2" | head -5
    fi
}
fault_opts=() # Open MPI's launcher passes the variables on to the ranks only when told
[ "$flavor" = ompi ] && fault_opts=(-- -x REVIVE_FAULT)
# restart JOB NAME: restart-mpi of JOB's snapshot, held at step 8; R its pid
restart() {
    local held=$W/$1.go.held
    rm -f "$W/$1.go" "$held"
    ( on h1 timeout -k 5 600 env REVIVE_FAULT=mpi-scratch-late "$RESTART" \
        --hostfile "$W/hosts" "${fault_opts[@]}" "$ref" >"$W/$2.out" 2>"$W/$2.err" ) &
    R=$!
    wait_for 300 '[ -e "$held" ] || ! kill -0 $R 2>/dev/null'
    [ -e "$held" ] || { fail "$2: the restarted job never reached its hold"; tail -20 "$W/$2.err"; finish; }
}
# finished JOB NAME WHAT: the restarted job (R, restart JOB NAME) let go from its hold runs to its
# end with an uninterrupted run's lines
finished() {
    local st
    touch "$W/$1.go"
    wait $R; st=$?
    [ $st = 0 ] || { fail "$3: status $st"; tail -20 "$W/$2.err"; }
    sed -n "/^step $((ck + 1)):/,\$p" "$W/native.out" >"$W/native.tail"
    cmp -s "$W/native.tail" "$W/$2.out" || { fail "$3: lines differ from an uninterrupted run's"; diff "$W/native.tail" "$W/$2.out" | head; }
}
# crashed_job NAME: the job with $file, under Revive from h1 (snapshots in $SHARED/NAME): a snapshot
# at step 3, crashed at step 8, its file left on every host; ref its snapshot
crashed_job() {
    local held=$W/$1.go.held
    mkdir -p "$SHARED/$1"
    # (REVIVE_VERBOSE=2: the restarted ranks log at the level of their image, so at the job's start)
    ( PATH=$(dirname "$launcher"):$PATH clean_exec REVIVE_VERBOSE=2 nsenter -t "$(host_pid h1)" -n -u -m -- \
        timeout -k 5 600 "$wrapper" -am ft-enable-cr --ckpt-dir "$SHARED/$1" "${LOPTS[@]}" -n 4 "$prog" \
        $steps $ck $hs "$W/$1.go" "$file" ) >"$W/$1.out" 2>"$W/$1.err" &
    JOB=$!; jobs_started="$jobs_started $JOB"
    wait_for 300 '[ -e "$held" ] || ! kill -0 $JOB 2>/dev/null'
    [ -e "$held" ] || { fail "$1: the job never reached its hold (step $hs)"; tail -20 "$W/$1.err"; finish; }
    crash $JOB
    ref=$(echo "$SHARED/$1"/revive_global_snapshot_*.ckpt)
    [ -f "$ref/0/snapshot.meta" ] || { fail "$1: no committed snapshot of step $ck: $(ls "$SHARED/$1")"; finish; }
    for h in h1 h2 h3; do
        on $h test -s "$file" || { fail "$1: the crashed job left no scratch.tmp on $h"; finish; }
    done
}

crashed_job a
pass "$flavor: a job on h1,h2,h3 with a node-local scratch file per host: snapshot at step $ck, crashed at step $hs"

# (a) the hosts' own names
restart a r1
one_file "restart (a)"
rounds "restart (a)" "$W/r1.err" 1 "no two hosts share a folder"
crash $R
pass "$flavor: restart (a): the three hosts' files written back in one round, each host's ranks on its file"

# (b) h2 and h3 under one host name
on h2 hostname node23 && on h3 hostname node23 || { fail "cannot rename h2, h3"; finish; }
restart a r2
one_file "restart (b), h2 and h3 named alike"
rounds "restart (b)" "$W/r2.err" 1 "no two hosts share a folder"
finished a r2 "restart (b)"
pass "$flavor: restart (b): h2 and h3 named alike: one round, h3's two ranks on one file, the native lines"

# (c) one file in the shared folder
file=$SHARED/scratch.tmp
crashed_job b
restart b r3
one_file "restart (c), a shared folder"
rounds "restart (c)" "$W/r3.err" $shared_rounds "$shared_why"
finished b r3 "restart (c)"
pass "$flavor: restart (c): a file in a folder every host sees: $shared_rounds round(s), every rank on the one file, the native lines"
finish
