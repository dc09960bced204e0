/* Attributes of the library's own duplicates (campaign-failures.md #29). Making a window or
 * opening a file, the library duplicates the communicator, and the duplicate gets the
 * communicator's attributes through the program's copy callbacks; freeing the window (closing
 * the file) deletes them through its delete callbacks. The program never has that duplicate.
 * A restart makes the window (file) again before the communicators' attributes are set again,
 * with the callbacks quiet (they ran before the snapshot): the fresh duplicate had no attribute,
 * so freeing the window after the restart ran no delete callback (a program counting its
 * callbacks was one short for ever: rst_fmany, rst_freeobj).
 *
 * Now the copy callbacks' results while the program's window or file is made are kept with
 * it (what the program's copy function gave: keyval, value, language); when a restart makes
 * it again, those values are put on its communicator for the time of the call and handed
 * through unchanged (the program's copy function not called again), then taken off quietly.
 * The fresh duplicate then holds what the old one held, and the library deletes it as before.
 * Thread-local: the library calls the copy callbacks in the thread that makes the object. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/layer.h"
#include "pml_hooks/objs.h"
#include "pml_hooks/replay.h"
#include "pml_hooks/restart.h"

#include <stdlib.h>

static __thread struct pml_dup_attrs *recording;
static __thread int handing_back;

void pml_dupattr_record(struct pml_dup_attrs *into)
{
    recording = into;
}

void pml_dupattr_note(int vkv, int lang, MPI_Aint val)
{
    struct pml_dup_attrs *d = recording;
    if (!d || handing_back)
        return;
    for (int i = 0; i < d->n; i++)
        if (d->a[i].vkv == vkv) { /* the library duplicated twice: the same attribute */
            d->a[i].val = val;
            d->a[i].lang = lang;
            return;
        }
    void *na = realloc(d->a, (size_t)(d->n + 1) * sizeof *d->a);
    if (!na)
        pml_fatal("out of memory for the attributes of an MPI window's or file's communicator");
    d->a = na;
    d->a[d->n].vkv = vkv;
    d->a[d->n].lang = lang;
    d->a[d->n].val = val;
    d->n++;
}

int pml_dupattr_handing_back(void)
{
    return handing_back;
}

void pml_dupattr_free(struct pml_dup_attrs *d)
{
    free(d->a);
    d->a = NULL;
    d->n = 0;
}

/* Each of d's attributes whose keyval the fresh library knows (made again by the replay; one
 * the layer forgot since, freed by the program, is left out: its attribute is lost, as before),
 * on the real communicator rcomm: set (begin) or deleted (end). */
static int each(const struct pml_dup_attrs *d, MPI_Comm rcomm, int set)
{
    int quiet = pml_attr_quiet_begin(); /* no callback of the program's runs for these */
    int rc = MPI_SUCCESS;
    for (int i = 0; i < d->n && rc == MPI_SUCCESS; i++) {
        const struct pml_dup_attr *a = &d->a[i];
        uintptr_t kv;
        if (pml_rp_real_of((uintptr_t)(uint32_t)a->vkv, &kv) < 0)
            continue;
        if (!set)
            pml_L.MPI_Comm_delete_attr(rcomm, (int)kv);
        else if (a->lang != PML_KV_C)
            rc = pml_fattr_set(PML_COMM, (uintptr_t)rcomm, (int)kv, a->val, a->lang);
        else
            rc = pml_L.MPI_Comm_set_attr(rcomm, (int)kv, (void *)(intptr_t)a->val);
    }
    pml_attr_quiet_end(quiet);
    return rc;
}

int pml_dupattr_handback_begin(const struct pml_dup_attrs *d, MPI_Comm rcomm)
{
    if (!d->n)
        return MPI_SUCCESS;
    int rc = each(d, rcomm, 1);
    handing_back = rc == MPI_SUCCESS;
    return rc;
}

void pml_dupattr_handback_end(const struct pml_dup_attrs *d, MPI_Comm rcomm)
{
    if (!d->n)
        return;
    handing_back = 0;
    each(d, rcomm, 0);
}
