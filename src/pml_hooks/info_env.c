/* Info objects the library makes, recorded as what they hold (MPI_Info_create, then MPI_Info_set
 * of each key and value), so that a restart gives the program the same object with the same
 * contents: MPI_Info_create_env (MPI-4, MPICH 4.0), whose replay would read the environment of
 * the restarted job instead, and MPI_File_get_info (io.c), whose file is opened again only after
 * the replay. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/layer.h"
#include "pml_hooks/ckpt.h"

#include <stdlib.h>

void pml_info_record_contents(uintptr_t v, uintptr_t real)
{
    MPI_Info r = (MPI_Info)real;
    struct pml_rec *R = pml_rec_open(PML_FID_MPI_Info_create);
    pml_rec_out(R, v);
    pml_rec_close(R);
    int n = 0;
    if (pml_L.MPI_Info_get_nkeys(r, &n) != MPI_SUCCESS)
        return;
    for (int i = 0; i < n; i++) {
        char key[MPI_MAX_INFO_KEY + 1];
        int len = 0, flag = 0;
        if (pml_L.MPI_Info_get_nthkey(r, i, key) != MPI_SUCCESS ||
            pml_L.MPI_Info_get_valuelen(r, key, &len, &flag) != MPI_SUCCESS || !flag)
            continue;
        char *val = malloc((size_t)len + 1);
        if (!val)
            pml_fatal("out of memory recording the contents of an info object");
        if (pml_L.MPI_Info_get(r, key, len, val, &flag) == MPI_SUCCESS && flag) {
            val[len] = 0;
            R = pml_rec_open(PML_FID_MPI_Info_set);
            pml_rec_handle(R, v);
            pml_rec_str(R, key);
            pml_rec_str(R, val);
            pml_rec_close(R);
        }
        free(val);
    }
}

#if MPI_VERSION >= 4

int MPI_Info_create_env(int argc, char *argv[], MPI_Info *info)
{
    if (__builtin_expect(pml_L.MPI_Info_create_env == NULL, 0))
        return pml_not_ready("MPI_Info_create_env");
    PML_GATE_ENTER(PML_FID_MPI_Info_create_env);
    MPI_Info r = (MPI_Info)pml_v2r(PML_H(MPI_INFO_NULL));
    int rc = pml_L.MPI_Info_create_env(argc, argv, &r);
    if (rc == MPI_SUCCESS) {
        *info = (MPI_Info)pml_new(PML_INFO, PML_H(r));
        pml_info_record_contents(PML_H(*info), PML_H(r));
    }
    PML_GATE_LEAVE();
    return rc;
}
int PMPI_Info_create_env(int, char *[], MPI_Info *) __attribute__((alias("pml_own_MPI_Info_create_env")));
#endif
