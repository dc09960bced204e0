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

With --fields (Open MPI, whose C handles are pointers to the library's objects), it also lists
every binding function that reads or writes a field of an object it did not get from the program:
under Revive the C handle a binding gets from PMPI_X_f2c or from a call that makes an object is a
virtual handle, so such an access lands in the layer's handle table (MPI_WAIT read a persistent
request's Fortran index that way). From the disassembly, an access is a memory operand at an
offset of 0x10 or more (past the object header) from a register, without an index register
(arrays the binding walks), and it is covered when:
  replaced  the layer defines every name of the function (src/pml_hooks/fortran_objs.c)
  sentinel  the register came from a sentinel's address (the predefined objects on the error
            path, the error code table, MPI_REQUEST_NULL), read through loads of the same
  error     the next call is ompi_errhandler_invoke: the layer's, which ignores what was read
  allowed   listed in FIELD_OK with the reason
Anything else is UNCOVERED, and the script exits 1.
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

# Field accesses of binding functions that need no replacement, with the reason (--fields).
FIELD_OK = {
    '__mpi_f08_types_MOD___copy_mpi_f08_types_Mpi_status': 'the compiler\'s copy of a Fortran'
                             ' MPI_Status (the program\'s memory)',
}
CALLER_SAVED = {'rax', 'rcx', 'rdx', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11'}
REG64 = {'eax': 'rax', 'ax': 'rax', 'al': 'rax', 'ebx': 'rbx', 'bx': 'rbx', 'bl': 'rbx',
         'ecx': 'rcx', 'cx': 'rcx', 'cl': 'rcx', 'edx': 'rdx', 'dx': 'rdx', 'dl': 'rdx',
         'esi': 'rsi', 'si': 'rsi', 'sil': 'rsi', 'edi': 'rdi', 'di': 'rdi', 'dil': 'rdi',
         'ebp': 'rbp', 'bp': 'rbp', 'bpl': 'rbp', 'esp': 'rsp'}


def reg64(r):
    r = r.lstrip('%')
    m = re.match(r'^(r\d+)[dwb]?$', r)
    return m.group(1) if m else REG64.get(r, r)


def split_operands(ops):
    """'0x10(%rax,%rbx,8),%ecx' -> ['0x10(%rax,%rbx,8)', '%ecx'] (commas inside parentheses kept)."""
    out, depth, cur = [], 0, ''
    for ch in ops:
        if ch == ',' and depth == 0:
            out.append(cur)
            cur = ''
            continue
        depth += ch == '('
        depth -= ch == ')'
        cur += ch
    if cur:
        out.append(cur)
    return [o.strip() for o in out]


def next_call(insns, i):
    """The function the code from insns[i] calls first, following unconditional jumps."""
    at = {int(t.split(':')[0], 16): k for k, (t, _m, _o, _g, _c) in enumerate(insns)}
    for _step in range(200):
        if i >= len(insns):
            return None
        text, mn, ops, _g, callee = insns[i]
        if callee:
            return callee
        if mn.startswith('ret'):
            return None
        if mn == 'jmp' and ops and re.match(r'^[0-9a-f]+$', ops[0]):
            if int(ops[0], 16) not in at:
                return None
            i = at[int(ops[0], 16)]
            continue
        i += 1
    return None


def fields(lib, layer, sentinels, out):
    """Lists the field accesses of lib's functions (see the docstring); returns how many are
    not covered."""
    got = {}
    for line in run('objdump', '-R', lib).splitlines():
        p = line.split()
        if len(p) >= 3 and p[1].startswith('R_X86_64') and p[1] != 'R_X86_64_RELATIVE':
            got[int(p[0], 16)] = p[2].split('@')[0].split('+')[0]
    defs = dynsyms(lib, True)
    by_addr = collections.defaultdict(set)
    for n, (_kind, a) in defs.items():
        by_addr[a].add(n)
    size = {}
    for line in run('objdump', '-T', lib).splitlines():
        p = line.split()
        if re.match(r'^[0-9a-f]{16}$', p[0] if p else '') and '.text' in p:
            k = p.index('.text')
            size[int(p[0], 16)] = int(p[k + 1], 16)
    # (address, name, [(text, mnemonic, operands, got symbol, callee)]); code past the end of a
    # function symbol is a static function of the library: '(static after NAME)'
    funcs = []
    for line in run('objdump', '-d', '--no-show-raw-insn', lib).splitlines():
        m = re.match(r'^([0-9a-f]+) <(.+)>:$', line)
        if m:
            name = m.group(2).split('@')[0]
            funcs.append(None if m.group(2).endswith('@plt') else (int(m.group(1), 16), name, []))
            continue
        m = re.match(r'^\s+[0-9a-f]+:\s+(\S+)\s*([^#<]*)(.*)$', line)
        if not m or not funcs or funcs[-1] is None:
            continue
        ia = int(line.split(':')[0], 16)
        fa, fname, _l = funcs[-1]
        if fa in size and ia >= fa + size[fa] and not fname.startswith('(static'):
            if m.group(1).startswith('nop') or m.group(1) in ('cs', 'xchg'):
                continue  # padding
            funcs.append((ia, '(static after %s)' % fname, []))
        g = re.search(r'# ([0-9a-f]+)', m.group(3))
        gsym = got.get(int(g.group(1), 16)) if g else None
        call = re.search(r'<([\w.]+)@plt>', m.group(3))
        funcs[-1][2].append((line.strip(), m.group(1), split_operands(m.group(2).strip()),
                             gsym, call.group(1) if call else None))
    bad = 0
    found = collections.defaultdict(list)
    for f in funcs:
        if f is None:
            continue
        addr, name, insns = f
        taint = set()
        for i, (text, mn, ops, gsym, callee) in enumerate(insns):
            if mn.startswith('call'):
                taint -= CALLER_SAVED
                continue
            mem = [o for o in ops if '(' in o]
            for o in mem:
                mm = re.match(r'^(-?0x[0-9a-f]+)?\((%\w+)?(?:,(%\w+))?(?:,(\d))?\)$', o)
                if not mm or not mm.group(2):
                    continue
                base = reg64(mm.group(2))
                disp = int(mm.group(1), 16) if mm.group(1) else 0
                if base in ('rsp', 'rip') or mm.group(3) or disp < 0x10:
                    continue
                if base in taint:
                    how = 'sentinel'
                elif next_call(insns, i + 1) == 'ompi_errhandler_invoke':
                    how = 'error'
                else:
                    how = None
                found[(addr, name)].append((text, how))
            # what the instruction leaves in its destination register
            if mn.startswith(('cmp', 'test', 'push', 'j', 'ret', 'nop')) or not ops:
                continue
            dst = ops[-1]
            if not dst.startswith('%'):
                continue
            d = reg64(dst)
            src = ops[0] if len(ops) > 1 else ''
            from_taint = False
            if mn.startswith('mov') or mn.startswith('lea'):
                if gsym and gsym in sentinels:
                    from_taint = True
                elif src.startswith('%') and reg64(src) in taint:
                    from_taint = True
                else:
                    sm = re.match(r'^(-?0x[0-9a-f]+)?\((%\w+)', src)
                    from_taint = bool(sm and reg64(sm.group(2)) in taint)
            if from_taint:
                taint.add(d)
            else:
                taint.discard(d)
    spans = [(f[0], int(f[2][-1][0].split(':')[0], 16) if f[2] else f[0], f[1])
             for f in funcs if f is not None]

    def is_replaced(addr, name, depth=0):
        if not name.startswith('(static'):
            names = {n for n in by_addr.get(addr, {name}) if reachable(n)}
            return bool(names) and all(n in layer for n in names)
        # a static function runs only from the functions that call it or take its address
        end = next(e for a, e, _n in spans if a == addr)
        refs = set()
        for a, e, n in spans:
            for text, _m, ops, _g, _c in next(f for f in funcs if f and f[0] == a)[2]:
                for t in re.findall(r'\b([0-9a-f]{4,})\b', ' '.join(ops) + text.split('#')[-1]
                                    if '#' in text else ' '.join(ops)):
                    if addr <= int(t, 16) <= end and not (addr <= a <= end):
                        refs.add((a, n))
        return bool(refs) and depth < 4 and all(is_replaced(a, n, depth + 1) for a, n in refs)

    for (addr, name), acc in sorted(found.items(), key=lambda x: x[0][1]):
        replaced = is_replaced(addr, name)
        open_acc = [t for t, how in acc if how is None]
        if replaced:
            how = 'replaced'
        elif not open_acc:
            how = ', '.join(sorted({h for _t, h in acc}))
        elif name in FIELD_OK:
            how = 'allowed: ' + FIELD_OK[name]
        else:
            how = 'UNCOVERED: ' + '; '.join(re.sub(r'\s+', ' ', t) for t in open_acc[:3])
            bad += 1
        out.append('  field %-36s %s' % (name, how))
    out.append('%s: %d functions access fields, %d of them not covered' % (lib, len(found), bad))
    return bad


def run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


# A binding function's bare lower-case name (mpi_wait: Fortran compiled without trailing
# underscores) is not one the layer takes over: exported from the preloaded layer it took the
# name from every library defining a C function of it (R's Rmpi.so: newuser10 F1). Such programs
# are not supported on Open MPI (docs/mpi.md "Fortran"), so those names do not count here.
def reachable(n):
    return not re.fullmatch(r'p?mpix?_[a-z0-9_]*[a-z0-9]', n)


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
            names = {n for n in by_addr.get(addr, {fname}) if reachable(n)}
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
    ap.add_argument('--fields', action='store_true',
                    help='also check the bindings\' accesses to fields of handle objects')
    a = ap.parse_args()
    core = {}
    for lib in a.core:
        for n, (kind, _a) in dynsyms(lib, True).items():
            core[n] = ('DF' if 'F' in kind else 'DO', 0)
    layer = set(dynsyms(a.layer, True))
    out = []
    bad = sum(check(lib, core, layer, 1, out) for lib in a.bind)
    if a.fields:
        bad += sum(fields(lib, layer, set(SENTINELS), out) for lib in a.bind)
    for lib in a.cxx:
        out.append('(C++ bindings, not supported by Revive; the guard stops a rank that takes a'
                   ' path marked UNCOVERED)')
        check(lib, core, layer, 0, out)
    print('\n'.join(out))
    if bad:
        print('%d path(s) from the binding libraries into the application\'s copy of the MPI'
              ' library or into handle objects are not covered by the layer' % bad)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
