/*
 * State test (C++): thread_local objects with non-trivial destructors in several threads, and
 * a static object with a destructor. Each worker touches three thread_local objects before its
 * first point (two Trackers, constructed in turn, and a std::vector of std::string), so that
 * libstdc++ registers their destructors (__cxa_thread_atexit) in the thread's own list; the main
 * thread does too, and constructs a function-local static Tracker. After a restart each
 * destructor must run exactly once: a worker's at its exit (in reverse order of construction,
 * its payload intact), the main thread's and the static one at exit(3). Contract: crt_common.h.
 *
 * Workers: two end between the points (group A), two after point 2 (B), and two start after
 * point 1 (C: a restarted process's new threads register their destructors too). Workers end
 * one at a time, and main prints what each one's destructors recorded once it joined it, so the
 * lines are the same in every run. The main thread's thread_local and the static object are
 * destroyed after the RESULT line: exit_check (registered with atexit before the static object
 * was constructed, so it runs after that object's destructor) prints nothing when each ran
 * exactly once, its payload intact, and every worker's destructor ran once; otherwise a FAIL
 * line and status 1 instead of 42, which the harness sees.
 */
extern "C" {
#include "../crt_common.h"
}

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include <pthread.h>
#include <unistd.h>

namespace {

constexpr int kWorkers = 6;      // A: 0, 1; B: 2, 3; C: 4, 5
constexpr int kMain = kWorkers;  // the main thread's index
constexpr int kStatic = kWorkers + 1;
constexpr int kSlots = 2;        // Trackers per thread
constexpr size_t kPayload = 4096;

std::atomic<int> constructed[kWorkers + 2][kSlots];
std::atomic<int> destroyed[kWorkers + 2][kSlots];
std::atomic<int> damaged[kWorkers + 2][kSlots];
std::atomic<int> words_destroyed[kWorkers + 1];

std::mutex log_lock;
std::string dtor_log;   // what the destructors of the worker that ended last recorded

thread_local int my_index = -1;

struct Tracker {
    int owner, slot;
    std::string name;
    std::vector<unsigned char> payload;

    Tracker(int o, int s) : owner(o), slot(s), name(std::string("t") + std::to_string(o) + "." + "ab"[s]),
                            payload(kPayload)
    {
        crt_fill(payload.data(), payload.size(), seed());
        constructed[owner][slot]++;
    }
    ~Tracker()
    {
        bool intact = crt_hash(payload.data(), payload.size(), 7) == expected_hash();
        if (!intact)
            damaged[owner][slot]++;
        destroyed[owner][slot]++;
        if (owner < kWorkers) {
            std::lock_guard<std::mutex> g(log_lock);
            dtor_log += " " + name + (intact ? "" : "(damaged)");
        }
    }
    uint64_t seed() const { return 1000 + 10 * (uint64_t)owner + (uint64_t)slot; }
    uint64_t expected_hash() const
    {
        std::vector<unsigned char> v(kPayload);
        crt_fill(v.data(), v.size(), seed());
        return crt_hash(v.data(), v.size(), 7);
    }
    Tracker(const Tracker &) = delete;
    Tracker &operator=(const Tracker &) = delete;
};

// a library type's non-trivial destructor (its strings' heap blocks too)
struct Words {
    std::vector<std::string> w;
    ~Words()
    {
        if (my_index >= 0 && my_index <= kWorkers)
            words_destroyed[my_index]++;
    }
};

thread_local Tracker *first_seen;   // (a plain thread_local: no destructor)

Tracker &tl_a()
{
    thread_local Tracker a(my_index, 0);
    return a;
}
Tracker &tl_b()
{
    thread_local Tracker b(my_index, 1);
    return b;
}
Words &tl_words()
{
    thread_local Words words;
    return words;
}

Tracker &the_static()
{
    static Tracker s(kStatic, 0);
    return s;
}

// a thread's thread_locals, constructed a then b then words, and what they hold
uint64_t touch(int idx)
{
    my_index = idx;
    first_seen = &tl_a();
    tl_b();
    for (int k = 0; k < 20; k++)
        tl_words().w.push_back("word " + std::to_string(idx) + "/" + std::to_string(k) +
                               " long enough to live on the heap, not in the string itself");
    return crt_hash(tl_a().payload.data(), kPayload, 1) ^ crt_hash(tl_b().payload.data(), kPayload, 2) ^
           tl_words().w.size();
}

pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
bool leave[kWorkers];
bool ready[kWorkers];
uint64_t sums[kWorkers];
pthread_t threads[kWorkers];

void *worker(void *arg)
{
    int idx = (int)(intptr_t)arg;
    uint64_t s = touch(idx);
    pthread_mutex_lock(&m);
    sums[idx] = s;
    ready[idx] = true;
    pthread_cond_broadcast(&cv);
    while (!leave[idx])
        pthread_cond_wait(&cv, &m);
    pthread_mutex_unlock(&m);
    // the objects still whole and the same before the thread ends
    bool same = first_seen == &tl_a() && touch(idx) == (s ^ 20 ^ 40);
    return (void *)(intptr_t)(same ? 1 : 2);
}

void start(int idx)
{
    if (pthread_create(&threads[idx], nullptr, worker, (void *)(intptr_t)idx) != 0)
        crt_die("pthread_create failed");
    pthread_mutex_lock(&m);
    while (!ready[idx])
        pthread_cond_wait(&cv, &m);
    pthread_mutex_unlock(&m);
}

// ends worker idx (alone) and prints what its destructors did
void finish(int idx)
{
    pthread_mutex_lock(&m);
    leave[idx] = true;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&m);
    void *r = nullptr;
    pthread_join(threads[idx], &r);
    std::string log;
    {
        std::lock_guard<std::mutex> g(log_lock);
        log.swap(dtor_log);
    }
    char what[64];
    snprintf(what, sizeof what, "worker %d: its objects unchanged until its end", idx);
    crt_check(what, r == (void *)1, "changed");
    snprintf(what, sizeof what, "worker %d: destructors at its exit", idx);
    crt_check(what, log == " t" + std::to_string(idx) + ".b t" + std::to_string(idx) + ".a", "%s", log.c_str());
    for (int s = 0; s < kSlots; s++) {
        snprintf(what, sizeof what, "worker %d: Tracker %c built once, destroyed once", idx, "ab"[s]);
        crt_check(what, constructed[idx][s] == 1 && destroyed[idx][s] == 1 && damaged[idx][s] == 0,
                  "built %d, destroyed %d, damaged %d", constructed[idx][s].load(), destroyed[idx][s].load(),
                  damaged[idx][s].load());
    }
    snprintf(what, sizeof what, "worker %d: its vector of strings destroyed once", idx);
    CRT_CHECK_U64(what, words_destroyed[idx].load(), 1);
}

void check(const char *when)
{
    char what[96];
    for (int i = 0; i < kWorkers; i++) {
        bool started = ready[i], left = leave[i];
        int c = constructed[i][0] + constructed[i][1], d = destroyed[i][0] + destroyed[i][1];
        snprintf(what, sizeof what, "%s: worker %d %s", when, i,
                 !started ? "not started" : left ? "ended" : "running");
        crt_check(what, started ? c == 2 && d == (left ? 2 : 0) : c == 0 && d == 0,
                  "built %d, destroyed %d", c, d);
    }
    snprintf(what, sizeof what, "%s: the main thread's and the static object built once, not destroyed", when);
    crt_check(what, constructed[kMain][0] == 1 && constructed[kStatic][0] == 1 && destroyed[kMain][0] == 0 &&
                        destroyed[kStatic][0] == 0,
              "main built %d destroyed %d, static built %d destroyed %d", constructed[kMain][0].load(),
              destroyed[kMain][0].load(), constructed[kStatic][0].load(), destroyed[kStatic][0].load());
}

// at exit, after the main thread's thread_local objects and the static object were destroyed
void exit_check()
{
    std::string bad;
    for (int i = 0; i < kWorkers; i++)
        for (int s = 0; s < kSlots; s++)
            if (destroyed[i][s] != 1)
                bad += " worker " + std::to_string(i) + "'s " + "ab"[s] + " destroyed " +
                       std::to_string(destroyed[i][s].load()) + " times;";
    if (destroyed[kMain][0] != 1 || damaged[kMain][0] != 0)
        bad += " the main thread's Tracker destroyed " + std::to_string(destroyed[kMain][0].load()) + " times" +
               (damaged[kMain][0] ? " (damaged)" : "") + ";";
    if (words_destroyed[kMain] != 1)
        bad += " the main thread's vector of strings destroyed " + std::to_string(words_destroyed[kMain].load()) +
               " times;";
    if (destroyed[kStatic][0] != 1 || damaged[kStatic][0] != 0)
        bad += " the static Tracker destroyed " + std::to_string(destroyed[kStatic][0].load()) + " times" +
               (damaged[kStatic][0] ? " (damaged)" : "") + ";";
    if (!bad.empty()) {
        printf("FAIL at exit:%s\n", bad.c_str());
        fflush(stdout);
        _exit(CRT_EXIT_FAIL);
    }
}

}  // namespace

int main()
{
    atexit(exit_check);   // before the static object: runs after its destructor
    the_static();
    uint64_t main_sum = touch(kMain);
    (void)main_sum;
    for (int i = 0; i < 4; i++)
        start(i);
    crt_say("workers 0-3 started, each with two Trackers and a vector of 20 strings");
    check("at start");
    crt_checkpoint_point(1);
    check("after point 1");
    finish(0);
    finish(1);
    start(4);
    start(5);
    crt_say("workers 4 and 5 started after point 1");
    check("before point 2");
    crt_checkpoint_point(2);
    check("after point 2");
    finish(2);
    finish(4);
    finish(3);
    finish(5);
    check("all workers joined");
    crt_check("the main thread's objects unchanged", first_seen == &tl_a() && tl_words().w.size() == 20, "changed");
    crt_finish();   // exit(3): the main thread's thread_locals, the static object, exit_check
}
