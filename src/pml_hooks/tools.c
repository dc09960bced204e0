/* A PMPI tool (mpiP, IPM, Darshan, Score-P's and TAU's PMPI modes: MPI_X wrappers that count or
 * trace and call PMPI_X) runs under Revive as it does natively (newuser10 F2).
 *
 * Natively the program's MPI_X binds to the first definition in the global scope: a tool preloaded
 * (LD_PRELOAD) or linked before the MPI library (a DT_NEEDED library the program names first)
 * comes before libmpi, and its PMPI_X calls reach libmpi. Under Revive the layer is preloaded
 * ahead of both, so the program's MPI_X binds to the layer. The layer therefore defines each
 * function of its table as pml_own_X (PMPI_X its alias: a tool's PMPI_X calls and the layer's own
 * calls go straight there) and exports MPI_X as a jump through pml_fwd[X] (gen_mpi.py,
 * write_trampolines). At load, this file points pml_fwd[X] at the definition of MPI_X the global
 * scope has after the layer when that one is not the MPI library's: the tool's, which the program
 * natively called. The same rule covers the Fortran bindings (the application's copy of them
 * calls the C function by symbol: MPICH's mpi_allreduce_ calls MPI_Allreduce, so the tool sees
 * it, Open MPI's calls PMPI_Allreduce, so it does not: as natively).
 *
 * What cannot be matched is said once at MPI_Init on rank 0 (pml_tools_report), never passed
 * over in silence: wrappers of PMPI_X themselves (the layer answers PMPI_X: a wrapper behind it
 * would have to reach the application's copy of the library, which never runs), and wrappers of
 * the calls the layer writes outside its table (the MPI-1 calls MPI-3 removed, the handle
 * conversions, MPI_Aint_add/diff). A tool loaded later with dlopen is not looked for: natively
 * the program's calls are bound to libmpi before it, too. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#define PML_WANT_NAMES
#include "pml_hooks/ckpt.h"
#include "common/libc_dlsym.h"

#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

/* the calls of the MPI interface the layer defines outside its table (mpi_iface.def's @extra):
 * not forwarded, a tool's wrapper of one is reported */
static const char *const unforwarded[] = {
    "MPI_Attr_put", "MPI_Attr_get", "MPI_Attr_delete", "MPI_Keyval_create", "MPI_Keyval_free",
    "MPI_Errhandler_create", "MPI_Errhandler_set", "MPI_Errhandler_get", "MPI_Address",
    "MPI_Type_hvector", "MPI_Type_hindexed", "MPI_Type_struct", "MPI_Type_extent", "MPI_Type_lb",
    "MPI_Type_ub", "MPI_Aint_add", "MPI_Aint_diff", "MPI_Comm_c2f", "MPI_Comm_f2c",
    "MPI_Group_c2f", "MPI_Group_f2c", "MPI_Type_c2f", "MPI_Type_f2c", "MPI_Op_c2f", "MPI_Op_f2c",
    "MPI_Errhandler_c2f", "MPI_Errhandler_f2c", "MPI_Info_c2f", "MPI_Info_f2c",
    "MPI_Request_c2f", "MPI_Request_f2c", "MPI_Message_c2f", "MPI_Message_f2c", "MPI_File_c2f",
    "MPI_File_f2c", "MPI_Win_c2f", "MPI_Win_f2c",
};

/* what the load found: the first object of each kind, its first name, how many names in all */
struct found {
    char obj[256], first[96];
    int n;
};
static struct found forwarded, pmpi_level, passed_over;

/* the application's copy of the MPI library, once found */
static struct link_map *mpi_map;

static const char *base_name(const char *p)
{
    const char *b = p ? strrchr(p, '/') : NULL;
    return b ? b + 1 : p && *p ? p : "the program";
}

#ifdef PML_OMPI
#define LIBRARY_PROBE "ompi_mpi_init" /* as layer.c's UPPER_PROBE: the layer defines it too */
#else
#define LIBRARY_PROBE "MPIR_Dup_fn"
#endif

/* 1 when the loaded object M is the MPI library (layer.h): the object that defines the library's own probe (found after the layer), or one
 * named as the MPI libraries' files are (libmpi.so.40, libmpich.so.12, MPICH's libmpi.so.12;
 * not mpiP's libmpiP.so). No lookup on M itself: glibc's dlsym takes only handles dlopen gave
 * (a link map of an object loaded with the program has no scope of its own: SIGSEGV). */
int pml_tools_mpi_library(void *mv)
{
    struct link_map *m = mv, *lib = __atomic_load_n(&mpi_map, __ATOMIC_ACQUIRE);
    if (!lib) {
        Dl_info di;
        void *probe = revive_dlsym_next(LIBRARY_PROBE);
        if (!probe)
            dlerror();
        else if (dladdr1(probe, &di, (void **)&lib, RTLD_DL_LINKMAP) && lib)
            __atomic_store_n(&mpi_map, lib, __ATOMIC_RELEASE);
    }
    if (m == lib)
        return 1;
    const char *b = base_name(m->l_name);
    return !strncmp(b, "libmpi.so", 9) || !strncmp(b, "libmpich.so", 11);
}

/* The object after the layer that NAME binds to when it is not the MPI library: a tool's
 * definition (returned, its object noted in F), else NULL. */
static void *tool_definition(const char *name, struct found *f)
{
    void *fn = revive_dlsym_next(name);
    if (!fn) {
        dlerror();
        return NULL;
    }
    Dl_info di;
    struct link_map *m = NULL;
    if (!dladdr1(fn, &di, (void **)&m, RTLD_DL_LINKMAP) || !m || pml_tools_mpi_library(m))
        return NULL;
    if (!f->n++) {
        snprintf(f->obj, sizeof f->obj, "%s", base_name(m->l_name));
        snprintf(f->first, sizeof f->first, "%s", name);
    }
    return fn;
}

__attribute__((constructor)) static void pml_tools_load(void)
{
    char pname[96];
    for (int i = 0; i < PML_NFUNCS; i++) {
        if (!pml_fwd[i]) /* not in this library's interface (an MPI-4 call) */
            continue;
        void *t = tool_definition(pml_fn_names[i], &forwarded);
        if (t)
            pml_fwd[i] = t;
        snprintf(pname, sizeof pname, "P%s", pml_fn_names[i]);
        tool_definition(pname, &pmpi_level);
    }
    for (size_t i = 0; i < sizeof unforwarded / sizeof unforwarded[0]; i++)
        tool_definition(unforwarded[i], &passed_over);
}

/* "OBJ defines FIRST" and, when it defines more, " and N more WHAT": the subject of each report */
static const char *defines(char *buf, size_t cap, const struct found *f, const char *what)
{
    if (f->n > 1)
        snprintf(buf, cap, "%s defines %s and %d more %s", f->obj, f->first, f->n - 1, what);
    else
        snprintf(buf, cap, "%s defines %s", f->obj, f->first);
    return buf;
}

void pml_tools_report(void)
{
    if (pml_world_rank != 0)
        return;
    char m[sizeof forwarded.obj + sizeof forwarded.first + 64];
    if (forwarded.n)
        revive_log_info("a PMPI tool: %s, which the program's calls reach first, its PMPI_ calls "
                        "Revive's layer (as natively the MPI library)",
                        defines(m, sizeof m, &forwarded, "MPI functions"));
    if (pmpi_level.n)
        revive_log_warn("%s: under Revive every PMPI_ call is answered by Revive's layer, which "
                        "stands in front of the MPI library, so these wrappers never run (a tool's "
                        "MPI_ wrappers calling PMPI_ do); wrap the MPI_ names, or run without -am "
                        "ft-enable-cr to use them",
                        defines(m, sizeof m, &pmpi_level, "PMPI functions"));
    if (passed_over.n)
        revive_log_warn("%s, which Revive's layer answers itself (the MPI-1 calls MPI-3 removed, "
                        "the handle conversions, MPI_Aint_add/diff): the program's calls of these "
                        "do not reach the tool's wrappers (its wrappers of other MPI functions "
                        "run); run without -am ft-enable-cr to trace them",
                        defines(m, sizeof m, &passed_over, "such functions"));
}
