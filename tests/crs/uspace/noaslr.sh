#!/bin/sh
# Layouts where the image's regions lie on cr_restart's own memory, forced with ASLR off
# (setarch -R, as under gdb) instead of left to chance. Such a region is loaded aside and moved
# into place last; the rest of its place must stay free until then.
# 1. The program and cr_restart both without ASLR: every library of the image lies where
#    cr_restart's own libraries are, and the kernel gave a library's copy the free part of
#    another region's place: that region's move overwrote it (before: the restored crt_heap died
#    of SIGSEGV in ld.so, every restart).
# 2. The program with ASLR, 16 MiB of it pinned at 0x7ffff7000000 (CRT_HEAP_AT), where
#    cr_restart's libraries lie without ASLR: the block's copy was given the free part of its own
#    place, its move was refused, and the message about it jumped into the unmapped libc (before:
#    exit 139, no output; CI at aa626e1, crs_heap_1g.sh fork, the same by chance under ASLR).
# 3. Both without ASLR, the program having used 4 MiB of stack: the image's stack region reaches
#    far below cr_restart's own stack, and the rest of its place is held free right under it;
#    cr_restart takes 256 KiB of stack first so that it never needs to grow into that (no run
#    here failed without it: the restore used less than the stack it had).
setarch -R true 2>/dev/null || { echo "SKIP: setarch -R (a process without ASLR) is not available here"; exit 77; }
CRS_FLAVOURS="kill rr fork" setarch -R bash "$(dirname "$0")/../cr_cycle.sh" crt_heap || exit 1
CRT_HEAP_STACK_KB=4096 CRS_FLAVOURS="kill rr" setarch -R bash "$(dirname "$0")/../cr_cycle.sh" crt_heap || exit 1
CRT_HEAP_AT=0x7ffff7000000 CRT_HEAP_AT_MB=16 CRS_RESTART_WRAP="setarch -R" CRS_FLAVOURS="kill rr fork" \
    exec bash "$(dirname "$0")/../cr_cycle.sh" crt_heap
