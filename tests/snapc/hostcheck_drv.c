/* hostcheck_drv FLAVOR WORD...: restart-mpi's check of the hosts before a launch
 * (restart_check_hosts, tools/snapc/restart_hostcheck.c) on the launch line WORD... (the
 * launcher's words; the program is the last one), with a port that answers and one that refuses
 * on an address of this machine that is not a loopback one (the check takes a loopback address
 * for this machine, never asked), exported for a stand-in ssh as REVIVE_TEST_ADDR,
 * REVIVE_TEST_OPEN_PORT and REVIVE_TEST_CLOSED_PORT. Prints "rc R" and the refusal; exit status
 * 0 when the hosts are up, 1 when not, 77 without such an address. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "restart_mpi.h"

/* An IPv4 address of this machine that is not a loopback one, else 0 */
static in_addr_t own_address(void)
{
    struct ifaddrs *ifs = NULL;
    in_addr_t r = 0;
    if (getifaddrs(&ifs) != 0)
        return 0;
    for (const struct ifaddrs *i = ifs; i && !r; i = i->ifa_next)
        if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET) {
            in_addr_t a = ((const struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
            if ((ntohl(a) >> 24) != 127)
                r = a;
        }
    freeifaddrs(ifs);
    return r;
}

/* A TCP socket on ADDR, listening or not (a connect is then refused): its port */
static int port_on(in_addr_t addr, int listening)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = addr};
    socklen_t l = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 ||
        (listening && listen(s, 64) < 0) || getsockname(s, (struct sockaddr *)&a, &l) < 0) {
        perror("hostcheck_drv: a port on this machine");
        exit(99);
    }
    return ntohs(a.sin_port); /* (the socket stays open until the end) */
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: hostcheck_drv FLAVOR LAUNCHER WORD... PROGRAM\n");
        return 99;
    }
    in_addr_t addr = own_address();
    char v[INET_ADDRSTRLEN];
    if (!addr || !inet_ntop(AF_INET, &addr, v, sizeof v)) {
        printf("SKIP: this machine has no IPv4 address besides loopback ones\n");
        return 77;
    }
    setenv("REVIVE_TEST_ADDR", v, 1);
    snprintf(v, sizeof v, "%d", port_on(addr, 1));
    setenv("REVIVE_TEST_OPEN_PORT", v, 1);
    snprintf(v, sizeof v, "%d", port_on(addr, 0));
    setenv("REVIVE_TEST_CLOSED_PORT", v, 1);
    char err[512] = "";
    int prog = argc - 3; /* the program's place in the launch line (argv + 2) */
    int rc = restart_check_hosts(argv + 2, argc - 2, &prog, 1, argv[1], err, sizeof err);
    printf("rc %d%s%s\n", rc, rc ? ": " : "", err);
    return rc ? 1 : 0;
}
