/* The creation record: every call that creates an MPI object or changes its state, in order,
 * with its arguments as the application passed them (virtual handles, copied arrays and
 * strings) and the virtual handles it produced. After a restart the live entries are replayed
 * against a fresh lower half so that the same virtual handles point at new real objects.
 *
 * An entry is a sequence of items: a tag byte, a 32-bit length, the bytes. Tags:
 *   'i' scalar  'h' handle  'H' handle array  'a' plain array  's' string  'p' pointer value
 *   'w' weights (an array)  'W' the MPI_UNWEIGHTED/MPI_WEIGHTS_EMPTY marker (its address)
 *   'o' handle produced
 * The replay after a restart (replay.c) reads the entries back through pml_rec_entry. */
#define _GNU_SOURCE
#include "pml_hooks/ckpt.h"   /* pml_comm_of: a communicator's id and count */
#include "pml_hooks/replay.h" /* pml_rp_comm */
#define PML_WANT_NAMES
#include "pml_hooks/pml_table.h"

#include <stdio.h>
#include <string.h>

struct pml_rec {
    int fid;
    int live;
    size_t len, cap;
    unsigned char *buf;
    int nout;
    uintptr_t out[2];
    /* A call that makes a communicator: the name every member gives that call (see
     * pml_rec_key), so that the members decide alike at a restart whether to make it again. */
    int keykind;
    uint64_t key[2];
};

static struct pml_rec **entries;
static int32_t n_entries, cap_entries;

static void put(struct pml_rec *R, char tag, const void *p, size_t n)
{
    if (R->len + n + 5 > R->cap) {
        size_t c = R->cap ? R->cap * 2 : 128;
        while (c < R->len + n + 5)
            c *= 2;
        unsigned char *b = realloc(R->buf, c);
        if (!b)
            pml_fatal("out of memory for the creation record");
        R->buf = b;
        R->cap = c;
    }
    uint32_t l = (uint32_t)n;
    R->buf[R->len++] = (unsigned char)tag;
    memcpy(R->buf + R->len, &l, 4);
    R->len += 4;
    if (n)
        memcpy(R->buf + R->len, p, n);
    R->len += n;
}

struct pml_rec *pml_rec_open(int fid)
{
    struct pml_rec *R = calloc(1, sizeof *R);
    if (!R)
        pml_fatal("out of memory for the creation record");
    R->fid = fid;
    R->live = 1;
    return R;
}

void pml_rec_scalar(struct pml_rec *R, const void *p, size_t n) { put(R, 'i', p, n); }
void pml_rec_handle(struct pml_rec *R, uintptr_t v) { put(R, 'h', &v, sizeof v); }
void pml_rec_array(struct pml_rec *R, const void *p, size_t n) { put(R, 'a', p, p ? n : 0); }
void pml_rec_str(struct pml_rec *R, const char *s) { put(R, 's', s, s ? strlen(s) + 1 : 0); }
void pml_rec_ptr(struct pml_rec *R, const void *p) { put(R, 'p', &p, sizeof p); }

void pml_rec_handles(struct pml_rec *R, const void *arr, int n, size_t elsize)
{
    uintptr_t *v = calloc(n > 0 ? (size_t)n : 1, sizeof *v);
    if (!v)
        pml_fatal("out of memory for the creation record");
    for (int i = 0; arr && i < n; i++) {
        if (elsize == sizeof(uint32_t))
            v[i] = ((const uint32_t *)arr)[i];
        else
            v[i] = ((const uintptr_t *)arr)[i];
    }
    put(R, 'H', v, (size_t)(n > 0 ? n : 0) * sizeof *v);
    free(v);
}

void pml_rec_weights(struct pml_rec *R, const int *w, int n)
{
    if (pml_fn_in_upper(w) || (uintptr_t)w < 4096) /* a marker, not an array */
        put(R, 'W', &w, sizeof w);
    else
        put(R, 'w', w, (size_t)(n > 0 ? n : 0) * sizeof *w);
}

void pml_rec_out(struct pml_rec *R, uintptr_t v)
{
    if (R->nout < 2)
        R->out[R->nout++] = v;
    put(R, 'o', &v, sizeof v);
}

/* The first item of an entry, when it is a handle: the parent of a communicator's creation. */
static uintptr_t first_handle(const struct pml_rec *R)
{
    uintptr_t v = 0;
    if (R->len >= 5 + sizeof v && R->buf[0] == 'h')
        memcpy(&v, R->buf + 5, sizeof v);
    return v;
}

/* A call collective over its parent is named by the parent's id and its count of collectives,
 * which includes this call (the same on every member, also on one that got MPI_COMM_NULL); one
 * over a group (MPI_Comm_create_group) or two groups (MPI_Intercomm_create) by the id agreed for
 * the communicator it made, which every member got. A call made by this rank alone (on a
 * communicator of one rank) needs nobody's agreement. */
static void set_key(struct pml_rec *R)
{
    int kind = pml_rp_comm[R->fid];
    if (!kind)
        return;
    if (kind == 1) {
        struct pml_comm *p = pml_comm_of(first_handle(R));
        if (!p)
            return;
        if (pml_comm_single(p)) {
            R->keykind = PML_REC_KEY_LOCAL;
            return;
        }
        R->keykind = PML_REC_KEY_GLOBAL;
        R->key[0] = p->cid;
        R->key[1] = p->seq;
        return;
    }
    struct pml_comm *c = R->nout ? pml_comm_of(R->out[0]) : NULL;
    if (!c)
        return;
    if (pml_comm_single(c)) {
        R->keykind = PML_REC_KEY_LOCAL;
        return;
    }
    R->keykind = PML_REC_KEY_GLOBAL;
    R->key[0] = UINT64_MAX; /* never a parent's id */
    R->key[1] = c->cid;
}

int32_t pml_rec_close(struct pml_rec *R)
{
    set_key(R);
    pml_vh_lock();
    if (n_entries == cap_entries) {
        int32_t c = cap_entries ? cap_entries * 2 : 256;
        struct pml_rec **e = realloc(entries, (size_t)c * sizeof *e);
        if (!e)
            pml_fatal("out of memory for the creation record");
        entries = e;
        cap_entries = c;
    }
    int32_t idx = n_entries++;
    entries[idx] = R;
    pml_vh_unlock();
    for (int i = 0; i < R->nout; i++)
        pml_vh_set_rec(R->out[i], idx);
    return idx;
}

void pml_rec_kill(int32_t rec)
{
    if (rec >= 0 && rec < n_entries)
        entries[rec]->live = 0;
}

int pml_rec_key(int32_t i, uint64_t key[2])
{
    if (i < 0 || i >= n_entries)
        return PML_REC_KEY_NONE;
    key[0] = entries[i]->key[0];
    key[1] = entries[i]->key[1];
    return entries[i]->keykind;
}

int pml_rec_compact(const unsigned char *keep, int32_t n)
{
    pml_vh_lock();
    if (n > n_entries)
        n = n_entries;
    int32_t *to = malloc((size_t)(n ? n : 1) * sizeof *to), j = 0;
    if (!to) {
        pml_vh_unlock();
        return 0; /* nothing dropped: the record stays as it was */
    }
    for (int32_t i = 0; i < n; i++) {
        if (keep[i]) {
            to[i] = j;
            entries[j++] = entries[i];
        } else {
            to[i] = -1;
            free(entries[i]->buf);
            free(entries[i]);
        }
    }
    int dropped = n - j;
    for (int32_t i = n; i < n_entries; i++) /* made since the plan: kept */
        entries[j++] = entries[i];
    n_entries = j;
    /* the handles' creation entries move with them */
    for (uint32_t k = 0; k < pml_vh_used; k++) {
        int32_t r = pml_vh_tab[k].rec;
        if (r >= 0)
            pml_vh_tab[k].rec = r < n ? to[r] : r - dropped;
    }
    pml_vh_unlock();
    free(to);
    return dropped;
}

int32_t pml_rec_count(void)
{
    return n_entries;
}

int pml_rec_entry(int32_t i, int *fid, int *live, const unsigned char **items, size_t *len)
{
    if (i < 0 || i >= n_entries)
        return -1;
    *fid = entries[i]->fid;
    *live = entries[i]->live;
    *items = entries[i]->buf;
    *len = entries[i]->len;
    return 0;
}

/* Text form, one entry a line, for people and tests: "seq live|dead MPI_Name item...". */
int pml_rec_dump(const char *path)
{
    FILE *f = fopen(path, "ae");
    if (!f)
        return -1;
    for (int32_t i = 0; i < n_entries; i++) {
        struct pml_rec *R = entries[i];
        fprintf(f, "%d %s %s", i, R->live ? "live" : "dead", pml_fn_names[R->fid]);
        for (size_t o = 0; o < R->len;) {
            char tag = (char)R->buf[o];
            uint32_t l;
            memcpy(&l, R->buf + o + 1, 4);
            const unsigned char *d = R->buf + o + 5;
            uintptr_t u = 0;
            switch (tag) {
            case 'h': case 'o': case 'p':
                memcpy(&u, d, sizeof u);
                fprintf(f, " %c:%#lx", tag, (unsigned long)u);
                break;
            case 'i':
                if (l == 4) { int32_t x; memcpy(&x, d, 4); fprintf(f, " i:%d", x); }
                else { int64_t x = 0; memcpy(&x, d, l < 8 ? l : 8); fprintf(f, " i:%lld", (long long)x); }
                break;
            case 's':
                fprintf(f, " s:\"%s\"", l ? (const char *)d : "");
                break;
            default:
                fprintf(f, " %c[%u]", tag, l);
            }
            o += 5 + l;
        }
        fputc('\n', f);
    }
    fclose(f);
    return 0;
}

/* Entries recorded, and how many of them are live (for the image's summary: no lock, no
 * allocation). */
int pml_rec_counts(int *live)
{
    int n = 0;
    for (int32_t i = 0; i < n_entries; i++)
        n += entries[i]->live != 0;
    *live = n;
    return n_entries;
}
