/* dl_chain STEPS PACEFILE MS PLUGDIR NPLUG: an MPI program that loads and unloads plugins all
 * along its run, as a Python job with h5py does (its extension modules, RTLD_LOCAL) and as hwloc
 * does with its own (dl_chain.sh, newuser11 F3: a restart of a restarted job's snapshot died of
 * SIGSEGV in ld.so's dlopen). Each step:
 *   - plugin PLUGDIR/plug_K.so, K = step % NPLUG, is opened (dlopen RTLD_NOW | RTLD_LOCAL) when
 *     it is not open, and the one half the ring away is closed: objects come and go in the
 *     application's namespace before and after every snapshot;
 *   - every open plugin is called: it checks its memory (a large malloc'ed block, its data) and
 *     calls back into the program, which walks the stack through the plugin's frame (backtrace:
 *     the unwinder's table of loaded objects);
 *   - dladdr of each open plugin's function names its file; dl_iterate_phdr lists each open
 *     plugin once, and every object it lists has readable program headers and dynamic section,
 *     what ld.so reads of every object at each dlopen (read without faulting: a lost object is
 *     named, not a crash; not the code: Revive makes the program's copy of the MPI library's
 *     unreachable);
 *   - a large block the program allocated in an earlier step is checked and replaced;
 *   - a ring exchange and an Allreduce fold the values; rank 0 prints "step S: SUM".
 * Meanwhile another thread opens and closes plugins PLUGDIR/bg_K.so every 20 ms (bg_thread).
 * "done: SUM" at the end. A rank that finds something wrong says "dl_chain rank R: FAIL: ..."
 * and ends the job (status 3). Sleeps MS ms after each step while PACEFILE exists (rst_pace.h). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <link.h>
#include <mpi.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "rst_pace.h"

#define MAXPLUG 32
typedef long plug_fn(int, long (*)(int));

static int me;
static pthread_t main_thread;
static char path[2 * MAXPLUG][4096]; /* the main thread's plugins, then the other thread's */
static void *handle[MAXPLUG];

static _Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static _Noreturn void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "dl_chain rank %d: FAIL: ", me);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (pthread_equal(pthread_self(), main_thread)) /* (MPI from the main thread only) */
        MPI_Abort(MPI_COMM_WORLD, 3);
    _exit(3);
}

/* n bytes at p can be read (without faulting) */
static int readable(const void *p, size_t n)
{
    char buf[512];
    while (n) {
        size_t k = n < sizeof buf ? n : sizeof buf;
        struct iovec l = { buf, k }, r = { (void *)p, k };
        if (syscall(SYS_process_vm_readv, getpid(), &l, 1, &r, 1, 0) != (ssize_t)k)
            return 0;
        p = (const char *)p + k;
        n -= k;
    }
    return 1;
}

/* the callback a plugin calls: a walk of the stack through the plugin's frame */
static long walk_stack(int s)
{
    void *frames[32];
    int n = backtrace(frames, 32);
    return n >= 3 ? s % 7 : -1;
}

struct seen {
    int nplug;
    int count[MAXPLUG];
};

static int each_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct seen *sn = arg;
    const char *name = info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name : "(the program)";
    if (!readable(info->dlpi_phdr, info->dlpi_phnum * sizeof *info->dlpi_phdr))
        die("the program headers of %s (listed by dl_iterate_phdr) are not mapped", name);
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_DYNAMIC &&
            !readable((const void *)(info->dlpi_addr + ph->p_vaddr), ph->p_memsz))
            die("the dynamic section of %s (listed by dl_iterate_phdr) is not mapped", name);
    }
    for (int k = 0; k < sn->nplug; k++)
        if (!strcmp(info->dlpi_name, path[k]))
            sn->count[k]++;
    return 0;
}

/* The program's other thread: outside MPI all along, as a Python program's main thread is while
 * a restart loads the fresh MPI library, it opens plugin J (cycling through the NPLUG of them)
 * and closes the one half the cycle away every 20 ms, checking every plugin it has open; the
 * main thread's lines do not depend on it. */
static pthread_mutex_t bg_lock = PTHREAD_MUTEX_INITIALIZER;
static void *bg_handle[MAXPLUG];
static int bg_nplug;
static volatile int bg_stop;

static long bg_cb(int s)
{
    (void)s;
    return 0;
}

static void *bg_thread(void *arg)
{
    (void)arg;
    for (unsigned it = 0; !bg_stop; it++) {
        int j = (int)(it % (unsigned)bg_nplug), gone = (j + bg_nplug / 2) % bg_nplug;
        pthread_mutex_lock(&bg_lock);
        if (!bg_handle[j] && !(bg_handle[j] = dlopen(path[MAXPLUG + j], RTLD_NOW | RTLD_LOCAL)))
            die("dlopen: %s (the other thread)", dlerror());
        for (int k = 0; k < bg_nplug; k++) {
            plug_fn *fn = bg_handle[k] ? (plug_fn *)dlsym(bg_handle[k], "plug_value") : NULL;
            if (bg_handle[k] && (!fn || fn((int)it, bg_cb) < 0))
                die("plugin %s lost its memory (the other thread)", path[MAXPLUG + k]);
        }
        if (bg_handle[gone] && dlclose(bg_handle[gone]))
            die("dlclose: %s (the other thread)", dlerror());
        bg_handle[gone] = NULL;
        pthread_mutex_unlock(&bg_lock);
        struct timespec d = { 0, 20 * 1000 * 1000 };
        nanosleep(&d, NULL);
    }
    return NULL;
}

#define BLOCK (5u << 20)
static uint32_t *block;
static int block_step = -1;

static void block_fill(int s)
{
    block = malloc(BLOCK);
    if (!block)
        die("cannot allocate %u bytes", BLOCK);
    for (uint32_t i = 0; i < BLOCK / 4; i += 512)
        block[i] = i * 40503u + (uint32_t)s;
    block_step = s;
}

static void block_check(void)
{
    for (uint32_t i = 0; i < BLOCK / 4; i += 512)
        if (block[i] != i * 40503u + (uint32_t)block_step)
            die("the block allocated at step %d lost its contents", block_step);
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: dl_chain STEPS PACEFILE MS PLUGDIR NPLUG\n");
        return 2;
    }
    int nplug = atoi(argv[5]);
    if (nplug < 2 || nplug > MAXPLUG) {
        fprintf(stderr, "dl_chain: NPLUG must be 2 to %d\n", MAXPLUG);
        return 2;
    }
    main_thread = pthread_self();
    struct rst_run r = rst_begin(&argc, &argv, "dl_chain");
    me = r.me;
    for (int k = 0; k < nplug; k++) {
        snprintf(path[k], sizeof path[k], "%s/plug_%d.so", argv[4], k);
        snprintf(path[MAXPLUG + k], sizeof path[k], "%s/bg_%d.so", argv[4], k);
    }
    bg_nplug = nplug;
    pthread_t bg;
    if (pthread_create(&bg, NULL, bg_thread, NULL) != 0)
        die("cannot start the other thread");
    long long acc = r.me + 1;
    block_fill(0);
    for (int s = 0; s < r.steps; s++) {
        int k = s % nplug, gone = (s + nplug / 2) % nplug;
        if (!handle[k] && !(handle[k] = dlopen(path[k], RTLD_NOW | RTLD_LOCAL)))
            die("dlopen: %s (step %d)", dlerror(), s);
        long v = 0;
        for (int j = 0; j < nplug; j++) {
            if (!handle[j])
                continue;
            plug_fn *fn = (plug_fn *)dlsym(handle[j], "plug_value");
            if (!fn)
                die("dlsym plug_value: %s (step %d)", dlerror(), s);
            long pv = fn(s, walk_stack);
            if (pv < 0)
                die("plugin %s lost its memory or could not walk the stack (step %d)", path[j], s);
            Dl_info di;
            if (!dladdr((void *)fn, &di) || !di.dli_fname || strcmp(di.dli_fname, path[j]))
                die("dladdr of plug_value does not name %s (step %d)", path[j], s);
            v += pv;
        }
        struct seen sn = { nplug, { 0 } };
        pthread_mutex_lock(&bg_lock); /* (its plugins come and go) */
        dl_iterate_phdr(each_object, &sn);
        pthread_mutex_unlock(&bg_lock);
        for (int j = 0; j < nplug; j++)
            if (sn.count[j] != (handle[j] ? 1 : 0))
                die("dl_iterate_phdr lists %s a wrong number of times (step %d)", path[j], s);
        if (handle[gone] && gone != k) {
            if (dlclose(handle[gone]))
                die("dlclose: %s (step %d)", dlerror(), s);
            handle[gone] = NULL;
        }
        block_check();
        free(block);
        block_fill(s);
        long long in = 0, sum = 0;
        MPI_Sendrecv(&acc, 1, MPI_LONG_LONG, r.right, s, &in, 1, MPI_LONG_LONG, r.left, s,
                     MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        acc = (acc * 31 + in + v) % 1000000007;
        MPI_Allreduce(&acc, &sum, 1, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
        if (r.me == 0) {
            printf("step %d: %lld\n", s, sum);
            fflush(stdout);
        }
        rst_pace(r.pace, r.ms, r.steps - 1 - s);
    }
    bg_stop = 1;
    pthread_join(bg, NULL);
    rst_done_sum(&r, acc);
    MPI_Finalize();
    return 0;
}
