/* bench_util: timing, requests and the raw I/O baseline for bench/run.
 *
 *   bench_util now
 *       CLOCK_REALTIME in ns (a start stamp shared between processes).
 *   bench_util time [--timeout SEC] LOG -- CMD ARGS...
 *       Runs CMD (stdin /dev/null, stdout and stderr appended to LOG), prints
 *       "elapsed_ns=N status=S" (S: exit status, "sigN", or "timeout" after
 *       killing CMD).  Exit status 0 if it could run CMD at all.
 *   bench_util ask [--timeout SEC] [--since NS] [--pid PID] CTLDIR COMMAND
 *       Sends COMMAND to a bench_target and prints its answer; with --since,
 *       appends " elapsed_ns=N": realtime when the answer appeared minus NS.
 *       With --pid, gives up as soon as PID has exited (or is a zombie).
 *   bench_util ready [--timeout SEC] [--pid PID] CTLDIR
 *       Waits for CTLDIR/ready (the target's memory is filled) and prints it.
 *   bench_util exec CMD ARGS...
 *       Closes every descriptor above 2, then execs CMD (same PID): the
 *       target and cr_restart must not inherit the runner's pipes.
 *   bench_util dropcaches
 *       sync, then echo 3 > /proc/sys/vm/drop_caches (exit 1 if not allowed).
 *   bench_util raw [--warm] [--chunk MIB] DIR BYTES
 *       The raw I/O limit: fills BYTES of memory (untimed), then times
 *       "raw write" (create DIR/raw.bin, write() in CHUNK pieces, fsync the
 *       file and DIR, close) and "raw read" (into freshly mapped anonymous
 *       memory, page faults included), dropping the page cache in between
 *       unless --warm; verifies what was read and removes the file.  Prints
 *       "raw_write_ns=N raw_read_ns=N cache=cold|warm".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_common.h"
#include "common/procfs.h"

static void die(const char *what)
{
	fprintf(stderr, "bench_util: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_util now\n"
		"       bench_util time [--timeout SEC] LOG -- CMD ARGS...\n"
		"       bench_util ask [--timeout SEC] [--since NS] [--pid PID] CTLDIR COMMAND\n"
		"       bench_util ready [--timeout SEC] [--pid PID] CTLDIR\n"
		"       bench_util exec CMD ARGS...\n"
		"       bench_util dropcaches\n"
		"       bench_util raw [--warm] [--chunk MIB] DIR BYTES\n");
	exit(2);
}

static void sleep_ns(long ns)
{
	struct timespec d = { ns / 1000000000L, ns % 1000000000L };
	nanosleep(&d, NULL);
}

/* 1 while pid exists and is not a zombie (src/common's /proc readers). */
static int alive(pid_t pid)
{
	char buf[2048]; /* more than a stat line holds: 52 fields */
	if (revive_proc_read(pid, 0, "stat", buf, sizeof buf) < 0)
		return 0;
	char st = revive_stat_state(buf);
	return st != 'Z' && st != 'X';
}

static void close_from(int first)
{
	if (syscall(SYS_close_range, first, ~0U, 0) == 0)
		return;
	long max = sysconf(_SC_OPEN_MAX);
	for (int fd = first; fd < max; fd++)
		close(fd);
}

static int cmd_time(int argc, char **argv)
{
	double timeout = 600;
	int i = 0;
	if (i + 1 < argc && !strcmp(argv[i], "--timeout"))
		timeout = atof(argv[i + 1]), i += 2;
	if (argc - i < 3 || strcmp(argv[i + 1], "--"))
		usage();
	const char *log = argv[i];
	char **cmd = argv + i + 2;

	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	int lfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (lfd < 0)
		die(log);

	int64_t t0 = bench_ns(CLOCK_MONOTONIC);
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		sigprocmask(SIG_UNBLOCK, &chld, NULL);
		int nfd = open("/dev/null", O_RDONLY);
		if (nfd < 0 || dup2(nfd, 0) < 0 || dup2(lfd, 1) < 0 || dup2(lfd, 2) < 0)
			_exit(126);
		close_from(3);
		execvp(cmd[0], cmd);
		dprintf(2, "bench_util: cannot run %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	int64_t deadline = t0 + (int64_t)(timeout * 1e9);
	int status;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		int64_t left = deadline - bench_ns(CLOCK_MONOTONIC);
		if (left <= 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			printf("elapsed_ns=%" PRId64 " status=timeout\n",
			       bench_ns(CLOCK_MONOTONIC) - t0);
			return 0;
		}
		struct timespec d = { left / 1000000000L, left % 1000000000L };
		sigtimedwait(&chld, NULL, &d);
	}
	int64_t t1 = bench_ns(CLOCK_MONOTONIC);
	if (WIFEXITED(status))
		printf("elapsed_ns=%" PRId64 " status=%d\n", t1 - t0, WEXITSTATUS(status));
	else
		printf("elapsed_ns=%" PRId64 " status=sig%d\n", t1 - t0, WTERMSIG(status));
	return 0;
}

/* Wait for path to exist; print its content.  0 found, 1 timeout/died. */
static int wait_file(const char *path, double timeout, pid_t pid, int64_t since, int unlink_it)
{
	int64_t start = bench_ns(CLOCK_MONOTONIC);
	int64_t deadline = start + (int64_t)(timeout * 1e9);
	int64_t next_alive = start;
	for (;;) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			int64_t seen = bench_ns(CLOCK_REALTIME);
			char buf[512];
			ssize_t n = read(fd, buf, sizeof buf - 1);
			close(fd);
			if (n < 0)
				n = 0;
			buf[n] = 0;
			if (n && buf[n - 1] == '\n')
				buf[n - 1] = 0;
			if (unlink_it)
				unlink(path);
			if (since)
				printf("%s elapsed_ns=%" PRId64 "\n", buf, seen - since);
			else
				printf("%s\n", buf);
			return 0;
		}
		int64_t now = bench_ns(CLOCK_MONOTONIC);
		if (now > deadline) {
			fprintf(stderr, "bench_util: no answer in %s after %.0f s\n", path, timeout);
			return 1;
		}
		if (pid > 0 && now >= next_alive) {
			if (!alive(pid)) {
				fprintf(stderr, "bench_util: process %d exited without answering (%s)\n",
					(int)pid, path);
				return 1;
			}
			next_alive = now + 10000000;
		}
		sleep_ns(100000);
	}
}

static int cmd_ask(int argc, char **argv, int ready)
{
	double timeout = 60;
	int64_t since = 0;
	pid_t pid = 0;
	int i = 0;
	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (!strcmp(argv[i], "--timeout"))
			timeout = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--since"))
			since = strtoll(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--pid"))
			pid = atoi(argv[i + 1]);
		else
			usage();
	}
	if (argc - i != (ready ? 1 : 2))
		usage();
	const char *ctl = argv[i];
	char path[PATH_MAX];
	if (ready) {
		snprintf(path, sizeof path, "%s/ready", ctl);
		return wait_file(path, timeout, pid, 0, 0);
	}
	char seq[32], tmp[PATH_MAX], req[PATH_MAX];
	snprintf(seq, sizeof seq, "%" PRId64, bench_ns(CLOCK_REALTIME));
	snprintf(tmp, sizeof tmp, "%s/.tmp.req.%d", ctl, (int)getpid());
	snprintf(req, sizeof req, "%s/req", ctl);
	snprintf(path, sizeof path, "%s/resp.%s", ctl, seq);
	FILE *f = fopen(tmp, "w");
	if (!f)
		die(tmp);
	fprintf(f, "%s %s\n", seq, argv[i + 1]);
	if (fclose(f))
		die(tmp);
	if (rename(tmp, req))
		die("rename request");
	return wait_file(path, timeout, pid, since, 1);
}

static int drop_caches(void)
{
	sync();
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd < 0)
		return -1;
	int ok = write(fd, "3\n", 2) == 2;
	close(fd);
	return ok ? 0 : -1;
}

static int cmd_raw(int argc, char **argv)
{
	int warm = 0;
	size_t chunk = 64 << 20;
	int i = 0;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--warm"))
			warm = 1;
		else if (!strcmp(argv[i], "--chunk") && i + 1 < argc)
			chunk = (size_t)atol(argv[++i]) << 20;
		else
			usage();
	}
	if (argc - i != 2 || !chunk)
		usage();
	const char *dir = argv[i];
	uint64_t nwords = strtoull(argv[i + 1], NULL, 0) / 8;
	size_t bytes = nwords * 8;
	const uint64_t seed = 7;
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/raw.bin", dir);

	uint64_t *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	bench_fill(mem, 0, nwords, seed);
	sync(); /* start from a clean page cache, as a checkpoint does */

	int64_t t0 = bench_ns(CLOCK_MONOTONIC);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		die(path);
	for (size_t off = 0; off < bytes;) {
		size_t n = bytes - off < chunk ? bytes - off : chunk;
		ssize_t w = write(fd, (char *)mem + off, n);
		if (w <= 0)
			die("write");
		off += (size_t)w;
	}
	if (fsync(fd))
		die("fsync");
	if (close(fd))
		die("close");
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd))
		die(dir);
	close(dfd);
	int64_t t1 = bench_ns(CLOCK_MONOTONIC);
	munmap(mem, bytes);

	if (!warm && drop_caches()) {
		fprintf(stderr, "bench_util: cannot drop the page cache (not root?): "
				"the raw read is warm\n");
		warm = 1;
	}

	int64_t t2 = bench_ns(CLOCK_MONOTONIC);
	mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(path);
	for (size_t off = 0; off < bytes;) {
		size_t n = bytes - off < chunk ? bytes - off : chunk;
		ssize_t r = read(fd, (char *)mem + off, n);
		if (r <= 0) {
			if (!r)
				errno = EIO;
			die("read");
		}
		off += (size_t)r;
	}
	close(fd);
	int64_t t3 = bench_ns(CLOCK_MONOTONIC);

	uint64_t bad, fb;
	bench_check(mem, 0, nwords, seed, &bad, &fb);
	unlink(path);
	munmap(mem, bytes);
	if (bad) {
		fprintf(stderr, "bench_util: raw read-back differs from what was written\n");
		return 1;
	}
	printf("raw_write_ns=%" PRId64 " raw_read_ns=%" PRId64 " cache=%s\n",
	       t1 - t0, t3 - t2, warm ? "warm" : "cold");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	const char *c = argv[1];
	argc -= 2;
	argv += 2;
	if (!strcmp(c, "now")) {
		printf("%" PRId64 "\n", bench_ns(CLOCK_REALTIME));
		return 0;
	}
	if (!strcmp(c, "time"))
		return cmd_time(argc, argv);
	if (!strcmp(c, "ask"))
		return cmd_ask(argc, argv, 0);
	if (!strcmp(c, "ready"))
		return cmd_ask(argc, argv, 1);
	if (!strcmp(c, "exec")) {
		if (argc < 1)
			usage();
		close_from(3);
		execvp(argv[0], argv);
		fprintf(stderr, "bench_util: cannot run %s: %s\n", argv[0], strerror(errno));
		return 127;
	}
	if (!strcmp(c, "dropcaches"))
		return drop_caches() ? 1 : 0;
	if (!strcmp(c, "raw"))
		return cmd_raw(argc, argv);
	usage();
	return 2;
}
