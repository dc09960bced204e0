/* Which MPI call the application made, for messages: an entry point of the layer is reached
 * under its C name (MPI_File_open, or PMPI_File_open when a Fortran binding library calls it),
 * but a Fortran program called MPI_FILE_OPEN. The address the entry point returns to says who
 * called: inside a Fortran binding library (Open MPI's libmpi_mpifh, libmpi_usempif08,
 * libmpi_usempi_ignore_tkr; MPICH's libmpichfort or libmpifort), the binding function's own
 * symbol gives the Fortran name (ompi_file_open_f, mpi_file_open_, pmpi_file_open__,
 * mpi_file_open_f08_, __mpi_f08_..._MOD_mpi_file_open); elsewhere the C name stands. */
#define _GNU_SOURCE
#include "pml_hooks/layer.h"

#include <ctype.h>
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

static int fortran_library(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    return strstr(b, "mpifh") || strstr(b, "usempi") || strstr(b, "mpichfort") ||
           strstr(b, "mpifort");
}

static int starts(const char *s, const char *p)
{
    return !strncmp(s, p, strlen(p));
}

static int ends(const char *s, size_t len, const char *p)
{
    size_t l = strlen(p);
    return len >= l && !strncmp(s + len - l, p, l);
}

/* "MPI_" + the binding symbol's MPI name in capitals, or 0 if sym is not a binding's name. */
static int from_symbol(const char *sym, char *out, size_t n)
{
    const char *m = strstr(sym, "_MOD_");
    char s[96];
    snprintf(s, sizeof s, "%s", m ? m + 5 : sym);
    for (char *c = s; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    const char *p = s;
    int ompi = starts(p, "ompi_");
    if (ompi)
        p += 5;
    else if (starts(p, "pmpir_"))
        p += 6;
    else if (starts(p, "pmpi_"))
        p += 5;
    else if (starts(p, "mpi_"))
        p += 4;
    else
        return 0;
    size_t len = strlen(p);
    while (len && p[len - 1] == '_')
        len--;
    if (ends(p, len, "_f08"))
        len -= 4;
    else if (ends(p, len, "_f")) /* ompi_x_f, and its aliases MPI_X_f, PMPI_X_f */
        len -= 2;
    if (!len || len + 5 > n)
        return 0;
    memcpy(out, "MPI_", 4);
    for (size_t i = 0; i < len; i++) {
        if (!isalnum((unsigned char)p[i]) && p[i] != '_')
            return 0;
        out[4 + i] = (char)toupper((unsigned char)p[i]);
    }
    out[4 + len] = 0;
    return 1;
}

int pml_called_name(const char *name, const void *caller, char *out, size_t n)
{
    Dl_info di;
    if (caller && dladdr(caller, &di) && di.dli_fname && fortran_library(di.dli_fname)) {
        if (di.dli_sname && from_symbol(di.dli_sname, out, n))
            return 1;
        /* no usable symbol: the C name in capitals, without the profiling P */
        const char *c = name[0] == 'P' ? name + 1 : name;
        size_t i = 0;
        for (; c[i] && i + 1 < n; i++)
            out[i] = (char)toupper((unsigned char)c[i]);
        out[i] = 0;
        return 1;
    }
    snprintf(out, n, "%s", name);
    for (const char *c = out; *c; c++)
        if (islower((unsigned char)*c))
            return 0;
    return 1; /* given in Fortran already (MPI_ATTR_GET) */
}
