#!/bin/bash
# State test (issue 10): FIFOs (named pipes) a process and its child share,
# checkpointed with --tree (crt_treefifo.c): one the program reads and the
# child writes (opened by each), one opened read-write before the fork. The
# tree's restart makes each FIFO once at its path, with its bytes once, and
# gives every member its descriptors of it. Before, the checkpoint was
# refused, naming the child as a process outside the tree. Flavours kill,
# rr and cont (crs_tree.sh runs the others for trees); ~40 s. cr_info lists them.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_tree_fifo

if CRS_CKPT_SCOPE=--tree CRS_FLAVOURS="kill rr cont" \
    bash "$(dirname "$0")/../cr_cycle.sh" crt_treefifo; then
    crs_pass "two FIFOs two members of a tree share: kill, rr, cont"
else
    crs_fail "two FIFOs two members of a tree share: kill, rr, cont"
fi
# cr_info lists each FIFO's open files as shared, the bytes once
crs_need_tools cr_run cr_checkpoint cr_info
d=$WORK/info
crs_start_or_end "info: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_treefifo"
crs_tool "$WORK/ck" cr_checkpoint --tree -f "$WORK/tree.img" "$PID"
if [ $? = 0 ] && crs_tool "$WORK/info" cr_info "$WORK/tree.img"; then
    grep -q "FIFO $d/tree.rw (inode [0-9]*, opened read-write), holding 500 bytes: pid $PID fd [0-9]* pid [0-9]* fd " \
        "$WORK/info.out" && grep -q "FIFO $d/tree.fifo (inode [0-9]*, opened to read), holding 1000 bytes: pid $PID " \
        "$WORK/info.out" && grep -q "FIFO $d/tree.fifo (inode [0-9]*, opened to write): pid " "$WORK/info.out" &&
        crs_pass "cr_info lists the FIFOs' open files, each FIFO's bytes once" ||
        crs_fail "cr_info does not list the FIFOs: $(grep FIFO "$WORK/info.out" | head -n 4)"
else
    crs_fail "cr_checkpoint --tree or cr_info: $(head -n 2 "$WORK/ck.err" "$WORK/info.err")"
fi
crs_finish "$d" orig || crs_fail "info: the program after the checkpoint: $(crs_status_text "$FINISH_STATUS")"
crs_summary crs_tree_fifo
