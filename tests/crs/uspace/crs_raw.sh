#!/bin/bash
# State test: raw IP sockets and ICMP ping sockets (issue 10: a checkpoint
# was refused, "a family or type Revive does not restore"). crt_raw's
# sockets (IPv4 and IPv6 ping sockets, a raw ICMP socket with ICMP_FILTER, a
# raw sender with IP_HDRINCL, a connect(2)ed raw receiver, a raw IPv6 socket
# with IPV6_CHECKSUM) must behave after every point as in an uninterrupted
# run: the state flavours but busy (two copies at once would hear each
# other's packets). Then cr_info lists them with their options; a restart
# without CAP_NET_RAW (capsh --drop) is refused in one line naming the
# descriptor and the capability, and one where net.ipv4.ping_group_range
# leaves cr_restart's group out names that. A program that became another user
# (no CAP_NET_RAW left) after making its sockets is checkpointed and restarted. In a network namespace of its own
# (unshare -n: root, or an unprivileged user namespace, whose root has
# CAP_NET_RAW there), lo up, ping sockets allowed to every group.
if [ "${CRS_RAW_NS:-}" != 1 ]; then
    command -v ip >/dev/null || { echo "SKIP: no ip(8) to set up lo in a network namespace"; exit 77; }
    if [ "$(id -u)" = 0 ]; then ns="unshare -n"; else ns="unshare -rn"; fi
    $ns true 2>/dev/null || { echo "SKIP: no network namespace of its own ($ns)"; exit 77; }
    CRS_RAW_NS=1 exec $ns -- bash "$0" "$@"
fi
ip link set lo up || { echo "SKIP: cannot set lo up in the namespace"; exit 77; }
echo "0 2147483647" >/proc/sys/net/ipv4/ping_group_range ||
    { echo "SKIP: cannot allow ping sockets in the namespace (net.ipv4.ping_group_range)"; exit 77; }
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_raw
crs_need_tools cr_run cr_checkpoint cr_restart cr_info
if CRS_FLAVOURS="${CRS_FLAVOURS:-kill twice rr cont fork stop}" bash "$(dirname "$0")/../cr_cycle.sh" crt_raw; then
    crs_pass "every socket behaves after each point as uninterrupted (kill twice rr cont fork stop)"
else
    crs_fail "the flavours above"
fi

d=$WORK/img
crs_start_or_end "the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_raw"
crs_tool "$d/ck" cr_checkpoint --kill -f "$d/img" "$PID" || crs_fail "cr_checkpoint --kill: $(head -n 1 "$d/ck.err")"
crs_wait_status "$d/orig" 30 >/dev/null
crs_tool "$d/info" cr_info "$d/img"
for want in " ping  *bound *0.0.0.0:" " ping6 " " raw  *bound *127.0.0.1:1 protocol 1" " raw  *bound *[0-9.]*:253 protocol 253 -> 127.0.0.1:0 (connect(2)ed)" \
    " raw6 " "IP_HDRINCL" "ICMP_FILTER" "IPV6_CHECKSUM"; do
    grep -q -- "$want" "$d/info.out" && crs_pass "cr_info: '$want'" || { crs_fail "cr_info lacks '$want'"; crs_show "$d/info.out" 200 | grep -i -A12 "^sockets"; }
done
crs_uninterrupted "$WORK/ref" ref "$CRS_BIN/crt_raw" >/dev/null
crs_after_point 1 "$WORK/ref/ref.out" >"$WORK/after1"
touch "$d/go.1" "$d/go.2"
if command -v capsh >/dev/null; then
    (cd "$d" && crs_clean_exec timeout -k 5 "$CRS_CKPT_TIMEOUT" capsh --drop=cap_net_raw -- -c \
        "exec '$CRS_TOOLS/cr_restart' '$d/img'" </dev/null >"$d/r1.out" 2>"$d/r1.err")
    crs_expect_refusal "cr_restart without CAP_NET_RAW" "$d/r1.err" $? "CAP_NET_RAW"
    grep -q "descriptor 5 is a raw IPv4 socket" "$d/r1.err" && crs_pass "the refusal names the descriptor" ||
        crs_fail "the refusal does not name descriptor 5: $(head -n 1 "$d/r1.err")"
else
    crs_note "no capsh: a restart without CAP_NET_RAW is not tried"
fi
echo "1 0" >/proc/sys/net/ipv4/ping_group_range
(cd "$d" && crs_tool "$d/r2" cr_restart "$d/img")
crs_expect_refusal "cr_restart where ping sockets are not allowed" "$d/r2.err" $? "net.ipv4.ping_group_range"
grep -q "descriptor 3 is an IPv4 ping socket" "$d/r2.err" && crs_pass "the refusal names the descriptor" ||
    crs_fail "the refusal does not name descriptor 3: $(head -n 1 "$d/r2.err")"
echo "0 2147483647" >/proc/sys/net/ipv4/ping_group_range
rm -f "$d"/ready.*
st=$(cd "$d" && crs_run "$WORK/r3" "$CRS_TOOLS/cr_restart" "$d/img")
crs_expect_run "after both refusals the image restarts and every socket behaves" "$WORK/after1" "$WORK/r3" "$st"

# The program, run as root, becomes user nobody (65534) once its sockets are made (CRT_RAW_DROP,
# a privilege-dropping daemon's way to hold a raw socket): no thread of it can make a raw socket
# any more. Its checkpoint was refused, unable to make one to read the options' defaults, blaming
# seccomp or RLIMIT_NOFILE (diffrev27 K-M1). Now checkpointed (the defaults read from a UDP
# socket, raw sockets' own known) and restarted as uninterrupted. Real root only (a user
# namespace of one uid has no user to become).
if grep -Eq '^ *0 +0 +4294967295' /proc/self/uid_map; then
    d=$WORK/drop
    mkdir -p "$d"
    chmod 711 "$WORK"
    chown 65534:65534 "$d"
    export CRT_RAW_DROP=65534
    crs_start_or_end "as nobody: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_raw"
    unset CRT_RAW_DROP
    if crs_tool "$d/ck" cr_checkpoint --kill -f "$d/img" "$PID"; then
        crs_pass "raw sockets kept after becoming nobody (no CAP_NET_RAW left): checkpointed"
        crs_wait_status "$d/orig" 30 >/dev/null
        touch "$d/go.1" "$d/go.2"
        rm -f "$d"/ready.*
        st=$(cd "$d" && crs_run "$WORK/r4" "$CRS_TOOLS/cr_restart" "$d/img")
        crs_expect_run "as nobody: the image restarts and every socket behaves" "$WORK/after1" "$WORK/r4" "$st"
    else
        crs_fail "raw sockets kept after becoming nobody: cr_checkpoint: $(head -n 1 "$d/ck.err")"
        crs_kill_test_prog "$PID"
    fi
else
    crs_note "not root: the program cannot become another user (CAP_NET_RAW given up) here"
fi
crs_summary crs_raw
