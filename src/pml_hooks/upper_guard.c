/* The application's copy of the MPI library is loaded (the program needs it) but must never
 * run: its internals were never initialised, and the layer's virtual handles mean nothing to
 * them. Once MPI_Init has succeeded the layer makes that copy's code unreachable (PROT_NONE on
 * the executable segments of libmpi, libopen-rte and libopen-pal, or of libmpich), so that a
 * path the layer does not cover stops the rank with a message naming the function entered and
 * its caller, instead of running the library with meaningless state. The code is made
 * executable again by an exit handler (registered then, so it runs before ld.so's _dl_fini,
 * which calls every object's destructors). REVIVE_MPI_GUARD=0 leaves the copy alone.
 *
 * Only the MPI library's own objects are guarded: its third-party dependencies (hwloc, libevent,
 * PMIx, UCX) may be used by the application itself, and UCX's upper copy runs as the memory
 * hooks it installs at load (docs/mpi.md, "Knowing the halves apart"). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/layer.h"

#include <dlfcn.h>
#include <link.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#define NGUARD 16
static struct { uintptr_t lo, hi; } guarded[NGUARD];
static int nguarded;
static struct sigaction prev_segv;
static const void *probe_base;

static int guarded_object(const char *name, const void *base)
{
    if (base == probe_base)
        return 1; /* the library that defines the layer's probe (libmpi, libmpich) */
#ifdef PML_OMPI
    const char *b = strrchr(name, '/');
    b = b ? b + 1 : name;
    return !strncmp(b, "libopen-rte.so", 14) || !strncmp(b, "libopen-pal.so", 14);
#else
    (void)name;
    return 0;
#endif
}

static int add_segments(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    if (!info->dlpi_name || !info->dlpi_name[0])
        return 0;
    Dl_info di;
    const void *base = NULL;
    for (int i = 0; i < info->dlpi_phnum && !base; i++)
        if (info->dlpi_phdr[i].p_type == PT_LOAD &&
            dladdr((const void *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr), &di))
            base = di.dli_fbase;
    if (!guarded_object(info->dlpi_name, base))
        return 0;
    for (int i = 0; i < info->dlpi_phnum && nguarded < NGUARD; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uintptr_t lo = (info->dlpi_addr + ph->p_vaddr) & ~(uintptr_t)4095;
        uintptr_t hi = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + 4095) & ~(uintptr_t)4095;
        guarded[nguarded].lo = lo;
        guarded[nguarded].hi = hi;
        nguarded++;
    }
    return 0;
}

static const char *base_name(const char *p)
{
    const char *b = p ? strrchr(p, '/') : NULL;
    return b ? b + 1 : p ? p : "?";
}

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
    uintptr_t a = (uintptr_t)si->si_addr;
    int ours = 0;
    for (int i = 0; i < nguarded; i++)
        ours |= a >= guarded[i].lo && a < guarded[i].hi;
    if (ours) {
        ucontext_t *uc = ctx;
        uintptr_t ret = *(uintptr_t *)uc->uc_mcontext.gregs[REG_RSP]; /* pushed by the call */
        Dl_info t = { 0 }, c = { 0 };
        dladdr((void *)a, &t);
        dladdr((void *)ret, &c);
        pml_fatal("the application's copy of the MPI library was entered: %s in %s, called from %s"
                  "+%#lx in %s. Revive's layer does not route this path to the lower half yet;"
                  " stopping (REVIVE_MPI_GUARD=0 lets the call run, with undefined results)",
                  t.dli_sname ? t.dli_sname : "?", base_name(t.dli_fname),
                  c.dli_sname ? c.dli_sname : "offset",
                  (unsigned long)(ret - (uintptr_t)(c.dli_sname ? c.dli_saddr : c.dli_fbase)),
                  base_name(c.dli_fname));
    }
    /* not ours: as if this handler were not there */
    if (prev_segv.sa_flags & SA_SIGINFO) {
        prev_segv.sa_sigaction(sig, si, ctx);
    } else if (prev_segv.sa_handler == SIG_DFL || prev_segv.sa_handler == SIG_IGN) {
        signal(sig, SIG_DFL); /* the faulting instruction runs again and kills the process */
    } else {
        prev_segv.sa_handler(sig);
    }
}

static struct sigaction guard_action(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    return sa;
}

void pml_guard_lower_gone(int (*is_upper)(uint64_t))
{
    if (!nguarded)
        return;
    /* the action the guard passes faults on to is the program's own, kept (natively its SIGSEGV
     * handler stays; this set SIG_DFL in its place, and the rearm after the fresh MPI_Init then
     * passed faults to the default: the program's handler was gone after every restart), unless it
     * is the dead lower half's (a handler its constructors had set over the program's before
     * layer.c put those back): then SIG_DFL, first, so that no fault reaches the dead handler */
    uintptr_t h = (prev_segv.sa_flags & SA_SIGINFO) ? (uintptr_t)prev_segv.sa_sigaction
                                                    : (uintptr_t)prev_segv.sa_handler;
    if (h > (uintptr_t)SIG_IGN && !is_upper((uint64_t)h)) {
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        prev_segv = dfl;
    }
    /* until the guard is armed again after the fresh MPI_Init (pml_guard_rearm) */
    sigaction(SIGSEGV, &prev_segv, NULL);
}

void pml_guard_rearm(void)
{
    if (!nguarded)
        return;
    struct sigaction sa = guard_action(), was;
    if (sigaction(SIGSEGV, NULL, &was) == 0 && was.sa_sigaction != on_segv)
        sigaction(SIGSEGV, &sa, &prev_segv);
}

static void unguard(void)
{
    for (int i = 0; i < nguarded; i++)
        mprotect((void *)guarded[i].lo, guarded[i].hi - guarded[i].lo, PROT_READ | PROT_EXEC);
    nguarded = 0;
}

void pml_guard_upper(const void *upper_base)
{
    const char *env = getenv("REVIVE_MPI_GUARD");
    if ((env && !strcmp(env, "0")) || nguarded || !upper_base)
        return;
    probe_base = upper_base;
    dl_iterate_phdr(add_segments, NULL); /* the application's namespace only */
    struct sigaction sa = guard_action();
    if (sigaction(SIGSEGV, &sa, &prev_segv) != 0) {
        nguarded = 0;
        return;
    }
    atexit(unguard);
    int n = 0;
    for (int i = 0; i < nguarded; i++)
        if (mprotect((void *)guarded[i].lo, guarded[i].hi - guarded[i].lo, PROT_NONE) == 0)
            n++;
    revive_log_debug("the application's copy of the MPI library is unreachable (%d code segments)", n);
}
