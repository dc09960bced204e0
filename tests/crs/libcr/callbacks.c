/* Callbacks: two thread-context and one signal-context callback, each noting
 * when it runs before and after its cr_checkpoint(). BLCR's order: thread-
 * context ones first, in registration order; the code after cr_checkpoint()
 * in reverse. In the restarted process cr_checkpoint() returns > 0. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libcr.h"

enum { T1, S1, T2, N };
static const char *names[N] = { "T1", "S1", "T2" };
static _Atomic int seq;
static int pre[N], post[N], result[N];

static int cb(void *arg)
{
    int id = (int)(long)arg;
    pre[id] = ++seq;
    int r = cr_checkpoint(CR_CHECKPOINT_READY);
    result[id] = r;
    post[id] = ++seq;
    return 0;
}

int main(int argc, char **argv)
{
    const char *img = argc > 1 ? argv[1] : "cb.img";
    setvbuf(stdout, NULL, _IOLBF, 0);
    cr_client_id_t cr = cr_init();
    if (cr < 0)
        return 2;
    cr_register_callback(cb, (void *)(long)T1, CR_THREAD_CONTEXT);
    cr_register_callback(cb, (void *)(long)S1, CR_SIGNAL_CONTEXT);
    cr_register_callback(cb, (void *)(long)T2, CR_THREAD_CONTEXT);
    printf("registered\n");
    cr_request_file(img);
    cr_enter_cs(cr);
    cr_leave_cs(cr);
    for (int i = 0; i < 200 && !(post[T1] && post[S1]); i++)
        usleep(10000);
    int ok = 1;
    ok &= pre[T1] && pre[T1] < pre[T2] && pre[T2] < pre[S1];
    printf("before: thread-context in registration order, then signal-context: %s\n", ok ? "ok" : "FAIL");
    int ok2 = post[T2] && post[T2] < post[T1];
    printf("after: thread-context in reverse order: %s\n", ok2 ? "ok" : "FAIL");
    for (int i = 0; i < N; i++)
        printf("%s: cr_checkpoint returned %s\n", names[i],
               result[i] > 0 ? "restart (>0)" : result[i] == 0 ? "continue (0)" : "error");
    printf("cr_checkpoint outside a callback: %d\n", cr_checkpoint(0));
    return ok && ok2 ? 0 : 1;
}
