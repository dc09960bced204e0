/* Revive's MPI layer: loads the lower half (the real MPI library in its own dlmopen namespace)
 * at MPI_Init, and the entry points that are not generated: initialisation, finalisation,
 * calls allowed before MPI_Init, keyvals (their callbacks get virtual handles) and
 * MPI_Type_get_contents (named and derived types come back differently). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "common/libc_dlsym.h"
#include "pml_hooks/ckpt.h"
#include "common/fd_guard.h"
#include "pml_hooks/objs.h"
#include "pml_hooks/halves.h"
#include "pml_hooks/lower_libc.h"
#include "pml_hooks/restart.h"
#include "pml_hooks/load_watch.h"
#define PML_WANT_NAMES
#include "pml_hooks/pml_table.h"

#include <ctype.h>
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef PML_OMPI
#define FLAVOR "ompi"
#define FLAVOR_NAME "Open MPI"
/* a function only libmpi defines besides the layer itself (upper_dlsym.c: data may be copied):
 * found with RTLD_NEXT from the layer (revive_dlsym_next), which skips the layer's own */
#define UPPER_PROBE "ompi_mpi_init"
#define UPPER_SONAME "libmpi.so.40"
#else
#define FLAVOR "mpich"
#define FLAVOR_NAME "MPICH"
#define UPPER_PROBE "MPIR_Dup_fn"
#define UPPER_SONAME "libmpich.so.12"
#endif

struct pml_lower_fns pml_L;
void *pml_lower_handle;
long pml_lower_lmid = -1;
static char lower_path[4096];
static int state; /* 0 before MPI_Init, 1 initialised, 2 finalised */
static int (*lower_init_thread)(int *, char ***, int, int *);
static int (*lower_finalize)(void);
static int (*lower_abort)(MPI_Comm, int);
static uintptr_t lower_world; /* the lower half's MPI_COMM_WORLD */
static const void *upper_base; /* where the application's copy of the library is loaded */
static int init_level = -1, init_provided; /* what the lower half was initialised with */

void pml_fatal(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    /* No file:line even at debug level: it would name this function, not the caller. */
    revive_log_at(REVIVE_LOG_ERROR, REVIVE_LOG_SUBSYS, NULL, 0, "[pid %d] %s", (int)getpid(), buf);
    _exit(1);
}

const char *pml_fn_name(uint32_t fid)
{
    if (fid < PML_NFUNCS)
        return pml_fn_names[fid];
    return fid == PML_NFUNCS ? "MPIX_Checkpoint" : fid == PML_NFUNCS + 1 ? "an MPI_T call" : "?";
}

int pml_not_ready_from(const char *name, const void *caller)
{
    char as[128];
    int f = pml_called_name(name, caller, as, sizeof as);
    pml_fatal("%s was called %s; the program must call %s first", as,
              state == 2 ? (f ? "after MPI_FINALIZE" : "after MPI_Finalize")
                         : (f ? "before MPI_INIT" : "before MPI_Init"),
              f ? "MPI_INIT" : "MPI_Init");
}

void pml_unsupported(const char *name)
{
    pml_unsupported_from(name, NULL);
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && !strcmp(s + n - m, tail);
}

/* What a program can call instead of an MPI-4 function the layer refuses (C name, without the
 * profiling P), written into buf; "" when there is no such advice. */
static const char *instead(const char *name, char *buf, size_t len)
{
    const char *n = name[0] == 'P' ? name + 1 : name;
    const char *m = !strncmp(n, "MPIX_", 5) ? n + 5 : !strncmp(n, "MPI_", 4) ? n + 4 : NULL;
    buf[0] = 0;
    if (!m)
        return buf;
    if (!strncmp(m, "Psend_init", 10) || !strncmp(m, "Precv_init", 10) ||
             !strncmp(m, "Pready", 6) || !strncmp(m, "Parrived", 8))
        snprintf(buf, len, "; partitions sent with MPI_Isend and received with MPI_Irecv work"
                           " under Revive");
    else if (!strncmp(m, "Session_", 8) || !strcmp(m, "Group_from_session_pset") ||
             !strcmp(m, "Comm_create_from_group") || !strcmp(m, "Intercomm_create_from_groups"))
        snprintf(buf, len, "; MPI_Init_thread with MPI_COMM_WORLD and MPI_Comm_create_group"
                           " work under Revive");
    else if (ends_with(m, "_init") && strcmp(m, "Send_init") && strcmp(m, "Recv_init") &&
             strcmp(m, "Bsend_init") && strcmp(m, "Ssend_init") && strcmp(m, "Rsend_init")) {
        /* a persistent collective: its nonblocking form, started at each use */
        char c[64];
        snprintf(c, sizeof c, "%.*s", (int)(strlen(m) - 5), m);
        if (c[0])
            c[0] = (char)tolower((unsigned char)c[0]);
        snprintf(buf, len, "; MPI_I%s, called at each use instead of MPI_Start, works under"
                           " Revive", c);
    } else if (ends_with(m, "_c"))
        snprintf(buf, len, "; its form without _c works under Revive for counts up to INT_MAX");
    return buf;
}

volatile int pml_stopping_job;
char pml_stopping_what[128];
static volatile int stopping_refused; /* a checkpoint's refusal of this stop was made */

void pml_unsupported_from(const char *name, const void *caller)
{
    char as[128], alt[192];
    pml_called_name(name, caller, as, sizeof as);
    /* before anything that takes time: a checkpoint now must refuse, not commit this rank
     * stopped half way (newuser12 F1: MPI_Comm_spawn's stop captured, every restart failed) */
    snprintf(pml_stopping_what, sizeof pml_stopping_what, "%s", as);
    __atomic_store_n(&pml_stopping_job, 1, __ATOMIC_SEQ_CST);
    revive_log_at(REVIVE_LOG_ERROR, REVIVE_LOG_SUBSYS, NULL, 0,
                  "[pid %d] %s is not supported under Revive yet; stopping the job"
                  " (run without -am ft-enable-cr to use it%s)", (int)getpid(), as,
                  instead(name, alt, sizeof alt));
    /* MPI_Abort makes the launcher kill every rank at once, and Hydra may
     * drop output still in its forwarding pipes: give it a moment to pass
     * the message on (measured: lost about one run in five without). */
    struct timespec pause = { 0, 300 * 1000 * 1000 };
    if (revive_fault(REVIVE_FAULT_mpi_stop_slow)) {
        /* the test's checkpoint comes during the stop: up to 20 s, over once its refusal is
         * made (the pause below then passes it on); a fixed 20 s cost the test 20 s a job */
        struct timespec step = { 0, 50 * 1000 * 1000 };
        for (int t = 0; t < 400 && !__atomic_load_n(&stopping_refused, __ATOMIC_SEQ_CST); t++)
            nanosleep(&step, NULL);
    }
    nanosleep(&pause, NULL);
    if (state == 1 && lower_abort)
        lower_abort((MPI_Comm)lower_world, 1);
    _exit(1);
}

int pml_stopping_refusal(char *buf, size_t len)
{
    if (!__atomic_load_n(&pml_stopping_job, __ATOMIC_SEQ_CST))
        return 0;
    snprintf(buf, len, "rank %d is stopping the job (%s is not supported under Revive): no "
             "snapshot of it could restart; run the job without -am ft-enable-cr to use that "
             "call", pml_world_rank, pml_stopping_what);
    __atomic_store_n(&stopping_refused, 1, __ATOMIC_SEQ_CST);
    return 1;
}

__attribute__((constructor)) static void pml_layer_load(void)
{
    if (pml_vh_init() < 0)
        pml_fatal("cannot reserve the handle table: %s", strerror(errno));
    pml_rq_init();
    pml_gate_init();
    pml_halves_init();
    pml_restart_note_launcher_fds();
}

/* ---- the lower half -------------------------------------------------------------------- */
/* The extent in memory of a loaded ELF object, from the program headers that its first
 * segment maps (dl_iterate_phdr only reports the caller's own namespace). */
int pml_elf_span(const void *fbase, struct pml_span *q)
{
    const ElfW(Ehdr) *eh = fbase;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_phentsize != sizeof(ElfW(Phdr)))
        return -1;
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)((const char *)fbase + eh->e_phoff);
    uintptr_t lo = UINTPTR_MAX, hi = 0, first = UINTPTR_MAX;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD)
            continue;
        if (ph[i].p_offset == 0 && first == UINTPTR_MAX)
            first = ph[i].p_vaddr;
        if (ph[i].p_vaddr < lo)
            lo = ph[i].p_vaddr;
        if (ph[i].p_vaddr + ph[i].p_memsz > hi)
            hi = ph[i].p_vaddr + ph[i].p_memsz;
    }
    if (first == UINTPTR_MAX || !hi)
        return -1;
    q->bias = (uintptr_t)fbase - first;
    q->lo = q->bias + lo;
    q->hi = q->bias + hi;
    return 0;
}

/* The GNU build id of a loaded ELF object, read from its notes in memory (hex into out, 0), or
 * -1 when it has none. In memory: a restored rank's copy of the library is mapped from where
 * restart-mpi --relocate said it is now, while its link map still names the old path. */
static int elf_build_id(const void *fbase, char *out, size_t cap)
{
    const ElfW(Ehdr) *eh = fbase;
    struct pml_span q;
    if (pml_elf_span(fbase, &q) < 0)
        return -1;
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)((const char *)fbase + eh->e_phoff);
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type != PT_NOTE)
            continue;
        const char *p = (const char *)(q.bias + ph[i].p_vaddr), *end = p + ph[i].p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
            const char *name = p + sizeof *nh;
            const unsigned char *desc = (const unsigned char *)name + ((nh->n_namesz + 3) & ~3u);
            if ((const char *)desc + nh->n_descsz > end)
                break;
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && !memcmp(name, "GNU", 4) &&
                nh->n_descsz > 0 && nh->n_descsz * 2 < cap) {
                for (size_t k = 0; k < nh->n_descsz; k++)
                    snprintf(out + 2 * k, 3, "%02x", desc[k]);
                return 0;
            }
            p = (const char *)desc + ((nh->n_descsz + 3) & ~3u);
        }
    }
    return -1;
}

static int reloading; /* lower_load for a restarted rank (pml_lower_reload) */

/* The MPI library revive-exec preloaded for a program that loads it at run time (mpi4py; it says
 * which LD_PRELOAD entry in REVIVE_MPI_PRELOADED): loaded and in use once MPI_Init runs, so it is
 * taken out of LD_PRELOAD then, and the commands the rank runs do not load it (each paid 6 ms for
 * Open MPI's, 14 ms for MPICH's: diffrev37 R-L6). libcr and the layer stay (a child needs them). */
static void drop_preloaded_mpi(void)
{
    const char *lib = getenv("REVIVE_MPI_PRELOADED"), *pre = getenv("LD_PRELOAD");
    if (!lib)
        return;
    size_t ln = strlen(lib);
    char *out = pre && ln ? malloc(strlen(pre) + 1) : NULL;
    if (out) {
        size_t n = 0;
        for (const char *p = pre; *p;) {
            size_t k = strcspn(p, ": ");
            if (k && !(k == ln && !memcmp(p, lib, ln))) {
                if (n)
                    out[n++] = ':';
                memcpy(out + n, p, k);
                n += k;
            }
            p += k;
            if (*p)
                p++;
        }
        out[n] = 0;
        if (n)
            setenv("LD_PRELOAD", out, 1);
        else
            unsetenv("LD_PRELOAD");
        free(out);
    }
    unsetenv("REVIVE_MPI_PRELOADED");
}

static void find_lower_root(void)
{
    const char *env = getenv("REVIVE_MPI_LOWER");
    if (env && *env) {
        snprintf(lower_path, sizeof lower_path, "%s", env);
        return;
    }
    Dl_info di;
    if (!dladdr((void *)&pml_L, &di) || !di.dli_fname)
        pml_fatal("cannot find where Revive's MPI layer was loaded from");
    snprintf(lower_path, sizeof lower_path, "%s", di.dli_fname);
    char *slash = strrchr(lower_path, '/');
    size_t off = slash ? (size_t)(slash + 1 - lower_path) : 0;
    snprintf(lower_path + off, sizeof lower_path - off, "revive-lower-" FLAVOR ".so");
}

/* The signal actions of the process, 1..64 (SIGKILL and SIGSTOP left out), as they are now. */
#define LOWER_SIG_MAX 64
struct sig_actions {
    struct sigaction a[LOWER_SIG_MAX + 1];
    uint64_t have; /* bit s-1: a[s] was read */
    stack_t alt;   /* the calling thread's alternate signal stack */
    int have_alt;
};

static void sig_actions_read(struct sig_actions *t)
{
    memset(t, 0, sizeof *t);
    for (int s = 1; s <= LOWER_SIG_MAX; s++)
        if (s != SIGKILL && s != SIGSTOP && sigaction(s, NULL, &t->a[s]) == 0)
            t->have |= 1ull << (s - 1);
    t->have_alt = sigaltstack(NULL, &t->alt) == 0;
}

/* (the masks compared signal by signal: glibc copies its whole sigset_t from a kernel answer of
 * 8 bytes, the rest of it whatever its stack held) */
static int sig_action_same(const struct sigaction *x, const struct sigaction *y)
{
    if (x->sa_handler != y->sa_handler || x->sa_flags != y->sa_flags)
        return 0;
    for (int s = 1; s <= LOWER_SIG_MAX; s++)
        if (sigismember(&x->sa_mask, s) != sigismember(&y->sa_mask, s))
            return 0;
    return 1;
}

/* Natively the MPI library's own constructors run before main: UCX's (libucs, loaded with
 * MPICH's libmpich) installs handlers for SIGHUP (its debug signal: a SIGHUP turns on its debug
 * log) and for SIGILL, SIGBUS, SIGFPE and SIGSEGV, and whatever the program sets afterwards wins
 * (MPI_Init installs nothing over it: measured, MPICH 4.0 over UCX). The program's own copy of
 * the library is loaded with it here too, so those constructors ran before main as natively; the
 * lower half's copies of them run again in the dlmopen, at MPI_Init, after the program's choices:
 * a program's SIG_IGN of SIGHUP became UCX's handler (a SIGHUP then turned on UCX's debug log on
 * stderr), its SIGSEGV and SIGFPE handlers UCX's. So every action the lower half's loading
 * changed is put back as it was before it (the program's choice, or what the constructors of the
 * program's copy had set), at a restart too (the restored image's, into the fresh lower half).
 * What the lower MPI_Init installs afterwards stays, as natively (Open MPI's handlers of the
 * signals still at SIG_DFL, MPICH's SIGUSR1). Only a handler of the lower namespace LMID is the
 * constructors': at a restart the application's threads run on during the load, and an action
 * one of them sets meanwhile stays, as natively (sig_lib.c). */
static void sig_actions_put_back(const struct sig_actions *before, long lmid)
{
    struct sig_actions *now = malloc(sizeof *now); /* 10 KB: not on the agent thread's stack */
    if (!now)
        return;
    sig_actions_read(now);
    int n = 0;
    for (int s = 1; s <= LOWER_SIG_MAX; s++) {
        uint64_t bit = 1ull << (s - 1);
        if (!(before->have & bit) || !(now->have & bit) || sig_action_same(&before->a[s], &now->a[s]))
            continue;
        if (!pml_sig_is_lower(&now->a[s], lmid)) {
            revive_log_debug("signal %d: handler %p set by the program during the lower half's "
                             "loading: kept", s, (void *)now->a[s].sa_handler);
            continue;
        }
        revive_log_debug("signal %d: the lower half's loading set handler %p flags %#x over %p "
                         "flags %#x", s, (void *)now->a[s].sa_handler, (unsigned)now->a[s].sa_flags,
                         (void *)before->a[s].sa_handler, (unsigned)before->a[s].sa_flags);
        if (sigaction(s, &before->a[s], NULL) == 0)
            n++;
    }
    if (n)
        revive_log_debug("%d signal actions the lower half's constructors changed put back as the "
                         "program had them", n);
    /* UCX's constructor also gives the thread that loads it an alternate signal stack of its own:
     * natively the main thread's, before main, from the program's copy. The lower half's, made
     * in the dlmopen (the main thread's at MPI_Init), was in the image as the main thread's and
     * lay in the dead lower half after a restart: the first signal with SA_ONSTACK there (the
     * guard's SIGSEGV, UCX's own handlers) killed the rank (MPICH: tests/mpi/ckpt/sig_ctor) */
    if (before->have_alt && now->have_alt &&
        (before->alt.ss_sp != now->alt.ss_sp || before->alt.ss_size != now->alt.ss_size ||
         (before->alt.ss_flags & SS_DISABLE) != (now->alt.ss_flags & SS_DISABLE))) {
        stack_t put = before->alt;
        put.ss_flags &= SS_DISABLE;
        if (sigaltstack(&put, NULL) == 0)
            revive_log_debug("the alternate signal stack the lower half's constructors set (%p) "
                             "put back as it was (%p)", now->alt.ss_sp, before->alt.ss_sp);
    }
    free(now);
}

static void lower_load(void)
{
    if (pml_lower_handle)
        return;
    /* a child forked from now on gets /dev/null for the library's descriptors (restart.h) */
    pml_restart_fork_handler();
    /* the application's own copy of the library: present, never initialised */
    /* RTLD_NEXT: the layer defines ompi_mpi_init itself (upper_dlsym.c), the library comes after it */
    void *up = revive_dlsym_next(UPPER_PROBE);
    Dl_info ud, ld;
    void *late = up ? NULL : dlopen(UPPER_SONAME, RTLD_LAZY | RTLD_NOLOAD);
    if (late) {
        /* loaded, but not with the program: dlopen'ed with RTLD_LOCAL after the layer (an
         * interpreter's extension module, as Python's mpi4py), so the layer's references to the
         * library's predefined objects were bound to nothing when it loaded (ompi_weak.h):
         * revive-exec preloads the library for such a program (newuser7e F3) */
        dlclose(late);
        pml_fatal("this program loaded " FLAVOR_NAME " (" UPPER_SONAME ") at run time with dlopen "
                  "(as Python's mpi4py does), after Revive's layer, which needs the library loaded "
                  "with the program: give the program itself to 'mpirun -am ft-enable-cr' (Revive "
                  "preloads the library for a Python interpreter with mpi4py, and for a program "
                  "not linked against MPI when REVIVE_MPI=" FLAVOR " is set), or where a script "
                  "starts it, add " UPPER_SONAME " at the end of LD_PRELOAD");
    }
    if (!up || !dladdr(up, &ud))
        pml_fatal("this program is not linked against " FLAVOR_NAME " (no %s); Revive's " FLAVOR_NAME
                  " layer cannot run it (is it an MPI program, and built with this MPI?)", UPPER_PROBE);
    if (!reloading)
        drop_preloaded_mpi();
    find_lower_root();
    pml_halves_before_lower();
    /* the signal actions as the program has them (sig_actions_put_back) */
    struct sig_actions *before = malloc(sizeof *before);
    if (before)
        sig_actions_read(before);
    /* ld.so opens the library's files: at a restart the agent loads it while the restored
     * application's threads may fork (a child held libucp.so: rank_forkloop); common/fd_guard.h */
    revive_fd_enter();
    void *h = dlmopen(LM_ID_NEWLM, lower_path, RTLD_NOW | RTLD_LOCAL);
    revive_fd_leave();
    if (before) {
        Lmid_t ns = -1;
        if (h && dlinfo(h, RTLD_DI_LMID, &ns) == 0)
            sig_actions_put_back(before, (long)ns);
        free(before);
    }
    if (!h)
        pml_fatal("cannot load the lower half (%s) in a new link-map namespace: %s", lower_path,
                  dlerror());
    Lmid_t lmid = -1;
    dlinfo(h, RTLD_DI_LMID, &lmid);
    pml_lower_lmid = (long)lmid;
    void *lo = revive_dlsym(h, UPPER_PROBE);
    if (!lo || !dladdr(lo, &ld))
        pml_fatal("the lower half %s has no %s: it is not " FLAVOR_NAME, lower_path, UPPER_PROBE);
    /* The same library: one file, or one build (the same build id: a copy, or after a restart
     * with --relocate the file at its new place, which the program's copy is mapped from while
     * its link map still names the old path, gone: newuser7b M1 took that for another library
     * and the rank failed, the snapshot marked failed). */
    struct stat su, sl;
    char ubid[130], lbid[130];
    int same_build = elf_build_id(ud.dli_fbase, ubid, sizeof ubid) == 0 &&
                     elf_build_id(ld.dli_fbase, lbid, sizeof lbid) == 0 && !strcmp(ubid, lbid);
    if (!same_build &&
        (stat(ud.dli_fname, &su) < 0 || stat(ld.dli_fname, &sl) < 0 || su.st_ino != sl.st_ino ||
         su.st_dev != sl.st_dev)) {
        static char msg[2 * 4096 + 512];
        if (reloading)
            snprintf(msg, sizeof msg,
                     "the program's copy of the MPI library (%s at the checkpoint) is not the "
                     "build the fresh MPI loaded, %s (found through the job's LD_LIBRARY_PATH as "
                     "it was at its start, then the system's folders): put the job's library "
                     "back at %s, or a copy of the same build in one of those folders",
                     ud.dli_fname, ld.dli_fname, ud.dli_fname);
        else
            snprintf(msg, sizeof msg,
                     "the program uses %s but the lower half loaded %s: they must be the same "
                     "library (set LD_LIBRARY_PATH as for the program)",
                     ud.dli_fname, ld.dli_fname);
        /* the surroundings' doing, not the snapshot's: not recorded as a failed restart */
        if (reloading)
            pml_restart_refused(0, msg);
        pml_fatal("%s", msg);
    }
    if (same_build && (stat(ud.dli_fname, &su) < 0 || stat(ld.dli_fname, &sl) < 0 ||
                       su.st_ino != sl.st_ino || su.st_dev != sl.st_dev))
        revive_log_info("the program's copy of the MPI library (%s) and the lower half's (%s) "
                        "are one build (build id %s)", ud.dli_fname, ld.dli_fname, ubid);
    struct pml_span uq, lq;
    if (pml_elf_span(ud.dli_fbase, &uq) < 0 || pml_elf_span(ld.dli_fbase, &lq) < 0 ||
        uq.hi - uq.lo != lq.hi - lq.lo)
        pml_fatal("cannot find the extent of %s in memory", ud.dli_fname);
    upper_base = ud.dli_fbase;
    pml_delta = (intptr_t)(lq.bias - uq.bias);
    pml_up_lo = uq.lo;
    pml_up_span = uq.hi - uq.lo;
    pml_lo_lo = lq.lo;
    lower_init_thread = (__typeof__(lower_init_thread))revive_dlsym(h, "PMPI_Init_thread");
    lower_finalize = (__typeof__(lower_finalize))revive_dlsym(h, "PMPI_Finalize");
    lower_abort = (__typeof__(lower_abort))revive_dlsym(h, "PMPI_Abort");
    if (!lower_init_thread || !lower_finalize || !lower_abort)
        pml_fatal("the lower half %s lacks MPI_Init/MPI_Finalize/MPI_Abort", lower_path);
#ifdef PML_OMPI
    lower_world = (uintptr_t)revive_dlsym(h, "ompi_mpi_comm_world");
#else
    lower_world = (uintptr_t)(uint32_t)MPI_COMM_WORLD;
#endif
    pml_lower_handle = h;
    pml_libc_bind(h);
    pml_pre_init(h);
    revive_log_info("lower half %s loaded in namespace %ld (%s at %#lx, the program's copy at %#lx)",
                    lower_path, pml_lower_lmid, ld.dli_fname, (unsigned long)lq.bias,
                    (unsigned long)uq.bias);
    pml_halves_lower_loaded(h);
}

void pml_lower_load(void)
{
    lower_load();
}

static void resolve_table(void)
{
    void **slot = (void **)&pml_L;
    char name[128];
    for (int i = 0; i < PML_NFUNCS; i++) {
        snprintf(name, sizeof name, "P%s", pml_fn_names[i]);
        void *f = revive_dlsym(pml_lower_handle, name);
        if (!f)
            f = revive_dlsym(pml_lower_handle, pml_fn_names[i]);
        slot[i] = f; /* NULL: calling it says the call is missing */
    }
}

/* The lower half runs at the level pml_rank_init_level picks (the checkpoint agent calls it
 * while the application's threads are parked: MPICH at least MPI_THREAD_SERIALIZED, Open MPI at
 * the application's level); the application is told the level it asked for (when the library
 * gives at least that). */
static int init_lower(int *argc, char ***argv, int required, int *provided)
{
    lower_load();
    pml_sig_before_init(); /* what a fresh MPI_Init must find after a restart (sig_lib.c) */
    int lp = MPI_THREAD_SINGLE;
    int level = pml_rank_init_level(required);
    int rc = lower_init_thread(argc, argv, level, &lp);
    if (rc != MPI_SUCCESS)
        return rc;
    init_level = level;
    init_provided = lp;
    char err[512];
    if (pml_libc_lower_threads(err, sizeof err))
        revive_log_warn("threads other than the one that called MPI_Init may crash in the MPI"
                        " library (its libc's locale state is not theirs): %s", err);
    *provided = pml_rank_provided(lp);
    resolve_table();
    state = 1;
    pml_halves_lower_ready();
    pml_guard_upper(upper_base);
    pml_restart_setup();
    pml_rank_after_init();
    pml_tools_report();
    return rc;
}

int MPI_Init(int *argc, char ***argv)
{
    int provided;
    return init_lower(argc, argv, MPI_THREAD_SINGLE, &provided);
}

int MPI_Init_thread(int *argc, char ***argv, int required, int *provided)
{
    return init_lower(argc, argv, required, provided);
}

/* ---- a fresh lower half after a restart (restart.c) ---------------------------------------
 * The dead one's state here is dropped, the new one is loaded with an environment of its own
 * (the new launcher's; the application keeps its own: pml_libc_lower_env) and initialised at
 * the level the first one was. The application's copy of the library stays guarded as it was
 * (the image kept its protection); the rank side's state is made again by pml_rank_restart. */
int pml_lower_reload(char **envp, char *err, size_t errlen)
{
    if (state != 1 || init_level < 0) {
        snprintf(err, errlen, "MPI was not initialised when the checkpoint was taken");
        return -EINVAL;
    }
    /* The function table keeps the dead half's entries until the new ones replace them: a
     * thread of the application that calls MPI meanwhile passes the "MPI_Init was called"
     * check and waits at the closed gate, then calls through the new table. */
    pml_lower_handle = NULL;
    pml_lower_lmid = -1;
    pml_libc_lower_env(envp);
    /* The restart runs in the checkpoint agent's thread, which blocks signals; the threads the
     * MPI library starts now inherit the mask of the thread that initialises it, and must take
     * the checkpoint's park signal as those of the first MPI_Init (an application thread) did. */
    sigset_t none, mask;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, &mask);
    /* a load that never ends (campaign-failures.md #33) stops the rank with a message instead
     * (load_watch.c); 120 s is far more than any load takes (seconds at a load average of 20) */
    static char what[sizeof lower_path + 64];
    snprintf(what, sizeof what, "loading the fresh MPI library (%s)", lower_path);
    int watched = pml_watch_begin(120, what) == 0;
    pml_sig_before_reinit();
    reloading = 1;
    lower_load();
    reloading = 0;
    if (watched)
        pml_watch_end();
    /* the program's MPI_T state before MPI_Init, as a program initialises MPI_T first (mpit.c) */
    pml_mpit_reload();
    int provided = MPI_THREAD_SINGLE;
    int rc = lower_init_thread(NULL, NULL, init_level, &provided);
    pml_sig_after_reinit(); /* before the guard's rearm: SIGSEGV is the guard's */
    pthread_sigmask(SIG_SETMASK, &mask, NULL);
    if (rc != MPI_SUCCESS) {
        snprintf(err, errlen, "the fresh %s failed to initialise (error %d)", FLAVOR_NAME, rc);
        return -EIO;
    }
    pml_guard_rearm();
    /* this thread loaded it: the others (the application's main thread among them) need the
     * lower libc's per-thread locale state too (lower_libc.h) */
    if ((rc = pml_libc_lower_threads(err, errlen)))
        return rc;
    if (provided < init_provided) {
        snprintf(err, errlen, "the fresh %s gives thread level %d, the program had %d", FLAVOR_NAME,
                 provided, init_provided);
        return -ENOTSUP;
    }
    resolve_table();
    pml_halves_lower_ready();
    return 0;
}

/* ---- pointers into the lower half kept by other files (layer.h) ------------------------- */
#define KEPT_MAX 1024
static void **kept[KEPT_MAX];
static int nkept;

void *pml_lower_keep(void **cache, void *value)
{
    if (!value)
        return NULL;
    int i = __atomic_fetch_add(&nkept, 1, __ATOMIC_ACQ_REL);
    if (i < KEPT_MAX) { /* else not kept: looked up at every use (no restart can miss it) */
        __atomic_store_n(&kept[i], cache, __ATOMIC_RELEASE);
        __atomic_store_n(cache, value, __ATOMIC_RELEASE);
    }
    return value;
}

/* Set by the restart hook, cleared by pml_lower_restored: no lower half to call meanwhile. */
static volatile int restoring;
static volatile pid_t restorer; /* the thread that brings the fresh one (it never waits) */

void pml_lower_restoring(pid_t tid)
{
    restorer = tid;
    __atomic_store_n(&restoring, 1, __ATOMIC_SEQ_CST);
}

void pml_lower_restored(void)
{
    __atomic_store_n(&restoring, 0, __ATOMIC_SEQ_CST);
}

void pml_lower_wait(void)
{
    /* Until the restart has made everything again (the fresh lower half initialised, the
     * record replayed: a handle converted before that names nothing, or a dead object): at
     * the gate, closed meanwhile at a global snapshot's restart, else polling. */
    while (__atomic_load_n(&restoring, __ATOMIC_SEQ_CST) && restorer != (pid_t)syscall(SYS_gettid)) {
        PML_GATE_ENTER(0);
        PML_GATE_LEAVE();
        if (__atomic_load_n(&restoring, __ATOMIC_SEQ_CST)) {
            struct timespec ts = { 0, 1000000 };
            nanosleep(&ts, NULL);
        }
    }
}

void *pml_lower_sym(void **cache, void *scope, const char *name)
{
    void *f = __atomic_load_n(cache, __ATOMIC_ACQUIRE);
    if (f)
        return f;
    pml_lower_wait();
    if (!pml_lower_handle)
        return NULL;
    return pml_lower_keep(cache, revive_dlsym(scope ? scope : pml_lower_handle, name));
}

/* The restart hook, every other thread parked. (A thread parked inside pml_lower_keep between
 * its two stores at the checkpoint would keep a dead value: a first use of a cache exactly
 * then.) */
void pml_lower_forget_kept(void)
{
    int n = __atomic_load_n(&nkept, __ATOMIC_ACQUIRE);
    for (int i = 0; i < n && i < KEPT_MAX; i++)
        if (kept[i])
            *kept[i] = NULL;
    memset(kept, 0, sizeof kept);
    __atomic_store_n(&nkept, 0, __ATOMIC_RELEASE);
}

int pml_lower_thread_level(int *provided)
{
    *provided = init_provided;
    return init_level;
}

uintptr_t pml_lower_world(void)
{
    return lower_world;
}

static void report(void)
{
    const char *rep = getenv("REVIVE_MPI_REPORT");
    const char *rec = getenv("REVIVE_MPI_RECORD");
    const char *hd = getenv("REVIVE_HALVES_DUMP");
    int rank = -1;
    if ((rep || rec || hd) && pml_L.MPI_Comm_rank)
        pml_L.MPI_Comm_rank((MPI_Comm)lower_world, &rank);
    if (rep) {
        FILE *f = fopen(rep, "ae");
        if (f) {
            fprintf(f, "rank %d: lower half %s in namespace %ld; %u handle slots; %d unsupported"
                    " calls stubbed\n", rank, lower_path, pml_lower_lmid, pml_vh_used - 1,
                    pml_n_unsupported);
            fclose(f);
        }
    }
    if (rec) {
        char path[4200];
        snprintf(path, sizeof path, "%s.%d", rec, rank);
        pml_rec_dump(path);
    }
    if (hd)
        pml_halves_dump_to(hd, rank);
}

int MPI_Finalize(void)
{
    if (!lower_finalize)
        return pml_not_ready("MPI_Finalize");
    report();
    int rc = pml_rank_finalize(&lower_finalize);
    state = 2;
    return rc;
}

int MPI_Initialized(int *flag)
{
    *flag = state >= 1;
    return MPI_SUCCESS;
}

int MPI_Finalized(int *flag)
{
    *flag = state == 2;
    return MPI_SUCCESS;
}

int MPI_Get_version(int *version, int *subversion)
{
    *version = MPI_VERSION;
    *subversion = MPI_SUBVERSION;
    return MPI_SUCCESS;
}

int MPI_Get_library_version(char *version, int *resultlen)
{
    lower_load();
    int (*f)(char *, int *) = (int (*)(char *, int *))revive_dlsym(pml_lower_handle, "PMPI_Get_library_version");
    return f(version, resultlen);
}

int MPI_Pcontrol(const int level, ...)
{
    if (!pml_L.MPI_Pcontrol)
        return MPI_SUCCESS;
    return pml_L.MPI_Pcontrol(level);
}

/* MPICH 4's MPI_Type_get_envelope_c in the lower half (pml_lower_sym's cache; (void *)1: the
 * library has none, Open MPI 4.1) */
typedef int envelope_c_fn(MPI_Datatype, MPI_Count *, MPI_Count *, MPI_Count *, MPI_Count *, int *);
static void *envelope_c;

static int count_to_int(MPI_Count c)
{
    return c > INT_MAX ? INT_MAX : (int)c;
}

int pml_type_envelope(uintptr_t real, int *ni, int *na, int *nd, int *comb, int *large)
{
    void *f = pml_lower_sym(&envelope_c, NULL, "MPI_Type_get_envelope_c");
    if (!f && pml_lower_handle)
        f = pml_lower_keep(&envelope_c, (void *)1);
    if (large)
        *large = 0;
    if (f && f != (void *)1) {
        MPI_Count ci = 0, ca = 0, cl = 0, cd = 0;
        int rc = ((envelope_c_fn *)f)((MPI_Datatype)real, &ci, &ca, &cl, &cd, comb);
        if (rc == MPI_SUCCESS) {
            *ni = count_to_int(ci);
            *na = count_to_int(ca);
            *nd = count_to_int(cd);
            if (large)
                *large = cl > 0;
        }
        return rc;
    }
    return pml_L.MPI_Type_get_envelope((MPI_Datatype)real, ni, na, nd, comb);
}

static int type_combiner(uintptr_t real)
{
    int ni, na, nd, comb = MPI_COMBINER_NAMED;
    pml_type_envelope(real, &ni, &na, &nd, &comb, NULL);
    return comb;
}

/* layer.h. One answer for every place that frees a datatype or makes one again (term.c
 * release_types, objs.c pml_vh_free_layer_held, replay.c free_real and contents_k, and
 * pml_type_handed_out below). Asked of the type itself, not of the call the layer met it through:
 * an f90 type reached first through MPI_Type_get_contents, MPI_File_get_view or a second
 * thread's MPI_Type_create_f90_real has a record entry of another call, or none, and was freed
 * at --term (Open MPI: MPI_ERR_TYPE, fatal; MPICH: MPI_Finalize aborts freeing it again:
 * diffrev45 R-H1, R-M2). An envelope the library does not give (it should always) counts as
 * owned: a type left unfreed costs a leak line, a wrong free aborts the job. */
static int combiner_library_owned(int comb)
{
    return comb == MPI_COMBINER_NAMED || comb == MPI_COMBINER_F90_REAL ||
           comb == MPI_COMBINER_F90_COMPLEX || comb == MPI_COMBINER_F90_INTEGER;
}

int pml_type_library_owned(uintptr_t real)
{
    return pml_real_is_predef(real) || combiner_library_owned(type_combiner(real));
}

/* An f90 type new to the layer (the program never made it itself, or a thread that got it at
 * once claimed it: pml_get_claim): recorded as the MPI_Type_create_f90_* call that makes it, its
 * arguments read back from the library (MPI 4.0 5.1.13: p and r, or r), so that a restart makes
 * it again whatever it was handed out of */
static void record_f90(uintptr_t real, int comb, uintptr_t v)
{
    int is[2] = {0, 0}, fid = comb == MPI_COMBINER_F90_REAL      ? PML_FID_MPI_Type_create_f90_real
                             : comb == MPI_COMBINER_F90_COMPLEX ? PML_FID_MPI_Type_create_f90_complex
                                                                : PML_FID_MPI_Type_create_f90_integer;
    int ni = comb == MPI_COMBINER_F90_INTEGER ? 1 : 2;
    MPI_Aint a[1];
    MPI_Datatype d[1];
    pml_L.MPI_Type_get_contents((MPI_Datatype)real, ni, 0, 0, is, a, d);
    struct pml_rec *R = pml_rec_open(fid);
    for (int i = 0; i < ni; i++)
        pml_rec_scalar(R, &is[i], sizeof is[i]);
    pml_rec_out(R, v);
    pml_rec_close(R);
}

/* A datatype the library hands out of another object: MPI_Type_get_contents' array_of_datatypes
 * (fid MPI_Type_get_contents, `from` the type taken apart, k the index), MPI_File_get_view's etype
 * and filetype (fid MPI_File_get_view, `from` the view's type; the copy's combiner recorded). The
 * library's own types (named, f90) come back as they are (MPI 4.0 5.1.13, 19.1.9): a handle the
 * program may have already; an f90 one new to the layer recorded as the call that makes it
 * (record_f90). A derived one is a new object the program frees: recorded as made by the call
 * from `from`, so that a restart makes it again (replay.c, rp_handed_type: get_contents again on
 * the replayed input, output k; the view's a copy of the view's type made as the library made it)
 * and a snapshot with it held is not failed (diffrev45 R-H2: "handle ... was not made by a
 * recorded call"). `from` is an input of the entry, so its creator is replayed as an ancestor
 * when the program freed it meanwhile. */
uintptr_t pml_type_handed_out(uintptr_t real, int fid, uintptr_t from, int k)
{
    /* the combiner asked once: it decides ownership, the record, and a view copy's kind */
    int comb = pml_real_is_predef(real) ? MPI_COMBINER_NAMED : type_combiner(real);
    if (combiner_library_owned(comb)) {
        int claim = 0;
        if (comb == MPI_COMBINER_NAMED)
            return pml_get(PML_TYPE, real); /* predefined: no handle of the layer's, no record */
        uintptr_t v = pml_get_claim(PML_TYPE, real, &claim);
        if (claim)
            record_f90(real, comb, v);
        return v;
    }
    uintptr_t v = pml_new(PML_TYPE, real);
    /* a view's copy is made again as the library made it: MPICH 4.0's ROMIO a contiguous type of
     * one, Open MPI's ompio a duplicate (the combiner is what the program can see) */
    if (fid == PML_FID_MPI_File_get_view)
        k = comb;
    struct pml_rec *R = pml_rec_open(fid);
    pml_rec_handle(R, from);
    pml_rec_scalar(R, &k, sizeof k);
    pml_rec_out(R, v);
    pml_rec_close(R);
    return v;
}

int MPI_Type_get_contents(MPI_Datatype datatype, int max_integers, int max_addresses,
                          int max_datatypes, int array_of_integers[],
                          MPI_Aint array_of_addresses[], MPI_Datatype array_of_datatypes[])
{
    if (!pml_L.MPI_Type_get_contents)
        return pml_not_ready("MPI_Type_get_contents");
    PML_GATE_ENTER(PML_FID_MPI_Type_get_contents);
    MPI_Datatype real = (MPI_Datatype)pml_v2r(PML_H(datatype));
    /* The arrays may be larger than the envelope's counts (MPI 4.0 5.1.13: max_* are their
     * sizes; Fortran codes pass fixed arrays): only the first nd entries are the library's, the
     * rest stays the program's. The layer's own array is filled with the real MPI_DATATYPE_NULL
     * because Open MPI walks all max_datatypes entries itself (diffrev46 R-H2: garbage there was
     * an abort on MPICH, a SIGSEGV on Open MPI, and would have been recorded). The envelope is
     * asked only once the call succeeded: a bad handle raises one error, named after the call the
     * program made (diffrev46 R-L4). */
    int n = max_datatypes < 0 ? 0 : max_datatypes;
    MPI_Datatype s[PML_STACK_HANDLES];
    MPI_Datatype *r = n <= PML_STACK_HANDLES ? s : pml_tmp_heap(n, sizeof *r);
    MPI_Datatype null = (MPI_Datatype)pml_v2r(PML_H(MPI_DATATYPE_NULL));
    for (int i = 0; i < n; i++)
        r[i] = null;
    int rc = pml_L.MPI_Type_get_contents(real, max_integers, max_addresses, max_datatypes,
                                         array_of_integers, array_of_addresses, r);
    int ni, na, nd = 0, comb;
    if (rc == MPI_SUCCESS && pml_type_envelope(PML_H(real), &ni, &na, &nd, &comb, NULL) == MPI_SUCCESS) {
        for (int i = 0; i < n && i < nd; i++)
            array_of_datatypes[i] = (MPI_Datatype)pml_type_handed_out(
                PML_H(r[i]), PML_FID_MPI_Type_get_contents, PML_H(datatype), i);
    }
    if (r != s)
        free(r);
    PML_GATE_LEAVE();
    return rc;
}
int PMPI_Type_get_contents(MPI_Datatype, int, int, int, int[], MPI_Aint[], MPI_Datatype[])
    __attribute__((alias("pml_own_MPI_Type_get_contents")));

/* ---- keyvals: the lower half calls our copy/delete functions, which call the user's with
 * virtual handles and the virtual keyval -------------------------------------------------- */
/* restart.h. Per thread: the library runs a callback in the thread whose call made it run, and
 * what other threads call meanwhile (MPI_THREAD_MULTIPLE) is the program's own, with its
 * callbacks (tests/mpi/attr_threads.c). */
__thread int pml_attr_quiet;

int pml_attr_quiet_begin(void)
{
    int was = pml_attr_quiet;
    pml_attr_quiet = 1;
    return was;
}

void pml_attr_quiet_end(int was)
{
    pml_attr_quiet = was;
}

static int comm_copy_t(MPI_Comm old, int kv, void *xs, void *in, void *out, int *flag)
{
    (void)kv;
    struct pml_kvinfo *ki = xs;
    if (pml_dupattr_handing_back()) { /* a restart's window or file: what it had (dup_attrs.c) */
        *(void **)out = in;
        *flag = 1;
        return MPI_SUCCESS;
    }
    if (pml_attr_quiet) {
        *flag = 0;
        return MPI_SUCCESS;
    }
    int made;
    MPI_Comm v = (MPI_Comm)pml_r2v_cb(PML_COMM, PML_H(old), &made);
    int rc = ((MPI_Comm_copy_attr_function *)ki->copy)(v, ki->vkv, ki->extra, in, out, flag);
    if (made)
        pml_vh_release(PML_H(v));
    if (rc == MPI_SUCCESS && *flag)
        pml_dupattr_note(ki->vkv, PML_KV_C, (MPI_Aint)(intptr_t)*(void **)out);
    return rc;
}

static int comm_del_t(MPI_Comm c, int kv, void *val, void *xs)
{
    (void)kv;
    struct pml_kvinfo *ki = xs;
    if (pml_attr_quiet)
        return MPI_SUCCESS;
    int made;
    MPI_Comm v = (MPI_Comm)pml_r2v_cb(PML_COMM, PML_H(c), &made);
    int rc = ((MPI_Comm_delete_attr_function *)ki->del)(v, ki->vkv, val, ki->extra);
    if (made)
        pml_vh_release(PML_H(v));
    return rc;
}

static int type_copy_t(MPI_Datatype old, int kv, void *xs, void *in, void *out, int *flag)
{
    (void)kv;
    struct pml_kvinfo *ki = xs;
    if (pml_attr_quiet) {
        *flag = 0;
        return MPI_SUCCESS;
    }
    int made;
    MPI_Datatype v = (MPI_Datatype)pml_r2v_cb(PML_TYPE, PML_H(old), &made);
    int rc = ((MPI_Type_copy_attr_function *)ki->copy)(v, ki->vkv, ki->extra, in, out, flag);
    if (made)
        pml_vh_release(PML_H(v));
    return rc;
}

static int type_del_t(MPI_Datatype t, int kv, void *val, void *xs)
{
    (void)kv;
    struct pml_kvinfo *ki = xs;
    if (pml_attr_quiet)
        return MPI_SUCCESS;
    int made;
    MPI_Datatype v = (MPI_Datatype)pml_r2v_cb(PML_TYPE, PML_H(t), &made);
    int rc = ((MPI_Type_delete_attr_function *)ki->del)(v, ki->vkv, val, ki->extra);
    if (made)
        pml_vh_release(PML_H(v));
    return rc;
}

static int user_fn(const void *fn)
{
    return fn && !pml_fn_in_upper(fn);
}

/* The lower half's keyval for info ki (its callbacks: ours, or the library's predefined ones). */
static int lower_keyval(int comm, struct pml_kvinfo *ki, int *real)
{
    void *lc = user_fn(ki->copy) ? (comm ? (void *)comm_copy_t : (void *)type_copy_t)
                                 : (void *)pml_fn_to_lower(ki->copy);
    void *ldl = user_fn(ki->del) ? (comm ? (void *)comm_del_t : (void *)type_del_t)
                                 : (void *)pml_fn_to_lower(ki->del);
    if (comm)
        return pml_L.MPI_Comm_create_keyval((MPI_Comm_copy_attr_function *)lc,
                                            (MPI_Comm_delete_attr_function *)ldl, real, ki);
    return pml_L.MPI_Type_create_keyval((MPI_Type_copy_attr_function *)lc,
                                        (MPI_Type_delete_attr_function *)ldl, real, ki);
}

int pml_keyval_kind(int fid)
{
    return fid == PML_FID_MPI_Comm_create_keyval   ? PML_COMM
         : fid == PML_FID_MPI_Type_create_keyval ? PML_TYPE
         : fid == PML_FID_MPI_Win_create_keyval  ? PML_WIN
                                                 : 0;
}

/* After a restart (replay.c): a keyval of the application made again in the fresh lower half
 * (okind: PML_COMM, PML_TYPE or PML_WIN, what the keyval is for). */
int pml_keyval_remake(int okind, int vkv, int *real)
{
    struct pml_kvinfo *ki = pml_vh_tab[(uint32_t)vkv & 0x3ffffff].info;
    if (!ki)
        return MPI_ERR_KEYVAL;
#ifdef PML_OMPI
    if (ki->lang != PML_KV_C) /* made from Fortran, as fortran_paths.c made it */
        return pml_fkeyval_remake(ki, real);
#endif
    int rc = okind == PML_WIN ? pml_win_keyval_lower(ki, real) : lower_keyval(okind == PML_COMM, ki, real);
#ifdef PML_MPICH
    if (rc == MPI_SUCCESS)
        pml_fkeyval_proxy(ki, *real); /* Fortran's language proxies, if it was made from Fortran */
#endif
    return rc;
}

static int create_keyval(int fid, int comm, void *copy, void *del, int *keyval, void *extra)
{
    struct pml_kvinfo *ki = calloc(1, sizeof *ki);
    if (!ki)
        pml_fatal("out of memory creating a keyval");
    ki->copy = copy;
    ki->del = del;
    ki->extra = extra;
    int real = 0, rc = lower_keyval(comm, ki, &real);
    if (rc != MPI_SUCCESS) {
        free(ki);
        return rc;
    }
    ki->vkv = *keyval = pml_kv_new(real, ki);
    struct pml_rec *R = pml_rec_open(fid);
    pml_rec_ptr(R, copy);
    pml_rec_ptr(R, del);
    pml_rec_handle(R, (uintptr_t)(unsigned)*keyval);
    pml_rec_ptr(R, extra);
    pml_vh_tab[(uint32_t)*keyval & 0x3ffffff].rec = pml_rec_close(R);
    return rc;
}

int MPI_Comm_create_keyval(MPI_Comm_copy_attr_function *copy, MPI_Comm_delete_attr_function *del,
                           int *keyval, void *extra)
{
    if (!pml_L.MPI_Comm_create_keyval)
        return pml_not_ready("MPI_Comm_create_keyval");
    PML_GATE_ENTER(PML_FID_MPI_Comm_create_keyval);
    pml_kv_collect_some();
    int rc = create_keyval(PML_FID_MPI_Comm_create_keyval, 1, (void *)copy, (void *)del, keyval, extra);
    PML_GATE_LEAVE();
    return rc;
}
int PMPI_Comm_create_keyval(MPI_Comm_copy_attr_function *, MPI_Comm_delete_attr_function *, int *,
                            void *) __attribute__((alias("pml_own_MPI_Comm_create_keyval")));

int MPI_Type_create_keyval(MPI_Type_copy_attr_function *copy, MPI_Type_delete_attr_function *del,
                           int *keyval, void *extra)
{
    if (!pml_L.MPI_Type_create_keyval)
        return pml_not_ready("MPI_Type_create_keyval");
    PML_GATE_ENTER(PML_FID_MPI_Type_create_keyval);
    pml_kv_collect_some();
    int rc = create_keyval(PML_FID_MPI_Type_create_keyval, 0, (void *)copy, (void *)del, keyval, extra);
    PML_GATE_LEAVE();
    return rc;
}
int PMPI_Type_create_keyval(MPI_Type_copy_attr_function *, MPI_Type_delete_attr_function *, int *,
                            void *) __attribute__((alias("pml_own_MPI_Type_create_keyval")));

#ifndef MPI_Aint_add /* a macro in Open MPI's mpi.h, a function in MPICH's */
MPI_Aint MPI_Aint_add(MPI_Aint base, MPI_Aint disp)
{
    return (MPI_Aint)((char *)base + disp);
}
MPI_Aint MPI_Aint_diff(MPI_Aint a, MPI_Aint b)
{
    return (MPI_Aint)((char *)a - (char *)b);
}
MPI_Aint PMPI_Aint_add(MPI_Aint, MPI_Aint) __attribute__((alias("MPI_Aint_add")));
MPI_Aint PMPI_Aint_diff(MPI_Aint, MPI_Aint) __attribute__((alias("MPI_Aint_diff")));
#endif

/* The PMPI names of the other hand-written entry points. */
int PMPI_Init(int *, char ***) __attribute__((alias("pml_own_MPI_Init")));
int PMPI_Init_thread(int *, char ***, int, int *) __attribute__((alias("pml_own_MPI_Init_thread")));
int PMPI_Finalize(void) __attribute__((alias("pml_own_MPI_Finalize")));
int PMPI_Initialized(int *) __attribute__((alias("pml_own_MPI_Initialized")));
int PMPI_Finalized(int *) __attribute__((alias("pml_own_MPI_Finalized")));
int PMPI_Get_version(int *, int *) __attribute__((alias("pml_own_MPI_Get_version")));
int PMPI_Get_library_version(char *, int *) __attribute__((alias("pml_own_MPI_Get_library_version")));
int PMPI_Pcontrol(const int, ...) __attribute__((alias("pml_own_MPI_Pcontrol")));
