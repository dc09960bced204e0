/* The MPI-1 calls that MPI-2 deprecated and MPI-3 removed, which old codes still call and both
 * libraries still export (Open MPI 4.1 and MPICH 4.0, with their Fortran bindings: Open MPI's
 * libmpi_mpifh and MPICH's libmpichfort call these C functions, or the layer's replacements in
 * fortran_paths.c for MPI_ATTR_GET/PUT and MPI_KEYVAL_CREATE under Open MPI). Each is the modern
 * call the standard defines it as, made through the layer's own entry point, so it is recorded,
 * replayed and checkpointed exactly like that call: a keyval made here is a communicator keyval
 * with the layer's callbacks (layer.c), an attribute set here is saved and set again at a restart,
 * an error handler made or set here is the comm error handler it stands for. Both libraries
 * implement them the same way (checked natively: MPI_Type_hvector, _hindexed and _struct give the
 * combiners of MPI_Type_create_hvector, _hindexed and _struct). Before MPI_Init each stops the job
 * naming the call the program made. */
#define _GNU_SOURCE
#ifdef PML_OMPI
/* Open MPI's mpi.h declares them only when asked (they are in libmpi.so either way) */
#define OMPI_OMIT_MPI1_COMPAT_DECLS 0
#endif
#include "pml_hooks/layer.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/* MPI_Errhandler_create's function type, as each mpi.h declares it */
#ifdef PML_OMPI
typedef MPI_Handler_function pml_handler_fn;
#else
typedef MPI_Comm_errhandler_function pml_handler_fn;
#endif

#define READY(name)                                                                            \
    do {                                                                                       \
        if (__builtin_expect(pml_L.MPI_Comm_rank == NULL, 0))                                  \
            pml_not_ready(name);                                                               \
    } while (0)

int MPI_Attr_put(MPI_Comm comm, int keyval, void *attribute_val)
{
    READY("MPI_Attr_put");
    return MPI_Comm_set_attr(comm, keyval, attribute_val);
}

int MPI_Attr_get(MPI_Comm comm, int keyval, void *attribute_val, int *flag)
{
    READY("MPI_Attr_get");
    return MPI_Comm_get_attr(comm, keyval, attribute_val, flag);
}

int MPI_Attr_delete(MPI_Comm comm, int keyval)
{
    READY("MPI_Attr_delete");
    return MPI_Comm_delete_attr(comm, keyval);
}

int MPI_Keyval_create(MPI_Copy_function *copy_fn, MPI_Delete_function *delete_fn, int *keyval,
                      void *extra_state)
{
    READY("MPI_Keyval_create");
    /* the same function types: (comm, keyval, extra, in, out, flag) and (comm, keyval, val, extra) */
    return MPI_Comm_create_keyval((MPI_Comm_copy_attr_function *)copy_fn,
                                  (MPI_Comm_delete_attr_function *)delete_fn, keyval, extra_state);
}

int MPI_Keyval_free(int *keyval)
{
    READY("MPI_Keyval_free");
    return MPI_Comm_free_keyval(keyval);
}

int MPI_Errhandler_create(pml_handler_fn *function, MPI_Errhandler *errhandler)
{
    READY("MPI_Errhandler_create");
    return MPI_Comm_create_errhandler((MPI_Comm_errhandler_function *)function, errhandler);
}

int MPI_Errhandler_set(MPI_Comm comm, MPI_Errhandler errhandler)
{
    READY("MPI_Errhandler_set");
    return MPI_Comm_set_errhandler(comm, errhandler);
}

int MPI_Errhandler_get(MPI_Comm comm, MPI_Errhandler *errhandler)
{
    READY("MPI_Errhandler_get");
    return MPI_Comm_get_errhandler(comm, errhandler);
}

int MPI_Address(void *location, MPI_Aint *address)
{
    READY("MPI_Address");
    return MPI_Get_address(location, address);
}

int MPI_Type_hvector(int count, int blocklength, MPI_Aint stride, MPI_Datatype oldtype,
                     MPI_Datatype *newtype)
{
    READY("MPI_Type_hvector");
    return MPI_Type_create_hvector(count, blocklength, stride, oldtype, newtype);
}

int MPI_Type_hindexed(int count, int *array_of_blocklengths, MPI_Aint *array_of_displacements,
                      MPI_Datatype oldtype, MPI_Datatype *newtype)
{
    READY("MPI_Type_hindexed");
    return MPI_Type_create_hindexed(count, array_of_blocklengths, array_of_displacements, oldtype,
                                    newtype);
}

int MPI_Type_struct(int count, int *array_of_blocklengths, MPI_Aint *array_of_displacements,
                    MPI_Datatype *array_of_types, MPI_Datatype *newtype)
{
    READY("MPI_Type_struct");
    return MPI_Type_create_struct(count, array_of_blocklengths, array_of_displacements,
                                  array_of_types, newtype);
}

/* MPI-1's extent is ub - lb, its bounds lb and lb + extent: what MPI_Type_get_extent gives. */
int MPI_Type_extent(MPI_Datatype datatype, MPI_Aint *extent)
{
    READY("MPI_Type_extent");
    MPI_Aint lb;
    return MPI_Type_get_extent(datatype, &lb, extent);
}

int MPI_Type_lb(MPI_Datatype datatype, MPI_Aint *displacement)
{
    READY("MPI_Type_lb");
    MPI_Aint extent;
    return MPI_Type_get_extent(datatype, displacement, &extent);
}

int MPI_Type_ub(MPI_Datatype datatype, MPI_Aint *displacement)
{
    READY("MPI_Type_ub");
    MPI_Aint lb, extent;
    int rc = MPI_Type_get_extent(datatype, &lb, &extent);
    if (rc == MPI_SUCCESS)
        *displacement = lb + extent;
    return rc;
}

int PMPI_Attr_put(MPI_Comm, int, void *) __attribute__((alias("MPI_Attr_put")));
int PMPI_Attr_get(MPI_Comm, int, void *, int *) __attribute__((alias("MPI_Attr_get")));
int PMPI_Attr_delete(MPI_Comm, int) __attribute__((alias("MPI_Attr_delete")));
int PMPI_Keyval_create(MPI_Copy_function *, MPI_Delete_function *, int *, void *)
    __attribute__((alias("MPI_Keyval_create")));
int PMPI_Keyval_free(int *) __attribute__((alias("MPI_Keyval_free")));
int PMPI_Errhandler_create(pml_handler_fn *, MPI_Errhandler *)
    __attribute__((alias("MPI_Errhandler_create")));
int PMPI_Errhandler_set(MPI_Comm, MPI_Errhandler) __attribute__((alias("MPI_Errhandler_set")));
int PMPI_Errhandler_get(MPI_Comm, MPI_Errhandler *) __attribute__((alias("MPI_Errhandler_get")));
int PMPI_Address(void *, MPI_Aint *) __attribute__((alias("MPI_Address")));
int PMPI_Type_hvector(int, int, MPI_Aint, MPI_Datatype, MPI_Datatype *)
    __attribute__((alias("MPI_Type_hvector")));
int PMPI_Type_hindexed(int, int *, MPI_Aint *, MPI_Datatype, MPI_Datatype *)
    __attribute__((alias("MPI_Type_hindexed")));
int PMPI_Type_struct(int, int *, MPI_Aint *, MPI_Datatype *, MPI_Datatype *)
    __attribute__((alias("MPI_Type_struct")));
int PMPI_Type_extent(MPI_Datatype, MPI_Aint *) __attribute__((alias("MPI_Type_extent")));
int PMPI_Type_lb(MPI_Datatype, MPI_Aint *) __attribute__((alias("MPI_Type_lb")));
int PMPI_Type_ub(MPI_Datatype, MPI_Aint *) __attribute__((alias("MPI_Type_ub")));
