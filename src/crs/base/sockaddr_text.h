/* A socket address as messages name it: "127.0.0.1:5000", "[::1]:5000", a Unix socket's path
 * (an abstract one as "@name"). Shared by the capture's refusals and the restore's messages. */
#ifndef REVIVE_CRS_BASE_SOCKADDR_TEXT_H
#define REVIVE_CRS_BASE_SOCKADDR_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* The address of len bytes at addr (a struct sockaddr_*) into out (cap bytes, NUL-terminated,
 * cut when longer); "(no address)" when len holds no more than its family. */
void crs_sockaddr_text(const void *addr, uint32_t len, char *out, size_t cap);

#endif
