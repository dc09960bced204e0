/* A rank's own kernel objects, used at every round of an MPI program, for the campaign
 * (tests/mpi/ckpt/campaign). A global snapshot once left a rank's eventfd, timerfd, epoll and
 * sockets out of its image as if they were the MPI library's (review12 HIGH-0): the restarted job
 * read EBADF or the new library's object at that number and still exited 0. Here each rank owns:
 *   - a file opened before MPI_Init, one 64-byte record written per round through the
 *     descriptor's offset (checked before each write); read back and checked at the end. It stays
 *     in the working folder (cc_kobj.PID.dat, PID the rank's): a restart, or two from one
 *     snapshot, goes on writing it where the snapshot was;
 *   - an eventfd made before MPI_Init: each round reads the value the round before wrote;
 *   - a socketpair moved to descriptors 150/151 with dup2 (the originals closed): each round
 *     reads the message the round before queued;
 *   - an epoll made after MPI_Init over a second socketpair's reading end and over the eventfd:
 *     both must be reported ready (with their own data) when the round before queued something;
 *   - a timerfd ticking every 2 ms: each round waits for a tick and checks its interval;
 *   - a POSIX timer (SIGEV_SIGNAL, SIGRTMIN+3, its own value) every 2 ms: each round waits for a
 *     new signal from it (counted in the handler) and checks its interval;
 *   - a /dev/shm segment (shm_open, mapped shared, its descriptor kept): each round checks that
 *     the mapping holds what the round before left and that the file, read through the
 *     descriptor, holds the same bytes, then writes the next.
 * Every descriptor's kind is checked each round (/proc/self/fd), so a number that now names
 * another object counts as an error. The values read are mixed into a ring exchange
 * (MPI_Sendrecv) and an MPI_Allreduce each round: a lost or wrong object changes the checksums
 * and `errors`. Timing-dependent values (how many ticks) are checked, never printed.
 * Usage: cc_kobj ROUNDS */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "tests/mpi/ckpt/campaign/cc.h"

#define REC 64
#define TICK_NS 2000000L
#define SIGT (SIGRTMIN + 3)
#define TVAL 0x5eed
#define SHM_SIZE 4096

static volatile sig_atomic_t ticks, bad_ticks;

static void on_timer(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    if (si->si_code != SI_TIMER || si->si_value.sival_int != TVAL)
        bad_ticks++;
    ticks++;
}

/* the kind of object descriptor fd names now ("anon_inode:[eventfd]", "socket", a path) */
static int fd_is(int fd, const char *kind)
{
    char p[64], l[256];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(p, l, sizeof l - 1);
    if (n < 0)
        return 0;
    l[n] = 0;
    return !strncmp(l, kind, strlen(kind));
}

static ssize_t read_again(int fd, void *b, size_t n)
{
    ssize_t r;
    while ((r = read(fd, b, n)) < 0 && errno == EINTR)
        ;
    return r;
}

static void record(char *b, int rank, int r)
{
    memset(b, 0, REC);
    snprintf(b, REC, "rank %d round %d %016llx", rank, r, (unsigned long long)cc_hash(rank, r, 7));
    b[REC - 1] = '\n';
}

int main(int argc, char **argv)
{
    /* before MPI_Init: the rank's output file and an eventfd */
    char fname[64];
    snprintf(fname, sizeof fname, "cc_kobj.%d.dat", (int)getpid());
    int lf = open(fname, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int ev = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    start(&argc, &argv);
    int rounds = argc > 1 ? atoi(argv[1]) : 100;
    if (lf < 0 || ev < 0) {
        fprintf(stderr, "rank %d: cc_kobj: open %s or eventfd: %s\n", me, fname, strerror(errno));
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    int right = (me + 1) % np, left = (me + np - 1) % np;

    /* a socketpair moved with dup2 to 150 (reading) and 151 (writing) */
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) || dup2(sp[0], 150) != 150 ||
        dup2(sp[1], 151) != 151) {
        fprintf(stderr, "rank %d: cc_kobj: socketpair/dup2: %s\n", me, strerror(errno));
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    close(sp[0]);
    close(sp[1]);
    /* an epoll over a second socketpair's reading end (data 1) and the eventfd (data 2) */
    int qp[2], ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, qp)) {
        fprintf(stderr, "rank %d: cc_kobj: epoll/socketpair: %s\n", me, strerror(errno));
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    struct epoll_event e1 = { .events = EPOLLIN, .data.u64 = 1 }, e2 = { .events = EPOLLIN, .data.u64 = 2 };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, qp[0], &e1) || epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e2)) {
        fprintf(stderr, "rank %d: cc_kobj: epoll_ctl: %s\n", me, strerror(errno));
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    /* a timerfd and a POSIX timer, both every 2 ms */
    struct itimerspec its = { .it_interval = { 0, TICK_NS }, .it_value = { 0, TICK_NS } };
    int tf = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    struct sigaction sa = { .sa_sigaction = on_timer, .sa_flags = SA_SIGINFO | SA_RESTART };
    sigemptyset(&sa.sa_mask);
    struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGT,
                            .sigev_value.sival_int = TVAL };
    timer_t pt;
    if (tf < 0 || timerfd_settime(tf, 0, &its, NULL) || sigaction(SIGT, &sa, NULL) ||
        timer_create(CLOCK_MONOTONIC, &sev, &pt) || timer_settime(pt, 0, &its, NULL)) {
        fprintf(stderr, "rank %d: cc_kobj: timers: %s\n", me, strerror(errno));
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    /* a /dev/shm segment, mapped shared, its descriptor kept */
    char sname[64];
    snprintf(sname, sizeof sname, "/cc_kobj.%d", (int)getpid());
    int sh = shm_open(sname, O_RDWR | O_CREAT | O_TRUNC, 0600);
    uint64_t *sm = MAP_FAILED;
    if (sh >= 0 && !ftruncate(sh, SHM_SIZE))
        sm = mmap(NULL, SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, sh, 0);
    if (sm == MAP_FAILED) {
        fprintf(stderr, "rank %d: cc_kobj: shm %s: %s\n", me, sname, strerror(errno));
        MPI_Abort(MPI_COMM_WORLD, 2);
    }

    uint64_t chain = 0;
    long last_ticks = 0;
    for (int r = 0; r < rounds; r++) {
        uint64_t got = 0; /* what this round read from its objects, passed round the ring */
        EXPECT(fd_is(lf, "/") && fd_is(ev, "anon_inode:[eventfd]") && fd_is(150, "socket:") &&
                   fd_is(151, "socket:") && fd_is(ep, "anon_inode:[eventpoll]") && fd_is(qp[0], "socket:") &&
                   fd_is(tf, "anon_inode:[timerfd]") && fd_is(sh, "/dev/shm/cc_kobj."),
               "round %d: a descriptor names another kind of object now", r);
        /* the file: its offset is where the last round left it */
        char rec[REC];
        off_t at = lseek(lf, 0, SEEK_CUR);
        EXPECT(at == (off_t)r * REC, "round %d: the file's offset is %lld", r, (long long)at);
        record(rec, me, r);
        EXPECT(write(lf, rec, REC) == REC, "round %d: write to the file: %s", r, strerror(errno));
        /* the epoll: both ready when the round before queued something, nothing in round 0 */
        struct epoll_event got_ev[4];
        int ne;
        while ((ne = epoll_wait(ep, got_ev, 4, 0)) < 0 && errno == EINTR)
            ;
        uint64_t seen = 0;
        for (int i = 0; i < ne; i++)
            seen |= got_ev[i].data.u64 == 1 || got_ev[i].data.u64 == 2 ? got_ev[i].data.u64 : 8;
        EXPECT(ne == (r ? 2 : 0) && seen == (r ? 3u : 0u), "round %d: epoll_wait: %d ready (%llx)", r, ne,
               (unsigned long long)seen);
        /* the eventfd: the value the round before wrote */
        uint64_t v = 0;
        ssize_t n = read_again(ev, &v, sizeof v);
        if (r == 0)
            EXPECT(n < 0 && errno == EAGAIN, "round 0: eventfd read %zd", n);
        else
            EXPECT(n == 8 && v == cc_hash(me, r - 1, 1) % 100000 + 1, "round %d: eventfd read %zd, %llu", r, n,
                   (unsigned long long)v);
        got += v;
        v = cc_hash(me, r, 1) % 100000 + 1;
        EXPECT(write(ev, &v, sizeof v) == 8, "round %d: eventfd write: %s", r, strerror(errno));
        /* the two socketpairs: the messages the round before queued */
        long m[2] = { -1, -1 }, w;
        if (r > 0) {
            n = recv(150, &m[0], sizeof m[0], MSG_DONTWAIT);
            EXPECT(n == sizeof m[0] && m[0] == (long)cc_hash(me, r - 1, 2), "round %d: fd 150 read %zd, %ld", r, n, m[0]);
            n = recv(qp[0], &m[1], sizeof m[1], MSG_DONTWAIT);
            EXPECT(n == sizeof m[1] && m[1] == (long)cc_hash(me, r - 1, 3), "round %d: epoll'd pair read %zd, %ld", r, n,
                   m[1]);
        }
        got ^= (uint64_t)m[0] ^ ((uint64_t)m[1] << 1);
        w = (long)cc_hash(me, r, 2);
        EXPECT(send(151, &w, sizeof w, MSG_DONTWAIT) == sizeof w, "round %d: fd 151 send: %s", r, strerror(errno));
        w = (long)cc_hash(me, r, 3);
        EXPECT(send(qp[1], &w, sizeof w, MSG_DONTWAIT) == sizeof w, "round %d: pair send: %s", r, strerror(errno));
        /* the /dev/shm segment: what the round before left, in the mapping and in the file */
        uint64_t fb[2] = { 0, 0 };
        EXPECT(sm[0] == (uint64_t)r && sm[1] == chain, "round %d: shm holds %llu %llx", r,
               (unsigned long long)sm[0], (unsigned long long)sm[1]);
        EXPECT(pread(sh, fb, sizeof fb, 0) == sizeof fb && fb[0] == sm[0] && fb[1] == sm[1],
               "round %d: shm file and mapping differ", r);
        got += sm[1];
        chain = cc_hash((long)chain, r, me);
        sm[1] = chain;
        sm[0] = (uint64_t)r + 1;
        /* the timerfd: a tick, at its interval */
        uint64_t t = 0;
        n = read_again(tf, &t, sizeof t);
        struct itimerspec cur;
        EXPECT(n == 8 && t >= 1, "round %d: timerfd read %zd (%s)", r, n, n < 0 ? strerror(errno) : "");
        EXPECT(!timerfd_gettime(tf, &cur) && cur.it_interval.tv_nsec == TICK_NS && cur.it_interval.tv_sec == 0,
               "round %d: timerfd interval", r);
        /* the POSIX timer: a new signal of its own (bounded by sleeps, not by the clock: a restart
         * may come in between) */
        int s;
        for (s = 0; s < 20000 && ticks == last_ticks; s++)
            nanosleep(&(struct timespec){ 0, 500000 }, NULL);
        EXPECT(ticks != last_ticks, "round %d: no signal of the POSIX timer in 20000 sleeps", r);
        last_ticks = ticks;
        EXPECT(!timer_gettime(pt, &cur) && cur.it_interval.tv_nsec == TICK_NS, "round %d: POSIX timer interval", r);
        /* MPI: what was read goes round the ring, and every rank agrees on a sum */
        uint64_t in = 0;
        CHECK(MPI_Sendrecv(&got, 1, MPI_UINT64_T, right, r % 100, &in, 1, MPI_UINT64_T, left, r % 100,
                           MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        mix(&in, sizeof in);
        long one = (long)(got & 0xffff), sum = 0;
        CHECK(MPI_Allreduce(&one, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD));
        mixi(sum);
        if ((r + me) % 5 == 0)
            cc_spin(60);
    }
    EXPECT(!bad_ticks, "%ld signals not from the POSIX timer", (long)bad_ticks);
    report("objects");
    /* the whole file, read back */
    char rec[REC], want[REC];
    for (int r = 0; r < rounds; r++) {
        record(want, me, r);
        EXPECT(pread(lf, rec, REC, (off_t)r * REC) == REC && !memcmp(rec, want, REC), "record %d of %s", r, fname);
        mix(rec, REC);
    }
    EXPECT(lseek(lf, 0, SEEK_END) == (off_t)rounds * REC, "%s is not %d records long", fname, rounds);
    report("file");
    timer_delete(pt);
    munmap(sm, SHM_SIZE);
    shm_unlink(sname);
    cc_finish();
    MPI_Finalize();
    return 0;
}
