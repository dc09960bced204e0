#!/bin/bash
# State test: UDP sockets that joined multicast groups (issue 10: a restart
# lost the memberships without a word, and the restarted program never
# received the groups' datagrams; then, from cce2fe1, such a checkpoint was
# refused). crt_mcast's receivers (any-source, source-specific, a blocked
# source, a group left again, and IPv6 on a veth) must get exactly the
# datagrams meant for them after every point, compared with an
# uninterrupted run: the state flavours but busy (the copy cannot bind the
# ports the original holds). Then cr_info lists the memberships, and a restart on
# a host without the interface v0 is refused in one line naming the
# descriptor, the group and the interface; with v0 made again (another
# index) the image restarts and joins it by its name. In a network
# namespace of its own (unshare -n: root, or an unprivileged user
# namespace), whose lo carries multicast. Senders kept across the points
# with their outgoing interface set to v0 (IPV6_MULTICAST_IF; IPv4's
# IP_MULTICAST_IF by index alone, which getsockopt does not give back): each
# comes back on v0, by its name (issue 10: the IPv6 one by its index, so the
# restart with v0 made again was refused; the IPv4 one lost, sending
# through lo), and cr_info lists them. Two IPv6 senders with the IPv4
# IP_MULTICAST_IF (by index, by address) send to ::ffff:239.7.7.11 through v0
# (issue 10: an IPv6 socket's IPPROTO_IP multicast options were lost).
if [ "${CRS_MCAST_NS:-}" != 1 ]; then
    command -v ip >/dev/null || { echo "SKIP: no ip(8) to set up lo in a network namespace"; exit 77; }
    if [ "$(id -u)" = 0 ]; then ns="unshare -n"; else ns="unshare -rn"; fi
    $ns true 2>/dev/null || { echo "SKIP: no network namespace of its own ($ns)"; exit 77; }
    CRS_MCAST_NS=1 exec $ns -- bash "$0" "$@"
fi
ip link set lo up multicast on || { echo "SKIP: cannot set lo up with multicast in the namespace"; exit 77; }
ip route add 224.0.0.0/4 dev lo 2>/dev/null
# v0: IPv6 multicast (lo alone does not deliver it), with an address at once (nodad)
make_v0() {
    ip link add v0 type veth peer name v1 2>/dev/null && ip link set v1 up && ip link set v0 up multicast on &&
        ip -6 addr add fd00::1/64 dev v0 nodad 2>/dev/null && ip addr add 10.77.0.1/24 dev v0 2>/dev/null
}
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_mcast
crs_need_tools cr_run cr_checkpoint cr_restart cr_info
mode=all4
if make_v0; then
    mode=all
else
    crs_note "no veth pair in the namespace: IPv6 (r6) and the missing interface are not tried"
fi
# the state flavours but busy (the copy cannot bind the ports the original holds); no
# generic flavour (run, nopid, term, compress, stdoutfile, tty, sigdeath) acts on memberships
if CRS_FLAVOURS="${CRS_FLAVOURS:-kill twice rr cont fork stop}" \
    bash "$(dirname "$0")/../cr_cycle.sh" crt_mcast $mode; then
    crs_pass "$mode: every receiver gets its datagrams after each point (kill twice rr cont fork stop)"
else
    crs_fail "$mode: the flavours above"
fi
[ $mode = all ] || crs_summary crs_mcast

d=$WORK/gone
crs_start_or_end "the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_mcast" all
crs_tool "$d/ck" cr_checkpoint --kill -f "$d/img" "$PID" || crs_fail "cr_checkpoint --kill: $(head -n 1 "$d/ck.err")"
crs_wait_status "$d/orig" 30 >/dev/null
crs_tool "$d/info" cr_info "$d/img"
for want in "multicast groups joined: 5" ": 239.7.7.11 on v0 (index [0-9]*), any source" ": 239.7.7.7 on lo (index 1), any source" \
    ": 232.7.7.7 on lo (index 1), from 127.0.0.1" ": 239.7.7.9 on lo (index 1), any source but 127.0.0.2" \
    ": ff15::7777 on v0 (index" ": sends multicast through v0 (index [0-9]*, IPV6_MULTICAST_IF)" \
    ": sends multicast through v0 (index [0-9]*, IP_MULTICAST_IF)"; do
    grep -q -- "$want" "$d/info.out" && crs_pass "cr_info: '$want'" || { crs_fail "cr_info lacks '$want'"; crs_show "$d/info.out" 200 | grep -i -A6 multicast; }
done
n=$(grep -c -- ": sends multicast through v0 (index [0-9]*, IP_MULTICAST_IF)" "$d/info.out")
[ "$n" = 2 ] && crs_pass "cr_info: the IPv4 and the IPv6 socket's IP_MULTICAST_IF by index" ||
    crs_fail "cr_info lists $n IP_MULTICAST_IF by index, expected 2 (s4i and the IPv6 s6i)"
crs_tool "$d/json" cr_info --json "$d/img"
grep -q '"multicast_groups"' "$d/json.out" && grep -q '"sources": *\["127.0.0.2"\]' "$d/json.out" &&
    crs_pass "cr_info --json lists the groups and their sources" || crs_fail "cr_info --json: no multicast_groups with sources"
grep -q '"outgoing_interface": *"v0"' "$d/json.out" && grep -q '"option": *"IP_MULTICAST_IF"' "$d/json.out" &&
    crs_pass "cr_info --json lists the outgoing interfaces" || crs_fail "cr_info --json: no outgoing_interface v0"
old=$(ip -o link show v0 | cut -d: -f1)
ip link del v0
touch "$d/go.1" "$d/go.2"
(cd "$d" && crs_tool "$d/r1" cr_restart "$d/img")
crs_expect_refusal "cr_restart without the interface v0" "$d/r1.err" $? "multicast group ff15::7777 on interface v0"
grep -q "descriptor [0-9]" "$d/r1.err" && crs_pass "the refusal names the descriptor" ||
    crs_fail "the refusal does not name the descriptor: $(head -n 1 "$d/r1.err")"
make_v0 || crs_fail "cannot make v0 again"
crs_uninterrupted "$WORK/ref" ref "$CRS_BIN/crt_mcast" all >/dev/null
crs_after_point 1 "$WORK/ref/ref.out" >"$WORK/after1"
rm -f "$d"/ready.*
st=$(cd "$d" && crs_run "$WORK/r2" "$CRS_TOOLS/cr_restart" "$d/img")
crs_expect_run "with v0 made again (index $(ip -o link show v0 | cut -d: -f1), was $old) the image restarts and r6 gets its datagrams" \
    "$WORK/after1" "$WORK/r2" "$st"
crs_summary crs_mcast
