/* Making a dead lower half harmless: the glibc-specific part of the restart (see lower_reset.h).
 *
 * Everything here depends on glibc's private data in ld.so (struct rtld_global, struct
 * link_map, struct pthread). Nothing is taken from headers or debug information: each field is
 * found at run time, in a process where every pointer is still valid (pml_ldso_learn, right after
 * the lower half is loaded), by matching values known from public interfaces, and each finding
 * is checked against a second, independent fact. When a check fails, the restart path is refused
 * with a message naming the check; the rest of Revive works as before. Measured on Debian 12
 * (glibc 2.36, x86_64); the layout it relies on is the one of glibc 2.34 and later (thread
 * stacks lists in ld.so). See src/pml_hooks/README.md, "Restart: the dead namespace".
 *
 * What ld.so keeps about a namespace, and what a dead one leaves behind:
 *   _rtld_global._dl_ns[lmid]       the head of its link-map list, its count, its libc, its
 *                                   unique-symbol table, its r_debug: emptied (dlmopen then
 *                                   reuses the slot, and exit's _dl_fini never walks it);
 *   the TLS module table            one entry per object with TLS, whose init image is in dead
 *                                   memory (every new thread copies it): entries freed, module
 *                                   ids left for reuse, generation bumped (as dlclose does);
 *   static TLS                      each namespace's libc takes a block; the space above the
 *                                   highest live block is given back (else about 14 restarts
 *                                   exhaust it);
 *   the thread-stack lists          the lower threads' descriptors (in dead stacks) sit between
 *                                   the application's: the lists are rebuilt from the
 *                                   descriptors recorded at the checkpoint under ld.so's own lock
 *                                   for these lists that the image holds;
 *   _dl_find_object's table         what the unwinder asks for every return address (internal to
 *                                   ld.so, in the application's heap): the dead objects' entries
 *                                   are closed as dlclose closes them (lower_dlfo.c), and their
 *                                   address ranges stay reserved (PROT_NONE), so that a stale
 *                                   pointer into the dead half faults at once instead of running
 *                                   whatever is mapped there later.
 * The link maps themselves live in the application's heap (ld.so allocates with the main libc's
 * malloc) and are simply left there. */
#define _GNU_SOURCE
#include "common/libc_dlsym.h"
#include "pml_hooks/lower_reset.h"
#include "pml_hooks/halves.h"
#include "pml_hooks/lower_dlfo.h"
#include "pml_hooks/thread_syscall.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <link.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#if !defined(__x86_64__)
#error "lower_reset.c knows glibc's layout on x86_64 only"
#endif

/* glibc's list_t */
struct gl_list {
    struct gl_list *next, *prev;
};

/* Offsets inside struct link_namespaces (stable since glibc 2.26; checked in learn). */
#define NS_LOADED 0
#define NS_NLOADED 8
#define NS_MAIN_SEARCHLIST 16
#define NS_GSCOPE_ALLOC 24
#define NS_GSCOPE_PENDING 28
#define NS_LIBC_MAP 32
#define NS_UNIQUE_LOCK 40
#define NS_UNIQUE_ENTRIES 80
#define NS_UNIQUE_SIZE 88
#define NS_UNIQUE_N 96
#define NS_UNIQUE_FREE 104
#define NS_DEBUG_VERSION 112
#define NS_DEBUG_MAP 120
#define NS_DEBUG_STATE 136
#define DL_NNS 16

/* Relative to _dl_stack_used, the fields around it in struct rtld_global (glibc >= 2.34); the
 * slotinfo list's place, published for libthread_db, checks the block before it. */
#define RG_GAPS (-68)          /* bool _dl_tls_dtv_gaps */
#define RG_MAX_DTV_IDX (-64)
#define RG_SLOTINFO (-56)
#define RG_STATIC_NELEM (-48)
#define RG_STATIC_USED (-40)
#define RG_GENERATION (-16)
#define RG_USER 16
#define RG_CACHE 32
#define RG_ACTSIZE 48
#define RG_IN_FLIGHT 56
#define RG_LOCK 64

/* A recursive pthread mutex (ld.so's locks): its kind and its lock word. */
#define MUTEX_KIND 16
#define MUTEX_RECURSIVE 1
#define MUTEX_SIZE 40

#define MAX_NODES 4096
#define MAX_OBJS 1024
#define KEY_L1 32              /* PTHREAD_KEY_1STLEVEL_SIZE */
#define KEY_L2 32              /* PTHREAD_KEY_2NDLEVEL_SIZE */

struct slotinfo_list {
    size_t len;
    struct slotinfo_list *next;
    struct {
        size_t gen;
        void *map;
    } slot[];
};

struct key_data {
    uintptr_t seq;
    void *data;
};

/* libthread_db's view of glibc's structures: libc exports, for debuggers, {size in bits,
 * elements, offset} of the fields it needs (nptl_db/structs.def). */
static const uint32_t *tdb(const char *name)
{
    return (const uint32_t *)revive_dlsym(RTLD_DEFAULT, name);
}

static struct {
    int learned;
    char *rg;                 /* _rtld_global */
    size_t rg_size;
    size_t ns_stride;
    size_t off_nns, off_used; /* from rg */
    int nlocks;               /* ld.so's recursive locks after _dl_nns (2 before 2.35, then 3) */
    /* struct pthread */
    size_t pt_list, pt_tid, pt_stackblock, pt_specific;
    /* the application's libc's keys */
    const char *keys;
    size_t nkeys, key_size, key_seq;
    /* struct link_map */
    size_t lm_map_start, lm_tls_blocksize, lm_tls_offset, lm_tls_modid;
    void *handle;
    long lmid;
    pml_ldso_upper_fn *is_upper;
    char libc_version[32];
} L;

/* What freeze recorded, for forget. */
static struct {
    int frozen;
    void *head;               /* the namespace's first link map */
    long lmid;
    unsigned nused, nuser, ncache;
    struct gl_list *used[MAX_NODES], *user[MAX_NODES], *cache[MAX_NODES];
    uint32_t used_tsd[MAX_NODES], user_tsd[MAX_NODES]; /* TSD blocks in the lower half's memory */
    pid_t used_tid[MAX_NODES], user_tid[MAX_NODES];    /* each thread's id at the checkpoint */
    size_t cache_size[MAX_NODES];
    unsigned nobj;
    struct {
        void *map;
        uint64_t start, end;
        size_t modid, blocksize;
        ptrdiff_t tls_offset;
    } obj[MAX_OBJS];
    uint64_t lower_handlers;  /* bit s-1: the handler of signal s is in the lower half */
} F;

static struct pml_ldso_stats last;
static unsigned n_after_used, n_after_user; /* what the last forget rebuilt */

static int fail(char *err, size_t errlen, int e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int e, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(err, errlen, "glibc %s: ", L.libc_version[0] ? L.libc_version : "?");
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < errlen)
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -e;
}

/* Reads n bytes at p into out without faulting: 0, or -1 when any of it is not mapped. */
static int peek(const void *p, void *out, size_t n)
{
    struct iovec local = { out, n }, remote = { (void *)p, n };
    return syscall(SYS_process_vm_readv, getpid(), &local, 1, &remote, 1, 0) == (ssize_t)n ? 0 : -1;
}

static int peek_word(const void *p, uintptr_t *v)
{
    if ((uintptr_t)p < 4096 || ((uintptr_t)p & 7))
        return -1;
    return peek(p, v, sizeof *v);
}

#define W(base, off) (*(uintptr_t *)((char *)(base) + (off)))

/* A list head whose every node is readable and consistent, at most MAX_NODES long: the number
 * of nodes, or -1. found: set when `want` is one of them. */
static long list_check(struct gl_list *head, const struct gl_list *want, int *found)
{
    struct gl_list n = { 0, 0 }, h;
    if (peek(head, &h, sizeof h))
        return -1;
    struct gl_list *prev = head, *cur = h.next;
    long count = 0;
    while (cur != head) {
        if (peek_word(cur, (uintptr_t *)&n.next) || peek(cur, &n, sizeof n) || n.prev != prev)
            return -1;
        if (cur == want && found)
            *found = 1;
        if (++count > MAX_NODES)
            return -1;
        prev = cur;
        cur = n.next;
    }
    return h.prev == prev ? count : -1;
}

/* The thread_db descriptors this file relies on, checked against what the code assumes. */
static int learn_thread_db(char *err, size_t errlen)
{
    const uint32_t *list = tdb("_thread_db_pthread_list"), *tid = tdb("_thread_db_pthread_tid"),
                   *spec = tdb("_thread_db_pthread_specific"),
                   *kd = tdb("_thread_db_sizeof_pthread_key_data"),
                   *kd_seq = tdb("_thread_db_pthread_key_data_seq"),
                   *kd_data = tdb("_thread_db_pthread_key_data_data"),
                   *keys = tdb("_thread_db___pthread_keys"),
                   *ks = tdb("_thread_db_sizeof_pthread_key_struct"),
                   *ks_seq = tdb("_thread_db_pthread_key_struct_seq"),
                   *modid = tdb("_thread_db_link_map_l_tls_modid"),
                   *tlsoff = tdb("_thread_db_link_map_l_tls_offset"),
                   *used = tdb("_thread_db_rtld_global__dl_stack_used"),
                   *user = tdb("_thread_db_rtld_global__dl_stack_user"),
                   *sil = tdb("_thread_db_rtld_global__dl_tls_dtv_slotinfo_list"),
                   *sil_len = tdb("_thread_db_dtv_slotinfo_list_len"),
                   *sil_next = tdb("_thread_db_dtv_slotinfo_list_next"),
                   *sil_slot = tdb("_thread_db_dtv_slotinfo_list_slotinfo"),
                   *si = tdb("_thread_db_sizeof_dtv_slotinfo"),
                   *si_gen = tdb("_thread_db_dtv_slotinfo_gen"),
                   *si_map = tdb("_thread_db_dtv_slotinfo_map");
    L.keys = revive_dlsym(RTLD_DEFAULT, "__pthread_keys");
    if (!list || !tid || !spec || !kd || !kd_seq || !kd_data || !keys || !ks || !ks_seq || !modid ||
        !tlsoff || !used || !user || !sil || !sil_len || !sil_next || !sil_slot || !si || !si_gen ||
        !si_map || !L.keys)
        return fail(err, errlen, ENOTSUP, "libc does not publish its thread layout for debuggers"
                    " (_thread_db_* symbols)");
    if (list[0] != 128 || tid[0] != 32 || spec[0] != 64 * KEY_L1 || *kd != 16 ||
        kd_seq[2] != 0 || kd_data[2] != 8 || keys[1] == 0 || *ks != 16 || ks_seq[2] != 0 ||
        modid[0] != 64 || tlsoff[0] != 64 || user[2] != used[2] + RG_USER ||
        sil[2] != used[2] + RG_SLOTINFO || sil_len[2] != 0 || sil_next[2] != 8 || sil_slot[2] != 16 ||
        *si != 16 || si_gen[2] != 0 || si_map[2] != 8 || tlsoff[2] + 8 != modid[2])
        return fail(err, errlen, ENOTSUP, "the thread layout libc publishes is not the one Revive"
                    " knows (glibc 2.34 to 2.36 on x86_64)");
    L.pt_list = list[2];
    L.pt_tid = tid[2];
    L.pt_specific = spec[2];
    L.nkeys = keys[1];
    L.key_size = *ks;
    L.key_seq = ks_seq[2];
    L.lm_tls_modid = modid[2];
    L.lm_tls_offset = tlsoff[2];
    L.lm_tls_blocksize = tlsoff[2] - 24;
    L.off_used = used[2];
    return 0;
}

/* ---- learning the layout -------------------------------------------------------------------- */
/* What a short-lived thread learns about its own descriptor: where glibc keeps its stack block
 * (not published for debuggers), and whether the published fields hold what they should. */
struct probe {
    size_t stackblock_off;
    int tid_ok, on_used;
};

static void *probe_thread(void *arg)
{
    struct probe *pr = arg;
    char *self = (char *)pthread_self();
    pthread_attr_t a;
    void *addr = NULL;
    size_t size = 0, guard = 0;
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
        pthread_attr_getstack(&a, &addr, &size);
        pthread_attr_getguardsize(&a, &guard);
        pthread_attr_destroy(&a);
    }
    pr->tid_ok = *(pid_t *)(self + L.pt_tid) == (pid_t)syscall(SYS_gettid);
    /* stackblock, stackblock_size, guardsize: three consecutive words after the id */
    uintptr_t blk = (uintptr_t)addr - guard, blksize = size + guard;
    for (size_t o = L.pt_tid + 8; addr && o < 0x1000 && !pr->stackblock_off; o += 8)
        if (W(self, o) == blk && W(self, o + 8) == blksize && W(self, o + 16) == guard)
            pr->stackblock_off = o;
    list_check((struct gl_list *)(L.rg + L.off_used), (struct gl_list *)(self + L.pt_list),
               &pr->on_used);
    return NULL;
}

struct tlsmod {
    size_t modid;
    uintptr_t block; /* this thread's block */
};

static int find_libc_tls(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct tlsmod *t = arg;
    const char *slash = strrchr(info->dlpi_name, '/');
    if (info->dlpi_tls_modid && strcmp(slash ? slash + 1 : info->dlpi_name, "libc.so.6") == 0) {
        t->modid = info->dlpi_tls_modid;
        t->block = (uintptr_t)info->dlpi_tls_data;
        return 1;
    }
    return 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

struct link_map *pml_main_libc(void)
{
    for (struct link_map *m = _r_debug.r_map; m; m = m->l_next)
        if (m->l_name && ends_with(m->l_name, "/libc.so.6"))
            return m;
    return NULL;
}

/* The link map's TLS fields (published) hold libc's module id and offset; its block size, two
 * words before the offset, and its mapped extent (found by value) are checked for sense. */
static int learn_link_map(char *err, size_t errlen)
{
    struct tlsmod t = { 0, 0 };
    dl_iterate_phdr(find_libc_tls, &t);
    struct link_map *libc = pml_main_libc();
    if (!t.modid || !t.block || !libc)
        return fail(err, errlen, ENOTSUP, "libc.so.6 has no TLS module or link map here");
    uintptr_t tp;
    __asm__("mov %%fs:0, %0" : "=r"(tp));
    if (W(libc, L.lm_tls_modid) != t.modid || W(libc, L.lm_tls_offset) != tp - t.block)
        return fail(err, errlen, ENOTSUP, "libc's link map does not hold its TLS module id %zu and"
                    " offset %#lx where libc says", t.modid, (unsigned long)(tp - t.block));
    /* l_tls_initimage, _size, blocksize, align, firstbyte_offset, offset, modid */
    uintptr_t image = W(libc, L.lm_tls_offset - 40), isize = W(libc, L.lm_tls_offset - 32);
    uintptr_t bsize = W(libc, L.lm_tls_blocksize), align = W(libc, L.lm_tls_offset - 16);
    if (!bsize || isize > bsize || !align || (align & (align - 1)) || image < libc->l_addr)
        return fail(err, errlen, ENOTSUP, "libc's TLS block in its link map is implausible"
                    " (size %lu, image size %lu, align %lu)", (unsigned long)bsize,
                    (unsigned long)isize, (unsigned long)align);
    Dl_info di;
    if (!dladdr(libc->l_ld, &di) || !di.dli_fbase)
        return fail(err, errlen, ENOTSUP, "dladdr finds no libc");
    for (size_t o = 128; o + 16 <= L.lm_tls_blocksize && !L.lm_map_start; o += 8)
        if (W(libc, o) == (uintptr_t)di.dli_fbase && W(libc, o + 8) > W(libc, o) &&
            W(libc, o + 8) - W(libc, o) < (1ul << 30) && (uintptr_t)libc->l_ld < W(libc, o + 8))
            L.lm_map_start = o;
    if (!L.lm_map_start)
        return fail(err, errlen, ENOTSUP, "libc's mapped extent is not in its link map");
    return 0;
}

static int learn_namespaces(void *handle, long lmid, char *err, size_t errlen)
{
    char *rg = L.rg;
    if (W(rg, 0) != (uintptr_t)_r_debug.r_map)
        return fail(err, errlen, ENOTSUP, "_rtld_global does not start with the main link map");
    if (lmid < 1 || lmid >= DL_NNS)
        return fail(err, errlen, EINVAL, "namespace %ld out of range", lmid);
    unsigned n = 0;
    for (struct link_map *m = handle; m && n < 100000; m = m->l_next)
        n++;
    size_t stride = 0;
    for (size_t s = 64; s <= 512; s += 8) {
        if ((size_t)lmid * s + NS_DEBUG_MAP + 8 > L.rg_size)
            break;
        char *slot = rg + (size_t)lmid * s;
        if (W(slot, NS_LOADED) == (uintptr_t)handle && *(unsigned *)(slot + NS_NLOADED) == n) {
            if (stride)
                return fail(err, errlen, ENOTSUP, "two candidate sizes for a namespace slot");
            stride = s;
        }
    }
    if (!stride)
        return fail(err, errlen, ENOTSUP, "namespace %ld's slot in _rtld_global._dl_ns is not found",
                    lmid);
    if (L.ns_stride && L.ns_stride != stride)
        return fail(err, errlen, ENOTSUP, "the namespace slot size changed");
    L.ns_stride = stride;
    L.off_nns = DL_NNS * stride;
    size_t nns = W(rg, L.off_nns);
    if (nns < (size_t)lmid + 1 || nns > DL_NNS)
        return fail(err, errlen, ENOTSUP, "_dl_nns (%zu) does not fit namespace %ld", nns, lmid);
    L.nlocks = 0;
    for (int i = 0; i < 3; i++)
        if (*(int *)(rg + L.off_nns + 8 + (size_t)i * MUTEX_SIZE + MUTEX_KIND) == MUTEX_RECURSIVE)
            L.nlocks = i + 1;
        else
            break;
    if (L.nlocks < 2)
        return fail(err, errlen, ENOTSUP, "ld.so's loader locks are not after _dl_nns");
    /* the slot's own fields: count, libc, r_debug */
    char *slot = rg + (size_t)lmid * stride;
    int have_libc = 0;
    for (struct link_map *m = handle; m; m = m->l_next)
        if ((uintptr_t)m == W(slot, NS_LIBC_MAP) && m->l_name && ends_with(m->l_name, "/libc.so.6"))
            have_libc = 1;
    if (!have_libc)
        return fail(err, errlen, ENOTSUP, "namespace %ld's libc is not where expected", lmid);
    int ver = *(int *)(slot + NS_DEBUG_VERSION);
    uintptr_t dmap = W(slot, NS_DEBUG_MAP);
    if ((ver != 1 && ver != 2) || (dmap && dmap != (uintptr_t)handle))
        return fail(err, errlen, ENOTSUP, "namespace %ld's r_debug is not where expected", lmid);
    return 0;
}

/* The stack lists: used and user where libc says, the cache after them, checked by content. */
static int learn_stacks(char *err, size_t errlen)
{
    if (L.off_used < (size_t)-RG_GAPS || L.off_used + RG_LOCK + 4 > L.rg_size ||
        L.off_used < L.off_nns)
        return fail(err, errlen, ENOTSUP, "ld.so's stack lists are out of _rtld_global");
    struct probe pr;
    memset(&pr, 0, sizeof pr);
    pthread_t th;
    int rc = pthread_create(&th, NULL, probe_thread, &pr);
    if (rc)
        return fail(err, errlen, rc, "cannot start a thread to learn the thread descriptor: %s",
                    strerror(rc));
    pthread_join(th, NULL);
    if (!pr.tid_ok || !pr.on_used || !pr.stackblock_off)
        return fail(err, errlen, ENOTSUP, "a new thread's descriptor is not as expected (id %s, on"
                    " the used list %s, stack block %s)", pr.tid_ok ? "ok" : "wrong",
                    pr.on_used ? "yes" : "no", pr.stackblock_off ? "found" : "not found");
    L.pt_stackblock = pr.stackblock_off;
    char *used = L.rg + L.off_used;
    int main_found = 0;
    struct gl_list *me = (struct gl_list *)((char *)pthread_self() + L.pt_list);
    long nuser = list_check((struct gl_list *)(used + RG_USER), me, &main_found);
    if (list_check((struct gl_list *)used, NULL, NULL) < 0 || nuser < 1 ||
        list_check((struct gl_list *)(used + RG_CACHE), NULL, NULL) < 0)
        return fail(err, errlen, ENOTSUP, "ld.so's stack lists are not consistent");
    if (syscall(SYS_gettid) == getpid() && !main_found)
        return fail(err, errlen, ENOTSUP, "the main thread is not on ld.so's user stack list");
    /* the cache's size is the sum of its stacks' sizes */
    size_t sum = 0;
    struct gl_list *c = (struct gl_list *)(used + RG_CACHE);
    for (struct gl_list *n = c->next; n != c; n = n->next)
        sum += W((char *)n - L.pt_list, L.pt_stackblock + 8);
    if (sum != W(used, RG_ACTSIZE))
        return fail(err, errlen, ENOTSUP, "ld.so's stack cache size (%lu) is not the sum of its"
                    " stacks (%zu)", (unsigned long)W(used, RG_ACTSIZE), sum);
    int lock = *(int *)(used + RG_LOCK);
    if (lock < 0 || lock > 2)
        return fail(err, errlen, ENOTSUP, "ld.so's stack lock word reads %d", lock);
    return 0;
}

/* The TLS counters before the stack lists: libc's slot names libc, the counters make sense. */
static int learn_tls(char *err, size_t errlen)
{
    char *used = L.rg + L.off_used;
    struct tlsmod t = { 0, 0 };
    dl_iterate_phdr(find_libc_tls, &t);
    struct link_map *libc = pml_main_libc();
    struct slotinfo_list *sl = (struct slotinfo_list *)W(used, RG_SLOTINFO);
    size_t max = W(used, RG_MAX_DTV_IDX), gen = W(used, RG_GENERATION);
    size_t nelem = W(used, RG_STATIC_NELEM), sused = W(used, RG_STATIC_USED);
    uintptr_t len;
    if (peek_word(sl, &len) || len < 2 || len > 100000 || t.modid >= len)
        return fail(err, errlen, ENOTSUP, "the TLS slotinfo list is not found");
    if (sl->slot[t.modid].map != libc)
        return fail(err, errlen, ENOTSUP, "libc's TLS slot does not name libc");
    if (max < t.modid || nelem > max || !gen || gen < sl->slot[t.modid].gen)
        return fail(err, errlen, ENOTSUP, "TLS counters implausible (max module %zu, static %zu,"
                    " generation %zu)", max, nelem, gen);
    size_t libc_off = W(libc, L.lm_tls_offset);
    if (sused < libc_off || sused > (1u << 20))
        return fail(err, errlen, ENOTSUP, "static TLS in use (%zu) below libc's block (%zu)", sused,
                    libc_off);
    unsigned char gaps = *(unsigned char *)(used + RG_GAPS);
    if (gaps > 1)
        return fail(err, errlen, ENOTSUP, "the TLS gaps flag reads %u", gaps);
    /* the application's keys: a key in use has an odd sequence number */
    if (L.nkeys != KEY_L1 * KEY_L2 || L.key_size != 16)
        return fail(err, errlen, ENOTSUP, "libc has %zu thread-specific keys of %zu bytes", L.nkeys,
                    L.key_size);
    return 0;
}

/* What every use needs: ld.so's global block and the published thread layout. */
static int learn_base(char *err, size_t errlen)
{
    snprintf(L.libc_version, sizeof L.libc_version, "%s", gnu_get_libc_version());
    if (L.rg)
        return 0;
    Dl_info di;
    const ElfW(Sym) *sym = NULL;
    int e;
    void *rg = revive_dlsym(RTLD_DEFAULT, "_rtld_global");
    if (!rg || !dladdr1(rg, &di, (void **)&sym, RTLD_DL_SYMENT) || !sym || sym->st_size < 1024)
        return fail(err, errlen, ENOTSUP, "ld.so exports no _rtld_global");
    if ((e = learn_thread_db(err, errlen)) || (e = learn_link_map(err, errlen)))
        return e;
    if (L.off_used < (size_t)-RG_GAPS || L.off_used + RG_LOCK + 4 > (size_t)sym->st_size)
        return fail(err, errlen, ENOTSUP, "ld.so's stack lists are out of _rtld_global");
    L.rg = rg;
    L.rg_size = sym->st_size;
    return 0;
}

static int shared_object(const struct link_map *m);

/* An address inside the lower namespace's first object of its own (not ld.so, which every
 * namespace shares): where the unwinder's table is looked for (lower_dlfo.h). */
static const void *lower_probe(long lmid)
{
    for (struct link_map *m = (void *)W(L.rg + (size_t)lmid * L.ns_stride, NS_LOADED); m; m = m->l_next)
        if (!shared_object(m) && W(m, L.lm_map_start))
            return (const void *)W(m, L.lm_map_start);
    return NULL;
}

static int learn_dlfo(long lmid, char *err, size_t errlen)
{
    const void *probe = lower_probe(lmid);
    if (!probe)
        return fail(err, errlen, ENOTSUP, "the MPI library's namespace has no object of its own");
    char why[400];
    int e = pml_dlfo_find(L.lm_map_start, probe, why, sizeof why);
    return e ? fail(err, errlen, -e, "%s", why) : 0;
}

int pml_ldso_learn(void *handle, long lmid, pml_ldso_upper_fn *is_upper, char *err, size_t errlen)
{
    L.learned = 0;
    int e;
    if ((e = learn_base(err, errlen)))
        return e;
    if ((e = learn_namespaces(handle, lmid, err, errlen)))
        return e;
    if (!L.pt_stackblock && (e = learn_stacks(err, errlen)))
        return e;
    if ((e = learn_tls(err, errlen)))
        return e;
    if ((e = learn_dlfo(lmid, err, errlen)))
        return e;
    L.handle = handle;
    L.lmid = lmid;
    L.is_upper = is_upper;
    L.learned = 1;
    return 0;
}

/* ---- the checkpoint -------------------------------------------------------------------------- */
static int *stack_lock(void)
{
    return (int *)(L.rg + L.off_used + RG_LOCK);
}

static void sleep_us(long us)
{
    struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
    syscall(SYS_nanosleep, &ts, NULL);
}

static void unlock_stacks(void)
{
    int *l = stack_lock();
    __atomic_store_n(l, 0, __ATOMIC_RELEASE);
    syscall(SYS_futex, l, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL, NULL, 0);
}

/* ---- guard pages of the threads the lower libc starts by itself ----------------------------- */
int pml_ldso_guards_readable(void)
{
    if (!L.learned)
        return 0;
    int *l = stack_lock();
    for (int i = 0;; i++) { /* best effort: a busy lock (a thread starting or ending) is left */
        int zero = 0;
        if (__atomic_compare_exchange_n(l, &zero, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            break;
        if (i >= 200)
            return 0;
        sleep_us(50);
    }
    int n = 0;
    struct gl_list *head = (struct gl_list *)(L.rg + L.off_used);
    for (struct gl_list *c = head->next; c != head; c = c->next) {
        char *pd = (char *)c - L.pt_list;
        uintptr_t block = W(pd, L.pt_stackblock), guard = W(pd, L.pt_stackblock + 16);
        if (!block || !guard)
            continue;
        /* glibc puts a downward stack's guard at the start of its block (halves.h says why it
         * becomes readable); one already readable costs a system call, no more (nothing is
         * remembered: a freed stack's block may be another's later) */
        pml_guard_readable((uint64_t)block + guard, guard);
        n++;
    }
    unlock_stacks();
    return n;
}

/* Records the descriptors on one list, and for each the second-level blocks of its
 * thread-specific data that the lower libc allocated (they will not come back). Every node, in
 * order: which of them the image holds is known only in the restarted process (kept_nodes).
 * Deciding here by the halves' table (built before this lock was taken) dropped the descriptors
 * of threads started in between, which the image holds with their links: glibc unlinked them
 * after the restart through neighbours the rebuilt list no longer had, and ld.so's list of
 * threads ran into its stack cache and never came back to its head (campaign-failures.md #33:
 * a fresh dlmopen spun in _dl_init_static_tls). */
static int record_list(struct gl_list *head, struct gl_list **out, size_t *sizes, uint32_t *tsd,
                       pid_t *tids, unsigned *n)
{
    *n = 0;
    for (struct gl_list *c = head->next; c != head; c = c->next) {
        char *pd = (char *)c - L.pt_list;
        if (*n >= MAX_NODES)
            return -1;
        if (sizes)
            sizes[*n] = W(pd, L.pt_stackblock + 8);
        if (tids)
            tids[*n] = *(pid_t *)(pd + L.pt_tid);
        if (tsd) {
            tsd[*n] = 0;
            for (int i = 1; i < KEY_L1; i++) {
                uintptr_t b = W(pd, L.pt_specific + (size_t)i * 8);
                if (b && !L.is_upper(b))
                    tsd[*n] |= 1u << i;
            }
        }
        out[(*n)++] = c;
    }
    return 0;
}

/* ld.so itself is one object shared by every namespace: its entry in the lower list is a proxy. */
static int shared_object(const struct link_map *m)
{
    for (const struct link_map *u = _r_debug.r_map; u; u = u->l_next)
        if (u->l_ld == m->l_ld)
            return 1;
    return 0;
}

/* Takes ld.so's lock of the thread-stack lists (no thread is created or freed meanwhile),
 * waiting at most `seconds`. */
static int lock_stacks_within(int seconds, char *err, size_t errlen)
{
    int *l = stack_lock();
    for (long i = 0;; i++) {
        int zero = 0;
        if (__atomic_compare_exchange_n(l, &zero, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return 0;
        if (i >= 20000L * seconds)
            return fail(err, errlen, EBUSY, "a thread kept ld.so's thread-stack lock for %d s",
                        seconds);
        sleep_us(50);
    }
}

static int lock_stacks(char *err, size_t errlen)
{
    return lock_stacks_within(2, err, errlen);
}

int pml_ldso_lists_sound(char *err, size_t errlen)
{
    if (!L.rg)
        return 0; /* nothing learned: nothing was rebuilt either */
    /* a thread that holds the lock while it walks a list without end never lets go */
    int e = lock_stacks_within(10, err, errlen);
    if (e)
        return e;
    static const struct { int off; const char *name; } lists[3] = {
        { 0, "threads in use" }, { RG_USER, "threads on stacks of their own" },
        { RG_CACHE, "cached thread stacks" },
    };
    const char *bad = NULL;
    for (int i = 0; i < 3 && !bad; i++)
        if (list_check((struct gl_list *)(L.rg + L.off_used + lists[i].off), NULL, NULL) < 0)
            bad = lists[i].name;
    unlock_stacks();
    if (bad)
        return fail(err, errlen, EFAULT, "ld.so's list of %s is damaged (it does not lead back to"
                    " its head within %d entries): a fresh MPI library cannot be loaded (its"
                    " dlmopen would walk that list for ever)", bad, MAX_NODES);
    return 0;
}

int pml_ldso_freeze(char *err, size_t errlen)
{
    if (!L.learned)
        return fail(err, errlen, ENOTSUP, "ld.so's layout was not learned at MPI_Init");
    if (F.frozen)
        return fail(err, errlen, EBUSY, "a checkpoint is already frozen");
    int e = lock_stacks(err, errlen);
    if (e)
        return e;
    char *used = L.rg + L.off_used;
    if (record_list((struct gl_list *)used, F.used, NULL, F.used_tsd, F.used_tid, &F.nused) ||
        record_list((struct gl_list *)(used + RG_USER), F.user, NULL, F.user_tsd, F.user_tid,
                    &F.nuser) ||
        record_list((struct gl_list *)(used + RG_CACHE), F.cache, F.cache_size, NULL, NULL,
                    &F.ncache)) {
        unlock_stacks();
        return fail(err, errlen, E2BIG, "more than %d thread descriptors", MAX_NODES);
    }
    /* the lower namespace's objects */
    char *slot = L.rg + (size_t)L.lmid * L.ns_stride;
    F.head = (void *)W(slot, NS_LOADED);
    F.lmid = L.lmid;
    F.nobj = 0;
    for (struct link_map *m = F.head; m; m = m->l_next) {
        if (shared_object(m))
            continue;
        if (F.nobj >= MAX_OBJS) {
            unlock_stacks();
            return fail(err, errlen, E2BIG, "more than %d objects in the lower half", MAX_OBJS);
        }
        if (!L.is_upper((uint64_t)(uintptr_t)m)) {
            unlock_stacks();
            return fail(err, errlen, ENOTSUP, "a link map of the lower half (%s) is not in the"
                        " application's memory", m->l_name ? m->l_name : "?");
        }
        F.obj[F.nobj].map = m;
        F.obj[F.nobj].start = W(m, L.lm_map_start);
        F.obj[F.nobj].end = W(m, L.lm_map_start + 8);
        F.obj[F.nobj].blocksize = W(m, L.lm_tls_blocksize);
        F.obj[F.nobj].tls_offset = (ptrdiff_t)W(m, L.lm_tls_offset);
        F.obj[F.nobj].modid = W(m, L.lm_tls_modid);
        F.nobj++;
    }
    /* the unwinder's table, found again (dlopen since MPI_Init may have moved it) */
    if (F.nobj) {
        char why[400];
        int de = pml_dlfo_find(L.lm_map_start, (const void *)(uintptr_t)F.obj[0].start, why, sizeof why);
        if (de) {
            unlock_stacks();
            return fail(err, errlen, -de, "%s", why);
        }
    }
    /* signal handlers the lower half installed */
    F.lower_handlers = 0;
    for (int s = 1; s <= 64; s++) {
        struct sigaction sa;
        if (s == SIGKILL || s == SIGSTOP || sigaction(s, NULL, &sa))
            continue;
        uintptr_t h = (sa.sa_flags & SA_SIGINFO) ? (uintptr_t)sa.sa_sigaction : (uintptr_t)sa.sa_handler;
        if (h > 1 && !L.is_upper(h))
            F.lower_handlers |= 1ull << (s - 1);
    }
    F.frozen = 1;
    return 0;
}

void pml_ldso_forked(void)
{
    if (!F.frozen)
        return;
    /* the freeze was the parent's (its capture froze ld.so's lists while the application's
     * threads still ran, and one forked): no thread of this child holds the stack lock */
    F.frozen = 0;
    if (L.learned)
        __atomic_store_n(stack_lock(), 0, __ATOMIC_RELEASE);
}

void pml_ldso_thaw(void)
{
    if (!F.frozen)
        return;
    F.frozen = 0;
    unlock_stacks();
}

int pml_ldso_stacks_waiter(pid_t proc_tid)
{
    if (!L.learned)
        return 0;
    /* in futex (202), its first argument the lock's address */
    long nr;
    unsigned long addr;
    return pml_thread_syscall(proc_tid, &nr, &addr) && nr == SYS_futex &&
           addr == (unsigned long)(uintptr_t)stack_lock();
}

/* ---- static TLS words to every thread ---------------------------------------------------------- */
#define SPREAD_MAX 8

int pml_ldso_loader_busy(void)
{
    if (!L.rg || L.nlocks < 1)
        return 0;
    for (int i = 0; i < L.nlocks; i++)
        if (__atomic_load_n((int *)(L.rg + L.off_nns + 8 + (size_t)i * MUTEX_SIZE), __ATOMIC_ACQUIRE))
            return 1;
    return 0;
}

int pml_ldso_loader_free(void)
{
    return L.rg && L.nlocks >= 1 && !pml_ldso_loader_busy();
}

int pml_ldso_tls_spread(void *const *words, int n, char *err, size_t errlen)
{
    int e = learn_base(err, errlen);
    if (e)
        return e;
    if (n < 0 || n > SPREAD_MAX)
        return fail(err, errlen, EINVAL, "%d thread-local words to copy (at most %d)", n, SPREAD_MAX);
    char *used = L.rg + L.off_used;
    uintptr_t tp;
    __asm__("mov %%fs:0, %0" : "=r"(tp));
    /* static TLS lies below the thread pointer (x86_64), at the same offset in every thread */
    size_t sused = W(used, RG_STATIC_USED);
    ptrdiff_t off[SPREAD_MAX];
    uintptr_t val[SPREAD_MAX];
    for (int i = 0; i < n; i++) {
        off[i] = (ptrdiff_t)((uintptr_t)words[i] - tp);
        if (off[i] >= 0 || (off[i] & 7) || (size_t)-off[i] > sused || sused > (1u << 20))
            return fail(err, errlen, ENOTSUP, "a thread-local word at %p is not in static TLS (thread"
                        " pointer %#lx, %zu bytes of static TLS in use)", words[i],
                        (unsigned long)tp, sused);
        val[i] = *(const uintptr_t *)words[i];
    }
    if ((e = lock_stacks(err, errlen)))
        return e;
    struct gl_list *heads[2] = { (struct gl_list *)used, (struct gl_list *)(used + RG_USER) };
    if (list_check(heads[0], NULL, NULL) < 0 || list_check(heads[1], NULL, NULL) < 0) {
        unlock_stacks();
        return fail(err, errlen, ENOTSUP, "ld.so's stack lists are not consistent");
    }
    int count = 0;
    for (int h = 0; h < 2; h++)
        for (struct gl_list *c = heads[h]->next; c != heads[h]; c = c->next) {
            char *pd = (char *)c - L.pt_list; /* the descriptor is at the thread pointer */
            if ((uintptr_t)pd == tp)
                continue;
            for (int i = 0; i < n; i++)
                __atomic_store_n((uintptr_t *)(void *)(pd + off[i]), val[i], __ATOMIC_RELAXED);
            count++;
        }
    unlock_stacks();
    return count;
}

/* ---- the restarted process -------------------------------------------------------------------- */
/* Whether node i of a list recorded at the freeze came back with the image. The lock was held
 * from the freeze until the image was taken, so a descriptor the image holds still has the links
 * recorded then; one left out (a thread of the MPI library, its stack gone) is unmapped now or
 * holds other bytes (the restarter's memory may lie there until the hooks are done). Its static
 * TLS, below the descriptor (x86_64), must be there too: a fresh dlmopen writes into it. */
static int came_back(struct gl_list *head, struct gl_list **nodes, unsigned n, unsigned i,
                     size_t static_used)
{
    struct gl_list got, want = { i + 1 < n ? nodes[i + 1] : head, i ? nodes[i - 1] : head };
    if (peek(nodes[i], &got, sizeof got) || got.next != want.next || got.prev != want.prev)
        return 0;
    uintptr_t pd = (uintptr_t)nodes[i] - L.pt_list, w;
    for (uintptr_t a = (pd - static_used) & ~(uintptr_t)7; a < pd; a += 4096)
        if (peek_word((const void *)a, &w))
            return 0;
    return peek_word((const void *)pd, &w) == 0;
}

/* Keeps, in order, the recorded nodes (and what was recorded with them) that came back; returns
 * how many. */
static unsigned kept_nodes(struct gl_list *head, struct gl_list **nodes, uint32_t *tsd, pid_t *tids,
                           size_t *sizes, unsigned n, size_t static_used)
{
    static unsigned char back[MAX_NODES]; /* decided before the arrays are compacted */
    for (unsigned i = 0; i < n; i++)
        back[i] = (unsigned char)came_back(head, nodes, n, i, static_used);
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++) {
        if (!back[i])
            continue;
        if (tsd)
            tsd[k] = tsd[i];
        if (tids)
            tids[k] = tids[i];
        if (sizes)
            sizes[k] = sizes[i];
        nodes[k++] = nodes[i];
    }
    return k;
}

static void relink(struct gl_list *head, struct gl_list **nodes, unsigned n)
{
    struct gl_list *prev = head;
    for (unsigned i = 0; i < n; i++) {
        nodes[i]->prev = prev;
        prev->next = nodes[i];
        prev = nodes[i];
    }
    prev->next = head;
    head->prev = prev;
}

static int dead_map(const void *m)
{
    for (unsigned i = 0; i < F.nobj; i++)
        if (F.obj[i].map == m)
            return 1;
    return 0;
}

int pml_ldso_forget(char *err, size_t errlen)
{
    memset(&last, 0, sizeof last);
    if (!F.frozen)
        return fail(err, errlen, EINVAL, "nothing was recorded at the checkpoint");
    char *rg = L.rg, *used = rg + L.off_used;
    char *slot = rg + (size_t)F.lmid * L.ns_stride;
    if ((void *)W(slot, NS_LOADED) != F.head)
        return fail(err, errlen, ENOTSUP, "namespace %ld no longer starts with the recorded object",
                    F.lmid);
    for (int i = 0; i < L.nlocks; i++)
        if (*(int *)(rg + L.off_nns + 8 + (size_t)i * MUTEX_SIZE))
            return fail(err, errlen, EBUSY, "ld.so's loader lock %d was held at the checkpoint", i);
    if (*(int *)(slot + NS_UNIQUE_LOCK))
        return fail(err, errlen, EBUSY, "namespace %ld's unique-symbol lock was held", F.lmid);

    /* TLS modules: as dlclose's remove_slotinfo, without reading the dead objects */
    struct slotinfo_list *sl0 = (struct slotinfo_list *)W(used, RG_SLOTINFO);
    size_t gen = W(used, RG_GENERATION) + 1;
    for (unsigned i = 0; i < F.nobj; i++) {
        if (!F.obj[i].blocksize)
            continue;
        size_t idx = F.obj[i].modid, disp = 0;
        if (!idx)
            continue;
        struct slotinfo_list *sl = sl0;
        while (sl && idx - disp >= sl->len) {
            disp += sl->len;
            sl = sl->next;
        }
        if (!sl || sl->slot[idx - disp].map != F.obj[i].map)
            return fail(err, errlen, ENOTSUP, "the TLS slot of module %zu does not name its object",
                        idx);
        __atomic_store_n(&sl->slot[idx - disp].gen, gen, __ATOMIC_RELAXED);
        __atomic_store_n(&sl->slot[idx - disp].map, NULL, __ATOMIC_RELAXED);
        last.tls_modules++;
    }
    if (last.tls_modules) {
        size_t nelem = W(used, RG_STATIC_NELEM), max = W(used, RG_MAX_DTV_IDX), newmax = nelem;
        size_t disp = 0;
        for (struct slotinfo_list *sl = sl0; sl; disp += sl->len, sl = sl->next)
            for (size_t j = 0; j < sl->len && disp + j <= max; j++)
                if (sl->slot[j].map && disp + j > newmax)
                    newmax = disp + j;
        *(unsigned char *)(used + RG_GAPS) = 1;
        __atomic_store_n((size_t *)(used + RG_MAX_DTV_IDX), newmax, __ATOMIC_RELAXED);
        __atomic_store_n((size_t *)(used + RG_GENERATION), gen, __ATOMIC_RELEASE);
    }

    /* static TLS in use at the checkpoint: every descriptor kept must have it below */
    size_t static_used = W(used, RG_STATIC_USED);

    /* static TLS: give back what lies above the highest block still in use */
    size_t top = 0;
    size_t nns = W(rg, L.off_nns);
    for (size_t ns = 0; ns < nns; ns++) {
        if ((long)ns == F.lmid)
            continue;
        unsigned k = 0;
        for (struct link_map *m = (struct link_map *)W(rg + ns * L.ns_stride, NS_LOADED); m && k < 100000;
             m = m->l_next, k++) {
            ptrdiff_t off = (ptrdiff_t)W(m, L.lm_tls_offset);
            if (W(m, L.lm_tls_blocksize) && off > 0 && (size_t)off > top)
                top = (size_t)off;
        }
    }
    size_t sused = W(used, RG_STATIC_USED);
    int all_above = 1;
    for (unsigned i = 0; i < F.nobj; i++) {
        ptrdiff_t off = F.obj[i].tls_offset;
        if (F.obj[i].blocksize && off > 0 && (size_t)off - F.obj[i].blocksize < top)
            all_above = 0;
    }
    if (top && top < sused && all_above) {
        last.static_tls_freed = sused - top;
        *(size_t *)(used + RG_STATIC_USED) = top;
    }
    last.static_tls_used = W(used, RG_STATIC_USED);

    /* the namespace's slot: empty, as after a dlclose of its last object */
    W(slot, NS_LOADED) = 0;
    *(unsigned *)(slot + NS_NLOADED) = 0;
    W(slot, NS_MAIN_SEARCHLIST) = 0;
    *(unsigned *)(slot + NS_GSCOPE_ALLOC) = 0;
    *(unsigned *)(slot + NS_GSCOPE_PENDING) = 0;
    W(slot, NS_LIBC_MAP) = 0;
    W(slot, NS_UNIQUE_ENTRIES) = 0;
    W(slot, NS_UNIQUE_SIZE) = 0;
    W(slot, NS_UNIQUE_N) = 0;
    W(slot, NS_UNIQUE_FREE) = 0;
    W(slot, NS_DEBUG_MAP) = 0;
    *(int *)(slot + NS_DEBUG_STATE) = 0; /* RT_CONSISTENT */
    if ((size_t)F.lmid == nns - 1) {
        while (nns > 1 && !W(rg + (nns - 1) * L.ns_stride, NS_LOADED))
            nns--;
        W(rg, L.off_nns) = nns;
    }
    /* _dl_initfirst and _dl_profile_map follow _dl_load_adds after the locks */
    size_t after_locks = L.off_nns + 8 + (size_t)L.nlocks * MUTEX_SIZE + 8;
    for (int i = 0; i < 2; i++)
        if (dead_map((void *)W(rg, after_locks + (size_t)i * 8)))
            W(rg, after_locks + (size_t)i * 8) = 0;
    last.lmid = F.lmid;
    last.objects = F.nobj;

    /* the thread-stack lists, from the descriptors the image holds (all decided before any
     * link is rewritten) */
    unsigned was_used = F.nused, was_user = F.nuser, was_cache = F.ncache;
    F.nused = kept_nodes((struct gl_list *)used, F.used, F.used_tsd, F.used_tid, NULL, F.nused,
                         static_used);
    F.nuser = kept_nodes((struct gl_list *)(used + RG_USER), F.user, F.user_tsd, F.user_tid, NULL,
                         F.nuser, static_used);
    F.ncache = kept_nodes((struct gl_list *)(used + RG_CACHE), F.cache, NULL, NULL, F.cache_size,
                          F.ncache, static_used);
    relink((struct gl_list *)used, F.used, F.nused);
    relink((struct gl_list *)(used + RG_USER), F.user, F.nuser);
    relink((struct gl_list *)(used + RG_CACHE), F.cache, F.ncache);
    size_t act = 0;
    for (unsigned i = 0; i < F.ncache; i++)
        act += F.cache_size[i];
    W(used, RG_ACTSIZE) = act;
    W(used, RG_IN_FLIGHT) = 0;
    last.threads_kept = F.nused + F.nuser;
    n_after_used = F.nused;
    n_after_user = F.nuser;
    last.threads_dropped = was_used + was_user - F.nused - F.nuser;
    last.cache_kept = F.ncache;
    last.cache_dropped = was_cache - F.ncache;

    /* thread-specific data: a value under a key the application's libc does not have in use (with
     * that sequence number) was the lower libc's; a fresh lower libc would find it under its own
     * new key and take it for its own */
    for (int list = 0; list < 2; list++) {
        unsigned n = list ? F.nuser : F.nused;
        for (unsigned t = 0; t < n; t++) {
            char *pd = (char *)(list ? F.user[t] : F.used[t]) - L.pt_list;
            uint32_t gone = list ? F.user_tsd[t] : F.used_tsd[t];
            for (int i = 0; i < KEY_L1; i++) {
                struct key_data **l1 = (struct key_data **)(pd + L.pt_specific);
                if (gone & (1u << i)) {
                    l1[i] = NULL;
                    continue;
                }
                struct key_data *l2 = l1[i];
                for (int j = 0; l2 && j < KEY_L2; j++) {
                    if (!l2[j].seq && !l2[j].data)
                        continue;
                    uintptr_t seq = W(L.keys, (size_t)(i * KEY_L2 + j) * L.key_size + L.key_seq);
                    if ((seq & 1) && l2[j].seq == seq)
                        continue; /* the application's */
                    l2[j].seq = 0;
                    l2[j].data = NULL;
                    last.tsd_cleared++;
                }
            }
        }
    }

    /* the unwinder's table forgets them, as dlclose would have it */
    last.unwind_closed = pml_dlfo_close(dead_map);

    /* keep the dead objects' ranges reserved */
    for (unsigned i = 0; i < F.nobj; i++) {
        uint64_t s = F.obj[i].start & ~4095ull, e = (F.obj[i].end + 4095) & ~4095ull;
        if (!s || e <= s)
            continue;
        void *p = mmap((void *)s, e - s, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
        if (p == (void *)s)
            last.ranges_reserved++;
        else if (p != MAP_FAILED)
            munmap(p, e - s); /* an old kernel placed it elsewhere */
    }

    /* signal handlers that pointed into the lower half */
    for (int s = 1; s <= 64; s++) {
        if (!(F.lower_handlers & (1ull << (s - 1))))
            continue;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_DFL;
        if (sigaction(s, &sa, NULL) == 0)
            last.handlers_reset++;
    }

    F.frozen = 0;
    unlock_stacks();
    return 0;
}

int pml_ldso_dead_objects(uint64_t (*range)[2], const char **name, int max)
{
    int n = 0;
    for (unsigned i = 0; i < F.nobj && n < max; i++, n++) {
        range[n][0] = F.obj[i].start;
        range[n][1] = F.obj[i].end;
        const struct link_map *m = F.obj[i].map; /* in the application's heap: still there */
        name[n] = m && m->l_name && m->l_name[0] ? m->l_name : "?";
    }
    return n;
}

void pml_ldso_last_stats(struct pml_ldso_stats *st)
{
    *st = last;
}

int pml_ldso_thread_ids(int *old_tid, int *new_tid, int max)
{
    int n = 0;
    for (int list = 0; list < 2; list++) {
        unsigned cnt = list ? n_after_user : n_after_used;
        for (unsigned i = 0; i < cnt; i++) {
            char *pd = (char *)(list ? F.user[i] : F.used[i]) - L.pt_list;
            pid_t was = list ? F.user_tid[i] : F.used_tid[i], now = *(pid_t *)(pd + L.pt_tid);
            if (was <= 0 || now <= 0)
                continue; /* a thread that had ended (joinable, not joined yet) */
            if (n < max) {
                old_tid[n] = was;
                new_tid[n] = now;
            }
            n++;
        }
    }
    return n;
}
