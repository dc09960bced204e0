#!/bin/bash
# The restore's fill off its fast way (src/crs/uspace/restore_load.c fill_chunk, which puts
# each checked chunk in place with process_vm_writev of cr_restart's own memory):
#   1. process_vm_writev refused, as a sandbox's seccomp filter refuses it (no_vm_writev sets
#      one): the fill copies from its buffer (said at REVIVE_VERBOSE=2); a heap (crt_heap) and
#      memfds (crt_memfd, filled through a mapping of cr_restart's own) restart as they ran.
#   2. root, huge pages (diffrev29 F-L1): an image with MAP_HUGETLB memory, private and shared
#      (crt_hugepages), restarted in a cgroup whose hugetlb limit is 0 (the kernel charges a huge
#      page to the cgroup when it is faulted in, not when it is mapped: the mapping is made, its
#      pages cannot be): refused in one line naming huge pages, with the kernel's fill and with
#      the copy. The code before: the copy died of SIGBUS; the kernel's fill said "read failed
#      at byte N: Bad address". With the limit lifted, the image restarts under the filter.
#      The test reserves huge pages (crs_hugepages_raise: vm.nr_hugepages, put back at the end;
#      one test at a time holds /tmp/revive-hugepages.lock) and mounts the hugetlb cgroup
#      controller (cgroup v1) in its work directory, unmounted at the end; where v1 cannot mount
#      it (a cgroup v2 hierarchy has it), a cgroup of v2 with its hugetlb.2MB.max (the
#      controller enabled in the root's subtree_control for the test when it was not, put back).
#      FILL_FALLBACK_CGROUP=v1 or v2 picks one.
. "$(dirname "$0")/../crs_lib.sh"
crs_need_tools cr_run cr_checkpoint cr_restart
crs_setup fill_fallback
NOVW=$CRS_BIN/no_vm_writev
copying="the fill copies from its buffer"

# said: OUT's stderr says the fill copied (else the filter did not reach the fill: this test
# would prove nothing)
said_copy() {
    grep -qF "$copying" "$1.err" && return 0
    crs_fail "$2: cr_restart does not say \"$copying\": the fill was not the copy"
    crs_show "$1.err"
    return 1
}

# 1. process_vm_writev refused
for prog in crt_heap crt_memfd; do
    crs_good_image fill_fallback "$CRS_BIN/$prog"
    mv "$GOOD" "$WORK/$prog.img"
    mv "$WORK/ref.after1" "$WORK/$prog.after1"
    rm -f ready.*
    st=$(crs_run "$WORK/$prog.r" "$NOVW" env REVIVE_VERBOSE=2 "$CRS_TOOLS/cr_restart" "$WORK/$prog.img")
    said_copy "$WORK/$prog.r" "$prog" &&
        crs_expect_run "$prog: process_vm_writev refused, the fill copies: restarted as it ran" \
            "$WORK/$prog.after1" "$WORK/$prog.r" "$st"
    cd "$WORK" || exit 99
    rm -rf "$WORK/ref" "$WORK/prog"
done

# 2. huge pages that cannot be had
crs_hugepages_raise fill_fallback 32 8
case $? in
1) crs_note "only $CRS_HUGEPAGES_GOT more huge pages could be reserved: not tested"; crs_summary fill_fallback ;;
2) crs_note "not root: the fill of huge pages that cannot be had is not tested"; crs_summary fill_fallback ;;
esac
# A cgroup with a hugetlb limit: the controller of cgroup v1 mounted in the work folder, or,
# where it cannot be (a machine whose cgroup v2 hierarchy has taken it), cgroup v2's, where
# hugetlb.2MB.max is charged at the fault as v1's limit_in_bytes is. FILL_FALLBACK_CGROUP=v1
# or v2 asks for one. Sets CG (the test's cgroup, made), LIMIT (its limit file), UNLIMITED.
# hugetlb's hierarchy in /proc/cgroups: 0 when cgroup v2's (or none), else a v1 hierarchy's
hugetlb_hier() { awk '$1 == "hugetlb" {print $2}' /proc/cgroups; }
# The v1 hierarchy unmounted: a hierarchy unmounted while a cgroup of it is still dying (the
# test's, just removed) stays alive unseen, and keeps the controller from cgroup v2 until it is
# mounted and unmounted again without one (measured here: hugetlb stayed on that hidden
# hierarchy, absent from v2's cgroup.controllers). When this test made the hierarchy, it goes.
v1_gone() {
    local i
    umount "$WORK/cg"
    [ "$v1_made" = 1 ] || return 0
    for i in $(seq 50); do
        [ "$(hugetlb_hier)" = 0 ] && return 0
        sleep 0.1
        mount -t cgroup -o hugetlb revive-fill-fallback "$WORK/cg" 2>/dev/null && umount "$WORK/cg"
    done
    echo "fill_fallback: the hugetlb controller stays on a cgroup v1 hierarchy nobody mounts" >&2
}
hugetlb_v1() {
    mkdir -p "$WORK/cg"
    v1_made=0
    [ "$(hugetlb_hier)" = 0 ] && v1_made=1
    mount -t cgroup -o hugetlb revive-fill-fallback "$WORK/cg" 2>"$WORK/mount.err" || return 1
    crs_at_exit v1_gone
    CG=$WORK/cg/revive-fill-fallback.$$ LIMIT=hugetlb.2MB.limit_in_bytes UNLIMITED=-1
}
hugetlb_v2() {
    local root
    root=$(findmnt -n -t cgroup2 -o TARGET 2>/dev/null | head -n 1)
    if [ -z "$root" ]; then
        mkdir -p "$WORK/cg2"
        mount -t cgroup2 revive-fill-fallback "$WORK/cg2" 2>"$WORK/mount.err" || return 1
        crs_at_exit "umount $WORK/cg2"
        root=$WORK/cg2
    fi
    grep -qw hugetlb "$root/cgroup.controllers" 2>/dev/null ||
        { echo "the cgroup v2 hierarchy at $root has no hugetlb controller" >"$WORK/mount.err"; return 1; }
    if ! grep -qw hugetlb "$root/cgroup.subtree_control"; then
        # enabled for the test's cgroup only as long as the test runs (while it is, cgroup v1
        # cannot mount the controller: one test at a time holds the huge pages' lock)
        echo +hugetlb >"$root/cgroup.subtree_control" 2>"$WORK/mount.err" || return 1
        crs_at_exit "echo -hugetlb >$root/cgroup.subtree_control"
    fi
    CG=$root/revive-fill-fallback.$$ LIMIT=hugetlb.2MB.max UNLIMITED=max
}
case ${FILL_FALLBACK_CGROUP:-} in
v1) hugetlb_v1; got=$? ;;
v2) hugetlb_v2; got=$? ;;
*) hugetlb_v1 || hugetlb_v2; got=$? ;;
esac
if [ $got != 0 ]; then
    crs_note "no hugetlb cgroup controller here, v1 or v2 ($(head -n 1 "$WORK/mount.err")): not tested"
    crs_summary fill_fallback
fi
crs_note "the hugetlb limit: $CG/$LIMIT"
mkdir "$CG" || { crs_fail "setup: cannot make the cgroup $CG"; crs_summary fill_fallback; }
# the cgroup goes at the end (limit 0 left in the machine's own hierarchy, when the controller
# is mounted elsewhere too, would fail every huge page of what ran in it): what is still in it
# (a restart the timeout ended) killed first (diffrev30 S-L4)
cg_gone() {
    local p i
    for i in $(seq 100); do
        for p in $(cat "$CG/cgroup.procs" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
        rmdir "$CG" 2>/dev/null && return 0
        [ -d "$CG" ] || return 0
        sleep 0.1
    done
    echo "fill_fallback: cannot remove the cgroup $CG" >&2
}
crs_at_exit cg_gone
[ -f "$CG/$LIMIT" ] || { crs_fail "setup: the cgroup has no $LIMIT"; crs_summary fill_fallback; }

export CRT_THP_DISABLE=1 CRT_HUGETLB=1 CRT_HUGETLBFS=
crs_good_image fill_fallback "$CRS_BIN/crt_hugepages"
echo 0 >"$CG/$LIMIT"
# in_cg OUT CMD...: CMD run in the cgroup
in_cg() {
    local out=$1
    shift
    crs_run "$out" sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG" "$@"
}
st=$(in_cg "$WORK/h1" "$CRS_TOOLS/cr_restart" "$GOOD")
crs_expect_refusal "huge pages the cgroup does not allow, the kernel's fill" "$WORK/h1.err" "$st" "huge pages"
st=$(in_cg "$WORK/h2" "$NOVW" "$CRS_TOOLS/cr_restart" "$GOOD")
crs_expect_refusal "huge pages the cgroup does not allow, the copy (process_vm_writev refused)" \
    "$WORK/h2.err" "$st" "huge pages"
echo $UNLIMITED >"$CG/$LIMIT"
rm -f ready.*
st=$(in_cg "$WORK/h3" "$NOVW" env REVIVE_VERBOSE=2 "$CRS_TOOLS/cr_restart" "$GOOD")
said_copy "$WORK/h3" "huge pages" &&
    crs_expect_run "huge pages allowed again: restarted by the copy as it ran" "$WORK/ref.after1" "$WORK/h3" "$st"
cd "$WORK" || exit 99
crs_summary fill_fallback
