/* A library whose constructor, before main, makes a pipe to a process of its own (a logger it
 * starts), as a library of the application may (inherit_reconnect.sh preloads it after libcr).
 * With CRT_CTORPIPE_FD=N: the write end at descriptor N, close-on-exec; the logger reads until the
 * pipe has no writer left, then ends. glibc runs this constructor before libcr's, which took
 * every descriptor open by then for the launcher's: the pipe was recorded as inherited (to be
 * reconnected to whatever a restart has under N) instead of refusing the checkpoint. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((constructor)) static void ctorpipe(void)
{
    const char *want = getenv("CRT_CTORPIPE_FD");
    int p[2];
    if (!want || pipe2(p, O_CLOEXEC) != 0)
        return;
    /* the logger is no child of the program (a checkpoint refuses a process with children): a
     * grandchild, its parent reaped here */
    pid_t c = fork();
    if (c == 0) {
        if (fork() == 0) {
            char b[256];
            close(p[1]);
            while (read(p[0], b, sizeof b) > 0)
                ;
        }
        _exit(0);
    }
    close(p[0]);
    if (c > 0 && waitpid(c, NULL, 0) == c && dup3(p[1], atoi(want), O_CLOEXEC) >= 0)
        (void)!write(atoi(want), "started\n", 8);
    close(p[1]);
}
