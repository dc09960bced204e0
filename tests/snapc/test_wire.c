/* Unit tests of the coordination wire (src/snapc/wire.c): framing round trips,
 * frames fed a byte at a time, every kind of malformed frame refused, payload
 * size checks per type, the secret (random, hex, constant-time compare), TCP
 * connect errors; the one rank-list printer of the messages (util.c snapc_sb_rank_list). */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "snapc/util.h"
#include "snapc/wire.h"
#include "snapc_test.h"

static int pair[2];

static void fresh(void)
{
    if (pair[0]) {
        close(pair[0]);
        close(pair[1]);
    }
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
}

static int read_one(struct snapc_reader *r)
{
    return snapc_reader_wait(pair[1], r, 1000);
}

static void test_roundtrip(void)
{
    fresh();
    struct snapc_raise ra = {.cid = 7, .target = 99};
    CHECK_EQ(snapc_wire_send(pair[0], SNAPC_MSG_RAISE, 5, &ra, sizeof ra, NULL, 0, 1000), 0);
    struct snapc_reader r;
    snapc_reader_init(&r, 1 << 20);
    CHECK_EQ(read_one(&r), 1);
    CHECK_EQ(r.hdr.type, SNAPC_MSG_RAISE);
    CHECK_EQ(r.hdr.epoch, 5);
    CHECK_EQ(r.hdr.len, sizeof ra);
    char err[160];
    CHECK_EQ(snapc_wire_check(&r.hdr, r.buf, err, sizeof err), 0);
    struct snapc_raise got;
    memcpy(&got, r.buf, sizeof got);
    CHECK_EQ(got.cid, 7);
    CHECK_EQ(got.target, 99);
    snapc_reader_next(&r);
    /* a table with its tail, larger than one small send */
    struct snapc_table t = {.version = 3, .n = 1000};
    struct snapc_wire_seq *s = calloc(1000, sizeof *s);
    for (int i = 0; i < 1000; i++)
        s[i].cid = (uint64_t)i, s[i].seq = (uint64_t)i * 3;
    CHECK_EQ(snapc_wire_send(pair[0], SNAPC_MSG_TARGETS, 6, &t, sizeof t, s, 1000 * sizeof *s, 1000), 0);
    CHECK_EQ(read_one(&r), 1);
    CHECK_EQ(snapc_wire_check(&r.hdr, r.buf, err, sizeof err), 0);
    CHECK_EQ(memcmp(r.buf + sizeof t, s, 1000 * sizeof *s), 0);
    snapc_reader_next(&r);
    /* a frame without payload, then a text */
    CHECK_EQ(snapc_wire_send(pair[0], SNAPC_MSG_QUIESCED, 1, NULL, 0, NULL, 0, 1000), 0);
    CHECK_EQ(snapc_wire_send(pair[0], SNAPC_MSG_ABORT, 1, NULL, 0, "why", 3, 1000), 0);
    CHECK_EQ(read_one(&r), 1);
    CHECK_EQ(r.hdr.type, SNAPC_MSG_QUIESCED);
    snapc_reader_next(&r);
    CHECK_EQ(read_one(&r), 1);
    CHECK_EQ(r.hdr.len, 3);
    snapc_reader_next(&r);
    /* fed a byte at a time */
    struct snapc_hello h;
    memset(&h, 'a', sizeof h);
    struct snapc_hdr hd = {SNAPC_WIRE_MAGIC, SNAPC_WIRE_VERSION, SNAPC_MSG_HELLO, sizeof h, 0};
    unsigned char raw[sizeof hd + sizeof h];
    memcpy(raw, &hd, sizeof hd);
    memcpy(raw + sizeof hd, &h, sizeof h);
    int ret = 0;
    for (size_t i = 0; i < sizeof raw; i++) {
        CHECK_EQ(write(pair[0], raw + i, 1), 1);
        ret = snapc_reader_feed(pair[1], &r);
        if (i + 1 < sizeof raw)
            CHECK_EQ(ret, 0);
    }
    CHECK_EQ(ret, 1);
    CHECK_EQ(memcmp(r.buf, &h, sizeof h), 0);
    snapc_reader_free(&r);
    free(s);
    /* too long for the protocol */
    CHECK_EQ(snapc_wire_send(pair[0], SNAPC_MSG_INFO, 0, NULL, 0, "x", SNAPC_WIRE_MAX_PAYLOAD + 1, 10),
             -EMSGSIZE);
}

static void bad_frame(struct snapc_hdr hd, const void *payload, size_t plen, int want, const char *msg)
{
    fresh();
    CHECK_EQ(write(pair[0], &hd, sizeof hd), (ssize_t)sizeof hd);
    if (plen)
        CHECK_EQ(write(pair[0], payload, plen), (ssize_t)plen);
    struct snapc_reader r;
    snapc_reader_init(&r, 4096);
    int e = read_one(&r);
    char err[160] = "";
    if (e == 1)
        e = snapc_wire_check(&r.hdr, r.buf, err, sizeof err);
    else
        snprintf(err, sizeof err, "%s", r.err);
    CHECK_EQ(e, want);
    CHECK_STR_CONTAINS(err, msg);
    snapc_reader_free(&r);
}

static void test_malformed(void)
{
    struct snapc_hdr ok = {SNAPC_WIRE_MAGIC, SNAPC_WIRE_VERSION, SNAPC_MSG_RAISE, 16, 0};
    char pl[64] = {0};
    struct snapc_hdr h = ok;
    h.magic = 0x12345678;
    bad_frame(h, pl, 16, -EPROTO, "magic");
    h = ok;
    h.version = 9;
    bad_frame(h, pl, 16, -EPROTO, "version 9");
    h = ok;
    h.len = 5000; /* over this reader's bound */
    bad_frame(h, pl, 0, -EPROTO, "too long");
    h = ok;
    h.len = 8; /* RAISE is 16 bytes */
    bad_frame(h, pl, 8, -EPROTO, "expected 16");
    h = ok;
    h.type = 77;
    bad_frame(h, pl, 16, -EPROTO, "unknown message type");
    h = ok;
    h.type = SNAPC_MSG_SEQS;
    h.len = 8 + 16;
    struct snapc_table t = {.n = 2};
    memcpy(pl, &t, sizeof t);
    bad_frame(h, pl, 24, -EPROTO, "table of 2 entries");
    h = ok;
    h.type = SNAPC_TOOL_DONE;
    h.len = 16;
    struct snapc_tool_done d = {.ref_len = 100};
    memcpy(pl, &d, sizeof d);
    bad_frame(h, pl, 16, -EPROTO, "reference of 100 bytes");
    /* the peer closing inside a frame */
    fresh();
    CHECK_EQ(write(pair[0], &ok, sizeof ok), (ssize_t)sizeof ok);
    close(pair[0]);
    pair[0] = dup(pair[1]);
    shutdown(pair[1], SHUT_WR);
    struct snapc_reader r;
    snapc_reader_init(&r, 4096);
    int e = snapc_reader_wait(pair[1], &r, 200);
    CHECK(e == -ECONNRESET || e == -ETIMEDOUT);
    snapc_reader_free(&r);
}

static void test_secret(void)
{
    char a[SNAPC_SECRET_HEX + 1], b[SNAPC_SECRET_HEX + 1];
    CHECK_EQ(snapc_secret_new(a), 0);
    CHECK_EQ(snapc_secret_new(b), 0);
    CHECK_EQ(strlen(a), SNAPC_SECRET_HEX);
    CHECK(snapc_secret_valid(a));
    CHECK(strcmp(a, b) != 0);
    CHECK(snapc_secret_equal(a, a, SNAPC_SECRET_HEX));
    CHECK(!snapc_secret_equal(a, b, SNAPC_SECRET_HEX));
    char c[SNAPC_SECRET_HEX + 1];
    memcpy(c, a, sizeof c);
    c[SNAPC_SECRET_HEX - 1] ^= 1;
    CHECK(!snapc_secret_equal(a, c, SNAPC_SECRET_HEX));
    CHECK(!snapc_secret_valid("abc"));
    CHECK(!snapc_secret_valid(NULL));
    c[3] = 'g';
    CHECK(!snapc_secret_valid(c));
}

static void test_connect(void)
{
    char err[256];
    CHECK_EQ(snapc_tcp_connect("nonsense", 100, err, sizeof err), -EINVAL);
    CHECK_STR_CONTAINS(err, "host:port");
    /* a port nobody listens on */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    CHECK_EQ(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    CHECK_EQ(getsockname(s, (struct sockaddr *)&a, &al), 0);
    char hp[64];
    snprintf(hp, sizeof hp, "127.0.0.1:%d", ntohs(a.sin_port));
    CHECK_EQ(snapc_tcp_connect(hp, 1000, err, sizeof err), -ECONNREFUSED);
    CHECK_EQ(listen(s, 1), 0);
    int fd = snapc_tcp_connect(hp, 1000, err, sizeof err);
    CHECK(fd >= 0);
    close(fd);
    close(s);
}

/* a message longer than its buffer shows its cut ("..."); one that fits comes whole */
static void test_text(void)
{
    char d[8];
    CHECK_EQ(strcmp(snapc_wire_text(d, sizeof d, "abcdefg", 7), "abcdefg"), 0);
    CHECK_EQ(strcmp(snapc_wire_text(d, sizeof d, "abcdefgh", 8), "abcd..."), 0);
    CHECK_EQ(strcmp(snapc_wire_text(d, sizeof d, "ab\0cdefghij", 11), "ab"), 0);
}

static int every_kth(int r, void *arg)
{
    return r % *(int *)arg == 0;
}

/* Rank lists: the first 32, then ",..." (diffrev45 R-L5: the restore's "not begun" list was cut
 * at 512 bytes with nothing to show it, ~100 of 1000 ranks; R-L4: two copies of the loop) */
static void test_rank_list(void)
{
    struct snapc_sbuf b = {0};
    int k = 1;
    CHECK_EQ(snapc_sb_rank_list(&b, 1000, every_kth, &k), 1000);
    CHECK(b.p && !strncmp(b.p, "0,1,2,3,", 8));
    CHECK(b.p && strlen(b.p) >= 10 && !strcmp(b.p + strlen(b.p) - 10, ",30,31,..."));
    CHECK(b.p && !strstr(b.p, ",32"));
    snapc_sb_free(&b);
    /* exactly 32: whole, no ellipsis; 33: the ellipsis */
    k = 10;
    CHECK_EQ(snapc_sb_rank_list(&b, 320, every_kth, &k), 32);
    CHECK(b.p && !strstr(b.p, "..."));
    CHECK(b.p && strlen(b.p) >= 4 && !strcmp(b.p + strlen(b.p) - 4, ",310"));
    snapc_sb_free(&b);
    CHECK_EQ(snapc_sb_rank_list(&b, 321, every_kth, &k), 33);
    CHECK(b.p && strlen(b.p) >= 8 && !strcmp(b.p + strlen(b.p) - 8, ",310,..."));
    snapc_sb_free(&b);
    /* none: nothing written */
    k = 2000;
    CHECK_EQ(snapc_sb_rank_list(&b, 1, every_kth, &k), 1);
    CHECK(b.p && !strcmp(b.p, "0"));
    snapc_sb_free(&b);
    CHECK_EQ(snapc_sb_rank_list(&b, 0, every_kth, &k), 0);
    CHECK(!b.p || !b.p[0]);
    snapc_sb_free(&b);
}

/* the same failure but for its numbers (coord_failrep.c, agent_stage.c: said once) */
static void test_same_cause(void)
{
    CHECK(snapc_text_same_cause("rank 0 could not copy /d/1/.rank_0.img.tmp.4242: No space left",
                                "rank 1 could not copy /d/17/.rank_1.img.tmp.99: No space left"));
    CHECK(snapc_text_same_cause("", ""));
    CHECK(!snapc_text_same_cause("rank 0 could not copy /d/1: No space left",
                                 "rank 0 could not copy /d/1: Permission denied"));
    CHECK(!snapc_text_same_cause("rank 1 did not answer", "rank 1 did not answer within 2 s"));
    CHECK(!snapc_text_same_cause("abc", "ab"));
}

int main(void)
{
    test_rank_list();
    test_text();
    test_roundtrip();
    test_malformed();
    test_secret();
    test_connect();
    test_same_cause();
    CHECK_STR_CONTAINS(snapc_phase_name(SNAPC_PHASE_CAPTURED), "Locally Finished");
    return test_summary("test_wire");
}
