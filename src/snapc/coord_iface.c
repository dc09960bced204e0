/* Which of this host's addresses the ranks reach the coordinator at, when the user told the
 * launcher which network to use (a host with several interfaces): Open MPI's
 * oob_tcp_if_include (--mca/-mca option, or OMPI_MCA_oob_tcp_if_include), MPICH's -iface
 * (or HYDRA_IFACE). Open MPI's value is a comma list of interface names and IPv4 subnets
 * (10.77.0.0/24); MPICH's one interface name. Only the launcher's options count (those before
 * the first program). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "snapc/coord_int.h"
#include "snapc/iface.h"

/* The value the user gave, and which option it came from. */
static const char *user_iface(char *const *args, int end, const char *flavor, const char **from)
{
    const char *v = NULL;
    for (int i = 0; i < end; i++) {
        const char *a = args[i];
        if ((!strcmp(a, "--mca") || !strcmp(a, "-mca") || !strcmp(a, "--omca")) && i + 2 < end &&
            !strcmp(args[i + 1], "oob_tcp_if_include")) {
            v = args[i + 2];
            *from = "--mca oob_tcp_if_include";
        } else if ((!strcmp(a, "-iface") || !strcmp(a, "--iface")) && i + 1 < end) {
            v = args[i + 1];
            *from = "-iface";
        } else if (!strncmp(a, "-iface=", 7) || !strncmp(a, "--iface=", 8)) {
            v = strchr(a, '=') + 1;
            *from = "-iface";
        }
    }
    if (v)
        return v;
    flavor = flavor ? flavor : "";
    if (!strcmp(flavor, "ompi") && (v = getenv("OMPI_MCA_oob_tcp_if_include")) && *v) {
        *from = "OMPI_MCA_oob_tcp_if_include";
        return v;
    }
    if (!strcmp(flavor, "mpich") && (v = getenv("HYDRA_IFACE")) && *v) {
        *from = "HYDRA_IFACE";
        return v;
    }
    return NULL;
}

/* Does interface `name` with address `a` match one item (a name or an a.b.c.d/n subnet)? */
static int item_matches(const char *item, size_t len, const char *name, struct in_addr a)
{
    char it[128];
    if (len == 0 || len >= sizeof it)
        return 0;
    memcpy(it, item, len);
    it[len] = 0;
    char *slash = strchr(it, '/');
    if (!slash)
        return strcmp(it, name) == 0;
    *slash = 0;
    char *end;
    long bits = strtol(slash + 1, &end, 10);
    struct in_addr net;
    if (*end || bits < 0 || bits > 32 || inet_pton(AF_INET, it, &net) != 1)
        return 0;
    uint32_t mask = bits ? htonl(~0u << (32 - bits)) : 0;
    return (a.s_addr & mask) == (net.s_addr & mask);
}

static int iface_addr(char *const *args, int end, const char *flavor, const char *who,
                      char *out, size_t len)
{
    const char *from = NULL;
    const char *want = user_iface(args, end, flavor, &from);
    if (!want)
        return 0;
    struct ifaddrs *ifa = NULL;
    if (getifaddrs(&ifa) < 0)
        return 0;
    int found = 0;
    for (struct ifaddrs *i = ifa; i && !found; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !i->ifa_name)
            continue;
        struct in_addr a = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
        for (const char *s = want; *s && !found;) {
            size_t l = strcspn(s, ",");
            if (item_matches(s, l, i->ifa_name, a)) {
                inet_ntop(AF_INET, &a, out, (socklen_t)len);
                found = 1;
            }
            s += l + (s[l] == ',');
        }
    }
    freeifaddrs(ifa);
    if (found)
        revive_log_info("%s at %s (%s %s)", who, out, from, want);
    else
        revive_log_warn("no IPv4 address of this host is on %s (%s); %s at the first address "
                        "of this host instead (REVIVE_COORD_ADDR sets it)",
                        want, from, who);
    return found;
}

void snapc_reach_addr(char *const *args, int end, const char *flavor, const char *who,
                      char *out, size_t len)
{
    const char *env = getenv("REVIVE_COORD_ADDR");
    if (env && *env) {
        snprintf(out, len, "%s", env);
        return;
    }
    if (iface_addr(args, end, flavor, who, out, len))
        return;
    snprintf(out, len, "127.0.0.1");
    struct ifaddrs *ifa = NULL;
    if (getifaddrs(&ifa) < 0)
        return;
    for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
            continue;
        struct sockaddr_in *a = (struct sockaddr_in *)i->ifa_addr;
        if ((ntohl(a->sin_addr.s_addr) >> 24) == 127)
            continue;
        inet_ntop(AF_INET, &a->sin_addr, out, (socklen_t)len);
        break;
    }
    freeifaddrs(ifa);
}
