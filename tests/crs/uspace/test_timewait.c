/* restore_timewait.c alone, on loopback connections of this process: a TCP end in the kernel's
 * timewait socket (the end that closed first) is found by crs_restore_time_wait_each, by its
 * local address or the wildcard, in both of its substates: FIN-WAIT-2 while the other end is
 * open, TIME-WAIT once it closed; crs_restore_end_time_wait ends it (as root; -EPERM without
 * CAP_NET_ADMIN); a live connection, and a full socket in FIN-WAIT-2 (shut down for writing,
 * still open), are neither found nor ended (-EBUSY) and still carry data. Session 17's review:
 * the FIN-WAIT-2 substate was reported -EBUSY and left. */
#define _GNU_SOURCE
#include "crs/uspace/restore.h"
#include "../../unit_assert.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static int admin; /* may end sockets (CAP_NET_ADMIN); else -EPERM is what ending gives */

struct found {
    int n;
    struct sockaddr_in local, remote;
};

static int seen(void *arg, const struct sockaddr_storage *l, const struct sockaddr_storage *r)
{
    struct found *f = arg;
    if (!f->n++) {
        memcpy(&f->local, l, sizeof f->local);
        memcpy(&f->remote, r, sizeof f->remote);
    }
    return 0;
}

/* a connection on loopback: *srv the accepted end, *cli the client; rec describes the server end
 * as an image would (local: the listener's address; remote: the client's) */
static void connection(int *srv, int *cli, struct crs_rec_socket *rec)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in la = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, ca;
    socklen_t n = sizeof la;
    ASSERT_TRUE(l >= 0 && bind(l, (struct sockaddr *)&la, sizeof la) == 0 && listen(l, 1) == 0 &&
                getsockname(l, (struct sockaddr *)&la, &n) == 0);
    *cli = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_TRUE(connect(*cli, (struct sockaddr *)&la, sizeof la) == 0);
    n = sizeof ca;
    ASSERT_TRUE(getsockname(*cli, (struct sockaddr *)&ca, &n) == 0);
    *srv = accept(l, NULL, NULL);
    ASSERT_TRUE(*srv >= 0);
    close(l);
    memset(rec, 0, sizeof *rec);
    rec->family = AF_INET;
    rec->type = SOCK_STREAM;
    memcpy(rec->local, &la, sizeof la);
    rec->local_len = sizeof la;
    memcpy(rec->remote, &ca, sizeof ca);
    rec->remote_len = sizeof ca;
}

/* the closed server end of rec is found in TIME-WAIT (by its address and by the wildcard), and
 * ended (as root). It becomes a timewait socket once the other end acknowledged its FIN, which
 * the other end may delay (up to 200 ms): waited for, up to 5 s. */
static void found_and_ended(const struct crs_rec_socket *rec, const char *what)
{
    struct found f = { 0 };
    for (int i = 0; i < 500 && !f.n; i++) {
        ASSERT_EQ(crs_restore_time_wait_each(rec, seen, &f), 0);
        if (!f.n)
            usleep(10000);
    }
    f.n = 0;
    ASSERT_EQ(crs_restore_time_wait_each(rec, seen, &f), 0);
    if (f.n != 1)
        FAILF("%s: %d sockets in TIME-WAIT found on the server's address, expected 1", what, f.n);
    ASSERT_TRUE(!memcmp(&f.local, rec->local, sizeof f.local) && !memcmp(&f.remote, rec->remote, sizeof f.remote));
    struct crs_rec_socket any = *rec;
    ((struct sockaddr_in *)any.local)->sin_addr.s_addr = htonl(INADDR_ANY);
    f.n = 0;
    ASSERT_EQ(crs_restore_time_wait_each(&any, seen, &f), 0);
    if (f.n != 1)
        FAILF("%s: %d found on the wildcard address of its port, expected 1", what, f.n);
    int e = crs_restore_end_time_wait(rec);
    if (e != (admin ? 0 : -EPERM))
        FAILF("%s: ending it gave %d (%s), expected %s", what, e, strerror(-e), admin ? "0" : "-EPERM");
    f.n = 0;
    ASSERT_EQ(crs_restore_time_wait_each(rec, seen, &f), 0);
    if (f.n != !admin)
        FAILF("%s: %d left after the ending, expected %d", what, f.n, !admin);
    printf("ok: %s: found (by address and wildcard), %s\n", what, admin ? "ended" : "-EPERM without CAP_NET_ADMIN");
}

/* a byte from one end reaches the other */
static void carries(int from, int to, const char *what)
{
    char c = 0;
    if (send(from, "x", 1, 0) != 1 || recv(to, &c, 1, 0) != 1 || c != 'x')
        FAILF("%s: no longer carries data", what);
}

int main(void)
{
    /* CAP_NET_ADMIN (12) in the effective set, from /proc (no libcap here) */
    FILE *st = fopen("/proc/self/status", "re");
    char line[256];
    unsigned long long eff = 0;
    while (st && fgets(line, sizeof line, st))
        if (sscanf(line, "CapEff: %llx", &eff) == 1)
            break;
    if (st)
        fclose(st);
    admin = (eff >> 12) & 1;
    int srv, cli;
    struct crs_rec_socket rec;
    struct found f;

    /* the server end closed first, the client still open: FIN-WAIT-2 substate */
    connection(&srv, &cli, &rec);
    close(srv);
    char c;
    ASSERT_EQ(recv(cli, &c, 1, 0), 0); /* its FIN came, so it was acknowledged */
    found_and_ended(&rec, "closed first, the other end open (FIN-WAIT-2)");
    close(cli);

    /* both closed, the server end first: TIME-WAIT substate */
    connection(&srv, &cli, &rec);
    close(srv);
    ASSERT_EQ(recv(cli, &c, 1, 0), 0);
    close(cli);
    found_and_ended(&rec, "closed first, then the other end (TIME-WAIT)");

    /* a live connection: not found, not ended */
    connection(&srv, &cli, &rec);
    f.n = 0;
    ASSERT_EQ(crs_restore_time_wait_each(&rec, seen, &f), 0);
    ASSERT_EQ(f.n, 0);
    ASSERT_EQ(crs_restore_end_time_wait(&rec), -EBUSY);
    carries(cli, srv, "a live connection");
    carries(srv, cli, "a live connection");
    printf("ok: a live connection: not found, not ended (-EBUSY), carries data\n");

    /* shut down for writing but open: a full socket in FIN-WAIT-2, not a timewait one */
    ASSERT_EQ(shutdown(srv, SHUT_WR), 0);
    ASSERT_EQ(recv(cli, &c, 1, 0), 0);
    f.n = 0;
    ASSERT_EQ(crs_restore_time_wait_each(&rec, seen, &f), 0);
    ASSERT_EQ(f.n, 0);
    ASSERT_EQ(crs_restore_end_time_wait(&rec), -EBUSY);
    carries(cli, srv, "an open socket in FIN-WAIT-2");
    printf("ok: an open socket shut down for writing (FIN-WAIT-2): not found, not ended (-EBUSY), still reads\n");
    close(srv);
    close(cli);
    return 0;
}
