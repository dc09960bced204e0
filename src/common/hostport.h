/*
 * "host:port" and "[ipv6]:port" split into their parts, the one reading of the addresses the
 * ranks' agents connect to (src/snapc/wire.c: the coordinator's, any host name) and those the
 * partner copies and fetches go through (src/filem/partner.c: numeric only). Only the split:
 * what the host and the port may be is each caller's (a name to resolve, or inet_pton; a number,
 * or a service name).
 */
#ifndef REVIVE_COMMON_HOSTPORT_H
#define REVIVE_COMMON_HOSTPORT_H

#include <stddef.h>

/* Splits S at its last ':' into the host, without the brackets of "[ipv6]", copied into HOST
 * (LEN bytes with its NUL), and *PORT, set to what follows the ':' (maybe empty: unchecked).
 * With PORT NULL, S is a host alone ("ip", "[ipv6]"). 0, or -EINVAL: with PORT, S has no ':';
 * nothing stands before the ':' (S is empty); or the part before it, brackets included, has LEN
 * bytes or more. No allocation, no stdio: usable anywhere (src/common/README.md). */
int revive_hostport_split(const char *s, char *host, size_t len, const char **port);

#endif
