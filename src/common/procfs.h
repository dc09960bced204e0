/* Reading /proc without allocating: the caller provides every buffer.
 *
 * Usable while other threads of the process are frozen anywhere (inside malloc, holding
 * stdio locks): only open/read/readlink/getdents64/close, no stdio, no malloc, no locks.
 * Also linked into the static cr_restart. Every call returns 0 (or a count/length) on
 * success and -errno on failure, and sets no errno of its own.
 *
 * pid 0 means the calling process (/proc/self); tid 0 means the process, a tid > 0 one
 * of its threads (/proc/PID/task/TID). Ids are as /proc shows them: in the pid namespace
 * /proc was mounted for, which for a process restarted in a namespace of its own is the
 * outer one (see revive_proc_self_pid). */
#ifndef REVIVE_COMMON_PROCFS_H
#define REVIVE_COMMON_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- numbers ------------------------------------------------------------------------------- */

/* Parse the decimal (u64, i64: an optional '-') or hexadecimal (x64: digits only, either
 * case, no "0x") number at *p and move *p past its digits. -EINVAL when *p holds no digit
 * (*p unchanged), -ERANGE when the value does not fit (*p moved past all digits). */
int revive_parse_u64(const char **p, uint64_t *v);
int revive_parse_i64(const char **p, int64_t *v);
int revive_parse_x64(const char **p, uint64_t *v);

/* ---- files --------------------------------------------------------------------------------- */

/* "/proc/self/maps", "/proc/12/status", "/proc/self/task/34/stat" (file NULL: the directory)
 * into out. Returns the length, or -ENAMETOOLONG. */
int revive_proc_path(char *out, size_t cap, pid_t pid, pid_t tid, const char *file);

/* Reads the whole file into buf and NUL-terminates it. Returns the length, or -ENOSPC when
 * the file does not fit in cap - 1 bytes (buf then holds the first cap - 1), or -errno. */
long revive_read_file(const char *path, char *buf, size_t cap);

/* revive_read_file of /proc/PID[/task/TID]/file. */
long revive_proc_read(pid_t pid, pid_t tid, const char *file, char *buf, size_t cap);

/* The pid that /proc calls this process (readlink /proc/self): differs from getpid() when
 * the process runs in a pid namespace that /proc was not mounted for. -errno on failure. */
pid_t revive_proc_self_pid(void);

/* Calls fn(n, dirfd, arg) for every entry of the directory `path` whose name is a number
 * (/proc, /proc/self/task, /proc/self/fd), read with getdents64. Stops at fn's first
 * nonzero return and returns it; 0 after the last entry; -errno when path cannot be read. */
long revive_proc_for_each_number(const char *path, long (*fn)(long n, int dirfd, void *arg), void *arg);

/* The first process but `self` (0: none left out) with a descriptor whose /proc link reads
 * exactly `link` ("socket:[123]", "pipe:[45]", a FIFO's path up to PATH_MAX): the object that link names is
 * open there too. Looks through /proc/PID/fd of every process the caller may read, in /proc's
 * order. Returns its pid as /proc names it and, when fd is not NULL, its descriptor in *fd; 0
 * when no process the caller can see holds it. (Which process holds the other end of a pipe or
 * a socket, for a refusal's message: capture and cr_checkpoint --tree.) */
pid_t revive_proc_find_holder(const char *link, pid_t self, long *fd);
/* The same, leaving out every process in but[0..nbut) (the members of a tree being checkpointed:
 * is the object also open outside them?). */
pid_t revive_proc_find_holder_but(const char *link, const pid_t *but, size_t nbut, long *fd);
/* Whether process pid (as /proc names it) holds a descriptor whose link reads exactly `link`:
 * 1, its descriptor in *fd when fd is not NULL; 0 when not, or its descriptors cannot be read. */
int revive_proc_holds(pid_t pid, const char *link, long *fd);

/* ---- /proc/.../status ---------------------------------------------------------------------- */

/* The value of the line "key:\t..." in a status text (key without the colon: "NSpid"), past
 * the colon and the blanks after it; NULL when there is no such line. The value runs to the
 * next '\n'. */
const char *revive_status_find(const char *status, const char *key);

/* The line's value as one number: decimal (Tgid, PPid, Threads) or hexadecimal (SigPnd,
 * ShdPnd, SigBlk, SigIgn, SigCgt, CapEff...). -ENOENT without the line, -EINVAL when it does
 * not start with a number. */
int revive_status_u64(const char *status, const char *key, uint64_t *v);
int revive_status_x64(const char *status, const char *key, uint64_t *v);

/* The line's values as a list of decimal numbers (NSpid, NStgid: the ids from the outermost
 * pid namespace in; Uid, Gid: real, effective, saved, fs). Stores up to max of them and
 * returns how many the line holds (may exceed max), or -ENOENT without the line. */
int revive_status_ids(const char *status, const char *key, int64_t *ids, int max);

/* ---- /proc/.../stat ------------------------------------------------------------------------ */

/* The state letter ('R', 'S', 'D', 'T', 't', 'Z', 'X'...) of a stat text, or 0 when the text
 * is not one. The command name (field 2) may hold spaces and parentheses: fields are counted
 * from its last ')'. */
char revive_stat_state(const char *stat);

/* The state letter of process pid (0: this process, as revive_proc_read), read from its stat
 * file: 'R', 'S', 'D', 'T' stopped, 't' stopped by its tracer, 'Z' a zombie, 'X'...; 0 when
 * there is no such process (or its stat file cannot be read). One read of /proc/PID/stat. */
char revive_proc_state(pid_t pid);

/* Whether process pid stays stopped: 'T' (stopped by a signal) at once; 't' when one of its
 * threads stays stopped by its tracer for tracer_ms milliseconds of polling (each thread's
 * state read), since a process under strace or ltrace is in 't' for a moment at each traced
 * system call and runs on (a checkpoint under strace was refused as "stopped": the CI of
 * e2f6e5a), while a tracer that stops (a debugger at a breakpoint) holds it, perhaps only its
 * checkpoint thread. 0 when it runs (or is gone: the caller tells), else the state letter.
 * Threads beyond the first 512 in t are not looked at. */
char revive_proc_held_stopped(pid_t pid, int tracer_ms);

/* Waits until process pid is stopped (state T or t), a zombie or gone, polling its stat file
 * for at most timeout_ms milliseconds: kill(SIGSTOP) returns before the target stops (each
 * thread stops when it next runs), and a caller that promises a stopped process (cr_checkpoint
 * --stop, as BLCR's) must not return before. 0 once stopped, -ESRCH when it ended or is gone,
 * -ETIMEDOUT when it still ran after timeout_ms. */
int revive_wait_stopped(pid_t pid, int timeout_ms);

/* Field number `field` (as proc(5) numbers them, 4 or more: ppid is 4, start_code 26) as a
 * number (negative ones as their two's complement). -EINVAL when the text has no such field. */
int revive_stat_field(const char *stat, int field, uint64_t *v);

/* ---- /proc/.../maps ------------------------------------------------------------------------ */

/* One line of a maps file. name points into the reader's buffer and stays valid until the
 * next call: "" for anonymous memory, "[heap]", "[stack]", "[vdso]", a path as the kernel
 * prints it (newlines in it as "\012", a " (deleted)" suffix when the file was removed). */
struct revive_maps_entry {
    uint64_t start, end;   /* [start, end) */
    uint64_t offset;       /* in the file, in bytes */
    uint64_t dev;          /* makedev(major, minor) */
    uint64_t inode;
    char perms[5];         /* "r-xp", "rw-s" */
    int prot;              /* PROT_READ | PROT_WRITE | PROT_EXEC from perms */
    int shared;            /* perms[3] == 's' */
    const char *name;
    int name_cut;          /* the line was longer than the buffer: name holds its beginning */
};

struct revive_maps_reader {
    int fd;
    char *buf;
    size_t cap;
    size_t pos, have;      /* unread lines in buf[pos, have) */
    int eof, skip_line;
};

/* The smallest buffer the reader takes: every field but the name fits. */
#define REVIVE_MAPS_MIN_BUF 256

/* Opens /proc/PID[/task/TID]/maps for reading line by line with buf (cap bytes, at least
 * REVIVE_MAPS_MIN_BUF; 4096 + 256 holds a PATH_MAX path in full unless it has newlines, which
 * the kernel prints as 4 bytes each). 0 or -errno. */
int revive_maps_open(struct revive_maps_reader *r, pid_t pid, pid_t tid, char *buf, size_t cap);

/* The next line into *e: 1, 0 at the end, -errno (-EIO for a line that is no maps line). */
int revive_maps_next(struct revive_maps_reader *r, struct revive_maps_entry *e);

/* /proc/PID[/task/TID]/smaps, read as revive_maps_open reads maps: each mapping's maps line
 * (revive_maps_parse_line reads it) followed by lines of its own ("KernelPageSize:", "VmFlags:"). */
int revive_smaps_open(struct revive_maps_reader *r, pid_t pid, pid_t tid, char *buf, size_t cap);

/* The next line as it is (NUL-terminated, without its newline, inside the buffer until the next
 * call): 1, 0 at the end, -errno. *cut is 1 when the line was longer than the buffer (*line holds
 * its beginning; the rest is skipped). */
int revive_maps_next_line(struct revive_maps_reader *r, char **line, int *cut);

void revive_maps_close(struct revive_maps_reader *r);

/* The mapping of this process that holds addr, asked of the kernel with the PROCMAP_QUERY ioctl
 * of /proc/self/maps (Linux 6.11): [*start, *end) and *shared (a MAP_SHARED mapping, the 's' of
 * its maps line), as its maps line says, without the walk of every mapping that reading maps is
 * (~0.5 ms for an MPI rank's ~360). 0; -ENOENT when no mapping holds addr; -ENOTTY (or
 * -EINVAL) when the kernel has no such ioctl: the caller reads maps; another -errno of the
 * open. */
int revive_maps_query(uint64_t addr, uint64_t *start, uint64_t *end, int *shared);

/* Parses one maps line (NUL-terminated, without its newline) into *e; name points into
 * line. 0, or -EIO when it is no maps line. */
int revive_maps_parse_line(const char *line, struct revive_maps_entry *e);

#endif
