#!/usr/bin/env python3
"""Every path from the application's MPI binding libraries into the MPI library's internals.

  upper_paths.py --layer revive-mpi-X.so --core LIB... --bind LIB... [--cxx LIB...]

The application links binding libraries (Fortran: Open MPI's libmpi_mpifh, libmpi_usempif08,
libmpi_usempi_ignore_tkr; MPICH's libmpichfort) whose functions call the MPI library. Their
MPI_/PMPI_ calls reach Revive's layer; any other symbol they import from the MPI library (the
core libraries: libmpi, libopen-rte, libopen-pal; libmpich) resolves in the application's
never-initialised copy unless the layer defines it too. For each such import, from the
libraries' dynamic symbol tables and relocations (objdump), this lists the binding functions
that use it and says how the layer covers the path:
  defined   the layer defines the symbol (it forwards to the lower half, or stops with a message)
  replaced  every binding function using it is replaced: the layer defines all of its names
  sentinel  data whose address only is used (MPI_BOTTOM and the like), or a constant
Anything else is UNCOVERED, and the script exits 1. C++ binding libraries (--cxx) are listed
but do not fail the check: Revive does not support them, and the layer's guard (upper_guard.c)
stops a rank that enters the application's copy. See src/pml_hooks/fortran_paths.c.
"""
import argparse
import collections
import re
import subprocess
import sys

# Data the bindings use by address only, or read where the value cannot matter; with the reason.
SENTINELS = {
    'mpi_fortran_bottom_': 'address compared with the argument (MPI_BOTTOM)',
    'mpi_fortran_in_place_': 'address compared with the argument (MPI_IN_PLACE)',
    'mpi_fortran_status_ignore_': 'address compared with the argument (MPI_STATUS_IGNORE)',
    'mpi_fortran_statuses_ignore_': 'address compared with the argument (MPI_STATUSES_IGNORE)',
    'mpi_fortran_argv_null_': 'address compared with the argument (MPI_ARGV_NULL)',
    'mpi_fortran_argvs_null_': 'address compared with the argument (MPI_ARGVS_NULL)',
    'mpi_fortran_errcodes_ignore_': 'address compared with the argument (MPI_ERRCODES_IGNORE)',
    'mpi_fortran_unweighted_': 'address compared with the argument (MPI_UNWEIGHTED)',
    'mpi_fortran_weights_empty_': 'address compared with the argument (MPI_WEIGHTS_EMPTY)',
    'mpi_conversion_fn_null_': 'address compared with the argument (MPI_CONVERSION_FN_NULL)',
    'ompi_mpi_comm_world': 'predefined handle: its address is translated by the layer; its fields'
                           ' are read only on the error path, as arguments of the layer\'s'
                           ' ompi_errhandler_invoke, which ignores them',
    'ompi_mpi_file_null': 'predefined handle (error path of MPI-IO bindings, as above)',
    'ompi_request_null': 'MPI_REQUEST_FREE reads its Fortran index: 0 in both copies (the first'
                         ' entry of the table, as MPI_REQUEST_NULL is 0 in mpif.h)',
    'ompi_status_empty': 'constant (statically initialised)',
    'ompi_errcodes_intern': 'read on the error path before ompi_errhandler_invoke: empty in the'
                            ' application\'s copy, so an internal code becomes MPI_ERR_UNKNOWN',
    'ompi_errcode_intern_lastused': 'as ompi_errcodes_intern (0 in the application\'s copy)',
    'opal_uses_threads': 'as ompi_errcodes_intern (false in the application\'s copy: no lock taken)',
    'MPI_F_STATUS_IGNORE': 'address compared with the argument',
    'MPI_F_STATUSES_IGNORE': 'address compared with the argument',
    'MPI_F08_STATUS_IGNORE': 'address compared with the argument',
    'MPI_F08_STATUSES_IGNORE': 'address compared with the argument',
    'MPI_UNWEIGHTED': 'address compared with the argument',
    'MPI_WEIGHTS_EMPTY': 'address compared with the argument',
}


def run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def dynsyms(lib, defined):
    """name -> (type, address) of the defined (or undefined) dynamic symbols."""
    out = {}
    for line in run('objdump', '-T', lib).splitlines():
        if not re.match(r'^[0-9a-f]{16} ', line):
            continue
        kind, rest = line[17:24].strip()[-2:], line[24:].split()  # 7 flag characters, then
        if len(rest) < 3:                                          # section, size, version, name
            continue
        section, name = rest[0], rest[-1].split('@')[0]
        if (section == '*UND*') == defined:
            continue
        out[name] = (kind, int(line[:16], 16))
    return out


def users(lib, wanted):
    """symbol -> set of the names of the functions of lib that call or load it."""
    got = {}
    for line in run('objdump', '-R', lib).splitlines():
        p = line.split()
        if len(p) >= 3 and p[1].startswith('R_X86_64') and p[1] != 'R_X86_64_RELATIVE':
            got[int(p[0], 16)] = p[2].split('@')[0].split('+')[0]
    use = collections.defaultdict(set)
    cur = None
    for line in run('objdump', '-d', '--no-show-raw-insn', lib).splitlines():
        m = re.match(r'^([0-9a-f]+) <(.+)>:$', line)
        if m:
            plt = m.group(2).endswith('@plt')  # a PLT stub is not a function of the library
            cur = None if plt else (int(m.group(1), 16), m.group(2).split('@')[0])
            continue
        if cur is None:
            continue
        m = re.search(r'<([\w.]+)@plt>', line)
        if m and m.group(1) in wanted:
            use[m.group(1)].add(cur)
        m = re.search(r'# ([0-9a-f]+)(?: <|$)', line)
        if m and int(m.group(1), 16) in got and got[int(m.group(1), 16)] in wanted:
            use[got[int(m.group(1), 16)]].add(cur)
    return use


def check(lib, core, layer, strict, out):
    defs = dynsyms(lib, True)
    by_addr = collections.defaultdict(set)
    for n, (_kind, a) in defs.items():
        by_addr[a].add(n)
    imports = dynsyms(lib, False)
    paths = sorted(n for n in imports if n in core and n not in layer)
    ours = sorted(n for n in imports if n in core and n in layer and not re.match(r'P?MPIX?_', n))
    if ours:
        out.append('%s: defined by the layer: %s' % (lib, ' '.join(ours)))
    if not paths:
        out.append('%s: no other path into the MPI library\'s internals' % lib)
        return 0
    use = users(lib, set(paths))
    bad = 0
    out.append('%s: %d symbols of the MPI library that the layer does not define' % (lib, len(paths)))
    for s in paths:
        fns = sorted(use.get(s, ()))
        open_fns = []
        for addr, fname in fns:
            names = by_addr.get(addr, {fname})
            if not names or not all(n in layer for n in names):
                open_fns.append(fname)
        if not open_fns:
            how = 'replaced (%d binding functions)' % len(fns) if fns else 'not used by any function'
        elif s in SENTINELS and core[s][0] != 'DF':
            how = 'sentinel: ' + SENTINELS[s]
        else:
            how = 'UNCOVERED: reached from ' + ' '.join(open_fns[:8]) + (' ...' if len(open_fns) > 8 else '')
            bad += strict
        out.append('  %-38s %s' % (s, how))
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--layer', required=True)
    ap.add_argument('--core', nargs='+', required=True)
    ap.add_argument('--bind', nargs='*', default=[])
    ap.add_argument('--cxx', nargs='*', default=[])
    a = ap.parse_args()
    core = {}
    for lib in a.core:
        for n, (kind, _a) in dynsyms(lib, True).items():
            core[n] = ('DF' if 'F' in kind else 'DO', 0)
    layer = set(dynsyms(a.layer, True))
    out = []
    bad = sum(check(lib, core, layer, 1, out) for lib in a.bind)
    for lib in a.cxx:
        out.append('(C++ bindings, not supported by Revive; the guard stops a rank that takes a'
                   ' path marked UNCOVERED)')
        check(lib, core, layer, 0, out)
    print('\n'.join(out))
    if bad:
        print('%d path(s) from the binding libraries into the application\'s copy of the MPI'
              ' library are not covered by the layer' % bad)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
