/* Partner copies' transfer (src/filem/partner.h) on the loopback: a good copy arrives 0600,
 * identical and verified; a sender without the job's secret is refused and leaves nothing; a
 * receiver that cannot prove the secret gets nothing; a copy that fails its checksum, or of
 * another sequence, is refused with a message and leaves nothing. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filem/filem.h"
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
