#!/usr/bin/env python3
"""rma_hotpath.py LIB...: the one-sided calls that run in every epoch stay cheap in the MPI layer.

Each of MPI_Win_fence, MPI_Win_lock_all, MPI_Win_unlock_all, MPI_Put, MPI_Get and MPI_Accumulate
(in the layer's shared objects LIB, disassembled with objdump) may contain no locked
read-modify-write (an x86-64 "lock" prefix, or xchg with memory) and may call, besides the
library's functions through the table of the lower half (indirect calls), only the layer's slow
paths that run while a snapshot is under way. A shared lock's marks were four locked
read-modify-writes of counters in the window per lock epoch (~10% of a lock_all/unlock_all pair
of one rank, bench/mpi/README.md); they are plain stores to the thread's slot now (ckpt.h).
In the lower half's root (a LIB named revive-lower-*.so), ucp_worker_progress, through which
every UCX progress turn of the library passes (each turn of a blocking collective's wait), makes
no call: with REVIVE_MPI_YIELD_WHEN_IDLE off it jumps to UCX's function (it called it, then a
forwarding function of the layer that found nothing to do: 27 instructions a turn, 10 now).
The lower root's malloc, free and calloc (every allocation the MPI library makes: ~20 in a lock
epoch of one rank on MPICH) make no call and no jump through a PLT stub: their fast path is a
compare and an indirect jump through the GOT to the lower libc's function, and their only other
way out a jump to their slow path (lower_root.c; 8 instructions and a PLT stub each before).
MPI_Put, MPI_Get, MPI_Accumulate, MPI_Win_flush (gen_mpi.py FAST), MPI_Win_fence, MPI_Win_lock,
MPI_Win_unlock and MPI_Win_unlock_all (win.c) are fronts: the gate's fast case, the quick handle
translations and the library's call, with the whole entry point (pml_full_NAME, a slow path)
behind them. A front makes no multiplication or division (Open MPI's created handle was an
index, a division by the entry's 40 bytes per window translation; it is read at the handle's
address now: bench/mpi/README.md, 2026-12-04), and calls nothing of the layer but its whole
entry point (a tail call on the way out).
Exit 1 naming each function and instruction that breaks the rule; 77 (skip) when objdump is
missing or the library is not x86-64."""
import os
import re
import subprocess
import sys

FUNCS = ('MPI_Win_fence', 'MPI_Win_lock_all', 'MPI_Win_unlock_all', 'MPI_Put', 'MPI_Get',
         'MPI_Accumulate')
# slow paths: a snapshot is under way (the gate's flags say so), or the thread has no slot yet
LOWER_FUNCS = ('ucp_worker_progress', 'malloc', 'free', 'calloc')
# the lower root's allocation functions' slow paths (a chunk glibc maps, window memory)
LOWER_SLOW = {'malloc_noted', 'free_noted', 'calloc_noted'}
# fronts (gen_mpi.py FAST): no multiplication or division
FRONTS = ('MPI_Put', 'MPI_Get', 'MPI_Accumulate', 'MPI_Win_flush', 'MPI_Win_fence', 'MPI_Win_lock',
          'MPI_Win_unlock', 'MPI_Win_unlock_all')
SLOW = {'pml_gate_slow', 'pml_coll_slow', 'pml_coll_exit_slow', 'pml_shared_enter',
        'pml_slot_new', 'pml_not_ready_from', 'progress_slow',
        'pml_agent_notify'}  # the last epoch closed while a snapshot is pending (win.c epoch_closed)


def symbols(lib):
    out = subprocess.run(['nm', '-S', '--defined-only', lib], capture_output=True, text=True,
                         check=True).stdout
    syms = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 4 and f[2] in 'tTiW':
            syms[f[3]] = (int(f[0], 16), int(f[1], 16))
    return syms


def check(lib):
    syms = symbols(lib)
    byaddr = {a: n for n, (a, _) in syms.items()}
    bad = []
    lower = os.path.basename(lib).startswith('revive-lower-')
    for fn in LOWER_FUNCS if lower else FUNCS + tuple(f for f in FRONTS if f not in FUNCS):
        locks = lower or fn in FUNCS # MPI_Win_unlock closes an exclusive lock's epoch (locked)
        if fn not in syms:
            bad.append('%s: %s not found (stripped?)' % (lib, fn))
            continue
        a, size = syms[fn]
        dis = subprocess.run(['objdump', '-d', '--no-show-raw-insn', '--start-address=%#x' % a,
                              '--stop-address=%#x' % (a + size), lib],
                             capture_output=True, text=True, check=True).stdout
        for line in dis.splitlines():
            m = re.match(r'\s*([0-9a-f]+):\s+(.*)$', line)
            if not m:
                continue
            ins = m.group(2).strip()
            if not lower and fn in FRONTS:
                if re.match(r'(i?mul|i?div)\w*\s', ins):
                    bad.append('%s: %s (a front) multiplies or divides: %s (a created handle is '
                               'read at its address, layer.h pml_v2r_quick)' % (lib, fn, ins))
            fence = re.match(r'lock or[lq]?\s+\$0x0,\(%rsp\)', ins) # pml_need_fence's, no membarrier
            if locks and ((re.match(r'lock\b', ins) and not fence) or
                          (re.match(r'xchg\b', ins) and '(' in ins)):
                bad.append('%s: %s makes a locked read-modify-write: %s' % (lib, fn, ins))
            if lower and re.match(r'call', ins):
                bad.append('%s: %s makes a call on its way (only a jump to UCX\'s turn or the lower '
                           'libc\'s function): %s' % (lib, fn, ins))
                continue
            if lower and fn != 'ucp_worker_progress':
                j = re.match(r'j\w+\s+([0-9a-f]+)\s+<([^>+]+)', ins)
                if j and not a <= int(j.group(1), 16) < a + size and j.group(2) not in LOWER_SLOW:
                    bad.append('%s: %s jumps to %s (want the lower libc\'s function through the GOT, '
                               'noplt, or its slow path): %s' % (lib, fn, j.group(2), ins))
                continue
            c = re.match(r'(?:call|jmp)q?\s+([0-9a-f]+)\s+<([^>+]+)', ins)
            to = int(c.group(1), 16) if c else 0
            if c and not a <= to < a + size:
                callee = c.group(2).split('@')[0] if '@plt' in c.group(2) else byaddr.get(to, c.group(2))
                # its own whole entry point only, or a gcc clone of it (.part, .cold): not another
                # front's whose name begins with this one's (MPI_Put's calling pml_full_MPI_Put_c
                # passed: diffrev29 R-L2)
                full = 'pml_full_' + fn
                if callee not in SLOW and not callee.startswith(fn + '.') and \
                        callee != full and not callee.startswith(full + '.'):
                    bad.append('%s: %s calls %s on its way (inline it or make it a slow path)'
                               % (lib, fn, callee))
    return bad


def main():
    libs = sys.argv[1:]
    try:
        subprocess.run(['objdump', '--version'], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        print('SKIP: no objdump')
        return 77
    bad = []
    for lib in libs:
        head = subprocess.run(['objdump', '-f', lib], capture_output=True, text=True).stdout
        if 'x86-64' not in head:
            print('SKIP: %s is not x86-64' % lib)
            return 77
        bad += check(lib)
    for b in bad:
        print(b)
    if bad:
        print('rma_hotpath: %d finding(s): the per-epoch path of one-sided calls (or UCX\'s progress turn) got a locked '
              'instruction or a call (bench/mpi/layercost.sh measures what it costs)' % len(bad))
        return 1
    print('rma_hotpath: %s: clean' % ' '.join(libs))
    return 0


sys.exit(main())
