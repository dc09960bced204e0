#!/bin/bash
# State test: a UDP socket that joined a multicast group (issue 10: its
# membership was lost at restart without a word, and the restarted program
# never received the group's datagrams). Memberships are not restored, so
# a checkpoint of a member must be refused, naming the descriptor and the
# group, and the original must go on receiving the group's datagrams:
# IP_ADD_MEMBERSHIP and IP_ADD_SOURCE_MEMBERSHIP. A socket that joined and
# left again checkpoints and restarts as any UDP socket (flavours kill,
# twice, rr). In a network namespace of
# its own (unshare -n: root, or an unprivileged user namespace), whose lo
# carries multicast; crt_mcast.c.
if [ "${CRS_MCAST_NS:-}" != 1 ]; then
    command -v ip >/dev/null || { echo "SKIP: no ip(8) to set up lo in a network namespace"; exit 77; }
    if [ "$(id -u)" = 0 ]; then ns="unshare -n"; else ns="unshare -rn"; fi
    $ns true 2>/dev/null || { echo "SKIP: no network namespace of its own ($ns)"; exit 77; }
    CRS_MCAST_NS=1 exec $ns -- bash "$0" "$@"
fi
ip link set lo up multicast on || { echo "SKIP: cannot set lo up with multicast in the namespace"; exit 77; }
ip route add 224.0.0.0/4 dev lo 2>/dev/null
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_mcast
crs_need_tools cr_run cr_checkpoint
# (join6, IPV6_JOIN_GROUP, is not run: IPv6 multicast over lo alone did not deliver here)
modes="join4 ssm4"
for m in $modes; do
    case $m in join4) g=239.7.7.7 ;; ssm4) g=232.7.7.7 ;; join6) g=ff15::7777 ;; esac
    d=$WORK/$m
    crs_start_or_end "$m: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_mcast" "$m"
    if crs_tool "$d/ck" cr_checkpoint --kill -f "$d/img" "$PID"; then
        crs_fail "$m: cr_checkpoint of a member of $g succeeded (its restart would not be one)"
    elif grep -q "multicast group $g on interface lo" "$d/ck.err" && grep -q 'descriptor' "$d/ck.err"; then
        crs_pass "$m: refused naming the descriptor and group $g"
    else
        crs_fail "$m: cr_checkpoint failed without naming group $g: $(head -n 1 "$d/ck.err")"
    fi
    crs_finish "$d" orig && crs_pass "$m: the original goes on and gets the group's datagrams" ||
        { crs_fail "$m: the original after the refused checkpoint: $(crs_status_text "$FINISH_STATUS")"; crs_show "$d/orig.out"; }
done
if CRS_FLAVOURS="kill twice rr" bash "$(dirname "$0")/../cr_cycle.sh" crt_mcast left; then
    crs_pass "left: a socket that left its group restarts (kill twice rr)"
else
    crs_fail "left: the flavours above"
fi
crs_summary crs_mcast
