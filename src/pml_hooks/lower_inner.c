/* Part of the lower root (lower_root.c): the libc calls the MPI library and its dependencies make
 * that open and close a descriptor inside themselves, by the lower libc's own code, past every
 * wrapper of the root's (lower_inner.h). Each runs inside a fork guard section as a whole, unless
 * it may wait (a section holds every fork of the application and a checkpoint's park while it
 * lasts, lower_waits.h): an NSS lookup whose sources are not all local files (LDAP, SSSD, nscd,
 * systemd), a host name getaddrinfo must resolve (DNS). Such a call keeps its moment: a fork
 * meanwhile copies its descriptor (O_CLOEXEC: an exec closes it). Nothing here keeps a
 * descriptor past the call (syslog's socket, which libc keeps, is not here: docs/mpi.md says
 * which calls the libraries make, and when). The survey behind the list is in docs/mpi.md,
 * "The MPI library's descriptors". */
#define _GNU_SOURCE
#include "pml_hooks/lower_inner.h"
#include "pml_hooks/lower_waits.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <glob.h>
#include <dirent.h>
#include <grp.h>
#include <ifaddrs.h>
#include <locale.h>
#include <net/if.h>
#include <netdb.h>
#include <pwd.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#define REAL(name) \
    static __typeof__(&name) real_##name; \
    if (!real_##name) \
        real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

/* A call inside a section unless WAITS (evaluated inside it: pml_lower_nss_waits reads a file). */
#define INNER_WRAP_UNLESS(ret, name, params, args, waits) \
    ret name params \
    { \
        REAL(name); \
        int sec_ = revive_lower_fd_enter(); \
        if (sec_ && (waits)) { \
            revive_lower_fd_leave(sec_); \
            sec_ = 0; \
        } \
        ret r_ = real_##name args; \
        revive_lower_fd_leave(sec_); \
        return r_; \
    }
#define INNER_WRAP(ret, name, params, args) INNER_WRAP_UNLESS(ret, name, params, args, 0)
#define INNER_WRAP_VOID(name, params, args) \
    void name params \
    { \
        REAL(name); \
        int sec_ = revive_lower_fd_enter(); \
        real_##name args; \
        revive_lower_fd_leave(sec_); \
    }

/* ---- the processor count: /sys/devices/system/cpu/{possible,online} (hwloc, libnuma, UCX) */
long sysconf(int name)
{
    REAL(sysconf);
    if (name != _SC_NPROCESSORS_CONF && name != _SC_NPROCESSORS_ONLN)
        return real_sysconf(name); /* the rest read no file (the page size: the auxiliary vector) */
    int sec = revive_lower_fd_enter();
    long r = real_sysconf(name);
    revive_lower_fd_leave(sec);
    return r;
}
INNER_WRAP(int, get_nprocs, (void), ())
INNER_WRAP(int, get_nprocs_conf, (void), ())

/* ---- network interfaces: a netlink socket (getifaddrs: UCX, MPICH, libfabric, libevent), an
 * ioctl's socket (if_nametoindex...) */
INNER_WRAP(int, getifaddrs, (struct ifaddrs **ifap), (ifap))
INNER_WRAP(unsigned int, if_nametoindex, (const char *n), (n))
INNER_WRAP(char *, if_indextoname, (unsigned int i, char n[IF_NAMESIZE]), (i, n))
INNER_WRAP(struct if_nameindex *, if_nameindex, (void), ())

/* ---- NSS: /etc/passwd, /etc/group, /etc/services, nsswitch.conf, the modules ld.so loads */
#define PW_WAITS pml_lower_nss_waits("passwd")
#define GR_WAITS pml_lower_nss_waits("group")
INNER_WRAP_UNLESS(struct passwd *, getpwuid, (uid_t u), (u), PW_WAITS)
INNER_WRAP_UNLESS(struct passwd *, getpwnam, (const char *n), (n), PW_WAITS)
INNER_WRAP_UNLESS(int, getpwuid_r, (uid_t u, struct passwd *p, char *b, size_t l, struct passwd **r),
                  (u, p, b, l, r), PW_WAITS)
INNER_WRAP_UNLESS(int, getpwnam_r, (const char *n, struct passwd *p, char *b, size_t l, struct passwd **r),
                  (n, p, b, l, r), PW_WAITS)
INNER_WRAP_UNLESS(struct group *, getgrgid, (gid_t g), (g), GR_WAITS)
INNER_WRAP_UNLESS(struct group *, getgrnam, (const char *n), (n), GR_WAITS)
INNER_WRAP_UNLESS(int, getgrgid_r, (gid_t g, struct group *p, char *b, size_t l, struct group **r),
                  (g, p, b, l, r), GR_WAITS)
INNER_WRAP_UNLESS(int, getgrnam_r, (const char *n, struct group *p, char *b, size_t l, struct group **r),
                  (n, p, b, l, r), GR_WAITS)
INNER_WRAP_UNLESS(int, getgrouplist, (const char *u, gid_t g, gid_t *gs, int *n), (u, g, gs, n),
                  pml_lower_nss_waits("initgroups"))
/* getlogin_r reads /proc/self/loginuid, then the passwd database */
INNER_WRAP_UNLESS(int, getlogin_r, (char *b, size_t l), (b, l), PW_WAITS)
INNER_WRAP_UNLESS(struct servent *, getservbyname, (const char *n, const char *p), (n, p),
                  pml_lower_nss_waits("services"))

/* ---- names and addresses: getaddrinfo reads /etc/hosts, /etc/gai.conf, /etc/resolv.conf and
 * asks the kernel for the addresses (netlink) without waiting when the host is a number (or
 * none) and the service a number (or none); a name may need DNS (waits, unless the hosts
 * database is local only). */
static int numeric_host(const char *h)
{
    unsigned char a[16];
    return !h || inet_pton(AF_INET, h, a) == 1 || inet_pton(AF_INET6, h, a) == 1;
}

static int numeric_serv(const char *s)
{
    if (!s)
        return 1;
    if (!*s)
        return 0;
    while (*s >= '0' && *s <= '9')
        s++;
    return !*s;
}

static int addrinfo_waits(const char *node, const char *serv, const struct addrinfo *hints)
{
    int fl = hints ? hints->ai_flags : 0;
    if (!(fl & AI_NUMERICHOST) && !numeric_host(node) && pml_lower_nss_waits("hosts") &&
        !pml_lower_hosts_local(node))
        return 1;
    return !(fl & AI_NUMERICSERV) && !numeric_serv(serv) && pml_lower_nss_waits("services");
}

INNER_WRAP_UNLESS(int, getaddrinfo,
                  (const char *node, const char *serv, const struct addrinfo *hints, struct addrinfo **res),
                  (node, serv, hints, res), addrinfo_waits(node, serv, hints))

static int nameinfo_waits(char *host, socklen_t hl, char *serv, socklen_t sl, int flags)
{
    if (host && hl && !(flags & NI_NUMERICHOST) && pml_lower_nss_waits("hosts"))
        return 1;
    return serv && sl && !(flags & NI_NUMERICSERV) && pml_lower_nss_waits("services");
}

INNER_WRAP_UNLESS(int, getnameinfo,
                  (const struct sockaddr *sa, socklen_t len, char *host, socklen_t hl, char *serv,
                   socklen_t sl, int flags),
                  (sa, len, host, hl, serv, sl, flags), nameinfo_waits(host, hl, serv, sl, flags))

/* ---- directories walked inside one call (opendir itself: lower_root.c); a ~user pattern looks
 * the user up */
INNER_WRAP_UNLESS(int, glob, (const char *p, int fl, int (*err)(const char *, int), glob_t *g),
                  (p, fl, err, g), p && p[0] == '~' && (fl & GLOB_TILDE) && PW_WAITS)
INNER_WRAP_UNLESS(int, glob64, (const char *p, int fl, int (*err)(const char *, int), glob64_t *g),
                  (p, fl, err, g), p && p[0] == '~' && (fl & GLOB_TILDE) && PW_WAITS)
INNER_WRAP(int, scandir,
           (const char *d, struct dirent ***l, int (*sel)(const struct dirent *),
            int (*cmp)(const struct dirent **, const struct dirent **)),
           (d, l, sel, cmp))
INNER_WRAP(int, scandir64,
           (const char *d, struct dirent64 ***l, int (*sel)(const struct dirent64 *),
            int (*cmp)(const struct dirent64 **, const struct dirent64 **)),
           (d, l, sel, cmp))

/* ---- the time zone: the first local time reads /etc/localtime (or TZ's file). gmtime too: it
 * takes the same lock (tzset_lock) and its first call reads the file as well; unwrapped, a thread
 * parked inside it could hold that lock while a wrapped call waited for it inside its section
 * (diffrev36 R-L8; libevent imports gmtime_r) */
INNER_WRAP(struct tm *, gmtime, (const time_t *t), (t))
INNER_WRAP(struct tm *, gmtime_r, (const time_t *t, struct tm *r), (t, r))
INNER_WRAP(struct tm *, localtime, (const time_t *t), (t))
INNER_WRAP(struct tm *, localtime_r, (const time_t *t, struct tm *r), (t, r))
INNER_WRAP(char *, ctime, (const time_t *t), (t))
INNER_WRAP(char *, ctime_r, (const time_t *t, char *b), (t, b))
INNER_WRAP(time_t, mktime, (struct tm *t), (t))
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral" /* the library's format, passed on */
INNER_WRAP(size_t, strftime, (char *s, size_t m, const char *f, const struct tm *t), (s, m, f, t))
#pragma GCC diagnostic pop
INNER_WRAP_VOID(tzset, (void), ())

/* ---- a thread's name: glibc names (or reads the name of) a thread other than the caller through
 * /proc/self/task/TID/comm (UCX names the threads it starts; a child held that file) */
#include <pthread.h>
INNER_WRAP(int, pthread_setname_np, (pthread_t th, const char *name), (th, name))
INNER_WRAP(int, pthread_getname_np, (pthread_t th, char *buf, size_t len), (th, buf, len))

/* ---- a locale's files (newlocale of a named locale: the locale archive) */
INNER_WRAP(locale_t, newlocale, (int mask, const char *name, locale_t base), (mask, name, base))

/* ---- a named semaphore: a file in /dev/shm made, mapped and closed (Open MPI's sharedfp/sm) */
sem_t *sem_open(const char *name, int flags, ...)
{
    REAL(sem_open);
    va_list ap;
    va_start(ap, flags);
    mode_t mode = (flags & O_CREAT) ? (mode_t)va_arg(ap, unsigned) : 0;
    unsigned value = (flags & O_CREAT) ? va_arg(ap, unsigned) : 0;
    va_end(ap);
    int sec = revive_lower_fd_enter();
    sem_t *s = real_sem_open(name, flags, mode, value);
    revive_lower_fd_leave(sec);
    return s;
}
