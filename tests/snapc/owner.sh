#!/bin/bash
# restart-mpi of another user's snapshot (issue 7). root may checkpoint any user's job (the
# snapshot is then that user's), but its ranks must run as their owner again: root's restart-mpi
# of it is refused in one line naming the owner and saying to run it as that user (before, "belongs
# to uid N, not to you (uid 0); snapshots are private to their owner", and nothing on what to do).
# Another user is told only the owner can restart it. Nothing is started, the snapshot is left as
# it was. A job of fake ranks checkpointed with --term; its snapshot directory given to nobody.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (a snapshot given to another user)"; exit 77; }
id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null ||
    { echo "SKIP: no user nobody or no setpriv"; exit 77; }
snapc_workdir snapc-owner

start_job a 2 --iters $UNTIL_KILLED --sleep-us 500
expect_rc 0 "--term" "$CKPT" --term $JOB && ref=$(tail -n1 "$W/cmd.out")
wait $JOB
jd=$(dirname "${ref:-/nonexistent/0}")
[ -d "$jd" ] || { fail "no snapshot: '${ref:-}'"; finish; }
chown -R nobody "$jd"
ls -laR "$jd" >"$W/before.ls"
for r in "$ref" "$jd"; do
    expect_rc 1 "root's restart-mpi of nobody's $r" "$RESTART" "$r" &&
        err_has "$jd belongs to user nobody (uid $(id -u nobody)): its ranks must run as their owner, so restart it as that user (for example: runuser -u nobody -- restart-mpi $r)"
    [ "$(grep -c . "$W/cmd.err")" = 1 ] || fail "not one line: $(cat "$W/cmd.err")"
    [ -s "$W/cmd.out" ] && fail "something on stdout: $(cat "$W/cmd.out")"
done
ls -laR "$jd" | cmp -s - "$W/before.ls" || fail "the snapshot changed: $(ls -laR "$jd" | diff "$W/before.ls" -)"
pass "root is told to restart another user's snapshot as that user"

# another user (not root) is told only the owner can (here the snapshot given back to root)
chown -R root "$jd"
chmod 755 "$W"
expect_rc 1 "nobody's restart-mpi of root's snapshot" setpriv --reuid=nobody --regid=nogroup \
    --clear-groups "$RESTART" "$jd" &&
    err_has "only root can restart it"
pass "another user is told only the owner can restart it"
finish
