/* Restart hooks and the hand-off blob, for inplace.sh.
 *   handoff IMAGE
 * Registers a hook, starts a worker thread, checkpoints itself to IMAGE
 * (cr_request_checkpoint) and prints what the hooks saw:
 *   continue: checkpoint hook 1, continue hook 1 status 0, worker parked during it
 *   restarted: pid P (was O), handoff "BLOB", worker parked during the hook, ...
 * then stops and joins the worker (pthread_kill reaches it: glibc's idea of
 * its thread id is right) and exits 0 (1 with FAIL lines). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "libcr.h"
#include "crs/base/hooks.h"

static _Atomic unsigned long progress;
static _Atomic int stop, got_usr1;
static int n_checkpoint, n_continue, n_restart, continue_status = 99;
static int parked_in_continue = -1, parked_in_restart = -1, handoff_rc = 99;
static char handoff[256];
static size_t handoff_len;
static pid_t old_pid, hook_pid;

/* The worker runs unless parked: no progress over 50 ms means parked. */
static int worker_parked(void)
{
    unsigned long a = atomic_load(&progress);
    struct timespec ts = { 0, 50000000 };
    nanosleep(&ts, NULL);
    return atomic_load(&progress) == a;
}

static int hook(void *arg, enum crs_hook_event ev, int status)
{
    (void)arg;
    switch (ev) {
    case CRS_HOOK_CHECKPOINT:
        n_checkpoint++;
        break;
    case CRS_HOOK_CONTINUE:
        n_continue++;
        continue_status = status;
        parked_in_continue = worker_parked();
        break;
    case CRS_HOOK_RESTART: {
        n_restart++;
        hook_pid = getpid();
        const void *p;
        handoff_rc = crs_restart_handoff(&p, &handoff_len);
        if (handoff_rc == 0 && handoff_len < sizeof handoff)
            memcpy(handoff, p, handoff_len);
        parked_in_restart = worker_parked();
        break;
    }
    }
    return 0;
}

static void on_usr1(int sig)
{
    (void)sig;
    atomic_store(&got_usr1, 1);
}

static void *worker(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        atomic_fetch_add(&progress, 1);
        sched_yield();
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGUSR1, on_usr1);
    struct crs_hook h = { "test", hook, NULL };
    if (cr_init() < 0 || crs_hook_register(&h) != 0) {
        printf("FAIL cannot register the hook\n");
        return 1;
    }
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    while (atomic_load(&progress) < 1000)
        sched_yield();
    old_pid = getpid();
    cr_checkpoint_args_t a;
    cr_initialize_checkpoint_args_t(&a);
    a.cr_fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    cr_checkpoint_handle_t hd;
    if (a.cr_fd < 0 || cr_request_checkpoint(&a, &hd) != 0) {
        printf("FAIL request: %s\n", strerror(errno));
        return 1;
    }
    int r;
    while ((r = cr_poll_checkpoint(&hd, NULL)) < 0 && errno == EINTR)
        ;
    int fails = 0;
    const void *p;
    size_t len;
    if (crs_restart_handoff(&p, &len) != -ENOENT) {
        printf("FAIL crs_restart_handoff outside a restart hook does not say ENOENT\n");
        fails++;
    }
    if (n_restart == 0) {
        printf("continue: checkpoint hook %d, continue hook %d status %d, worker %s during it\n", n_checkpoint,
               n_continue, continue_status, parked_in_continue == 1 ? "parked" : "running");
    } else {
        printf("restarted: pid %s, hook in this process %s, handoff %d \"%.*s\", restart hook %d, "
               "worker %s during it\n", getpid() != old_pid ? "new" : "old", hook_pid == getpid() ? "yes" : "no",
               handoff_rc, (int)(handoff_len ? handoff_len - 1 : 0), handoff, n_restart,
               parked_in_restart == 1 ? "parked" : "running");
        printf("restarted pid %d\n", (int)getpid());
    }
    pthread_kill(t, SIGUSR1);
    for (int i = 0; i < 5000 && !atomic_load(&got_usr1); i++)
        usleep(1000);
    if (!atomic_load(&got_usr1)) {
        printf("FAIL pthread_kill did not reach the worker\n");
        fails++;
    }
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    printf("joined\n");
    return fails ? 1 : 0;
}
