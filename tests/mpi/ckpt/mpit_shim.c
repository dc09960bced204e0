/* A stand-in MPI library for MPI_T (mpit_long.sh): the real library with one performance variable
 * more, as a library of another build or a plugin may have, that neither Open MPI 4.1 (33
 * pvars, all continuous, names of at most 31 bytes) nor MPICH 4.0 as packaged (none) has:
 *   SHIM_NAME  a name of 300 bytes (the layer cut names to 255 before: not found again by name
 *              after a restart);
 *   not continuous: a handle of it counts only once started, so a restart that did not start
 *              the program's started handle again shows in its reads.
 * Its index is the real library's count; its handle a pointer into this file. Every other
 * variable, handle and call is the real library's (RTLD_NEXT). Built by the test twice: beside
 * Revive's lower half root (REVIVE_MPI_LOWER, in the lower namespace: the layer takes the MPI_T
 * calls from here) and linked to the MPI library for the native run (LD_PRELOAD). Reads: the
 * 1 while started, 0 while stopped. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <mpi.h>
#include <string.h>

#define SHIM_PREFIX "revive_test_long_pvar_"
static char shim_name[301];
struct shim_handle {
    int started;
};
static struct shim_handle shim_h;
static MPI_T_pvar_session shim_ses;

static void *real(const char *fn)
{
    return dlsym(RTLD_NEXT, fn);
}

static const char *name(void)
{
    if (!shim_name[0]) {
        size_t n = strlen(SHIM_PREFIX);
        memcpy(shim_name, SHIM_PREFIX, n);
        memset(shim_name + n, 'x', sizeof shim_name - 1 - n);
    }
    return shim_name;
}

static int real_num(void)
{
    int (*f)(int *) = real("PMPI_T_pvar_get_num");
    int n = 0;
    return f && f(&n) == MPI_SUCCESS ? n : 0;
}

/* MPI_T's string rule: *len 0 asks the length; else at most *len - 1 bytes and the NUL */
static void copy_out(char *dst, int *len, const char *src)
{
    if (!len)
        return;
    int need = (int)strlen(src) + 1;
    if (!dst || *len == 0) {
        *len = need;
        return;
    }
    int k = need < *len ? need : *len;
    memcpy(dst, src, (size_t)k - 1);
    dst[k - 1] = 0;
    *len = k;
}

#define BOTH(ret, fn, params, args)                                                               \
    ret P##fn params;                                                                             \
    ret fn params { return P##fn args; }                                                          \
    ret P##fn params

BOTH(int, MPI_T_pvar_get_num, (int *num), (num))
{
    int rc = ((int (*)(int *))real("PMPI_T_pvar_get_num"))(num);
    if (rc == MPI_SUCCESS)
        ++*num;
    return rc;
}

BOTH(int, MPI_T_pvar_get_info,
     (int i, char *nm, int *nl, int *verb, int *cls, MPI_Datatype *dt, MPI_T_enum *en, char *desc,
      int *dl, int *bind, int *ro, int *cont, int *at),
     (i, nm, nl, verb, cls, dt, en, desc, dl, bind, ro, cont, at))
{
    if (i != real_num())
        return ((int (*)(int, char *, int *, int *, int *, MPI_Datatype *, MPI_T_enum *, char *,
                         int *, int *, int *, int *, int *))real("PMPI_T_pvar_get_info"))(
            i, nm, nl, verb, cls, dt, en, desc, dl, bind, ro, cont, at);
    copy_out(nm, nl, name());
    copy_out(desc, dl, "1 while started (Revive's test shim)");
    if (verb) *verb = MPI_T_VERBOSITY_USER_BASIC;
    if (cls) *cls = MPI_T_PVAR_CLASS_COUNTER;
    if (dt) *dt = MPI_UNSIGNED_LONG_LONG;
    if (en) *en = MPI_T_ENUM_NULL;
    if (bind) *bind = MPI_T_BIND_NO_OBJECT;
    if (ro) *ro = 1;
    if (cont) *cont = 0;
    if (at) *at = 0;
    return MPI_SUCCESS;
}

BOTH(int, MPI_T_pvar_get_index, (const char *nm, int cls, int *i), (nm, cls, i))
{
    if (nm && !strcmp(nm, name()) && cls == MPI_T_PVAR_CLASS_COUNTER) {
        *i = real_num();
        return MPI_SUCCESS;
    }
    return ((int (*)(const char *, int, int *))real("PMPI_T_pvar_get_index"))(nm, cls, i);
}

BOTH(int, MPI_T_pvar_handle_alloc,
     (MPI_T_pvar_session s, int i, void *obj, MPI_T_pvar_handle *h, int *count),
     (s, i, obj, h, count))
{
    if (i != real_num())
        return ((int (*)(MPI_T_pvar_session, int, void *, MPI_T_pvar_handle *, int *))real(
            "PMPI_T_pvar_handle_alloc"))(s, i, obj, h, count);
    shim_h.started = 0;
    shim_ses = s;
    *h = (MPI_T_pvar_handle)&shim_h;
    *count = 1;
    return MPI_SUCCESS;
}

BOTH(int, MPI_T_pvar_handle_free, (MPI_T_pvar_session s, MPI_T_pvar_handle *h), (s, h))
{
    if (h && *h == (MPI_T_pvar_handle)&shim_h) {
        *h = MPI_T_PVAR_HANDLE_NULL;
        return MPI_SUCCESS;
    }
    return ((int (*)(MPI_T_pvar_session, MPI_T_pvar_handle *))real("PMPI_T_pvar_handle_free"))(s, h);
}

/* start or stop: of the shim's handle, or with MPI_T_PVAR_ALL_HANDLES of it too */
static int startstop(const char *fn, MPI_T_pvar_session s, MPI_T_pvar_handle h, int on)
{
    if (h == (MPI_T_pvar_handle)&shim_h) {
        shim_h.started = on;
        return MPI_SUCCESS;
    }
    if (h == MPI_T_PVAR_ALL_HANDLES && s == shim_ses)
        shim_h.started = on;
    return ((int (*)(MPI_T_pvar_session, MPI_T_pvar_handle))real(fn))(s, h);
}

BOTH(int, MPI_T_pvar_start, (MPI_T_pvar_session s, MPI_T_pvar_handle h), (s, h))
{
    return startstop("PMPI_T_pvar_start", s, h, 1);
}

BOTH(int, MPI_T_pvar_stop, (MPI_T_pvar_session s, MPI_T_pvar_handle h), (s, h))
{
    return startstop("PMPI_T_pvar_stop", s, h, 0);
}

BOTH(int, MPI_T_pvar_read, (MPI_T_pvar_session s, MPI_T_pvar_handle h, void *buf), (s, h, buf))
{
    if (h != (MPI_T_pvar_handle)&shim_h)
        return ((int (*)(MPI_T_pvar_session, MPI_T_pvar_handle, void *))real("PMPI_T_pvar_read"))(
            s, h, buf);
    *(unsigned long long *)buf = shim_h.started ? 1 : 0;
    return MPI_SUCCESS;
}
