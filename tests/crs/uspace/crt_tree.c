/*
 * State test: process trees (issue 10, points 1 and 2), checkpointed with
 * cr_checkpoint --tree. Only the first process prints; its children answer
 * through pipes. CRT_TREE picks the kind:
 *   children  two running children, each serving requests over a pipe of its
 *             own and answering over one pipe both share; a third pipe holds
 *             bytes no one has read at the checkpoint; at the end each child
 *             exits with its own status, which waitpid must give
 *   zombie    a child that exited 7 and one killed by SIGTERM (or the
 *             signal CRT_ZOMBIE_SIG names), not reaped
 *             before the checkpoint: waitpid gives both statuses after it;
 *             each named itself (PR_SET_NAME) first, and /proc/PID/comm of
 *             the zombie still gives that name (not the restarter's)
 *   sharedfd  parent and child write in turn through one open file (the
 *             same offset): the lines must follow each other, none lost
 *   deleted   sharedfd's, with the file deleted while open (one open file
 *             of a file that has no name: made again once, with its bytes)
 *   daemon    a child that left for a session of its own (setsid), with a
 *             child of its own in that session; both stay there, the first
 *             leading it, with no controlling terminal
 *   pgrp      the program leads a process group of its own; its first child
 *             leads another, which the second child joined
 *   procfd    the program holds its child's /proc/PID/status and /proc/PID
 *             folder, the child its parent's /proc/PID/stat and its younger
 *             sibling's (made after it at a restart): each names the member
 *             it named before, after a restart too
 *   procout   the program holds its parent's /proc/PID/stat (a process
 *             outside every scope: refused, or closed with --ignore-fds)
 *   orphan    a grandchild orphaned after point 1 (its parent ends) outlives
 *             the program: it appends a line to crt_tree.orphan once the
 *             program has ended and $REVIVE_TEST_GO.orphan exists
 *   widow     the popen pattern once the child has ended: a child wrote 2000
 *             bytes into a pipe and ended (reaped before point 1), so its
 *             write end is closed everywhere; the program and a running
 *             child hold the read end (one open file): the child reads the
 *             first 500 bytes after point 1, the program the rest, then end
 *             of file; and a pipe whose only reader (a child) has ended: a
 *             write fails with EPIPE
 *   deletedmap  the program maps a file deleted while open and holds it
 *             open; a child holds it open too (one open file, no mapping),
 *             another maps it (no descriptor): after point 1 each child
 *             writes a byte (through its descriptor, through its mapping),
 *             which the program must see in its mapping and read through
 *             its descriptor: one file again after a restart
 *   sidheld   the program leads its session and group; a grandchild,
 *             orphaned before point 1 (its parent ends), stays in both
 *             and outlives the program, so the program's pid is still the
 *             id of a session and group when a restart wants it back (as
 *             root the restart must take a pid namespace then, as when the
 *             pid itself is taken); the grandchild ends once the program
 *             has ended (crt_tree.sidheld.done in the working folder) or
 *             its folder is gone
 *   shm       parent and child share MAP_SHARED|MAP_ANONYMOUS memory: each
 *             writes to it before point 1 and after, and sees the other's
 *             writes (one memory again after a restart)
 *   devshm    shm's in a /dev/shm object (shm_open /crt_tree.PID), removed
 *             at the end; restarted beside the running original (busy) the
 *             tree gets a /dev/shm of its own, its members still sharing it
 *   hugeshm   shm's on 2 MiB huge pages (MAP_HUGETLB), 4 MiB: each writes
 *             to both huge pages before point 1 and after, and sees the
 *             other's writes; the memory stays on 2 MiB pages (the machine
 *             must have huge pages free: crs_tree_huge.sh reserves them)
 *   memfd     parent and child share a memfd: both hold it open (one open
 *             file), map different parts of it, write through mappings and
 *             descriptors after point 1 and see each other's writes; bytes
 *             no one maps, seals and the shared offset come back
 *   sysv      parent and child share System V shared memory: a segment
 *             attached before the fork and marked removed, and a keyed one
 *             each attaches on its own (the child SHM_RDONLY); each writes
 *             before point 1 and after, and sees the other's writes (one
 *             segment again after a restart)
 *   sysvipc   parent and child each have a System V semaphore set and a
 *             message queue of their own, made after the fork, with a
 *             SEM_UNDO adjustment and a message each: after point 1 each
 *             finds its values and message; the child's adjustment is
 *             seen in its set's value once it has ended (the kernel gives it
 *             back then). With CRT_SYSVIPC_SHARED=1 the child also waits on
 *             a semaphore of the program's set (a set both use): a tree's
 *             checkpoint refuses it naming the set (crs_tree_ckpt.sh)
 *   vfork     at point 1 the program is in vfork: its child, sharing its
 *             memory, writes the program's pid as ready.1 and waits for
 *             go.1 before it ends (as a vfork child that has not exec'd
 *             yet): a tree's checkpoint refuses it naming the vfork
 *             (crs_tree_ckpt.sh)
 *   threadpidfd  the program's child holds a pidfd of a thread of the program
 *             (pidfd_open with PIDFD_THREAD, Linux 6.9): a tree's checkpoint
 *             refuses it naming the thread and the program
 *             (crs_tree_ckpt.sh)
 *   sem       a POSIX named semaphore (sem_open, unlinked) the program and its
 *             child share: the child posts it after point 1, the program
 *             waits for it (a semaphore of its own would never be posted)
 *   sockets   a socket joins the program and its child (CRT_SOCKETS: pair,
 *             tcp, shared): a tree's checkpoint refuses it naming the child;
 *             scmdgram, scmseqpacket: the child sends an empty message
 *             carrying a descriptor over a socketpair, which a tree's
 *             checkpoint refuses as a descriptor in flight
 *   group, session  children's kind in a process group (setpgid) or session
 *             (setsid) the program leads, for cr_checkpoint --pgid / --sid
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <sys/wait.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

static int read_full(int fd, void *p, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)p + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

static int write_full(int fd, const void *p, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, (const char *)p + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

static pid_t wait_for(pid_t pid, int *st)
{
    pid_t r;
    while ((r = waitpid(pid, st, 0)) < 0 && errno == EINTR)
        ;
    return r;
}

static void check_status(const char *name, pid_t pid, int want)
{
    int st = 0;
    pid_t r = wait_for(pid, &st);
    crt_check(name, r == pid && st == want, "waitpid: %s, status 0x%x (expected 0x%x)",
              r == pid ? "ok" : strerror(errno), (unsigned)st, (unsigned)want);
}

/* ---- children: request/answer over pipes ---- */

struct req { uint64_t x; uint32_t child, quit; };
struct ans { uint64_t y; uint32_t child, pad; };

static void __attribute__((noreturn)) serve(int id, int in, int out, int extra)
{
    for (;;) {
        struct req q;
        if (read_full(in, &q, sizeof q))
            _exit(90);
        if (q.quit)
            _exit(10 + id);
        struct ans a = { crt_mix(q.x + (uint64_t)id), (uint32_t)id, 0 };
        if (q.x == 999 && extra >= 0) {   /* the bytes left in the third pipe */
            unsigned char buf[3000];
            if (read_full(extra, buf, sizeof buf))
                _exit(91);
            a.y ^= crt_hash(buf, sizeof buf, 5);
        }
        if (write_full(out, &a, sizeof a))
            _exit(92);
    }
}

/* The program's parent is one it sees (getppid() 0 is a parent outside its pid namespace: right
 * only for the namespace's init, pid 1) and whose /proc entry it reads; each child's parent, by
 * /proc, is the program. */
static void parents_check(const char *when, const pid_t *kid, int nkids)
{
    char path[64], buf[1024], name[96];
    pid_t pp = getppid();
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pp);
    snprintf(name, sizeof name, "the program's parent is one it sees %s", when);
    /* (0: a parent outside its pid namespace, right only for that namespace's init) */
    crt_check(name, (pp > 0 && access(path, R_OK) == 0) || (pp == 0 && getpid() == 1), "getppid %d", (int)pp);
    for (int i = 0; i < nkids; i++) {
        snprintf(path, sizeof path, "/proc/%d/stat", (int)kid[i]);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        if (fd >= 0)
            close(fd);
        buf[n > 0 ? n : 0] = 0;
        const char *rp = strrchr(buf, ')');
        int ppid = -1;
        if (rp)
            sscanf(rp + 1, " %*c %d", &ppid);
        snprintf(name, sizeof name, "child %d's parent is the program %s", i, when);
        crt_check(name, ppid == (int)getpid(), "its parent %d, the program %d", ppid, (int)getpid());
    }
}

static void mode_children(void)
{
    int req[2][2], ans[2], extra[2];
    if (pipe(req[0]) || pipe(req[1]) || pipe(ans) || pipe(extra))
        crt_die("pipe: %s", strerror(errno));
    pid_t kid[2];
    for (int i = 0; i < 2; i++) {
        kid[i] = fork();
        if (kid[i] < 0)
            crt_die("fork: %s", strerror(errno));
        if (kid[i] == 0) {
            for (int j = 0; j < i; j++)
                close(req[j][1]);   /* a child ends when the program's end of its pipe closes */
            close(req[i][1]);
            close(ans[0]);
            close(extra[1]);
            serve(i, req[i][0], ans[1], i == 0 ? extra[0] : -1);
        }
        close(req[i][0]);
    }
    close(ans[1]);
    close(extra[0]);
    unsigned char buf[3000];
    crt_fill(buf, sizeof buf, 77);
    if (write_full(extra[1], buf, sizeof buf))   /* read by child 0 after point 1 */
        crt_die("write: %s", strerror(errno));
    uint64_t sum = 0;
    for (int round = 0; round < 3; round++) {
        if (round == 1)
            crt_checkpoint_point(1);
        if (round == 2)
            crt_checkpoint_point(2);
        parents_check(round == 0 ? "at start" : round == 1 ? "after point 1" : "after point 2", kid, 2);
        for (int i = 0; i < 2; i++) {
            struct req q = { round == 1 && i == 0 ? 999 : (uint64_t)(round * 10 + i), (uint32_t)i, 0 };
            struct ans a;
            if (write_full(req[i][1], &q, sizeof q) || read_full(ans[0], &a, sizeof a)) {
                crt_fail("child answers", "round %d child %d: %s", round, i, strerror(errno));
                continue;
            }
            sum = crt_mix(sum ^ a.y);
            crt_say("round %d: child %d answered %016llx", round, (int)a.child, (unsigned long long)a.y);
        }
    }
    crt_say("answers sum %016llx", (unsigned long long)sum);
    for (int i = 0; i < 2; i++) {
        struct req q = { 0, (uint32_t)i, 1 };
        if (write_full(req[i][1], &q, sizeof q))
            crt_fail("quit", "child %d: %s", i, strerror(errno));
    }
    check_status("child 0 exits 10, and waitpid says so", kid[0], 10 << 8);
    check_status("child 1 exits 11, and waitpid says so", kid[1], 11 << 8);
    int st;
    crt_check("no other child", waitpid(-1, &st, WNOHANG) < 0 && errno == ECHILD, "waitpid(-1): %s",
              strerror(errno));
}

/* ---- zombies ---- */

static int is_zombie(pid_t pid)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

/* the name /proc/PID/comm gives (what ps shows), or "" */
static void comm_of(pid_t pid, char *out, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    out[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (!fgets(out, (int)cap, f))
        out[0] = 0;
    fclose(f);
    out[strcspn(out, "\n")] = 0;
}

static void check_comm(pid_t pid, const char *want)
{
    char got[32], name[96];
    comm_of(pid, got, sizeof got);
    snprintf(name, sizeof name, "the zombie keeps its name %s", want);
    crt_check(name, !strcmp(got, want), "/proc/%d/comm is '%s'", (int)pid, got);
}

static void mode_zombie(void)
{
    pid_t a = fork();
    if (a == 0) {
        prctl(PR_SET_NAME, (unsigned long)"crt_zombie_7", 0, 0, 0);
        _exit(7);
    }
    /* CRT_ZOMBIE_SIG: the signal the second child dies of (SIGTERM);
     * Revive's park signal stands for a park signal that reached a program
     * without libcr's handler: set back by the raw call, which libcr's
     * sigaction guard does not see (crs_tree_ckpt.sh: refused) */
    int sig = (int)crt_env_long("CRT_ZOMBIE_SIG", SIGTERM);
    pid_t b = fork();
    if (b == 0) {
        prctl(PR_SET_NAME, (unsigned long)"crt_zombie_term", 0, 0, 0);
        struct { void *handler; unsigned long flags; void *restorer; uint64_t mask; } dfl = { SIG_DFL, 0, NULL, 0 };
        syscall(SYS_rt_sigaction, sig, &dfl, NULL, 8);
        raise(sig);
        _exit(99);
    }
    if (a < 0 || b < 0)
        crt_die("fork: %s", strerror(errno));
    for (int i = 0; i < 60000 && !(is_zombie(a) && is_zombie(b)); i++)
        crt_sleep_ms(1);
    crt_check("both children have ended (zombies)", is_zombie(a) && is_zombie(b), "not yet");
    crt_checkpoint_point(1);
    crt_check("the zombies are still there", is_zombie(a) && is_zombie(b), "a %d, b %d", is_zombie(a),
              is_zombie(b));
    check_comm(a, "crt_zombie_7");
    check_comm(b, "crt_zombie_term");
    check_status("the child that exited 7: waitpid says so", a, 7 << 8);
    crt_checkpoint_point(2);
    check_status(sig == SIGTERM ? "the child killed by SIGTERM: waitpid says so" : "the child killed by its signal: "
                 "waitpid says so", b, sig);
}

/* ---- one open file shared by parent and child ---- */

static void mode_sharedfd(int deleted)
{
    /* in the flavour's folder; kept at the end, so that a restart after the
     * original finished (cont) finds it and writes the same lines again
     * (deleted: removed at once, so the file lives through the descriptor
     * only, and its bytes go into the tree's file) */
    int fd = open(deleted ? "crt_tree.deleted" : "crt_tree.shared", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || (deleted && unlink("crt_tree.deleted") != 0))
        crt_die("open: %s", strerror(errno));
    int turn[2][2];
    if (pipe(turn[0]) || pipe(turn[1]))
        crt_die("pipe: %s", strerror(errno));
    pid_t kid = fork();
    if (kid == 0) {
        close(turn[0][1]), close(turn[1][0]);
        for (int i = 0;; i++) {
            char c;
            if (read_full(turn[0][0], &c, 1))
                _exit(90);
            if (c == 'q')
                _exit(0);
            char line[64];
            int n = snprintf(line, sizeof line, "child line %d\n", i);
            if (write_full(fd, line, (size_t)n) || write_full(turn[1][1], "k", 1))
                _exit(91);
        }
    }
    if (kid < 0)
        crt_die("fork: %s", strerror(errno));
    for (int i = 0; i < 6; i++) {
        if (i == 2)
            crt_checkpoint_point(1);
        if (i == 4)
            crt_checkpoint_point(2);
        char line[64], c;
        int n = snprintf(line, sizeof line, "parent line %d\n", i);
        if (write_full(fd, line, (size_t)n) || write_full(turn[0][1], "g", 1) || read_full(turn[1][0], &c, 1))
            crt_fail("turn", "%d: %s", i, strerror(errno));
    }
    if (write_full(turn[0][1], "q", 1))
        crt_fail("quit", "%s", strerror(errno));
    check_status("the child ends well", kid, 0);
    off_t end = lseek(fd, 0, SEEK_CUR);
    char buf[1024];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = 0;
    char want[1024] = "";
    for (int i = 0; i < 6; i++) {
        size_t l = strlen(want);
        snprintf(want + l, sizeof want - l, "parent line %d\nchild line %d\n", i, i);
    }
    crt_check("the lines of both follow each other in the file", !strcmp(buf, want), "the file holds '%s'", buf);
    crt_check("the offset they share is at the end", end == (off_t)strlen(want), "offset %lld, expected %zu",
              (long long)end, strlen(want));
    crt_say("shared file: %zd bytes, hash %016llx", n, (unsigned long long)crt_hash(buf, n > 0 ? (size_t)n : 0, 1));
}

/* ---- sessions and groups among the members ---- */

/* A child reports facts about itself on request: sid, pgid, whether it has
 * a controlling terminal. */
struct facts { int32_t pid, sid, pgid, tty; };

static void __attribute__((noreturn)) reporter(int in, int out)
{
    for (;;) {
        char c;
        if (read_full(in, &c, 1))
            _exit(90);
        if (c == 'q')
            _exit(0);
        int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
        struct facts f = { getpid(), getsid(0), getpgrp(), fd >= 0 };
        if (fd >= 0)
            close(fd);
        if (write_full(out, &f, sizeof f))
            _exit(91);
    }
}

static struct facts ask(int to, int from)
{
    struct facts f = { -1, -1, -1, -1 };
    if (write_full(to, "?", 1) || read_full(from, &f, sizeof f))
        crt_fail("a member answers", "%s", strerror(errno));
    return f;
}

static void mode_daemon(void)
{
    /* child d: setsid, then its own child g in d's session; both report
     * through pipes the parent holds */
    int q[2][2], a[2][2];
    if (pipe(q[0]) || pipe(q[1]) || pipe(a[0]) || pipe(a[1]))
        crt_die("pipe: %s", strerror(errno));
    pid_t d = fork();
    if (d == 0) {
        /* each keeps only its own ends: it ends when the program's close */
        close(q[0][1]), close(q[1][1]), close(a[0][0]), close(a[1][0]);
        if (setsid() < 0)
            _exit(95);
        pid_t g = fork();
        if (g == 0) {
            close(q[0][0]), close(a[0][1]);
            reporter(q[1][0], a[1][1]);
        }
        close(q[1][0]), close(a[1][1]);
        if (g < 0)
            _exit(96);
        /* d reports until told to quit, then reaps g */
        for (;;) {
            char c;
            if (read_full(q[0][0], &c, 1))
                _exit(90);
            if (c == 'q') {
                int st;
                _exit(wait_for(g, &st) == g && st == 0 ? 0 : 97);
            }
            int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
            struct facts f = { getpid(), getsid(0), getpgrp(), fd >= 0 };
            if (fd >= 0)
                close(fd);
            if (write_full(a[0][1], &f, sizeof f))
                _exit(91);
        }
    }
    if (d < 0)
        crt_die("fork: %s", strerror(errno));
    pid_t me_sid = getsid(0);
    for (int p = 0; p < 3; p++) {
        if (p)
            crt_checkpoint_point(p);
        struct facts fd = ask(q[0][1], a[0][0]), fg = ask(q[1][1], a[1][0]);
        char name[160];
        snprintf(name, sizeof name, "the daemon leads its own session and group (%s)", p ? "after a point" : "at start");
        crt_check(name, fd.sid == fd.pid && fd.pgid == fd.pid && fd.sid != getsid(0), "pid %d sid %d pgid %d",
                  fd.pid, fd.sid, fd.pgid);
        snprintf(name, sizeof name, "its child is in its session and group (%d)", p);
        crt_check(name, fg.sid == fd.pid && fg.pgid == fd.pid && fg.pid != fd.pid, "pid %d sid %d pgid %d",
                  fg.pid, fg.sid, fg.pgid);
        snprintf(name, sizeof name, "neither has a controlling terminal (%d)", p);
        crt_check(name, !fd.tty && !fg.tty, "daemon %d, its child %d", fd.tty, fg.tty);
        snprintf(name, sizeof name, "the program stays in its session (%d)", p);
        crt_check(name, getsid(0) == me_sid || p, "sid %d", (int)getsid(0));
    }
    if (write_full(q[1][1], "q", 1) || write_full(q[0][1], "q", 1))
        crt_fail("quit", "%s", strerror(errno));
    check_status("the daemon ends well, having reaped its child", d, 0);
}

static void mode_pgrp(void)
{
    if (setpgid(0, 0) != 0)
        crt_die("setpgid: %s", strerror(errno));
    int q[2][2], a[2][2];
    if (pipe(q[0]) || pipe(q[1]) || pipe(a[0]) || pipe(a[1]))
        crt_die("pipe: %s", strerror(errno));
    pid_t k[2];
    for (int i = 0; i < 2; i++) {
        k[i] = fork();
        if (k[i] == 0) {
            for (int j = 0; j < 2; j++)
                close(q[j][1]), close(a[j][0]);
            if (setpgid(0, i == 0 ? 0 : k[0]) != 0)
                _exit(95);
            reporter(q[i][0], a[i][1]);
        }
        if (k[i] < 0)
            crt_die("fork: %s", strerror(errno));
        setpgid(k[i], i == 0 ? k[i] : k[0]);   /* as a shell does too, against the race */
    }
    for (int p = 0; p < 3; p++) {
        if (p)
            crt_checkpoint_point(p);
        struct facts f0 = ask(q[0][1], a[0][0]), f1 = ask(q[1][1], a[1][0]);
        char name[160];
        snprintf(name, sizeof name, "the program leads its own group (%d)", p);
        crt_check(name, getpgrp() == getpid(), "pgid %d, pid %d", (int)getpgrp(), (int)getpid());
        snprintf(name, sizeof name, "the first child leads another group (%d)", p);
        crt_check(name, f0.pgid == f0.pid && f0.pid != getpid(), "pid %d pgid %d", f0.pid, f0.pgid);
        snprintf(name, sizeof name, "the second child is in the first child's group (%d)", p);
        crt_check(name, f1.pgid == f0.pid, "pgid %d, expected %d", f1.pgid, f0.pid);
        snprintf(name, sizeof name, "all three in one session (%d)", p);
        crt_check(name, f0.sid == getsid(0) && f1.sid == getsid(0), "sids %d %d %d", f0.sid, f1.sid,
                  (int)getsid(0));
    }
    if (write_full(q[0][1], "q", 1) || write_full(q[1][1], "q", 1))
        crt_fail("quit", "%s", strerror(errno));
    check_status("the first child ends well", k[0], 0);
    check_status("the second child ends well", k[1], 0);
}

/* ---- memory shared by parent and child ---- */

static void wait_byte(int fd)
{
    char c;
    while (read(fd, &c, 1) < 0 && errno == EINTR)
        ;
}

/* Memory the program and its child share (modes shm, hugeshm, sysv): a is
 * there before the fork; b is a second place, either another page of a's
 * mapping or memory each attaches after the fork (the child read-only). */
struct shared_mem {
    volatile uint64_t *a, *b;
    /* NULL, or attaches b after the fork (child: read-only); NULL on failure */
    volatile uint64_t *(*attach)(int child);
    long page_kb;         /* 0, or the page size (KiB) the memory must keep */
    void (*finish)(void); /* NULL, or the mode's own last checks */
};

/* The shared-memory modes' run: the program writes to a (and b when it is
 * there) before the fork, the child to a (and b when it may) before point
 * 1, the program to both after point 1; the child checks those writes and
 * writes again. Each must see the other's writes: one memory after a
 * restart, on pages of the same size. */
static void mode_shared(const struct shared_mem *m)
{
    volatile uint64_t *a = m->a, *b = m->b;
    int go[2], ready[2];
    if (pipe(go) || pipe(ready))
        crt_die("pipe: %s", strerror(errno));
    a[0] = 11;
    if (b)
        b[0] = 22;
    pid_t kid = fork();
    if (kid == 0) {
        close(go[1]);
        close(ready[0]);
        if (m->attach && !(b = m->attach(1)))
            _exit(2);
        a[1] = 33;
        if (!m->attach)
            b[1] = 34;
        if (write(ready[1], "r", 1) != 1)
            _exit(2);
        wait_byte(go[0]);
        int code = a[2] == 77 && b[2] == 78 && (!m->page_kb || crt_page_kb((const void *)a) == m->page_kb) ? 0 : 3;
        a[3] = 4242;
        if (!m->attach)
            b[3] = 4343;
        _exit(code);
    }
    close(go[0]);
    close(ready[1]);
    if (m->attach && !(b = m->attach(0)))
        crt_die("shmat: %s", strerror(errno));
    wait_byte(ready[0]);
    crt_checkpoint_point(1);
    a[2] = 77;
    b[2] = 78;
    if (write(go[1], "g", 1) != 1)
        crt_fail("the child's pipe", "%s", strerror(errno));
    check_status("the child ends well (it saw the program's writes after point 1)", kid, 0);
    CRT_CHECK_U64("the program's write before the fork", a[0], 11);
    CRT_CHECK_U64("the child's write before point 1", a[1], 33);
    CRT_CHECK_U64("the child's write after point 1 is seen through the shared memory", a[3], 4242);
    if (!m->attach) {
        CRT_CHECK_U64("the program's write to the second page", b[0], 22);
        CRT_CHECK_U64("the child's writes to the second page", b[1] * 10000 + b[3], 344343);
    }
    if (m->page_kb)
        CRT_CHECK_U64("the memory's page size (KiB)", (uint64_t)crt_page_kb((const void *)a), (uint64_t)m->page_kb);
    if (m->finish)
        m->finish();
    crt_checkpoint_point(2);
}

/* MAP_SHARED|MAP_ANONYMOUS memory mapped before the fork, two pages. */
static void mode_shm(void)
{
    volatile uint64_t *sh = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        crt_die("mmap: %s", strerror(errno));
    mode_shared(&(struct shared_mem){ .a = sh, .b = sh + 4096 / sizeof *sh });
}

/* mode_shm's in a POSIX shared memory object (/dev/shm/crt_tree.PID, shm_open): its bytes in
 * the image; a restart beside the running original (busy) must give the tree a /dev/shm of its
 * own, one for every member, so that the copies count apart and the members still share
 * (newuser10 M5: refused). The object is removed at the end. */
static char devshm_name[64];
static void devshm_unlink(void)
{
    shm_unlink(devshm_name);
}

static void mode_devshm(void)
{
    snprintf(devshm_name, sizeof devshm_name, "/crt_tree.%d", (int)getpid());
    int fd = shm_open(devshm_name, O_CREAT | O_RDWR, 0600);
    if (fd < 0 || ftruncate(fd, 8192) != 0)
        crt_die("shm_open %s: %s", devshm_name, strerror(errno));
    volatile uint64_t *sh = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (sh == MAP_FAILED)
        crt_die("mmap: %s", strerror(errno));
    close(fd);
    mode_shared(&(struct shared_mem){ .a = sh, .b = sh + 4096 / sizeof *sh, .finish = devshm_unlink });
}

/* mode_shm's on huge pages: MAP_SHARED|MAP_ANONYMOUS|MAP_HUGETLB memory,
 * two 2 MiB pages, on 2 MiB pages still after a restart. */
static void mode_hugeshm(void)
{
    const size_t len = 4u << 20;
    volatile uint64_t *sh = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
    if (sh == MAP_FAILED)
        crt_die("mmap MAP_HUGETLB (are huge pages free? vm.nr_hugepages): %s", strerror(errno));
    mode_shared(&(struct shared_mem){ .a = sh, .b = sh + (len / 2) / sizeof *sh, .page_kb = 2048 });
}

/* A memfd: the program maps its first two pages, a child its second page
 * only; both hold it open (one open file: one offset); its third page,
 * which no one maps, holds bytes written with pwrite; sealed against
 * shrinking and growing. After point 1 each writes through its mapping and
 * its descriptor, and each must see the other's writes. */
static void mode_memfd(void)
{
    const long pg = 4096;
    int fd = memfd_create("crt-tree", MFD_ALLOW_SEALING);
    if (fd < 0 || ftruncate(fd, 3 * pg) != 0 || pwrite(fd, "written", 7, 2 * pg + 10) != 7)
        crt_die("memfd: %s", strerror(errno));
    volatile char *p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int go[2], ready[2];
    if (p == MAP_FAILED || pipe(go) || pipe(ready))
        crt_die("mmap or pipe: %s", strerror(errno));
    p[0] = 5;
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0 || lseek(fd, 100, SEEK_SET) != 100)
        crt_die("seals: %s", strerror(errno));
    pid_t kid = fork();
    if (kid == 0) {
        close(go[1]);
        close(ready[0]);
        munmap((void *)p, 2 * pg);
        volatile char *q = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, pg);
        if (q == MAP_FAILED)
            _exit(2);
        q[1] = 6;
        if (write(ready[1], "r", 1) != 1)
            _exit(2);
        wait_byte(go[0]);
        int code = q[2] == 8 ? 0 : 3;   /* the program's write after point 1 */
        if (write(fd, "abc", 3) != 3 || pwrite(fd, "Z", 1, 2 * pg + 20) != 1)
            code = 4;
        q[3] = 9;
        _exit(code);
    }
    close(go[0]);
    close(ready[1]);
    wait_byte(ready[0]);
    crt_checkpoint_point(1);
    p[pg + 2] = 8;
    if (write(go[1], "g", 1) != 1)
        crt_fail("the child's pipe", "%s", strerror(errno));
    check_status("the child ends well (it saw the program's write after point 1)", kid, 0);
    CRT_CHECK_U64("the program's write before point 1", p[0], 5);
    CRT_CHECK_U64("the child's write through its mapping before point 1", p[pg + 1], 6);
    CRT_CHECK_U64("the child's write through its mapping after point 1", p[pg + 3], 9);
    char b[8] = { 0 };
    crt_check("the child's write(2) went where the shared offset was",
              lseek(fd, 0, SEEK_CUR) == 103 && pread(fd, b, 3, 100) == 3 && !memcmp(b, "abc", 3), "offset %lld, '%.3s'",
              (long long)lseek(fd, 0, SEEK_CUR), b);
    crt_check("the bytes no one maps", pread(fd, b, 7, 2 * pg + 10) == 7 && !memcmp(b, "written", 7), "'%.7s'", b);
    crt_check("the child's pwrite to the page no one maps", pread(fd, b, 1, 2 * pg + 20) == 1 && b[0] == 'Z',
              "'%c'", b[0]);
    CRT_CHECK_U64("the seals", (uint64_t)fcntl(fd, F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_GROW);
    crt_check("the memfd cannot grow", ftruncate(fd, 4 * pg) != 0 && errno == EPERM, "%s", strerror(errno));
    crt_checkpoint_point(2);
}

/* mode_sysv's keyed segment (its key holds the pid: crs_tree_ckpt.sh finds
 * it by that). */
static key_t sysv_key;

static volatile uint64_t *sysv_attach(int child)
{
    void *k = shmat(shmget(sysv_key, 0, 0), NULL, child ? SHM_RDONLY : 0);
    return k == (void *)-1 ? NULL : (volatile uint64_t *)k + 4096 / sizeof(uint64_t);
}

static void sysv_finish(void)
{
    struct shmid_ds ds;
    crt_check("the keyed segment: found by its key, attached once now", shmctl(shmget(sysv_key, 0, 0), IPC_STAT, &ds) == 0 &&
              ds.shm_nattch == 1 && ds.shm_segsz == 8192, "%s", strerror(errno));
    shmctl(shmget(sysv_key, 0, 0), IPC_RMID, NULL);
}

/* System V shared memory parent and child share: one segment attached
 * before the fork and marked removed at once (as most programs do: nothing
 * is left when they end), one under a key each attaches after the fork (the
 * child read-only), written in its second page. One segment again after a
 * restart. */
static void mode_sysv(void)
{
    int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    volatile uint64_t *sh = id >= 0 ? shmat(id, NULL, 0) : (void *)-1;
    sysv_key = (key_t)(0x52570000u | ((unsigned)getpid() & 0xffffu));
    if (sh == (void *)-1 || shmget(sysv_key, 8192, IPC_CREAT | IPC_EXCL | 0600) < 0 || shmctl(id, IPC_RMID, NULL) != 0)
        crt_die("shmget: %s", strerror(errno));
    mode_shared(&(struct shared_mem){ .a = sh, .attach = sysv_attach, .finish = sysv_finish });
}

/* One set of n semaphores at value v, one SEM_UNDO operation of d on its
 * semaphore 0, and a queue holding `text` as a message of type 5. */
static void sysvipc_own(int *set, int *queue, int n, int v, int d, const char *text)
{
    struct crt_msg m = { 5, { 0 } };
    struct sembuf b = { 0, (short)d, SEM_UNDO };
    snprintf(m.text, sizeof m.text, "%s", text);
    *set = semget(IPC_PRIVATE, n, IPC_CREAT | 0600);
    *queue = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (*set < 0 || *queue < 0 || semctl(*set, 0, SETVAL, v) != 0 || semop(*set, &b, 1) != 0 ||
        msgsnd(*queue, &m, strlen(m.text) + 1, 0) != 0)
        crt_die("semget, msgget, semop or msgsnd: %s", strerror(errno));
}

/* Its value, and its message is still there (taken and sent again). */
static int sysvipc_same(int set, int queue, int v, const char *text)
{
    struct crt_msg m;
    ssize_t l = msgrcv(queue, &m, sizeof m.text, 0, IPC_NOWAIT);
    int ok = semctl(set, 0, GETVAL) == v && l == (ssize_t)strlen(text) + 1 && m.type == 5 && !strcmp(m.text, text);
    if (l >= 0)
        msgsnd(queue, &m, (size_t)l, 0);
    return ok;
}

/* System V semaphores and queues of each member's own (see the top). */
static void mode_sysvipc(void)
{
    int shared = getenv("CRT_SYSVIPC_SHARED") && *getenv("CRT_SYSVIPC_SHARED") == '1';
    int set, queue, go[2], ready[2];
    sysvipc_own(&set, &queue, 2, 5, -1, "parent");   /* 4, the adjustment +1 */
    if (pipe(go) || pipe(ready))
        crt_die("pipe: %s", strerror(errno));
    pid_t kid = fork();
    if (kid == 0) {
        close(go[1]);
        close(ready[0]);
        int kset, kqueue, ids[2];
        sysvipc_own(&kset, &kqueue, 1, 3, 2, "child");   /* 5, the adjustment -2 */
        struct sembuf zero = { 1, 0, 0 };   /* the program's semaphore 1 is 0: no wait */
        if (shared && semop(set, &zero, 1) != 0)
            _exit(2);
        ids[0] = kset, ids[1] = kqueue;
        if (write(ready[1], ids, sizeof ids) != (ssize_t)sizeof ids)
            _exit(2);
        wait_byte(go[0]);
        _exit(sysvipc_same(kset, kqueue, 5, "child") ? 0 : 3);
    }
    close(go[0]);
    close(ready[1]);
    int ids[2];
    ssize_t n;
    while ((n = read(ready[0], ids, sizeof ids)) < 0 && errno == EINTR)
        ;
    if (n != (ssize_t)sizeof ids)
        crt_die("the child's ids");
    crt_checkpoint_point(1);
    crt_check("the program's set and queue: its value and message", sysvipc_same(set, queue, 4, "parent"), "%d",
              semctl(set, 0, GETVAL));
    if (write(go[1], "g", 1) != 1)
        crt_fail("the child's pipe", "%s", strerror(errno));
    check_status("the child ends well (its set's value, its message)", kid, 0);
    CRT_CHECK_U64("the child's adjustment given back when it ended (5 - 2)", (uint64_t)semctl(ids[0], 0, GETVAL), 3);
    semctl(set, 0, IPC_RMID);
    semctl(ids[0], 0, IPC_RMID);
    msgctl(queue, IPC_RMID, NULL);
    msgctl(ids[1], IPC_RMID, NULL);
    crt_checkpoint_point(2);
}

static void sockets_scm(int type);

/* A socket joining the program and its child (CRT_SOCKETS: "pair", a
 * socketpair, one end each; "tcp", a loopback connection, one end each;
 * "shared", a socketpair both keep after the fork; "scmdgram",
 * "scmseqpacket": sockets_scm). A tree's checkpoint refuses tcp naming the
 * child; with --ignore-fds each member's socket is recorded closed, and the
 * original goes on using it. */
static void mode_sockets(void)
{
    const char *k = getenv("CRT_SOCKETS");
    k = k && *k ? k : "pair";
    if (!strcmp(k, "scmdgram") || !strcmp(k, "scmseqpacket")) {
        sockets_scm(!strcmp(k, "scmdgram") ? SOCK_DGRAM : SOCK_SEQPACKET);
        return;
    }
    int sv[2];
    if (!strcmp(k, "tcp")) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t al = sizeof a;
        int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1) || getsockname(l, (struct sockaddr *)&a, &al))
            crt_die("listen: %s", strerror(errno));
        sv[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (sv[0] < 0 || connect(sv[0], (struct sockaddr *)&a, sizeof a) || (sv[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0)
            crt_die("connect: %s", strerror(errno));
        close(l);
    } else if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
        crt_die("socketpair: %s", strerror(errno));
    }
    int shared = !strcmp(k, "shared");
    pid_t kid = fork();
    if (kid == 0) {   /* answers one byte with its successor, then ends */
        if (!shared)
            close(sv[0]);
        char c;
        while (read(sv[1], &c, 1) < 0 && errno == EINTR)
            ;
        c++;
        _exit(write(sv[1], &c, 1) == 1 ? 0 : 1);
    }
    if (!shared)
        close(sv[1]);
    crt_checkpoint_point(1);
    char c = 'a';
    if (write(sv[0], &c, 1) != 1)
        crt_fail("the socket to the child", "%s", strerror(errno));
    ssize_t n;
    do
        n = read(sv[0], &c, 1);
    while (n < 0 && errno == EINTR);
    check_status("the child ends well", kid, 0);
    crt_check("the child answered over the socket", n == 1 && c == 'b', "read %zd, '%c'", n, c);
    crt_checkpoint_point(2);
}

/* An empty message carrying a descriptor (the child's /dev/null) queued
 * for the program on a socketpair of the type given, at point 1 (diffrev22
 * M2: the tree's checkpoint peeked the first message without room for
 * descriptors, kept it as a plain empty message and lost them). After
 * point 1 the program receives it with its descriptor and answers; the
 * child ends when the answer comes. */
static void sockets_scm(int type)
{
    int sv[2];
    if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv))
        crt_die("socketpair: %s", strerror(errno));
    union { struct cmsghdr align; char b[CMSG_SPACE(sizeof(int))]; } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct msghdr mh = { .msg_control = ctl.b, .msg_controllen = sizeof ctl.b };
    pid_t kid = fork();
    if (kid == 0) {
        close(sv[0]);
        int f = open("/dev/null", O_RDONLY | O_CLOEXEC);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &f, sizeof f);
        if (f < 0 || sendmsg(sv[1], &mh, 0) != 0)
            _exit(2);
        close(f);
        char c = 0;
        while (recv(sv[1], &c, 1, 0) < 0 && errno == EINTR)
            ;
        _exit(c == 'a' ? 0 : 3);
    }
    close(sv[1]);
    struct pollfd p = { .fd = sv[0], .events = POLLIN };
    while (poll(&p, 1, -1) < 0 && errno == EINTR)
        ;
    crt_checkpoint_point(1);
    ssize_t n;
    do
        n = recvmsg(sv[0], &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    int fd = -1;
    if (n == 0 && cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
        memcpy(&fd, CMSG_DATA(cm), sizeof fd);
    struct stat got, want;
    crt_check("the empty message arrives with its descriptor (the child's /dev/null)",
              fd >= 0 && fstat(fd, &got) == 0 && stat("/dev/null", &want) == 0 && S_ISCHR(got.st_mode) &&
              got.st_rdev == want.st_rdev, "recvmsg %zd, descriptor %d", n, fd);
    if (fd >= 0)
        close(fd);
    crt_check("the answer reaches the child", send(sv[0], "a", 1, 0) == 1, "%s", strerror(errno));
    check_status("the child ends well", kid, 0);
    close(sv[0]);
    crt_checkpoint_point(2);
}

/* A POSIX named semaphore the program and its child share (sem_open, then
 * sem_unlink, as Python's multiprocessing does). The child posts it after
 * point 1; the program waits for it. */
static void mode_sem(void)
{
    char name[64];
    snprintf(name, sizeof name, "/crt_tree_sem.%d", (int)getpid());
    sem_t *sem = sem_open(name, O_CREAT | O_EXCL, 0600, 0);
    if (sem == SEM_FAILED)
        crt_die("sem_open: %s", strerror(errno));
    sem_unlink(name);
    int go[2];
    if (pipe(go))
        crt_die("pipe: %s", strerror(errno));
    pid_t kid = fork();
    if (kid == 0) {
        close(go[1]);
        char c;
        while (read(go[0], &c, 1) < 0 && errno == EINTR)
            ;
        sem_post(sem);
        _exit(0);
    }
    close(go[0]);
    crt_checkpoint_point(1);
    if (write(go[1], "g", 1) != 1)
        crt_fail("the child's pipe", "%s", strerror(errno));
    int r;
    while ((r = sem_wait(sem)) < 0 && errno == EINTR)
        ;
    crt_check("the child's sem_post is seen", r == 0, "%s", strerror(errno));
    check_status("the child ends well", kid, 0);
    crt_checkpoint_point(2);
}

/* A child holding a pidfd of one of the program's threads (see above). */
static void *idle_thread(void *arg)
{
    pid_t *tid = arg;
    __atomic_store_n(tid, (pid_t)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
    for (;;)
        pause();
    return NULL;
}

static void mode_threadpidfd(void)
{
    static pid_t tid;
    pthread_t t;
    if (pthread_create(&t, NULL, idle_thread, &tid) != 0)
        crt_die("pthread_create");
    while (!__atomic_load_n(&tid, __ATOMIC_SEQ_CST))
        crt_sleep_ms(1);
    int q[2];
    if (pipe(q))
        crt_die("pipe: %s", strerror(errno));
    pid_t kid = fork();
    if (kid == 0) {
        close(q[1]);
        int fd = (int)syscall(SYS_pidfd_open, tid, O_EXCL /* PIDFD_THREAD */);
        char c;
        while (read(q[0], &c, 1) < 0 && errno == EINTR)
            ;
        _exit(fd >= 0 ? 0 : 3);
    }
    close(q[0]);
    crt_checkpoint_point(1);
    if (write(q[1], "q", 1) != 1)
        crt_fail("the child's pipe", "%s", strerror(errno));
    int st = 0;
    waitpid(kid, &st, 0);
    crt_say("the child %s", WIFEXITED(st) && WEXITSTATUS(st) == 3 ? "has no PIDFD_THREAD" : "held the pidfd");
    crt_checkpoint_point(2);
}

/* A vfork child that has not started its program at point 1 (see above). */
static void mode_vfork(void)
{
    const char *ready = getenv("REVIVE_TEST_READY"), *go = getenv("REVIVE_TEST_GO");
    char rp[4096], tmp[4200], gp[4096], line[32];
    snprintf(rp, sizeof rp, "%s.1", ready ? ready : "");
    snprintf(tmp, sizeof tmp, "%s.vfork", rp);
    snprintf(gp, sizeof gp, "%s.1", go ? go : "");
    int n = snprintf(line, sizeof line, "%d\n", (int)getpid());
    pid_t kid = vfork();
    if (kid == 0) {
        /* only system calls here: the parent's memory is ours */
        if (ready && go) {
            int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0 && write(fd, line, (size_t)n) == n && close(fd) == 0)
                rename(tmp, rp);
            struct timespec ms = { 0, 5000000L };
            for (int i = 0; i < 24000 && access(gp, F_OK) != 0; i++)
                nanosleep(&ms, NULL);
        }
        _exit(0);
    }
    if (kid < 0)
        crt_die("vfork: %s", strerror(errno));
    check_status("the vfork child ends well", kid, 0);
    crt_checkpoint_point(1);
    crt_checkpoint_point(2);
}

static void mode_deletedmap(void)
{
    int fd = open("crt_tree.dmap", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || unlink("crt_tree.dmap") != 0 || ftruncate(fd, 4096) != 0)
        crt_die("open: %s", strerror(errno));
    volatile char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int q[2];
    if (p == MAP_FAILED || pipe(q))
        crt_die("mmap or pipe: %s", strerror(errno));
    p[0] = 5;
    pid_t kid[2];
    for (int k = 0; k < 2; k++) {
        kid[k] = fork();
        if (kid[k] < 0)
            crt_die("fork: %s", strerror(errno));
        if (kid[k])
            continue;
        /* the first holds the file open without the mapping, the second
         * maps it without a descriptor */
        if (k == 0)
            munmap((void *)p, 4096);
        else
            close(fd);
        close(q[1]);
        char c;
        while (read(q[0], &c, 1) < 0 && errno == EINTR)
            ;
        if (k == 0)
            _exit(pwrite(fd, "\7", 1, 1) == 1 ? 0 : 1);
        p[2] = 9;
        _exit(0);
    }
    close(q[0]);
    crt_checkpoint_point(1);
    if (write(q[1], "qq", 2) != 2)
        crt_fail("the children's pipe", "%s", strerror(errno));
    check_status("the child holding the file ends well", kid[0], 0);
    check_status("the child mapping the file ends well", kid[1], 0);
    CRT_CHECK_U64("the mapping holds what the program wrote", p[0], 5);
    CRT_CHECK_U64("the mapping holds what the first child wrote through its descriptor", p[1], 7);
    CRT_CHECK_U64("the mapping holds what the second child wrote through its mapping", p[2], 9);
    char b[3] = { 0, 0, 0 };
    crt_check("the program reads the three bytes through its descriptor",
              pread(fd, b, 3, 0) == 3 && b[0] == 5 && b[1] == 7 && b[2] == 9, "%d %d %d", b[0], b[1], b[2]);
    crt_checkpoint_point(2);
}

/* ---- a session and group id held by an orphan ---- */

static void mode_sidheld(void)
{
    if (getsid(0) != getpid() && setsid() < 0)
        crt_die("setsid: %s", strerror(errno));
    pid_t c = fork();
    if (c == 0) {
        if (fork() == 0) {
            for (int fd = 0; fd < 1024; fd++)
                close(fd);
            for (int i = 0; i < 300000; i++) {   /* 5 minutes at most */
                struct stat st;
                if (access("crt_tree.sidheld.done", F_OK) == 0 || stat(".", &st) != 0 || st.st_nlink == 0)
                    break;
                crt_sleep_ms(1);
            }
            _exit(0);
        }
        _exit(0);
    }
    if (c < 0)
        crt_die("fork: %s", strerror(errno));
    check_status("the orphan's parent ends", c, 0);
    crt_checkpoint_point(1);
    /* (its session: on a terminal a restart keeps it in cr_restart's, see crs_session.sh) */
    crt_check("still leads its process group", getpgrp() == getpid(), "pgid %d, pid %d", (int)getpgrp(),
              (int)getpid());
    crt_checkpoint_point(2);
    int f = open("crt_tree.sidheld.done", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (f >= 0)
        close(f);
}

/* ---- pipes whose other end is closed everywhere ---- */

static void mode_widow(void)
{
    static unsigned char tail[2000], got[2100];
    crt_fill(tail, sizeof tail, 13);
    int out[2], gone[2], go[2], ans[2];
    if (pipe(out) || pipe(gone) || pipe(go) || pipe(ans))
        crt_die("pipe: %s", strerror(errno));
    signal(SIGPIPE, SIG_IGN);
    pid_t w = fork();
    if (w == 0) {   /* the writer: its output, then it ends */
        close(out[0]);
        _exit(write_full(out[1], tail, sizeof tail) ? 90 : 0);
    }
    pid_t r = fork();
    if (r == 0) {   /* the only reader of `gone`: ends at once */
        close(gone[1]);
        _exit(0);
    }
    if (w < 0 || r < 0)
        crt_die("fork: %s", strerror(errno));
    close(out[1]);
    close(gone[0]);
    check_status("the writer ends", w, 0);
    check_status("the reader of the second pipe ends", r, 0);
    pid_t k = fork();
    if (k == 0) {   /* shares the read end: takes the first 500 bytes when told */
        close(go[1]), close(ans[0]), close(gone[1]);
        char c;
        if (read_full(go[0], &c, 1))
            _exit(91);
        if (read_full(out[0], got, 500))
            _exit(92);
        uint64_t h = crt_hash(got, 500, 3);
        _exit(write_full(ans[1], &h, sizeof h) ? 93 : 0);
    }
    if (k < 0)
        crt_die("fork: %s", strerror(errno));
    close(go[0]), close(ans[1]);
    crt_checkpoint_point(1);
    uint64_t h = 0;
    if (write_full(go[1], "g", 1) || read_full(ans[0], &h, sizeof h))
        crt_fail("the sharing child answers", "%s", strerror(errno));
    CRT_CHECK_U64("the child read the pipe's first 500 bytes", h, crt_hash(tail, 500, 3));
    check_status("the sharing child ends well", k, 0);
    size_t n = 0;
    ssize_t m;
    while ((m = read(out[0], got + n, sizeof got - n)) > 0 || (m < 0 && errno == EINTR))
        n += m > 0 ? (size_t)m : 0;
    crt_check("the program reads the other 1500 bytes, then end of file",
              m == 0 && n == 1500 && !memcmp(got, tail + 500, 1500), "%zu bytes, then %zd (%s)", n, m,
              m < 0 ? strerror(errno) : "");
    m = write(gone[1], "x", 1);
    crt_check("a write into the pipe without readers fails with EPIPE", m < 0 && errno == EPIPE,
              "write gave %zd (%s)", m, m < 0 ? strerror(errno) : "written");
    crt_checkpoint_point(2);
    m = read(out[0], got, 1);
    crt_check("the pipe without writers still gives end of file", m == 0, "read gave %zd", m);
}

/* ---- descriptors on /proc entries ---- */

/* The pid and name a /proc/PID/stat line gives ("123 (name) S ..."). */
static int stat_fields(int fd, int *pid, char *name, size_t cap)
{
    char buf[512];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    const char *o = strchr(buf, '('), *c = strrchr(buf, ')');
    if (!o || !c || c < o || (size_t)(c - o - 1) >= cap)
        return -1;
    *pid = atoi(buf);
    memcpy(name, o + 1, (size_t)(c - o - 1));
    name[c - o - 1] = 0;
    return 0;
}

/* One number from a /proc/PID/status field ("PPid:\t12"), -1 if absent. */
static int status_field(int fd, const char *field)
{
    char buf[4096];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    const char *f = strstr(buf, field);
    return f ? atoi(f + strlen(field)) : -1;
}

/* procfd: the program holds its child's /proc/PID/status and /proc/PID
 * folder, the child its parent's /proc/PID/stat. Each must name the member
 * it named at the start, also after a restart (they are reopened at the
 * members' pids, which the tree's restart gives back).
 * procout: the program holds the /proc/PID/stat of its parent, which is
 * outside every scope: a checkpoint is refused naming it (crs_tree_ckpt.sh),
 * or with --ignore-fds (one process) the descriptor comes back closed. */
static void mode_procfd(void)
{
    int q[2], a[2];
    if (pipe(q) || pipe(a))
        crt_die("pipe: %s", strerror(errno));
    pid_t kid = fork();
    if (kid == 0) {
        close(q[1]), close(a[0]);
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)getppid());
        int ps = open(path, O_RDONLY);
        /* its younger sibling's entry: made after this child at a restart */
        int32_t sib = -1;
        if (read_full(q[0], &sib, sizeof sib))
            _exit(89);
        snprintf(path, sizeof path, "/proc/%d/stat", (int)sib);
        int ss = open(path, O_RDONLY);
        for (;;) {
            char c;
            if (read_full(q[0], &c, 1))
                _exit(90);
            if (c == 'q')
                _exit(0);
            /* bit 0: the parent's entry names the parent; bit 1: the sibling's the sibling */
            int pid = -1, spid = -1;
            char name[32] = "", sname[32] = "";
            char ok = (ps >= 0 && stat_fields(ps, &pid, name, sizeof name) == 0 && pid == getppid() &&
                       !strcmp(name, "crt_tree")) |
                      (ss >= 0 && stat_fields(ss, &spid, sname, sizeof sname) == 0 && spid == sib &&
                       !strcmp(sname, "crt_tree")) << 1;
            if (write_full(a[1], &ok, 1))
                _exit(91);
        }
    }
    if (kid < 0)
        crt_die("fork: %s", strerror(errno));
    close(q[0]), close(a[1]);
    int hold[2];
    if (pipe(hold))
        crt_die("pipe: %s", strerror(errno));
    pid_t sib = fork();
    if (sib == 0) {
        close(hold[1]), close(q[1]), close(a[0]);
        char c;
        _exit(read_full(hold[0], &c, 1) == 0 && c == 'q' ? 0 : 92);
    }
    if (sib < 0)
        crt_die("fork: %s", strerror(errno));
    close(hold[0]);
    int32_t s32 = (int32_t)sib;
    if (write_full(q[1], &s32, sizeof s32))
        crt_die("write: %s", strerror(errno));
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)kid);
    int ks = open(path, O_RDONLY);
    snprintf(path, sizeof path, "/proc/%d", (int)kid);
    int kd = open(path, O_RDONLY | O_DIRECTORY);
    if (ks < 0 || kd < 0)
        crt_die("open /proc/%d: %s", (int)kid, strerror(errno));
    for (int p = 0; p < 3; p++) {
        if (p)
            crt_checkpoint_point(p);
        char name[160];
        int pid = status_field(ks, "\nPid:"), ppid = status_field(ks, "\nPPid:");
        snprintf(name, sizeof name, "the child's /proc status names the child (%d)", p);
        crt_check(name, pid == kid && ppid == getpid(), "Pid %d PPid %d, expected %d %d", pid, ppid, (int)kid,
                  (int)getpid());
        char comm[32] = "";
        int cf = openat(kd, "comm", O_RDONLY | O_CLOEXEC);
        ssize_t n = cf >= 0 ? read(cf, comm, sizeof comm - 1) : -1;
        if (cf >= 0)
            close(cf);
        comm[n > 0 ? n : 0] = 0;
        snprintf(name, sizeof name, "the child's /proc folder gives its name (%d)", p);
        crt_check(name, !strcmp(comm, "crt_tree\n"), "comm '%s'", comm);
        char ok = 0;
        if (write_full(q[1], "?", 1) || read_full(a[0], &ok, 1))
            crt_fail("the child answers", "%s", strerror(errno));
        snprintf(name, sizeof name, "the child's descriptor on the program's /proc stat names the program (%d)", p);
        crt_check(name, ok & 1, "it does not");
        snprintf(name, sizeof name, "its descriptor on its sibling's /proc stat names the sibling (%d)", p);
        crt_check(name, ok & 2, "it does not");
    }
    if (write_full(q[1], "q", 1) || write_full(hold[1], "q", 1))
        crt_fail("quit", "%s", strerror(errno));
    check_status("the child ends well", kid, 0);
    check_status("its sibling ends well", sib, 0);
}

static void mode_procout(void)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)getppid());
    if (open(path, O_RDONLY) < 0)
        crt_die("open %s: %s", path, strerror(errno));
    crt_checkpoint_point(1);
    crt_checkpoint_point(2);
    crt_say("held the parent's /proc entry");
}

/* orphan: the program's child has a child of its own; after point 1 the
 * child ends (the program reaps it), so the grandchild is an orphan, as a
 * daemon's worker whose starter left. It outlives the program: once the
 * program has ended (its pipe closed) it waits for $REVIVE_TEST_GO.orphan,
 * appends a line to crt_tree.orphan in the working folder and ends. It
 * holds none of the program's streams (a launcher waiting for their end
 * would wait for it). */
static void mode_orphan(void)
{
    int hold[2], cq[2];
    if (pipe(hold) || pipe(cq))
        crt_die("pipe: %s", strerror(errno));
    pid_t c = fork();
    if (c == 0) {
        close(hold[1]), close(cq[1]);
        pid_t g = fork();
        if (g == 0) {
            close(cq[0]);
            close(0), close(1), close(2);
            char ch;
            ssize_t n;
            while ((n = read(hold[0], &ch, 1)) < 0 && errno == EINTR)
                ;
            const char *go = getenv("REVIVE_TEST_GO");
            char path[4096];
            snprintf(path, sizeof path, "%s.orphan", go ? go : "");
            for (int i = 0; i < 120000 && access(path, F_OK) != 0; i++)
                crt_sleep_ms(1);
            int f = open("crt_tree.orphan", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
            const char line[] = "the orphan outlived the program\n";
            _exit(n == 0 && f >= 0 && write(f, line, sizeof line - 1) == (ssize_t)sizeof line - 1 ? 0 : 1);
        }
        close(hold[0]);
        char ch;
        while (read(cq[0], &ch, 1) < 0 && errno == EINTR)
            ;
        _exit(g > 0 ? 0 : 98);
    }
    if (c < 0)
        crt_die("fork: %s", strerror(errno));
    close(hold[0]), close(cq[0]);
    crt_checkpoint_point(1);
    if (write_full(cq[1], "q", 1))
        crt_fail("the child's pipe", "%s", strerror(errno));
    check_status("the child ends well, leaving its child an orphan", c, 0);
    crt_checkpoint_point(2);
    crt_say("the program ends before the orphan");
}

int main(void)
{
    const char *m = getenv("CRT_TREE");
    if (!m)
        m = "children";
    crt_say("process tree: %s", m);
    if (!strcmp(m, "children"))
        mode_children();
    else if (!strcmp(m, "group") || !strcmp(m, "session")) {
        /* the children's kind in a group or session of the program's own,
         * for cr_checkpoint --pgid / --sid */
        if (m[0] == 'g' ? setpgid(0, 0) != 0 : setsid() < 0)
            crt_die("%s: %s", m[0] == 'g' ? "setpgid" : "setsid", strerror(errno));
        mode_children();
        crt_check(m[0] == 'g' ? "still leads its group" : "still leads its session",
                  m[0] == 'g' ? getpgrp() == getpid() : getsid(0) == getpid(), "pgid %d, sid %d, pid %d",
                  (int)getpgrp(), (int)getsid(0), (int)getpid());
    }
    else if (!strcmp(m, "threadpidfd"))
        mode_threadpidfd();
    else if (!strcmp(m, "vfork"))
        mode_vfork();
    else if (!strcmp(m, "sem"))
        mode_sem();
    else if (!strcmp(m, "sockets"))
        mode_sockets();
    else if (!strcmp(m, "zombie"))
        mode_zombie();
    else if (!strcmp(m, "shm"))
        mode_shm();
    else if (!strcmp(m, "hugeshm"))
        mode_hugeshm();
    else if (!strcmp(m, "devshm"))
        mode_devshm();
    else if (!strcmp(m, "memfd"))
        mode_memfd();
    else if (!strcmp(m, "sysv"))
        mode_sysv();
    else if (!strcmp(m, "sysvipc"))
        mode_sysvipc();
    else if (!strcmp(m, "sharedfd"))
        mode_sharedfd(0);
    else if (!strcmp(m, "deleted"))
        mode_sharedfd(1);
    else if (!strcmp(m, "daemon"))
        mode_daemon();
    else if (!strcmp(m, "pgrp"))
        mode_pgrp();
    else if (!strcmp(m, "procfd"))
        mode_procfd();
    else if (!strcmp(m, "procout"))
        mode_procout();
    else if (!strcmp(m, "orphan"))
        mode_orphan();
    else if (!strcmp(m, "widow"))
        mode_widow();
    else if (!strcmp(m, "sidheld"))
        mode_sidheld();
    else if (!strcmp(m, "deletedmap"))
        mode_deletedmap();
    else
        crt_die("CRT_TREE=%s: children, zombie, sharedfd, daemon, pgrp, group, session, procfd, procout, orphan, widow, deleted, deletedmap, sidheld, shm, devshm, hugeshm, memfd, sysv, sysvipc, sem, vfork, threadpidfd or sockets", m);
    crt_finish();
}
