/* cr_info's shared vocabulary (cr_info_names.c): the names and counts its text
 * and JSON printers of an image both use. Internal to cr_info. */
#ifndef REVIVE_TOOLS_CR_INFO_NAMES_H
#define REVIVE_TOOLS_CR_INFO_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "crs/base/image.h"

/* An image's sums (totals_of). */
struct totals {
    uint64_t mapped, raw, disk;
    size_t handlers;
};

/* A queued signal's siginfo fields, from the bytes the kernel gave. */
struct qsig { int signo, code, pid, uid; int64_t value; };

/* The advice names of a region's madvise bits, bit 0 first. */
extern const char *const madv_names[8];

/* A region kind's name ("anon", "file", ...), "?" for one unknown. */
const char *kind_name(uint32_t kind);
/* A descriptor kind's name ("regular", "pipe", ...), "?" for one unknown. */
const char *fd_kind_name(uint32_t kind);
/* "rwxp" as /proc/PID/maps shows it; shared kinds get 's'. */
void prot_str(const struct crs_rec_region *r, char out[5]);
/* "SIGINT", "SIGRTMIN+3" or "SIG99". */
void signal_name(int sig, char *buf, size_t len);
/* Bytes of page data stored for [start, end) (both lists are ascending). */
uint64_t bytes_stored(const struct crs_image *img, uint64_t start, uint64_t end);
/* Bytes mapped, stored and on disk, and the handlers set. */
struct totals totals_of(const struct crs_image *img);
/* "0-3,8" for the CPUs an affinity mask holds. */
void cpu_list(const struct crs_rec_thread_attr *a, char *out, size_t cap);
/* A saved file's kind name, and the bytes of it the image holds. */
const char *fobj_kind_name(uint32_t kind);
uint64_t fobj_stored(const struct crs_image *img, const struct crs_rec_fobj *f);
/* A POSIX timer's notification: "none", "signal", "thread-signal". */
const char *notify_name(int32_t notify);
const char *lock_kind_name(uint32_t kind);
/* The path of descriptor fd (a lock's), "?" when the image has no such descriptor. */
const char *lock_fd_path(const struct crs_image *img, int32_t fd);
/* The descriptors of kernel object i (the first one for text). */
int32_t kfd_fd(const struct crs_image *img, size_t i);
/* The EPOLLVIA record of epoll watch `target`, if its number was closed since. */
const struct crs_rec_epoll_via *epoll_via(const struct crs_image *img, size_t target);
/* An address as text, as crs_sockaddr_text names it (a path, @abstract, 1.2.3.4:80, [::1]:80), "-" for none. */
void addr_str(const uint8_t *a, uint32_t len, char *out, size_t cap);
/* A socket's state ("listening", ...) and type ("tcp6", "unix-dgram", ...). */
const char *sock_state_name(uint32_t st);
const char *sock_type_name(const struct crs_rec_socket *s);
/* The option's name as its setsockopt(2) constant, or its level and number. */
const char *sockopt_name(const struct crs_rec_sockopt *o, char *buf, size_t cap);
/* Whom a descriptor's I/O signal goes to, in buf. */
const char *fdown_text(const struct crs_rec_fdown *o, char *buf, size_t cap);
/* A queued signal's fields, and the name of its si_code. */
struct qsig qsig_of(const struct crs_rec_siginfo *q);
const char *si_code_name(int code);

#endif
