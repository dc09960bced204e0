#!/bin/sh
# State test: files deleted while open (a scratch file, tmpfile, O_TMPFILE, a
# sparse one, deleted files mapped shared) and POSIX shared memory in
# /dev/shm: their bytes are in the image. Every flavour, plus mutate: the
# /dev/shm files are removed before the restart, which brings them back.
# busy: the restart beside the running original gets a /dev/shm of its own
# (the original's objects are in use), so each copy counts 300 steps in its
# own /dev/shm mapping (before, the restart wrote the image's bytes over the
# original's object and both counted in it: wrong counts, review 13 HIGH-13).
# Images stay under 24 MiB: the 64 MiB sparse file's hole is not stored.
# Flavours: those that act on its state (run, term, tty, sigdeath and the others not named are the
# tools' mechanics, which the tests listing them check; tests/crs/uspace/README.md); nopid: its
# /dev/shm objects are named after its pid; compress: the sparse file's hole through a compressed
# image.
CRS_FLAVOURS="kill twice nopid rr cont fork stop compress busy mutate" \
CRS_MUTATE='rm -f /dev/shm/crt_saved.$PID.a /dev/shm/crt_saved.$PID.b' \
CRS_MAX_IMAGE_MB=24 \
    exec bash "$(dirname "$0")/../cr_cycle.sh" crt_saved
