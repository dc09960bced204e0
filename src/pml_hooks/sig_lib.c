/* The signal actions of a restarted rank: the program's kept, the MPI library's from the fresh
 * library (docs/mpi.md, "Signals").
 *
 * Natively a rank's signal actions are the program's plus what the library installs in MPI_Init
 * (Open MPI's opal handlers of SIGABRT, SIGBUS, SIGFPE, SIGSEGV still at the default; UCX's of
 * SIGHUP, SIGILL, SIGBUS, SIGFPE, SIGSEGV when a component loads it; MPICH's SIGUSR1 handler,
 * which calls the action it found, the program's handler set before MPI_Init). The image holds
 * the actions as they were at the capture: the lower half's handlers point into memory that is
 * gone after a restart, and lower_reset.c sets them to the default. Then the fresh library's
 * MPI_Init found the default where the first one had found the program's handler (MPICH's SIGUSR1
 * handler then called nothing: a program's "write a checkpoint" SIGUSR1 handler set before
 * MPI_Init never ran again after a restart, and natively it does), and it installed its handlers
 * over actions the program had set after the first MPI_Init.
 *
 * So: at the first MPI_Init the actions the library finds are noted (pml_sig_before_init, in the
 * layer's memory: the image keeps them); at a restart the signals whose action was the dead
 * library's are noted (pml_sig_captured, restart hook) and given the action the first MPI_Init had
 * found before the fresh one runs (pml_sig_lower_gone), so that it finds and chains what the first
 * did; after it, what the fresh MPI_Init changed over the program's choice is undone
 * (pml_sig_after_reinit). SIGSEGV is left to the guard of the program's copy of the library
 * (upper_guard.c), which chains to the program's or the fresh library's handler.
 *
 * "What the fresh MPI_Init changed": the application's threads run on while the agent loads and
 * initialises the fresh library, and a program thread may set an action meanwhile (a restarted
 * program installing a handler, a thread outside MPI): natively its choice stands. So the actions
 * are noted just before the fresh library is loaded (pml_sig_before_reinit), and only an action
 * that differs afterwards AND whose handler lies in the fresh library's namespace (the lower
 * link-map namespace, pml_sig_is_lower) is set back as it was then. (Before session 52 every
 * action unlike the capture's was set back: a thread's new SIGUSR2 handler installed in that
 * window was replaced by the checkpoint's: tests/mpi/ckpt/sig_ctor.) A change to SIG_DFL or
 * SIG_IGN cannot be told apart and stays: neither MPI's MPI_Init makes one (measured, the
 * debug log of sig_ctor-*).
 *
 * The alternate signal stack: the fresh MPI_Init runs in the checkpoint agent's thread, so UCX's
 * constructor gives that thread a stack in the fresh lower half; it is put back as the agent had
 * it. A thread whose alternate stack was in the dead lower half (UCX's, of the thread that called
 * the first MPI_Init under Open MPI) gets a fresh one from libcr at its restore (park_thread.c),
 * written into its park handler's frame too, whose return would set the dead one again (park.c). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/layer.h"

#include <dlfcn.h>
#include <link.h>
#include <signal.h>
#include <string.h>

#define SIG_LIB_MAX 64

static struct sigaction at_init[SIG_LIB_MAX + 1]; /* what the first MPI_Init found */
static uint64_t have_init;                        /* bit s-1: at_init[s] was read */
static struct sigaction at_capture[SIG_LIB_MAX + 1];
static uint64_t have_capture, dead; /* dead: bit s-1, the action was the dead library's handler */
static struct sigaction at_reinit[SIG_LIB_MAX + 1]; /* just before the fresh library's load */
static uint64_t have_reinit;
static stack_t agent_alt;
static int have_agent_alt;

static uint64_t bit(int s)
{
    return 1ull << (s - 1);
}

static int kept_by_others(int s)
{
    /* the kernel's, and SIGSEGV, the guard's (upper_guard.c) */
    return s == SIGKILL || s == SIGSTOP || s == SIGSEGV;
}

static uintptr_t handler_of(const struct sigaction *sa)
{
    return (sa->sa_flags & SA_SIGINFO) ? (uintptr_t)sa->sa_sigaction : (uintptr_t)sa->sa_handler;
}

/* (the masks compared signal by signal, as layer.c does: glibc's sigset_t is 128 bytes, the
 * kernel's answer 8) */
static int same_action(const struct sigaction *x, const struct sigaction *y)
{
    if (handler_of(x) != handler_of(y) || x->sa_flags != y->sa_flags)
        return 0;
    for (int s = 1; s <= SIG_LIB_MAX; s++)
        if (sigismember(&x->sa_mask, s) != sigismember(&y->sa_mask, s))
            return 0;
    return 1;
}

void pml_sig_before_init(void)
{
    if (have_init)
        return; /* a restart's MPI_Init: the first one's stay */
    for (int s = 1; s <= SIG_LIB_MAX; s++)
        if (!kept_by_others(s) && sigaction(s, NULL, &at_init[s]) == 0)
            have_init |= bit(s);
}

void pml_sig_captured(int (*is_upper)(uint64_t))
{
    have_capture = dead = 0;
    for (int s = 1; s <= SIG_LIB_MAX; s++) {
        if (kept_by_others(s) || sigaction(s, NULL, &at_capture[s]) != 0)
            continue;
        have_capture |= bit(s);
        uintptr_t h = handler_of(&at_capture[s]);
        if (h > (uintptr_t)SIG_IGN && !is_upper((uint64_t)h))
            dead |= bit(s);
    }
}

void pml_sig_lower_gone(void)
{
    int n = 0;
    for (int s = 1; s <= SIG_LIB_MAX; s++) {
        if (!(dead & bit(s)))
            continue;
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        /* what the first MPI_Init found (never the dead library's: noted before it ran) */
        const struct sigaction *put = (have_init & bit(s)) ? &at_init[s] : &dfl;
        if (sigaction(s, put, NULL) == 0)
            n++;
    }
    if (n)
        revive_log_debug("%d signal actions of the dead MPI library set as the first MPI_Init "
                         "found them, for the fresh one", n);
}

int pml_sig_is_lower(const struct sigaction *sa, long lmid)
{
    uintptr_t h = handler_of(sa);
    Dl_info di;
    struct link_map *lm = NULL;
    Lmid_t in = -1;
    if (h <= (uintptr_t)SIG_IGN || lmid < 0)
        return 0;
    if (!dladdr1((void *)h, &di, (void **)&lm, RTLD_DL_LINKMAP) || !lm)
        return 0; /* in no loaded object: not a library's function */
    return dlinfo(lm, RTLD_DI_LMID, &in) == 0 && (long)in == lmid;
}

void pml_sig_before_reinit(void)
{
    have_reinit = 0;
    for (int s = 1; s <= SIG_LIB_MAX; s++)
        if (!kept_by_others(s) && sigaction(s, NULL, &at_reinit[s]) == 0)
            have_reinit |= bit(s);
    have_agent_alt = sigaltstack(NULL, &agent_alt) == 0;
}

void pml_sig_after_reinit(void)
{
    int kept = 0, put = 0, program = 0;
    for (int s = 1; s <= SIG_LIB_MAX; s++) {
        struct sigaction now;
        if (!(have_capture & bit(s)) || !(have_reinit & bit(s)) || sigaction(s, NULL, &now) != 0)
            continue;
        if (dead & bit(s)) {
            /* the fresh library's own handler in the dead one's place (or, when it installs
             * none, the action the first MPI_Init found) */
            kept++;
            continue;
        }
        if (same_action(&now, &at_reinit[s]))
            continue;
        if (!pml_sig_is_lower(&now, pml_lower_lmid)) {
            /* not the fresh library's: a program thread's, set while it initialised */
            revive_log_debug("signal %d: handler %#lx set by the program while the fresh MPI "
                             "library was initialised: kept", s, (unsigned long)handler_of(&now));
            program++;
            continue;
        }
        revive_log_debug("signal %d: the fresh MPI_Init set handler %#lx over the program's %#lx:"
                         " put back", s, (unsigned long)handler_of(&now),
                         (unsigned long)handler_of(&at_reinit[s]));
        if (sigaction(s, &at_reinit[s], NULL) == 0)
            put++;
    }
    revive_log_debug("signal actions after the fresh MPI_Init: %d the fresh library's in the dead "
                     "one's place, %d of the fresh library's put back as before it, %d the "
                     "program's of meanwhile kept", kept, put, program);
    stack_t now;
    if (have_agent_alt && sigaltstack(NULL, &now) == 0 &&
        (now.ss_sp != agent_alt.ss_sp || (now.ss_flags & SS_DISABLE) != (agent_alt.ss_flags & SS_DISABLE))) {
        stack_t back = agent_alt;
        back.ss_flags &= SS_DISABLE;
        if (sigaltstack(&back, NULL) == 0)
            revive_log_debug("the alternate signal stack the fresh library gave the checkpoint "
                             "agent (%p) put back (%p)", now.ss_sp, agent_alt.ss_sp);
    }
}
