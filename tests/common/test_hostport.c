/* revive_hostport_split: host:port and [ipv6]:port into their parts, a host alone, and what it
 * refuses, without malloc. */
#include "common/hostport.h"
#include "common_test.h"

#include <errno.h>

const char ct_no_malloc_what[] = "the host:port splitter";

/* S split with a port: HOST and PORT expected (WANT_RC 0), or -EINVAL and the buffers untouched */
static void split(const char *s, size_t len, int want_rc, const char *want_host,
                  const char *want_port)
{
    char host[300] = "untouched";
    const char *port = "untouched";
    ct_no_malloc = 1;
    int rc = revive_hostport_split(s, host, len, &port);
    ct_no_malloc = 0;
    if (rc != want_rc)
        FAILF("'%s' (%zu bytes for the host): %d, expected %d", s, len, rc, want_rc);
    ASSERT_STREQ(host, want_rc ? "untouched" : want_host);
    ASSERT_STREQ(port, want_rc ? "untouched" : want_port);
}

/* S as a host alone */
static void alone(const char *s, size_t len, int want_rc, const char *want_host)
{
    char host[300] = "untouched";
    int rc = revive_hostport_split(s, host, len, NULL);
    if (rc != want_rc)
        FAILF("host alone '%s' (%zu bytes): %d, expected %d", s, len, rc, want_rc);
    ASSERT_STREQ(host, want_rc ? "untouched" : want_host);
}

int main(void)
{
    split("127.0.0.1:5000", 128, 0, "127.0.0.1", "5000");
    split("node-7.example:http", 256, 0, "node-7.example", "http");
    split("[::1]:5000", 128, 0, "::1", "5000");
    split("[fe80::1%eth0]:22", 128, 0, "fe80::1%eth0", "22");
    /* an IPv6 address without brackets: split at its last ':', as before (it is no host:port) */
    split("::1:5000", 128, 0, "::1", "5000");
    /* the port is the caller's to check: empty or odd, it comes back as it is */
    split("host:", 128, 0, "host", "");
    split("host:x:", 128, 0, "host:x", "");
    split("[]:5", 128, 0, "", "5");
    split("[:5", 128, 0, "[", "5"); /* no closing bracket: kept */
    split("nonsense", 128, -EINVAL, NULL, NULL);
    split("", 128, -EINVAL, NULL, NULL);
    split(":5000", 128, -EINVAL, NULL, NULL);
    /* the host part, brackets included, must fit with its NUL */
    split("abcd:1", 5, 0, "abcd", "1");
    split("abcde:1", 5, -EINVAL, NULL, NULL);
    split("[abc]:1", 5, -EINVAL, NULL, NULL);
    split("[ab]:1", 5, 0, "ab", "1");

    alone("10.1.2.3", 128, 0, "10.1.2.3");
    alone("[::1]", 128, 0, "::1");
    alone("::1", 128, 0, "::1"); /* no port to split off */
    alone("", 128, -EINVAL, NULL);
    alone("abcde", 5, -EINVAL, NULL);

    printf("PASS: host:port and [ipv6]:port split, a host alone, refusals, no malloc\n");
    return 0;
}
