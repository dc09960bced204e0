#!/bin/bash
# restart-mpi of another user's snapshot (issue 7). root may checkpoint any user's job (the
# snapshot is then that user's), but its ranks must run as their owner again: root's restart-mpi
# of it is refused in one line naming the owner and saying to run it as that user (before, "belongs
# to uid N, not to you (uid 0); snapshots are private to their owner", and nothing on what to do).
# Another user is told only the owner can restart it. Nothing is started, the snapshot is left as
# it was. A job of fake ranks checkpointed with --term; its snapshot directory given to nobody.
# F6: root's ckpt-info and restart-mpi --showme of it name the owner and the same command to run
# as that user (runuser), which then works; nobody's ckpt-info/restart-mpi of root's snapshot
# (also of a sequence under its private directory, which said "Permission denied") name the owner.
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
chmod 755 "$W"   # nobody reaches the snapshot directory (0700, its own) and the build tree
ls -laR "$jd" >"$W/before.ls"
for r in "$ref" "$jd"; do
    expect_rc 1 "root's restart-mpi of nobody's $r" "$RESTART" "$r" &&
        err_has "$jd belongs to user nobody (uid $(id -u nobody)): its ranks must run as their owner, and Revive reads no snapshot as another user, root included, so run it as that user (for example: runuser -u nobody -- restart-mpi $r); as root it is not restarted"
    [ "$(grep -c . "$W/cmd.err")" = 1 ] || fail "not one line: $(cat "$W/cmd.err")"
    [ -s "$W/cmd.out" ] && fail "something on stdout: $(cat "$W/cmd.out")"
done
uid=$(id -u nobody)
one_line() { [ "$(grep -c . "$W/cmd.err")" = 1 ] || fail "$1: not one line: $(cat "$W/cmd.err")"; }
# F6: root's ckpt-info and restart-mpi --showme of it say whose it is and give the command to run,
# with its own arguments, as that user (before, ckpt-info: "belongs to uid N, not to you (uid
# 0); snapshots are private to their owner"); that command then works
for args in "$jd" "--verify $jd" "--json $ref"; do
    expect_rc 1 "root's ckpt-info $args" "$INFO" $args &&
        err_has "ckpt-info: $jd belongs to user nobody (uid $uid): snapshots are private to their owner, and Revive reads none as another user, root included (it would trust files that user can change), so run it as that user (for example: runuser -u nobody -- ckpt-info $args)" &&
        one_line "root's ckpt-info $args"
    [ -s "$W/cmd.out" ] && fail "root's ckpt-info $args: something on stdout: $(cat "$W/cmd.out")"
done
expect_rc 0 "the remedy: runuser -u nobody -- ckpt-info --verify $jd" runuser -u nobody -- "$INFO" --verify "$jd"
expect_rc 1 "root's restart-mpi --showme" "$RESTART" --showme "$ref" &&
    err_has "(for example: runuser -u nobody -- restart-mpi --showme $ref)" && one_line "root's restart-mpi --showme"
expect_rc 0 "the remedy: runuser -u nobody -- restart-mpi --showme $ref" runuser -u nobody -- "$RESTART" --showme "$ref"
# every option the user gave is in the command to run (review LOW-3: --seq N and the launcher's
# options after -- must not be dropped), the remedy then works as given
seq=${ref##*/}
expect_rc 1 "root's restart-mpi --seq $seq --showme -- --bind-to none" "$RESTART" --seq "$seq" --showme -- --bind-to none "$jd" &&
    err_has "(for example: runuser -u nobody -- restart-mpi --seq $seq --showme -- --bind-to none $jd)" &&
    one_line "root's restart-mpi --seq"
expect_rc 0 "the remedy with --seq and launcher options" runuser -u nobody -- "$RESTART" --seq "$seq" --showme -- --bind-to none "$jd" &&
    grep -q -- "--bind-to none" "$W/cmd.out" || fail "the remedy's launch lacks the launcher options: $(cat "$W/cmd.out")"
expect_rc 1 "root's ckpt-info --verify --json of $jd/$seq" "$INFO" --verify --json "$jd/$seq" &&
    err_has "(for example: runuser -u nobody -- ckpt-info --verify --json $jd/$seq)"
ls -laR "$jd" | cmp -s - "$W/before.ls" || fail "the snapshot changed: $(ls -laR "$jd" | diff "$W/before.ls" -)"
pass "root is told to read or restart another user's snapshot as that user, and how"

# another user (not root) is told only the owner can (here the snapshot given back to root)
chown -R root "$jd"
expect_rc 1 "nobody's restart-mpi of root's snapshot" setpriv --reuid=nobody --regid=nogroup \
    --clear-groups "$RESTART" "$jd" &&
    err_has "only root can restart it"
# a sequence under root's private directory: whose it is, not "Permission denied"
asnobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
for c in "$INFO" "$INFO --verify" "$RESTART --showme" "$RESTART"; do
    expect_rc 1 "nobody's ${c##*/} of root's $ref" asnobody $c "$ref" &&
        one_line "nobody's ${c##*/} $ref"
    name=${c%% *}; err_has "${name##*/}: "
    v=read; case $c in "$RESTART"*) v=restart ;; esac
    err_has "$jd belongs to user root (uid 0), not to you (uid $uid): snapshots are private to their owner, and only root can $v it"
done
expect_rc 1 "nobody's ckpt-info of root's $jd" asnobody "$INFO" "$jd" &&
    err_has "ckpt-info: $jd belongs to user root (uid 0), not to you (uid $uid): snapshots are private to their owner, and only root can read it" &&
    one_line "nobody's ckpt-info $jd"
# a folder of snapshots (what --ckpt-dir names, the form restart-mpi(1) teaches), root's and
# 0700: whose it is (newuser52 NU-2: "is not a snapshot reference")
sd=$W/snaps-closed
mkdir -m 0700 "$sd" && cp -a "$jd" "$sd/"
for c in "$INFO" "$RESTART"; do
    v=read; case $c in "$RESTART"*) v=restart ;; esac
    expect_rc 1 "nobody's ${c##*/} of root's folder $sd" asnobody $c "$sd" &&
        err_has "${c##*/}: $sd belongs to user root (uid 0), not to you (uid $uid): snapshots are private to their owner, and only root can $v it" &&
        one_line "nobody's ${c##*/} $sd"
done
pass "another user is told only the owner can read or restart it"
finish
