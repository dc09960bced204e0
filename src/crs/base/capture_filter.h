/*
 * What another layer tells capture (exported by libcr.so, for the MPI layer
 * and any library inside a checkpointable process; crs never calls into
 * them except through what they register here):
 *
 *  - capture filters: memory, threads and descriptors to leave out of the
 *    image (the MPI layer's lower half); crs's own scratch memory and
 *    descriptors are left out the same way;
 *  - park deferral: sections of code in which a thread must not be parked
 *    (a registry half-updated under a lock), parked when it leaves them;
 *  - extensions: bytes an owner adds to the image at capture time
 *    (extension sections, listed by cr_info), read back after a restart
 *    with the image reader's crs_image_extension().
 *
 * Every callback runs in the checkpoint thread while every other thread is
 * parked wherever it was (maybe inside malloc or holding a lock): it must
 * not allocate, take locks other threads may hold, or wait for them.
 */
#ifndef REVIVE_CRS_CAPTURE_FILTER_H
#define REVIVE_CRS_CAPTURE_FILTER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- capture filters ---- */

struct crs_span { uint64_t start, end; };

/* One mapping of the memory map a capture reads once, after every other thread parked (the maps
 * lines of /proc/self/smaps). */
struct crs_filter_map {
    uint64_t start, end;
    uint32_t prot;       /* PROT_* */
    int shared;          /* MAP_SHARED ('s' in the flags column) */
    const char *path;    /* as /proc/self/maps names it (region_exclude's path), "" for anonymous memory */
};

struct crs_capture_filter {
    const char *owner;                       /* "mpi" (for messages) */
    /* Pieces of the mapping [start,end) (`path` as /proc/self/maps names it,
     * "" for anonymous memory) to leave out of the image: writes up to `max`
     * spans to out and returns how many (0: keep it all), or -errno to fail
     * the checkpoint. Spans are clipped to the mapping; they may overlap and
     * come in any order. What is left out is not mapped at all after a
     * restart. NULL: no region is left out. */
    int (*region_exclude)(void *arg, uint64_t start, uint64_t end, const char *path,
                          struct crs_span *out, int max);
    /* 1: thread `tid` (as gettid() gives it) is not in the image: it is
     * parked during the capture like every thread, but not recorded and not
     * recreated at restart. NULL: none. */
    int (*thread_exclude)(void *arg, pid_t tid);
    /* 1: descriptor `fd` is not in the image (not open after a restart, its
     * number free). NULL: none. */
    int (*fd_exclude)(void *arg, int fd);
    /* Once per capture, before region_exclude is asked about any mapping: the capture's whole
     * memory map (n mappings in address order, what region_exclude is then asked about), for a
     * filter that looks at memory before it answers, without reading the map once more. 0, or
     * -errno to fail the checkpoint (its message in err). NULL: not called. */
    int (*regions_begin)(void *arg, const struct crs_filter_map *maps, size_t n, char *err, size_t errlen);
    void *arg;
};

#define CRS_MAX_FILTERS 16
#define CRS_FILTER_MAX_SPANS 64    /* the `max` each region_exclude is given */

/* Registers a filter (copied; owner and arg must stay valid). Any thread, any
 * time; it counts from the next capture on. Returns 0, -EINVAL (NULL, or no
 * callback at all) or -ENOSPC (CRS_MAX_FILTERS already). */
int crs_capture_filter_register(const struct crs_capture_filter *f);

/* ---- park deferral ---- */

/* A thread between crs_park_defer_enter() and the matching
 * crs_park_defer_leave() is not parked by a checkpoint there: the park waits
 * until it leaves (the outermost leave), and the thread parks inside that
 * call. Nestable, per thread, no allocation, async-signal-safe (cheap: a
 * thread-local counter). The checkpoint's park timeout still applies: a
 * section held longer fails the checkpoint with a message naming the thread.
 * Keep sections short and never wait inside one for another thread (which
 * may be parked). An unmatched leave is ignored. */
void crs_park_defer_enter(void);
void crs_park_defer_leave(void);
/* Inside a section: 1 when a checkpoint waits to park this thread at its
 * leave (a system call the park signal interrupted there may be made again). */
int crs_park_defer_pending(void);
/* A spin lock for what a capture reads while every other thread is parked
 * (libcr's notes and registries): taken inside a deferral section, so no
 * thread is ever parked holding it and the capture never finds the data half
 * written; a thread spinning on it waits only for one that is itself inside
 * a section, hence not parked. Hold it for a few instructions, never across a
 * call that may block. */
void crs_park_lock_take(atomic_flag *lock);
void crs_park_lock_drop(atomic_flag *lock);

/* ---- calls Linux never restarts ---- */

/* semop, semtimedop, msgsnd and msgrcv fail with EINTR after any signal
 * handler, SA_RESTART or not (signal(7)). The park signal is Revive's, not
 * the program's: libcr's wrappers mark such a call, and make it again when
 * only a park interrupted it. Per thread, async-signal-safe. */
struct crs_park_call {
    uint32_t interrupted, restarts, signals;   /* the thread's counts at begin */
};
/* Right before the call: nothing between them may take a signal's EINTR. */
void crs_park_call_begin(struct crs_park_call *c);
/* Right after it. */
void crs_park_call_end(void);
/* After the call failed with EINTR, out of any park-deferral section:
 * 0 when a signal of the program's came (the program sees EINTR, as it would
 * have), else 1 when the park interrupted it (make it again), 2 when the
 * thread came back from an image meanwhile (ids may differ now; *deadline_ns,
 * a CLOCK_MONOTONIC deadline or NULL, is moved to keep the time the call had
 * left when it parked). */
int crs_park_call_again(const struct crs_park_call *c, int64_t *deadline_ns);

/* For the component's park handler: 1 when this thread is inside a marked
 * call (its wrapper makes it again: no restart_syscall). */
int crs_park_call_inside(void);
/* The park signal interrupted the thread's marked call (its EINTR). */
void crs_park_call_interrupted(void);
/* The thread came back from an image (in any park). */
void crs_park_call_restarted(void);
/* A signal of the program's is pending and not blocked by `mask` (the
 * thread's mask outside the handler): it runs as the park ends, so the
 * interrupted call returns EINTR, as it would have. Called at the park's
 * end, before the thread's mask is back. */
void crs_park_call_signals(uint64_t mask, int park_signal);

/* ---- extensions ---- */

struct crs_ext_sink;

/* Appends `len` bytes to the extension being produced. 0 or -errno. */
int crs_ext_write(struct crs_ext_sink *sink, const void *bytes, size_t len);

#define CRS_MAX_EXT_PRODUCERS 16

/* Registers a producer of one extension section owned by `owner` (1 to 15
 * printable ASCII characters without spaces, e.g. "mpi"; must stay valid) in
 * every image from the next capture on: produce(arg, sink) writes its bytes
 * with crs_ext_write and returns 0, or -errno to fail the checkpoint. It runs
 * while the image is written: in the checkpointed process with the other
 * threads parked, or in fork mode in the forked child that writes the image
 * (a copy of the memory at the capture): read memory, write to the sink,
 * nothing else. Returns 0, -EINVAL or -ENOSPC (CRS_MAX_EXT_PRODUCERS). */
int crs_capture_extension_register(const char *owner, int (*produce)(void *arg, struct crs_ext_sink *sink),
                                   void *arg);

/* ---- inotify watches ---- */

/* The kernel tells a watch's inode, not its path: libcr's interposed
 * inotify_add_watch notes each one (`path` made absolute, copied; dev/ino of
 * what it names), inotify_rm_watch forgets it. Any thread; allocates (not
 * for a signal handler). Up to CRS_MAX_INOTIFY_NOTES watches. */
#define CRS_MAX_INOTIFY_NOTES 4096
void crs_inotify_note(int fd, int wd, const char *path, uint64_t dev, uint64_t ino);
void crs_inotify_forget(int fd, int wd);

/* ---- standard streams the program replaced ---- */

/* A standard stream (0, 1, 2) the program got from its launcher comes back
 * at restart as cr_restart's (the terminal or pipe it has then). One the
 * program closed or put another file on itself (daemon(3) and daemons by
 * hand put /dev/null there) is its own: libcr's interposed close, dup2,
 * dup3, close_range and daemon note it here, and a capture then records a
 * /dev/null there as /dev/null (a daemon restarted from a terminal must
 * not read the terminal or print on it). Async-signal-safe. */
void crs_stream_note_replaced(int fd);
/* 1 when the program closed or replaced standard stream fd (0..2). */
int crs_stream_replaced(int fd);

/* ---- for components ---- */

/* The path noted for watch wd of the inotify at fd, when it still names the
 * inode dev/ino, else one noted for that inode through another number (a
 * copy of the inotify, or another inotify); NULL when none. No allocation. */
const char *crs_inotify_path(int fd, int wd, uint64_t dev, uint64_t ino);

/* The pieces of [start,end) that registered filters leave out, sorted,
 * merged and clipped: up to `max` spans in out. Returns their count, or
 * -errno with a message in err (a filter failed, or more than max pieces). */
int crs_capture_filter_region(uint64_t start, uint64_t end, const char *path, struct crs_span *out, int max,
                              char *err, size_t errlen);
/* Gives the capture's memory map to every filter's regions_begin, in registration order: 0, or
 * the first failure's -errno with its message in err. */
int crs_capture_filter_regions_begin(const struct crs_filter_map *maps, size_t n, char *err, size_t errlen);
/* 1 when some filter has a regions_begin (the capture then builds the array for it). */
int crs_capture_filter_wants_map(void);
/* 1 when a filter leaves thread tid / descriptor fd out. */
int crs_capture_filter_thread(pid_t tid);
int crs_capture_filter_fd(int fd);

/* Park deferral as the component's park handler sees it: returns 1 when the
 * calling thread is inside a section (it then parks later, through the
 * function given to crs_park_defer_init, with `round`), else 0. Called in the
 * park signal handler. */
int crs_park_defer_note(uint32_t round);
/* Where a thread that deferred goes when it leaves its section: late(round)
 * parks it if the checkpoint of that round still waits for it. */
void crs_park_defer_init(void (*late)(uint32_t round));

/* The registered extension producers, in registration order. */
int crs_capture_extension_count(void);
int crs_capture_extension_get(int i, const char **owner, int (**produce)(void *, struct crs_ext_sink *),
                              void **arg);

/* What a sink writes through (the component makes one per extension). */
struct crs_ext_sink {
    int (*append)(void *ctx, const void *bytes, size_t len);
    void *ctx;
};

#endif
