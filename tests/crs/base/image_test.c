/* The sample image and helpers shared by the image tests (see image_test.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stddef.h>
#include <unistd.h>
#include <xxhash.h>

#include "image_test.h"
#include "crs/base/image_sections.h"

#define PAGE 4096u

void (*sample_writer_guard)(int on);
int sample_direct, sample_direct_on, sample_direct_skip = -1;
unsigned sample_direct_flags;
void *sample_direct_buf;

/* Address space of the sample process (ascending, as the format requires). */
enum { R_DATA, R_LIB, R_HEAP, R_SHM, R_STACK, R_VDSO, NREGIONS };
static const struct {
    uint64_t start, end;
    uint32_t prot, kind, flags;
    int32_t file;
    const char *name;
} regions[NREGIONS] = {
    [R_DATA] = { 0x10000000, 0x10004000, 3, CRS_REGION_ANON, 0, -1, "" },
    [R_LIB] = { 0x20000000, 0x20003000, 5, CRS_REGION_FILE, 0, 0, "/usr/lib/libsample.so.1" },
    [R_HEAP] = { 0x30000000, 0x30800000, 3, CRS_REGION_ANON, CRS_REGION_F_HEAP, -1, "[heap]" },
    [R_SHM] = { 0x40000000, 0x40002000, 3, CRS_REGION_SHMEM, 0, 0, "/memfd:shm (deleted)" },
    [R_STACK] = { 0x7ff00000, 0x7ff10000, 3, CRS_REGION_ANON,
                  CRS_REGION_F_STACK | CRS_REGION_F_GROWSDOWN, -1, "[stack]" },
    [R_VDSO] = { 0x7fff0000, 0x7fff2000, 5, CRS_REGION_VDSO, 0, -1, "[vdso]" },
};

/* Stored memory: a patterned data page pair, one written library page, a
 * compressible heap run longer than CRS_CHUNK_MAX (so it splits), a random
 * (incompressible) heap run, a shared page and a stack page. */
#define NRANGES 6
static struct sample_range ranges[NRANGES];

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static unsigned char *fill(size_t len, int how, uint64_t seed)
{
    unsigned char *p = aligned_alloc(PAGE, len);
    if (!p)
        FAILF("out of memory");
    for (size_t i = 0; i < len; i++) {
        if (how == 0)
            p[i] = (unsigned char)(i * 7 + seed);
        else if (how == 1)
            p[i] = "checkpoint/restart "[i % 19];
        else
            p[i] = (unsigned char)xorshift(&seed);
    }
    return p;
}

const struct sample_range *sample_ranges(int small, size_t *n)
{
    static struct sample_range small_ranges[NRANGES];
    if (!ranges[0].data) {
        ranges[0] = (struct sample_range){ 0x10000000, fill(2 * PAGE, 0, 1), 2 * PAGE };
        ranges[1] = (struct sample_range){ 0x20002000, fill(PAGE, 0, 2), PAGE };
        ranges[2] = (struct sample_range){ 0x30000000, fill(CRS_CHUNK_MAX + 2 * PAGE, 1, 0),
                                           CRS_CHUNK_MAX + 2 * PAGE };
        ranges[3] = (struct sample_range){ 0x30600000, fill(3 * PAGE, 2, 99), 3 * PAGE };
        ranges[4] = (struct sample_range){ 0x40000000, fill(PAGE, 0, 3), PAGE };
        ranges[5] = (struct sample_range){ 0x7ff0f000, fill(PAGE, 0, 4), PAGE };
        /* small: the long heap run cut to two pages, for byte-by-byte tests */
        memcpy(small_ranges, ranges, sizeof(ranges));
        small_ranges[2].len = 2 * PAGE;
        small_ranges[3].len = PAGE;
    }
    *n = NRANGES;
    return small ? small_ranges : ranges;
}

const struct sample_ext *sample_exts(size_t *n)
{
    static unsigned char state[300], counters[8];
    static const struct sample_ext exts[] = {
        { "mpi", state, sizeof(state) },       /* written in three pieces */
        { "test.counters", counters, sizeof(counters) },
        { "mpi", NULL, 0 },                    /* empty */
    };
    if (!state[0]) {
        for (size_t i = 0; i < sizeof(state); i++)
            state[i] = (unsigned char)(i * 31 + 7);
        for (size_t i = 0; i < sizeof(counters); i++)
            counters[i] = (unsigned char)(0xef - i);
    }
    *n = sizeof(exts) / sizeof(exts[0]);
    return exts;
}

static void *scratch_for(int zstd_level, size_t *len)
{
    *len = crs_iw_scratch_size(64, 4096, zstd_level);
    void *s = malloc(*len);
    if (!s)
        FAILF("out of memory");
    return s;
}

/* SAMPLE_KOBJ's sections: one saved file (a deleted scratch file of 64 KiB
 * with two data extents) and its bytes. */
static const char fdata[] = "the first extent of the scratch file\nand its second one, further on\n";

static int sample_kobjs(struct crs_image_writer *w)
{
    struct crs_rec_fobj fobj = { .kind = CRS_FOBJ_DELETED, .mode = 0100600, .dev = 0x801, .ino = 6661,
                                 .size = 65536, .first_extent = 0, .nextents = 2 };
    struct crs_rec_fextent ext[2] = {
        { .offset = 0, .length = 37, .data_offset = 0 },
        { .offset = 32768, .length = sizeof(fdata) - 1 - 37, .data_offset = 37 },
    };
    ext[0].checksum = XXH3_64bits(fdata, 37);
    ext[1].checksum = XXH3_64bits(fdata + 37, ext[1].length);
    int rc = crs_iw_string(w, "/tmp/scratch.dat", &fobj.path);
    if (!rc) rc = crs_iw_stream_begin(w, CRS_SEC_FDATA);
    if (!rc) rc = crs_iw_stream_append(w, fdata, 20);   /* in pieces */
    if (!rc) rc = crs_iw_stream_append(w, fdata + 20, sizeof(fdata) - 1 - 20);
    if (!rc) rc = crs_iw_stream_end(w);
    if (!rc) rc = crs_iw_section(w, CRS_SEC_FOBJS, &fobj, sizeof(fobj), 1);
    if (!rc) rc = crs_iw_section(w, CRS_SEC_FEXTENTS, ext, sizeof(ext[0]), 2);
    struct crs_rec_timer timers[2] = {
        { .id = 0, .clock = 1, .notify = SIGEV_SIGNAL, .signo = SIGALRM, .value = 7,
          .value_ns = 250000000, .interval_ns = 50000000 },
        { .id = 3, .clock = 1, .notify = SIGEV_SIGNAL | SIGEV_THREAD_ID, .signo = 32, .value = 0x7f0000003000,
          .tid = 4243, .value_ns = 0 },
    };
    if (!rc) rc = crs_iw_section(w, CRS_SEC_TIMERS, timers, sizeof(timers[0]), 2);
    struct crs_rec_lock locks[3] = {
        { .fd = 3, .kind = CRS_LOCK_POSIX, .type = F_WRLCK, .start = 10, .len = 20 },
        { .fd = 3, .kind = CRS_LOCK_POSIX, .type = F_RDLCK, .start = 100, .len = 0 },
        { .fd = 10, .kind = CRS_LOCK_FLOCK, .type = F_WRLCK },
    };
    if (!rc) rc = crs_iw_section(w, CRS_SEC_LOCKS, locks, sizeof(locks[0]), 3);
    /* an epoll watching two descriptors and an inotify with one watch (no
     * descriptor names them: the reader checks only their shapes) */
    struct crs_rec_kfd kfds[3] = {
        { .kind = CRS_FD_EPOLL, .first = 0, .count = 2 },
        { .kind = CRS_FD_TIMERFD, .a = 1, .b = 20000000, .c = 50000000, .d = 2 },
        { .kind = CRS_FD_INOTIFY, .first = 0, .count = 1 },
    };
    struct crs_rec_epoll_tgt tgts[2] = { { .tfd = 3, .events = 1, .data = 0x1234 },
                                         { .tfd = 10, .events = 0x80000001u, .data = 10 } };
    struct crs_rec_inwatch watch = { .wd = 3, .mask = 0x300 };
    if (!rc) rc = crs_iw_string(w, "/home/user/watched", &watch.path);
    if (!rc) rc = crs_iw_section(w, CRS_SEC_KFDS, kfds, sizeof(kfds[0]), 3);
    if (!rc) rc = crs_iw_section(w, CRS_SEC_EPOLLTGTS, tgts, sizeof(tgts[0]), 2);
    if (!rc) rc = crs_iw_section(w, CRS_SEC_INWATCHES, &watch, sizeof(watch), 1);
    /* a Unix stream socketpair whose first end holds "hi", a datagram one
     * holding two messages at the second end, a TCP listener */
    static const unsigned char sockdata[] = "hi\x02\0\0\0ab\x01\0\0\0c";
    struct crs_rec_socket socks[6];
    memset(socks, 0, sizeof(socks));
    for (int i = 0; i < 5; i++) {
        socks[i].family = AF_UNIX;
        socks[i].type = i < 2 ? SOCK_STREAM : SOCK_DGRAM;
        socks[i].state = CRS_SOCK_CONNECTED;
        socks[i].flags = CRS_SOCK_F_PAIR;
        socks[i].peer = i < 2 ? 1 - i : 5 - i;
        socks[i].listener = -1;
    }
    socks[0].data_length = 2;
    socks[3].data_offset = 2;
    socks[3].data_length = sizeof(sockdata) - 1 - 2;
    socks[3].nmsgs = 2;
    socks[4] = (struct crs_rec_socket){ .family = AF_INET, .type = SOCK_STREAM, .state = CRS_SOCK_LISTEN,
                                        .flags = CRS_SOCK_F_REUSEADDR, .peer = -1, .listener = -1, .backlog = 16,
                                        .local_len = 16, .local = { 2, 0, 0x1f, 0x90, 127, 0, 0, 1 } };
    /* version 20: an unbound UDP socket, a member of multicast groups (below) */
    socks[5] = (struct crs_rec_socket){ .family = AF_INET, .type = SOCK_DGRAM, .state = CRS_SOCK_UNBOUND,
                                        .peer = -1, .listener = -1 };
    if (!rc) rc = crs_iw_section(w, CRS_SEC_SOCKETS, socks, sizeof(socks[0]), 6);
    if (!rc) rc = crs_iw_section(w, CRS_SEC_SOCKDATA, sockdata, 1, sizeof(sockdata) - 1);
    /* version 13: a receive timeout of 0.25 s on the first end, keepalive idle 77 s on the listener */
    struct crs_rec_sockopt opts[2] = {
        { .socket = 0, .level = SOL_SOCKET, .name = SO_RCVTIMEO, .len = 16, .value = { 0, [8] = 0x90, 0xd0, 0x03 } },
        { .socket = 4, .level = IPPROTO_TCP, .name = TCP_KEEPIDLE, .len = 4, .value = { 77 } },
    };
    if (!rc) rc = crs_iw_section(w, CRS_SEC_SOCKOPTS, opts, sizeof(opts[0]), 2);
    /* version 20: the UDP socket joined 239.7.7.7 on lo (any source) and 232.7.7.7 from 127.0.0.1 */
    struct crs_rec_mcast groups[2] = {
        { .socket = 5, .family = AF_INET, .ifindex = 1, .fmode = 0, .ifname = "lo", .group = { 239, 7, 7, 7 } },
        { .socket = 5, .family = AF_INET, .ifindex = 1, .fmode = 1, .ifname = "lo", .group = { 232, 7, 7, 7 },
          .src_first = 0, .nsrc = 1 },
    };
    struct crs_rec_mcast_src src = { .addr = { 127, 0, 0, 1 } };
    if (!rc) rc = crs_iw_section(w, CRS_SEC_MCAST, groups, sizeof(groups[0]), 2);
    if (!rc) rc = crs_iw_section(w, CRS_SEC_MCASTSRC, &src, sizeof(src), 1);
    /* version 14: the epoll's edge-triggered watch of descriptor 10 had its edge consumed */
    struct crs_rec_epoll_edge edge = { .target = 1, .flags = CRS_EPOLL_EDGE_CONSUMED };
    if (!rc) rc = crs_iw_section(w, CRS_SEC_EPOLLEDGE, &edge, sizeof(edge), 1);
    /* version 15: descriptor 8 sends SIGUSR1 (10) to the process itself, descriptor 10 SIGIO to nobody */
    struct crs_rec_fdown owners[2] = {
        { .fd = 8, .type = 1 /* F_OWNER_PID */, .id = 4242, .sig = 10, .who = CRS_FDOWN_SELF },
        { .fd = 10, .type = 1, .id = 0, .sig = 0, .who = CRS_FDOWN_NONE },
    };
    if (!rc) rc = crs_iw_section(w, CRS_SEC_FDOWNERS, owners, sizeof(owners[0]), 2);
    /* version 16: the main thread's nice value 5 and timer slack 250 us, both threads with
     * no_new_privs under one seccomp filter of the program (times fails with EXDEV, 4
     * instructions), the main thread under a second one of its own (everything allowed) */
    struct crs_rec_thread_attr tattrs[2] = {
        { .tid = 4242, .flags = CRS_TATTR_F_NICE | CRS_TATTR_F_SLACK | CRS_TATTR_F_NNP, .nice = 5,
          .timerslack_ns = 250000, .seccomp = 2 },
        { .tid = 4243, .flags = CRS_TATTR_F_NNP, .seccomp = 1 },
    };
    struct sock_filter prog[5] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 100 /* times */, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 18 /* EXDEV */),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct crs_rec_seccomp filters[2] = {
        { .flags = SECCOMP_FILTER_FLAG_TSYNC, .len = 4, .data = 0 },
        { .flags = 0, .len = 1, .data = 4 },
    };
    if (!rc) rc = crs_iw_section(w, CRS_SEC_THREADATTR, tattrs, sizeof(tattrs[0]), 2);
    if (!rc) rc = crs_iw_section(w, CRS_SEC_SECCOMP, filters, sizeof(filters[0]), 2);
    if (!rc) rc = crs_iw_section(w, CRS_SEC_SECCOMPDATA, prog, sizeof(prog[0]), 5);
    return rc;
}

int sample_image_write(int fd, int zstd_level, int flags, char *err)
{
    size_t nr, slen, nx;
    const struct sample_range *r = sample_ranges(flags & SAMPLE_SMALL, &nr);
    const struct sample_ext *x = sample_exts(&nx);
    void *scratch = scratch_for(zstd_level, &slen);
    struct crs_image_writer w;
    if (sample_writer_guard)
        sample_writer_guard(1);
    int rc = crs_iw_open(&w, fd, scratch, slen, 64, 4096, zstd_level);
    sample_direct_on = 0;
    sample_direct_buf = NULL;
    if (!rc && sample_direct) {
        sample_direct_on = crs_iw_direct(&w, sample_direct_flags);
        sample_direct_buf = w.dio_buf;
    }
    for (size_t i = 0; i < nr && !rc; i++) {
        w.direct_skip = (int)i == sample_direct_skip;
        rc = crs_iw_add_pages(&w, r[i].vaddr, r[i].data, r[i].len);
    }
    w.direct_skip = 0;

    struct crs_rec_process proc = { .pid = 4242, .ppid = 1, .pgid = 4242, .sid = 4242,
                                    .uid = 1000, .gid = 1000, .umask = 022, .thread_count = 2,
                                    .start_brk = 0x30000000, .brk = 0x30800000,
                                    .flags = CRS_PROC_F_RESTORE_PID };
    struct crs_rec_thread th[2] = {
        { .tid = 4242, .flags = CRS_THREAD_F_MAIN, .fsbase = 0x7f0000001000,
          .ctx = { .rip = 0x20000100, .rsp = 0x7ff0fff0, .mxcsr = 0x1f80, .fpucw = 0x37f } },
        { .tid = 4243, .flags = CRS_THREAD_F_MANAGER, .fsbase = 0x7f0000002000 },
    };
    struct crs_rec_region reg[NREGIONS];
    memset(reg, 0, sizeof(reg));
    for (int i = 0; i < NREGIONS; i++) {
        reg[i].start = regions[i].start;
        reg[i].end = regions[i].end;
        reg[i].prot = regions[i].prot;
        reg[i].kind = regions[i].kind;
        reg[i].flags = regions[i].flags;
        reg[i].file = regions[i].file;
        if (!rc)
            rc = crs_iw_string(&w, regions[i].name, &reg[i].name);
    }
    struct crs_rec_file file = { .dev = 0x801, .ino = 1234, .size = 12288,
                                 .mtime_ns = 1700000000123456789LL, .mode = 0100755,
                                 .build_id_len = 20 };
    for (int i = 0; i < 20; i++)
        file.build_id[i] = (uint8_t)(0xa0 + i);
    struct crs_rec_memfd memfd = { .size = 2 * PAGE, .ino = 777, .seals = 0 };
    struct crs_rec_fd fds[10] = {
        { .fd = 0, .kind = CRS_FD_INHERIT, .offset = -1, .memfd = -1, .mode = 020620, .dup_of = -1 },
        { .fd = 1, .kind = CRS_FD_INHERIT, .offset = -1, .memfd = -1, .mode = 010600, .dup_of = -1 },
        { .fd = 2, .kind = CRS_FD_INHERIT, .offset = -1, .memfd = -1, .mode = 020666, .dup_of = -1 },
        { .fd = 3, .kind = CRS_FD_REGULAR, .open_flags = O_RDWR, .offset = 12345, .memfd = -1,
          .mode = 0100644, .dev = 0x801, .ino = 99, .dup_of = -1 },
        { .fd = 5, .kind = CRS_FD_MEMFD, .open_flags = O_RDWR, .fd_flags = FD_CLOEXEC,
          .offset = 0, .memfd = 0, .mode = 0100777, .dup_of = -1 },
        /* both ends of pipe 0 (it holds bytes) and the read end of pipe 1 (empty) */
        { .fd = 6, .kind = CRS_FD_PIPE, .open_flags = O_RDONLY, .offset = -1, .memfd = 0,
          .mode = 010600, .ino = 5550, .dup_of = -1 },
        { .fd = 7, .kind = CRS_FD_PIPE, .open_flags = O_WRONLY, .offset = -1, .memfd = 0,
          .mode = 010600, .ino = 5550, .dup_of = -1 },
        { .fd = 8, .kind = CRS_FD_PIPE, .open_flags = O_RDONLY | O_NONBLOCK, .offset = -1,
          .memfd = 1, .mode = 010600, .ino = 5551, .dup_of = -1 },
        /* SAMPLE_KOBJ: a socket from the launcher, a deleted scratch file */
        { .fd = 9, .kind = CRS_FD_INHERITED, .open_flags = O_RDWR, .offset = -1, .memfd = -1,
          .mode = 0140777, .ino = 6660, .dup_of = -1 },
        { .fd = 10, .kind = CRS_FD_FOBJ, .open_flags = O_RDWR, .offset = 8192, .memfd = 0,
          .mode = 0100600, .dev = 0x801, .ino = 6661, .dup_of = -1 },
    };
    static const char pipedata[] = "bytes held in the pipe\n";
    struct crs_rec_pipe pipes[2] = {
        { .ino = 5550, .capacity = 65536, .data_offset = 0, .data_length = sizeof(pipedata) - 1 },
        { .ino = 5551, .capacity = 4096, .data_offset = sizeof(pipedata) - 1, .data_length = 0 },
    };
    struct crs_rec_sigaction sig[64];
    memset(sig, 0, sizeof(sig));
    sig[SIGINT - 1].handler = 0x20000200;
    sig[SIGINT - 1].flags = 0x04000000; /* SA_RESTORER */
    sig[SIGPIPE - 1].handler = 1;       /* SIG_IGN */
    uint64_t auxv[6] = { 6 /* AT_PAGESZ */, PAGE, 25 /* AT_RANDOM */, 0x7ff0f800, 0, 0 };

    if (!rc) rc = crs_iw_string(&w, "/usr/bin/sample", &proc.exe);
    if (!rc) rc = crs_iw_string(&w, "/home/user", &proc.cwd);
    if (!rc) rc = crs_iw_string(&w, "sample --iterations 3", &proc.cmdline);
    if (!rc) rc = crs_iw_string(&w, "/usr/lib/libsample.so.1", &file.path);
    if (!rc) rc = crs_iw_string(&w, "shm", &memfd.name);
    if (!rc) rc = crs_iw_string(&w, "/home/user/data \"x\".txt", &fds[3].path);
    if (!rc) rc = crs_iw_string(&w, "/memfd:shm (deleted)", &fds[4].path);
    if (!rc && (flags & SAMPLE_KOBJ)) rc = crs_iw_string(&w, "socket:[6660]", &fds[8].path);
    if (!rc && (flags & SAMPLE_KOBJ)) rc = crs_iw_string(&w, "/tmp/scratch.dat (deleted)", &fds[9].path);
    if (!rc) rc = crs_iw_section(&w, CRS_SEC_PROCESS, &proc, sizeof(proc), 1);
    if (!rc) rc = crs_iw_section(&w, CRS_SEC_THREADS, th, sizeof(th[0]), 2);
    if (!rc) rc = crs_iw_section(&w, CRS_SEC_REGIONS, reg, sizeof(reg[0]), NREGIONS);
    if (!rc) rc = crs_iw_section(&w, CRS_SEC_FILES, &file, sizeof(file), 1);
    if (!rc) rc = crs_iw_section(&w, CRS_SEC_MEMFDS, &memfd, sizeof(memfd), 1);
    if (!rc) rc = crs_iw_section(&w, CRS_SEC_FDS, fds, sizeof(fds[0]), flags & SAMPLE_KOBJ ? 10 : 8);
    if (!rc) rc = crs_iw_section(&w, CRS_SEC_SIGNALS, sig, sizeof(sig[0]), 64);
    if (flags & SAMPLE_EXT) {
        /* the first in pieces (the rewrite writes it in one: same bytes) */
        if (!rc) rc = crs_iw_extension_begin(&w, x[0].owner);
        if (!rc) rc = crs_iw_extension_append(&w, x[0].data, 100);
        if (!rc) rc = crs_iw_extension_append(&w, x[0].data + 100, 0);
        if (!rc) rc = crs_iw_extension_append(&w, x[0].data + 100, x[0].len - 100);
        if (!rc) rc = crs_iw_extension_end(&w);
        for (size_t i = 1; i < nx && !rc; i++)
            rc = crs_iw_extension(&w, x[i].owner, x[i].data, x[i].len);
    }
    if (flags & SAMPLE_KOBJ)
        rc = rc ? rc : sample_kobjs(&w);
    if (!rc) rc = crs_iw_section(&w, CRS_SEC_AUXV, auxv, sizeof(uint64_t), 6);
    if (!rc) rc = crs_iw_section(&w, CRS_SEC_PIPES, pipes, sizeof(pipes[0]), 2);
    if (!rc) rc = crs_iw_section(&w, CRS_SEC_PIPEDATA, pipedata, 1, sizeof(pipedata) - 1);

    struct crs_image_header tmpl;
    memset(&tmpl, 0, sizeof(tmpl));
    crs_host_facts(&tmpl);
    tmpl.pid = 4242;
    tmpl.created_ns = 1700000000000000000ULL; /* fixed, so that images compare equal */
    if (!rc)
        rc = crs_iw_finish(&w, &tmpl);
    if (sample_writer_guard)
        sample_writer_guard(0);
    if (rc && err)
        memcpy(err, w.err, sizeof(w.err));
    free(scratch);
    return rc;
}

int image_rewrite(struct crs_image *img, int fd, int zstd_level)
{
    size_t slen;
    void *scratch = scratch_for(zstd_level, &slen);
    void *buf = malloc(CRS_CHUNK_MAX);
    struct crs_image_writer w;
    int rc = crs_iw_open(&w, fd, scratch, slen, 64, 4096, zstd_level);
    for (size_t i = 0; i < img->nchunks && !rc; i++) {
        if ((rc = crs_image_read_chunk(img, i, buf)))
            fprintf(stderr, "%s\n", img->err);
        else
            rc = crs_iw_add_pages(&w, img->chunks[i].vaddr, buf, img->chunks[i].length);
    }
    /* strings in their original order give the same references */
    struct crs_strref ref;
    for (size_t off = 0; off < img->strings_len && !rc; off += strlen(img->strings + off) + 1)
        rc = crs_iw_string(&w, img->strings + off, &ref);
    size_t next_ext = 0;
    for (uint32_t i = 0; i < img->hdr.section_count && !rc; i++) {
        const struct crs_section_entry *e = &img->table[i];
        const struct crs_section_kind *k = crs_section_kind(e->type);
        if (k->flags & CRS_SECF_FINISH)
            continue; /* CHUNKS and STRINGS: written by finish */
        if (k->flags & CRS_SECF_REPEAT) { /* EXT: the extensions in table order */
            const struct crs_image_ext *x = &img->exts[next_ext++];
            rc = crs_iw_extension(&w, x->owner, x->data, x->len);
            continue;
        }
        if (k->flags & CRS_SECF_BULK) {   /* FDATA: its bytes, extent after extent */
            rc = crs_iw_stream_begin(&w, e->type);
            for (size_t x = 0; x < img->nfextents && !rc; x++) {
                if ((rc = crs_image_read_fextent(img, x, buf)))
                    fprintf(stderr, "%s\n", img->err);
                else
                    rc = crs_iw_stream_append(&w, buf, img->fextents[x].length);
            }
            if (!rc)
                rc = crs_iw_stream_end(&w);
            continue;
        }
        const void *p = NULL;
        switch (e->type) {
#define CRS_SECTION(ID, SINCE, RECORD, MEMBER, COUNT, N, RULES, CHECK, LABEL, TEXT, JSON) \
        case CRS_SEC_##ID: p = img->MEMBER; break;
#include "crs/base/image_sections.def"
#undef CRS_SECTION
        }
        rc = crs_iw_section(&w, e->type, p, e->record_size, e->size / e->record_size);
    }
    crs_iw_require_version(&w, img->hdr.version);
    if (!rc)
        rc = crs_iw_finish(&w, &img->hdr);
    if (rc)
        fprintf(stderr, "rewrite: %s\n", w.err);
    free(buf);
    free(scratch);
    return rc;
}

unsigned char *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        FAILF("cannot read %s: %s", path, strerror(errno));
    unsigned char *p = malloc((size_t)st.st_size + 1);
    if (!p || pread(fd, p, (size_t)st.st_size, 0) != st.st_size)
        FAILF("cannot read %s", path);
    close(fd);
    *len = (size_t)st.st_size;
    return p;
}

void image_reseal(const char *path)
{
    size_t len;
    unsigned char *p = slurp(path, &len);
    struct crs_image_header *h = (struct crs_image_header *)p;
    if (len < sizeof(*h) || h->table_offset > len ||
        h->section_count > (len - h->table_offset) / sizeof(struct crs_section_entry))
        FAILF("%s: cannot reseal: the header does not fit the file", path);
    struct crs_section_entry *t = (struct crs_section_entry *)(p + h->table_offset);
    for (uint32_t i = 0; i < h->section_count; i++) {
        if (t[i].offset > len || t[i].size > len - t[i].offset)
            FAILF("%s: cannot reseal: section %u lies outside the file", path, i);
        t[i].checksum = XXH3_64bits(p + t[i].offset, t[i].size);
    }
    h->table_checksum = XXH3_64bits(t, h->section_count * sizeof(*t));
    h->header_checksum = XXH3_64bits(h, offsetof(struct crs_image_header, header_checksum));
    int fd = open(path, O_WRONLY);
    if (fd < 0 || pwrite(fd, p, len, 0) != (ssize_t)len || close(fd))
        FAILF("%s: cannot write: %s", path, strerror(errno));
    free(p);
}

char *temp_path(const char *tag)
{
    const char *dir = getenv("TMPDIR");
    char *p;
    if (asprintf(&p, "%s/revive-image-%s-%d-XXXXXX", dir && *dir ? dir : "/tmp", tag,
                 (int)getpid()) < 0)
        FAILF("out of memory");
    int fd = mkstemp(p);
    if (fd < 0)
        FAILF("mkstemp %s: %s", p, strerror(errno));
    close(fd);
    return p;
}
