/* A rank's placement: described before its capture, applied after its restart (place.h). */
#define _GNU_SOURCE
#include "filem/place.h"

#include <errno.h>
#include <fcntl.h>
#include <hwloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fd_guard.h"
#include "common/keyval.h"
#include "common/procfs.h"
#include "common/text.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static hwloc_topology_t topo;
static int loaded;

/* The host's topology, read once (again after filem_place_forget). Under lock. */
static int topology(void)
{
    if (loaded)
        return 0;
    /* hwloc reads its plugins' folder, /sys and /proc files while a rank's threads run: no fork
     * copies them (common/fd_guard.h) */
    revive_fd_enter();
    if (hwloc_topology_init(&topo) < 0) {
        int e = errno;
        revive_fd_leave();
        return -e ?: -ENOMEM;
    }
    int l = hwloc_topology_load(topo);
    int le = errno;
    revive_fd_leave();
    if (l < 0) {
        int e = le ?: EIO;
        hwloc_topology_destroy(topo);
        return -e;
    }
    loaded = 1;
    return 0;
}

void filem_place_forget(void)
{
    pthread_mutex_lock(&lock);
    /* a restored process's topology object describes the host of the checkpoint: dropped (it
     * came back with the process's memory, whole, so destroying it is safe) */
    if (loaded)
        hwloc_topology_destroy(topo);
    loaded = 0;
    pthread_mutex_unlock(&lock);
}

int filem_place_ncores(void)
{
    pthread_mutex_lock(&lock);
    int n = topology() == 0 ? hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE) : 0;
    pthread_mutex_unlock(&lock);
    return n > 0 ? n : 1;
}

/* ---- lists "0-3,6" of small numbers ---- */

#define LIST_MAX 4096 /* logical indexes we handle */

struct list {
    unsigned char on[LIST_MAX];
    int max; /* highest index set, -1 when empty */
};

static void list_clear(struct list *l)
{
    memset(l->on, 0, sizeof l->on);
    l->max = -1;
}

static void list_add(struct list *l, int i)
{
    if (i < 0 || i >= LIST_MAX)
        return;
    l->on[i] = 1;
    if (i > l->max)
        l->max = i;
}

static void list_str(const struct list *l, char *out, size_t len)
{
    size_t n = 0;
    out[0] = 0;
    for (int i = 0; i <= l->max && n < len; i++) {
        if (!l->on[i])
            continue;
        int j = i;
        while (j + 1 <= l->max && l->on[j + 1])
            j++;
        int w = j > i ? snprintf(out + n, len - n, "%s%d-%d", n ? "," : "", i, j)
                      : snprintf(out + n, len - n, "%s%d", n ? "," : "", i);
        n += w > 0 ? (size_t)w : 0;
        i = j;
    }
    if (n >= len)
        out[len - 1] = 0;
}

/* 0, or -1 when s is not a list */
static int list_parse(const char *s, struct list *l)
{
    list_clear(l);
    while (*s) {
        char *end;
        long a = strtol(s, &end, 10), b = a;
        if (end == s || a < 0 || a >= LIST_MAX)
            return -1;
        s = end;
        if (*s == '-') {
            b = strtol(s + 1, &end, 10);
            if (end == s + 1 || b < a || b >= LIST_MAX)
                return -1;
            s = end;
        }
        for (long i = a; i <= b; i++)
            list_add(l, (int)i);
        if (*s == ',')
            s++;
        else if (*s)
            return -1;
    }
    return 0;
}

/* The logical indexes of the objects of `type` whose cpuset (cores) or nodeset (NUMA nodes)
 * meets set. */
static void logical_of(hwloc_obj_type_t type, hwloc_const_bitmap_t set, int by_nodeset,
                       struct list *l)
{
    list_clear(l);
    int n = hwloc_get_nbobjs_by_type(topo, type);
    for (int i = 0; i < n; i++) {
        hwloc_obj_t o = hwloc_get_obj_by_type(topo, type, (unsigned)i);
        if (o && hwloc_bitmap_intersects(by_nodeset ? o->nodeset : o->cpuset, set))
            list_add(l, (int)o->logical_index);
    }
}

static const char *policy_name(hwloc_membind_policy_t p)
{
    switch (p) {
    case HWLOC_MEMBIND_DEFAULT: return "default";
    case HWLOC_MEMBIND_FIRSTTOUCH: return "firsttouch";
    case HWLOC_MEMBIND_BIND: return "bind";
    case HWLOC_MEMBIND_INTERLEAVE: return "interleave";
    case HWLOC_MEMBIND_NEXTTOUCH: return "nexttouch";
    default: return "mixed";
    }
}

/* The NUMA nodes holding this process's pages: every writable mapping of /proc/self/maps
 * (heap, stacks, anonymous and file-backed private memory), asked through hwloc. */
static void pages_where(hwloc_bitmap_t where)
{
    hwloc_bitmap_zero(where);
    if (hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE) == 1) {
        /* one NUMA node: every page is there; no need to ask the kernel page by page */
        hwloc_bitmap_copy(where, hwloc_topology_get_topology_nodeset(topo));
        return;
    }
    revive_fd_enter(); /* a rank's threads run: no fork copies it (common/fd_guard.h) */
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f) {
        revive_fd_leave();
        return;
    }
    hwloc_bitmap_t one = hwloc_bitmap_alloc();
    char line[512];
    while (one && fgets(line, sizeof line, f)) {
        unsigned long a, b;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &a, &b, perms) != 3 || perms[1] != 'w')
            continue;
        if (strstr(line, "[vvar") || strstr(line, "[vsyscall]") || strstr(line, "/dev/"))
            continue;
        if (hwloc_get_area_memlocation(topo, (void *)a, b - a, one, HWLOC_MEMBIND_BYNODESET) == 0)
            hwloc_bitmap_or(where, where, one);
    }
    hwloc_bitmap_free(one);
    fclose(f);
    revive_fd_leave();
}

/* appends to buf (len bytes, *n used): 0, or -ENOSPC (buf left at *n) */
#define put(buf, len, n, ...) revive_text_put(buf, len, n, -ENOSPC, __VA_ARGS__)

int filem_place_describe(char *buf, size_t len)
{
    size_t n = 0;
    if (!len)
        return -ENOSPC;
    buf[0] = 0;
    const char *test = getenv(FILEM_PLACE_TEST_ENV);
    if (test && *test) {
        for (const char *s = test; *s;) {
            const char *e = strchr(s, ';');
            size_t l = e ? (size_t)(e - s) : strlen(s);
            if (l && put(buf, len, &n, "%.*s\n", (int)l, s) < 0)
                return -ENOSPC;
            s += l + (e ? 1 : 0);
        }
        return (int)n;
    }
    pthread_mutex_lock(&lock);
    int e = topology();
    if (e < 0) {
        pthread_mutex_unlock(&lock);
        return e;
    }
    hwloc_bitmap_t set = hwloc_bitmap_alloc(), nodes = hwloc_bitmap_alloc();
    struct list *l = malloc(sizeof *l);
    char s[2048];
    if (!set || !nodes || !l) {
        e = -ENOMEM;
        goto out;
    }
    e = put(buf, len, &n, "place.topo packages %d numa %d cores %d pus %d\n",
            hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE),
            hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE),
            hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE),
            hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU));
    /* hwloc reads every thread's binding through /proc/PID/task while the rank's threads run
     * (a child forked then held that directory: rank_forkloop-mpich); common/fd_guard.h */
    revive_fd_enter();
    int got_bind = e == 0 && hwloc_get_cpubind(topo, set, HWLOC_CPUBIND_PROCESS) == 0;
    revive_fd_leave();
    if (got_bind) {
        if (hwloc_bitmap_isincluded(hwloc_topology_get_topology_cpuset(topo), set)) {
            e = put(buf, len, &n, "place.cpubind all\n");
        } else {
            logical_of(HWLOC_OBJ_CORE, set, 0, l);
            list_str(l, s, sizeof s);
            e = put(buf, len, &n, "place.cpubind cores %s\n", s);
        }
        hwloc_bitmap_list_snprintf(s, sizeof s, set);
        e = e ?: put(buf, len, &n, "place.cpus %s\n", s);
    }
    hwloc_membind_policy_t pol;
    /* hwloc sizes the kernel's node mask from /sys/devices/system/node/possible, read at its first
     * call in the process (a child forked then held it: rank_forkloop-mpich, "first run") */
    revive_fd_enter();
    int got_mem = e == 0 &&
                  hwloc_get_membind(topo, nodes, &pol, HWLOC_MEMBIND_THREAD | HWLOC_MEMBIND_BYNODESET) == 0;
    revive_fd_leave();
    if (got_mem) {
        if (pol == HWLOC_MEMBIND_DEFAULT ||
            hwloc_bitmap_isincluded(hwloc_topology_get_topology_nodeset(topo), nodes)) {
            e = put(buf, len, &n, "place.membind %s\n", policy_name(pol));
        } else {
            logical_of(HWLOC_OBJ_NUMANODE, nodes, 1, l);
            list_str(l, s, sizeof s);
            e = put(buf, len, &n, "place.membind %s %s\n", policy_name(pol), s);
        }
    }
    if (e == 0) {
        pages_where(nodes);
        logical_of(HWLOC_OBJ_NUMANODE, nodes, 1, l);
        list_str(l, s, sizeof s);
        e = put(buf, len, &n, "place.mem_nodes %s\n", s[0] ? s : "none");
    }
out:
    free(l);
    hwloc_bitmap_free(set);
    hwloc_bitmap_free(nodes);
    pthread_mutex_unlock(&lock);
    return e < 0 ? e : (int)n;
}

static void say(char *said, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *said, size_t len, const char *fmt, ...)
{
    size_t n = strlen(said);
    if (n && n + 2 < len) {
        memcpy(said + n, "; ", 3);
        n += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(said + n, len - n, fmt, ap);
    va_end(ap);
}

/* The recorded count of `what` in place.topo ("cores 8"), or -1. */
static int topo_count(const char *rec, const char *what)
{
    char t[256];
    if (!revive_kv_value(rec, "place.topo", t, sizeof t))
        return -1;
    const char *p = strstr(t, what);
    return p ? atoi(p + strlen(what) + 1) : -1;
}

/* Binds to the logical cores in l. 0, or 1 when this host lacks one (said). */
static int apply_cpus(const char *rec, const struct list *l, const char *text, char *said,
                      size_t len)
{
    int ncores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
    if (l->max >= ncores) {
        int was = topo_count(rec, "cores");
        say(said, len,
            "it was bound to cores %s of %d; this host has %d core%s: its binding is left as the "
            "launcher made it",
            text, was, ncores, ncores == 1 ? "" : "s");
        return 1;
    }
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    if (!set)
        return -ENOMEM;
    for (int i = 0; i <= l->max; i++) {
        if (!l->on[i])
            continue;
        hwloc_obj_t o = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, (unsigned)i);
        if (o)
            hwloc_bitmap_or(set, set, o->cpuset);
    }
    revive_fd_enter(); /* (as in describing: /proc/PID/task) */
    int set_rc = hwloc_set_cpubind(topo, set, HWLOC_CPUBIND_PROCESS);
    revive_fd_leave();
    if (set_rc < 0)
        say(said, len, "it was bound to cores %s; binding it there again failed: %s", text,
            strerror(errno));
    hwloc_bitmap_free(set);
    return 0;
}

/* Moves its pages to the logical NUMA nodes in l (and binds this thread's memory there when
 * the policy recorded was a binding). */
static void apply_mem(const char *rec, const struct list *l, const char *text, int bind,
                      char *said, size_t len)
{
    int nnuma = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
    if (l->max >= nnuma) {
        int was = topo_count(rec, "numa");
        say(said, len,
            "its memory was on NUMA node%s %s of %d; this host has %d NUMA node%s: its memory "
            "stays where the restore put it",
            strchr(text, ',') || strchr(text, '-') ? "s" : "", text, was, nnuma,
            nnuma == 1 ? "" : "s");
        return;
    }
    hwloc_bitmap_t ns = hwloc_bitmap_alloc();
    if (!ns)
        return;
    for (int i = 0; i <= l->max; i++) {
        hwloc_obj_t o = l->on[i] ? hwloc_get_obj_by_type(topo, HWLOC_OBJ_NUMANODE, (unsigned)i) : NULL;
        if (o)
            hwloc_bitmap_or(ns, ns, o->nodeset);
    }
    /* MIGRATE moves every page of the process (migrate_pages); the policy it sets is this
     * thread's, taken back unless a binding was recorded */
    if (hwloc_set_membind(topo, ns, HWLOC_MEMBIND_BIND,
                          HWLOC_MEMBIND_THREAD | HWLOC_MEMBIND_MIGRATE | HWLOC_MEMBIND_BYNODESET) < 0)
        say(said, len, "moving its memory to NUMA node %s failed: %s", text, strerror(errno));
    else if (!bind)
        hwloc_set_membind(topo, hwloc_topology_get_topology_nodeset(topo), HWLOC_MEMBIND_DEFAULT,
                          HWLOC_MEMBIND_THREAD | HWLOC_MEMBIND_BYNODESET);
    hwloc_bitmap_free(ns);
}

/* 1 when this host has one NUMA node and no other (the kernel's list of online nodes is "0"),
 * else 0 (more, or not known: no such file without CONFIG_NUMA, where hwloc is asked). */
static int one_numa_node(void)
{
    char b[16];
    if (revive_read_file("/sys/devices/system/node/online", b, sizeof b) <= 0)
        return 0;
    return !strcmp(b, "0\n") || !strcmp(b, "0");
}

int filem_place_apply(const char *recorded, char *said, size_t len)
{
    if (len)
        said[0] = 0;
    if (!recorded || !*recorded)
        return 0;
    char v[2048];
    int cores = revive_kv_value(recorded, "place.cpubind", v, sizeof v) && !strncmp(v, "cores ", 6);
    /* memory: where its pages were (a membind list says more: the policy's nodes) */
    int bind = 0;
    char nodes[2048] = "";
    if (revive_kv_value(recorded, "place.membind", v, sizeof v) && !strncmp(v, "bind ", 5)) {
        bind = 1;
        snprintf(nodes, sizeof nodes, "%s", v + 5);
    } else if (revive_kv_value(recorded, "place.mem_nodes", v, sizeof v) && strcmp(v, "none")) {
        snprintf(nodes, sizeof nodes, "%s", v);
    }
    /* Pages recorded on node 0 alone, no binding, and this host has that one node only: every
     * page is there already. Moving them anyway walked every page of the rank in migrate_pages
     * (perf of an 8-rank Open MPI restart, 16 MiB each: a quarter of the restored ranks' CPU
     * after their fresh MPI), and reading the topology for it took 40-50 ms a rank (hwloc reads
     * /sys). Nothing to bind either ("all"): hwloc is not asked at all. */
    if (!bind && !strcmp(nodes, "0") && one_numa_node())
        nodes[0] = 0;
    if (!cores && !nodes[0])
        return 0;
    pthread_mutex_lock(&lock);
    int e = topology();
    struct list *l = malloc(sizeof *l);
    if (e < 0 || !l) {
        free(l);
        pthread_mutex_unlock(&lock);
        return e < 0 ? e : -ENOMEM;
    }
    if (cores && revive_kv_value(recorded, "place.cpubind", v, sizeof v)) {
        if (list_parse(v + 6, l) == 0 && l->max >= 0)
            apply_cpus(recorded, l, v + 6, said, len);
        else
            say(said, len, "its recorded binding '%s' is not understood", v);
    }
    if (nodes[0]) {
        if (list_parse(nodes, l) == 0 && l->max >= 0)
            apply_mem(recorded, l, nodes, bind, said, len);
        else
            say(said, len, "its recorded memory placement '%s' is not understood", nodes);
    }
    free(l);
    pthread_mutex_unlock(&lock);
    return 0;
}

int filem_place_stage_slot(const char *local_root, int rank)
{
    int n = filem_place_ncores();
    char dir[4096], path[4200];
    if ((size_t)snprintf(dir, sizeof dir, "%s/.stage-slots", local_root) >= sizeof dir)
        return -ENAMETOOLONG;
    struct stat st;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return -errno;
    if (lstat(dir, &st) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
        return -EPERM; /* not ours and private: no slots (the copy goes on without) */
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%d", dir, i);
        /* owned (common/fd_guard.h): a child the rank forks while the copy runs must not hold
         * the slot's lock (a flock belongs to the open file, shared with every copy) */
        int fd = revive_open_owned(path, O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
        if (fd < 0)
            return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return fd;
        close(fd);
    }
    snprintf(path, sizeof path, "%s/%d", dir, (rank < 0 ? 0 : rank) % n);
    int fd = revive_open_owned(path, O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -errno;
    while (flock(fd, LOCK_EX) < 0)
        if (errno != EINTR) {
            int e = errno;
            close(fd);
            return -e;
        }
    return fd;
}
