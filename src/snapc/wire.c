/* Framing of the snapshot-coordination wire (see wire.h). */
#include "snapc/wire.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/hostport.h"
#include "common/text.h"

_Static_assert(sizeof(struct snapc_hdr) == SNAPC_WIRE_HDR_SIZE, "header layout");
_Static_assert(sizeof(struct snapc_hello) == 168, "hello layout");
_Static_assert(sizeof(struct snapc_welcome) == 16, "welcome layout");
_Static_assert(sizeof(struct snapc_ckpt) == 16, "ckpt layout");
_Static_assert(sizeof(struct snapc_table) == 8, "table layout");
_Static_assert(sizeof(struct snapc_wire_seq) == 16, "seq layout");
_Static_assert(sizeof(struct snapc_raise) == 16, "raise layout");
_Static_assert(sizeof(struct snapc_state_msg) == 176, "state layout");
_Static_assert(sizeof(struct snapc_quiesce) == 8, "quiesce layout");
_Static_assert(sizeof(struct snapc_drained) == 56, "drained layout");
_Static_assert(sizeof(struct snapc_captured) == 16, "captured layout");
_Static_assert(sizeof(struct snapc_failed) == 520, "failed layout");
_Static_assert(sizeof(struct snapc_resume) == 16, "resume layout");
_Static_assert(sizeof(struct snapc_request) == 16, "request layout");
_Static_assert(sizeof(struct snapc_tool_ckpt) == 8, "tool ckpt layout");
_Static_assert(sizeof(struct snapc_tool_done) == 16, "tool done layout");
_Static_assert(SNAPC_MAX_COMMS * sizeof(struct snapc_wire_seq) + sizeof(struct snapc_table) <=
                   SNAPC_WIRE_MAX_PAYLOAD, "a full table fits a frame");

static const char *const phase_names[SNAPC_PHASE_COUNT] = {
    [SNAPC_PHASE_NONE] = "None",
    [SNAPC_PHASE_REQUESTED] = "Requested",
    [SNAPC_PHASE_PENDING] = "Pending",
    [SNAPC_PHASE_RUNNING] = "Running",
    [SNAPC_PHASE_QUIESCED] = "Quiesced",
    [SNAPC_PHASE_DRAINED] = "Drained",
    [SNAPC_PHASE_CAPTURED] = "Locally Finished",
    [SNAPC_PHASE_ESTABLISHED] = "Established",
    [SNAPC_PHASE_RECOVERED] = "Recovered",
    [SNAPC_PHASE_NO_CKPT] = "No Checkpoint",
};

const char *snapc_phase_name(int phase)
{
    if (phase < 0 || phase >= SNAPC_PHASE_COUNT)
        return "Error";
    return phase_names[phase];
}

/* Writes all of p, polling for room while the deadline allows. */
static int send_all(int fd, const void *p, size_t n, int64_t deadline)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            c += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return -errno;
        int64_t left = deadline - revive_mono_ms();
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd pf = {.fd = fd, .events = POLLOUT};
        int r = poll(&pf, 1, (int)(left > 1000 ? 1000 : left));
        if (r < 0 && errno != EINTR)
            return -errno;
        if (r > 0 && (pf.revents & (POLLERR | POLLHUP | POLLNVAL)) && !(pf.revents & POLLOUT))
            return -EPIPE;
    }
    return 0;
}

int snapc_wire_send(int fd, uint16_t type, uint32_t epoch, const void *payload, uint32_t len,
                    const void *tail, uint32_t tail_len, int timeout_ms)
{
    if ((uint64_t)len + tail_len > SNAPC_WIRE_MAX_PAYLOAD)
        return -EMSGSIZE;
    struct snapc_hdr h = {
        .magic = SNAPC_WIRE_MAGIC,
        .version = SNAPC_WIRE_VERSION,
        .type = type,
        .len = len + tail_len,
        .epoch = epoch,
    };
    int64_t deadline = revive_mono_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
    /* Small frames go out in one send so a reader sees them whole. */
    if (len + tail_len <= 4096) {
        char buf[SNAPC_WIRE_HDR_SIZE + 4096];
        memcpy(buf, &h, sizeof h);
        if (len)
            memcpy(buf + sizeof h, payload, len);
        if (tail_len)
            memcpy(buf + sizeof h + len, tail, tail_len);
        return send_all(fd, buf, sizeof h + len + tail_len, deadline);
    }
    int e = send_all(fd, &h, sizeof h, deadline);
    if (e == 0 && len)
        e = send_all(fd, payload, len, deadline);
    if (e == 0 && tail_len)
        e = send_all(fd, tail, tail_len, deadline);
    return e;
}

void snapc_reader_init(struct snapc_reader *r, uint32_t max_len)
{
    memset(r, 0, sizeof *r);
    r->max_len = max_len > SNAPC_WIRE_MAX_PAYLOAD ? SNAPC_WIRE_MAX_PAYLOAD : max_len;
}

void snapc_reader_free(struct snapc_reader *r)
{
    free(r->buf);
    r->buf = NULL;
    r->cap = 0;
}

void snapc_reader_next(struct snapc_reader *r)
{
    r->hgot = 0;
    r->pgot = 0;
    memset(&r->hdr, 0, sizeof r->hdr);
}

__attribute__((format(printf, 2, 3))) static int bad(struct snapc_reader *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
    return -EPROTO;
}

int snapc_reader_feed(int fd, struct snapc_reader *r)
{
    if (r->hgot < SNAPC_WIRE_HDR_SIZE) {
        ssize_t n = recv(fd, r->hbuf + r->hgot, SNAPC_WIRE_HDR_SIZE - r->hgot, MSG_DONTWAIT);
        if (n == 0) {
            snprintf(r->err, sizeof r->err, "connection closed");
            return -ECONNRESET;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return 0;
            snprintf(r->err, sizeof r->err, "read failed: %s", strerror(errno));
            return -errno;
        }
        r->hgot += (uint32_t)n;
        if (r->hgot < SNAPC_WIRE_HDR_SIZE)
            return 0;
        memcpy(&r->hdr, r->hbuf, sizeof r->hdr);
        if (r->hdr.magic != SNAPC_WIRE_MAGIC)
            return bad(r, "not a Revive coordination frame (magic 0x%08lx)", (unsigned long)r->hdr.magic);
        if (r->hdr.version != SNAPC_WIRE_VERSION)
            return bad(r, "protocol version %lu (this side speaks 1)", (unsigned long)r->hdr.version);
        if (r->hdr.len > r->max_len)
            return bad(r, "frame of %lu bytes is too long", (unsigned long)r->hdr.len);
        if (r->hdr.len > r->cap) {
            uint32_t cap = r->hdr.len < 256 ? 256 : r->hdr.len;
            void *nb = realloc(r->buf, cap);
            if (!nb) {
                snprintf(r->err, sizeof r->err, "out of memory for a %u-byte frame", r->hdr.len);
                return -ENOMEM;
            }
            r->buf = nb;
            r->cap = cap;
        }
        r->pgot = 0;
        if (r->hdr.len == 0)
            return 1;
        return 0; /* the payload comes with the next readable event */
    }
    if (r->pgot < r->hdr.len) {
        ssize_t n = recv(fd, r->buf + r->pgot, r->hdr.len - r->pgot, MSG_DONTWAIT);
        if (n == 0) {
            snprintf(r->err, sizeof r->err, "connection closed inside a frame");
            return -ECONNRESET;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return 0;
            snprintf(r->err, sizeof r->err, "read failed: %s", strerror(errno));
            return -errno;
        }
        r->pgot += (uint32_t)n;
    }
    return r->pgot == r->hdr.len ? 1 : 0;
}

int snapc_reader_wait(int fd, struct snapc_reader *r, int timeout_ms)
{
    int64_t deadline = revive_mono_ms() + timeout_ms;
    for (;;) {
        int e = snapc_reader_feed(fd, r);
        if (e != 0)
            return e;
        int64_t left = deadline - revive_mono_ms();
        if (left <= 0) {
            snprintf(r->err, sizeof r->err, "no answer within %d ms", timeout_ms);
            return -ETIMEDOUT;
        }
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        int p = poll(&pf, 1, (int)left);
        if (p < 0 && errno != EINTR) {
            snprintf(r->err, sizeof r->err, "poll failed: %s", strerror(errno));
            return -errno;
        }
    }
}

/* Fixed part of each type's payload, and whether a tail may follow. */
static int fixed_size(uint16_t type, uint32_t *fixed, int *tail)
{
    *tail = 0;
    switch (type) {
    case SNAPC_MSG_HELLO: *fixed = sizeof(struct snapc_hello); return 0;
    case SNAPC_MSG_WELCOME: *fixed = sizeof(struct snapc_welcome); return 0;
    case SNAPC_MSG_REFUSED:
    case SNAPC_MSG_INFO:
    case SNAPC_MSG_ABORT:
    case SNAPC_TOOL_PROGRESS:
    case SNAPC_TOOL_INFO:
    case SNAPC_TOOL_WITHDRAWN: *fixed = 0; *tail = 1; return 0;
    case SNAPC_MSG_CKPT: *fixed = sizeof(struct snapc_ckpt); *tail = 1; return 0;
    case SNAPC_MSG_SEQS:
    case SNAPC_MSG_TARGETS: *fixed = sizeof(struct snapc_table); *tail = 2; return 0;
    case SNAPC_MSG_RAISE: *fixed = sizeof(struct snapc_raise); return 0;
    case SNAPC_MSG_STATE: *fixed = sizeof(struct snapc_state_msg); return 0;
    case SNAPC_MSG_QUIESCE: *fixed = sizeof(struct snapc_quiesce); return 0;
    case SNAPC_MSG_QUIESCED: *fixed = 0; return 0;
    case SNAPC_MSG_CONTINUED: *fixed = 0; return 0;
    case SNAPC_MSG_STARTED: *fixed = SNAPC_SECRET_HEX; return 0;
    case SNAPC_MSG_DRAINED: *fixed = sizeof(struct snapc_drained); return 0;
    case SNAPC_MSG_CAPTURED: *fixed = sizeof(struct snapc_captured); return 0;
    case SNAPC_MSG_FAILED: *fixed = sizeof(struct snapc_failed); *tail = 1; return 0;
    case SNAPC_MSG_RESUME: *fixed = sizeof(struct snapc_resume); return 0;
    case SNAPC_MSG_REQUEST: *fixed = sizeof(struct snapc_request); return 0;
    case SNAPC_MSG_STAGE: *fixed = sizeof(struct snapc_stage); *tail = 1; return 0;
    case SNAPC_MSG_STAGED: *fixed = sizeof(struct snapc_staged); *tail = 1; return 0;
    case SNAPC_MSG_PARTNERED: *fixed = sizeof(struct snapc_partnered); *tail = 1; return 0;
    case SNAPC_MSG_STAGE_FOR: *fixed = sizeof(struct snapc_stage_for); return 0;
    case SNAPC_MSG_STAGED_FOR: *fixed = sizeof(struct snapc_staged_for); *tail = 1; return 0;
    case SNAPC_TOOL_CKPT: *fixed = sizeof(struct snapc_tool_ckpt); *tail = 1; return 0;
    case SNAPC_TOOL_QUERY:
    case SNAPC_TOOL_WITHDRAW: *fixed = 0; return 0;
    case SNAPC_TOOL_DONE: *fixed = sizeof(struct snapc_tool_done); *tail = 3; return 0;
    default: return -1;
    }
}

int snapc_wire_check(const struct snapc_hdr *h, const void *payload, char *err, size_t errlen)
{
    uint32_t fixed;
    int tail;
    if (fixed_size(h->type, &fixed, &tail) < 0) {
        snprintf(err, errlen, "unknown message type %u", h->type);
        return -EPROTO;
    }
    if (h->len < fixed || (!tail && h->len != fixed)) {
        snprintf(err, errlen, "message type %u has %u bytes (expected %s%u)", h->type, h->len,
                 tail ? "at least " : "", fixed);
        return -EPROTO;
    }
    if (tail == 2) {
        struct snapc_table t;
        memcpy(&t, payload, sizeof t);
        if (t.n > SNAPC_MAX_COMMS ||
            h->len != sizeof t + (uint64_t)t.n * sizeof(struct snapc_wire_seq)) {
            snprintf(err, errlen, "table of %u entries in %u bytes", t.n, h->len);
            return -EPROTO;
        }
    }
    if (tail == 3) {
        struct snapc_tool_done d;
        memcpy(&d, payload, sizeof d);
        if (d.ref_len > h->len - fixed || d.ref_len > 4096) {
            snprintf(err, errlen, "reference of %u bytes in a %u-byte answer", d.ref_len, h->len);
            return -EPROTO;
        }
    }
    return 0;
}

char *snapc_wire_str(char *dst, size_t dstlen, const char *field, size_t fieldlen)
{
    if (dstlen == 0)
        return dst;
    size_t n = 0;
    while (n < fieldlen && n + 1 < dstlen && field[n])
        n++;
    memcpy(dst, field, n);
    dst[n] = 0;
    return dst;
}

char *snapc_wire_text(char *dst, size_t dstlen, const char *field, size_t fieldlen)
{
    if (dstlen == 0)
        return dst;
    size_t n = strnlen(field, fieldlen);
    if (n < dstlen) {
        memcpy(dst, field, n);
        dst[n] = 0;
        return dst;
    }
    memcpy(dst, field, dstlen - 1);
    dst[dstlen - 1] = 0;
    revive_text_cut(dst, dstlen); /* "..." on a character boundary */
    return dst;
}

int snapc_secret_new(char out[SNAPC_SECRET_HEX + 1])
{
    unsigned char raw[SNAPC_SECRET_HEX / 2];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        got += (size_t)n;
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof raw; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[SNAPC_SECRET_HEX] = 0;
    explicit_bzero(raw, sizeof raw);
    return 0;
}

int snapc_secret_equal(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a, *y = b;
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++)
        d |= (unsigned char)(x[i] ^ y[i]);
    return d == 0;
}

int snapc_secret_valid(const char *s)
{
    if (!s)
        return 0;
    size_t i;
    for (i = 0; s[i]; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return 0;
    }
    return i == SNAPC_SECRET_HEX;
}

int snapc_tcp_connect(const char *hostport, int timeout_ms, char *err, size_t errlen)
{
    char host[256];
    const char *port;
    /* the port: a number or a service name, of at most 15 characters */
    if (revive_hostport_split(hostport, host, sizeof host, &port) < 0 || !*port ||
        strlen(port) >= 16) {
        snprintf(err, errlen, "'%s' is not host:port", hostport);
        return -EINVAL;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int g = getaddrinfo(host, port, &hints, &res);
    if (g != 0) {
        snprintf(err, errlen, "cannot resolve '%s': %s", hostport, gai_strerror(g));
        return -EHOSTUNREACH;
    }
    int64_t deadline = revive_mono_ms() + timeout_ms;
    int last = -ECONNREFUSED;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            last = -errno;
            continue;
        }
        int r = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (r < 0 && errno == EINPROGRESS) {
            int64_t left = deadline - revive_mono_ms();
            struct pollfd pf = {.fd = fd, .events = POLLOUT};
            r = left > 0 ? poll(&pf, 1, (int)left) : 0;
            if (r == 0) {
                close(fd);
                last = -ETIMEDOUT;
                continue;
            }
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
            if (r < 0 || soerr) {
                last = -(soerr ? soerr : errno);
                close(fd);
                continue;
            }
        } else if (r < 0) {
            last = -errno;
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int fl = fcntl(fd, F_GETFL);
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
        freeaddrinfo(res);
        return fd;
    }
    freeaddrinfo(res);
    snprintf(err, errlen, "cannot connect to %s: %s", hostport, strerror(-last));
    return last;
}

int snapc_text_same_cause(const char *a, const char *b)
{
    for (;; a++, b++) {
        while (*a >= '0' && *a <= '9')
            a++;
        while (*b >= '0' && *b <= '9')
            b++;
        if (*a != *b)
            return 0;
        if (!*a)
            return 1;
    }
}
