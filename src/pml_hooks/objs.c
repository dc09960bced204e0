/* What files (io.c) and windows (win.c) share: their clocks, and the references the layer holds
 * to the handles an object uses (see objs.h). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/objs.h"

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

/* Communicator ids are base * N + lowest member (clock.c), far below 2^63; an object's id has the
 * top bit set, the rest a hash of the parent's id, the parent's count at the creating call (which
 * every member has alike) and the kind. */
struct pml_comm *pml_obj_clock_new(const struct pml_comm *parent, int size, int rank, int tag)
{
    if (size <= 1 || !parent)
        return NULL;
    struct pml_comm *c = calloc(1, sizeof *c);
    if (!c)
        pml_fatal("out of memory for the clock of an MPI file or window");
    c->cid = (1ull << 63) | (mix64(parent->cid * 0x9E3779B97F4A7C15ull ^ mix64(parent->seq) ^
                                   (uint64_t)tag << 56) >> 1);
    c->size = size;
    c->rank = rank;
    c->flags = PML_COMM_OBJ;
    c->v = 0; /* no communicator: the drain has nothing to probe on it */
    c->eh_fatal = 1;
    pml_clock_add(c);
    revive_log_debug("%s of %d ranks has clock %#llx (creating collective %llu on communicator %llu)",
                     tag == 'F' ? "a file" : "a window", size, (unsigned long long)c->cid,
                     (unsigned long long)parent->seq, (unsigned long long)parent->cid);
    return c;
}

/* ---- references held by the layer ----------------------------------------------------------- */
void pml_vh_ref(uintptr_t v)
{
    struct pml_vh *h = pml_vh_of(v);
    if (!h || !h->kind)
        return; /* predefined */
    pml_vh_lock();
    if (h->flags == UINT32_MAX) {
        pml_vh_unlock();
        pml_fatal("more than %u references to one MPI handle (persistent requests, file views)",
                  UINT32_MAX);
    }
    h->flags++;
    h->lrefs++;
    pml_vh_unlock();
}

void pml_vh_unref(uintptr_t v)
{
    struct pml_vh *h = pml_vh_of(v);
    if (!h || !h->kind)
        return;
    pml_vh_lock();
    if (h->lrefs)
        h->lrefs--;
    struct pml_comm *c = h->kind == PML_COMM ? h->info : NULL;
    pml_vh_unlock();
    pml_vh_release(v); /* one reference fewer, or the handle goes if the program freed it */
    /* the last user of a communicator the program freed: its clock goes after an epoch */
    if (c && pml_comm_of(v) != c)
        pml_comm_freed(c);
}

void pml_vh_free_layer_held(void)
{
    for (uint32_t i = 1; i < pml_vh_used; i++) {
        struct pml_vh *h = &pml_vh_tab[i];
        if ((h->kind != PML_TYPE && h->kind != PML_COMM && h->kind != PML_ERRH) || !h->lrefs ||
            !h->real || h->flags + 1u > h->lrefs || pml_real_is_predef(h->real) ||
            (h->kind == PML_TYPE && pml_type_library_owned(h->real)))
            continue;
        if (h->kind == PML_ERRH) {
            /* a file's error handler (or MPI_FILE_NULL's) the program freed: the replay made
             * it, objs_restart set it on the file, and that reference is the library's only
             * one once this goes, as in the first run. Still mapped: MPI_File_get_errhandler
             * hands out this object again, and must find the layer's handle (its record). */
            MPI_Errhandler r = (MPI_Errhandler)h->real;
            pml_L.MPI_Errhandler_free(&r);
            revive_log_debug("error handler %#lx: the replay's reference freed (only the layer"
                             " holds it)", (unsigned long)pml_vh_handle(i));
            continue;
        }
        if (h->kind == PML_TYPE) {
            MPI_Datatype r = (MPI_Datatype)h->real;
            pml_L.MPI_Type_free(&r);
        } else {
            MPI_Comm r = (MPI_Comm)h->real;
            pml_L.MPI_Comm_free(&r);
        }
        pml_vh_unmap(pml_vh_handle(i));
    }
}
