/* Partner copies' transfer (src/filem/partner.h) on the loopback: a good copy arrives 0600,
 * identical and verified; a sender without the job's secret is refused and leaves nothing; a
 * receiver that cannot prove the secret gets nothing; a copy that fails its checksum, or of
 * another sequence, is refused with a message and leaves nothing. While a copy is being received
 * the sequence directory is held as a reader holds it (retention keeps it) and the partial copy
 * is locked (the sweep of partial images keeps it); a copy into a removed sequence is refused. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "filem/filem.h"
#include "filem/local_gc.h"
#include "filem/local_retain.h"
#include "filem/partner.h"
#include "snapc_test.h"
#include "tiny_image.h"

static const char *S1 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
static const char *S2 = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

/* a connected loopback socket: the receiver listens on its local address */
static int loopback(int *lfd)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof a;
    *lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (*lfd < 0 || bind(*lfd, (void *)&a, sl) < 0 || listen(*lfd, 1) < 0 ||
        getsockname(*lfd, (void *)&a, &sl) < 0)
        return -1;
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    return c >= 0 && connect(c, (void *)&a, sl) == 0 ? c : -1;
}

/* an impostor receiver: the right greeting, then a proof of nothing; records whether any byte
 * came after the sender's proof */
static int imp_fd;
static ssize_t imp_after = -1;
static void *impostor(void *arg)
{
    (void)arg;
    int c = accept(imp_fd, NULL, NULL);
    char hello[24] = "RVPART1", buf[64];
    memset(hello + 8, 7, 16);
    size_t got = 0;
    if (c < 0 || write(c, hello, 24) != 24)
        return NULL;
    while (got < 32) { /* the sender's nonce and proof, in as many reads as they come */
        ssize_t r = read(c, buf + got, 32 - got);
        if (r <= 0) {
            close(c);
            return NULL;
        }
        got += (size_t)r;
    }
    memset(buf, 0, 16);
    if (write(c, buf, 16) == 16)
        imp_after = read(c, buf, sizeof buf); /* 0: the sender closed without sending */
    close(c);
    return NULL;
}

/* A sender by hand, to stop part way through an image: partner.c's proof (XXH3-128 over the
 * role padded to 8 bytes, the secret, both nonces) and its header, as it sends them. */
static void proof(const char *role, const uint8_t *n1, const uint8_t *n2, uint8_t out[16])
{
    uint8_t b[8 + 64 + 32] = {0};
    memcpy(b, role, strlen(role));
    memcpy(b + 8, S1, 64);
    memcpy(b + 72, n1, 16);
    memcpy(b + 88, n2, 16);
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(b, sizeof b));
    memcpy(out, c.digest, 16);
}

static int io_all(int fd, void *p, size_t n, int wr)
{
    for (uint8_t *b = p; n;) {
        ssize_t r = wr ? write(fd, b, n) : read(fd, b, n);
        if (r <= 0)
            return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Connects to the receiver at 127.0.0.1:PORT, proves S1 and sends the header of rank RANK's
 * image of SIZE bytes (sequence 5, checksum SUM) and its first HALF bytes from IMG. The socket,
 * or -1. */
static int send_part(int port, uint32_t rank, const char *img, uint64_t size, uint64_t sum,
                     size_t half)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    uint8_t hello[24], nc[16], pc[16], ps[16];
    memset(nc, 9, sizeof nc);
    if (c < 0 || connect(c, (void *)&a, sizeof a) < 0 || io_all(c, hello, 24, 0) < 0)
        return -1;
    proof("sender", hello + 8, nc, pc);
    struct { uint32_t rank, reserved; uint64_t seq, size, checksum; } h = {rank, 0, 5, size, sum};
    char *buf = malloc(half + 1);
    int in = open(img, O_RDONLY | O_CLOEXEC);
    int ok = buf && in >= 0 && io_all(in, buf, half, 0) == 0 && io_all(c, nc, 16, 1) == 0 &&
             io_all(c, pc, 16, 1) == 0 && io_all(c, ps, 16, 0) == 0 &&
             io_all(c, &h, sizeof h, 1) == 0 && io_all(c, buf, half, 1) == 0;
    free(buf);
    if (in >= 0)
        close(in);
    if (!ok) {
        close(c);
        return -1;
    }
    return c;
}

/* 1 once DIR holds a temporary file whose name starts with PREFIX (30 s at most) */
static int tmp_appears(const char *dir, const char *prefix)
{
    for (int i = 0; i < 3000; i++) {
        DIR *d = opendir(dir);
        int found = 0;
        for (struct dirent *e; d && !found && (e = readdir(d));)
            found = !strncmp(e->d_name, prefix, strlen(prefix)) && strstr(e->d_name, ".tmp.");
        if (d)
            closedir(d);
        if (found)
            return 1;
        usleep(10000);
    }
    return 0;
}

int main(void)
{
    char dir[] = "/tmp/revive-test-partner.XXXXXX", img[256], got[400], err[2048], addr[96];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(img, sizeof img, "%s/rank_3.img", dir);
    CHECK_EQ(tiny_image_write(img, "partner copy", err, sizeof err), 0);
    uint64_t sum = 0, size = 0;
    CHECK_EQ(filem_image_checksum(img, &sum, &size, err, sizeof err), 0);
    char rdir[300];
    snprintf(rdir, sizeof rdir, "%s/cache", dir);
    CHECK_EQ(mkdir(rdir, 0700), 0);

    int lfd, like = loopback(&lfd);
    CHECK(like >= 0);
    struct filem_partner_rx *rx = NULL;
    CHECK_EQ(filem_partner_rx_start(like, rdir, 5, S1, addr, sizeof addr, &rx, err, sizeof err), 0);
    CHECK_STR_CONTAINS(addr, "127.0.0.1:");

    /* a good copy */
    CHECK_EQ(filem_partner_send(addr, S1, img, 3, 5, sum, err, sizeof err), 0);
    CHECK_STR_CONTAINS(err, "verified");
    snprintf(got, sizeof got, "%s/partner_3.img", rdir);
    struct stat st;
    CHECK_EQ(stat(got, &st), 0);
    CHECK_EQ(st.st_mode & 0777, 0600);
    CHECK_EQ(st.st_size, (long long)size);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "cmp -s %s %s", img, got);
    CHECK_EQ(system(cmd), 0);

    /* a sender of another job */
    int e = filem_partner_send(addr, S2, img, 4, 5, sum, err, sizeof err);
    CHECK(e < 0);
    CHECK_STR_CONTAINS(err, "refused this rank");
    snprintf(got, sizeof got, "%s/partner_4.img", rdir);
    CHECK(access(got, F_OK) != 0);

    /* a copy that fails its checksum, then one of another sequence */
    e = filem_partner_send(addr, S1, img, 6, 5, sum ^ 1, err, sizeof err);
    CHECK(e < 0);
    CHECK_STR_CONTAINS(err, "did not keep the copy");
    snprintf(got, sizeof got, "%s/partner_6.img", rdir);
    CHECK(access(got, F_OK) != 0);
    e = filem_partner_send(addr, S1, img, 7, 4, sum, err, sizeof err);
    CHECK(e < 0);
    CHECK_STR_CONTAINS(err, "not 4");

    /* a copy stopped part way: the partial file is the receiver's (locked: the sweep of partial
     * images keeps it) and the sequence is held (retention keeps it: the old receiver held
     * neither, and the sequence went under the copy); the copy then completes */
    int port = atoi(strrchr(addr, ':') + 1);
    int c = send_part(port, 8, img, size, sum, (size_t)size / 2);
    CHECK(c >= 0);
    CHECK(tmp_appears(rdir, ".partner_8.img"));
    struct filem_local_gc_stats gs;
    memset(&gs, 0, sizeof gs);
    CHECK_EQ(filem_sweep_temps(rdir, 0, &gs), 0);
    int jfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK_EQ(filem_local_remove_seq(jfd, "cache"), 0);
    CHECK_EQ(access(rdir, F_OK), 0);
    char *rest = malloc(size);
    int in = open(img, O_RDONLY | O_CLOEXEC);
    CHECK(rest && in >= 0 && pread(in, rest, size, 0) == (ssize_t)size);
    CHECK_EQ(io_all(c, rest + size / 2, size - size / 2, 1), 0);
    struct { int32_t status; uint32_t len; } rep = {-1, 0};
    CHECK_EQ(io_all(c, &rep, sizeof rep, 0), 0);
    CHECK_EQ(rep.status, 0);
    free(rest);
    close(in);
    close(c);
    snprintf(got, sizeof got, "%s/partner_8.img", rdir);
    snprintf(cmd, sizeof cmd, "cmp -s %s %s", img, got);
    CHECK_EQ(system(cmd), 0);
    /* not held any more: retention removes it; a copy into it then is refused, named */
    CHECK_EQ(filem_local_remove_seq(jfd, "cache"), 1);
    close(jfd);
    e = filem_partner_send(addr, S1, img, 9, 5, sum, err, sizeof err);
    CHECK(e < 0);
    CHECK_STR_CONTAINS(err, "removed by retention");
    filem_partner_rx_stop(rx);

    /* a receiver that does not hold the secret gets nothing past the proofs */
    int c2 = loopback(&imp_fd);
    struct sockaddr_in a;
    socklen_t sl = sizeof a;
    CHECK_EQ(getsockname(imp_fd, (void *)&a, &sl), 0);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", ntohs(a.sin_port));
    int first = accept(imp_fd, NULL, NULL); /* loopback()'s own connection */
    pthread_t th;
    pthread_create(&th, NULL, impostor, NULL);
    e = filem_partner_send(addr, S1, img, 3, 5, sum, err, sizeof err);
    pthread_join(th, NULL);
    CHECK_EQ(e, -EACCES);
    CHECK_STR_CONTAINS(err, "does not hold this job's secret");
    CHECK_EQ(imp_after, 0);
    close(first);
    close(c2);
    close(like);
    close(lfd);

    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_EQ(system(cmd), 0);
    printf("test_partner: %d checks, %d failures\n", snapc_test_checks, snapc_test_failures);
    return snapc_test_failures ? 1 : 0;
}
