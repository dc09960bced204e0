#!/usr/bin/env python3
"""Generate Revive's MPI entry points from mpi_iface.def (see the comment at its top).

  gen_mpi.py DEF --entries OUT.c --table OUT.h
      entry points and the table of the lower half's functions (one file for both MPIs:
      the MPI a file is compiled against is chosen by the include path)
  gen_mpi.py DEF --replay OUT.c
      the replay of the creation record after a restart: one function per @create call that
      calls the fresh lower half with the recorded arguments (see replay.c)
  gen_mpi.py DEF --stubs OUT.c --cpp "gcc -I..." [--lib /path/libmpi.so]
      a stub for every other MPI function that the library's mpi.h declares (and that the
      library exports): it stops the job with a message naming the call
"""
import argparse
import re
import subprocess
import sys

HANDLE_KINDS = {
    'MPI_Comm': 'PML_COMM', 'MPI_Group': 'PML_GROUP', 'MPI_Datatype': 'PML_TYPE',
    'MPI_Op': 'PML_OP', 'MPI_Errhandler': 'PML_ERRH', 'MPI_Info': 'PML_INFO',
    'MPI_Request': 'PML_REQ', 'MPI_Message': 'PML_MSG', 'MPI_Win': 'PML_WIN',
    'MPI_File': 'PML_FILE',
}
SCALARS = {'int', 'MPI_Aint', 'MPI_Count', 'MPI_Offset', 'double', 'MPI_Fint'}


class Param:
    def __init__(self, text):
        self.text = text
        m = re.match(r'^(.*?)\s*(?:\[([a-z]+)(?::(.*))?\])?$', text.strip())
        decl, self.ann, self.arg = m.group(1), m.group(2), m.group(3)
        if decl == '...':
            self.name, self.base, self.ptr, self.array, self.decl = '...', '...', 0, '', decl
            self.kind, self.const = None, False
            return
        m = re.match(r'^(.*?)([A-Za-z_]\w*)\s*((?:\[[^\]]*\])*)$', decl)
        if not m:
            sys.exit('gen_mpi: cannot parse parameter: %s' % text)
        self.decl = decl
        typ, self.name, self.array = m.group(1).strip(), m.group(2), m.group(3)
        self.const = typ.startswith('const ')
        typ = typ.replace('const ', '').strip()
        self.ptr = typ.count('*')
        self.base = typ.replace('*', '').strip()
        self.kind = HANDLE_KINDS.get(self.base)

    @property
    def is_handle_value(self):
        return self.kind and self.ptr == 0 and not self.array


class Func:
    def __init__(self, line, lineno):
        m = re.match(r'^(.+?)\s*\b(MPI_\w+)\s*\((.*)\)\s*((?:@\w+(?::\S+)?\s*)*)$', line)
        if not m:
            sys.exit('gen_mpi: mpi_iface.def:%d: cannot parse: %s' % (lineno, line))
        self.ret, self.name, plist, flags = m.group(1).strip(), m.group(2), m.group(3), m.group(4)
        self.flags = set()
        self.fargs = {}  # flag -> its argument (after the colon), e.g. @coll:comm
        for f in flags.split():
            name, _, arg = f[1:].partition(':')
            self.flags.add(name)
            self.fargs[name] = arg
        self.params = []
        if plist.strip() != 'void':
            depth, cur = 0, ''
            for ch in plist:
                if ch == '[':
                    depth += 1
                elif ch == ']':
                    depth -= 1
                if ch == ',' and depth == 0:
                    self.params.append(Param(cur))
                    cur = ''
                else:
                    cur += ch
            self.params.append(Param(cur))
        for p in self.params:
            if p.kind and not p.is_handle_value and p.ann is None and 'hand' not in self.flags:
                sys.exit('gen_mpi: mpi_iface.def:%d: %s: handle pointer %s needs an annotation'
                         % (lineno, self.name, p.name))

    def proto(self, name=None):
        ps = ', '.join(p.decl for p in self.params) or 'void'
        return '%s %s(%s)' % (self.ret, name or self.name, ps)


def parse_def(path):
    funcs = []
    for i, line in enumerate(open(path), 1):
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        funcs.append(Func(line, i))
    return funcs


def c_type(p):
    return p.base + ' ' + '*' * p.ptr


# Call classes (function flags in mpi_iface.def) and what the generated entry point does for
# each, besides translating handles and recording creations:
#   every entry       the gate (PML_GATE_ENTER/LEAVE): parks while a checkpoint owns the lower half
#   @coll[:P]         blocking collective on communicator P (default comm): counted at entry after
#                     the target check, in_cs until it returns
#   @nbc[:P]          nonblocking collective: counted at initiation; its request enters the table
#   @ccreate:P        communicator made collectively on parent P: counted on P like @coll; the new
#                     communicator gets its id (agreed) and rank map. P = '-': collective over a
#                     group (MPI_Comm_create_group): in_cs, counted on no communicator
#   @cfree            communicator freed: its count is kept
#   @seteh            a communicator's error handler changed (blocking receives need to know)
#   @fileeh           a file's error handler changed (or MPI_FILE_NULL's, the default of files
#                     opened later): the file keeps it for its reopening at a restart (io.c)
#   @isend:MODE       nonblocking send (std, buf, sync, ready): counted per destination; request
#                     in the table. The function has a "core" the blocking form reuses.
#   @irecv            nonblocking receive: the drain buffer first; request in the table
#   @pinit:KIND:MODE  persistent request template (KIND send or recv): in the table, inactive
#   @block:MPI_Ixxx   blocking point to point: the core of MPI_Ixxx, then Revive's wait loop
#   @wait, @probe     completion and probe calls: written by hand (reqs.c, p2p.c)
#   @fcoll[:F]        blocking collective on file F (default fh): counted on the file's clock
#                     (objs.h), in_cs until it returns
#   @fnbc[:F]         nonblocking collective on file F: counted; its request enters the table
#   @wcoll[:W]        blocking collective on window W (default win): counted on the window's clock
#   @pcoll[:P]        persistent collective init on communicator P (MPI-4): counted like @nbc (the
#                     standard makes it collective); its request is a persistent entry of the table
#                     and its creation is recorded (with @create), so that a restart makes it again;
#                     each MPI_Start of it is counted as a nonblocking collective (pcoll.c)
#   @ireq             a request that is no message and no collective (nonblocking file access,
#                     request-based one-sided operations): in the table, completed by the drain
# and, beside the class:
#   @mpi4             an MPI-4 function (the large-count _c forms): compiled where mpi.h says
#                     MPI_VERSION >= 4 (MPICH 4.0), absent elsewhere (Open MPI 4.1)
# Calls collective over groups that share no communicator they are counted on: also counted on
# the clocks of the pairs of ranks they link (cross.c), found by the expression given.
CROSS = {
    'MPI_Intercomm_create': 'pml_cross_intercomm(PML_H(local_comm), local_leader, PML_H(peer_comm), remote_leader, &xs_)',
    'MPI_Comm_create_group': 'pml_cross_group(PML_H(group), &xs_)',
}

CLASSES = ('coll', 'nbc', 'pcoll', 'ccreate', 'cfree', 'seteh', 'fileeh', 'isend', 'irecv', 'pinit', 'block', 'wait', 'probe',
           'fcoll', 'fnbc', 'wcoll', 'ireq')
MODES = {'std': 'PML_MODE_STD', 'buf': 'PML_MODE_BUF', 'sync': 'PML_MODE_SYNC',
         'ready': 'PML_MODE_READY'}


def v2r(p, expr):
    """The translation of handle value expr of parameter p: a datatype or an op is most often a
    predefined one, whose Open MPI handle the executable copied (layer.h pml_v2r_pre)."""
    fn = 'pml_v2r_pre' if p.kind in ('PML_TYPE', 'PML_OP') else 'pml_v2r'
    return '(%s)%s(PML_H(%s))' % (p.base, fn, expr)


# The null handle a library's free of each kind gives back ([free] handles but communicators)
FREE_NULL = {'MPI_Errhandler': 'MPI_ERRHANDLER_NULL', 'MPI_Group': 'MPI_GROUP_NULL',
             'MPI_Datatype': 'MPI_DATATYPE_NULL', 'MPI_Info': 'MPI_INFO_NULL', 'MPI_Op': 'MPI_OP_NULL'}


def translate(f, fid):
    """pre, args, post, rec lists for the plain handle translation of f."""
    pre, post, args, rec = [], [], [], []
    has_new_req = any(p.ann == 'new' and p.kind == 'PML_REQ' for p in f.params)
    aux = []  # arrays that must live as long as a nonblocking request
    for p in f.params:
        n = p.name
        if p.name == '...':
            continue
        if p.is_handle_value:
            args.append(v2r(p, n))
            rec.append('pml_rec_handle(R, PML_H(%s));' % n)
        elif p.ann == 'new' and p.kind == 'PML_REQ':
            pre.append('%s r_%s = (%s)0;' % (p.base, n, p.base))
            args.append('&r_' + n)
            if 'pcoll' in f.flags:
                # a persistent collective: inactive in the table, its creation recorded (pcoll.c)
                post.append('if (rc == MPI_SUCCESS) *%s = (%s)pml_rq_wrap_pcoll(PML_H(r_%s), PML_H(%s));'
                            % (n, p.base, n, f.fargs.get('pcoll') or 'comm'))
                rec.append('pml_rec_out(R, PML_H(*%s));' % n)
            elif 'fnbc' in f.flags or 'ireq' in f.flags:
                post.append('if (rc == MPI_SUCCESS) *%s = (%s)pml_rq_wrap(PML_RQ_OTHER, PML_H(r_%s), 0);'
                            % (n, p.base, n))
            elif 'nbc' not in f.flags:
                sys.exit('gen_mpi: %s: a new request needs a call class (@nbc, @isend, @irecv, @pinit, @fnbc, @ireq)' % f.name)
            else:
                post.append('if (rc == MPI_SUCCESS) *%s = (%s)pml_rq_wrap(PML_RQ_NBC, PML_H(r_%s), PML_H(%s));'
                            % (n, p.base, n, f.fargs.get('nbc') or 'comm'))
        elif p.ann in ('new', 'get'):
            pre.append('%s r_%s = (%s)0;' % (p.base, n, p.base))
            args.append('&r_' + n)
            if p.ann == 'get' and 'create' in f.flags:
                # recorded by the one thread that claims it (vhandle.c get_ref)
                pre.append('int claim_%s = 0;' % n)
                post.append('if (rc == MPI_SUCCESS) *%s = (%s)pml_get_claim(%s, PML_H(r_%s), &claim_%s);'
                            % (n, p.base, p.kind, n, n))
            else:
                fn = 'pml_new' if p.ann == 'new' else 'pml_get'
                post.append('if (rc == MPI_SUCCESS) *%s = (%s)%s(%s, PML_H(r_%s));' % (n, p.base, fn, p.kind, n))
            if p.ann == 'new' or 'create' in f.flags:
                rec.append('pml_rec_out(R, PML_H(*%s));' % n)
        elif p.ann == 'free':
            pre.append('uintptr_t v_%s = PML_H(*%s);' % (n, n))
            pre.append('%s r_%s = (%s)pml_v2r(v_%s);' % (p.base, n, p.base, n))
            if 'cfree' not in f.flags:
                # a reference of the program's the fresh library does not count since a restart
                # (vhandle.c pml_vh_unbacked_take): released by the layer alone (gen_plain skips
                # the call), the program given the null handle the library's free gives
                if p.base not in FREE_NULL:
                    sys.exit('gen_mpi: %s: no null handle known for %s' % (f.name, p.base))
                pre.append('int u_%s = pml_vh_unbacked_take(v_%s);' % (n, n))
                pre.append('if (u_%s) r_%s = (%s)pml_v2r(PML_H(%s));' % (n, n, p.base, FREE_NULL[p.base]))
            args.append('&r_' + n)
            post.append('if (rc == MPI_SUCCESS) { pml_vh_release(v_%s); *%s = (%s)pml_r2v_predef(PML_H(r_%s)); }'
                        % (n, n, p.base, n))
            rec.append('pml_rec_handle(R, v_%s);' % n)
        elif p.ann == 'ptr':
            pre.append('uintptr_t v_%s = PML_H(*%s);' % (n, n))
            pre.append('%s r_%s = (%s)pml_v2r(v_%s);' % (p.base, n, p.base, n))
            args.append('&r_' + n)
            post.append('pml_vh_update(v_%s, PML_H(r_%s));' % (n, n))
            rec.append('pml_rec_handle(R, v_%s);' % n)
        elif p.ann == 'inout' and not p.arg:
            pre.append('uintptr_t v_%s = PML_H(*%s);' % (n, n))
            pre.append('%s r_%s = (%s)pml_v2r(v_%s);' % (p.base, n, p.base, n))
            args.append('&r_' + n)
            post.append('if (PML_H(r_%s) != pml_v2r(v_%s)) *%s = (%s)pml_req_done(v_%s, PML_H(r_%s));'
                        % (n, n, n, p.base, n, n))
        elif p.ann in ('inout', 'in') and p.arg:
            cnt = p.arg
            pre.append('int c_%s = (%s);' % (n, cnt))
            if p.ann == 'in' and has_new_req:
                pre.append('%s *r_%s = pml_tmp_heap(c_%s, sizeof(%s));' % (p.base, n, n, p.base))
                aux.append('r_' + n)
            else:
                pre.append('%s s_%s[PML_STACK_HANDLES];' % (p.base, n))
                pre.append('%s *r_%s = c_%s <= PML_STACK_HANDLES ? s_%s : pml_tmp_heap(c_%s, sizeof(%s));'
                           % (p.base, n, n, n, n, p.base))
            pre.append('if (%s) for (int i = 0; i < c_%s; i++) r_%s[i] = (%s)pml_v2r(PML_H(%s[i]));'
                       % (n, n, n, p.base, n))
            args.append('%s ? r_%s : NULL' % (n, n))
            if p.ann == 'inout':
                post.append('if (%s) for (int i = 0; i < c_%s; i++) if (PML_H(r_%s[i]) != pml_v2r(PML_H(%s[i]))) '
                            '%s[i] = (%s)pml_req_done(PML_H(%s[i]), PML_H(r_%s[i]));'
                            % (n, n, n, n, n, p.base, n, n))
            if p.ann == 'in' and not has_new_req:
                post.append('if (r_%s != s_%s) free(r_%s);' % (n, n, n))
            rec.append('pml_rec_handles(R, %s, c_%s, sizeof *%s);' % (n, n, n))
        elif p.ann == 'kv':
            args.append('pml_kv_v2r(%s)' % n)
            rec.append('pml_rec_handle(R, (uintptr_t)(unsigned)%s);' % n)
        elif p.ann == 'kvfree':
            pre.append('int v_%s = *%s, r_%s = pml_kv_v2r(*%s);' % (n, n, n, n))
            args.append('&r_' + n)
            post.append('if (rc == MPI_SUCCESS) { pml_kv_release(v_%s); *%s = r_%s; }' % (n, n, n))
            rec.append('pml_rec_handle(R, (uintptr_t)(unsigned)v_%s);' % n)
        elif p.ann == 'opfn':
            args.append('pml_op_tramp(%s)' % n)
            rec.append('pml_rec_ptr(R, (const void *)%s);' % n)
        elif p.ann == 'ehfn':
            args.append('pml_eh_tramp_%s(%s)' % (p.arg, n))
            rec.append('pml_rec_ptr(R, (const void *)%s);' % n)
        elif p.ann == 'weights':
            args.append('%spml_weights(%s)' % ('' if p.const else '(int *)', n))
            if p.arg != '0':
                rec.append('pml_rec_weights(R, %s, %s);' % (n, p.arg))
        elif p.ann == 'len':
            args.append(n)
            rec.append('pml_rec_array(R, %s, (size_t)(%s) * sizeof *%s);' % (n, p.arg, n))
        elif p.ann is not None:
            sys.exit('gen_mpi: %s: unknown annotation [%s]' % (f.name, p.ann))
        else:
            args.append(n)
            if p.ptr == 0 and not p.array and p.base in SCALARS:
                rec.append('pml_rec_scalar(R, &%s, sizeof %s);' % (n, n))
            elif p.base == 'char' and p.const:
                rec.append('pml_rec_str(R, %s);' % n)
            elif p.ptr == 1 and not p.array and not p.const and p.base in SCALARS:
                rec.append('pml_rec_scalar(R, %s, sizeof *%s);' % (n, n))
            else:
                rec.append('pml_rec_ptr(R, (const void *)%s);' % n)
    if aux:
        # the arrays are freed with the request they belong to
        reqp = [p for p in f.params if p.ann == 'new' and p.kind == 'PML_REQ'][0]
        post.append('if (rc == MPI_SUCCESS) pml_vh_attach(PML_H(*%s), %s);' % (reqp.name, ', '.join((aux + ['NULL'])[:2])))
        post.append('else { %s }' % ' '.join('free(%s);' % a for a in aux))
    return pre, args, post, rec


def param(f, name):
    for p in f.params:
        if p.name == name:
            return p
    sys.exit('gen_mpi: %s: no parameter %s' % (f.name, name))


def not_ready(f, name=None):
    return ('    if (__builtin_expect(pml_L.%s == NULL, 0)) %spml_not_ready("%s");'
            % (name or f.name, '' if f.ret == 'void' else 'return (%s)' % f.ret, f.name))


def gen_p2p_core(f, fid):
    """The core of a nonblocking send or receive (no gate): the call into the lower half and its
    request-table entry, for the entry point and for the blocking form."""
    if f.params[-1].kind != 'PML_REQ':
        sys.exit('gen_mpi: %s: the request must be the last parameter' % f.name)
    ps = f.params[:-1]
    byname = dict((p.name, p) for p in ps)
    for need in ('buf', 'count', 'datatype', 'tag', 'comm'):
        if need not in byname:
            sys.exit('gen_mpi: %s: a point-to-point call needs a parameter %s' % (f.name, need))
    args = []
    for p in ps:
        args.append(v2r(p, p.name) if p.is_handle_value else p.name)
    if 'isend' in f.flags:
        kind, mode, peer, active = 'PML_RQ_SEND', MODES[f.fargs['isend']], 'dest', 1
    elif 'irecv' in f.flags:
        kind, mode, peer, active = 'PML_RQ_RECV', 'PML_MODE_STD', 'source', 1
    else:
        what, _, mode = f.fargs['pinit'].partition(':')
        kind = 'PML_RQ_SEND' if what == 'send' else 'PML_RQ_RECV'
        mode, peer, active = MODES[mode or 'std'], 'dest' if what == 'send' else 'source', 0
    out = ['int pml_core_%s(%s, struct pml_req *rq_)' % (f.name, ', '.join(p.decl for p in ps)), '{']
    if 'irecv' in f.flags:
        out.append('    if (__builtin_expect(pml_dbuf_n != 0, 0) && pml_dbuf_irecv(rq_, buf, count, '
                   'PML_H(datatype), source, tag, PML_H(comm)))')
        out.append('        return MPI_SUCCESS;')
    if byname['count'].base == 'MPI_Count':
        # the request table and the drain buffer count elements in an int
        out.append('    if (__builtin_expect(count > INT_MAX, 0))')
        out.append('        pml_fatal("%s with more than INT_MAX elements is not supported under Revive", "%s");'
                   % ('%s', f.name))
    out.append('    MPI_Request r_ = MPI_REQUEST_NULL;')
    out.append('    int rc = pml_L.%s(%s, &r_);' % (f.name, ', '.join(args)))
    out.append('    if (rc == MPI_SUCCESS)')
    out.append('        pml_rq_posted(rq_, PML_H(r_), %s, %s, %s, (void *)buf, count, PML_H(datatype), %s, tag, '
               'PML_H(comm));' % (active and '1' or '0', kind, mode, peer))
    out.append('    return rc;')
    out.append('}')
    # the entry point
    out.append(f.proto() + '\n{')
    out.append(not_ready(f))
    out.append('    PML_GATE_ENTER(PML_FID_%s);' % f.name)
    out.append('    uintptr_t v_;')
    out.append('    struct pml_req *rq_ = pml_rq_new(&v_);')
    out.append('    int rc = pml_core_%s(%s, rq_);' % (f.name, ', '.join(p.name for p in ps)))
    out.append('    if (rc == MPI_SUCCESS)')
    out.append('        *%s = (MPI_Request)v_;' % f.params[-1].name)
    out.append('    else')
    out.append('        pml_rq_drop(rq_);')
    out.append('    PML_GATE_LEAVE();')
    out.append('    return rc;')
    out.append('}')
    return out


def gen_blocking(f, fid, funcs):
    """A blocking send or receive: the core of its nonblocking form, then the wait loop."""
    nb = funcs.get(f.fargs['block'])
    if not nb or not ('isend' in nb.flags or 'irecv' in nb.flags):
        sys.exit('gen_mpi: %s: @block names %s, which is not an @isend/@irecv call' % (f.name, f.fargs['block']))
    names = [p.name for p in nb.params[:-1]]
    mine = [p.name for p in f.params]
    for n in names:
        if n not in mine:
            sys.exit('gen_mpi: %s: parameter %s of %s is missing' % (f.name, n, nb.name))
    st = 'status' if 'status' in mine else 'MPI_STATUS_IGNORE'
    peer = 'dest' if 'isend' in nb.flags else 'source'
    out = [f.proto() + '\n{', not_ready(f, nb.name)]
    out.append('    PML_GATE_ENTER(PML_FID_%s);' % f.name)
    out.append('    int rc;')
    direct = ', '.join(v2r(p, p.name) if p.is_handle_value else p.name
                       for p in f.params)
    if peer == 'dest':
        # The library's own blocking send where it cannot wait for a receive that a checkpoint
        # holds back (it waits at most for buffer space, which the receiver's drain frees):
        # to MPI_PROC_NULL; to itself with Open MPI (PML_SELF_DIRECT: its blocking send to
        # itself is buffered where the nonblocking one waits for the receive; MPICH's waits for
        # the receive either way, and another thread of the rank may post it: Revive's wait
        # loop, or that thread parked at the gate would keep the checkpoint waiting); a small
        # message of a predefined type to another rank (eager in every transport; Open MPI's
        # blocking send of it skips the request a nonblocking one needs); a buffered send
        # (copied into the attached buffer). A synchronous send always waits for its receive:
        # Revive's wait loop.
        mode = nb.fargs['isend']
        if mode in ('std', 'ready'):
            cond = ('dest == MPI_PROC_NULL || (pml_to_self(PML_H(comm), dest) ? PML_SELF_DIRECT : '
                    '(count <= PML_DIRECT_SEND_MAX && pml_type_predef(PML_H(datatype))))')
        elif mode == 'buf':
            cond = '1'
        else:
            cond = 'dest == MPI_PROC_NULL'
        out.append('    if (%s) {' % cond)
        out.append('        rc = pml_L.%s(%s);' % (f.name, direct))
        out.append('        if (rc == MPI_SUCCESS) {')
        out.append('            struct pml_comm *c_ = pml_comm_of(PML_H(comm));')
        out.append('            pml_count_send(c_, dest, 1);')
        out.append('            pml_sync_later(c_, dest, tag); /* owed.c */')
        out.append('        }')
    else:
        out.append('    if (__builtin_expect(source == MPI_PROC_NULL, 0)) {')
        out.append('        /* completes at once, with the status the library gives a blocking call */')
        out.append('        rc = pml_L.%s(%s);' % (f.name, direct))
    out.append('    } else {')
    out.append('        struct pml_req rq_;')
    out.append('        rq_.v = 0; /* the call\'s own request: no handle */')
    out.append('        rc = pml_core_%s(%s, &rq_);' % (nb.name, ', '.join(names)))
    out.append('        if (rc == MPI_SUCCESS)')
    out.append('            rc = %s(&rq_, %s, t_, PML_FID_%s);' % ('pml_rq_wait' if peer == 'dest' else 'pml_rq_wait_recv', st, f.name))
    out.append('    }')
    out.append('    PML_GATE_LEAVE();')
    out.append('    return rc;')
    out.append('}')
    return out


# The one-sided calls made in every epoch, often several times (an operation and its flush): each
# is a handle translation and the library's call, and what the layer adds to it is measured per
# call (bench/mpi/README.md, tests/mpi/rma_hotpath.py). They get a front (gen_fast): the gate's
# fast case only, and the whole entry point, as generated for any call, behind it for everything
# else (a thread's first call, a snapshot under way). The front keeps nothing but the slot and its
# word across the library's call: the entry point with its slow paths inline kept every argument
# in a callee-saved register across them, six pushes and six pops a call on Open MPI.
FAST = ('MPI_Put', 'MPI_Get', 'MPI_Accumulate', 'MPI_Get_accumulate', 'MPI_Fetch_and_op',
        'MPI_Compare_and_swap', 'MPI_Win_flush', 'MPI_Win_flush_all', 'MPI_Win_flush_local',
        'MPI_Win_flush_local_all', 'MPI_Win_sync')


def gen_fast(f, fid, funcs):
    """The front of a FAST call and, behind it, the whole entry point as pml_full_NAME."""
    pre, args, post, rec = translate(f, fid)
    # a creation record (rec, written by gen_plain only for @create) would be dropped by the
    # front's direct call, so @create is refused by name, whatever the flags rule below allows
    # one day (diffrev29 R-L1)
    if 'create' in f.flags or any(p.ann == 'new' for p in f.params):
        sys.exit('gen_mpi: %s: a fast front cannot keep a creation record (@create or a [new] handle)' % f.name)
    if pre or post or f.flags - {'mpi4'} or f.ret != 'int':
        sys.exit('gen_mpi: %s: a fast front is only for a plain translation and call' % f.name)
    full = gen_plain(f, fid, funcs)
    full[0] = 'static __attribute__((noinline)) ' + f.proto('pml_full_' + f.name) + '\n{'
    slow = 'pml_full_%s(%s)' % (f.name, ', '.join(p.name for p in f.params))
    # handles by their quick translations only (layer.h pml_v2r_quick): a handle that needs the
    # general one goes the whole way, and no probe loop's registers are kept in the front
    quick, fargs = [], []
    for p in f.params:
        if p.is_handle_value:
            quick.append('!pml_v2r_quick%s(PML_H(%s), &q_%s)'
                         % ('_pre' if p.kind in ('PML_TYPE', 'PML_OP') else '', p.name, p.name))
            fargs.append('(%s)q_%s' % (p.base, p.name))
        elif p.ann is None:
            fargs.append(p.name)
        else:
            sys.exit('gen_mpi: %s: %s [%s] in a fast front' % (f.name, p.name, p.ann))
    out = full + ['', f.proto() + '\n{', not_ready(f),
                  '    PML_FAST_ENTER(PML_FID_%s, %s);' % (f.name, slow)]
    if quick:
        out.append('    uintptr_t %s;' % ', '.join('q_' + p.name for p in f.params if p.is_handle_value))
        # the last first: the window (and the handles passed on the stack) before the datatypes
        # in argument registers, which left gcc fewer free registers (measured: Open MPI's Put)
        out.append('    if (__builtin_expect(%s, 0)) {' % ' || '.join(reversed(quick)))
        out.append('        PML_FAST_BACK();')
        out.append('        return %s;' % slow)
        out.append('    }')
    out += ['    int rc = pml_L.%s(%s);' % (f.name, ', '.join(fargs)),
            '    PML_GATE_LEAVE();',
            '    return rc;',
            '}']
    return out


def gen_entry(f, fid, funcs):
    """C code of one entry point."""
    if 'isend' in f.flags or 'irecv' in f.flags or 'pinit' in f.flags:
        out = gen_p2p_core(f, fid)
    elif 'block' in f.flags:
        out = gen_blocking(f, fid, funcs)
    elif f.name in FAST or f.name[:-2] in FAST and f.name.endswith('_c'):
        out = gen_fast(f, fid, funcs)
    else:
        out = gen_plain(f, fid, funcs)
    out.append('%s __attribute__((alias("pml_own_%s")));' % (f.proto('P' + f.name), f.name))
    return '\n'.join(out)


def idle_form(f, funcs):
    """The nonblocking form of a blocking collective on a communicator (MPI_Allreduce:
    MPI_Iallreduce, the same parameters and a request), or None."""
    if 'coll' not in f.flags or CROSS.get(f.name) or f.ret != 'int':
        return None
    nb = funcs.get('MPI_I' + f.name[4:].lower())
    if not nb or 'nbc' not in nb.flags:
        sys.exit('gen_mpi: %s: @coll without an @nbc form %s' % (f.name, 'MPI_I' + f.name[4:].lower()))
    if [p.name for p in nb.params[:-1]] != [p.name for p in f.params]:
        sys.exit('gen_mpi: %s: the parameters of %s differ' % (f.name, nb.name))
    return nb


# What a creation's record entry keeps besides its arguments: what the library chose at the call
# and the program may rely on, read from the object made (its real handle r_NAME).
#   MPI_Dist_graph_create: the neighbour lists and weights in the library's order (topo.c)
REC_EXTRA = {
    'MPI_Dist_graph_create': 'pml_rec_dist_graph(R, PML_H(r_comm_dist_graph));',
}


def gen_plain(f, fid, funcs):
    pre, args, post, rec = translate(f, fid)
    out = []
    coll = None
    if 'coll' in f.flags or 'nbc' in f.flags or 'pcoll' in f.flags or 'ccreate' in f.flags:
        comm = f.fargs.get('coll') or f.fargs.get('nbc') or f.fargs.get('pcoll') or f.fargs.get('ccreate') or 'comm'
        if comm == '-':
            comm = 'MPI_COMM_NULL'  # collective over a group: in_cs, counted on no communicator
        else:
            p = param(f, comm)
            if p.base != 'MPI_Comm' or not p.is_handle_value:
                sys.exit('gen_mpi: %s: %s is not a communicator' % (f.name, comm))
        coll = ('PML_COLL_ENTER', comm, 0 if 'nbc' in f.flags or 'pcoll' in f.flags else 1)
    elif 'fcoll' in f.flags or 'fnbc' in f.flags or 'wcoll' in f.flags:
        what = 'win' if 'wcoll' in f.flags else 'file'
        obj = f.fargs.get('fcoll') or f.fargs.get('fnbc') or f.fargs.get('wcoll') or ('win' if what == 'win' else 'fh')
        p = param(f, obj)
        if p.base != ('MPI_Win' if what == 'win' else 'MPI_File') or not p.is_handle_value:
            sys.exit('gen_mpi: %s: %s is not a %s' % (f.name, obj, what))
        coll = ('PML_COLL_ENTER_C', 'pml_%s_clock(PML_H(%s))' % (what, obj), 0 if 'fnbc' in f.flags else 1)
    out.append(f.proto() + '\n{')
    out.append(not_ready(f))
    cross = CROSS.get(f.name)
    if cross:
        # also counted on the clocks of the pairs of ranks it links (cross.c)
        out.append('    struct pml_comm **xs_ = NULL;')
        out.append('    int nx_ = %s;' % cross)
        out.append('    PML_COLL_ENTER_X(PML_FID_%s, %s, %d, xs_, nx_);' % (f.name, coll[1], coll[2]))
    elif coll:
        out.append('    %s(PML_FID_%s, %s, %d);' % (coll[0], f.name, coll[1], coll[2]))
    else:
        out.append('    PML_GATE_ENTER(PML_FID_%s);' % f.name)
    if 'cfree' in f.flags:
        out.append('    struct pml_comm *cf_ = pml_comm_of(PML_H(*%s));' % f.params[0].name)
        out.append('    uintptr_t cfv_ = PML_H(*%s);' % f.params[0].name)
    for l in pre:
        out.append('    ' + l)
    call = 'pml_L.%s(%s)' % (f.name, ', '.join(args))
    frees = [p for p in f.params if p.ann == 'free']
    if frees and 'cfree' not in f.flags:
        # a free the layer alone makes (translate: u_NAME): not the library's
        call = '(u_%s ? MPI_SUCCESS : %s)' % (frees[0].name, call)
    if coll and coll[2] and f.ret == 'int':
        # a blocking collective or creation waits inside the library for the other members
        # (MPI_Intercomm_create, MPI_Comm_split...): with REVIVE_MPI_YIELD_WHEN_IDLE its empty
        # progress turns are idle ones (ckpt.h, PML_LIB_WAIT), as in win.c's epochs
        call = 'PML_LIB_WAIT(t_, %s)' % call
    nb = idle_form(f, funcs)
    if nb:
        # REVIVE_MPI_YIELD_WHEN_IDLE: the nonblocking form, completed by a wait that does not
        # spin (idle.c); the request is the layer's own, never the application's
        out.append('    int rc;')
        out.append('    if (pml_idle_on && pml_L.%s) {' % nb.name)
        out.append('        MPI_Request q_;')
        out.append('        rc = pml_L.%s(%s, &q_);' % (nb.name, ', '.join(args)))
        out.append('        if (rc == MPI_SUCCESS)')
        out.append('            rc = pml_idle_complete(&q_, t_);')
        out.append('    } else {')
        out.append('        rc = %s;' % call)
        out.append('    }')
    elif f.ret == 'int':
        out.append('    int rc = %s;' % call)
    else:
        out.append('    %s rv = %s;' % (f.ret, call))
    for l in post:
        out.append('    ' + l)
    if 'ccreate' in f.flags:
        newp = [p for p in f.params if p.ann == 'new' and p.kind == 'PML_COMM']
        if len(newp) != 1:
            sys.exit('gen_mpi: %s: @ccreate needs one new communicator' % f.name)
        out.append('    if (rc == MPI_SUCCESS)')
        out.append('        pml_comm_created(PML_H(*%s), PML_FID_%s);' % (newp[0].name, f.name))
    if 'cfree' in f.flags:
        out.append('    if (rc == MPI_SUCCESS)')
        out.append('        pml_comm_freed(cf_);')
        # its shared windows' meeting place: freed now or with its last window (win_ckpt.c)
        out.append('    if (rc == MPI_SUCCESS)')
        out.append('        pml_win_meet_comm_freed(cfv_);')
    if 'seteh' in f.flags:
        out.append('    if (rc == MPI_SUCCESS)')
        out.append('        pml_comm_eh_changed(PML_H(%s));' % f.params[0].name)
    if 'fileeh' in f.flags:
        out.append('    if (rc == MPI_SUCCESS)')
        out.append('        pml_file_eh_set(PML_H(%s), PML_H(%s));' % (f.params[0].name, f.params[1].name))
    extra = REC_EXTRA.get(f.name)
    if extra:
        # recorded before the handle made (the replay reads it before it makes the object)
        if not rec or not rec[-1].startswith('pml_rec_out('):
            sys.exit('gen_mpi: %s: REC_EXTRA needs the handle made last' % f.name)
        rec.insert(len(rec) - 1, extra)
    if 'create' in f.flags and f.ret == 'int':
        gets = [p for p in f.params if p.ann == 'get']
        if gets:
            # a handle the call returns that the program did not have yet (MPI_Comm_get_errhandler
            # after the program freed its own handle): recorded, so that a restart gets it again;
            # by the thread that claimed it (pml_get_claim)
            if len(gets) != 1:
                sys.exit('gen_mpi: %s: @create with more than one [get] handle' % f.name)
            out.append('    if (rc == MPI_SUCCESS && claim_%s) {' % gets[0].name)
        else:
            out.append('    if (rc == MPI_SUCCESS) {')
        out.append('        struct pml_rec *R = pml_rec_open(%d);' % fid)
        for l in rec:
            out.append('        ' + l)
        out.append('        pml_rec_close(R);')
        out.append('    }')
    if coll:
        out.append('    PML_COLL_LEAVE(%d);' % coll[2])
        if cross:
            out.append('    free(xs_);')
    else:
        out.append('    PML_GATE_LEAVE();')
    out.append('    return %s;' % ('rc' if f.ret == 'int' else 'rv'))
    out.append('}')
    return out


def check_classes(funcs):
    """Every call that can move a message, take part in a collective or complete a request has a
    class, so none escapes the counting or the wait loops."""
    for f in funcs:
        if 'extra' in f.flags:
            continue
        unknown = [x for x in f.flags if x not in CLASSES + ('create', 'destroy', 'hand', 'extra', 'mpi4')]
        if unknown:
            sys.exit('gen_mpi: %s: unknown flag @%s' % (f.name, unknown[0]))
        has_class = any(x in f.flags for x in CLASSES)
        reqs = [p for p in f.params if p.kind == 'PML_REQ']
        if reqs and not has_class:
            sys.exit('gen_mpi: %s takes a request but has no call class' % f.name)
        if ('wait' in f.flags or 'probe' in f.flags) and 'hand' not in f.flags:
            sys.exit('gen_mpi: %s: @wait/@probe calls are written by hand (add @hand)' % f.name)


def write_entries(funcs, path, table):
    funcs = [f for f in funcs if 'extra' not in f.flags]
    check_classes(funcs)
    byname = dict((f.name, f) for f in funcs)
    with open(table, 'w') as t:
        t.write('/* Generated by gen_mpi.py from mpi_iface.def: do not edit. */\n')
        t.write('#ifndef PML_TABLE_H\n#define PML_TABLE_H\n')
        t.write('#define PML_NFUNCS %d\n' % len(funcs))
        for i, f in enumerate(funcs):
            t.write('#define PML_FID_%s %d\n' % (f.name, i))
        t.write('struct pml_lower_fns {\n')
        for f in funcs:
            if 'mpi4' in f.flags:
                t.write('#if MPI_VERSION >= 4\n    __typeof__(%s) *%s;\n#else\n    void *%s;\n#endif\n'
                        % (f.name, f.name, f.name))
            else:
                t.write('    __typeof__(%s) *%s;\n' % (f.name, f.name))
        t.write('};\n')
        # A PMPI tool (tools.c): the layer's own definition of each function is pml_own_NAME
        # (every file of the layer includes this header before it defines or calls one), PMPI_NAME
        # its alias; the exported NAME is a trampoline through pml_fwd[PML_FID_NAME], the tool's
        # NAME when one is found after the layer, else the layer's own.
        t.write('#pragma GCC diagnostic push\n#pragma GCC diagnostic ignored "-Wredundant-decls"\n')
        for f in funcs:
            d = '__typeof__(%s) %s __asm__("pml_own_%s");\n' % (f.name, f.name, f.name)
            t.write('#if MPI_VERSION >= 4\n%s#endif\n' % d if 'mpi4' in f.flags else d)
        t.write('#pragma GCC diagnostic pop\n')
        t.write('extern void *pml_fwd[PML_NFUNCS] __attribute__((visibility("hidden")));\n')
        t.write('/* the cores of the nonblocking sends and receives (the blocking forms reuse them) */\n')
        t.write('struct pml_req;\n')
        for f in funcs:
            if set(('isend', 'irecv', 'pinit')) & f.flags:
                proto = 'int pml_core_%s(%s, struct pml_req *rq_);\n' % (f.name, ', '.join(p.decl for p in f.params[:-1]))
                t.write('#if MPI_VERSION >= 4\n%s#endif\n' % proto if 'mpi4' in f.flags else proto)
        t.write('#endif\n')
        t.write('#if defined(PML_WANT_NAMES) && !defined(PML_TABLE_NAMES)\n#define PML_TABLE_NAMES\nstatic const char *const pml_fn_names[PML_NFUNCS] = {\n')
        for f in funcs:
            t.write('    "%s",\n' % f.name)
        t.write('};\n#endif\n')
    with open(path, 'w') as o:
        o.write('/* Generated by gen_mpi.py from mpi_iface.def: do not edit. */\n')
        o.write('#include "pml_hooks/objs.h"\n\n#include <limits.h>\n\n')
        o.write('/* gcc cannot see that a stack array is filled whenever the pointer to it is passed */\n'
                '#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"\n\n')
        # cores first: blocking forms call them
        order = sorted(range(len(funcs)), key=lambda i: 0 if set(('isend', 'irecv', 'pinit')) & funcs[i].flags else 1)
        for i in order:
            f = funcs[i]
            if 'hand' in f.flags:
                continue
            if 'mpi4' in f.flags:
                o.write('#if MPI_VERSION >= 4\n' + gen_entry(f, i, byname) + '\n#endif\n\n')
            else:
                o.write(gen_entry(f, i, byname) + '\n\n')
        write_trampolines(funcs, o)


def write_trampolines(funcs, o):
    """The exported MPI_NAME of every function of the table: a jump through pml_fwd (tools.c),
    whose slot starts as the layer's own pml_own_MPI_NAME. An indirect jump, not a call: every
    register, the stack and the return address stay the caller's (varargs, callname.c)."""
    o.write('/* ---- the exported names: trampolines through pml_fwd (tools.c) ---- */\n')
    o.write('void *pml_fwd[PML_NFUNCS] __attribute__((visibility("hidden"))) = {\n')
    for f in funcs:
        e = '    [PML_FID_%s] = (void *)%s,\n' % (f.name, f.name)
        o.write('#if MPI_VERSION >= 4\n%s#endif\n' % e if 'mpi4' in f.flags else e)
    o.write('};\n\n')
    for i, f in enumerate(funcs):
        a = ('__asm__(".hidden pml_own_{n}\\n"\n'
             '        ".text\\n.globl {n}\\n.type {n}, @function\\n.p2align 4\\n{n}:\\n"\n'
             '        ".cfi_startproc\\n    endbr64\\n    jmp *pml_fwd+{off}(%rip)\\n.cfi_endproc\\n"\n'
             '        ".size {n}, .-{n}\\n");\n').format(n=f.name, off=8 * i)
        o.write('#if MPI_VERSION >= 4\n%s#endif\n' % a if 'mpi4' in f.flags else a)


# ---- the replay of the creation record (replay.c runs it) -------------------------------------
# Each @create call gets rp_NAME(P), which reads the entry's items in the order gen_entry wrote
# them (one per parameter, see translate/gen_entry) and calls the lower half: handles recorded
# as the application's virtual ones come back as the fresh lower half's real ones (pml_rp_h),
# handles the call made are handed to pml_rp_o, scalars the call returned are compared with the
# recorded ones. Calls whose effect a restart restores another way are not replayed:
REPLAY_SKIP = {
    # attribute values are saved at the checkpoint and set again after the replay (replay.c),
    # so no copy or delete callback of the application runs twice
    'MPI_Comm_set_attr', 'MPI_Comm_delete_attr', 'MPI_Type_set_attr', 'MPI_Type_delete_attr',
    'MPI_Win_set_attr', 'MPI_Win_delete_attr',
    # files are opened again and set up as they were by objs_restart.c (after the replay);
    # windows are made again in their place in the record by win_ckpt.c's replay functions
    'MPI_File_open',
}
# Calls replayed by a function written by hand (topo.c: MPI_Dist_graph_create, made again with
# the adjacent form from the neighbour lists recorded at the call; replay.c: MPI_File_get_group,
# the group of the file's communicator, as the file is opened again only after the replay)
REPLAY_HAND = {'MPI_Dist_graph_create', 'MPI_File_get_group'}
# Output pointers the record keeps as plain pointer values: the replay gives the lower half a
# scratch variable instead of the application's (long gone) address.
REPLAY_SCRATCH = {('MPI_Buffer_detach', 'buffer_addr'), ('MPI_Buffer_detach_c', 'buffer_addr')}


def gen_replay_fn(f):
    """rp_NAME: reads the items strictly in parameter order into locals, then calls."""
    lines = ['static int rp_%s(struct pml_rp *P)' % f.name, '{']
    args, post, frees = [], [], []
    reorder = None
    for p in f.params:
        n = p.name
        if n == '...':
            continue
        a = 'a_' + n
        if p.is_handle_value:
            lines.append('    %s %s = (%s)pml_rp_h(P);' % (p.base, a, p.base))
            args.append(a)
        elif p.ann in ('new', 'get'):
            lines.append('    %s %s = (%s)0;' % (p.base, a, p.base))
            args.append('&' + a)
            if p.ann == 'new' or 'create' in f.flags:
                post.append('pml_rp_o(P, %s, PML_H(%s));' % (p.kind, a))
                if p.kind == 'PML_REQ' and 'pcoll' not in f.flags:
                    post.insert(0, 'if (rc == MPI_SUCCESS) rc = pml_rp_wait(P, PML_H(%s));' % a)
        elif p.ann in ('free', 'ptr'):
            lines.append('    %s %s = (%s)pml_rp_h(P);' % (p.base, a, p.base))
            args.append('&' + a)
            if p.ann == 'ptr':
                post.append('pml_rp_changed(P, PML_H(%s));' % a)
        elif p.ann == 'inout' and not p.arg:
            lines.append('    %s %s = (%s)0;' % (p.base, a, p.base))
            args.append('&' + a)
        elif p.ann in ('inout', 'in') and p.arg:
            lines.append('    %s *%s = pml_rp_hs(P, sizeof(%s));' % (p.base, a, p.base))
            args.append(a)
            frees.append('free(%s);' % a)
        elif p.ann == 'kv':
            lines.append('    int %s = (int)pml_rp_h(P);' % a)
            args.append(a)
        elif p.ann == 'opfn':
            lines.append('    MPI_User_function *%s = pml_op_tramp((MPI_User_function *)pml_rp_p(P));' % a)
            args.append(a)
        elif p.ann == 'ehfn':
            t = 'MPI_%s_errhandler_function' % p.arg.capitalize()
            lines.append('    %s *%s = pml_eh_tramp_%s((%s *)pml_rp_p(P));' % (t, a, p.arg, t))
            args.append(a)
        elif p.ann == 'weights':
            if p.arg == '0':
                args.append('NULL')
            else:
                lines.append('    %sint *%s = pml_rp_w(P);' % ('const ' if p.const else '', a))
                args.append(a)
        elif p.ann == 'len':
            lines.append('    void *%s = pml_rp_a(P);' % a)
            args.append(a)
        elif p.ann is not None:
            sys.exit('gen_mpi: %s: no replay for [%s]' % (f.name, p.ann))
        elif (f.name, n) in REPLAY_SCRATCH:
            if p.ptr != 1 or p.base != 'void':
                sys.exit('gen_mpi: %s: scratch output %s must be void *' % (f.name, n))
            lines.append('    void *%s = NULL;' % a)
            lines.append('    pml_rp_p(P);')
            args.append('&' + a)
        elif p.ptr == 0 and not p.array and p.base in SCALARS:
            lines.append('    %s %s;' % (p.base, a))
            lines.append('    pml_rp_i(P, &%s, sizeof %s);' % (a, a))
            args.append(a)
            if n == 'reorder':
                reorder = a
        elif p.base == 'char' and p.const:
            lines.append('    const char *%s = pml_rp_s(P);' % a)
            args.append(a)
        elif p.ptr == 1 and not p.array and not p.const and p.base in SCALARS:
            lines.append('    %s %s = 0;' % (p.base, a))
            args.append('&' + a)
            post.append('pml_rp_iout(P, &%s, sizeof %s, "%s");' % (a, a, n))
        else:
            lines.append('    void *%s = (void *)pml_rp_p(P);' % a)
            args.append(a)
    call = 'pml_L.%s(%s)' % (f.name, ', '.join(args))
    lines.append('    int rc = pml_rp_failed(P) ? MPI_ERR_OTHER : %s;' % call)
    if reorder:
        # a topology made with reorder gets its saved rank map back (replay.c: reorder_check)
        outs = [p for p in f.params if p.ann == 'new']
        old = [p for p in f.params if p.is_handle_value and p.kind == 'PML_COMM'][0]
        o = 'a_' + outs[0].name
        lines.append('    if (rc == MPI_SUCCESS && %s) {' % reorder)
        lines.append('        MPI_Comm split_ = (MPI_Comm)0;')
        lines.append('        if (pml_rp_reorder(P, PML_H(a_%s), PML_H(%s), (uintptr_t *)&split_)) {'
                     % (old.name, o))
        lines.append('            %s = 0;' % reorder)
        lines.append('            a_%s = split_;' % old.name)
        lines.append('            rc = %s;' % call)
        lines.append('            pml_L.MPI_Comm_free(&split_);')
        lines.append('        }')
        lines.append('    }')
    if post:
        lines.append('    if (rc == MPI_SUCCESS) {')
        for l in post:
            lines.append('        ' + l)
        lines.append('    }')
    for l in frees:
        lines.append('    ' + l)
    lines.append('    return rc;')
    lines.append('}')
    return lines


def write_replay(funcs, path):
    funcs = [f for f in funcs if 'extra' not in f.flags]
    with open(path, 'w') as o:
        o.write('/* Generated by gen_mpi.py from mpi_iface.def: do not edit. The replay of each call\n'
                ' * that creates an MPI object or changes its state (@create), for replay.c. */\n')
        o.write('#include "pml_hooks/replay.h"\n\n')
        o.write('#pragma GCC diagnostic ignored "-Wcast-qual"\n\n')
        names = []
        for i, f in enumerate(funcs):
            if 'create' not in f.flags or 'hand' in f.flags or f.name in REPLAY_SKIP or f.name in REPLAY_HAND:
                names.append(None)
                continue
            body = '\n'.join(gen_replay_fn(f)) + '\n'
            o.write(('#if MPI_VERSION >= 4\n%s#endif\n\n' % body) if 'mpi4' in f.flags else body + '\n')
            names.append(f.name)
        o.write('const pml_rp_fn pml_rp_table[PML_NFUNCS] = {\n')
        for i, n in enumerate(names):
            if n:
                e = '    [%d] = rp_%s,\n' % (i, n)
                o.write(('#if MPI_VERSION >= 4\n%s#endif\n' % e) if 'mpi4' in funcs[i].flags else e)
        o.write('};\n')
        # calls that make a communicator: collective over their parent (the first communicator
        # argument), over a group (2), or over two groups through a peer (3)
        o.write('const unsigned char pml_rp_comm[PML_NFUNCS] = {\n')
        for i, f in enumerate(funcs):
            if 'create' not in f.flags or not any(p.ann == 'new' and p.kind == 'PML_COMM' for p in f.params):
                continue
            k = 2 if f.name == 'MPI_Comm_create_group' else 3 if f.name == 'MPI_Intercomm_create' else 1
            if not f.params or f.params[0].kind != 'PML_COMM' or not f.params[0].is_handle_value:
                sys.exit('gen_mpi: %s: a call that makes a communicator must take its parent first' % f.name)
            o.write('    [%d] = %d, /* %s */\n' % (i, k, f.name))
        o.write('};\n')
        o.write('const unsigned char pml_rp_skip[PML_NFUNCS] = {\n')
        for i, f in enumerate(funcs):
            if f.name in REPLAY_SKIP:
                o.write('    [%d] = 1, /* %s */\n' % (i, f.name))
        o.write('};\n')


def header_functions(cpp):
    src = '#include <mpi.h>\n'
    txt = subprocess.run(cpp.split() + ['-E', '-P', '-x', 'c', '-'], input=src, capture_output=True,
                         text=True, check=True).stdout
    txt = re.sub(r'__attribute__\s*\(\((?:[^()]|\([^()]*\))*\)\)', '', txt)
    names = set()
    for s in txt.replace('\n', ' ').split(';'):
        s = s.strip()
        if s.startswith('typedef'):
            continue
        m = re.match(r'^(?:extern\s+)?[\w\s\*]+?\b(P?MPIX?_\w+)\s*\(.*\)\s*$', s)
        if m:
            names.add(m.group(1))
    return names


def lib_functions(lib):
    txt = subprocess.run(['nm', '-D', '--defined-only', lib], capture_output=True, text=True,
                         check=True).stdout
    names = set()
    for line in txt.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in 'TW' and re.match(r'^P?MPIX?_[A-Z][a-z]', parts[2]):
            names.add(parts[2])
    return names


def write_stubs(funcs, path, cpp, lib):
    have = set(f.name for f in funcs) | set('P' + f.name for f in funcs)
    names = header_functions(cpp)
    if lib:
        names |= lib_functions(lib)
    # MPI_Wtime/Wtick style functions and conversions are macros or functions depending on the
    # library; the handle conversions (c2f/f2c) are macros in MPICH and translated nowhere yet.
    missing = sorted(n for n in names if n not in have)
    with open(path, 'w') as o:
        o.write('/* Generated by gen_mpi.py: MPI functions Revive does not support yet. Each stops\n'
                ' * the job with a message naming the call (never a call into the application\'s\n'
                ' * uninitialised copy of the library). Do not edit. */\n')
        o.write('#include "pml_hooks/unsupported.h"\n\n')
        o.write('/* Exported for the application, which calls them by name; nothing in Revive does.\n'
                ' * No mpi.h here: they take no arguments whatever the MPI signature. */\n')
        for n in missing:
            o.write('void %s(void);\n' % n)
        o.write('\n')
        for n in missing:
            # the caller names the call in the message (a Fortran binding: its Fortran name)
            o.write('void %s(void) { pml_unsupported_from("%s", __builtin_return_address(0)); }\n' % (n, n))
        o.write('\nconst int pml_n_unsupported = %d;\n' % len(missing))


def write_datasyms(path, lib):
    txt = subprocess.run(['nm', '-D', '--defined-only', lib], capture_output=True, text=True,
                         check=True).stdout
    names = sorted(set(l.split()[2] for l in txt.splitlines()
                       if len(l.split()) == 3 and l.split()[1] in 'DBR'))
    with open(path, 'w') as o:
        o.write('/* Generated by gen_mpi.py: data symbols of %s, which an executable may have\n'
                ' * copied (copy relocations), so that predefined handles live in the executable. */\n'
                % lib)
        o.write('#define PML_NDATASYMS %d\nstatic const char *const pml_data_syms[] = {\n' % len(names))
        for n in names:
            o.write('    "%s",\n' % n)
        o.write('};\n')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('deffile', nargs='?')
    ap.add_argument('--entries')
    ap.add_argument('--table')
    ap.add_argument('--stubs')
    ap.add_argument('--replay')
    ap.add_argument('--cpp')
    ap.add_argument('--lib')
    ap.add_argument('--datasyms')
    a = ap.parse_args()
    if a.datasyms:
        write_datasyms(a.datasyms, a.lib)
        return
    funcs = parse_def(a.deffile)
    if a.entries:
        write_entries(funcs, a.entries, a.table)
    if a.stubs:
        write_stubs(funcs, a.stubs, a.cpp, a.lib)
    if a.replay:
        write_replay(funcs, a.replay)


if __name__ == '__main__':
    main()
