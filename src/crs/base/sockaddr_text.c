/* A socket address as messages name it (sockaddr_text.h). */
#define _GNU_SOURCE
#include "crs/base/sockaddr_text.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

void crs_sockaddr_text(const void *addr, uint32_t len, char *out, size_t cap)
{
    const struct sockaddr *sa = addr;
    if (!cap)
        return;
    if (len <= sizeof(sa_family_t)) {
        snprintf(out, cap, "(no address)");
    } else if (sa->sa_family == AF_UNIX) {
        const struct sockaddr_un *u = addr;
        size_t n = len - offsetof(struct sockaddr_un, sun_path);
        if (n > sizeof u->sun_path)
            n = sizeof u->sun_path;
        if (u->sun_path[0] == 0)
            snprintf(out, cap, "@%.*s", (int)(n ? n - 1 : 0), u->sun_path + 1);
        else
            snprintf(out, cap, "%.*s", (int)strnlen(u->sun_path, n), u->sun_path);
    } else if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = addr;
        char a[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, &in->sin_addr, a, sizeof a);
        snprintf(out, cap, "%s:%u", a, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in = addr;
        char a[INET6_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET6, &in->sin6_addr, a, sizeof a);
        snprintf(out, cap, "[%s]:%u", a, ntohs(in->sin6_port));
    } else {
        snprintf(out, cap, "(an address of family %u)", (unsigned)sa->sa_family);
    }
}
