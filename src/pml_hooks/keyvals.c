/* Freeing a keyval (MPI_Comm/Type/Win_free_keyval, and MPI_Keyval_free through the first). The
 * standard keeps a freed keyval valid until the last attribute that uses it is deleted: the
 * library still copies such an attribute when its object is duplicated and runs its delete
 * callback when its object is freed. The layer used to forget a freed keyval at once: a snapshot
 * then left out the attributes that still used it and a restart did not make the keyval again,
 * so after a restart those attributes were gone (no copy, no delete callback: output unlike the
 * native run's), and the keyval's number went to the next keyval made, which the library's
 * callbacks for the old attributes then named.
 *
 * Now a keyval the program frees while some object still has an attribute of it stays in the
 * layer and in the lower half, marked freed (the program's variable gets MPI_KEYVAL_INVALID, as
 * natively): its creation stays in the record (a restart makes it again), its attributes are
 * saved and set again like any others, its number is not given out again. The layer frees it in
 * the lower half, and forgets it, once no communicator, datatype or window it knows has an
 * attribute of it; that is checked whenever the program frees or makes a keyval. Attributes of
 * a freed keyval are asked for with the library's own MPI_*_get_attr, which both libraries
 * answer for a keyval that still has attributes (checked natively: Open MPI 4.1, MPICH 4.0). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "common/libc_dlsym.h"
#include "pml_hooks/layer.h"
#include "pml_hooks/ckpt.h"

#include <dlfcn.h>
#include <pthread.h>

#define PML_KV_FREED 0x8000u /* in struct pml_vh's flags: the program freed the keyval */

#ifdef PML_OMPI
/* the application's WORLD and SELF (restart.c saves their attributes the same way) */
#define app_comm(name, mpich) ((uintptr_t)revive_dlsym(RTLD_DEFAULT, name))
#else
#define app_comm(name, mpich) (mpich)
#endif

/* keyvals the program freed that the layer keeps (few: most are freed without attributes) */
static int *zombies;
static int nzombies, capzombies;
static pthread_mutex_t kv_lock = PTHREAD_MUTEX_INITIALIZER;

static int kind_of(const struct pml_vh *kh)
{
    int fid, live;
    const unsigned char *b;
    size_t len;
    if (kh->rec >= 0 && pml_rec_entry(kh->rec, &fid, &live, &b, &len) == 0)
        return pml_keyval_kind(fid);
    return 0;
}

static int has_attr(int okind, uintptr_t real_obj, int real_kv)
{
    void *val = NULL;
    int flag = 0, rc;
    if (okind == PML_TYPE)
        rc = pml_L.MPI_Type_get_attr((MPI_Datatype)real_obj, real_kv, &val, &flag);
    else if (okind == PML_WIN)
        rc = pml_L.MPI_Win_get_attr((MPI_Win)real_obj, real_kv, &val, &flag);
    else
        rc = pml_L.MPI_Comm_get_attr((MPI_Comm)real_obj, real_kv, &val, &flag);
    return rc == MPI_SUCCESS && flag;
}

/* Whether any object of kind okind the layer knows has an attribute of keyval real_kv. */
static int in_use(int okind, int real_kv)
{
    uint32_t n = __atomic_load_n(&pml_vh_used, __ATOMIC_ACQUIRE);
    for (uint32_t i = 1; i < n; i++) {
        struct pml_vh *h = &pml_vh_tab[i];
        if (h->kind == okind && h->real && has_attr(okind, h->real, real_kv))
            return 1;
    }
    if (okind == PML_COMM)
        return has_attr(okind, pml_v2r(app_comm("ompi_mpi_comm_world", PML_H(MPI_COMM_WORLD))), real_kv) ||
               has_attr(okind, pml_v2r(app_comm("ompi_mpi_comm_self", PML_H(MPI_COMM_SELF))), real_kv);
    return 0;
}

static int lower_free(int okind, int *real)
{
    if (okind == PML_TYPE)
        return pml_L.MPI_Type_free_keyval(real);
    if (okind == PML_WIN)
        return pml_L.MPI_Win_free_keyval(real);
    return pml_L.MPI_Comm_free_keyval(real);
}

/* Frees, in the lower half and in the layer, each freed keyval no attribute uses any more.
 * Called by a program's thread inside an entry point, with kv_lock held. */
static void collect(void)
{
    for (int i = 0; i < nzombies;) {
        int v = zombies[i];
        struct pml_vh *kh = &pml_vh_tab[(uint32_t)v & 0x3ffffff];
        int okind = kind_of(kh), real = (int)kh->real;
        if (okind && in_use(okind, real)) {
            i++;
            continue;
        }
        int rc = okind ? lower_free(okind, &real) : MPI_SUCCESS;
        if (rc != MPI_SUCCESS)
            revive_log_warn("a freed keyval could not be freed in the MPI library (error %d)", rc);
        kh->flags &= ~PML_KV_FREED;
        pml_kv_release(v);
        zombies[i] = zombies[--nzombies];
    }
}

/* The program frees keyval *keyval, for objects of kind okind. */
static int free_keyval(int okind, int *keyval)
{
    uint32_t u = (uint32_t)*keyval;
    struct pml_vh *kh = (u & 0xFC000000u) == PML_KV_TAG && (u & 0x3ffffff) < pml_vh_used
                            ? &pml_vh_tab[u & 0x3ffffff] : NULL;
    if (!kh || kh->kind != PML_KEYVAL || (kh->flags & PML_KV_FREED) || kind_of(kh) != okind) {
        /* predefined, unknown, already freed or of another kind: the library answers as natively */
        int r = kh && kh->kind == PML_KEYVAL && !(kh->flags & PML_KV_FREED) ? (int)kh->real : *keyval;
        int rc = lower_free(okind, &r);
        if (rc == MPI_SUCCESS) {
            if (kh && kh->kind == PML_KEYVAL && !(kh->flags & PML_KV_FREED))
                pml_kv_release(*keyval);
            *keyval = r;
        }
        return rc;
    }
    pthread_mutex_lock(&kv_lock);
    if (nzombies == capzombies) {
        int cap = capzombies ? capzombies * 2 : 16;
        int *z = realloc(zombies, (size_t)cap * sizeof *z);
        if (!z)
            pml_fatal("out of memory freeing a keyval");
        zombies = z;
        capzombies = cap;
    }
    kh->flags |= PML_KV_FREED;
    zombies[nzombies++] = *keyval;
    collect(); /* frees it at once when no attribute uses it (the usual case) */
    pthread_mutex_unlock(&kv_lock);
    *keyval = MPI_KEYVAL_INVALID;
    return MPI_SUCCESS;
}

/* After the program made a keyval (layer.c, win.c, fortran_paths.c): a chance to let go of
 * freed ones whose attributes are gone since. */
void pml_kv_collect_some(void)
{
    if (__atomic_load_n(&nzombies, __ATOMIC_RELAXED) == 0)
        return;
    pthread_mutex_lock(&kv_lock);
    collect();
    pthread_mutex_unlock(&kv_lock);
}

#define FREE_KEYVAL(X, K)                                                                      \
    int MPI_##X##_free_keyval(int *keyval)                                                     \
    {                                                                                          \
        if (__builtin_expect(pml_L.MPI_##X##_free_keyval == NULL, 0))                          \
            return pml_not_ready("MPI_" #X "_free_keyval");                                    \
        PML_GATE_ENTER(PML_FID_MPI_##X##_free_keyval);                                         \
        int rc = free_keyval(K, keyval);                                                       \
        PML_GATE_LEAVE();                                                                      \
        return rc;                                                                             \
    }                                                                                          \
    int PMPI_##X##_free_keyval(int *) __attribute__((alias("pml_own_MPI_" #X "_free_keyval")));

FREE_KEYVAL(Comm, PML_COMM)
FREE_KEYVAL(Type, PML_TYPE)
FREE_KEYVAL(Win, PML_WIN)
