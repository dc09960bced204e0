#!/usr/bin/env python3
"""gate_order.py FILE...: no entry point of the MPI layer reads a lower-half handle before its gate.

A snapshot parks an application thread at the gate of the entry point it is in (PML_GATE_ENTER,
PML_COLL_ENTER*: src/pml_hooks/ckpt.h); a restart resumes it there with a fresh lower half. A real
handle (pml_v2r and the files' RW/RF/RT macros, pml_f_to_lower, pml_kv_v2r, pml_lower_world) read
before the gate is the dead library's after the restart: MPI_Win_free called the dead window's
free function (campaign-failures.md #28). Lists each function body (a line "{" at column 0 to
the next "}") that does so, with its line; exit 1 when there is one."""
import re
import sys

TRANSLATE = re.compile(r'\bpml_v2r\s*\(|\bR[WFTC]\s*\(|\bpml_f_to_lower\s*\(|\bpml_kv_v2r\s*\('
                       r'|\bpml_lower_world\s*\(')
GATE = re.compile(r'\bPML_GATE_ENTER\b|\bPML_COLL_ENTER(_[CX])?\b|\bpml_lower_wait\s*\(')


def check(path):
    found = []
    lines = open(path, encoding='utf-8', errors='replace').read().split('\n')
    i = 0
    while i < len(lines):
        if lines[i] != '{' or i == 0:
            i += 1
            continue
        head = lines[i - 1].strip()
        body = []
        k = i + 1
        while k < len(lines) and lines[k] != '}':
            body.append((k + 1, lines[k]))
            k += 1
        gate = next((n for n, t in body if GATE.search(t)), None)
        if gate:
            for n, t in body:
                if n >= gate:
                    break
                code = t.split('//')[0].split('/*')[0]
                if TRANSLATE.search(code):
                    found.append('%s:%d: %s reads a real handle before its gate (line %d): %s'
                                 % (path, n, head[:60], gate, t.strip()[:90]))
        i = k + 1
    return found


def main():
    files = sys.argv[1:]
    if not files:
        print('usage: gate_order.py FILE...')
        return 2
    bad = [f for p in files for f in check(p)]
    for b in bad:
        print('FAIL: ' + b)
    if not bad:
        print('PASS: %d files: every entry point translates handles after its gate' % len(files))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
