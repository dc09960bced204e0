/* What the two copies of libc in a rank under Revive share (src/pml_hooks/lower_libc.h): the
 * program's output must be the same natively and under Revive (libc_shared.sh compares them),
 * and under Revive every rank also checks the layer's invariants from inside and exits 1 with
 * a message on stderr when one fails.
 *
 *   libc_shared            thread-specific data, threads, the environment, setgid with threads,
 *                          fork and exec, the MPI library's stdio at exit, how MPI_Init left
 *                          stdout buffered (MPICH makes it unbuffered: under Revive the setbuf
 *                          reached only the library's own stdout, and the ranks' lines came
 *                          out cut in the middle at 4 KiB)
 *   libc_shared abort      rank 0 leaves a line in stdout's buffer, registers an exit handler
 *                          and calls MPI_Abort: the MPI library's exit() (MPICH) must run the
 *                          handler and flush the line, as natively
 *   libc_shared ownenv     under Revive the MPI library is given an environment of its own
 *                          (pml_libc_lower_env, as after a restart): it sees that one, the
 *                          application keeps its own, and neither sees the other's changes */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <mpi.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int me = -1, bad;
static void *lower; /* the layer's lower half (Revive only) */

#define FAIL(...) do { fprintf(stderr, "rank %d: FAIL: ", me); fprintf(stderr, __VA_ARGS__); \
    fprintf(stderr, "\n"); bad = 1; } while (0)

/* ---- thread-specific data ------------------------------------------------------------------ */
#define NB 40 /* more than 32: the later keys live in second-level blocks that setspecific mallocs */
static pthread_key_t before[NB], after[NB];
static int vals_before[NB], vals_after[NB], have_after;
static int destructed;
static void destr(void *p)
{
    (void)p;
    __atomic_fetch_add(&destructed, 1, __ATOMIC_RELAXED);
}

static void keys_before_init(void)
{
    for (int i = 0; i < NB; i++) {
        if (pthread_key_create(&before[i], destr))
            FAIL("pthread_key_create before MPI_Init");
        pthread_setspecific(before[i], &vals_before[i]);
    }
}

static int keys_intact(const char *when)
{
    int changed = 0;
    for (int i = 0; i < NB; i++)
        if (pthread_getspecific(before[i]) != &vals_before[i])
            changed++;
    for (int i = 0; i < NB && have_after; i++)
        if (pthread_getspecific(after[i]) != &vals_after[i])
            changed++;
    if (changed)
        FAIL("%d thread-specific values changed %s", changed, when);
    return changed;
}

static void *key_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < NB; i++) {
        if (pthread_getspecific(before[i]) || pthread_getspecific(after[i]))
            FAIL("a new thread sees values it never set");
        pthread_setspecific(before[i], &vals_before[i]);
        pthread_setspecific(after[i], &vals_after[i]);
    }
    return NULL;
}

static void keys_after_init(void)
{
    keys_intact("by MPI_Init");
    int nonempty = 0;
    for (int i = 0; i < NB; i++) {
        if (pthread_key_create(&after[i], destr))
            FAIL("pthread_key_create after MPI_Init");
        if (pthread_getspecific(after[i]))
            nonempty++;
        pthread_setspecific(after[i], &vals_after[i]);
    }
    have_after = 1;
    if (nonempty)
        FAIL("%d keys made after MPI_Init already hold a value", nonempty);
    /* a thread of the application's, with values on every key: its destructors run at exit */
    destructed = 0;
    pthread_t t;
    pthread_create(&t, NULL, key_thread, NULL);
    pthread_join(t, NULL);
    if (destructed != 2 * NB)
        FAIL("%d destructors ran at an application thread's exit, not %d", destructed, 2 * NB);
    if (me == 0)
        printf("keys: %d set before MPI_Init intact, %d made after it empty, %d destructors at"
               " thread exit\n", NB, NB, 2 * NB);
}

/* White-box, under Revive: the MPI library's libc hands out no key of its own (they all come
 * from the application's table), and both libcs know that threads exist. */
struct pkey { uintptr_t seq; void (*destr)(void *); };
static void libc_tables(void)
{
    if (!lower)
        return;
    const struct pkey *lk = dlsym(lower, "__pthread_keys");
    const char *lst = dlsym(lower, "__libc_single_threaded");
    const char *ust = dlsym(RTLD_NEXT, "__libc_single_threaded");
    int n = 0;
    for (int i = 0; lk && i < 1024; i++)
        n += lk[i].seq & 1;
    if (!lk || n)
        FAIL("the MPI library's libc has %d keys of its own (%s)", n, lk ? "in use" : "no table");
    if (!lst || !ust || *lst || *ust)
        FAIL("__libc_single_threaded: the MPI library's libc %d, the application's %d (both must"
             " be 0 once MPI_Init started threads)", lst ? *lst : -1, ust ? *ust : -1);
}

/* ---- the environment ------------------------------------------------------------------------ */
static void environment(void)
{
    /* enough setenv calls that the environment array is reallocated (and the old one freed) */
    for (int i = 0; i < 64; i++) {
        char n[32];
        snprintf(n, sizeof n, "REVIVE_TEST_VAR%d", i);
        setenv(n, "x", 1);
    }
    setenv("REVIVE_TEST_AFTER", "after", 1);
    if (lower) {
        char *(*lgetenv)(const char *) = (char *(*)(const char *))dlsym(lower, "getenv");
        int (*lsetenv)(const char *, const char *, int) =
            (int (*)(const char *, const char *, int))dlsym(lower, "setenv");
        int *(*lerrno)(void) = (int *(*)(void))dlsym(lower, "__errno_location");
        char ***lenv = dlsym(lower, "__environ");
        const char *v = lgetenv ? lgetenv("REVIVE_TEST_AFTER") : NULL;
        if (!v || strcmp(v, "after"))
            FAIL("the MPI library's getenv sees REVIVE_TEST_AFTER as %s, not \"after\"",
                 v ? v : "unset");
        if (!lenv || *lenv != environ)
            FAIL("the MPI library's environ is not the application's");
        if (lsetenv && lsetenv("REVIVE_TEST_FROM_MPI", "mpi", 1) == 0) {
            const char *w = getenv("REVIVE_TEST_FROM_MPI");
            if (!w || strcmp(w, "mpi"))
                FAIL("a variable the MPI library set is not in the application's environment");
        }
        if (lsetenv && lerrno && (lsetenv("", "x", 1) != -1 || *lerrno() != EINVAL))
            FAIL("the MPI library's failed setenv does not leave EINVAL in its errno");
    }
    if (me == 0)
        printf("environment: 65 variables set after MPI_Init\n");
}

/* ---- setgid with threads of both halves, fork and exec ------------------------------------- */
static void *sleeper(void *arg)
{
    (void)arg;
    pause();
    return NULL;
}

static void credentials_and_fork(void)
{
    /* every thread of the process, the MPI library's too, takes part in a set*id call */
    if (setgid(getgid()) != 0)
        FAIL("setgid(getgid()): %s", strerror(errno));
    int st = system("exit 3");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 3)
        FAIL("system(\"exit 3\") gave status %#x", st);
    if (me == 0)
        printf("setgid with threads, fork and exec: ok\n");
}

/* ---- the MPI library's stdio --------------------------------------------------------------- */
static void lower_stdio_line(void)
{
    /* rank 0 prints a line through the MPI library's stdio (natively: the only stdio), left in
     * the buffer: it must appear when the process exits */
    if (me != 0)
        return;
    int (*lprintf)(const char *, ...) = lower ? (int (*)(const char *, ...))dlsym(lower, "printf")
                                              : printf;
    fflush(stdout);
    lprintf("stdio of the MPI library flushed at exit\n");
}

/* ---- an environment of the MPI library's own ---------------------------------------------- */
static char **own_env;

static void ownenv_before_init(void)
{
    void (*set)(char **) = (void (*)(char **))dlsym(RTLD_DEFAULT, "pml_libc_lower_env");
    if (!set)
        return; /* natively */
    size_t n = 0;
    while (environ[n])
        n++;
    own_env = calloc(n + 2, sizeof *own_env);
    memcpy(own_env, environ, n * sizeof *own_env);
    static char own[] = "REVIVE_TEST_OWN=lower";
    own_env[n] = own;
    set(own_env);
}

static void ownenv_after_init(void)
{
    if (own_env && lower) {
        char *(*lgetenv)(const char *) = (char *(*)(const char *))dlsym(lower, "getenv");
        int (*lsetenv)(const char *, const char *, int) =
            (int (*)(const char *, const char *, int))dlsym(lower, "setenv");
        const char *v = lgetenv("REVIVE_TEST_OWN");
        if (!v || strcmp(v, "lower"))
            FAIL("the MPI library does not see its own environment (REVIVE_TEST_OWN=%s)", v ? v : "unset");
        if (getenv("REVIVE_TEST_OWN"))
            FAIL("the application sees the MPI library's own environment");
        setenv("REVIVE_TEST_APP", "app", 1);
        lsetenv("REVIVE_TEST_LIB", "lib", 1);
        if (lgetenv("REVIVE_TEST_APP") || getenv("REVIVE_TEST_LIB"))
            FAIL("a variable set on one side is seen on the other");
    }
    if (me == 0)
        printf("own environment: ok\n");
}

static void bye(void)
{
    printf("rank %d: exit handler ran\n", me);
}

/* ---- the standard streams' buffering -------------------------------------------------------
 * Read from glibc's FILE flags (_IO_UNBUFFERED 0x2, _IO_LINE_BUF 0x200; no public call tells
 * unbuffered from fully buffered). stdout is a file here, so fully buffered until MPI_Init. */
static void stdio_buffering(void)
{
    int f = stdout->_flags;
    if (me == 0)
        printf("stdout after MPI_Init: %s\n", (f & 0x2) ? "unbuffered"
                                                : (f & 0x200) ? "line-buffered" : "fully buffered");
}

int main(int argc, char **argv)
{
    int abort_mode = argc > 1 && !strcmp(argv[1], "abort");
    int ownenv_mode = argc > 1 && !strcmp(argv[1], "ownenv");
    if (ownenv_mode)
        ownenv_before_init();
    keys_before_init();
    pthread_t t;
    pthread_create(&t, NULL, sleeper, NULL); /* an application thread that exists at MPI_Init */
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    void **lh = dlsym(RTLD_DEFAULT, "pml_lower_handle");
    lower = lh ? *lh : NULL;
    if (abort_mode) {
        if (me == 0) {
            atexit(bye);
            printf("rank 0: line in the buffer before MPI_Abort\n");
            MPI_Abort(MPI_COMM_WORLD, 3);
        }
        MPI_Barrier(MPI_COMM_WORLD);
        MPI_Finalize();
        return 0;
    }
    if (ownenv_mode) {
        ownenv_after_init();
        MPI_Finalize();
        return bad;
    }
    stdio_buffering();
    keys_after_init();
    libc_tables();
    environment();
    credentials_and_fork();
    MPI_Comm dup;
    MPI_Comm_dup(MPI_COMM_WORLD, &dup);
    int x = me, sum = 0;
    MPI_Allreduce(&x, &sum, 1, MPI_INT, MPI_SUM, dup);
    MPI_Comm_free(&dup);
    keys_intact("by MPI calls");
    lower_stdio_line();
    MPI_Finalize();
    keys_intact("by MPI_Finalize");
    if (me == 0)
        printf("MPI_Finalize: ok, values intact\n");
    return bad;
}
