/* The replay of the creation record after a restart (see replay.h): which entries, in what
 * order, and the item readers the generated per-call functions (pml_replay_gen.c) use.
 *
 * Which handle an entry's argument named is decided by following the record forward, as the
 * program ran: the value of a virtual handle names the object made by the latest entry that
 * produced it (a freed handle's slot is reused for a later object). That gives every entry its
 * inputs' creators, hence the ancestors a live handle needs, and, during the replay, the new
 * real handle for each argument. Objects that were made only as ancestors are freed again at
 * the end; live ones get their virtual handles pointed at the new objects.
 *
 * Communicators are made collectively: every member must replay the call or none, but whether a
 * rank still needs the result is its own business (a member got MPI_COMM_NULL, or freed it while
 * another kept it). So a call that makes a communicator is replayed when its parent exists and
 * any member needs it. Every member names such a call alike (record.c, pml_rec_key: the parent's
 * id and count, or the id of the communicator made); before the replay the ranks exchange the
 * names of the calls each needs (one Allgatherv on the fresh MPI_COMM_WORLD, repeated while the
 * ancestors of what others need add names), and a call is made again exactly when its name is in
 * that union: a communicator freed everywhere, with nothing live made from it, is not made at
 * all, however many the program made. (A call without a name, made on a communicator without a
 * clock, is decided as it is met: the members agree with one Allreduce on its parent, the other
 * inputs being kept ready.)
 *
 * An object made only as an ancestor, or for another member, is freed right after the last
 * entry that reads it: a program that makes and frees communicators in a loop never has more of
 * them at once, and the fresh MPI's context ids are not exhausted by the replay. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "common/libc_dlsym.h"
#include "pml_hooks/replay.h"
#include "pml_hooks/restart.h" /* pml_lower_world */
#include "pml_hooks/ckpt.h"    /* pml_xchgv */
#include "pml_hooks/topo.h"    /* pml_rp_topo_fn */
#include "pml_hooks/objs_ckpt.h" /* pml_objs_file_comm */
#include "common/clock.h"

#define PML_WANT_NAMES
#include "pml_hooks/pml_table.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Predefined objects of the lower half. Open MPI's are the addresses of the library's objects,
 * looked up by name: a reference from the layer would make every program that the layer is
 * preloaded into (sh, started by system()) need libmpi. */
#ifdef PML_OMPI
#include <dlfcn.h>
static uintptr_t lower_obj(const char *name)
{
    return (uintptr_t)revive_dlsym(pml_lower_handle, name);
}
#define LOWER_INT lower_obj("ompi_mpi_int")
#define LOWER_U64 lower_obj("ompi_mpi_uint64_t")
#define LOWER_MAX lower_obj("ompi_mpi_op_max")
#define LOWER_COMM_NULL lower_obj("ompi_mpi_comm_null")
#else
#define LOWER_INT PML_H(MPI_INT)
#define LOWER_U64 PML_H(MPI_UINT64_T)
#define LOWER_MAX PML_H(MPI_MAX)
#define LOWER_COMM_NULL PML_H(MPI_COMM_NULL)
#endif

struct pml_rp {
    const unsigned char *p, *end;
    int32_t entry;
    int fid;
    int failed;
    char *err;
    size_t errlen;
};

/* ---- the entries' outputs and inputs ----------------------------------------------------------- */
struct rp_entry {
    int fid, nout, nin;
    uintptr_t out_v[2], out_real[2];
    int out_kind[2];
    int32_t *in;          /* creators of the handles it reads (-1: predefined) */
    int32_t last;         /* the last entry that may read its outputs (-1: none) */
    unsigned char need;   /* 1: replayed for its own sake; 2: as an ancestor */
    unsigned char done;
    unsigned char live;   /* bit k: output k is a live handle of the program */
    unsigned char keykind;/* PML_REC_KEY_* (a call that makes a communicator) */
    /* MPI_File_open, which objs_restart.c does again after the replay: 1 when the file is open
     * at the snapshot, or a needed entry reads the handle it made (MPI_File_get_group). Its
     * communicator is then made (an ancestor, should the program have freed it: newuser8 F6)
     * and, for an open file, kept past the replay for the file's reopening. */
    unsigned char held;
    uint64_t key[2];
};
static struct rp_entry *E;
static int32_t NE;

/* value of a virtual handle -> the entry that made it, as of the point reached */
static struct { uintptr_t v; int32_t e; } *map;
static uint32_t map_cap;

static uint32_t map_slot(uintptr_t v)
{
    uint64_t k = v * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(k >> 32) & (map_cap - 1);
}

static int map_init(uint32_t n)
{
    free(map);
    for (map_cap = 1024; map_cap < 2 * n + 16; map_cap *= 2)
        ;
    map = calloc(map_cap, sizeof *map);
    return map ? 0 : -ENOMEM;
}

static void map_put(uintptr_t v, int32_t e)
{
    uint32_t s = map_slot(v);
    while (map[s].v && map[s].v != v)
        s = (s + 1) & (map_cap - 1);
    map[s].v = v;
    map[s].e = e;
}

static int32_t map_get(uintptr_t v)
{
    if (!v)
        return -1;
    uint32_t s = map_slot(v);
    while (map[s].v) {
        if (map[s].v == v)
            return map[s].e;
        s = (s + 1) & (map_cap - 1);
    }
    return -1;
}

static int is_keyval_create(int fid)
{
    return pml_keyval_kind(fid) != 0;
}

/* Walks an entry's items: inputs ('h', each element of 'H') and outputs ('o'; the keyval of a
 * keyval creation is its third item, an 'h'). */
static int scan_entry(int32_t i, const unsigned char *b, size_t len, int fid)
{
    struct rp_entry *x = &E[i];
    x->fid = fid;
    int nh = 0, cap = 0;
    int kvc = is_keyval_create(fid);
    for (size_t o = 0; o + 5 <= len;) {
        char tag = (char)b[o];
        uint32_t l;
        memcpy(&l, b + o + 1, 4);
        const unsigned char *d = b + o + 5;
        if (o + 5 + l > len)
            return -EINVAL;
        if (tag == 'o' || (tag == 'h' && kvc && nh == 0)) {
            uintptr_t v;
            memcpy(&v, d, sizeof v);
            if (x->nout < 2)
                x->out_v[x->nout++] = v;
            nh += tag == 'h';
        } else if (tag == 'h' || tag == 'H') {
            size_t n = tag == 'h' ? 1 : l / sizeof(uintptr_t);
            for (size_t k = 0; k < n; k++) {
                uintptr_t v;
                memcpy(&v, d + k * sizeof v, sizeof v);
                if (x->nin == cap) {
                    cap = cap ? cap * 2 : 4;
                    int32_t *in = realloc(x->in, (size_t)cap * sizeof *in);
                    if (!in)
                        return -ENOMEM;
                    x->in = in;
                }
                x->in[x->nin++] = map_get(v);
            }
        }
        o += 5 + l;
    }
    for (int k = 0; k < x->nout; k++)
        map_put(x->out_v[k], i);
    return 0;
}

/* The output of entry i is the live handle it made: its virtual handle still names it. */
static int out_live(int32_t i, int k)
{
    uintptr_t v = E[i].out_v[k];
    if (map_get(v) != i)
        return 0;
    if (is_keyval_create(E[i].fid)) {
        uint32_t u = (uint32_t)v;
        return (u & 0xFC000000u) == PML_KV_TAG && (u & 0x3ffffff) < pml_vh_used &&
               pml_vh_tab[u & 0x3ffffff].kind == PML_KEYVAL && pml_vh_tab[u & 0x3ffffff].rec == i;
    }
    struct pml_vh *h = pml_vh_of(v);
    if (h && h->kind == PML_REQ) {
        /* of the requests only a persistent collective's is made again (pcoll.c) */
        struct pml_req *r = pml_rq_of(v);
        return r && r->kind == PML_RQ_PCOLL && h->rec == i;
    }
    return h && h->kind && h->kind != PML_MSG && h->rec == i;
}

/* ---- the item readers -------------------------------------------------------------------------- */
static void rp_fail(struct pml_rp *P, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rp_fail(struct pml_rp *P, const char *fmt, ...)
{
    if (P->failed)
        return;
    P->failed = 1;
    int n = snprintf(P->err, P->errlen, "record entry %d (%s): ", P->entry, pml_fn_names[P->fid]);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < P->errlen)
        vsnprintf(P->err + n, P->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

int pml_rp_failed(const struct pml_rp *P)
{
    return P->failed;
}

int32_t pml_rp_entry(const struct pml_rp *P)
{
    return P->entry;
}

void pml_rp_refuse(struct pml_rp *P, const char *why)
{
    rp_fail(P, "%s", why);
}

/* The next item, which must carry `tag` (or alt): its bytes and length. */
static const unsigned char *item(struct pml_rp *P, char tag, char alt, uint32_t *len, char *got)
{
    if (P->failed)
        return NULL;
    if (P->p + 5 > P->end) {
        rp_fail(P, "the entry ends early (want '%c')", tag);
        return NULL;
    }
    char t = (char)P->p[0];
    uint32_t l;
    memcpy(&l, P->p + 1, 4);
    if ((t != tag && t != alt) || P->p + 5 + l > P->end) {
        rp_fail(P, "item '%c' where '%c' was recorded", tag, t);
        return NULL;
    }
    const unsigned char *d = P->p + 5;
    P->p += 5 + l;
    *len = l;
    if (got)
        *got = t;
    return d;
}

/* Today's real handle for a virtual one read in the current entry. */
static uintptr_t translate(struct pml_rp *P, uintptr_t v)
{
    int32_t c = map_get(v);
    if (c >= 0) {
        if (!E[c].done) {
            rp_fail(P, "handle %#lx was made by entry %d (%s), which was not replayed",
                    (unsigned long)v, c, pml_fn_names[E[c].fid]);
            return 0;
        }
        for (int k = 0; k < E[c].nout; k++)
            if (E[c].out_v[k] == v)
                return E[c].out_real[k];
    }
    uint32_t u = (uint32_t)v;
    if ((u & 0xFC000000u) == PML_KV_TAG && (uintptr_t)u == v)
        return v; /* a keyval made by no recorded call: predefined */
    if (pml_vh_of(v)) {
        rp_fail(P, "handle %#lx was not made by a recorded call (Revive cannot make it again)",
                (unsigned long)v);
        return 0;
    }
    return pml_v2r(v); /* predefined */
}

int pml_rp_real_of(uintptr_t v, uintptr_t *real)
{
    uint32_t u = (uint32_t)v;
    int kv = (u & 0xFC000000u) == PML_KV_TAG && (uintptr_t)u == v;
    if (!map) { /* after the replay: the handle table says (a forgotten keyval: no entry) */
        if (kv) {
            if ((u & 0x3ffffff) >= pml_vh_used || pml_vh_tab[u & 0x3ffffff].kind != PML_KEYVAL)
                return -1;
            *real = (uintptr_t)(uint32_t)pml_kv_v2r((int)v);
            return 0;
        }
        *real = pml_v2r(v);
        return 0;
    }
    int32_t c = map_get(v);
    if (c >= 0) {
        if (!E[c].done)
            return -1;
        for (int k = 0; k < E[c].nout; k++)
            if (E[c].out_v[k] == v) {
                *real = E[c].out_real[k];
                return 0;
            }
        return -1;
    }
    if (kv || pml_vh_of(v))
        return -1; /* made by a call that was not replayed (a predefined keyval has no entry
                    * in the table either, but none carries a program's callbacks) */
    *real = pml_v2r(v); /* predefined */
    return 0;
}

uintptr_t pml_rp_h(struct pml_rp *P)
{
    uint32_t l;
    const unsigned char *d = item(P, 'h', 0, &l, NULL);
    if (!d || l != sizeof(uintptr_t))
        return 0;
    uintptr_t v;
    memcpy(&v, d, sizeof v);
    return translate(P, v);
}

void *pml_rp_hs(struct pml_rp *P, size_t elsize)
{
    uint32_t l;
    const unsigned char *d = item(P, 'H', 0, &l, NULL);
    size_t n = d ? l / sizeof(uintptr_t) : 0;
    void *a = calloc(n ? n : 1, elsize);
    if (!a)
        pml_fatal("out of memory replaying the creation record");
    for (size_t i = 0; i < n; i++) {
        uintptr_t v;
        memcpy(&v, d + i * sizeof v, sizeof v);
        uintptr_t r = translate(P, v);
        if (elsize == sizeof(uint32_t))
            ((uint32_t *)a)[i] = (uint32_t)r;
        else
            ((uintptr_t *)a)[i] = r;
    }
    return a;
}

void *pml_rp_a(struct pml_rp *P)
{
    uint32_t l;
    const unsigned char *d = item(P, 'a', 0, &l, NULL);
    return d && l ? (void *)(uintptr_t)d : NULL;
}

void *pml_rp_a_len(struct pml_rp *P, size_t *len)
{
    uint32_t l = 0;
    const unsigned char *d = item(P, 'a', 0, &l, NULL);
    *len = d ? l : 0;
    return d && l ? (void *)(uintptr_t)d : NULL;
}

const int *pml_rp_w(struct pml_rp *P)
{
    uint32_t l;
    char t = 0;
    const unsigned char *d = item(P, 'w', 'W', &l, &t);
    if (!d)
        return NULL;
    if (t == 'W') {
        const int *marker;
        memcpy(&marker, d, sizeof marker);
        return pml_weights(marker);
    }
    return l ? (const int *)(const void *)d : NULL;
}

const char *pml_rp_s(struct pml_rp *P)
{
    uint32_t l;
    const unsigned char *d = item(P, 's', 0, &l, NULL);
    return d && l ? (const char *)d : NULL;
}

void pml_rp_i(struct pml_rp *P, void *out, size_t n)
{
    uint32_t l;
    const unsigned char *d = item(P, 'i', 0, &l, NULL);
    memset(out, 0, n);
    if (d)
        memcpy(out, d, l < n ? l : n);
}

void *pml_rp_p(struct pml_rp *P)
{
    uint32_t l;
    const unsigned char *d = item(P, 'p', 0, &l, NULL);
    void *v = NULL;
    if (d && l == sizeof v)
        memcpy(&v, d, sizeof v);
    return v;
}

void pml_rp_o(struct pml_rp *P, int kind, uintptr_t real)
{
    uint32_t l;
    const unsigned char *d = item(P, 'o', 0, &l, NULL);
    if (!d)
        return;
    uintptr_t v;
    memcpy(&v, d, sizeof v);
    struct rp_entry *x = &E[P->entry];
    for (int k = 0; k < x->nout; k++)
        if (x->out_v[k] == v) {
            x->out_real[k] = real;
            x->out_kind[k] = kind;
        }
}

void pml_rp_changed(struct pml_rp *P, uintptr_t real)
{
    /* [ptr] (MPI_Type_commit): the handle is the entry's first item; the object its creator
     * made is now `real` */
    int fid, live;
    const unsigned char *items;
    size_t len;
    uintptr_t v;
    if (P->failed || pml_rec_entry(P->entry, &fid, &live, &items, &len) || len < 5 + sizeof v ||
        items[0] != 'h')
        return;
    memcpy(&v, items + 5, sizeof v);
    int32_t c = map_get(v);
    for (int k = 0; c >= 0 && k < E[c].nout; k++)
        if (E[c].out_v[k] == v)
            E[c].out_real[k] = real;
}

void pml_rp_iout(struct pml_rp *P, const void *got, size_t n, const char *what)
{
    uint32_t l;
    const unsigned char *d = item(P, 'i', 0, &l, NULL);
    if (!d)
        return;
    if (l != n || memcmp(d, got, n) != 0) {
        long long want = 0, have = 0;
        memcpy(&want, d, l < sizeof want ? l : sizeof want);
        memcpy(&have, got, n < sizeof have ? n : sizeof have);
        rp_fail(P, "%s came back as %lld, the program was given %lld", what, have, want);
    }
}

int pml_rp_wait(struct pml_rp *P, uintptr_t real_request)
{
    MPI_Request r = (MPI_Request)real_request;
    int rc = pml_L.MPI_Wait(&r, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS)
        rp_fail(P, "waiting for its request failed (%d)", rc);
    return rc;
}

uintptr_t pml_rp_peek_out(const struct pml_rp *P)
{
    uintptr_t v = 0;
    const unsigned char *s = P->p;
    while (s + 5 <= P->end) {
        uint32_t l;
        memcpy(&l, s + 1, 4);
        if (s[0] == 'o' && l == sizeof v) {
            memcpy(&v, s + 5, sizeof v);
            break;
        }
        s += 5 + l;
    }
    return v;
}

int pml_rp_reorder(struct pml_rp *P, uintptr_t comm_old, uintptr_t made, uintptr_t *split)
{
    /* the virtual handle this call made: the next 'o' item */
    uintptr_t v = pml_rp_peek_out(P);
    int saved = pml_restart_saved_rank(v);
    int now = -1;
    if (made != LOWER_COMM_NULL)
        pml_L.MPI_Comm_rank((MPI_Comm)made, &now);
    int differ = saved != now, any = 0;
    if (pml_L.MPI_Allreduce(&differ, &any, 1, (MPI_Datatype)LOWER_INT, (MPI_Op)LOWER_MAX, (MPI_Comm)comm_old) != MPI_SUCCESS) {
        rp_fail(P, "cannot agree on the rank order of a reordered topology");
        return 0;
    }
    if (!any)
        return 0;
    if (strstr(pml_fn_names[P->fid], "Dist_graph")) {
        rp_fail(P, "the fresh MPI numbered the reordered distributed graph differently, and"
                " Revive cannot give it its saved rank order back");
        return 0;
    }
    MPI_Comm m = (MPI_Comm)made;
    if (made != LOWER_COMM_NULL)
        pml_L.MPI_Comm_free(&m);
    int me = 0, n = 0;
    pml_L.MPI_Comm_rank((MPI_Comm)comm_old, &me);
    pml_L.MPI_Comm_size((MPI_Comm)comm_old, &n);
    MPI_Comm sp = (MPI_Comm)LOWER_COMM_NULL;
    if (pml_L.MPI_Comm_split((MPI_Comm)comm_old, 0, saved >= 0 ? saved : n + me, &sp) != MPI_SUCCESS) {
        rp_fail(P, "cannot order the ranks of a reordered topology as saved");
        return 0;
    }
    *split = PML_H(sp);
    revive_log_info("%s: the fresh MPI numbered the topology differently; made again in the saved"
                    " rank order", pml_fn_names[P->fid]);
    return 1;
}

/* ---- agreeing on a communicator's creation -------------------------------------------------------- */
/* The value of item n (0-based) of entry i, which must be an 'h' or 'i'. */
static int entry_item(int32_t i, int n, char tag, uintptr_t *v)
{
    int fid, live;
    const unsigned char *b;
    size_t len;
    if (pml_rec_entry(i, &fid, &live, &b, &len))
        return -1;
    for (size_t o = 0; o + 5 <= len; n--) {
        uint32_t l;
        memcpy(&l, b + o + 1, 4);
        if (!n) {
            if ((char)b[o] != tag || l > sizeof *v)
                return -1;
            *v = 0;
            memcpy(v, b + o + 5, l);
            return 0;
        }
        o += 5 + l;
    }
    return -1;
}

/* Whether any member of the call's parent communicator (and, for an intercommunicator, of the
 * other group) needs entry i: *want. 0, or -errno with a message. */
static int agree(int32_t i, int vote, int *want, char *err, size_t errlen)
{
    struct pml_rp P = { NULL, NULL, i, E[i].fid, 0, err, errlen };
    uintptr_t pv = 0;
    if (entry_item(i, 0, 'h', &pv)) {
        snprintf(err, errlen, "record entry %d (%s) names no parent communicator", i,
                 pml_fn_names[E[i].fid]);
        return -EINVAL;
    }
    MPI_Comm parent = (MPI_Comm)translate(&P, pv);
    if (P.failed)
        return -EINVAL;
    int rc, any = 0;
    if (pml_rp_comm[E[i].fid] == 3) {
        /* MPI_Intercomm_create(local, local_leader, peer, remote_leader, tag, ...) */
        uintptr_t leader = 0, peer_v = 0, rleader = 0, tag = 0;
        entry_item(i, 1, 'i', &leader);
        entry_item(i, 2, 'h', &peer_v);
        entry_item(i, 3, 'i', &rleader);
        entry_item(i, 4, 'i', &tag);
        int me = -1, mine = 0;
        rc = pml_L.MPI_Allreduce(&vote, &mine, 1, (MPI_Datatype)LOWER_INT, (MPI_Op)LOWER_MAX, parent);
        pml_L.MPI_Comm_rank(parent, &me);
        if (rc == MPI_SUCCESS && me == (int)leader) {
            MPI_Comm peer = (MPI_Comm)translate(&P, peer_v);
            int theirs = 0;
            if (P.failed)
                return -EINVAL;
            rc = pml_L.MPI_Sendrecv(&mine, 1, (MPI_Datatype)LOWER_INT, (int)rleader, (int)tag, &theirs, 1,
                                    (MPI_Datatype)LOWER_INT,
                                    (int)rleader, (int)tag, peer, MPI_STATUS_IGNORE);
            any = mine | theirs;
        }
        if (rc == MPI_SUCCESS)
            rc = pml_L.MPI_Bcast(&any, 1, (MPI_Datatype)LOWER_INT, (int)leader, parent);
    } else {
        int inter = 0;
        pml_L.MPI_Comm_test_inter(parent, &inter);
        rc = pml_L.MPI_Allreduce(&vote, &any, 1, (MPI_Datatype)LOWER_INT, (MPI_Op)LOWER_MAX, parent);
        if (rc == MPI_SUCCESS && inter) {
            /* an intercommunicator reduces the other group's values: once more for both */
            int both = vote | any;
            rc = pml_L.MPI_Allreduce(&both, &any, 1, (MPI_Datatype)LOWER_INT, (MPI_Op)LOWER_MAX, parent);
            any |= both;
        }
    }
    if (rc != MPI_SUCCESS) {
        snprintf(err, errlen, "record entry %d (%s): the members cannot agree whether to make it"
                 " again (error %d)", i, pml_fn_names[E[i].fid], rc);
        return -EIO;
    }
    *want = any != 0;
    return 0;
}

/* ---- keyvals (their creation is written by hand in layer.c and win.c) ---------------------------- */

static int rp_keyval(struct pml_rp *P)
{
    pml_rp_p(P);
    pml_rp_p(P);
    uint32_t l;
    const unsigned char *d = item(P, 'h', 0, &l, NULL);
    pml_rp_p(P);
    if (!d)
        return MPI_ERR_OTHER;
    uintptr_t v;
    memcpy(&v, d, sizeof v);
    int real = 0;
    int rc = pml_keyval_remake(pml_keyval_kind(P->fid), (int)v, &real);
    if (rc == MPI_SUCCESS) {
        E[P->entry].out_real[0] = (uintptr_t)(uint32_t)real;
        E[P->entry].out_kind[0] = PML_KEYVAL;
    }
    return rc;
}

/* ---- files: opened again after the replay (objs_restart.c) ------------------------------------- */
/* Today's real communicator that the MPI_File_open of entry f was given: made by the entry the
 * record names for it at that point (the program may have freed it since, and its virtual handle
 * may name another communicator now), or predefined. 0 when it was not made again. */
static uintptr_t file_comm_real(int32_t f)
{
    uintptr_t cv = 0;
    if (entry_item(f, 0, 'h', &cv))
        return 0;
    int32_t c = E[f].nin ? E[f].in[0] : -1;
    if (c < 0)
        return pml_vh_of(cv) ? 0 : pml_v2r(cv); /* predefined */
    for (int k = 0; E[c].done && k < E[c].nout; k++)
        if (E[c].out_v[k] == cv)
            return E[c].out_real[k];
    return 0;
}

/* MPI_File_get_group: the group of the file's communicator (the file itself is opened only after
 * the replay). */
static int rp_file_group(struct pml_rp *P)
{
    uint32_t l;
    const unsigned char *d = item(P, 'h', 0, &l, NULL);
    if (!d || l != sizeof(uintptr_t))
        return MPI_ERR_OTHER;
    uintptr_t fv;
    memcpy(&fv, d, sizeof fv);
    int32_t f = map_get(fv);
    uintptr_t rc_ = f >= 0 && E[f].fid == PML_FID_MPI_File_open ? file_comm_real(f) : 0;
    if (!rc_) {
        rp_fail(P, "the communicator of file %#lx did not come back", (unsigned long)fv);
        return MPI_ERR_OTHER;
    }
    MPI_Group g;
    int rc = pml_L.MPI_Comm_group((MPI_Comm)rc_, &g);
    if (rc == MPI_SUCCESS)
        pml_rp_o(P, PML_GROUP, PML_H(g));
    return rc;
}

/* A datatype the library handed out (layer.c, pml_type_handed_out): output k of
 * MPI_Type_get_contents taken again on the replayed input (the library's other new handles of
 * that call freed), or MPI_File_get_view's copy of the view's type made as the library made it,
 * committed: combiner k, MPI_COMBINER_DUP (Open MPI's ompio) or MPI_COMBINER_CONTIGUOUS of one
 * (MPICH 4.0's ROMIO). The file is opened again only after the replay. */
static int contents_k(MPI_Datatype in, int k, MPI_Datatype *out)
{
    int ni = 0, na = 0, nd = 0, comb = MPI_COMBINER_NAMED;
    int rc = pml_L.MPI_Type_get_envelope(in, &ni, &na, &nd, &comb);
    if (rc != MPI_SUCCESS)
        return rc;
    if (pml_type_library_owned(PML_H(in)) || k < 0 || k >= nd)
        return MPI_ERR_TYPE; /* the library's own types hold no datatypes */
    int *is = malloc(((size_t)ni + 1) * sizeof *is);
    MPI_Aint *as = malloc(((size_t)na + 1) * sizeof *as);
    MPI_Datatype *ds = malloc((size_t)nd * sizeof *ds);
    rc = is && as && ds ? pml_L.MPI_Type_get_contents(in, ni, na, nd, is, as, ds) : MPI_ERR_NO_MEM;
    for (int i = 0; rc == MPI_SUCCESS && i < nd; i++) {
        if (i == k) {
            *out = ds[i];
            continue;
        }
        if (!pml_type_library_owned(PML_H(ds[i])))
            pml_L.MPI_Type_free(&ds[i]); /* a new handle of this call's */
    }
    free(is);
    free(as);
    free(ds);
    return rc;
}

/* a copy of t as a library copies a view's type: combiner k (layer.c pml_type_handed_out) */
static int view_copy(int k, MPI_Datatype t, MPI_Datatype *out)
{
    return k == MPI_COMBINER_CONTIGUOUS ? pml_L.MPI_Type_contiguous(1, t, out)
                                        : pml_L.MPI_Type_dup(t, out);
}

static int rp_handed_type(struct pml_rp *P)
{
    MPI_Datatype in = (MPI_Datatype)pml_rp_h(P);
    int k = 0;
    pml_rp_i(P, &k, sizeof k);
    if (pml_rp_failed(P))
        return MPI_ERR_OTHER;
    MPI_Datatype out = (MPI_Datatype)0;
    int rc;
    if (P->fid == PML_FID_MPI_File_get_view) {
        /* two copies, as the library makes them: the file's own at MPI_File_set_view and
         * get_view's of it (measured natively, get_view's filetype taken apart down to the
         * program's type: MPICH 4.0 CONTIGUOUS > CONTIGUOUS > the type, Open MPI 4.1 DUP > DUP >
         * the type); one copy made a program taking the output apart twice get the program's
         * type's parts instead after a restart (diffrev45 R-H1 of session 46) */
        MPI_Datatype copy = (MPI_Datatype)0;
        rc = view_copy(k, in, &copy);
        if (rc == MPI_SUCCESS) {
            rc = view_copy(k, copy, &out);
            pml_L.MPI_Type_free(&copy); /* held by out, as the file holds its own */
        }
        if (rc == MPI_SUCCESS)
            rc = pml_L.MPI_Type_commit(&out);
    } else {
        rc = contents_k(in, k, &out);
    }
    if (rc == MPI_SUCCESS)
        pml_rp_o(P, PML_TYPE, PML_H(out));
    return rc;
}

/* Every file open at the snapshot gets the communicator the replay made for it; one the program
 * freed is the restart's, which frees it once the file is open again (objs_restart.c). Its
 * output is marked so that step 4 leaves it. */
static void hand_file_comms(unsigned char *handed)
{
    for (int32_t i = 0; i < NE; i++) {
        if (!E[i].held || !E[i].nout || !out_live(i, 0))
            continue;
        uintptr_t real = file_comm_real(i);
        int32_t c = E[i].nin ? E[i].in[0] : -1;
        int owned = 0;
        if (c >= 0 && real) {
            for (int k = 0; k < E[c].nout; k++)
                if (E[c].out_real[k] == real && E[c].out_kind[k] == PML_COMM &&
                    !(E[c].live & (1u << k))) {
                    handed[c] |= (unsigned char)(1u << k);
                    owned = 1;
                }
        }
        pml_objs_file_comm(E[i].out_v[0], real, owned);
    }
}

/* ---- the whole replay ----------------------------------------------------------------------------- */
static void free_real(int32_t i, int k)
{
    uintptr_t r = E[i].out_real[k];
    switch (E[i].out_kind[k]) {
    case PML_COMM: { MPI_Comm c = (MPI_Comm)r; if (!pml_real_is_predef(r)) pml_L.MPI_Comm_free(&c); break; }
    case PML_GROUP: { MPI_Group g = (MPI_Group)r; if (!pml_real_is_predef(r)) pml_L.MPI_Group_free(&g); break; }
    case PML_TYPE: {
        MPI_Datatype t = (MPI_Datatype)r;
        if (!pml_type_library_owned(r))
            pml_L.MPI_Type_free(&t);
        break;
    }
    case PML_OP: { MPI_Op o = (MPI_Op)r; if (!pml_real_is_predef(r)) pml_L.MPI_Op_free(&o); break; }
    case PML_ERRH: { MPI_Errhandler e = (MPI_Errhandler)r; if (!pml_real_is_predef(r)) pml_L.MPI_Errhandler_free(&e); break; }
    case PML_INFO: { MPI_Info f = (MPI_Info)r; if (!pml_real_is_predef(r)) pml_L.MPI_Info_free(&f); break; }
    case PML_KEYVAL: {
        int kv = (int)r, okind = pml_keyval_kind(E[i].fid);
        if (okind == PML_COMM)
            pml_L.MPI_Comm_free_keyval(&kv);
        else if (okind == PML_TYPE)
            pml_L.MPI_Type_free_keyval(&kv);
        else
            pml_L.MPI_Win_free_keyval(&kv);
        break;
    }
    default:
        break;
    }
}

/* Entry c's objects the program no longer has, once entry `at` (the last reader) is replayed. */
static void drop_dead(int32_t c, int32_t at)
{
    struct rp_entry *x = &E[c];
    if (!x->done || x->last > at)
        return;
    for (int k = 0; k < x->nout; k++) {
        if ((x->live & (1u << k)) || !x->out_kind[k] || x->out_kind[k] == PML_REQ ||
            x->out_kind[k] == PML_KEYVAL)
            continue;
        free_real(c, k);
        x->out_kind[k] = 0; /* freed: step 4 leaves it */
    }
}

/* Ancestors of every needed entry are needed (to a fixed point); so are changes of objects
 * that will exist. The other inputs of a call decided as it is met (no name) are kept ready in
 * case another member needs it (keep_all_inputs: its parent too, and the inputs of the entries
 * restored another way that are kept). */
static void need_fixpoint(int keep_all_inputs)
{
    for (int changed = 1; changed;) {
        changed = 0;
        for (int32_t i = 0; i < NE; i++) {
            struct rp_entry *x = &E[i];
            if (x->held && x->nin && x->in[0] >= 0 && !E[x->in[0]].need) {
                E[x->in[0]].need = 2; /* the file's communicator */
                changed = 1;
            }
            /* (an attribute's set or delete, kept by the compaction while its object will exist) */
            if (pml_rp_skip[x->fid] && !(keep_all_inputs && (x->need || !x->nout)))
                continue;
            if (!x->need && !x->nout && x->nin && (x->in[0] < 0 || E[x->in[0]].need)) {
                x->need = 1; /* a change of an object that will exist */
                changed = 1;
            }
            if (!x->need && !(pml_rp_comm[x->fid] && x->keykind == PML_REC_KEY_NONE))
                continue;
            for (int k = x->need || keep_all_inputs ? 0 : 1; k < x->nin; k++) {
                struct rp_entry *c = x->in[k] >= 0 ? &E[x->in[k]] : NULL;
                if (c && !keep_all_inputs && c->fid == PML_FID_MPI_File_open) {
                    /* a file is opened again after the replay, never by it */
                    changed |= !c->held;
                    c->held = 1;
                } else if (c && !c->need) {
                    c->need = 2;
                    changed = 1;
                }
            }
        }
    }
}

/* A buffer attached and later detached is neither attached nor detached again: the buffer is
 * the program's memory once detached (it may hold its data, or be freed and its chunk reused),
 * and MPICH's MPI_Buffer_attach writes its bookkeeping into the buffer at once (the CI of
 * 8aaf7ad: cc_persist restarted from a snapshot after its MPI_Buffer_detach and free died of
 * SIGSEGV in malloc, whose free-list links the replayed attach had overwritten). Only the buffer
 * attached at the checkpoint, if any, is attached again. MPI lets a process have one buffer at
 * a time, so each detach ends the latest attach (the _c forms alike); a detach with no attach
 * before it in the record is left as it was. At a snapshot the compaction drops such pairs, so
 * the record does not grow with a program that attaches and detaches in a loop. */
static int is_attach(int fid)
{
    return fid == PML_FID_MPI_Buffer_attach || fid == PML_FID_MPI_Buffer_attach_c;
}

static int is_detach(int fid)
{
    return fid == PML_FID_MPI_Buffer_detach || fid == PML_FID_MPI_Buffer_detach_c;
}

static void drop_detached_buffers(void)
{
    int32_t open = -1;
    for (int32_t i = 0; i < NE; i++) {
        if (is_attach(E[i].fid)) {
            open = i;
        } else if (is_detach(E[i].fid) && open >= 0) {
            E[open].need = 0;
            E[i].need = 0;
            open = -1;
        }
    }
}

/* ---- the names of the communicator creations some member needs ---------------------------------- */
static uint64_t *U; /* NU pairs, sorted */
static int NU;

static int cmp_key(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

static int in_union(const uint64_t key[2])
{
    return NU && bsearch(key, U, (size_t)NU, 2 * sizeof *U, cmp_key) != NULL;
}

/* The names of every rank, all gathered: at a restart by collectives on the fresh
 * MPI_COMM_WORLD; during an epoch (the compaction) by the drain's tagged messages, which a rank
 * leaves at once when the epoch is aborted (a collective cannot be abandoned halfway). 0 or
 * -errno, err set for an epoch's exchange only. */
static int allgather_keys(int in_epoch, const uint64_t *mine, int cnt, uint64_t **all, long *total,
                          char *err, size_t errlen)
{
    if (in_epoch) {
        return pml_xchgv(PML_XCHG_KEYCOUNTS, PML_XCHG_KEYS, mine, cnt, all, total,
                         revive_mono_s() + 60, "the record's compaction",
                         err, errlen);
    }
    MPI_Comm w = (MPI_Comm)pml_lower_world();
    MPI_Datatype ti = (MPI_Datatype)LOWER_INT, tu = (MPI_Datatype)LOWER_U64;
    int size = 0, rc = -ENOMEM;
    pml_L.MPI_Comm_size(w, &size);
    int *counts = malloc((size_t)size * sizeof *counts), *displs = malloc((size_t)size * sizeof *displs);
    *all = NULL;
    *total = 0;
    if (!counts || !displs)
        goto out;
    rc = -EIO;
    if (pml_L.MPI_Allgather(&cnt, 1, ti, counts, 1, ti, w) != MPI_SUCCESS)
        goto out;
    long t = 0;
    for (int r = 0; r < size; r++) {
        displs[r] = (int)t;
        t += counts[r];
    }
    if (t > 0x7fffffffL) {
        rc = -E2BIG;
        goto out;
    }
    rc = -ENOMEM;
    *all = malloc((size_t)(t ? t : 1) * sizeof **all);
    if (!*all)
        goto out;
    rc = -EIO;
    if (pml_L.MPI_Allgatherv(mine, cnt, tu, *all, counts, displs, tu, w) != MPI_SUCCESS) {
        free(*all);
        *all = NULL;
        goto out;
    }
    *total = t;
    rc = 0;
out:
    if (rc)
        snprintf(err, errlen, "the ranks cannot tell each other which communicators they still"
                 " need (%s)", rc == -EIO ? "MPI_Allgatherv on MPI_COMM_WORLD failed"
                 : rc == -E2BIG ? "too many" : "out of memory");
    free(counts);
    free(displs);
    return rc;
}

/* U = the union over every rank of the names of the calls it needs. 0, or -errno. */
static int gather_keys(int in_epoch, char *err, size_t errlen)
{
    int n = 0;
    for (int32_t i = 0; i < NE; i++)
        n += E[i].keykind == PML_REC_KEY_GLOBAL && E[i].need;
    uint64_t *mine = malloc((size_t)(n ? n : 1) * 2 * sizeof *mine), *all = NULL;
    if (!mine) {
        snprintf(err, errlen, "out of memory for the names of %d communicator creations", n);
        return -ENOMEM;
    }
    n = 0;
    for (int32_t i = 0; i < NE; i++)
        if (E[i].keykind == PML_REC_KEY_GLOBAL && E[i].need) {
            mine[2 * n] = E[i].key[0];
            mine[2 * n + 1] = E[i].key[1];
            n++;
        }
    long total = 0;
    int rc = allgather_keys(in_epoch, mine, 2 * n, &all, &total, err, errlen);
    free(mine);
    if (rc)
        return rc;
    qsort(all, (size_t)total / 2, 2 * sizeof *all, cmp_key);
    int m = 0;
    for (long k = 0; k < total / 2; k++)
        if (!m || cmp_key(all + 2 * k, all + 2 * (m - 1))) {
            all[2 * m] = all[2 * k];
            all[2 * m + 1] = all[2 * k + 1];
            m++;
        }
    free(U);
    U = all;
    NU = m;
    return 0;
}

static void release(void)
{
    for (int32_t i = 0; i < NE; i++)
        free(E[i].in);
    free(E);
    E = NULL;
    NE = 0;
    free(map);
    map = NULL;
    free(U);
    U = NULL;
    NU = 0;
}

/* Steps 1 and 2 of the replay (and of the record's compaction): E[] filled from the record,
 * each entry's `need` set, the names some member needs agreed among the ranks (every rank at
 * the same point: a restart, or an epoch's drain when in_epoch). keep_all_inputs: every input of
 * a needed entry, every entry decided as it is met, the open of a file still open and an
 * attribute's set or delete on an object that will exist are kept too (the compaction: what a
 * later replay, or the reopening of the files, may read must stay in the record). 0, or -errno
 * with a message. */
static int plan(struct pml_replay_stats *st, int in_epoch, int keep_all_inputs, char *err,
                size_t errlen)
{
    NE = pml_rec_count();
    st->entries = (unsigned)NE;
    E = calloc(NE ? (size_t)NE : 1, sizeof *E);
    if (!E || map_init((uint32_t)NE * 2)) {
        snprintf(err, errlen, "out of memory for the replay of %d record entries", NE);
        release();
        return -ENOMEM;
    }
    /* 1. forward: every entry's inputs' creators and outputs */
    for (int32_t i = 0; i < NE; i++) {
        int fid, live;
        const unsigned char *b;
        size_t len;
        pml_rec_entry(i, &fid, &live, &b, &len);
        if (scan_entry(i, b, len, fid)) {
            snprintf(err, errlen, "record entry %d (%s) is damaged", i, pml_fn_names[fid]);
            release();
            return -EINVAL;
        }
    }
    /* 2. what this rank needs: live outputs, changes of needed or predefined objects, calls on
     * no handle, and the ancestors of all of them (to a fixed point); then the calls that make a
     * communicator another member needs (their ancestors too) */
    for (int32_t i = 0; i < NE; i++) {
        E[i].keykind = (unsigned char)pml_rec_key(i, E[i].key);
        if (keep_all_inputs && pml_rp_comm[E[i].fid] && E[i].keykind == PML_REC_KEY_NONE)
            E[i].need = 2;
        /* the compaction keeps the open of a file still open (objs_restart.c opens it again
         * after the replay) and of one a kept entry reads (MPI_File_get_group), and an
         * attribute's set or delete while its object will exist (need_fixpoint): not every
         * entry restored another way, or a program that opens and closes files, or sets
         * attributes on communicators it frees, in a loop grew its record without bound */
        if (keep_all_inputs && E[i].fid == PML_FID_MPI_File_open && E[i].nout && out_live(i, 0))
            E[i].need = 2;
        if (E[i].fid == PML_FID_MPI_File_open && !keep_all_inputs && E[i].nout && out_live(i, 0))
            E[i].held = 1;
        if (pml_rp_skip[E[i].fid])
            continue;
        for (int k = 0; k < E[i].nout; k++)
            if (out_live(i, k)) {
                E[i].need = 1;
                E[i].live |= (unsigned char)(1u << k);
            }
        if ((!E[i].nout && !E[i].nin) ||
            (pml_rp_comm[E[i].fid] == 2 && E[i].keykind == PML_REC_KEY_NONE))
            E[i].need = 1;
    }
    drop_detached_buffers();
    need_fixpoint(keep_all_inputs);
    for (int prev = -1;;) {
        int e = gather_keys(in_epoch, err, errlen);
        if (e) {
            release();
            return e;
        }
        if (NU == prev)
            break; /* every rank sees the same union: all stop together */
        prev = NU;
        for (int32_t i = 0; i < NE; i++)
            if (E[i].keykind == PML_REC_KEY_GLOBAL && !E[i].need && in_union(E[i].key)) {
                E[i].need = 2;
                st->for_others++;
            }
        need_fixpoint(keep_all_inputs);
    }
    return 0;
}

int pml_replay_compact(int *dropped, char *err, size_t errlen)
{
    struct pml_replay_stats st;
    memset(&st, 0, sizeof st);
    *dropped = 0;
    int e = plan(&st, 1, 1, err, errlen);
    if (e)
        return e;
    unsigned char *keep = malloc(NE ? (size_t)NE : 1);
    if (!keep) {
        snprintf(err, errlen, "out of memory for the compaction of %d record entries", NE);
        release();
        return -ENOMEM;
    }
    for (int32_t i = 0; i < NE; i++)
        keep[i] = E[i].need != 0;
    int32_t n = NE;
    release();
    *dropped = pml_rec_compact(keep, n);
    free(keep);
    return 0;
}

int pml_replay_run(struct pml_replay_stats *st, char *err, size_t errlen)
{
    memset(st, 0, sizeof *st);
    int e = plan(st, 0, 0, err, errlen);
    if (e)
        return e;
    /* the last reader of every object: after it, an object the program no longer has goes */
    for (int32_t i = 0; i < NE; i++)
        E[i].last = -1;
    for (int32_t j = 0; j < NE; j++) {
        struct rp_entry *x = &E[j];
        if (!x->need && !(pml_rp_comm[x->fid] && x->keykind == PML_REC_KEY_NONE))
            continue;
        for (int k = 0; k < x->nin; k++)
            if (x->in[k] >= 0 && E[x->in[k]].last < j)
                E[x->in[k]].last = j;
    }
    /* a file's communicator lives on past the replay (the file is opened on it afterwards) */
    for (int32_t j = 0; j < NE; j++)
        if (E[j].held && E[j].nin && E[j].in[0] >= 0)
            E[E[j].in[0]].last = NE;
    /* 3. the replay, in the original order */
    map_init((uint32_t)NE * 2);
    int rc = 0;
    for (int32_t i = 0; i < NE && !rc; i++) {
        struct rp_entry *x = &E[i];
        if ((pml_rp_comm[x->fid] == 1 || pml_rp_comm[x->fid] == 3) &&
            x->keykind == PML_REC_KEY_NONE) {
            int32_t c = x->nin ? x->in[0] : -1;
            int want = 0;
            if (c < 0 || E[c].done) {
                int a = agree(i, x->need != 0, &want, err, errlen);
                if (a) {
                    rc = a;
                    break;
                }
                if (want && !x->need) {
                    x->need = 2;
                    st->for_others++;
                }
            }
            if (!want)
                x->need = 0;
        }
        if (x->need) {
            int fid, live;
            const unsigned char *b;
            size_t len;
            pml_rec_entry(i, &fid, &live, &b, &len);
            struct pml_rp P = { b, b + len, i, fid, 0, err, errlen };
            pml_rp_fn fn = is_keyval_create(fid) ? rp_keyval : pml_rp_table[fid];
            if (!fn)
                fn = pml_rp_win_fn(fid); /* windows: win_ckpt.c */
            if (!fn)
                fn = pml_rp_topo_fn(fid); /* MPI_Dist_graph_create: topo.c */
            if (!fn && fid == PML_FID_MPI_File_get_group)
                fn = rp_file_group;
            if (!fn && (fid == PML_FID_MPI_Type_get_contents || fid == PML_FID_MPI_File_get_view))
                fn = rp_handed_type; /* a datatype the library handed out */
            if (!fn) {
                snprintf(err, errlen, "record entry %d: %s cannot be replayed", i, pml_fn_names[fid]);
                rc = -ENOTSUP;
                break;
            }
            int mrc = fn(&P);
            if (P.failed) {
                rc = -EINVAL;
                break;
            }
            if (mrc != MPI_SUCCESS) {
                char es[256] = "";
                int el = 0;
                if (pml_L.MPI_Error_string)
                    pml_L.MPI_Error_string(mrc, es, &el);
                snprintf(err, errlen, "record entry %d: %s failed on the fresh MPI: %s", i,
                         pml_fn_names[fid], es);
                rc = -EIO;
                break;
            }
            x->done = 1;
            if (x->need == 2)
                st->ancestors++;
            else
                st->replayed++;
        } else if (pml_rp_skip[x->fid]) {
            st->skipped++;
        }
        for (int k = 0; k < x->nout; k++)
            map_put(x->out_v[k], i);
        if (x->done)
            drop_dead(i, i);
        for (int k = 0; k < x->nin; k++)
            if (x->in[k] >= 0)
                drop_dead(x->in[k], i);
    }
    if (rc) {
        release();
        return rc;
    }
    /* 4. live handles point at their new objects; files get their communicators; ancestors'
     * objects are freed */
    unsigned char *handed = calloc(NE ? (size_t)NE : 1, 1);
    if (!handed) {
        snprintf(err, errlen, "out of memory after the replay of %d record entries", NE);
        release();
        return -ENOMEM;
    }
    hand_file_comms(handed);
    for (int32_t i = 0; i < NE; i++) {
        struct rp_entry *x = &E[i];
        if (!x->done)
            continue;
        for (int k = 0; k < x->nout; k++) {
            if (x->out_kind[k] == PML_REQ) {
                if (x->live & (1u << k)) /* a persistent collective: its new request */
                    pml_vh_update(x->out_v[k], x->out_real[k]);
                continue;
            }
            if (x->live & (1u << k)) {
                if (x->out_kind[k] == PML_KEYVAL)
                    pml_kv_update((int)x->out_v[k], (int)x->out_real[k]);
                else
                    pml_vh_update(x->out_v[k], x->out_real[k]);
            } else if (!(handed[i] & (1u << k))) {
                free_real(i, k);
            }
        }
    }
    free(handed);
    release();
    return 0;
}
