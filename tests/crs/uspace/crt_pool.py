#!/usr/bin/env python3
# State program (tests/crs contract, crt_common.h) for issue 10's Python
# multiprocessing.Pool under cr_checkpoint --tree: a pool of 3 workers (forked
# children) sharing what multiprocessing makes for them: POSIX named
# semaphores (the queues' locks; /dev/shm/sem.mp-*, unlinked at once) and a
# shared counter (multiprocessing.Value: a deleted /dev/shm file every worker
# maps, its lock one more semaphore). Point 1 comes in the middle of a map:
# 10 of its results are in, and each worker waits in a task for an event
# (multiprocessing.Event: semaphores again) that the program sets after the
# point; point 2 between two maps (the workers idle, blocked on the task
# queue's lock and pipe).
# Each task adds to the counter under its lock, so after a restart the
# workers must share one counter again: copies of their own would lose adds.
# Deterministic lines: the results' sums and the counter.
import multiprocessing as mp
import os
import sys
import time

line = 0


def say(text):
    global line
    line += 1
    print("%02d %s" % (line, text), flush=True)


def write_ready(path):
    tmp = "%s.tmp%d.%d" % (path, os.getpid(), time.monotonic_ns())
    with open(tmp, "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(tmp, path)


def point(n):
    print("-- checkpoint %d --" % n, flush=True)
    ready, go = os.environ.get("REVIVE_TEST_READY"), os.environ.get("REVIVE_TEST_GO")
    if not ready or not go:
        return
    write_ready("%s.%d" % (ready, n))
    deadline = time.monotonic() + int(os.environ.get("REVIVE_TEST_GO_TIMEOUT", "120"))
    while not os.path.exists("%s.%d" % (go, n)):
        if time.monotonic() > deadline:
            sys.exit("waited for %s.%d" % (go, n))
        time.sleep(0.005)


counter = gate = None


def setup(c, g):
    global counter, gate
    counter, gate = c, g


def task(x):
    if x >= 10 and not gate.wait(120):
        return -1
    h = x
    for i in range(2000):
        h = (h * 6364136223846793005 + 1442695040888963407 + i) % (1 << 64)
    with counter.get_lock():
        counter.value += x
    return h % 1000003


def main():
    failures = 0
    c = mp.Value("q", 0)
    g = mp.Event()
    pool = mp.Pool(3, initializer=setup, initargs=(c, g))
    n = 60
    want = sum(range(n))
    it = pool.imap(task, range(n), chunksize=1)
    first = [next(it) for _ in range(10)]
    say("first 10 results: sum %d" % sum(first))
    point(1)   # the workers wait in tasks 10, 11 and 12
    g.set()
    rest = list(it)
    say("all %d results: sum %d" % (n, sum(first) + sum(rest)))
    say("counter after the first map: %d" % c.value)
    if c.value != want:
        print("FAIL counter: got %d, expected %d" % (c.value, want), file=sys.stderr)
        failures += 1
    point(2)   # the workers wait for tasks
    second = pool.map(task, range(n, 2 * n), chunksize=2)
    say("second map: sum %d" % sum(second))
    say("counter after the second map: %d" % c.value)
    if c.value != sum(range(2 * n)):
        print("FAIL counter: got %d, expected %d" % (c.value, sum(range(2 * n))), file=sys.stderr)
        failures += 1
    pool.close()
    pool.join()
    ready = os.environ.get("REVIVE_TEST_READY")
    if ready:
        write_ready(ready + ".done")
    if failures:
        say("RESULT FAIL (%d)" % failures)
        sys.exit(1)
    say("RESULT ok")
    sys.exit(42)


if __name__ == "__main__":
    main()
