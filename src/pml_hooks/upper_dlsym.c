/* dlsym on the MPI library's own handle gives the layer's entry points (newuser7f F6).
 *
 * A program that is not linked against MPI and calls it through dlsym on the handle dlopen gave
 * for the library (Julia's MPI.jl, Python ctypes/cffi bindings, R's Rmpi loaded dynamically:
 * dlopen("libmpi.so.40"), dlsym(handle, "MPI_Init")) gets, from glibc, the library's own
 * functions: a lookup on a handle searches that object and its dependencies only, never the
 * preloaded layer. The library's MPI_Init then ran natively, no rank was ever under Revive, and
 * nothing said so. So the layer defines dlsym: a lookup on an explicit handle whose answer is a
 * function of the MPI library the layer stands in front of (the definition the global scope
 * has after the layer: libmpi, libmpi_mpifh, libmpich, libmpifort ...) for a name the layer
 * defines is answered with the layer's function, which is what a program linked against the
 * library binds to (the global scope, the layer first).
 * Anything else gets glibc's answer unchanged: another object's function of the same name (R's
 * Rmpi.so defines mpi_wait, which the layer's Open MPI side defines as Fortran's MPI_WAIT),
 * other names (the library's data symbols such as
 * ompi_mpi_comm_world are the application's copy's, as for a linked program), other objects,
 * dlvsym, and RTLD_DEFAULT and RTLD_NEXT, which glibc resolves relative to the calling object:
 * those are passed on by a jump (not a call), so that glibc sees the program's return address
 * and not the layer's (a C call cannot be made a guaranteed tail call: hence the few lines of
 * assembly). x86-64 only, as the layer is (upper_guard.c reads REG_RSP). The lower half's lookups
 * are its own namespace's libc's and never come here.
 *
 * Open MPI: the library's own MPI_Init reached anyway (a second copy of libmpi.so.40 the program
 * loaded from another file, which Julia's or a Python package's bundled MPI is; a plugin loaded
 * with RTLD_DEEPBIND; a pointer found past dlsym) calls ompi_mpi_init through its PLT, which the
 * global scope binds to the layer's: the rank stops there with one message saying so, rather
 * than run natively where no snapshot can be taken (nor could a second copy run natively beside
 * the one the program was started with: its calls through its PLT reach the first copy's
 * functions). MPICH's MPI_Init calls nothing the layer could define; ckpt-mpirun
 * says when no rank has connected for a while (coord_startwait.c). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "common/libc_dlsym.h"
#include "pml_hooks/layer.h"

#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#if defined(__x86_64__)

#define HIDDEN __attribute__((visibility("hidden")))

HIDDEN void *(*pml_dlsym_real)(void *, const char *); /* the next dlsym: libc's */
HIDDEN void pml_dlsym_init(void);
HIDDEN void *pml_dlsym_handle(void *handle, const char *name);
HIDDEN void *pml_dlsym_next_mpi(const char *name, const void *caller);

/* dlsym: RTLD_DEFAULT (0) and RTLD_NEXT (-1) jump to the real dlsym with the caller's return
 * address on the stack; an explicit handle goes to pml_dlsym_handle (which needs no caller).
 * The first call may come before the layer's constructor ran (a constructor of libcr, loaded
 * first, or of a library the program needs): the real dlsym is looked up then. */
__asm__(".text\n"
        /* the two arguments kept across a call, the stack 16-aligned for it: 24(%rsp) is then
         * dlsym's return address */
        ".macro pml_dlsym_save\n"
        "    push %rdi\n"
        ".cfi_adjust_cfa_offset 8\n"
        "    push %rsi\n"
        ".cfi_adjust_cfa_offset 8\n"
        "    sub $8, %rsp\n"
        ".cfi_adjust_cfa_offset 8\n"
        ".endm\n"
        ".macro pml_dlsym_restore\n"
        "    add $8, %rsp\n"
        ".cfi_adjust_cfa_offset -8\n"
        "    pop %rsi\n"
        ".cfi_adjust_cfa_offset -8\n"
        "    pop %rdi\n"
        ".cfi_adjust_cfa_offset -8\n"
        ".endm\n"
        ".globl dlsym\n"
        ".type dlsym, @function\n"
        "dlsym:\n"
        ".cfi_startproc\n"
        "    endbr64\n" /* a no-op without CET; an indirect branch's target with it */
        "    test %rdi, %rdi\n"
        "    je 1f\n"
        "    cmp $-1, %rdi\n"
        "    je 3f\n"
        "    jmp pml_dlsym_handle\n"
        /* RTLD_NEXT: pml_dlsym_next_mpi(name, the caller's return address) answers a C name of
         * the MPI interface asked by a tool after the layer, else (0) glibc does */
        "3:  pml_dlsym_save\n"
        "    mov %rsi, %rdi\n"
        "    mov 24(%rsp), %rsi\n"
        "    call pml_dlsym_next_mpi\n"
        "    pml_dlsym_restore\n"
        "    test %rax, %rax\n"
        "    je 1f\n"
        "    ret\n"
        "1:  mov pml_dlsym_real(%rip), %rax\n"
        "    test %rax, %rax\n"
        "    je 2f\n"
        "    jmp *%rax\n"
        "2:  pml_dlsym_save\n"
        "    call pml_dlsym_init\n"
        "    pml_dlsym_restore\n"
        "    jmp *pml_dlsym_real(%rip)\n"
        ".cfi_endproc\n"
        ".size dlsym, .-dlsym\n"
        ".purgem pml_dlsym_save\n"
        ".purgem pml_dlsym_restore\n");

static void say(const char *s)
{
    ssize_t w = write(2, s, strlen(s));
    (void)w;
}

void pml_dlsym_init(void)
{
    if (__atomic_load_n(&pml_dlsym_real, __ATOMIC_ACQUIRE))
        return;
    /* the C library's, by its version (common/libc_dlsym.h): a dlsym the program or a library it
     * preloads defines (a tracing tool's) has none and is passed over, as the layer's own is */
    revive_dlsym_fn *f = revive_libc_dlsym();
    if (!f) {
        say("revive: mpi: Revive's MPI layer cannot find the C library's dlsym (no dlsym@GLIBC_2.34 "
            "nor @GLIBC_2.2.5): this C library is not one the layer supports; stopping\n");
        _exit(127);
    }
    __atomic_store_n(&pml_dlsym_real, f, __ATOMIC_RELEASE);
}

__attribute__((constructor)) static void dlsym_at_load(void)
{
    pml_dlsym_init();
}

/* the layer's own link map (the object this file is in) */
static struct link_map *layer_map(void)
{
    static struct link_map *me;
    struct link_map *m = __atomic_load_n(&me, __ATOMIC_ACQUIRE);
    Dl_info di;
    if (!m && dladdr1((void *)&pml_dlsym_handle, &di, (void **)&m, RTLD_DL_LINKMAP) && m)
        __atomic_store_n(&me, m, __ATOMIC_RELEASE);
    return m;
}

/* 1 when HANDLE is an object of the program's namespace (not the lower half's). dlinfo takes
 * ld.so's lock: a walk of its list without it could read a link map another thread's dlclose
 * frees meanwhile (diffrev38 R-L3); the handle was just accepted by glibc's dlsym. */
static int base_namespace(void *handle)
{
    Lmid_t lmid = -1;
    if (dlinfo(handle, RTLD_DI_LMID, &lmid) != 0) {
        dlerror(); /* not the program's error */
        return 0;
    }
    return lmid == LM_ID_BASE;
}

/* 1 when FN is a function of an MPI library's object (libmpi.so.40, libmpi_mpifh, libmpi_usempif08,
 * libmpich.so.12, libmpichfort, libmpifort: every MPI library's file name starts so). A name of
 * the MPI interface's alone is not enough: R's Rmpi.so, loaded RTLD_GLOBAL, defines mpi_wait and
 * looks it up on its own handle; the layer's Open MPI side defines mpi_wait too (Fortran's
 * MPI_WAIT), and R called that with its own arguments: SIGSEGV at Rmpi's first mpi.wait()
 * (newuser10 F1). */
static int in_mpi_library(void *fn)
{
    Dl_info di;
    struct link_map *m = NULL;
    if (!dladdr1(fn, &di, (void **)&m, RTLD_DL_LINKMAP) || !m || !m->l_name)
        return 0;
    const char *b = strrchr(m->l_name, '/');
    b = b ? b + 1 : m->l_name;
    return !strncmp(b, "libmpi", 6);
}

/* 1 when NAME may be one the layer defines: the MPI interface's (MPI_, PMPI_, MPIX_ and the
 * Fortran names, any case); a cheap test before any look at objects */
static int mpi_name(const char *name)
{
    return name && (!strncasecmp(name, "mpi", 3) || !strncasecmp(name, "pmpi", 4));
}

void *pml_dlsym_handle(void *handle, const char *name)
{
    pml_dlsym_init();
    /* the handle's own lookup first: not found (dlerror says why), or not an MPI name of the
     * program's copy of the library (the common case: every other object's symbols; every
     * lookup of the layer's in the lower half) is the answer */
    void *r = pml_dlsym_real(handle, name);
    if (!r || !mpi_name(name) || !base_namespace(handle) || !in_mpi_library(r))
        return r;
    /* the library's function the layer stands in front of: the definition the global scope has
     * after the layer (this C call's return address is the layer's). Another copy of the
     * library (another file, loaded RTLD_LOCAL) is not redirected: its MPI_Init stops the rank
     * below (Open MPI), as the layer cannot run a copy it does not know */
    void *next = pml_dlsym_real(RTLD_NEXT, name);
    if (!next)
        dlerror(); /* the program's lookup succeeded: no error of ours left for its dlerror() */
    if (r != next)
        return r;
    /* what the program's global scope binds the name to, when that is the layer's: the lookup
     * is made from here, but RTLD_DEFAULT searches the global scope of the caller's namespace,
     * which the layer shares with the program */
    void *mine = pml_dlsym_real(RTLD_DEFAULT, name);
    if (!mine)
        dlerror();
    Dl_info di;
    struct link_map *m = NULL;
    if (mine && dladdr1(mine, &di, (void **)&m, RTLD_DL_LINKMAP) && m && m == layer_map())
        return mine;
    return r;
}

/* dlsym(RTLD_NEXT, NAME) made by CALLER, for a C name of the MPI interface (MPI_X, PMPI_X): a PMPI
 * tool after the layer that reaches the library so (Darshan's preloaded build maps every
 * PMPI_File_* it wraps with dlsym(RTLD_NEXT), tools.c forwards the program's calls to it) would
 * natively get the MPI library's function; under Revive that is the application's copy, which
 * never runs (the guard stops the rank at it; its MPI_Init would not even reach the layer), so the
 * answer is the layer's own PMPI_X, where the library stood. The next definition after the
 * caller is looked for as glibc does, object after object in the program's list from the caller
 * on (objects loaded with the program and RTLD_GLOBAL ones: a tool looks up its functions at its
 * start or at MPI_Init, not while another thread closes a library); another tool's stands. NULL:
 * glibc answers (any other name or caller, and the caller before the layer: the program's own
 * wrappers find the layer's exported names, as natively the tool's or the library's). */
void *pml_dlsym_next_mpi(const char *name, const void *caller)
{
    if (!name || (strncmp(name, "MPI_", 4) && strncmp(name, "PMPI_", 5)))
        return NULL;
    pml_dlsym_init();
    Dl_info di;
    struct link_map *c = NULL, *me = layer_map(), *m;
    if (!me || !dladdr1(caller, &di, (void **)&c, RTLD_DL_LINKMAP) || !c || c == me)
        return NULL;
    for (m = me->l_next; m && m != c; m = m->l_next)
        ;
    if (!m) /* not after the layer (before it, or another namespace's) */
        return NULL;
    for (m = c->l_next; m; m = m->l_next) {
        /* a handle of dlopen's: glibc's dlsym takes no other (a link map of an object loaded
         * with the program has no scope of its own) */
        void *h = m->l_name && m->l_name[0] ? dlopen(m->l_name, RTLD_LAZY | RTLD_NOLOAD) : NULL;
        void *f = h ? pml_dlsym_real(h, name) : NULL;
        struct link_map *fm = NULL;
        if (!f)
            dlerror();
        int defines = f && dladdr1(f, &di, (void **)&fm, RTLD_DL_LINKMAP) && fm == m;
        if (h)
            dlclose(h);
        if (!defines) /* not defined, or found in one of its dependencies */
            continue;
        if (!pml_tools_mpi_library(m))
            return NULL;
        char own[96];
        snprintf(own, sizeof own, "%s%s", name[0] == 'P' ? "" : "P", name);
        void *lh = dlopen(me->l_name, RTLD_LAZY | RTLD_NOLOAD);
        void *o = lh ? pml_dlsym_real(lh, own) : NULL;
        if (!o)
            dlerror();
        if (lh)
            dlclose(lh);
        return o;
    }
    return NULL;
}

#ifdef PML_OMPI
int ompi_mpi_init(int argc, char **argv, int requested, int *provided, _Bool reinit_ok);

int ompi_mpi_init(int argc, char **argv, int requested, int *provided, _Bool reinit_ok)
{
    (void)argc, (void)argv, (void)requested, (void)provided, (void)reinit_ok;
    Dl_info di;
    const char *lib = dladdr(__builtin_return_address(0), &di) && di.dli_fname ? di.dli_fname : "?";
    const char *b = strrchr(lib, '/');
    b = b ? b + 1 : lib;
    if (!strncmp(b, "liboshmem", 9))
        pml_fatal("OpenSHMEM (%s: shmem_init) starts Open MPI by itself, not through Revive's "
                  "layer: OpenSHMEM programs do not run under Revive (only MPI programs do); "
                  "stopping. Run it without -am ft-enable-cr", lib);
    if (strncmp(b, "libmpi", 6))
        pml_fatal("%s starts Open MPI by itself (ompi_mpi_init), not through MPI_Init of Revive's "
                  "layer: such a rank would run outside Revive and no snapshot could be taken; "
                  "stopping. Run it without -am ft-enable-cr", lib);
    pml_fatal("MPI_Init of libmpi.so.40 (%s) was called directly, not through Revive's layer: "
              "the program reached the library's own MPI_Init (a copy of the library loaded from "
              "another file, as an MPI bundled with Julia's MPI.jl or a Python package; a plugin "
              "loaded with RTLD_DEEPBIND), so this rank would run outside Revive and no snapshot "
              "could be taken; stopping. Use the MPI library the job was started with (MPI.jl: "
              "the system binary), or run without -am ft-enable-cr",
              lib);
}
#endif

#endif
