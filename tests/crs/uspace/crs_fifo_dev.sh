#!/bin/bash
# State test: two FIFOs (named pipes) with one inode number on two file
# systems each come back with their own bytes (review LOW-G; crt_fifodev.c).
# Root only: in a mount namespace of its own, two small tmpfs, whose first
# files get the same inode number (2), each with a FIFO. Flavours kill, rr
# and cont: the capture and the restart of one process, twice.
if [ "${CRS_FIFODEV_NS:-}" != 1 ]; then
    [ "$(id -u)" = 0 ] || { echo "SKIP: mounting two tmpfs needs root (running as uid $(id -u))"; exit 77; }
    unshare -m --propagation private true 2>/dev/null ||
        { echo "SKIP: no mount namespace of its own (unshare -m)"; exit 77; }
    CRS_FIFODEV_NS=1 exec unshare -m --propagation private -- bash "$0" "$@"
fi
top=$(mktemp -d "${TMPDIR:-/tmp}/revive-fifodev.XXXXXX") || exit 99
for fs in a b; do
    mkdir -p "$top/$fs" && mount -t tmpfs -o size=1m,mode=755 "revive-fifodev-$fs" "$top/$fs" ||
        { echo "SKIP: cannot mount a tmpfs on $top/$fs"; rm -rf "$top"; exit 77; }
    mkfifo "$top/$fs/fifo"
done
export CRT_FIFO_A=$top/a/fifo CRT_FIFO_B=$top/b/fifo
CRS_FLAVOURS="kill rr cont" bash "$(dirname "$0")/../cr_cycle.sh" crt_fifodev
rc=$?
umount "$top/a" "$top/b" 2>/dev/null
rm -rf "$top"
exit $rc
