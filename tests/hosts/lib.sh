# Sourced by tests/hosts/*.sh (after flavor=ompi|mpich): the MPI job of these tests on the host
# test bed (hostbed.sh), its launch options for each MPI, and checks. Uses tests/snapc/lib.sh's
# helpers (fail, pass, expect_rc, wait_for, clean_exec, finish) and tests/mpi/mpienv.sh.
. "$REVIVE_SRCDIR/tests/snapc/lib.sh"
. "$REVIVE_SRCDIR/tests/mpi/mpienv.sh" || exit $?
. "$REVIVE_SRCDIR/tests/hosts/hostbed.sh"

bin=$B/tests/snapc/mpi_loop-$flavor
[ -x "$bin" ] || { echo "SKIP: $bin not built"; exit 77; }

# hosts_workdir NAME: the test's folder W (/tmp/revive-hosts-NAME.XXXXXX, 0700), removed at exit
# after the bed is down; the bed's hosts are made by hostbed_up
hosts_workdir() {
    W=$(mktemp -d "/tmp/revive-hosts-$1.XXXXXX") || exit 99
    trap 'eval "$cleanup"; hostbed_down; for p in $jobs_started; do kill -KILL $p 2>/dev/null; done; rm -rf "$W" "$tmp"' EXIT
    cd "$W" || exit 99
    export REVIVE_SOCKET_DIR=$W/sock
    SHARED=$W/shared   # the storage every host sees
    mkdir -m 0700 "$SHARED"
}

# cache_bed NAME HOSTS: the start of the tests of restarts from the node-local caches (cache.sh,
# fetch.sh, partner.sh): the test's folder (hosts_workdir NAME-$flavor), the bed of HOSTS hosts,
# the build's revive-restart-rank (REVIVE_RESTART_RANK; the test is skipped without it), the
# job's launch options on h1:2,h2:2, LOCAL (the caches: one path, each host its own directory)
# and the native 4-rank reference
cache_bed() {
    hosts_workdir "$1-$flavor"
    hostbed_up "$2"
    [ -x "$B/tools/revive-restart-rank" ] || { echo "SKIP: revive-restart-rank not built"; exit 77; }
    export REVIVE_RESTART_RANK=$B/tools/revive-restart-rank
    launch_opts h1:2,h2:2
    LOCAL=$HB/local
    native_job 4
}

# term_job NAME OPTION...: after cache_bed, the job under Revive (revive_job NAME, its cache
# LOCAL, OPTION...) and a committed --term snapshot of it: REF its sequence directory, JD its job
# directory's name, the job ended; else the test ends with the end of the job's errors
term_job() {
    local name=$1; shift
    revive_job $name --ckpt-dir "$SHARED" --ckpt-local "$LOCAL" "$@"
    if ! expect_rc 0 "$name: ckpt-mpirun --term" on h1 timeout 300 "$CKPT" --wait --term $JOB; then
        touch "$W/$name.go"; tail -20 "$W/$name.err"; finish
    fi
    ref=$(tail -n1 "$W/cmd.out")
    jd=$(basename "$(dirname "$ref")")
    wait $JOB
    touch "$W/$name.go"
}

# iterations of the bed's job (mpi_loop): the job holds halfway for the snapshots, so the count
# only sets how long its free-running parts take (the native reference, the rest of the job
# after a restart); its result depends on every step either way. MPICH's ranks spin while they
# wait (ch4:ucx; MPIR_CVAR_POLLS_BEFORE_YIELD changed nothing here): 4 ranks on 2 cores take
# about 40 ms a step alone (500 steps: 21 s native, 25 s for the half after a restart in
# retain-mpich), and far more beside another MPICH test (make -j2: retain-mpich 347 s and
# retain1-mpich 302 s side by side in CI), so its jobs run 100 steps. Open MPI yields (see
# launch_opts): 500.
case $flavor in
mpich) iters=${HOSTS_ITERS:-100} ;;
*) iters=${HOSTS_ITERS:-500} ;;
esac

# launch_opts HOSTSPEC: the launcher options that run a job on the bed's hosts through its
# agent (HOSTSPEC: h1:2,h2:2); in LOPTS. Open MPI is told to yield when idle: every "host"
# shares this machine's cores, but each believes it has the slots it was given, so its ranks
# would spin without yielding (a 2000-iteration job on h1:2,h2:2 took 90-150 s at load 9,
# 1.3 s with yielding; Open MPI yields by itself only when it knows it is oversubscribed).
# MPICH (ch4:ucx) has no such setting: its jobs are kept short by the iteration count.
launch_opts() {
    case $flavor in
    ompi) LOPTS=(--mca plm_rsh_agent "$HB_AGENT" --mca oob_tcp_if_include $HB_NET
                 --mca btl_tcp_if_include $HB_NET --mca mpi_yield_when_idle 1 --host "$1") ;;
    mpich) LOPTS=(-launcher ssh -launcher-exec "$HB_AGENT" -iface $HB_IF -hosts "$1") ;;
    esac
}

# revive_job NAME OPTION...: the bed's 4-rank job under Revive (mpirun -am ft-enable-cr OPTION...
# with the launch options), started from h1 in the background, holding halfway until $W/NAME.go
# exists; output in $W/NAME.out and .err; JOB = its mpirun (the coordinator), once it runs
revive_job() {
    local name=$1; shift
    ( PATH=$(dirname "$launcher"):$PATH clean_exec REVIVE_VERBOSE=2 nsenter -t "$(host_pid h1)" -n -u -m -- \
        "$wrapper" -am ft-enable-cr "$@" "${LOPTS[@]}" -n 4 "$bin" $iters hold "$W/$name.go" ) \
        >"$W/$name.out" 2>"$W/$name.err" &
    JOB=$!; jobs_started="$jobs_started $JOB"
    wait_for 120 'case "$(cat /proc/$JOB/comm 2>/dev/null)" in mpirun|revive-coord) true ;; *) false ;; esac' ||
        fail "the job $name did not start Revive's mpirun"
}

# hostfile FILE HOST:N...: a hostfile in the flavour's format
hostfile() {
    local f=$1 h; shift
    : >"$f"
    for h in "$@"; do
        case $flavor in
        ompi) echo "${h%%:*} slots=${h##*:}" >>"$f" ;;
        mpich) echo "$h" >>"$f" ;;
        esac
    done
}

# damage_copies FILE...: complements the byte at 3/5 of each FILE, so that it changes whatever
# it was (writing a fixed value changes nothing over a byte that holds it already: a restart
# from the "damaged" image then succeeded by chance, retain-mpich in CI, ef203f6); once per file
# (a cached copy may be a hard link of the shared one: complemented twice it would be undone).
# DAMAGED: how many files were changed; status 1 when one could not be.
damage_copies() {
    local f id size b seen=" " rc=0
    DAMAGED=0
    for f in "$@"; do
        id=$(stat -c %d:%i "$f") || { rc=1; continue; }
        case "$seen" in *" $id "*) continue ;; esac
        seen="$seen$id "
        if size=$(stat -c %s "$f") && b=$(od -An -tu1 -j $((size * 3 / 5)) -N1 "$f") && [ -n "$b" ] &&
            printf "\\$(printf %03o $((255 - b)))" | dd of="$f" bs=1 seek=$((size * 3 / 5)) conv=notrunc status=none; then
            DAMAGED=$((DAMAGED + 1))
        else
            rc=1
        fi
    done
    return $rc
}

# agent_hosts: the hosts the launchers reached through the agent so far (agent.log)
agent_hosts() { sort -u "$HB/agent.log" 2>/dev/null | tr '\n' ' '; }

# job_on_hosts: the host of every rank of mpi_loop running now ("h1 h1 h2 h2")
ranks_hosts() {
    local p h
    for p in $(pgrep -f -- "^$bin " ; pgrep -f -- "^[^ ]*/revive-restart-rank "); do
        for h in $(ls "$HB"/h*.pid); do
            h=$(basename "$h" .pid)
            [ /proc/$p/ns/net -ef /proc/$(host_pid $h)/ns/net ] && echo $h
        done
    done | sort | tr '\n' ' '
}

# native_job NP: the job without Revive on the hosts of LOPTS, from h1, its output in
# $W/native.out (the reference the tests compare with); on failure one line with its real
# status, the end of its errors, and the test ends. Bounded at 900 s: at load 20-35 (several CI
# runs at once) a 4-rank Open MPI job on the bed ran out of 300 s, and the launcher killed on
# h1 showed on h2 only as Open MPI's "peer hung up" TCP error.
native_job() {
    local st
    on h1 timeout -k 5 900 "$launcher" "${LOPTS[@]}" -n "$1" "$bin" $iters >"$W/native.out" 2>"$W/native.err"
    st=$?
    [ $st = 0 ] && return 0
    if [ $st = 124 ] || [ $st = 137 ]; then
        fail "native $1-rank job: ran out of 900 s (load $(cut -d' ' -f1 /proc/loadavg))"
    else
        fail "native $1-rank job: status $st"
    fi
    tail -5 "$W/native.err"
    finish
}

# end_job: whatever is left of the job $JOB ends: SIGTERM to its mpirun (the coordinator passes
# it to the launcher); a launcher that waits for a lost host (its link down: silence) is killed
# with its coordinator after 10 s, as a user would (JOB_KILLED=1 then); no rank may be left
# (stagefail.sh, stagelost.sh). MPICH's Hydra can wait for a silent host for ever: the whole
# grace was waited out then (in a CI run twice, 10 s each, nothing checked meanwhile), so with
# MPICH the grace ends as soon as no rank runs on any host (ranks_hosts, every 0.5 s: the
# SIGTERM has reached them)
end_job() {
    local t
    JOB_KILLED=0   # 1: killed here, its end never ran (stagefail.sh; a status 137 alone does not
                   # tell: the coordinator ends like its launcher, by SIGKILL too, after its end)
    kill -TERM $JOB 2>/dev/null
    for t in $(seq 200); do
        kill -0 $JOB 2>/dev/null || break
        [ $flavor = mpich ] && [ $((t % 10)) = 0 ] && [ -z "$(ranks_hosts)" ] && break
        sleep 0.05
    done
    if kill -0 $JOB 2>/dev/null; then
        if [ $t -lt 200 ]; then
            printf 'the launcher did not end on SIGTERM (it waits for the lost host); no rank was left after %d.%02d s: killed\n' \
                $((t / 20)) $((t % 20 * 5))
        else
            echo "the launcher did not end on SIGTERM within 10 s (it waits for the lost host): killed"
        fi
        local p
        for p in $(pgrep -P $JOB); do pkill -KILL -P $p; kill -KILL $p; done
        kill -KILL $JOB
        JOB_KILLED=1
    fi
    wait $JOB
    JOB_STATUS=$?
    wait_for 60 '[ -z "$(ranks_hosts)" ]' || fail "ranks left: $(ranks_hosts)"
}
