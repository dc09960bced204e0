#!/bin/bash
# lostmeta.sh FLAVOR: restart from the node-local caches once the snapshot directory is gone
# and the host restart-mpi runs on has lost its cache too (issue 9; tools/snapc/
# restart_meta_ask.h). A 4-rank job on h1,h2 with --ckpt-local --ckpt-partner ends with a
# committed --term snapshot; then the job's directory in the shared storage is removed and
# h1's node-local directory wiped (its disk replaced): only h2's cache holds the metadata
# (and every image: its own ranks' and h1's partner copies).
# (a) restart-mpi --showme from h1 with --hostfile h1,h3: h1's cache has nothing, h3 (asked
#     through the remote shell, REVIVE_RSH) has nothing either: one line naming both, status 1,
#     nothing made;
# (b) restart-mpi from h1 on h1,h3 with --meta-from h2: the metadata taken from h2's cache
#     (said), the directory re-created with it, ranks 0,1 fetched from h2's partner copies and
#     2,3 from h2's own, the restart gives the native result.
# (c) the same again, SIGTERM to restart-mpi while its fetch's launch to h2 hangs: the launch,
#     the folder of h2's answer and the re-created directory are gone, status 143; (d) with a file
#     of another's put in the re-created directory: status 143, a line saying what it could not
#     remove (after trying), the directory holding only that file.
flavor=$1
. "$(dirname "$0")/lib.sh"
cache_bed lostmeta 3

term_job a --ckpt-partner
cp "$ref/snapshot.meta" "$W/meta.committed"
hostfile "$W/hosts13" h1:2 h3:2
rm -rf "${SHARED:?}/$jd"
host_wipe h1
export REVIVE_RSH=$HB/agent

# (a) no host asked holds it
on h1 timeout -k 5 120 "$RESTART" --showme --ckpt-local "$LOCAL" --hostfile "$W/hosts13" "$ref" \
    >"$W/sa.out" 2>"$W/sa.err"
st=$?
[ $st = 1 ] || fail "sa: restart-mpi --showme status $st, not 1"
grep -qF "h1's node-local cache ($LOCAL) holds no sequence 0 of it (asked too: h3: holds no copy either): run restart-mpi on a host the job ran on" "$W/sa.err" ||
    { fail "sa: no message naming h1's cache and h3's answer"; cat "$W/sa.err"; }
[ "$(wc -l <"$W/sa.err")" = 1 ] || { fail "sa: more than one line"; cat "$W/sa.err"; }
grep -qx h3 "$HB/agent.log" || fail "sa: h3 was not asked through the remote shell"
[ -e "$SHARED/$jd" ] && fail "sa: the job directory was made"
sed 's/^/    /' "$W/sa.err"
pass "$flavor: no host asked holds the metadata: one line naming h1's cache and h3's answer, status 1, nothing made"

# (b) h2 named: its copy taken
: >"$HB/agent.log"
on h1 timeout -k 5 600 "$RESTART" --ckpt-local "$LOCAL" --hostfile "$W/hosts13" --meta-from h2 \
    "$ref" >"$W/rb.out" 2>"$W/rb.err"
st=$?
[ $st = 0 ] || { fail "rb: restart-mpi status $st"; tail -20 "$W/rb.err"; }
cmp -s "$W/native.out" "$W/rb.out" || { fail "rb: result differs"; cat "$W/native.out" "$W/rb.out"; }
grep -qF "restart-mpi: h1's node-local cache has no copy of its snapshot.meta (holds no sequence 0 of it); took the one in h2's node-local cache" "$W/rb.err" &&
grep -qF "restart-mpi: $SHARED/$jd was gone: re-created with sequence 0's snapshot.meta from h2's node-local cache ($LOCAL/$jd/0, checked)" "$W/rb.err" ||
    { fail "rb: restart-mpi does not say it took the metadata from h2's cache"; cat "$W/rb.err"; }
cmp -s "$ref/snapshot.meta" "$W/meta.committed" || fail "rb: the re-created snapshot.meta is not the committed one"
[ "$(stat -c %a "$ref/snapshot.meta")" = 600 ] || fail "rb: snapshot.meta mode $(stat -c %a "$ref/snapshot.meta")"
for r in 0 1 2 3; do
    f=rank_$r.img; [ $r -lt 2 ] && f=partner_$r.img
    grep -qF "rank $r's image was not in $ref: fetched from h2 ($LOCAL/$jd/0/$f), verified" "$W/rb.err" ||
        { fail "rb: rank $r not fetched from h2's $f"; grep fetched "$W/rb.err"; }
done
[ -z "$(ls "$HB/node/h1" | grep revive-meta-)" ] ||
    fail "rb: restart-mpi's folder of the answer is left"
grep -E "no copy|was gone|fetched" "$W/rb.err" | sed 's/^/    /'
pass "$flavor: h1's cache lost too: the metadata from h2's cache (--meta-from), images from h2's own and partner copies, native result"

# (c) SIGTERM to restart-mpi once it holds h2's answer in a temporary folder and has re-created
# the directory, while the fetch's launch to h2 hangs (HB_AGENT_HANG=h2 for the launcher; the
# remote shell of the ask gets through): the launch ended (no hung remote shell left), the
# folder and the re-created directory removed, restart-mpi ended by SIGTERM. Before, both were
# left, and the launch ran on.
# (d) the same with a file of someone else's put into the re-created directory before the
# signal: restart-mpi cannot remove the directory and says so, naming it and `rm -r` (diffrev
# L6: it said "removed what it had re-created" before trying, also when that then failed).
term_fetch() {
    local tag=$1 intruder=$2
    rm -rf "${SHARED:?}/$jd"
    : >"$HB/agent.log"
    on h1 env HB_AGENT_HANG=h2 REVIVE_RSH="env HB_AGENT_HANG= $HB/agent" REVIVE_FETCH_START_TIMEOUT=300 \
        REVIVE_FETCH_TIMEOUT=300 sh -c 'echo $$ >"$0"; exec "$@"' "$W/$tag.pid" "$RESTART" --ckpt-local "$LOCAL" --hostfile "$W/hosts13" --meta-from h2 \
        "$ref" >"$W/$tag.out" 2>"$W/$tag.err" &
    rp=$!; jobs_started="$jobs_started $rp"
    if ! wait_for 120 '[ -n "$(hung)" ]'; then
        fail "$tag: the fetch's launch to h2 never hung: $(cat "$W/$tag.err")"
        kill -KILL $rp 2>/dev/null
        return 1
    fi
    [ -d "$SHARED/$jd" ] && ls -d "$HB/node/h1"/revive-meta-* >/dev/null 2>&1 ||
        fail "$tag: before the signal: no re-created directory or no folder of h2's answer"
    [ -n "$intruder" ] && echo "not restart-mpi's" >"$SHARED/$jd/$intruder"
    kill -TERM "$(cat "$W/$tag.pid")"
    wait $rp; st=$?
    [ $st = 143 ] || { fail "$tag: restart-mpi's status $st, not 143 (ended by SIGTERM)"; cat "$W/$tag.err"; }
    [ -z "$(ls "$HB/node/h1" | grep revive-meta-)" ] || fail "$tag: the folder of h2's answer is left"
    wait_for 10 '[ -z "$(hung)" ]' || fail "$tag: the fetch's hung remote shell is left: $(hung)"
    return 0
}
hung() { local p; for p in $(host_pids h1); do [ "$(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null)" = "hb-agent-hang " ] && echo $p; done; }
if term_fetch rc ""; then
    grep -qF "restart-mpi: ended by signal 15 (Terminated) before the launch; removed what it had re-created: $SHARED/$jd" "$W/rc.err" ||
        { fail "rc: restart-mpi does not say what it removed"; cat "$W/rc.err"; }
    [ -e "$SHARED/$jd" ] && fail "rc: the re-created directory is left: $(ls -R "$SHARED/$jd" | head)"
    pass "$flavor: SIGTERM during the fetch from a re-created directory: the launch ended, the folder and the directory removed, status 143"
fi
if term_fetch rd notes.txt; then
    grep -qF "restart-mpi: ended by signal 15 (Terminated) before the launch; could not remove all it had re-created in $SHARED/$jd (Directory not empty): remove it by hand (rm -r $SHARED/$jd)" "$W/rd.err" ||
        { fail "rd: restart-mpi does not say what it could not remove"; cat "$W/rd.err"; }
    grep -q "removed what it had re-created" "$W/rd.err" && fail "rd: restart-mpi says it removed what it could not"
    [ "$(grep -c "could not remove" "$W/rd.err")" = 1 ] || { fail "rd: not said once"; cat "$W/rd.err"; }
    [ "$(ls -A "$SHARED/$jd")" = notes.txt ] || fail "rd: the re-created directory holds $(ls -A "$SHARED/$jd" | tr '\n' ' '), not only notes.txt"
    rm -rf "${SHARED:?}/$jd"
    pass "$flavor: the same with a file of another's in the re-created directory: what it could not remove is said, after trying"
fi
finish
