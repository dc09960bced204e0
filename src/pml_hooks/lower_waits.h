/* Part of the lower root (lower_root.c): whether one of the MPI library's opens or closes may
 * wait, decided by what the call would wait on, not by its name. Each call that makes or closes a
 * descriptor runs inside a fork guard section with its report (src/crs/libcr/fork_guard.h), and a
 * section holds every fork of the application and a checkpoint's park for as long as it lasts:
 * an open of a FIFO with no peer waits until one comes, an open of a terminal may wait for its
 * line, a close of a socket with SO_LINGER waits for its data to go, a close of a terminal for its
 * output to drain (diffrev33 R-L7). Such a call runs outside any section, as accept does (a fork
 * meanwhile may copy its descriptor unmarked: O_CLOEXEC, or an exec, closes it). Every other
 * device keeps its section: the fabric's and the GPU's (uverbs, rdma_cm, knem, xpmem, nvidia),
 * which an MPI library opens while the application's threads may fork, do not wait, and their
 * descriptors must not reach a child unmarked (diffrev35 R-M2). Not told: a regular file that
 * waits (a hung NFS server, a lease another process holds), a device of another kind that waits
 * (a tape): they keep their section. Each costs one stat (two system calls for a socket's close);
 * async-signal-safe. */
#ifndef PML_HOOKS_LOWER_WAITS_H
#define PML_HOOKS_LOWER_WAITS_H

/* The rule, from a stat's st_mode and st_rdev: 1 when an open (closing 0, with its O_ACCMODE) or
 * a close (closing 1) of such a file may wait: a FIFO opened for reading or writing only (O_RDWR
 * does not wait on Linux), a terminal (character majors 4, 5, 136-143). */
int pml_lower_kind_waits(unsigned mode, unsigned long rdev, int accmode, int closing);
/* 1 when open/openat(dir, path, flags) may wait: without O_NONBLOCK or O_PATH, on a file the rule
 * above says waits. A path that does not exist (the call fails, or creates a regular file) does
 * not wait. */
int pml_lower_open_waits(int dir, const char *path, int flags);
/* The same for fopen/freopen's mode ("r", "w+", "ae"...); path NULL (freopen of the same file): fd. */
int pml_lower_fopen_waits(const char *path, const char *mode, int fd);
/* 1 when close(fd) may wait: a socket whose SO_LINGER is on with a time, or a terminal (it drains
 * its output). */
int pml_lower_close_waits(int fd);
/* 1 when an NSS lookup in database DB ("passwd", "group", "initgroups", "hosts", "services")
 * may wait: a source of the database's line in /etc/nsswitch.conf (or glibc's default for it when
 * the file or the line is missing: "dns files" for hosts, "files" for the others; initgroups
 * without a line of its own: group's) other than files, db and myhostname (which read local files
 * or ask the kernel), or nscd's socket /var/run/nscd/socket present (glibc asks nscd first, another
 * process). Read once per database, with raw system calls; call it inside a section (it opens the
 * file). A file longer than 16 KiB, or one it cannot read while it is there: 1. */
int pml_lower_nss_waits(const char *db);
/* 1 when a lookup of the host NAME is answered from /etc/hosts without waiting: the hosts
 * database's first source is files (nsswitch.conf, as above; no nscd) and NAME is a name or an
 * alias of a line of /etc/hosts (case does not matter), which files then answers (its SUCCESS
 * ends the lookup: an action that continues after it is not looked at). Reads /etc/hosts with raw
 * system calls (call it inside a section); 0 when it cannot. */
int pml_lower_hosts_local(const char *name);
/* The rule the above applies to the text of an nsswitch.conf (len bytes; NULL: no file): for tests. */
int pml_lower_nss_rule(const char *conf, unsigned long len, const char *db);
/* 1 when the hosts line of an nsswitch.conf text (NULL: no file) starts with files. */
int pml_lower_hosts_files_first(const char *conf, unsigned long len);
/* 1 when NAME is listed in the text of an /etc/hosts (len bytes). */
int pml_lower_hosts_lists(const char *hosts, unsigned long len, const char *name);

#endif
