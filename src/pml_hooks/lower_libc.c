/* Part of the lower namespace's root library (with lower_root.c): the MPI library's calls that
 * touch state its libc shares with the application's libc go to the application's libc
 * instead (thread-specific data, thread creation, the environment, exit). Why each one, and
 * what else the two copies share: lower_libc.h and docs/mpi.md. The root library comes first in
 * the namespace's symbol scope, so these definitions take precedence for every library there;
 * calls the lower libc makes to itself do not go through them (tss_* and the timer and aio
 * helper threads are the cases that matter, see docs/mpi.md).
 *
 * The application's libc's functions come from the layer (upper_libc.c fills a table in its
 * constructor), found through the main program's global scope: these functions are called from
 * the constructors of the MPI library's dependencies, while the dlmopen that loads them is
 * still running, and a dlsym on libc's own link map does not work for an object that was never
 * dlopen'ed (its search list is empty). */
#define _GNU_SOURCE
#include "pml_hooks/lower_libc.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <locale.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <threads.h>
#include <unistd.h>

static const struct pml_upper_libc *up_p;
static int up_state; /* 0 not looked up, 1 found, -1 missing (then this libc's own are used) */
#define up (*up_p)

static void resolve_slow(void)
{
    const struct pml_upper_libc *u = NULL;
    if (_r_debug.r_map)
        u = (const struct pml_upper_libc *)dlsym(_r_debug.r_map, PML_UPPER_LIBC);
    if (u && u->ready)
        up_p = u;
    __atomic_store_n(&up_state, up_p ? 1 : -1, __ATOMIC_RELEASE);
}

/* 1 when the application's libc is there (always, unless this root was loaded some other way
 * than by the layer). */
static inline int have_up(void)
{
    int s = __atomic_load_n(&up_state, __ATOMIC_ACQUIRE);
    if (__builtin_expect(s == 0, 0)) {
        resolve_slow();
        s = __atomic_load_n(&up_state, __ATOMIC_ACQUIRE);
    }
    return s > 0;
}

#define OWN(name) \
    static __typeof__(&name) own_##name; \
    if (!own_##name) \
        own_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

/* This libc may have inherited every thread: its __libc_single_threaded must say so, or its
 * malloc skips its locks while application threads call into MPI. (glibc 2.36 already starts a
 * dlmopen'd libc with it cleared; this does not rely on that.) */
__attribute__((constructor)) static void lower_libc_init(void)
{
    __libc_single_threaded = 0;
    if (have_up() && up.own_environ)
        __environ = up.own_environ;
}

/* 1: the environment calls go to the application's libc; 0: this libc's own environment. */
static inline int env_shared(void)
{
    return have_up() && !up.own_environ;
}

/* ---- the locale's per-thread state (lower_libc.h) ------------------------------------------ */
void revive_lower_thread_locale(void)
{
    /* this libc's uselocale: sets the thread's locale and the ctype table pointers with it */
    uselocale(LC_GLOBAL_LOCALE);
}

/* ---- thread-specific data --------------------------------------------------------------- */
static void key_mark(unsigned k, int on)
{
    if (k >= PML_KEYS_WORDS * 64 || !up.keys)
        return;
    uint64_t bit = (uint64_t)1 << (k & 63);
    if (on)
        __atomic_fetch_or(&up.keys[k >> 6], bit, __ATOMIC_RELAXED);
    else
        __atomic_fetch_and(&up.keys[k >> 6], ~bit, __ATOMIC_RELAXED);
}

int pthread_key_create(pthread_key_t *key, void (*destr)(void *))
{
    if (!have_up()) {
        OWN(pthread_key_create);
        return own_pthread_key_create(key, destr);
    }
    int rc = up.key_create(key, destr);
    if (rc == 0)
        key_mark(*key, 1);
    return rc;
}

int pthread_key_delete(pthread_key_t key)
{
    if (!have_up()) {
        OWN(pthread_key_delete);
        return own_pthread_key_delete(key);
    }
    int rc = up.key_delete(key);
    if (rc == 0)
        key_mark(key, 0);
    return rc;
}

void *pthread_getspecific(pthread_key_t key)
{
    if (!have_up()) {
        OWN(pthread_getspecific);
        return own_pthread_getspecific(key);
    }
    return up.getspecific(key);
}

int pthread_setspecific(pthread_key_t key, const void *value)
{
    if (!have_up()) {
        OWN(pthread_setspecific);
        return own_pthread_setspecific(key, value);
    }
    return up.setspecific(key, value);
}

/* The old names (GLIBC_2.2.5), which libraries built against an older glibc may still bind. */
int __pthread_key_create(pthread_key_t *key, void (*destr)(void *));
int __pthread_key_create(pthread_key_t *key, void (*destr)(void *))
{
    return pthread_key_create(key, destr);
}

void *__pthread_getspecific(pthread_key_t key);
void *__pthread_getspecific(pthread_key_t key)
{
    return pthread_getspecific(key);
}

int __pthread_setspecific(pthread_key_t key, const void *value);
int __pthread_setspecific(pthread_key_t key, const void *value)
{
    return pthread_setspecific(key, value);
}

/* C11: glibc's tss_* call its own pthread_key_create directly, not through the PLT. */
int tss_create(tss_t *key, tss_dtor_t destr)
{
    if (!have_up()) {
        OWN(tss_create);
        return own_tss_create(key, destr);
    }
    int rc = up.tss_create(key, destr);
    if (rc == thrd_success)
        key_mark(*key, 1);
    return rc;
}

void tss_delete(tss_t key)
{
    if (!have_up()) {
        OWN(tss_delete);
        own_tss_delete(key);
        return;
    }
    up.tss_delete(key);
    key_mark(key, 0);
}

void *tss_get(tss_t key)
{
    if (!have_up()) {
        OWN(tss_get);
        return own_tss_get(key);
    }
    return up.tss_get(key);
}

int tss_set(tss_t key, void *value)
{
    if (!have_up()) {
        OWN(tss_set);
        return own_tss_set(key, value);
    }
    return up.tss_set(key, value);
}

/* ---- threads ------------------------------------------------------------------------------ */
pml_pthread_create_fn *revive_lower_upper_pthread_create(void)
{
    return have_up() ? up.create : NULL;
}

/* ---- the environment ------------------------------------------------------------------------
 * One environment, the application's, as natively: what MPI_Init puts there the application
 * sees, and the library never reads an array that the application's setenv has freed. Unless
 * the layer gave this lower half an environment of its own (after a restart). */
static void env_follow(void)
{
    __environ = *up.environ_up;
}

static int env_result(int rc)
{
    if (rc != 0)
        errno = *up.errno_location();
    env_follow();
    return rc;
}

char *getenv(const char *name)
{
    if (!env_shared()) {
        OWN(getenv);
        return own_getenv(name);
    }
    env_follow();
    return up.getenv(name);
}

char *secure_getenv(const char *name)
{
    if (!env_shared()) {
        OWN(secure_getenv);
        return own_secure_getenv(name);
    }
    env_follow();
    return up.secure_getenv(name);
}

int setenv(const char *name, const char *value, int overwrite)
{
    if (!env_shared()) {
        OWN(setenv);
        return own_setenv(name, value, overwrite);
    }
    return env_result(up.setenv(name, value, overwrite));
}

int unsetenv(const char *name)
{
    if (!env_shared()) {
        OWN(unsetenv);
        return own_unsetenv(name);
    }
    return env_result(up.unsetenv(name));
}

int putenv(char *string)
{
    if (!env_shared()) {
        OWN(putenv);
        return own_putenv(string);
    }
    return env_result(up.putenv(string));
}

int clearenv(void)
{
    if (!env_shared()) {
        OWN(clearenv);
        return own_clearenv();
    }
    return env_result(up.clearenv());
}

/* ---- the buffering of the standard streams (lower_libc.h) ---------------------------------
 * Only a change that brings no buffer of the library's along is applied to the application's
 * stream (a buffer cannot serve two streams). */
static FILE *upper_stream(FILE *fp)
{
    if (!have_up() || !up.setvbuf || !__atomic_load_n(&up.stdio_follow, __ATOMIC_ACQUIRE))
        return NULL;
    if (fp == stdout)
        return *up.stdout_up;
    if (fp == stderr)
        return *up.stderr_up;
    return NULL;
}

int setvbuf(FILE *fp, char *buf, int mode, size_t size)
{
    OWN(setvbuf);
    int rc = own_setvbuf(fp, buf, mode, size);
    FILE *u = rc == 0 && (buf == NULL || mode == _IONBF) ? upper_stream(fp) : NULL;
    if (u) {
        int e = errno;
        up.setvbuf(u, NULL, mode, size);
        errno = e;
    }
    return rc;
}

void setbuf(FILE *fp, char *buf)
{
    setvbuf(fp, buf, buf ? _IOFBF : _IONBF, BUFSIZ);
}

void setbuffer(FILE *fp, char *buf, size_t size)
{
    setvbuf(fp, buf, buf ? _IOFBF : _IONBF, size);
}

void setlinebuf(FILE *fp)
{
    setvbuf(fp, NULL, _IOLBF, 0);
}

/* ---- exit ----------------------------------------------------------------------------------
 * The application's exit runs every handler the process has (the application's, and through
 * ld.so's _dl_fini the destructors of both namespaces) and flushes the application's stdio;
 * the layer flushes this libc's stdio from one of those handlers (upper_libc.c). */
void exit(int status)
{
    if (have_up())
        up.exit(status);
    OWN(exit);
    own_exit(status);
}
