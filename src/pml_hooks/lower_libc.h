/* The state the two copies of libc in a rank share by accident, and what the layer and the
 * lower namespace's root library do about it (docs/mpi.md, "One process, two copies of libc").
 *
 * The lower half loads its own libc.so.6 (dlmopen). Both copies run on the same threads, so
 * whatever glibc keeps in the thread descriptor (struct pthread, reached through %fs) or in the
 * kernel is seen by both, while what it keeps in its own variables is not. The lower
 * namespace's root library (lower_libc.c, linked into revive-lower-*.so) therefore sends these
 * calls of the MPI library to the application's libc, where the variables live that go with
 * the shared slots:
 *   - thread-specific data: pthread_key_create/delete, pthread_getspecific/setspecific (and
 *     their __ names), tss_create/delete/get/set. The key table is per libc but the values sit
 *     in the descriptor's specific[] slots, so two tables would hand out the same key numbers;
 *   - thread creation: the lower half's threads are started by the application's
 *     pthread_create, so one libc owns each thread's whole life (its exit destroys thread-
 *     specific data against the table that made the keys, and frees the second-level key
 *     blocks with the malloc that allocated them);
 *   - the environment: getenv, secure_getenv, setenv, unsetenv, putenv, clearenv. dlmopen gives
 *     the lower libc the application's environ array as it was at MPI_Init; a later setenv in
 *     the application frees that array under the library's feet. The lower __environ is kept
 *     pointing at the application's current array;
 *   - exit: the MPI library's exit() (MPICH's MPI_Abort, fatal errors) runs the application's
 *     exit handlers and flushes its stdio, as natively;
 *   - the buffering of the standard streams: setbuf, setvbuf, setbuffer, setlinebuf on the
 *     library's stdout or stderr are applied to the application's too. MPICH's PMI start-up
 *     calls setbuf(stdout, NULL), which natively makes the application's stdout unbuffered;
 *     on the lower libc's own stdout alone it left the application's stdout block-buffered
 *     (lines of different ranks cut in the middle at 4 KiB, output shown late or lost in a
 *     crash). Only for the first lower half: after a restart the application's streams are
 *     as the image holds them (the program may have changed them since MPI_Init).
 * And the other way round, what a thread needs of the lower libc that only that libc's own
 * thread start (or its load, in the loading thread) gives it: the locale's per-thread ctype
 * table pointers (__ctype_b_loc, __ctype_tolower_loc, __ctype_toupper_loc: what isspace,
 * tolower and toupper read; in .tbss, so NULL in every other thread). Each thread that can run
 * the MPI library's code gets them: the lower half's own threads when they start (lower_root.c),
 * the application's when they start (upper_thread), and every thread alive when a lower half
 * is loaded (pml_libc_lower_threads, through ld.so's thread list). Without them the first
 * isspace in the library crashed in any thread but the one that had called MPI_Init (Open
 * MPI: every communicator made, through opal_str_to_bool; after a restart through the agent,
 * which loads the fresh lower half, in the main thread: campaign-failures.md #6).
 * The layer (upper_libc.c) publishes the application's libc functions for the root library. */
#ifndef PML_HOOKS_LOWER_LIBC_H
#define PML_HOOKS_LOWER_LIBC_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#define PML_KEYS_WORDS 16 /* 1024 keys (PTHREAD_KEYS_MAX), one bit each */

/* What the layer publishes (as the data symbol PML_UPPER_LIBC, filled by its constructor) for
 * the lower root, which finds it through the main program's global scope: the application's
 * libc's own functions (looked up in libc itself, not the layer's wrappers) and where the
 * layer keeps the lower half's keys. */
struct pml_upper_libc {
    int ready;
    int (*key_create)(pthread_key_t *, void (*)(void *));
    int (*key_delete)(pthread_key_t);
    void *(*getspecific)(pthread_key_t);
    int (*setspecific)(pthread_key_t, const void *);
    int (*tss_create)(unsigned *, void (*)(void *));
    void (*tss_delete)(unsigned);
    void *(*tss_get)(unsigned);
    int (*tss_set)(unsigned, void *);
    int (*create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
    char *(*getenv)(const char *);
    char *(*secure_getenv)(const char *);
    int (*setenv)(const char *, const char *, int);
    int (*unsetenv)(const char *);
    int (*putenv)(char *);
    int (*clearenv)(void);
    void (*exit)(int) __attribute__((noreturn));
    int *(*errno_location)(void);
    int (*setvbuf)(FILE *, char *, int, size_t);
    FILE **stdout_up, **stderr_up; /* the application's stdout and stderr */
    int stdio_follow;   /* 1: the lower libc's stdout/stderr buffering changes are applied to
                           the application's (until the first restart) */
    char ***environ_up; /* the application's environ (the executable's copy when it has one) */
    char **own_environ; /* NULL: the MPI library shares the application's environment; else it
                           keeps its own, starting as this array (pml_libc_lower_env) */
    uint64_t *keys;     /* PML_KEYS_WORDS words in the layer's (saved) memory: a bit per key
                           the lower half created in the application's table and still holds */
};
#define PML_UPPER_LIBC "revive_upper_libc"

/* The application's libc's own pthread_create (not the layer's wrapper), for lower_root.c. */
typedef int pml_pthread_create_fn(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
pml_pthread_create_fn *revive_lower_upper_pthread_create(void);

/* In the lower root (lower_libc.c): sets the calling thread's locale state of the lower libc
 * as that libc's thread start would (the thread's locale is the global one). */
void revive_lower_thread_locale(void);
#define PML_LOWER_THREAD_LOCALE "revive_lower_thread_locale"

/* ---- the layer's side (upper_libc.c) ---------------------------------------------------- */
/* Once the lower half is loaded: checks that both halves use the same libc file, and arranges
 * for the lower libc's environ to follow the application's and for its stdio to be flushed at
 * exit. Calls pml_fatal on a mismatch. */
void pml_libc_bind(void *lower_handle);
/* The environment of the next lower half to load: NULL (the default) shares the application's;
 * an array gives the MPI library an environment of its own starting as that array (after a
 * restart: the new launcher's, while the application keeps its own). The array must outlive
 * that lower half. */
void pml_libc_lower_env(char **envp);
/* After a restart (done by the layer's own libcr restart hook, registered at the first bind):
 * forgets the lower half that is gone (its environ, its stdio) and marks its keys in the
 * application's key table stale; the next pml_libc_bind deletes them, so that no destructor of
 * a namespace that is gone ever runs. Takes no lock (other threads are parked). */
void pml_libc_forget_lower(void);
/* Right after the lower half's MPI_Init, in the thread that loaded it: gives every other thread
 * of the process the lower libc's locale state this thread has (lower_reset.c walks ld.so's
 * thread lists). 0, or -errno with a message. */
int pml_libc_lower_threads(char *err, size_t errlen);
/* In each thread the application starts, first thing (halves_hooks.c): the same for itself,
 * when a lower half is loaded. */
void pml_libc_thread_start(void);
/* How many keys the lower half holds in the application's table now. */
int pml_tsd_lower_keys(void);

#endif
