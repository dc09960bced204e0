/*
 * The test contract shared by every state test program in tests/crs (CRIU
 * zdtm style):
 *
 *   1. the program sets up its state and prints numbered result lines
 *      ("NN what: value"), every value deterministic (checksums, yes/no);
 *   2. at each checkpoint point N (1 and 2) it prints "-- checkpoint N --",
 *      flushes, writes its PID into the file $REVIVE_TEST_READY.N (atomically:
 *      temporary name, rename) and polls until the file $REVIVE_TEST_GO.N
 *      exists; without REVIVE_TEST_READY it runs straight through;
 *   3. it verifies all its state, prints the rest of its lines, and ends with
 *      "RESULT ok" and exit status CRT_EXIT_OK (42), or "RESULT FAIL (n)" and
 *      exit status 1; just before, it writes its PID into $REVIVE_TEST_READY.done
 *      (so the harness sees which PID the last restart ran under).
 *
 * A failed check prints "FAIL" with what it got and what it expected, so the
 * harness (cr_cycle.sh), which compares the lines after the checkpoint with an
 * uninterrupted run, shows exactly what differed.
 *
 * Every wait tolerates EINTR: a checkpoint interrupts blocking calls the way a
 * signal does.
 */
#ifndef REVIVE_TESTS_CRS_CRT_COMMON_H
#define REVIVE_TESTS_CRS_CRT_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CRT_EXIT_OK 42
#define CRT_EXIT_FAIL 1
#define CRT_EXIT_SETUP 2 /* the test could not set up its state */

/* Prints one numbered line ("NN " + text + "\n") and flushes stdout. */
void crt_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Records a failed check: prints "NN FAIL name: ..." and counts it. */
void crt_fail(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Checks and prints "NN name: ok" or "NN FAIL name: got X, expected Y". */
#define CRT_CHECK_U64(name, got, expected) \
    crt_check_u64((name), (uint64_t)(got), (uint64_t)(expected))
void crt_check_u64(const char *name, uint64_t got, uint64_t expected);
/* Checks a condition; `what` says what was seen when it is false. */
void crt_check(const char *name, int ok, const char *what_fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* crt_check of the check named "WHAT WHEN": a state test's check at one of its moments (the
 * `when` crt_check_around_points gives, "after point 1"). */
void crt_check_when(const char *what, const char *when, int ok, const char *what_fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Checkpoint point N: see the contract above. */
void crt_checkpoint_point(int n);

/* Writes $REVIVE_TEST_READY.done and prints the RESULT line; exits CRT_EXIT_OK, or
 * CRT_EXIT_FAIL on any failure. */
__attribute__((noreturn)) void crt_finish(void);

/* The state tests' usual run once set up: check("at start"), checkpoint point 1,
 * check("after point 1"), point 2, check("after point 2"), crt_finish(). */
__attribute__((noreturn)) void crt_check_around_points(void (*check)(const char *when));

/* Gives up with CRT_EXIT_SETUP when the test cannot even set up. */
__attribute__((noreturn)) void crt_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Binds fd to 127.0.0.1 (filling *a) at a port below the kernel's ephemeral range (32768-60999
 * here), trying ports from 20000 up in turn from a place that seed and the PID choose: a port
 * the kernel chose can be given to any other process once the original has gone, and the
 * restart then rightly cannot bind it (a CI run: another test held a client's old port longer
 * than the 3 s the restore waits). The restore binds a recorded port either way. crt_die when
 * no port is free. */
struct sockaddr_in;
void crt_bind_low_port(int fd, struct sockaddr_in *a, unsigned seed, const char *what);

/* Deterministic data and checksums. */
uint64_t crt_mix(uint64_t x);                       /* a 64-bit finaliser */
uint64_t crt_hash(const void *p, size_t len, uint64_t seed);
void crt_fill(void *p, size_t len, uint64_t seed);  /* pseudo-random bytes from seed */
int crt_is_zero(const void *p, size_t len);

/* Reads up to len bytes into buf, resuming after EINTR, until it has len, the end of the
 * file, or an error (on a non-blocking descriptor EAGAIN: what it held is read); returns how
 * many it read. */
ssize_t crt_read_all(int fd, void *buf, size_t len);

/* Sleeps `ms` milliseconds, resuming after EINTR. */
void crt_sleep_ms(long ms);
/* CLOCK_MONOTONIC in ns through the raw system call (never the vdso). */
int64_t crt_mono_ns_syscall(void);

/* The permissions ("rw-p") of the mapping that holds addr, from
 * /proc/self/maps; "none" when nothing maps it. */
const char *crt_map_perms(const void *addr, char buf[8]);

/* The page size (KiB, smaps' KernelPageSize) of the mapping that holds addr,
 * or -1 when nothing maps it: how a test sees that memory is on huge pages. */
long crt_page_kb(const void *addr);

/* System V IPC: semctl(2)'s fourth argument, which the caller defines, and
 * a message as msgsnd(2) and msgrcv(2) take it (text up to 512 bytes). */
struct semid_ds;
union crt_semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};
struct crt_msg {
    long type;
    char text[512];
};

/* Integer from the environment, or `dflt`. */
long crt_env_long(const char *name, long dflt);

#endif
