/* bench_target: the process that bench/run checkpoints and restarts.
 *
 *   bench_target [--seed S] [--threads T] CTLDIR BYTES
 *
 * It maps BYTES of anonymous private memory, fills it with the incompressible
 * pattern of bench_common.h (T threads), fingerprints it, then idles:
 *
 * - a ticker thread stamps CLOCK_MONOTONIC every 100 us and keeps the longest
 *   gap between two stamps: that is the process's stall (time it made no
 *   progress), whatever stopped it (a checkpoint parking its threads, a fork,
 *   the scheduler);
 * - the main thread looks for a request in CTLDIR every millisecond and
 *   answers it.
 *
 * Requests and answers are files, so that nothing (no descriptor, no pipe, no
 * PID) has to survive a checkpoint/restart besides the process itself: the
 * requester writes "SEQ COMMAND\n" to CTLDIR/req (temporary name + rename),
 * the target answers in CTLDIR/resp.SEQ (temporary name + rename).  The
 * target opens CTLDIR/req only after stat() shows a new file, so between
 * requests it holds no descriptor that an image would have to carry.
 * Commands:
 *   ping   "ok pid=P"                  (after a restart: "I run again")
 *   reset  "ok"                        (forget the longest gap so far)
 *   stats  "maxgap_ns=N ticks=N"       (longest gap since the last reset)
 *   check  "sum=0x.. bad=N first_bad=N check_ns=N"
 *          (fingerprint of the memory now, and how many words differ from
 *           the pattern: 0 after a correct restart)
 *   quit   "ok", then exit status 0
 * When the memory is filled it writes CTLDIR/ready: "pid=P bytes=N sum=0x..
 * fill_ns=N".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_common.h"

#define TICK_NS 100000L
#define POLL_NS 1000000L
#define MAX_THREADS 16

static uint64_t *mem;
static uint64_t nwords;
static uint64_t seed = 1;
static int nthreads;
static char ctldir[PATH_MAX];

static _Atomic int64_t maxgap;
static _Atomic uint64_t ticks;
static _Atomic int reset_req;

static void die(const char *what)
{
	fprintf(stderr, "bench_target: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void *ticker(void *arg)
{
	(void)arg;
	struct timespec d = { 0, TICK_NS };
	int64_t last = bench_ns(CLOCK_MONOTONIC);
	for (;;) {
		clock_nanosleep(CLOCK_MONOTONIC, 0, &d, NULL);
		int64_t now = bench_ns(CLOCK_MONOTONIC);
		int64_t gap = now - last;
		last = now;
		if (atomic_exchange(&reset_req, 0)) {
			atomic_store(&maxgap, 0);
			continue;
		}
		if (gap > atomic_load(&maxgap))
			atomic_store(&maxgap, gap);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

struct slice {
	pthread_t th;
	uint64_t first, n;
	uint64_t sum, bad, first_bad;
	int fill;
};

static void *slice_run(void *arg)
{
	struct slice *s = arg;
	if (s->fill)
		bench_fill(mem, s->first, s->n, seed);
	else
		s->sum = bench_check(mem, s->first, s->n, seed, &s->bad, &s->first_bad);
	return NULL;
}

/* Fill (fill=1) or check (fill=0) the whole buffer with nthreads threads. */
static void run_slices(int fill, uint64_t *sum, uint64_t *bad, uint64_t *first_bad)
{
	struct slice s[MAX_THREADS];
	uint64_t per = (nwords / nthreads + 511) & ~511ULL; /* whole pages */
	int n = 0;
	for (uint64_t first = 0; first < nwords && n < nthreads; first += per, n++) {
		s[n].first = first;
		s[n].n = first + per > nwords ? nwords - first : per;
		s[n].fill = fill;
		if (pthread_create(&s[n].th, NULL, slice_run, &s[n]))
			die("pthread_create");
	}
	uint64_t tsum = 0, tbad = 0, tfb = UINT64_MAX;
	for (int i = 0; i < n; i++) {
		pthread_join(s[i].th, NULL);
		if (fill)
			continue;
		tsum += s[i].sum;
		tbad += s[i].bad;
		if (s[i].bad && s[i].first_bad < tfb)
			tfb = s[i].first_bad;
	}
	if (sum) {
		*sum = tsum;
		*bad = tbad;
		*first_bad = tfb;
	}
}

/* Write text to CTLDIR/name atomically. */
static void put_file(const char *name, const char *text)
{
	char tmp[PATH_MAX + 32], dst[PATH_MAX + 32];
	snprintf(tmp, sizeof tmp, "%s/.tmp.target", ctldir);
	snprintf(dst, sizeof dst, "%s/%s", ctldir, name);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		die(tmp);
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len)
		die("write answer");
	close(fd);
	if (rename(tmp, dst))
		die("rename answer");
}

static void answer(const char *seq, const char *cmd)
{
	char out[256], name[128];
	if (!strcmp(cmd, "ping") || !strcmp(cmd, "quit")) {
		snprintf(out, sizeof out, "ok pid=%d\n", (int)getpid());
	} else if (!strcmp(cmd, "reset")) {
		atomic_store(&reset_req, 1);
		/* wait until the ticker has taken the reset */
		while (atomic_load(&reset_req)) {
			struct timespec d = { 0, TICK_NS };
			nanosleep(&d, NULL);
		}
		snprintf(out, sizeof out, "ok\n");
	} else if (!strcmp(cmd, "stats")) {
		/* After a stop, this thread may run before the ticker has taken
		 * its first stamp: wait for two fresh ticks (at most 2 s) so that
		 * the gap that just ended is counted. */
		uint64_t t0 = atomic_load(&ticks);
		int64_t until = bench_ns(CLOCK_MONOTONIC) + 2000000000LL;
		while (atomic_load(&ticks) < t0 + 2 && bench_ns(CLOCK_MONOTONIC) < until) {
			struct timespec d = { 0, TICK_NS };
			nanosleep(&d, NULL);
		}
		snprintf(out, sizeof out, "maxgap_ns=%" PRId64 " ticks=%" PRIu64 "\n",
			 atomic_load(&maxgap), atomic_load(&ticks));
	} else if (!strcmp(cmd, "check")) {
		uint64_t sum, bad, fb;
		int64_t t0 = bench_ns(CLOCK_MONOTONIC);
		run_slices(0, &sum, &bad, &fb);
		int64_t t1 = bench_ns(CLOCK_MONOTONIC);
		snprintf(out, sizeof out,
			 "sum=0x%016" PRIx64 " bad=%" PRIu64 " first_bad=%" PRId64
			 " check_ns=%" PRId64 "\n",
			 sum, bad, bad ? (int64_t)(fb * 8) : (int64_t)-1, t1 - t0);
	} else {
		snprintf(out, sizeof out, "error unknown command '%.40s'\n", cmd);
	}
	snprintf(name, sizeof name, "resp.%.100s", seq);
	put_file(name, out);
	if (!strcmp(cmd, "quit"))
		exit(0);
}

int main(int argc, char **argv)
{
	int i = 1;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	nthreads = ncpu < 1 ? 1 : ncpu > MAX_THREADS ? MAX_THREADS : (int)ncpu;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			nthreads = atoi(argv[++i]);
		else
			break;
	}
	if (argc - i != 2 || nthreads < 1 || nthreads > MAX_THREADS) {
		fprintf(stderr, "usage: bench_target [--seed S] [--threads 1..%d] CTLDIR BYTES\n",
			MAX_THREADS);
		return 2;
	}
	if (!realpath(argv[i], ctldir))
		die(argv[i]);
	uint64_t bytes = strtoull(argv[i + 1], NULL, 0);
	nwords = bytes / 8;
	if (!nwords) {
		fprintf(stderr, "bench_target: BYTES must be at least 8\n");
		return 2;
	}
	mem = mmap(NULL, nwords * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");

	int64_t t0 = bench_ns(CLOCK_MONOTONIC);
	uint64_t sum, bad, fb;
	run_slices(1, NULL, NULL, NULL);
	int64_t t1 = bench_ns(CLOCK_MONOTONIC);
	run_slices(0, &sum, &bad, &fb);
	if (bad) {
		fprintf(stderr, "bench_target: memory does not hold what was just written\n");
		return 2;
	}

	pthread_t th;
	if (pthread_create(&th, NULL, ticker, NULL))
		die("pthread_create");

	char req[PATH_MAX + 8], text[256];
	snprintf(req, sizeof req, "%s/req", ctldir);
	snprintf(text, sizeof text, "pid=%d bytes=%" PRIu64 " sum=0x%016" PRIx64 " fill_ns=%" PRId64 "\n",
		 (int)getpid(), nwords * 8, sum, t1 - t0);
	put_file("ready", text);

	struct stat seen = { 0 };
	char last_seq[128] = "";
	struct timespec poll = { 0, POLL_NS };
	for (;;) {
		nanosleep(&poll, NULL);
		struct stat st;
		if (stat(req, &st))
			continue;
		if (st.st_ino == seen.st_ino && st.st_size == seen.st_size &&
		    st.st_mtim.tv_sec == seen.st_mtim.tv_sec &&
		    st.st_mtim.tv_nsec == seen.st_mtim.tv_nsec)
			continue;
		int fd = open(req, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		char buf[256];
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		seen = st;
		char seq[128], cmd[64];
		if (sscanf(buf, "%127s %63s", seq, cmd) != 2 || !strcmp(seq, last_seq))
			continue;
		strcpy(last_seq, seq);
		answer(seq, cmd);
	}
}
