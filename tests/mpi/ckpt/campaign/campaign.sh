#!/bin/bash
# campaign.sh: checkpoints at random moments of real MPI jobs, and restarts, compared with
# uninterrupted runs (issue 7, "Tests"; README.md in this folder).
#
#   campaign.sh [-n TRIALS] [--time SECONDS] [--seed S] [--replay SEED] [--rounds "R|PROG=R..."]
#               [--programs "P..."] [--flavors "ompi mpich"] [--nps "1 2 4 8"]
#               [--kinds "continue term twice chain"] [--duration SECONDS] [--moments LO-HI]
#               [--keep] [-v]
# (--moments: the range of the random moments in thousandths of the run's time, default 20-700;
# cc_fin's are always 600-1000: near MPI_Finalize)
#
# Each trial picks (from its seed) a program, an MPI, a number of ranks and a kind, runs the
# program under "mpirun -am ft-enable-cr" and, at random moments counted from when the job's
# coordinator listens:
#   continue  1 to 3 snapshots (ckpt-mpirun --wait) while it runs; in a third of the trials three
#             requests at once (one without --wait); the job must finish as uninterrupted
#   term      one snapshot with --term, then restart-mpi of it
#   twice     one snapshot with --term, then two restarts of it (the second from another folder)
#   chain     --term, restart, --term of the restarted job at a random moment, ... (2 or 3
#             generations), then a restart that runs to the end
# The job's output (for restarts: the outputs of every generation, in order) must equal the
# native run's; every ckpt-mpirun must commit, every snapshot must pass ckpt-info --verify, every
# process of the trial must be gone at its end (a stray is a failure, and is killed). Every wait
# is bounded. Results: ok, FAIL (printed with the trial's seed and the command that replays it),
# late (the snapshot the kind needs was refused because the job was finishing, as designed:
# counted apart, never as passed), skip (a known failure of Revive, or the program cannot run
# natively: named, not counted). The end: counts by MPI, program, kind and ranks, and the line
# "N trials, P passed, F failed, L late, S skipped (seed S)". Exit status 0 when no trial failed,
# 77 when none could run.
#
# Needs a build tree: REVIVE_BUILDDIR (make check sets it; else the current folder). Native
# outputs and round counts are cached in $CAMPAIGN_CACHE (default BUILDDIR/tests/mpi/ckpt/
# campaign/cache). Restart kinds need tools/revive-restart-rank; without it only "continue" runs.
set -u
export LC_ALL=C
B=${REVIVE_BUILDDIR:-$(pwd)}
B=$(cd "$B" && pwd)
S=${REVIVE_SRCDIR:-$(cd "$(dirname "$0")/../../../.." && pwd)}
me=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")

ntrials=20 budget=0 seed= replay= rounds_opt= keep=0 verbose=0 mlo=20 mhi=700
all_programs="cc_nbc cc_persist cc_comm cc_block cc_thread cc_fin cc_fort cc_halo cc_io cc_rma cc_kobj cc_omp cc_nbx
    cc_farm cc_types cc_nbr ck_coll ck_p2p mpi_loop"
programs=$all_programs
flavors="ompi mpich" nps="1 2 4 8" kinds="continue term twice chain" duration=4
while [ $# -gt 0 ]; do
    case $1 in
    -n) ntrials=$2; shift ;;
    --time) budget=$2; shift ;;
    --seed) seed=$2; shift ;;
    --replay) replay=$2; ntrials=1; shift ;;
    --rounds) rounds_opt=$2; shift ;;
    --programs) programs=$2; shift ;;
    --flavors) flavors=$2; shift ;;
    --nps) nps=$2; shift ;;
    --kinds) kinds=$2; shift ;;
    --duration) duration=$2; shift ;;
    --moments) mlo=${2%-*} mhi=${2#*-}; shift ;;
    --keep) keep=1 ;;
    -v) verbose=1 ;;
    -h | --help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "campaign.sh: unknown option '$1' (--help)"; exit 2 ;;
    esac
    shift
done

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_topo=^treematch # hangs now and then in Dist_graph_create, natively too (mpienv.sh)
export REVIVE_MPI_LIBDIR=$B/.libs REVIVE_EXEC=$B/tools/mpi/revive-exec
export REVIVE_COORD_BIN=$B/tools/snapc/revive-coord REVIVE_RESTART_RANK=$B/tools/revive-restart-rank
WRAP=$B/tools/mpi/mpirun CKPT=$B/tools/snapc/ckpt-mpirun INFO=$B/tools/snapc/ckpt-info
RESTART=$B/tools/snapc/restart-mpi
for t in "$WRAP" "$CKPT" "$INFO" "$RESTART" "$REVIVE_COORD_BIN"; do
    [ -x "$t" ] || { echo "SKIP: $t is not built (REVIVE_BUILDDIR=$B)"; exit 77; }
done
can_restart=0
[ -x "$REVIVE_RESTART_RANK" ] && can_restart=1
if [ $can_restart = 0 ]; then
    k2=
    for k in $kinds; do [ "$k" = continue ] && k2="$k2 $k"; done
    [ -n "$k2" ] || { echo "SKIP: tools/revive-restart-rank is not built: no restart kind can run"; exit 77; }
    [ "$k2" != " $kinds" ] && echo "note: tools/revive-restart-rank is not built: kinds limited to continue"
    kinds=${k2# }
fi
launcher_of() { sed -n "s/^MPIEXEC_$(echo "$1" | tr a-z A-Z) = //p" "$B/Makefile"; }
CACHE=${CAMPAIGN_CACHE:-$B/tests/mpi/ckpt/campaign/cache}
mkdir -p "$CACHE" || exit 99
W=$(mktemp -d "${TMPDIR:-/tmp}/revive-campaign.XXXXXX") || exit 99
export REVIVE_SOCKET_DIR=$W/sock
mkdir -m 0700 "$REVIVE_SOCKET_DIR"
killall_tagged() { # every process of this campaign (tagged through the environment)
    local p
    for p in $(tagged_pids "CAMPAIGN_TAG=$TAG"); do kill -KILL "$p" 2>/dev/null; done
}
TAG=$$.$RANDOM
trap 'killall_tagged; [ $keep = 1 ] || rm -rf "$W"' EXIT
trap 'echo "campaign.sh: interrupted"; exit 130' INT TERM

# tagged_pids STRING: processes whose environment holds STRING (a whole variable), but not this
# shell (one grep over every environ file: a shell loop per process is far too slow under load)
tagged_pids() {
    grep -lzxF -- "$1" /proc/[0-9]*/environ 2>/dev/null | sed 's|^/proc/||; s|/environ$||' |
        grep -vxF -e "$$" -e "$BASHPID"
}

# Known failures of Revive (not of this script) that would fail every such trial: entries
# PATTERN:WHERE, PATTERN a shell pattern matched against PROG-FLAVOR-KIND (or PROG-FLAVOR). Such
# trials are counted as skipped, by name, never as passed. Remove an entry once its fix is on
# main (CAMPAIGN_KNOWN_FAILURES= runs them anyway).
# The full campaign runs everything by default; campaign-short.sh (make check) passes the
# failures that are known and open. (#1 was fixed by src/pml_hooks/fortran_objs.c, #5 by the
# restart's merge.)
[ -n "$replay" ] && CAMPAIGN_KNOWN_FAILURES=   # a replay runs its trial whatever it is
KNOWN_FAILURES=${CAMPAIGN_KNOWN_FAILURES-}

# ---- programs ----------------------------------------------------------------------------
# bin_of PROG FLAVOR: the executable (Fortran is built here with the MPI's mpif90)
bin_of() {
    local p=$1 fl=$2 fc
    case $p in
    cc_fort)
        local out=$CACHE/cc_fort-$fl src=$S/tests/mpi/ckpt/campaign/cc_fort.f90
        if [ ! -x "$out" ] || [ "$src" -nt "$out" ]; then
            fc=$(command -v "mpif90.$(echo "$fl" | sed 's/ompi/openmpi/')") || return 1
            "$fc" -O1 -o "$out" "$src" 2>"$CACHE/fc.err" || return 1
        fi
        echo "$out" ;;
    cc_*) echo "$B/tests/mpi/ckpt/campaign/$p-$fl" ;;
    ck_*) echo "$B/tests/mpi/ckpt/$p-$fl" ;;
    mpi_loop) echo "$B/tests/snapc/mpi_loop-$fl" ;;
    esac
}
base_rounds() { # the fewest rounds a trial runs (calibration multiplies them by 4 as needed)
    case $1 in
    mpi_loop) echo 20 ;; ck_coll | ck_p2p) echo 4 ;; *) echo 2 ;;
    esac
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
run_native() { # FLAVOR NP BIN ROUNDS: stdout of a native run (bounded), in a folder of the
    # campaign's (cc_io leaves its output files where it runs, as the trials do in theirs)
    local L
    L=$(launcher_of "$1")
    mkdir -p "$W/native" && (cd "$W/native" && clean timeout -k 5 "${NATIVE_TMO:-300}" "$L" -n "$2" "$3" "$4")
    local rc=$?
    rm -f "$W/native/"*
    return $rc
}
# clean CMD...: CMD with only descriptors 0-2 (ranks must not inherit the campaign's pipes)
clean() {
    bash -c 'for f in /proc/$$/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-"; done
        exec "$@"' clean "$@"
}
# calibrate PROG FLAVOR NP: sets ROUNDS (natively about $duration seconds) and NATIVE_T, and the
# native output $CACHE/PROG-FLAVOR-NP-ROUNDS.out (all cached; redone when the binary changes).
# Rounds are measured, not guessed: the launch alone (1 round) is timed, then the rounds are
# multiplied by 4 until the work beyond the launch is at least a third of $duration; the native
# run of the chosen rounds is kept only when it took at most 3 times $duration (else the rounds
# are scaled down to its measured rate, once).
# rounds_of PROG: the rounds --rounds gives PROG ("N", or "PROG=N ..."), else fails
rounds_of() {
    local w
    [ -n "$rounds_opt" ] || return 1
    case $rounds_opt in *=*) ;; *) echo "$rounds_opt"; return 0 ;; esac
    for w in $rounds_opt; do [ "${w%%=*}" = "$1" ] && { echo "${w#*=}"; return 0; }; done
    return 1
}
timed_native() { # FLAVOR NP BIN ROUNDS: prints seconds, fails with the run
    local t
    t=$(now)
    run_native "$@" >/dev/null 2>"$CACHE/native.err" || { grep -vE '^-+$|^ *$' "$CACHE/native.err" | head -2; return 1; }
    elapsed "$t"
}
calibrate() {
    local p=$1 fl=$2 n=$3 bin key r t0 t1 k
    bin=$(bin_of "$p" "$fl") || { echo "cannot build $p for $fl ($(head -1 "$CACHE/fc.err" 2>/dev/null))"; return 1; }
    [ -x "$bin" ] || { echo "$bin is not built"; return 1; }
    key=$CACHE/$p-$fl-$n.cal
    if ! rounds_of "$p" >/dev/null && { [ ! -s "$key" ] || [ "$bin" -nt "$key" ]; }; then
        r=$(base_rounds "$p")
        t0=$(timed_native "$fl" "$n" "$bin" 1) || { echo "native run failed: $t0"; return 1; }
        for k in 1 2 3 4 5 6; do
            t1=$(timed_native "$fl" "$n" "$bin" "$r") || { echo "native run failed: $t1"; return 1; }
            [ "$(awk -v a="$t0" -v b="$t1" -v d="$duration" 'BEGIN { print (b - a >= d / 3) }')" = 1 ] && break
            r=$((r * 4))
        done
        awk -v a="$t0" -v b="$t1" -v r="$r" -v d="$duration" -v b0="$(base_rounds "$p")" \
            'BEGIN { c = (b - a) / r; if (c < 1e-5) c = 1e-5; x = int(d / c); if (x < b0) x = b0; print x }' >"$key"
        rm -f "$CACHE/$p-$fl-$n-"*.out "$key.scaled"
    fi
    ROUNDS=$(rounds_of "$p") || ROUNDS=$(cat "$key")
    local out=$CACHE/$p-$fl-$n-$ROUNDS.out
    if [ ! -s "$out" ] || [ "$bin" -nt "$out" ]; then
        t0=$(now)
        run_native "$fl" "$n" "$bin" "$ROUNDS" >"$out.tmp" 2>"$CACHE/native.err" ||
            { echo "native run of $p-$fl np=$n rounds=$ROUNDS failed: $(tail -2 "$CACHE/native.err")"; rm -f "$out.tmp"; return 1; }
        grep -q '^errors [1-9]' "$out.tmp" && { echo "native run of $p-$fl np=$n reports errors"; return 1; }
        mv "$out.tmp" "$out"
        elapsed "$t0" >"$out.time"
        if ! rounds_of "$p" >/dev/null && [ "$(awk -v t="$(cat "$out.time")" -v d="$duration" 'BEGIN { print (t > 3 * d) }')" = 1 ] &&
            [ ! -e "$key.scaled" ]; then
            # far longer than meant (the machine was idle while calibrating): scale down, once
            awk -v r="$ROUNDS" -v t="$(cat "$out.time")" -v d="$duration" -v b0="$(base_rounds "$p")" \
                'BEGIN { x = int(r * d / t); if (x < b0) x = b0; print x }' >"$key"
            touch "$key.scaled"
            calibrate "$@"
            return
        fi
    fi
    NATIVE_OUT=$out
    NATIVE_T=$(cat "$out.time")
    REF_T=$NATIVE_T
    [ -s "$out.revive" ] && REF_T=$(cat "$out.revive")
    BIN=$bin
}

# ---- one trial ---------------------------------------------------------------------------
# pick VAR LIST: VAR set to one word of LIST, from $RANDOM (the trial's seed fixed the sequence).
# In this shell, not in a $(...) subshell: bash 5.1 and later reseed RANDOM in every subshell, so
# picks made there did not follow the seed and --replay SEED ran another trial (session 11).
pick() { local -n pick_out=$1; local a=($2); pick_out=${a[RANDOM % ${#a[@]}]}; }
# moment VAR LO HI: VAR set to a moment between LO and HI thousandths of the run's time, in seconds: the time
# the last "continue" trial of this program, MPI, ranks and rounds ran under Revive (from its
# coordinator's start to its end: the machine's load changes, and with it the time), else the
# native run's
moment() {
    local -n moment_out=$1
    local f=$(($2 + RANDOM % ($3 - $2 + 1))) # here, not in the subshell below (pick says why)
    moment_out=$(awk -v t="$REF_T" -v f=$f 'BEGIN { printf "%.2f", t * f / 1000 }')
}

# start_job DIR NAME CMD...: CMD in the background in DIR in a session of its own, tagged;
# JOBPID = its pid (the coordinator: the wrapper and restart-mpi exec it)
start_job() {
    local d=$1 name=$2
    shift 2
    (cd "$d" && CAMPAIGN_TAG=$TAG CAMPAIGN_TRIAL=$TTAG exec setsid bash -c \
        'for f in /proc/$$/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-"; done
         exec "$@"' job "$@") >"$d/$name.out" 2>"$d/$name.err" </dev/null &
    JOBPID=$!
}
# wait_coord PID: waits (at most 120 s) until the job's coordinator listens: PID (the wrapper, or
# restart-mpi) has become revive-coord and made its socket. Random moments count from there: under
# load the wrapper script alone may take seconds, and a request before the socket exists is
# answered "not started with -am ft-enable-cr" (campaign-failures.md). 1 when it never came.
wait_coord() {
    local end=$((SECONDS + 120))
    until [ -S "$REVIVE_SOCKET_DIR/coord.$1" ]; do
        kill -0 "$1" 2>/dev/null || { WC_WHY="it ended"; return 1; }
        [ "$(awk '{print $3}' /proc/"$1"/stat 2>/dev/null)" = Z ] && { WC_WHY="it ended"; return 1; }
        [ $SECONDS -ge $end ] && { WC_WHY="no socket $REVIVE_SOCKET_DIR/coord.$1 after 120 s"; return 1; }
        sleep 0.05
    done
    return 0
}
# wait_job PID SECONDS: the job's exit status, or 124 after killing its trial when it overran
wait_job() {
    local end
    end=$((SECONDS + $(awk -v s="$2" 'BEGIN { print int(s + 0.999) }')))
    while kill -0 "$1" 2>/dev/null; do
        # a zombie child counts as ended
        [ "$(awk '{print $3}' /proc/"$1"/stat 2>/dev/null)" = Z ] && break
        if [ $SECONDS -ge $end ]; then
            note "job $1 still runs after $2 s: killed"
            kill_trial; wait "$1" 2>/dev/null; return 124
        fi
        sleep 0.1
    done
    wait "$1"
}
kill_trial() { local p; for p in $(tagged_pids "CAMPAIGN_TRIAL=$TTAG"); do kill -KILL "$p" 2>/dev/null; done; }
note() { TNOTES="$TNOTES$*"$'\n'; }
bad() { TFAIL="${TFAIL:+$TFAIL; }$*"; }
# sleep_until T0 SECONDS: sleeps until SECONDS after T0
sleep_until() { local s; s=$(awk -v a="$1" -v d="$2" -v n="$(now)" 'BEGIN { s = a + d - n; print (s > 0 ? s : 0) }'); sleep "$s"; }

# ("there is nothing left to checkpoint": the job has exited and is a zombie this shell has not
# reaped yet, as happens under load: bash reaps its background jobs when it gets to it)
LATE_RE='has called MPI_Finalize|the job is ending|is in MPI_Finalize|there is no process|the job ended|does not answer \(it has ended|there is nothing left to checkpoint'
# but not a job no rank of which ever connected (the layer broken: every rank outside Revive;
# newuser7f F6's words, which end "the job ended"): a failure (diffrev38 R-L5)
NONE_RE='no rank of (it|the job) (ever|has) connected to Revive'
# ckpt DIR NAME [OPTIONS] PID: ckpt-mpirun; CK_RC, CK_REF; a snapshot is verified. CK_LATE=1 when
# it was refused because the job was ending (not a failure by itself).
ckpt() {
    local d=$1 name=$2
    shift 2
    CK_REF= CK_LATE=0 CK_WHY=
    timeout -k 5 "$CKTMO" "$CKPT" "$@" >"$d/$name.ck.out" 2>"$d/$name.ck.err"
    CK_RC=$?
    if [ $CK_RC = 0 ]; then
        CK_REF=$(tail -n1 "$d/$name.ck.out")
        NSNAP=$((NSNAP + 1))
        if ! timeout -k 5 120 "$INFO" --verify "$CK_REF" >"$d/$name.verify" 2>&1; then
            bad "ckpt-info --verify $CK_REF failed: $(grep -v '^ *$' "$d/$name.verify" | tail -2 | tr '\n' ' ')"
        fi
        grep -h 'ms from the request' "$d/$name.ck.err" | sed 's/^ckpt-mpirun: *//' >>"$W/phases"
    elif grep -qE "$LATE_RE" "$d/$name.ck.err" && ! grep -qE "$NONE_RE" "$d/$name.ck.err"; then
        CK_LATE=1
        CK_WHY=$(grep -E "$LATE_RE" "$d/$name.ck.err" | head -1 | sed 's/^ckpt-mpirun: *//')
    fi
}
ck_msg() { echo "ckpt-mpirun $* exit $CK_RC: $(grep -v '^ *$' "$D/$N.ck.err" | tail -2 | tr '\n' ' ')"; }

# results of the trial: TRESULT pass|late|fail|skip, TFAIL the reasons. "late": no failure, but
# the snapshot that makes the trial's kind (any snapshot for continue, the first --term for
# term/twice, the restarted job's --term for chain) was refused because the job was finishing,
# or the job had ended before the moment came: counted apart, never as passed (TLATE says why).
trial() {
    local tseed=$1
    # RANDOM seeded with a hash of the trial's seed: bash's generator seeded with the trial seeds
    # themselves (an arithmetic progression mod 999983) drew correlated first picks (session 50:
    # 65 Open MPI trials to 14 MPICH in 79)
    RANDOM=$(( 16#$(printf '%s' "$tseed" | md5sum | cut -c1-7) ))
    local prog fl n kind i x   # i: the campaign's loop has its own
    pick prog "$programs"; pick fl "$flavors"; pick kind "$kinds"
    # 8 ranks less often: they are slow on 2 cores
    local npl=""
    for x in $nps; do case $x in 1 | 8) npl="$npl $x" ;; *) npl="$npl $x $x $x" ;; esac; done
    pick n "$npl"
    TFAIL= TNOTES= TRESULT=pass NSNAP=0 TLATE=
    D=$W/t$tseed; mkdir -p "$D"
    TTAG=$tseed.$TAG
    TDESC="$prog $fl np=$n $kind"
    local kf kfs
    read -ra kfs <<<"$KNOWN_FAILURES"   # no pathname expansion of the patterns
    for kf in "${kfs[@]}"; do
        # shellcheck disable=SC2053 # the entry is a pattern
        if [[ "$prog-$fl-$kind" == ${kf%%:*} || "$prog-$fl" == ${kf%%:*} ]]; then
            TRESULT=skip; TFAIL="known failure, not run: ${kf#*:}"; return
        fi
    done
    if ! calibrate "$prog" "$fl" "$n" >"$D/calibrate.log" 2>&1; then
        TRESULT=skip
        TFAIL="cannot run natively: $(grep -vE '^-+$|^ *$' "$D/calibrate.log" | head -2 | tr '\n' ' ')"
        return
    fi
    TDESC="$TDESC rounds=$ROUNDS"
    # bounds: a slow job (MPICH on 8 ranks) may take 5x native under Revive while others load the
    # machine; a checkpoint is bounded by ckpt-mpirun's own --timeout plus its capture bound
    local jobmax
    jobmax=$(awk -v t="$NATIVE_T" -v r="$REF_T" 'BEGIN { if (r > t) t = r; print int(60 + 8 * t) }')
    CKTMO=${CAMPAIGN_CKPT_TIMEOUT:-150}
    local L
    L=$(launcher_of "$fl")
    local lo=$mlo hi=$mhi
    [ "$prog" = cc_fin ] && lo=600 hi=1000   # near MPI_Finalize
    local run=(env PATH="$(dirname "$L"):$PATH" "$WRAP" -am ft-enable-cr -n "$n" "$BIN" "$ROUNDS")
    local outs=() st t0 m m1 ref
    N=g0
    start_job "$D" g0 "${run[@]}"
    local job=$JOBPID
    wait_coord "$job" || note "the coordinator of job $job never listened: $WC_WHY"
    t0=$(now)
    case $kind in
    continue)
        local k=$((1 + RANDOM % 3)) ms=() double=$((RANDOM % 3 == 0))
        for i in $(seq $k); do moment m1 $lo $hi; ms+=("$m1"); done
        mapfile -t ms < <(printf '%s\n' "${ms[@]}" | sort -n)
        TDESC="$TDESC at ${ms[*]}s$([ $double = 1 ] && echo ' +second request')"
        for i in $(seq 0 $((k - 1))); do
            sleep_until "$t0" "${ms[$i]}"
            kill -0 "$job" 2>/dev/null || { TLATE="the job had ended at ${ms[$i]}s"; break; }
            N=c$i
            if [ $double = 1 ] && [ $i = 0 ]; then
                # three requests at once: one without --wait (taken, or refused "in progress" or
                # "starting"), two with --wait (each gets a snapshot taken after it asked)
                ( timeout -k 5 "$CKTMO" "$CKPT" "$job" >"$D/b.ck.out" 2>"$D/b.ck.err"; echo $? >"$D/b.rc" ) &
                local bpid=$!
                ( TFAIL=; ckpt "$D" c0w --wait "$job"; echo "$CK_RC $CK_LATE $CK_REF" >"$D/c0w.res"; echo "$TFAIL" >"$D/c0w.fail" ) &
                local wpid=$!
                ckpt "$D" "$N" --wait "$job"
                wait $bpid $wpid
                local brc wrc wlate wref
                brc=$(cat "$D/b.rc")
                read -r wrc wlate wref <"$D/c0w.res"
                [ -s "$D/c0w.fail" ] && bad "$(cat "$D/c0w.fail")"
                if [ "$brc" = 0 ]; then
                    NSNAP=$((NSNAP + 1))
                    local bref; bref=$(tail -n1 "$D/b.ck.out")
                    [ "$bref" = "$CK_REF" ] || [ "$bref" = "$wref" ] && bad "two requests got the same snapshot $bref"
                elif ! grep -qE "in progress|starting|$LATE_RE" "$D/b.ck.err"; then
                    bad "request without --wait during a checkpoint: exit $brc: $(tail -1 "$D/b.ck.err")"
                fi
                if [ "$wrc" = 0 ]; then
                    NSNAP=$((NSNAP + 1))
                    # two waiting requests may share the next snapshot (queued requests coalesce,
                    # /work/team/SNAPC.md); a request without --wait never shares one (above)
                    [ "$wref" = "$CK_REF" ] && note "the two --wait requests shared snapshot $wref"
                elif [ "$wlate" != 1 ]; then
                    bad "second --wait request: exit $wrc: $(grep -v '^ *$' "$D/c0w.ck.err" | tail -2 | tr '\n' ' ')"
                fi
            else
                ckpt "$D" "$N" --wait "$job"
            fi
            if [ $CK_RC != 0 ]; then
                if [ $CK_LATE = 1 ]; then TLATE="request $((i + 1)) refused: $CK_WHY"; break; fi
                bad "$(ck_msg --wait)"
            fi
        done
        wait_job "$job" "$jobmax"; st=$?
        [ $st = 0 ] || bad "the job's exit status $st"
        [ $st = 0 ] && elapsed "$t0" >"$NATIVE_OUT.revive"
        outs=("$D/g0.out")
        [ $NSNAP -gt 0 ] && TLATE=   # some snapshot was taken: the trial did its job
        ;;
    term | twice | chain)
        moment m $lo $hi
        TDESC="$TDESC at ${m}s"
        sleep_until "$t0" "$m"
        N=g0
        ckpt "$D" g0 --wait --term "$job"
        # after --term the job must be gone at once; after a refusal it runs to its end
        if [ $CK_RC = 0 ]; then wait_job "$job" 60; else wait_job "$job" "$jobmax"; fi
        st=$?
        outs=("$D/g0.out")
        if [ $CK_RC != 0 ]; then
            if [ $CK_LATE = 1 ]; then
                TLATE="the --term request was refused: $CK_WHY"
                [ $st = 0 ] || bad "the job's exit status $st after a late request"
                # it ran to its end: the next moments come from this run's time
                [ $st = 0 ] && elapsed "$t0" >"$NATIVE_OUT.revive"
            else
                bad "$(ck_msg --term)"
            fi
        else
            ref=$CK_REF
            local gens=0
            [ $kind = chain ] && gens=$((2 + RANDOM % 2))
            local g
            for g in $(seq 1 $gens); do
                # the restarted job, checkpointed and ended at a random moment
                N=g$g
                start_job "$D" "g$g" env PATH="$(dirname "$L"):$PATH" "$RESTART" "$ref"
                local rj=$JOBPID t1
                wait_coord "$rj" || note "the coordinator of restart $g never listened: $WC_WHY"
                t1=$(now)
                moment m 0 $((hi * 2 / 3))
                TDESC="$TDESC, restart $g --term at ${m}s"
                sleep_until "$t1" "$m"
                ckpt "$D" "g$g" --wait --term "$rj"
                if [ $CK_RC = 0 ]; then wait_job "$rj" 60; else wait_job "$rj" "$jobmax"; fi
                st=$?
                outs+=("$D/g$g.out")
                if [ $CK_RC != 0 ]; then
                    if [ $CK_LATE = 1 ]; then
                        # the chain is cut here; with no generation checkpointed it was no chain
                        [ $g = 1 ] && TLATE="the restarted job's --term request was refused: $CK_WHY"
                        note "chain cut at restart $g: its --term request was refused as it was finishing"
                        [ $st = 0 ] || bad "restart $g: exit status $st after a late request"
                        ref=
                        break
                    fi
                    bad "restart $g: $(ck_msg --term)"; ref=; break
                fi
                ref=$CK_REF
            done
            if [ -n "$ref" ]; then
                local last=$((gens + 1))
                N=g$last
                start_job "$D" "g$last" env PATH="$(dirname "$L"):$PATH" "$RESTART" "$ref"
                wait_job "$JOBPID" "$jobmax"; st=$?
                outs+=("$D/g$last.out")
                [ $st = 0 ] || bad "restart-mpi $ref: exit status $st (g$last.err below)"
                if [ $kind = twice ]; then
                    # the same snapshot again, from another folder
                    mkdir -p "$D/elsewhere"
                    start_job "$D/elsewhere" r2 env PATH="$(dirname "$L"):$PATH" "$RESTART" "$ref"
                    wait_job "$JOBPID" "$jobmax"; st=$?
                    mv "$D/elsewhere/r2.out" "$D/elsewhere/r2.err" "$D/" 2>/dev/null
                    [ $st = 0 ] || bad "second restart-mpi $ref: exit status $st (r2.err below)"
                    if ! cmp -s "$NATIVE_OUT" <(cat "${outs[@]:0:${#outs[@]}-1}" "$D/r2.out"); then
                        bad "second restart: output differs from the native run"
                        diff "$NATIVE_OUT" <(cat "${outs[@]:0:${#outs[@]}-1}" "$D/r2.out") | head -6 >"$D/diff2"
                    fi
                fi
            fi
        fi
        ;;
    esac
    cat "${outs[@]}" >"$D/all.out" 2>/dev/null
    if ! cmp -s "$NATIVE_OUT" "$D/all.out"; then
        bad "output differs from the native run ($NATIVE_OUT)"
        diff "$NATIVE_OUT" "$D/all.out" | head -6 >"$D/diff"
    fi
    # no process of the trial may be left
    sleep 0.3
    local left
    left=$(tagged_pids "CAMPAIGN_TRIAL=$TTAG" | tr '\n' ' ')
    if [ -n "$left" ]; then
        bad "stray processes: $(for p in $left; do echo -n "$p:$(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null | cut -c1-60) "; done)"
        kill_trial
    fi
    if [ -n "$TFAIL" ]; then TRESULT=fail; elif [ -n "$TLATE" ]; then TRESULT=late; fi
}

# ---- the campaign ------------------------------------------------------------------------
[ -n "$seed" ] || seed=$(( $(date +%s%N) / 1000 % 1000000 ))
# trial seeds from the campaign's seed and the trial's number: distinct for 999983 trials, and
# the campaign's seed mixed in non-linearly (with seed*1000003 + i, campaigns --seed S and S+1
# drew the same trials shifted by 20)
trial_seed() {
    local x=$(( seed % 999983 ))
    x=$(( (x * x % 999983 * 7919 + x * 104729 + 12345) % 999983 ))
    echo $(( ((x + $1) * 2654435761) % 999983 ))
}
start=$(now)
total=0 passed=0 failed=0 late=0 skipped=0
declare -A cnt skipwhy   # cnt[DIMENSION:VALUE:RESULT]; skipwhy[REASON]
count() { # RESULT PROG FLAVOR KIND NP
    local d
    for d in "prog:$2" "mpi:$3" "kind:$4" "ranks:$5"; do cnt[$d:$1]=$(( ${cnt[$d:$1]:-0} + 1 )); done
}
: >"$W/phases"
replay_opts=()
[ "$programs" != "$all_programs" ] && replay_opts+=(--programs "'$programs'")
[ "$flavors" != "ompi mpich" ] && replay_opts+=(--flavors "'$flavors'")
[ "$nps" != "1 2 4 8" ] && replay_opts+=(--nps "'$nps'")
[ "$kinds" != "continue term twice chain" ] && replay_opts+=(--kinds "'$kinds'")
[ "$duration" != 4 ] && replay_opts+=(--duration "$duration")
[ "$mlo-$mhi" != 20-700 ] && replay_opts+=(--moments "$mlo-$mhi")
echo "campaign: seed $seed, build $B, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "campaign: replay the whole campaign with: $me --seed $seed -n $ntrials ${replay_opts[*]}"
# -n counts trials that ran: a skipped one is replaced (at most 10 times as many draws)
i=0
while [ $total -lt "$ntrials" ] && [ $i -lt $((ntrials * 10)) ]; do
    i=$((i + 1))
    if [ "$budget" != 0 ] && [ "$(awk -v a="$start" -v b="$(now)" -v c="$budget" 'BEGIN { print (b - a > c) }')" = 1 ]; then
        echo "campaign: time budget of $budget s used after $((total + skipped)) trials"
        break
    fi
    if [ -n "$replay" ]; then tseed=$replay; else tseed=$(trial_seed "$i"); fi
    ts=$(now)
    trial "$tseed"
    dt=$(elapsed "$ts")
    read -r tprog tfl tn tkind _ <<<"$TDESC"
    tn=${tn#np=}
    case $TRESULT in
    skip)
        skipped=$((skipped + 1))
        skipwhy[$TFAIL]=$(( ${skipwhy[$TFAIL]:-0} + 1 ))
        # a known failure is drawn often: said once at the end (with -v here too)
        case $TFAIL in "known failure"*) [ $verbose = 1 ] && echo "skip  [$tseed] $TDESC: $TFAIL" ;;
                       *) echo "skip  [$tseed] $TDESC: $TFAIL" ;; esac
        rm -rf "$D"
        continue ;;
    fail)
        failed=$((failed + 1))
        echo "FAIL  [$tseed] $TDESC (${dt}s, $NSNAP snapshots): $TFAIL"
        [ -s "$D/diff" ] && sed 's/^/        /' "$D/diff"
        for f in "$D"/g*.err "$D"/r2.err; do
            [ -s "$f" ] && grep -v '^ *$' "$f" | grep -vE '^\[vm:|help message' | tail -3 | sed "s|^|        $(basename "$f"): |"
        done
        [ -n "$TNOTES" ] && printf '%s' "$TNOTES" | sed 's/^/        /'
        echo "        replay: REVIVE_BUILDDIR=$B $me --replay $tseed --rounds $ROUNDS ${replay_opts[*]}  (kept: $D)"
        echo "        (the moments came from the run's time, $REF_T s here; native $NATIVE_T s)" ;;
    late)
        late=$((late + 1))
        echo "late  [$tseed] $TDESC (${dt}s, $NSNAP snapshots): $TLATE"
        [ $keep = 1 ] || rm -rf "$D" ;;
    *)
        passed=$((passed + 1))
        echo "ok    [$tseed] $TDESC (${dt}s, $NSNAP snapshots)"
        [ $verbose = 1 ] && [ -n "$TNOTES" ] && printf '%s' "$TNOTES" | sed 's/^/        /'
        [ $keep = 1 ] || rm -rf "$D" ;;
    esac
    total=$((total + 1))
    count "$TRESULT" "$tprog" "$tfl" "$tkind" "$tn"
done
if [ $failed -gt 0 ] && [ $keep = 0 ]; then
    keep=1 # the failed trials' folders stay for a look; the others are gone already
    echo "campaign: the failed trials' files are kept in $W"
fi
summary() { # DIMENSION VALUES...
    local d=$1 v line=
    shift
    for v in "$@"; do
        [ -n "${cnt[$d:$v:pass]:-}${cnt[$d:$v:fail]:-}${cnt[$d:$v:late]:-}" ] || continue
        line="$line $v ${cnt[$d:$v:pass]:-0}/${cnt[$d:$v:fail]:-0}/${cnt[$d:$v:late]:-0};"
    done
    echo "campaign: by $d (passed/failed/late):$line"
}
summary mpi $flavors
summary prog $programs
summary kind $kinds
summary ranks $nps
[ $late -gt 0 ] && echo "campaign: $late trials late: no snapshot of their kind was taken because the job was finishing when asked (refused as designed); not counted as passed"
if [ $skipped -gt 0 ]; then
    echo "campaign: $skipped trials skipped, not counted (drawn again):"
    for w in "${!skipwhy[@]}"; do echo "campaign:   ${skipwhy[$w]} x $w"; done
fi
if [ -s "$W/phases" ]; then
    # median of each phase over every snapshot taken, by the phase's name (names have several
    # words, and a --term snapshot's phases are not a continuing one's: "targets 16,
    # converged+quiesced 61 (0 raises), drained 88, captured in the nodes' caches 101, running
    # again (recovered) 101, staged and committed (established) 112" or "..., captured 511,
    # committed 541, ranks told to end 541"); phases in the order they first came
    sed 's/.*from the request: //; s/ ([0-9]* raises*)//' "$W/phases" |
        awk -F', ' '{ for (i = 1; i <= NF; i++) { k = $i; sub(/ [^ ]*$/, "", k); v = $i; sub(/.* /, "", v)
                                                  if (!(k in o)) o[k] = ++m; print o[k] "\t" k "\t" v } }' |
        sort -t "$(printf '\t')" -k1,1n -k3,3n |
        awk -F '\t' '{ n[$1]++; v[$1, n[$1]] = $3; name[$1] = $2; if ($1 > m) m = $1 }
             END { printf "campaign: %d snapshots, median ms from the request:", n[1]
                   for (j = 1; j <= m; j++) printf "%s %s %s (%d)", (j > 1 ? "," : ""), name[j], v[j, int((n[j] + 1) / 2)], n[j]
                   print "" }'
fi
echo "$total trials, $passed passed, $failed failed, $late late, $skipped skipped (seed $seed)"
[ $((passed + failed)) = 0 ] && exit 77
[ $failed = 0 ]
