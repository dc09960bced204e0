#!/bin/bash
# A process tree's /dev/shm objects restarted by an ordinary user (issue 10, point 7): crt_tree
# devshm (a program and its child sharing a /dev/shm object, shm_open) run, checkpointed with
# --tree and restarted by a throwaway user (every restart in a user and pid namespace):
#  - cr_cycle.sh's kill, twice, rr, cont, fork, busy and mutate (the object removed from /dev/shm
#    before the restart, which brings it back from the image): busy, the restart beside the
#    running original, gets a /dev/shm of the tree's own in the user's namespace, as root's
#    does in a mount namespace (before: refused, "in use by process P ... as root, cr_restart
#    gives the restarted processes a /dev/shm of their own");
#  - two restarts of one image side by side: the second finds the object in use by the first
#    and takes a /dev/shm of its own: its members see another /dev/shm (device) holding the
#    object, a different file from the one the first copy maps; both end as the uninterrupted
#    run (before: the second refused).
# Root only (useradd).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup tree_devshm_user
crs_need_tools cr_run cr_checkpoint cr_restart
crs_throwaway_user crsds "restarting a tree as a throwaway user"
chmod o+x "$WORK"
src=$(cd "$(dirname "$0")/../../.." && pwd)
crs_let_others_read_harness "$src"
asuser test -r "$src/tests/crs/cr_cycle.sh" || crs_skip "$user cannot read cr_cycle.sh (directory permissions)"
mkdir -p "$WORK/user"
chown "$uid:$gid" "$WORK/user"
export CRT_TREE=devshm
asu=(setpriv --reuid="$uid" --regid="$gid" --clear-groups)

asuser env TMPDIR="$WORK/user" CRS_CKPT_SCOPE=--tree CRS_FLAVOURS="kill twice rr cont fork busy mutate" \
    CRS_MUTATE='rm -f /dev/shm/crt_tree.$PID' CRS_EXPECT_PID=1 CRS_KEEP=0 \
    timeout -k 10 600 bash "$src/tests/crs/cr_cycle.sh" crt_tree 2>&1 | sed 's/^/   | /'
st=${PIPESTATUS[0]}
if [ "$st" = 0 ]; then
    crs_pass "as $user: kill, twice, rr, cont, fork, busy (a /dev/shm of the tree's own), mutate (/dev/shm emptied)"
else
    crs_fail "as $user: cr_cycle.sh crt_tree devshm: $(crs_status_text "$st")"
fi

# two restarts of one image side by side: the image was taken while the program waited at point
# 1, so each restarted copy waits there again until go.1 exists, its members mapping the object
d=$WORK/side
mkdir -p "$d"
chown "$uid:$gid" "$d"
crs_start_or_end "side: the program never got ready" "$d" "${asu[@]}" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_tree"
orig=$PID
crs_tool "$WORK/side.ck" cr_checkpoint --tree --kill -f "$WORK/side.img" "$orig" ||
    { crs_fail "side: cr_checkpoint: $(head -n 1 "$WORK/side.ck.err")"; crs_summary tree_devshm_user; }
crs_wait_status "$d/orig" 30 >/dev/null
chown "$uid" "$WORK/side.img"
crs_uninterrupted "$WORK/ref" ref "$CRS_BIN/crt_tree" >/dev/null
crs_after_point 1 "$WORK/ref/ref.out" >"$WORK/after1"
# mappers N: waits (30 s at most) until N of the user's processes map the object; prints them
mappers() {
    local end=$((SECONDS + 30)) m
    while :; do
        m=$(for p in $(pgrep -u "$uid" -f crt_tree); do
            grep -qs "/dev/shm/crt_tree.$orig" "/proc/$p/maps" && echo "$p"
        done)
        { [ "$(echo "$m" | grep -c .)" -ge "$1" ] || [ $SECONDS -ge $end ]; } && break
        crs_nap 0.1
    done
    echo $m
}
(cd "$d" && crs_launch "$WORK/A" "${asu[@]}" "$CRS_TOOLS/cr_restart" "$WORK/side.img")
a=$(mappers 2)
(cd "$d" && crs_launch "$WORK/B" "${asu[@]}" "$CRS_TOOLS/cr_restart" "$WORK/side.img")
ab=$(mappers 4)
# each copy's members: one /dev/shm (device) within the copy, another than the other copy's
shmdev=$(stat -c %d /dev/shm)
devs=
for p in $ab; do
    devs="$devs $p:$(stat -L -c %d:%i "/proc/$p/root/dev/shm/crt_tree.$orig" 2>/dev/null)"
done
na=0 nb=0 good=1
for x in $devs; do
    p=${x%%:*} di=${x#*:}
    case " $a " in
        *" $p "*) na=$((na + 1)); [ "$di" = "$(stat -c %d:%i "/dev/shm/crt_tree.$orig")" ] || good=0 ;;
        *) nb=$((nb + 1)); [ "${di%%:*}" != "$shmdev" ] && [ -n "${di#*:}" ] || good=0 ;;
    esac
done
touch "$d/go.1" "$d/go.2"
stA=$(crs_wait_status "$WORK/A")
stB=$(crs_wait_status "$WORK/B")
if [ "$na" = 2 ] && [ "$nb" = 2 ] && [ "$good" = 1 ] && grep -q "a /dev/shm of their own" "$WORK/B.err"; then
    crs_pass "side: the second restart beside the first: its 2 members share an object in a /dev/shm of their own, the first's 2 the one in /dev/shm"
else
    crs_fail "side: the second restart beside the first: members (pid:device:inode of their object) first $a, all$devs (/dev/shm is device $shmdev); $(head -n 2 "$WORK/B.err" | tr '\n' ' ')"
fi
crs_expect_run "side: the first restart ends as the uninterrupted run" "$WORK/after1" "$WORK/A" "$stA"
crs_expect_run "side: the second restart ends as the uninterrupted run" "$WORK/after1" "$WORK/B" "$stB"
crs_summary tree_devshm_user
