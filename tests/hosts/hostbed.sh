# Sourced by tests/hosts/*.sh: several "hosts" on this machine for multi-host MPI jobs.
#
# Each host hN (N = 1..) is a set of namespaces held open by one sleeping process: a network
# namespace (interface rv0, address 10.77.0.N/24, lo), a UTS namespace (hostname hN) and a
# mount namespace in which the host's own node-local directory $HB/node/hN is bound onto
# $HB/local (the same path on every host, different contents: what a node's /tmp or local disk
# is); with HB_NODE_IDS=1 also a boot_id of its own bound onto /proc/sys/kernel/random/boot_id
# and a sysfs of its own (its network devices) on /sys. A further namespace holds the "switch":
# a bridge with one veth to each host. Nothing is added to this machine's own network
# namespace; the only addresses are those of 10.77.0.0/24 inside the hosts. Each host's mount
# namespace sees the bed's own hosts file ($HB/hosts: this machine's /etc/hosts plus one line per
# host) bound onto /etc/hosts, because the launchers resolve host names (Hydra's proxies connect
# back to "h1"); the machine's /etc/hosts is never touched.
#
# Launchers reach a host through $HB/bin/ssh, the remote shell they are given
# (Open MPI: --mca plm_rsh_agent $HB/bin/ssh; MPICH: -launcher ssh -launcher-exec $HB/bin/ssh):
# `ssh [ssh options] HOST COMMAND...` (or $HB/agent, the same but for the port check) runs COMMAND with sh in HOST's namespaces, with a
# login-like environment (see hostagent.sh).
#
# Teardown is the test's EXIT trap (hostbed_down) and, should the test be killed outright, a
# watchdog started at setup that does the same once the test's process is gone. Beds are
# independent (each has its own switch namespace, addresses exist only inside a bed, names only
# in its hosts' mount namespaces), so host tests run side by side like the others.
#
# Functions: hostbed_up N, hostbed_down, on HOST CMD... (runs CMD in HOST, env kept),
# host_kill HOST (every process of HOST killed, its link down: the node is lost),
# host_crash HOST (the same, the processes killed before the link goes down),
# host_wipe HOST (its node-local directory emptied), host_pids HOST.
# Variables after hostbed_up: HB (the bed's folder), HB_AGENT, HB_NET (10.77.0.0/24),
# HB_IF (rv0, the interface inside each host).

HB_NET=10.77.0.0/24
HB_IF=rv0

# hostbed_skip_reason: empty when a bed can be made here, else why not
hostbed_skip_reason() {
    [ "$(id -u)" = 0 ] || { echo "the host test bed needs root (network, UTS and mount namespaces)"; return; }
    local c
    for c in unshare nsenter ip mount; do
        command -v $c >/dev/null 2>&1 || { echo "the host test bed needs $c"; return; }
    done
    if ! unshare --net --uts --mount true 2>/dev/null; then
        echo "cannot create namespaces here (unshare --net --uts --mount failed)"; return
    fi
}

# hb_holder NAME: starts a process holding new net+UTS+mount namespaces; echoes its pid
hb_holder() {
    local name=$1 pid t=0
    # setsid: not in the test's process group, so a launcher's kill of its group spares it
    setsid unshare --net --uts --mount sh -c 'exec sleep 86400' </dev/null >/dev/null 2>&1 &
    pid=$!
    # wait until it is inside its own namespaces (unshare has run and exec'd sleep)
    while [ "$(readlink /proc/$pid/ns/net 2>/dev/null)" = "$(readlink /proc/self/ns/net)" ] ||
          [ "$(cat /proc/$pid/comm 2>/dev/null)" != sleep ]; do
        sleep 0.05; t=$((t + 1))
        [ $t -lt 1200 ] || { echo "hostbed: the holder of $name did not start" >&2; return 1; }
    done
    echo $pid
}

hb_in() { # PID CMD...: runs CMD in the namespaces of PID
    local pid=$1; shift
    nsenter -t "$pid" -n -u -m -- "$@"
}

# hostbed_up N: hosts h1..hN; exits 77 (skip, with the reason) when it cannot be made here
hostbed_up() {
    local n=$1 i why pid
    why=$(hostbed_skip_reason)
    if [ -n "$why" ]; then echo "SKIP: $why"; exit 77; fi
    HB=${W:?hostbed_up needs the test folder W}/hostbed
    mkdir -m 0700 -p "$HB" "$HB/node" "$HB/local" || exit 99
    # each host's TMPDIR is its node-local directory (a node's own /tmp): the default cache of
    # a job without --ckpt-local is there (hostagent.sh passes TMPDIR on)
    export TMPDIR=$HB/local
    HB_HOSTS=
    { cat /etc/hosts; for i in $(seq 1 "$n"); do echo "10.77.0.$i h$i"; done; } >"$HB/hosts" &&
        chmod 0644 "$HB/hosts" || exit 99
    echo $$ >"$HB/test.pid"
    # the watchdog first, so that everything made afterwards is undone even if we are killed now
    setsid bash "$REVIVE_SRCDIR/tests/hosts/hostbed_watch.sh" "$HB" $$ </dev/null >/dev/null 2>&1 &
    echo $! >"$HB/watch.pid"
    disown $!
    pid=$(hb_holder switch) || exit 1
    echo "$pid" >"$HB/switch.pid"
    hb_in "$pid" ip link add br0 type bridge || exit 1
    hb_in "$pid" ip link set br0 up || exit 1
    for i in $(seq 1 "$n"); do
        local h=h$i
        pid=$(hb_holder $h) || exit 1
        echo "$pid" >"$HB/$h.pid"
        mkdir -m 0700 -p "$HB/node/$h"
        hb_in "$pid" sh -c "hostname $h && mount --bind '$HB/node/$h' '$HB/local' &&
            mount --bind '$HB/hosts' /etc/hosts && ip link set lo up" ||
            { echo "FAIL: cannot make host $h"; exit 1; }
        # HB_NODE_IDS=1: a boot_id of its own, as every node has (the hosts share this machine's
        # kernel): what tells nodes apart where host names do not (src/pml_hooks/objs_restart.c
        # node_key; tests/hosts/scratch.sh checks it took), and a sysfs of its own, mounted from
        # inside its network namespace (the machine's cgroup mounts kept under it), whose
        # /sys/class/net lists the host's interfaces (lo, rv0), as on a node: UCX (MPICH's
        # ch4:ucx) takes hosts of other boot_ids for other machines (no shared memory, no
        # loopback to them) and its TCP devices from there (with the machine's sysfs: none but lo,
        # "initial_address_exchange ... Destination is unreachable" at MPI_Init). Not by default:
        # MPICH 4.0's MPI_Finalize over UCX's TCP hung here now and then, natively too (3 of 5
        # native jobs on h1:1,h2:1,h3:2: one rank flushing its endpoints while the others wait in
        # the PMI barrier), so the other tests keep the machine's boot_id (UCX: shared memory).
        if [ "${HB_NODE_IDS:-}" = 1 ]; then
            cat /proc/sys/kernel/random/uuid >"$HB/$h.boot_id" &&
                hb_in "$pid" mount --bind "$HB/$h.boot_id" /proc/sys/kernel/random/boot_id ||
                echo "hostbed: host $h keeps this machine's boot_id" >&2
            mkdir -p "$HB/sys.$h" && hb_in "$pid" sh -c "mount -t sysfs sysfs '$HB/sys.$h' &&
                { ! mountpoint -q /sys/fs/cgroup || mount --rbind /sys/fs/cgroup '$HB/sys.$h/fs/cgroup'; } &&
                mount --move '$HB/sys.$h' /sys" ||
                { echo "FAIL: cannot give host $h a sysfs of its own"; exit 1; }
        fi
        # HB_TWO_IF=hN: that host gets first another interface (aa0, 10.99.0.N/24, a veth
        # whose peer stays in the host: nothing answers there), so that "the first address of
        # the host" is not on the bed's network
        if [ "${HB_TWO_IF:-}" = $h ]; then
            hb_in "$pid" sh -c "ip link add aa0 type veth peer name aa1 && ip addr add 10.99.0.$i/24 dev aa0 && ip link set aa0 up && ip link set aa1 up" ||
                { echo "FAIL: cannot give host $h a second interface"; exit 1; }
        fi
        hb_in "$(cat "$HB/switch.pid")" ip link add "$h" type veth peer name $HB_IF netns "$pid" ||
            { echo "FAIL: cannot link host $h"; exit 1; }
        hb_in "$(cat "$HB/switch.pid")" ip link set "$h" master br0 up || exit 1
        hb_in "$pid" sh -c "ip addr add 10.77.0.$i/24 dev $HB_IF && ip link set $HB_IF up" || exit 1
        # the host's remote shell port (22) accepts, as a node's sshd does: restart-mpi asks
        # it whether the host is up before it launches there (tools/snapc/host_probe.h); a
        # host lost (host_kill, host_crash) loses it with its other processes
        hb_sshd $h 22
        HB_HOSTS="$HB_HOSTS $h"
    done
    # the launchers' remote shell: named ssh, as the launchers' default is (restart-mpi asks an
    # ssh where it goes for a host with -G, answered from $HB/ssh_config; it asks no other remote
    # shell's port); $HB/agent is the same for the tests that name it
    # (that ssh reaches a host only when the port ssh_config gives it, 22 by default, accepts:
    # hostagent.sh, HB_VIA=ssh)
    HB_AGENT=$HB/bin/ssh
    mkdir -m 0700 -p "$HB/bin" && : >"$HB/ssh_config" || exit 99
    printf '#!/bin/sh\nHB_VIA=ssh exec "%s" "%s" "$@"\n' "$REVIVE_SRCDIR/tests/hosts/hostagent.sh" "$HB" >"$HB_AGENT"
    printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$REVIVE_SRCDIR/tests/hosts/hostagent.sh" "$HB" >"$HB/agent"
    chmod 0700 "$HB_AGENT" "$HB/agent" || exit 99
    # the hosts reach each other (the links come up asynchronously) and their port 22 listens
    for i in $(seq 1 "$n"); do
        local t=0
        until on h1 timeout 2 bash -c "echo >/dev/tcp/10.77.0.$i/22" 2>/dev/null; do
            t=$((t + 1)); [ $t -lt 120 ] || { echo "FAIL: h1 cannot reach h$i"; exit 1; }
            sleep 0.1
        done
    done
}

host_pid() { cat "$HB/$1.pid"; }

# hb_sshd HOST PORT: a stand-in for HOST's sshd accepts (and closes) connections on PORT
# (process "hb-sshd PORT" in the host); hb_sshd_stop HOST PORT ends it (the host stays up)
hb_sshd() {
    (hb_in "$(host_pid "$1")" setsid perl -MIO::Socket::INET -e '$0 = "hb-sshd $ARGV[0]";
        my $s = IO::Socket::INET->new(LocalPort => $ARGV[0], Listen => 64, ReuseAddr => 1)
            or die "hb-sshd: $!\n";
        while (1) { my $c = $s->accept or next; close $c }' "$2" </dev/null >/dev/null 2>&1 &)
}
hb_sshd_stop() {
    local p
    for p in $(host_pids "$1"); do
        [ "$(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null)" = "hb-sshd $2 " ] && kill -KILL $p
    done
}

on() { # HOST CMD...
    local h=$1; shift
    hb_in "$(host_pid "$h")" "$@"
}

# host_pids HOST: every process in HOST's network namespace but its holder. test's -ef (same
# device and inode: the namespace itself) runs in the shell; a readlink per process forked once
# for each process on the machine, 1.5 s per host with 150 processes, more under CI
host_pids() {
    local hp p
    hp=$(host_pid "$1")
    [ -e /proc/$hp/ns/net ] || return 0
    for p in /proc/[0-9]*; do
        [ "${p#/proc/}" = "$hp" ] && continue
        [ $p/ns/net -ef /proc/$hp/ns/net ] && echo "${p#/proc/}"
    done
}

# host_kill HOST: the node is lost: its link goes down (peers see silence, not a reset), then
# every process on it is killed
host_kill() {
    hb_in "$(cat "$HB/switch.pid")" ip link set "$1" down
    local p
    for p in $(host_pids "$1"); do kill -KILL "$p" 2>/dev/null; done
}

# host_crash HOST: the node is lost the other way: every process on it is killed while its
# link is up (peers see their connections close, as when a node's processes die first), then
# its link goes down
host_crash() {
    local p t=0
    for p in $(host_pids "$1"); do kill -KILL "$p" 2>/dev/null; done
    while [ -n "$(host_pids "$1")" ] && [ $t -lt 600 ]; do sleep 0.1; t=$((t + 1)); done
    hb_in "$(cat "$HB/switch.pid")" ip link set "$1" down
}

host_wipe() { find "$HB/node/$1" -mindepth 1 -delete; }

# hostbed_tmpfs DIR SIZE: a tmpfs of SIZE on DIR (in the test folder), made before hostbed_up
# so that every host sees the same one (their mount namespaces are copies made then); removed
# at teardown, by the watchdog too (listed in $W/hostbed.mounts)
hostbed_tmpfs() {
    mkdir -p "$1" && mount -t tmpfs -o "size=$2,mode=0700" revive-hostbed "$1" ||
        { echo "FAIL: cannot mount a tmpfs on $1"; exit 1; }
    echo "$1" >>"$W/hostbed.mounts"
}

# hostbed_down: everything hostbed_up made is gone (idempotent)
hostbed_down() {
    [ -n "${HB:-}" ] && [ -d "$HB" ] || return 0
    bash "$REVIVE_SRCDIR/tests/hosts/hostbed_watch.sh" --now "$HB"
}
