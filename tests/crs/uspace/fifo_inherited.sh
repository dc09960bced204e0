#!/bin/bash
# A FIFO the process inherited from its launcher (GNU make's job server opens
# one O_RDWR and passes it on) keeps the rule of inherited descriptors
# (issue 10, point 12): it is not made again by its path at restart, which
# would share the launcher's FIFO and its bytes or be refused while the
# launcher holds it. crt_pipes starts with descriptor 5 on a FIFO opened
# O_RDWR by its launcher, which this test's shell holds open too; it is
# checkpointed with --kill at point 1 and restarted while the shell still
# holds the FIFO: the restart ends as the uninterrupted run.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup fifo_inherited
crs_need_tools cr_run cr_checkpoint cr_restart
prog=$CRS_BIN/crt_pipes
r=$WORK/ref
crs_uninterrupted "$r" ref "$prog" >/dev/null
crs_after_point 1 "$r/ref.out" >"$WORK/ref.after1"
mkfifo "$WORK/jobserver" || crs_fail "setup: mkfifo"
exec 7<>"$WORK/jobserver"
d=$WORK/prog
crs_start_or_end "setup: crt_pipes (fd 5 on the launcher's FIFO) under cr_run never got ready" "$d" \
    bash -c 'exec 5<>"$1" && exec "${@:2}"' launcher "$WORK/jobserver" "$CRS_TOOLS/cr_run" "$prog"
crs_tool "$WORK/ck" cr_checkpoint --kill -f "$WORK/img" "$PID"
st=$?
if [ "$st" != 0 ]; then
    crs_fail "cr_checkpoint --kill: $(crs_status_text "$st"): $(head -n 1 "$WORK/ck.err")"
    crs_summary fifo_inherited
fi
crs_wait_status "$d/orig" 30 >/dev/null
touch "$d/go.1" "$d/go.2"
cd "$d" || exit 99
rm -f ready.*
st=$(crs_run "$WORK/r2" "$CRS_TOOLS/cr_restart" "$WORK/img")
crs_expect_run "the restart, the launcher's FIFO still held by this shell, ends as the uninterrupted run" \
    "$WORK/ref.after1" "$WORK/r2" "$st"
exec 7<&-
crs_summary fifo_inherited
