#!/bin/bash
# State test (issue 10): Python's multiprocessing.Pool under cr_checkpoint
# --tree. crt_pool.py's pool of 3 workers shares POSIX named semaphores
# (/dev/shm/sem.*, unlinked at once) and a multiprocessing.Value (a deleted
# /dev/shm file every member maps and holds open) with the program; point 1
# is in the middle of a map, the workers waiting on an Event. Restarted, the
# members must share one file each again (a copy per member would lose the
# workers' adds to the counter, and the Event's post would wake nobody):
# every flavour, compared with an uninterrupted run. One checkpoint's file
# is looked at with cr_info: each semaphore's bytes are in one image only,
# the other members' images name it without bytes. Until the tree restored
# such files, this checkpoint was refused ("share a POSIX named semaphore").
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_tree_pool
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
src=${REVIVE_SRCDIR:-$(dirname "$0")/../../..}
prog=$REVIVE_BUILDDIR/tests/crs/uspace/crt_pool
mkdir -p "$(dirname "$prog")"
install -m 0755 "$src/tests/crs/uspace/crt_pool.py" "$prog" || crs_fail "cannot install crt_pool"

if CRS_CKPT_SCOPE=--tree CRS_FLAVOURS="run kill twice rr cont stop term compress stdoutfile tty sigdeath busy" \
    bash "$(dirname "$0")/../cr_cycle.sh" crt_pool; then
    crs_pass "a pool checkpointed in the middle of a map: every flavour"
else
    crs_fail "a pool checkpointed in the middle of a map: the flavours above"
fi

# the file of one checkpoint: each shared file's bytes once
crs_need_tools cr_run cr_checkpoint cr_info
d=$WORK/info
crs_start_or_end "info: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$prog"
crs_tool "$WORK/ck" cr_checkpoint --tree --cont -f "$WORK/ck.img" "$PID" ||
    crs_fail "cr_checkpoint --tree --cont: $(head -n 1 "$WORK/ck.err")"
crs_finish "$d" orig || crs_fail "info: the program after the checkpoint: $(crs_status_text "$FINISH_STATUS")"
if crs_tool "$WORK/json" cr_info --json "$WORK/ck.img" && python3 - "$WORK/json.out" <<'EOF'; then
import json, sys
t = json.load(open(sys.argv[1]))
assert len(t["members"]) == 4, "%d members" % len(t["members"])
owners = {}
for im in t["images"]:
    for f in im["saved_files"]:
        if f["path"].startswith("/dev/shm/"):
            owners.setdefault(f["path"], []).append(not f["bytes_elsewhere"])
sems = [p for p in owners if p.startswith("/dev/shm/sem.")]
assert sems, "no semaphore among the saved files"
for p, o in owners.items():
    assert len(o) == 4 and sum(o) == 1, "%s: %d images name it, %d with its bytes" % (p, len(o), sum(o))
objects = [g for g in t["shared"] if g["kind"] == "saved file"]
assert len(objects) == len(owners), "%d saved-file groups for %d files" % (len(objects), len(owners))
EOF
    crs_pass "cr_info: every semaphore and the shared value in the tree's file once, named by the 4 members"
else
    crs_fail "cr_info of the pool's tree file"
fi
crs_summary crs_tree_pool
