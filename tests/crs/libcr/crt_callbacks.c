/*
 * The BLCR callback and critical-section API, in a program linked with -lcr
 * and checkpointed from outside (no cr_run). Two CR_THREAD_CONTEXT and two
 * CR_SIGNAL_CONTEXT callbacks log when they run and what their
 * cr_checkpoint(CR_CHECKPOINT_READY) returned (0 continuing, > 0 restarted);
 * a worker thread sits in a critical section for about a second from the
 * moment the program is ready, so the checkpoint must wait for it.
 *
 * After checkpoint point 1 the program checks (libcr.h): thread-context
 * callbacks ran first, each kind in registration order, the code after
 * cr_checkpoint in reverse order; every cr_checkpoint agreed; the checkpoint
 * began only after the critical section was left. It prints "this is the
 * original process" or "this is the restarted process" (the only line that
 * differs), and RESULT ok, status 42. Without any checkpoint (the reference
 * run) the callback checks report that no callback ran. cr_checkpoint called
 * outside a callback fails (-1) in every case.
 *
 * With an argument IMAGE the program requests its own checkpoint at point 1
 * instead (the reference mail's way: cr_request_file(IMAGE), then an empty
 * critical section, which waits until the image is written).
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <libcr.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile int pre_log[8], post_log[8], ret_of[8];
static volatile int npre, npost;
static volatile int cs_entered, cs_left, cs_left_when_checkpointed = -1;
static cr_client_id_t client;

static int callback(void *arg)
{
    int id = (int)(long)arg, r;
    int k = __atomic_fetch_add(&npre, 1, __ATOMIC_SEQ_CST);
    if (k < 8)
        pre_log[k] = id;
    if (cs_left_when_checkpointed < 0)
        cs_left_when_checkpointed = cs_left;
    r = cr_checkpoint(CR_CHECKPOINT_READY);
    ret_of[id] = r;
    k = __atomic_fetch_add(&npost, 1, __ATOMIC_SEQ_CST);
    if (k < 8)
        post_log[k] = id;
    return 0;
}

static void *cs_worker(void *arg)
{
    int64_t until;
    (void)arg;
    cr_enter_cs(client);
    cs_entered = 1;
    until = crt_mono_ns_syscall() + 1000000000; /* about 1 s in the critical section */
    while (crt_mono_ns_syscall() < until)
        crt_sleep_ms(10);
    cs_left = 1;
    cr_leave_cs(client);
    return NULL;
}

static int pos(const volatile int *log, int n, int id)
{
    for (int i = 0; i < n && i < 8; i++)
        if (log[i] == id)
            return i;
    return -1;
}

int main(int argc, char **argv)
{
    const char *self_image = argc > 1 ? argv[1] : NULL;
    pthread_t t;
    int restarted, agree = 1, r;

    client = cr_init();
    crt_check("cr_init", client >= 0, "returned %d", client);
    crt_check("register thread-context callback 1",
              cr_register_callback(callback, (void *)1L, CR_THREAD_CONTEXT) >= 0, "failed");
    crt_check("register thread-context callback 2",
              cr_register_callback(callback, (void *)2L, CR_THREAD_CONTEXT) >= 0, "failed");
    crt_check("register signal-context callback 3",
              cr_register_callback(callback, (void *)3L, CR_SIGNAL_CONTEXT) >= 0, "failed");
    crt_check("register signal-context callback 4",
              cr_register_callback(callback, (void *)4L, CR_SIGNAL_CONTEXT) >= 0, "failed");
    pthread_create(&t, NULL, cs_worker, NULL);
    while (!cs_entered)
        crt_sleep_ms(1);

    if (self_image) {
        printf("-- checkpoint 1 --\n");
        fflush(stdout);
        cr_request_file(self_image);
        cr_enter_cs(client); /* returns once the checkpoint is done */
        cr_leave_cs(client);
    } else {
        crt_checkpoint_point(1);
    }

    pthread_join(t, NULL);
    /* Thread-context callbacks finish in Revive's own thread, which may still
     * be at it when this thread is let go (a restarted process is let go at
     * once): give them up to 10 s. */
    for (int i = 0; i < 1000 && npost < npre; i++)
        crt_sleep_ms(10);
    r = cr_checkpoint(0);
    crt_check("cr_checkpoint outside a callback: -1", r == -1, "returned %d", r);
    if (npre == 0) {
        crt_say("no callback ran (no checkpoint)");
        crt_say("this is the original process");
        crt_finish();
    }
    crt_check("4 callbacks ran, each once", npre == 4 && npost == 4, "%d before, %d after", npre,
              npost);
    crt_check("before the image: thread-context 1, 2, then signal-context 3, 4",
              pre_log[0] == 1 && pre_log[1] == 2 && pre_log[2] == 3 && pre_log[3] == 4,
              "order %d %d %d %d", pre_log[0], pre_log[1], pre_log[2], pre_log[3]);
    crt_check("after the image: each kind in reverse order",
              pos(post_log, npost, 2) < pos(post_log, npost, 1) &&
                  pos(post_log, npost, 4) < pos(post_log, npost, 3),
              "order %d %d %d %d", post_log[0], post_log[1], post_log[2], post_log[3]);
    restarted = ret_of[1] > 0;
    for (int id = 1; id <= 4; id++)
        if ((ret_of[id] > 0) != restarted || ret_of[id] < 0)
            agree = 0;
    crt_check("every cr_checkpoint returned the same kind of value", agree,
              "returned %d %d %d %d", ret_of[1], ret_of[2], ret_of[3], ret_of[4]);
    crt_check("the checkpoint waited for the critical section to end",
              cs_left_when_checkpointed == 1, "callbacks ran while a thread was inside it");
    {
        int entered = -1;
        for (int i = 0; i < 100 && entered != 0; i++) { /* the checkpoint may be ending */
            entered = cr_tryenter_cs(client);
            if (entered != 0)
                crt_sleep_ms(10);
        }
        crt_check("cr_tryenter_cs after the checkpoint", entered == 0 && cr_leave_cs(client) == 0,
                  "still refused after 1 s");
    }
    crt_say("this is the %s process", restarted ? "restarted" : "original");
    crt_finish();
}
