#!/bin/sh
# State test: regular files with offsets, flags, dup, O_APPEND, stdio, cwd,
# umask; every flavour, plus "mutate": between checkpoint and restart in.dat
# is replaced by a copy (new inode, same bytes), app.log grows and out.dat's
# mtime changes; open files are reopened at their offsets all the same.
CRS_FLAVOURS="run kill twice nopid rr cont fork stop term compress stdoutfile tty sigdeath mutate" \
CRS_MUTATE='cp files.d/in.dat files.d/in.new && mv files.d/in.new files.d/in.dat &&
echo junk >>files.d/app.log && touch files.d/out.dat' \
    exec bash "$(dirname "$0")/../cr_cycle.sh" crt_files
