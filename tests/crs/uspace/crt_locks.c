/*
 * State test: file locks held at a checkpoint are held after the restart
 * (issue 10, point 4):
 *   locks.a  fcntl F_SETLK: a write lock on bytes 10-29 and a read lock from
 *            byte 100 to the end (through fd a, which has a dup)
 *   locks.b  flock LOCK_EX
 *   locks.c  fcntl F_OFD_SETLK: a write lock on bytes 0-4
 *   locks.d  flock LOCK_SH, on a descriptor that is a dup of another
 * Each is checked from a second open file of the same file (kept open for
 * the whole run: closing any descriptor of a file would release the
 * process's fcntl locks on it): F_OFD_GETLK sees the conflicting lock (for
 * the fcntl ones, owned by this process's pid), flock LOCK_NB is refused.
 * After point 1 the fcntl write lock shrinks to bytes 10-19 (F_UNLCK of
 * 20-29): after point 2 the freed bytes must be free. Every flavour but
 * busy (the copy and the original cannot both hold the locks: locks_busy.sh).
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static int a, a_dup, b, c, d, d_dup, pa, pb, pc, pd;

static int open_rw(const char *name)
{
    int fd = open(name, O_RDWR | O_CREAT, 0600);
    if (fd < 0)
        crt_die("%s: %s", name, strerror(errno));
    return fd;
}

/* Who holds what over [start, start+len) as seen from the probe descriptor:
 * F_UNLCK when nobody conflicts with a write lock there. */
static int seen(int probe, off_t start, off_t len, pid_t *pid)
{
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
    if (fcntl(probe, F_OFD_GETLK, &fl) != 0)
        return -1;
    *pid = fl.l_pid;
    return fl.l_type;
}

static void check(const char *when, int shrunk)
{
    pid_t pid = 0;
    int t;
#define CHECK(what, cond, ...) crt_check_when(what, when, cond, __VA_ARGS__)

    t = seen(pa, 10, shrunk ? 10 : 20, &pid);
    CHECK("locks.a: fcntl write lock on bytes 10-29 (10-19 after point 2), ours", t == F_WRLCK && pid == getpid(),
          "type %d pid %d (we are %d)", t, (int)pid, (int)getpid());
    t = seen(pa, 20, 10, &pid);
    CHECK("locks.a: bytes 20-29 locked until point 2, free after", shrunk ? t == F_UNLCK : t == F_WRLCK, "type %d", t);
    t = seen(pa, 100, 0, &pid);
    CHECK("locks.a: fcntl read lock from byte 100 on", t == F_RDLCK && pid == getpid(), "type %d pid %d", t, (int)pid);
    t = seen(pa, 40, 50, &pid);
    CHECK("locks.a: bytes 40-89 free", t == F_UNLCK, "type %d", t);
    errno = 0;
    CHECK("locks.b: flock LOCK_EX held", flock(pb, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK, "%s",
          errno ? strerror(errno) : "a shared lock was granted");
    t = seen(pc, 0, 5, &pid);
    CHECK("locks.c: open file (OFD) write lock on bytes 0-4", t == F_WRLCK && pid == -1, "type %d pid %d", t,
          (int)pid);
    t = seen(pc, 5, 0, &pid);
    CHECK("locks.c: bytes 5 on free", t == F_UNLCK, "type %d", t);
    errno = 0;
    int ex = flock(pd, LOCK_EX | LOCK_NB);
    CHECK("locks.d: flock LOCK_SH held (an exclusive one is refused, a shared one granted)",
          ex != 0 && errno == EWOULDBLOCK && flock(pd, LOCK_SH | LOCK_NB) == 0 && flock(pd, LOCK_UN) == 0,
          "%s", ex == 0 ? "an exclusive lock was granted" : strerror(errno));
#undef CHECK
}

int main(void)
{
    a = open_rw("locks.a");
    b = open_rw("locks.b");
    c = open_rw("locks.c");
    d = open_rw("locks.d");
    a_dup = dup(a);
    d_dup = dup(d);
    pa = open_rw("locks.a");
    pb = open_rw("locks.b");
    pc = open_rw("locks.c");
    pd = open_rw("locks.d");
    if (ftruncate(a, 4096) != 0)
        crt_die("ftruncate: %s", strerror(errno));
    struct flock w = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 10, .l_len = 20 };
    struct flock r = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 100, .l_len = 0 };
    struct flock o = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 5 };
    if (fcntl(a, F_SETLK, &w) || fcntl(a_dup, F_SETLK, &r) || flock(b, LOCK_EX | LOCK_NB) ||
        fcntl(c, F_OFD_SETLK, &o) || flock(d_dup, LOCK_SH | LOCK_NB))
        crt_die("taking the locks: %s", strerror(errno));
    crt_say("fcntl, open file (OFD) and flock locks taken");
    check("at start", 0);

    crt_checkpoint_point(1);

    check("after point 1", 0);
    struct flock u = { .l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 20, .l_len = 10 };
    if (fcntl(a, F_SETLK, &u) != 0)
        crt_die("unlock: %s", strerror(errno));

    crt_checkpoint_point(2);

    check("after point 2", 1);
    crt_finish();
}
