#!/bin/sh
# State test: regular files with offsets, flags, dup, O_APPEND, stdio, cwd,
# umask; the flavours below, with "mutate": between checkpoint and restart in.dat
# is replaced by a copy (new inode, same bytes), app.log grows and out.dat's
# mtime changes; open files are reopened at their offsets all the same.
# Flavours: those that act on its state (run, term, tty, sigdeath and the others not named are the
# tools' mechanics, which the tests listing them check; tests/crs/uspace/README.md); stdoutfile:
# stdout is one more regular file reopened at its offset.
CRS_FLAVOURS="kill twice rr cont fork stop stdoutfile mutate" \
CRS_MUTATE='cp files.d/in.dat files.d/in.new && mv files.d/in.new files.d/in.dat &&
echo junk >>files.d/app.log && touch files.d/out.dat' \
    exec bash "$(dirname "$0")/../cr_cycle.sh" crt_files
