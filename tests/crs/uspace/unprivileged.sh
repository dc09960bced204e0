#!/bin/bash
# Restart without privilege: a process of an ordinary user is checkpointed
# and restarted by that user; inside a new user+pid namespace it gets its
# original pid back, runs on to the same result as an uninterrupted run, and
# can be checkpointed and restarted again. Needs root to create the user.
set -u
B=${REVIVE_BUILDDIR:?}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to run a throwaway user"; exit 77; }
U=revive-test
id "$U" >/dev/null 2>&1 || useradd -M -s /bin/bash "$U" 2>/dev/null || { echo "SKIP: cannot create user $U"; exit 77; }
W=$(mktemp -d /tmp/revive-unpriv.XXXXXX)
trap "[ \"${KEEP:-0}\" = 1 ] || rm -rf $W" EXIT
chmod 755 "$W"
cp "$B/tests/crs/uspace/pid_printer" "$W/prog"
chown -R "$U" "$W"
# the build tree must be readable by the user
for d in "$B" "$B/tools" "$B/.libs"; do chmod o+rx "$d" 2>/dev/null; done
p=$B
while [ "$p" != / ]; do chmod o+x "$p" 2>/dev/null; p=$(dirname "$p"); done

# (with only descriptors 0-2: whatever the test runner leaked is not the program's)
as_user() {
    timeout 120 su "$U" -s /bin/bash -c "for f in /proc/\$\$/fd/*; do n=\${f##*/}; [ \"\$n\" -gt 2 ] 2>/dev/null && eval \"exec \$n>&-\"; done
        cd '$W' || exit 1; export REVIVE_LIBCR='$B/.libs/libcr.so.0'; $1"
}

as_user "./prog 16 > ref.out" || { echo "FAIL: reference run"; exit 1; }
as_user "
  $B/tools/cr_run ./prog 16 2>/dev/null | cat > run.out &
  for i in \$(seq 100); do grep -q 'step 3' run.out 2>/dev/null && break; sleep 0.05; done
  pid=\$(pgrep -u $U -x prog | head -1)
  echo \$pid > pid.orig
  $B/tools/cr_checkpoint --kill -f one.img \$pid 2> ck1.err || exit 1
  wait
  $B/tools/cr_restart one.img 2> r1.err | cat > r1.out &
  for i in \$(seq 100); do [ -s r1.out ] && break; sleep 0.05; done
  pid2=\$(pgrep -u $U -x prog | head -1)
  $B/tools/cr_checkpoint --kill -f two.img \$pid2 2> ck2.err || exit 1
  wait
  $B/tools/cr_restart two.img 2> r2.err | cat > r2.out
" || { echo "FAIL: the checkpoint/restart sequence failed"; cat "$W"/*.err; exit 1; }

fails=0
orig=$(cat "$W/pid.orig")
if grep -q "pid $orig " "$W/r2.out" && ! grep -v "pid $orig \|worker" "$W/r1.out" "$W/r2.out" | grep -q pid; then
    echo "PASS: the original pid $orig came back in both restarts"
else
    echo "FAIL: pids after restart differ from $orig:"; grep -h pid "$W/r1.out" "$W/r2.out" | head; fails=1
fi
cat "$W/run.out" "$W/r1.out" "$W/r2.out" | sort -u -t' ' -k2,2n | sed 's/pid [0-9]*/pid P/' >"$W/got"
sed 's/pid [0-9]*/pid P/' "$W/ref.out" | sort -u -t' ' -k2,2n >"$W/want"
if diff "$W/want" "$W/got" >/dev/null && [ "$(tail -n1 "$W/r2.out")" = "worker alive 1" ]; then
    echo "PASS: the pieces of output equal the uninterrupted run"
else
    echo "FAIL: output differs"; diff "$W/want" "$W/got" | head; fails=1
fi
[ "$fails" = 0 ]
