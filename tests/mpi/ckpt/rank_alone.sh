#!/bin/bash
# rank_alone.sh FLAVOR: two mistakes with one rank of a job (review13 LOW-1, HIGH-9), on 2 ranks
# of rst_popen.c:
# - rank 0 keeps a `cat` open (popen) for the whole run: the snapshot takes it along (rank 0's
#   image a tree file: issue 7); ranks that cannot choose a pid are refused after 10 s of tries in
#   one line that ends with the remedy for a rank (before, the line was cut mid-word
#   ("(cr_checkpoi") and named cr_checkpoint --tree, which no rank can use). The job runs on to
#   the uninterrupted run's results.
# - every rank runs a SIGEV_THREAD timer: a --term snapshot restarted by restart-mpi ends with
#   the uninterrupted run's results and each step sees the callback ran (before: SIGSEGV);
# - cr_restart of a rank's image (rank_0.img of a committed snapshot): one line naming
#   restart-mpi, status 1, no signal, no process left. Before, an image cr_checkpoint took of a
#   rank ended cr_restart by SIGSEGV with no word (the images it takes now are refused at the
#   checkpoint: cf10cc8); the refusal is now made before anything of the image is restored.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rst_popen
CR_RESTART=$REVIVE_BUILDDIR/tools/cr_restart
[ -x "$CR_RESTART" ] || { echo "SKIP: cr_restart not built"; exit 77; }
export REVIVE_RESTART_RANK=$restarter
steps=40 ms=10
ck_workdir ralone
run_native 2 "$prog" $steps "$d/nopace" 0 >native.out 2>native.err ||
    { failed "the native run: status $?"; tail -n 3 native.err; exit 1; }

# 1. a rank with a child for the whole run
touch pace
RST_POPEN_KEEP=1 clean timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n 2 "$prog" $steps \
    "$d/pace" 400 >out.k 2>err.k &
job=$!; pids+=($job)
wait_steps out.k 2 $job || failed "the job with a kept child did not reach step 2: $(tail -n 2 err.k)"
choose=$(ranks_choose_pid)
# the command the rank runs (popen: spawned, exec'd) holds none of the MPI library's sockets: a
# snapshot takes it along with the rank, and a restored listening socket of the library's met the
# fresh library on its port ("another process holds that address", rank_alone-ompi in CI 30)
cat_pid=
for p in $(descendants $job); do
    read -r c 2>/dev/null </proc/$p/comm && [ "$c" = cat ] && cat_pid=$p
done
# (the program listens nowhere itself: a listening TCP socket the command holds is the library's,
# unless the launcher's process over the rank holds it too: Hydra leaves its own listening socket
# open in the ranks, which rank_alone-mpich took for the library's, lib_listeners)
held=
if [ -n "$cat_pid" ]; then
    r=$cat_pid
    while [ -n "$r" ] && [ "$r" -gt 1 ]; do
        read -r c 2>/dev/null </proc/$r/comm || break
        case $c in rst_popen*) break ;; esac
        read -r st 2>/dev/null </proc/$r/stat || break
        a=(${st##*) }); r=${a[1]}
    done
    held=$(lib_listeners $r $cat_pid)
fi
if [ -z "$cat_pid" ]; then
    failed "the kept child (cat) of rank 0 not found"
elif [ -n "$held" ]; then
    failed "the rank's command (popen) inherited the MPI library's listening socket(s) (PID:INODE $held)"
else
    pass "the rank's command (popen) holds no listening socket of the MPI library"
fi
# nor the launcher's (Hydra's proxy leaves its listening socket in the ranks, descriptor 5 here):
# a snapshot took it along with the command, the command's image recording a socket bound to
# 0.0.0.0:PORT (rank_alone-mpich failed once at a restart: "cannot bind the socket at descriptor 5
# ... another process holds that address" in a rank's child's image); the layer makes such a
# socket close-on-exec (restart.c)
anyl=
if [ -n "$cat_pid" ]; then
    listening=" $(awk 'FNR > 1 && $4 == "0A" { print $10 }' /proc/$cat_pid/net/tcp /proc/$cat_pid/net/tcp6 2>/dev/null | tr '\n' ' ') "
    for i in $(ls -l /proc/$cat_pid/fd 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\]$/\1/p'); do
        case $listening in *" $i "*) anyl="$anyl $i" ;; esac
    done
    if [ -n "$anyl" ]; then
        failed "the rank's command (popen) holds listening socket(s) of the launcher's (inodes$anyl): a snapshot takes them along in the command's image"
    else
        pass "the rank's command (popen) holds no listening socket at all (the launcher's neither)"
    fi
fi
if [ $choose = 1 ]; then
    if r=$(checkpoint $job kept); then
        [ "$(head -c 8 "$r/rank_0.img")" = RVVTREE1 ] &&
            pass "a kept child: the snapshot taken, the child with it (rank 0's image a tree file)" ||
            failed "a kept child: rank 0's image is no tree file"
    else
        failed "a kept child: no snapshot: $(grep -v 'ms from' ckpt.kept.err | head -2)"
    fi
elif checkpoint $job kept >/dev/null; then
    failed "a snapshot was taken while rank 0 had a child process it cannot bring back"
else
    # ending with the remedy for a rank, and not naming cr_checkpoint, which no rank can use
    refused kept "a kept child" "rank 0 had a child process ([0-9]* '.*reap them (pclose, wait) before the snapshot$" \
        cr_checkpoint
fi
rm -f pace
ran_on $job k "the job with a kept child, after the snapshot or refusal"

# 2. a job whose ranks run a SIGEV_THREAD timer: --term snapshot, restart-mpi, results as native
# (review13 HIGH-10: every restarted rank died of SIGSEGV: the timer's restore looked its helper
# thread up in the park's slots, read through the slot of a lower-half thread not restored)
touch pace
RST_POPEN_TIMER=1 clean timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n 2 "$prog" $steps \
    "$d/pace" $ms >out.0 2>err.0 &
job=$!; pids+=($job)
if ! wait_steps out.0 2 $job; then
    failed "the job with timers did not reach step 2: $(tail -n 2 err.0)"
elif term_restart $job; then
    restart_verdict "SIGEV_THREAD timer in every rank"
    grep -h 'timer' err.0 err.1 | head -n 3
else
    failed "ckpt-mpirun --term of the job with timers: $(tail -n 2 ckpt.term.err)"
fi

# 3. cr_restart of a rank's image (the snapshot of 2)
img=$(ls "$ref"/*/rank_0.img "$ref"/rank_0.img 2>/dev/null | head -n 1)
if [ -z "$img" ]; then
    failed "no rank_0.img under $ref"
else
    clean timeout -k 5 60 "$CR_RESTART" "$img" >cr.out 2>cr.err; st=$?
    if [ $st != 1 ]; then
        failed "cr_restart of a rank's image: status $st (1 expected)"; head -n 5 cr.err
    elif [ "$(grep -c . cr.err)" != 1 ] || ! grep -q 'rank of an MPI job.*restart-mpi' cr.err || [ -s cr.out ]; then
        failed "cr_restart of a rank's image: not one line naming restart-mpi:"; head -n 5 cr.err
    else
        pass "cr_restart of a rank's image refused: $(cat cr.err)"
    fi
fi
left=$(no_strays "$d/") || failed "processes left: $left"
exit $fail
