/* Wraps setsockopt to note the outgoing multicast interface an IPv4 socket
 * is given by index (IP_MULTICAST_IF with a struct ip_mreqn whose
 * imr_ifindex is set): the kernel keeps it, but no getsockopt gives it back,
 * so the capture could keep only the address and a restart sent the
 * socket's multicast through the routing table's interface instead (issue
 * 10). The notes: crs/base/mcast_if_notes.h. Every other call goes straight
 * to libc's. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "crs/base/capture_filter.h"
#include "crs/base/mcast_if_notes.h"
#include "crs/libcr/runtime.h"

typedef int (*setsockopt_fn)(int, int, int, const void *, socklen_t);

#ifdef REVIVE_LIBCR_STATIC
int __real_setsockopt(int, int, int, const void *, socklen_t);
int __wrap_setsockopt(int, int, int, const void *, socklen_t);
#endif

int CRS_INTERPOSE(setsockopt)(int fd, int level, int name, const void *val, socklen_t len)
{
    static setsockopt_fn real;
    if (!real)
        real = CRS_NEXT(setsockopt_fn, setsockopt);
    if (level != IPPROTO_IP || name != IP_MULTICAST_IF)
        return real ? real(fd, level, name, val, len) : (int)syscall(SYS_setsockopt, fd, level, name, val, len);
    /* the call and its note together: a checkpoint between them would keep the index the
     * kernel no longer has, or miss the one it has */
    crs_park_defer_enter();
    int r = real ? real(fd, level, name, val, len) : (int)syscall(SYS_setsockopt, fd, level, name, val, len);
    if (r == 0) {
        int saved = errno;
        struct ip_mreqn m;
        memset(&m, 0, sizeof m);
        if (val && len >= sizeof m)
            memcpy(&m, val, sizeof m);   /* as the kernel reads it: an ip_mreqn only from its size on */
        crs_mcast_if_note(fd, m.imr_ifindex, m.imr_address.s_addr);
        errno = saved;
    }
    crs_park_defer_leave();
    return r;
}
