#!/bin/bash
# hostbed_watch.sh HB TESTPID: the host test bed's watchdog (started by hostbed_up in a session
# of its own). Waits until the test's process is gone, then takes the bed down: a test killed
# outright (SIGKILL, a CI timeout) leaves nothing behind either.
# hostbed_watch.sh --now HB: takes the bed down at once (the test's own teardown).
down() {
    local hb=$1 f pid p killed=
    # every process on a host first (ranks, daemons), then the holders: the namespaces, their
    # links and the bridge go with their last process. Same namespace: test's -ef (device and
    # inode), in the shell: a readlink forked per process took 1.5 s per host at 150 processes
    for f in "$hb"/h*.pid; do
        [ -f "$f" ] || continue
        pid=$(cat "$f")
        [ -e /proc/$pid/ns/net ] || continue
        for p in /proc/[0-9]*; do
            p=${p#/proc/}
            [ "$p" = "$pid" ] || [ "$p" = $$ ] && continue
            if [ /proc/$p/ns/net -ef /proc/$pid/ns/net ]; then
                kill -KILL "$p" 2>/dev/null; killed="$killed $p"
            fi
        done
    done
    local holders=
    for f in "$hb"/h*.pid "$hb"/switch.pid; do
        [ -f "$f" ] || continue
        holders="$holders $(cat "$f")"
        kill -KILL "$(cat "$f")" 2>/dev/null
        rm -f "$f"
    done
    # gone, not only signalled: the caller removes the folders they wrote into next
    local t=0 left=1
    while [ $left = 1 ] && [ $t -lt 200 ]; do
        left=0
        for p in $holders $killed; do kill -0 "$p" 2>/dev/null && left=1; done
        [ $left = 1 ] && sleep 0.05
        t=$((t + 1))
    done
    # tmpfs mounts of the test (hostbed_tmpfs), detached even if something still uses them;
    # first, so that one on the nodes' folder (bench/stage/partner.sh) is gone before its rm
    local m
    if [ -f "${hb%/hostbed}/hostbed.mounts" ]; then
        while read -r m; do
            mountpoint -q "$m" 2>/dev/null && umount -l "$m"
        done <"${hb%/hostbed}/hostbed.mounts"
        rm -f "${hb%/hostbed}/hostbed.mounts"
    fi
    rm -rf "$hb/node"
}

if [ "$1" = --now ]; then
    hb=$2
    w=$(cat "$hb/watch.pid" 2>/dev/null) && kill -KILL "$w" 2>/dev/null
    down "$hb"
    exit 0
fi
hb=$1 test=$2
start=$(cut -d' ' -f22 /proc/$test/stat 2>/dev/null)
# the same process (not a later one with a reused pid) still runs
while [ -n "$start" ] && [ "$(cut -d' ' -f22 /proc/$test/stat 2>/dev/null)" = "$start" ]; do
    sleep 1
done
down "$hb"
# the test could not remove its folder: do it (only a test folder of tests/hosts)
case ${hb%/hostbed} in /tmp/revive-hosts-*) rm -rf "${hb%/hostbed}" ;; esac
