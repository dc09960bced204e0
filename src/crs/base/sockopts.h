/* The socket options an image records (image_format.h: SOCKOPTS): every
 * option that changes how a socket behaves and that getsockopt(2) reads
 * back, one row each, shared by the capture (which records those that
 * differ from a new socket's), the restart (which sets them again) and
 * cr_info (which names them). */
#ifndef REVIVE_CRS_BASE_SOCKOPTS_H
#define REVIVE_CRS_BASE_SOCKOPTS_H

#include "crs/base/image_format.h"

#include <stddef.h>

/* Which sockets an option applies to (crs_sockopt_desc.applies). */
#define CRS_SOCKOPT_UNIX 0x1u    /* AF_UNIX */
#define CRS_SOCKOPT_INET 0x2u    /* AF_INET */
#define CRS_SOCKOPT_INET6 0x4u   /* AF_INET6 */
#define CRS_SOCKOPT_ANY 0x7u
#define CRS_SOCKOPT_TCP 0x10u    /* only SOCK_STREAM of AF_INET/AF_INET6 */
#define CRS_SOCKOPT_RAW 0x40u    /* only SOCK_RAW of AF_INET/AF_INET6 */
#define CRS_SOCKOPT_DGRAM 0x20u  /* only sockets that are not SOCK_STREAM (multicast: the kernel
                                  * refuses them on TCP, whose accepted ends read the default) */

/* How it is read, set and shown (crs_sockopt_desc.how). */
#define CRS_SOCKOPT_EARLY 0x1u   /* set before bind/listen/connect too (buffer sizes, which TCP
                                  * advertises in its first segment; the IP header's fields) */
#define CRS_SOCKOPT_BUF 0x2u     /* a buffer size: the kernel keeps twice what was asked, so half
                                  * is asked again; as root the FORCE variant passes the limit */
#define CRS_SOCKOPT_TIMEVAL 0x4u /* struct timeval */
#define CRS_SOCKOPT_LINGER 0x8u  /* struct linger */
#define CRS_SOCKOPT_STR 0x10u    /* a name (a device, a congestion control) */
#define CRS_SOCKOPT_ADDR4 0x20u  /* struct in_addr */
#define CRS_SOCKOPT_PRIV 0x40u   /* setting it needs CAP_NET_ADMIN or CAP_NET_RAW (any value, or
                                  * some values) */

struct crs_sockopt_desc {
    int level, name;
    const char *label;   /* "SO_RCVTIMEO" */
    unsigned applies;    /* CRS_SOCKOPT_UNIX ... */
    unsigned how;        /* CRS_SOCKOPT_EARLY ... */
};

/* The options recorded, and how many. */
extern const struct crs_sockopt_desc crs_sockopts[];
extern const size_t crs_nsockopts;

/* The row of (level, name), or NULL when this Revive does not know it. */
const struct crs_sockopt_desc *crs_sockopt_find(int level, int name);

/* Whether option d applies to a socket of this family and type. */
int crs_sockopt_applies(const struct crs_sockopt_desc *d, int family, int type);

/* The option's value as text ("0.250000 s", "on, 5 s", "cubic", "7") into
 * out (cap bytes, NUL-terminated); its name is crs_sockopt_find's label. */
void crs_sockopt_value_text(const struct crs_rec_sockopt *o, char *out, size_t cap);

#endif
