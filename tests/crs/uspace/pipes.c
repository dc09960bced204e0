/* A process with pipes of its own (both ends held): a self-pipe that holds
 * bytes at the checkpoint, a non-blocking pipe and a dup of a read end. After
 * a restart everything that was in the pipes must come out, in order, and the
 * pipes must go on working. Waits for a go file between the two halves. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *go = argc > 1 ? argv[1] : "go";
    setvbuf(stdout, NULL, _IOLBF, 0);
    int a[2], b[2];
    if (pipe(a) || pipe2(b, O_NONBLOCK))
        return 2;
    int a_dup = dup(a[0]);
    char msg[3000];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (char)('a' + i % 26);
    if (write(a[1], msg, sizeof msg) != (ssize_t)sizeof msg || write(b[1], "xyz", 3) != 3)
        return 2;
    printf("pipes filled\n");
    while (access(go, F_OK) != 0)   /* the checkpoint happens here */
        usleep(10000);
    char got[4000];
    ssize_t n = read(a_dup, got, 1000);
    ssize_t m = read(a[0], got + 1000, sizeof got - 1000);
    printf("self-pipe gave back %zd bytes, in order: %s\n", n + m,
           n + m == (ssize_t)sizeof msg && !memcmp(got, msg, sizeof msg) ? "ok" : "FAIL");
    char t[8] = "";
    n = read(b[0], t, sizeof t);
    printf("non-blocking pipe gave back '%.*s'\n", (int)(n > 0 ? n : 0), t);
    n = read(b[0], t, sizeof t);
    printf("and is still non-blocking: %s\n", n < 0 && errno == EAGAIN ? "ok" : "FAIL");
    if (write(a[1], "again", 5) != 5 || read(a[0], t, 5) != 5 || memcmp(t, "again", 5))
        printf("self-pipe after: FAIL\n");
    else
        printf("self-pipe still works: ok\n");
    return 0;
}
