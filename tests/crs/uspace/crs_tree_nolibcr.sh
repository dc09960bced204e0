#!/bin/bash
# A tree started under cr_run, one of whose members runs without libcr
# because its step cleared the environment (env -i: no LD_PRELOAD), as a
# batch script's step may: cr_checkpoint --tree is refused in one line that
# says why that member lost libcr and that the checkpoint can be taken once
# the step has ended (newuser10 M2: it told the user to start the tree with
# cr_run, which they had). The tree is left running, unharmed.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_tree_nolibcr
crs_need_tools cr_run cr_checkpoint
d=$WORK/p
mkdir -p "$d"
crs_launch "$d/orig" "$CRS_TOOLS/cr_run" bash -c "env -i /bin/sleep 120 & echo \$! >'$d/step.pid'; wait"
for _ in $(seq 300); do [ -s "$d/step.pid" ] && break; sleep 0.1; done
step=$(cat "$d/step.pid" 2>/dev/null)
root=$(awk '{print $4}' "/proc/$step/stat" 2>/dev/null)
if [ -z "$step" ] || [ -z "$root" ]; then
    crs_fail "the script never started its step"
    crs_summary crs_tree_nolibcr
fi
# the step has exec'd sleep (no libcr) once its command line says so
for _ in $(seq 300); do tr '\0' ' ' <"/proc/$step/cmdline" 2>/dev/null | grep -q '^/bin/sleep' && break; sleep 0.1; done
crs_tool "$WORK/ck" cr_checkpoint --tree -f "$WORK/img" "$root"
crs_expect_refusal "cr_checkpoint --tree with a step run through env -i" "$WORK/ck.err" $? "no LD_PRELOAD of libcr"
grep -q "once it has ended" "$WORK/ck.err" && crs_pass "the refusal says the checkpoint can be taken after the step" ||
    crs_fail "the refusal does not say when the checkpoint can be taken: $(head -n 1 "$WORK/ck.err")"
[ ! -e "$WORK/img" ] && crs_pass "no image left" || crs_fail "an image was left"
kill -0 "$root" 2>/dev/null && kill -0 "$step" 2>/dev/null && crs_pass "the tree runs on" || crs_fail "the tree was harmed"
kill -KILL "$step" "$root" 2>/dev/null
crs_summary crs_tree_nolibcr
