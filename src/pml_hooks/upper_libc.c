/* The layer's side of the state the two copies of libc share (lower_libc.h): publishes the
 * application's libc functions for the lower namespace's root library, keeps the lower libc's
 * environ on
 * the application's current array when the application changes its environment, flushes the
 * lower libc's stdio at exit, and remembers (in the application's memory, which a checkpoint
 * saves) which keys of the application's key table belong to the lower half, so that a restart
 * can delete them once the lower half they belonged to is gone. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "common/libc_dlsym.h"
#include "pml_hooks/layer.h"
#include "pml_hooks/lower_libc.h"
#include "pml_hooks/lower_reset.h"
#include "crs/base/hooks.h"

#include <dlfcn.h>
#include <errno.h>
#include <gnu/libc-version.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <threads.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h> /* environ */

static uint64_t lower_keys[PML_KEYS_WORDS];
static uint64_t stale_keys[PML_KEYS_WORDS]; /* of a lower half that is gone (after a restart) */
static int hooked;
struct pml_upper_libc revive_upper_libc; /* PML_UPPER_LIBC */
static char ***lower_environ; /* the lower libc's own __environ */
static int (*lower_fflush)(FILE *);
static void *lower_h;           /* the lower half bound last */
static void (*lower_locale)(void); /* its revive_lower_thread_locale; NULL: no lower half */

/* ---- the application's environment changes --------------------------------------------- */
static void lower_env_follow(void)
{
    char ***le = __atomic_load_n(&lower_environ, __ATOMIC_ACQUIRE);
    if (le)
        *le = environ;
}

#define NEXT(name) \
    static __typeof__(&name) next_##name; \
    if (!next_##name) \
        next_##name = (__typeof__(&name))revive_dlsym_next(#name)

int setenv(const char *name, const char *value, int overwrite)
{
    NEXT(setenv);
    int rc = next_setenv(name, value, overwrite);
    lower_env_follow();
    return rc;
}

int unsetenv(const char *name)
{
    NEXT(unsetenv);
    int rc = next_unsetenv(name);
    lower_env_follow();
    return rc;
}

int putenv(char *string)
{
    NEXT(putenv);
    int rc = next_putenv(string);
    lower_env_follow();
    return rc;
}

int clearenv(void)
{
    NEXT(clearenv);
    int rc = next_clearenv();
    lower_env_follow();
    return rc;
}

/* ---- the table for the lower root ------------------------------------------------------- */
#define LIBC_FN(field, name) \
    u->field = (__typeof__(u->field))revive_dlsym(libc, name); \
    ok = ok && u->field

/* Runs before anything can load the lower half (the layer is preloaded). The functions are
 * libc's own (a dlopen handle for libc searches libc, not the layer's wrappers). */
__attribute__((constructor)) static void upper_libc_publish(void)
{
    struct pml_upper_libc *u = &revive_upper_libc;
    Dl_info di;
    void *libc = NULL;
    struct link_map *lm = pml_main_libc(); /* by name: dladdr of a function names a non-PIE program */
    if (lm && dladdr(lm->l_ld, &di) && di.dli_fname)
        libc = dlopen(di.dli_fname, RTLD_NOLOAD | RTLD_LAZY);
    if (!libc) {
        revive_log_warn("cannot find the application's libc (%s): the MPI library keeps its own"
                        " thread-specific data and environment", dlerror());
        return;
    }
    int ok = 1;
    LIBC_FN(key_create, "pthread_key_create");
    LIBC_FN(key_delete, "pthread_key_delete");
    LIBC_FN(getspecific, "pthread_getspecific");
    LIBC_FN(setspecific, "pthread_setspecific");
    LIBC_FN(tss_create, "tss_create");
    LIBC_FN(tss_delete, "tss_delete");
    LIBC_FN(tss_get, "tss_get");
    LIBC_FN(tss_set, "tss_set");
    LIBC_FN(create, "pthread_create");
    LIBC_FN(getenv, "getenv");
    LIBC_FN(secure_getenv, "secure_getenv");
    LIBC_FN(setenv, "setenv");
    LIBC_FN(unsetenv, "unsetenv");
    LIBC_FN(putenv, "putenv");
    LIBC_FN(clearenv, "clearenv");
    LIBC_FN(exit, "exit");
    LIBC_FN(errno_location, "__errno_location");
    LIBC_FN(setvbuf, "setvbuf");
    u->stdout_up = &stdout;
    u->stderr_up = &stderr;
    u->stdio_follow = 1;
    u->environ_up = &environ;
    u->keys = lower_keys;
    if (!ok) {
        revive_log_warn("the application's libc lacks a function the MPI library's calls are sent"
                        " to: the MPI library keeps its own thread-specific data and environment");
        return;
    }
    __atomic_store_n(&u->ready, 1, __ATOMIC_RELEASE);
}

/* ---- once the lower half is loaded ------------------------------------------------------ */
void pml_libc_lower_env(char **envp)
{
    revive_upper_libc.own_environ = envp;
}

void pml_libc_forget_lower(void)
{
    /* the application's streams are buffered as the image holds them: a fresh library's
       start-up (MPICH's setbuf) must not change what the program may have set since */
    __atomic_store_n(&revive_upper_libc.stdio_follow, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&lower_locale, NULL, __ATOMIC_SEQ_CST);
    lower_h = NULL;
    __atomic_store_n(&lower_environ, NULL, __ATOMIC_RELEASE);
    lower_fflush = NULL;
    for (int i = 0; i < PML_KEYS_WORDS; i++)
        stale_keys[i] |= __atomic_exchange_n(&lower_keys[i], 0, __ATOMIC_RELAXED);
}

static int restart_hook(void *arg, enum crs_hook_event event, int status)
{
    (void)arg;
    (void)status;
    if (event == CRS_HOOK_RESTART)
        pml_libc_forget_lower();
    return 0;
}

static void flush_lower_stdio(void)
{
    if (lower_fflush)
        lower_fflush(NULL);
}

static int same_file(const void *a, const void *b, const char **na, const char **nb)
{
    Dl_info da, db;
    struct stat sa, sb;
    if (!dladdr(a, &da) || !dladdr(b, &db) || !da.dli_fname || !db.dli_fname)
        return -1;
    *na = da.dli_fname;
    *nb = db.dli_fname;
    if (stat(da.dli_fname, &sa) < 0 || stat(db.dli_fname, &sb) < 0)
        return -1;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

void pml_libc_bind(void *h)
{
    /* Both copies read and write the same thread descriptors: they must agree on its layout. */
    const char *(*lver)(void) = (const char *(*)(void))revive_dlsym(h, "gnu_get_libc_version");
    const char *un = "?", *ln = "?";
    struct link_map *lm = pml_main_libc(); /* by name (not &gnu_get_libc_version: a PLT entry in a non-PIE program) */
    if (!lver || strcmp(lver(), gnu_get_libc_version()) ||
        (lm && same_file(lm->l_ld, (const void *)lver, &un, &ln) == 0))
        pml_fatal("the MPI library's libc (%s, %s) is not the application's (%s, %s): both halves"
                  " of a rank must use the same libc.so.6", ln, lver ? lver() : "?", un,
                  gnu_get_libc_version());
    for (int i = 0; i < PML_KEYS_WORDS; i++) /* a previous lower half's, after a restart */
        for (int b = 0; b < 64; b++)
            if (stale_keys[i] & ((uint64_t)1 << b))
                pthread_key_delete((pthread_key_t)(i * 64 + b));
    memset(stale_keys, 0, sizeof stale_keys);
    lower_fflush = (int (*)(FILE *))revive_dlsym(h, "fflush");
    lower_h = h;
    /* published before any thread of the application is given the locale state (below): a
     * thread starting meanwhile either sees it, or is on ld.so's list when the state is copied */
    __atomic_store_n(&lower_locale, (void (*)(void))revive_dlsym(h, PML_LOWER_THREAD_LOCALE), __ATOMIC_SEQ_CST);
    if (!revive_upper_libc.own_environ) {
        __atomic_store_n(&lower_environ, (char ***)revive_dlsym(h, "__environ"), __ATOMIC_RELEASE);
        lower_env_follow();
    }
    if (!hooked) {
        hooked = 1;
        atexit(flush_lower_stdio);
        struct crs_hook hk = { "mpi-libc", restart_hook, NULL };
        if (crs_hook_register(&hk) != 0)
            revive_log_warn("cannot register the layer's libc restart hook with libcr");
    }
    revive_log_debug("lower half loaded: %d keys of its own in the application's key table",
                     pml_tsd_lower_keys());
}

/* ---- the lower libc's locale state in every thread (lower_libc.h) ------------------------- */
void pml_libc_thread_start(void)
{
    void (*f)(void) = __atomic_load_n(&lower_locale, __ATOMIC_SEQ_CST);
    if (f)
        f();
}

int pml_libc_lower_threads(char *err, size_t errlen)
{
    typedef const void **loc_fn(void);
    loc_fn *b = lower_h ? (loc_fn *)revive_dlsym(lower_h, "__ctype_b_loc") : NULL;
    loc_fn *lo = lower_h ? (loc_fn *)revive_dlsym(lower_h, "__ctype_tolower_loc") : NULL;
    loc_fn *up = lower_h ? (loc_fn *)revive_dlsym(lower_h, "__ctype_toupper_loc") : NULL;
    if (!b || !lo || !up || !__atomic_load_n(&lower_locale, __ATOMIC_SEQ_CST)) {
        snprintf(err, errlen, "the lower half's libc has no __ctype_b_loc, __ctype_tolower_loc,"
                 " __ctype_toupper_loc or the lower root's %s", PML_LOWER_THREAD_LOCALE);
        return -ENOTSUP;
    }
    void *w[3] = { (void *)b(), (void *)lo(), (void *)up() };
    for (int i = 0; i < 3; i++)
        if (!*(void **)w[i]) {
            snprintf(err, errlen, "the lower libc's ctype tables are not set in the thread that"
                     " loaded it");
            return -ENOTSUP;
        }
    int n = pml_ldso_tls_spread(w, 3, err, errlen);
    if (n < 0)
        return n;
    revive_log_debug("the lower libc's locale state given to %d other threads", n);
    return 0;
}

int pml_tsd_lower_keys(void)
{
    int n = 0;
    for (int i = 0; i < PML_KEYS_WORDS; i++)
        n += __builtin_popcountll(__atomic_load_n(&lower_keys[i], __ATOMIC_RELAXED));
    return n;
}

