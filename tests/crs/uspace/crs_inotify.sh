#!/bin/bash
# State test: an inotify with events not read yet at the checkpoint (issue
# 10, item 6: a lazy watcher; they were refused at every checkpoint). The
# restarted process, and the original after a checkpoint that let it go on,
# must get the unread events first, as the kernel gives them, then those
# made since: crt_inotify read (a blocking read, poll, FIONREAD, a read too
# small for an event) and crt_inotify epoll (level- and edge-triggered
# epolls) and crt_inotify dup (read through a copy of the descriptor made
# after the point, the old number closed). read runs every flavour but busy (the two copies would
# see each other's files in the watched folders); epoll and dup, which differ from read only in how
# the program reads after the point, run the flavours that give it a restored inotify (kill, twice,
# rr) or keep the original's going on (cont, fork): run, nopid, stop, term, compress, stdoutfile,
# tty and sigdeath differ from those in the pid, the signal the original gets, the image's bytes,
# the standard streams and cr_restart's status, nothing an inotify or its reader sees, and read
# runs them (they were 16 of the 39 flavour runs). Then ten checkpoints of one lazy watcher
# must all be taken, its output after them the uninterrupted run's, and
# cr_info must show the unread events kept.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_inotify
crs_need_tools cr_run cr_checkpoint cr_info
for mode in read epoll dup; do
    fl="run kill twice nopid rr cont fork stop term compress stdoutfile tty sigdeath"
    [ "$mode" = read ] || fl="kill twice rr cont fork"
    if CRS_FLAVOURS=$fl \
        bash "$(dirname "$0")/../cr_cycle.sh" crt_inotify "$mode"; then
        crs_pass "$mode: its flavours ($fl)"
    else
        crs_fail "$mode: the flavours above"
    fi
done
# ten checkpoints of a lazy watcher, each with the same eight events unread
ref=$(crs_uninterrupted "$WORK/ref" ref "$CRS_BIN/crt_inotify" read)
[ "$ref" = 42 ] || crs_fail "the uninterrupted run: $(crs_status_text "$ref")"
d=$WORK/lazy
crs_start_or_end "lazy: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_inotify" read
taken=0
for i in 1 2 3 4 5 6 7 8 9 10; do
    crs_tool "$WORK/ck$i" cr_checkpoint --cont -f "$WORK/img$i" "$PID" && taken=$((taken + 1))
done
[ "$taken" = 10 ] && crs_pass "lazy: 10 of 10 checkpoints taken with events unread" ||
    crs_fail "lazy: $taken of 10 checkpoints taken; the first refusal: $(head -n 1 "$WORK/ck1.err")"
crs_tool "$WORK/info" cr_info "$WORK/img10"
grep -q 'inotify  2 watches: 1 .*/watched1 (mask 0x3c0) 3 .*/watched3 (mask 0x3c0), 8 unread events (352 bytes) kept' \
    "$WORK/info.out" && crs_pass "cr_info: the inotify's 8 unread events (352 bytes) kept" ||
    crs_fail "cr_info on the inotify: $(grep inotify "$WORK/info.out")"
if crs_finish "$d" orig && [ "$(crs_after_point 1 "$d/orig.out")" = "$(crs_after_point 1 "$WORK/ref/ref.out")" ]; then
    crs_pass "lazy: after ten checkpoints the original's events are the uninterrupted run's"
else
    crs_fail "lazy: the original after ten checkpoints: $(crs_status_text "$FINISH_STATUS")"
    diff <(crs_after_point 1 "$WORK/ref/ref.out") <(crs_after_point 1 "$d/orig.out") | head -n 20 | sed 's/^/   | /'
fi
crs_summary crs_inotify
