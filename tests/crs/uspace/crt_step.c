/*
 * crt_step N STATUS PID: one step of crt_script's shell script, which the
 * checkpoint catches mid-step (the script printed "-- checkpoint N --"):
 * writes PID (the script's) into
 * $REVIVE_TEST_READY.N, waits for $REVIVE_TEST_GO.N (crt_common.h's
 * contract, without forking anything meanwhile), then prints a few lines of
 * data on stdout and exits with STATUS; with a fourth word `null`, with
 * STATUS + 90 when its stdin is not /dev/zero or its stdout not /dev/null (crt_script's null mode);
 * with `made`, with STATUS + 90 when its stdin is not a pipe holding crt_script's here-document
 * (read after point N, then end of file) or its stdout not a regular file (crt_script's made
 * mode).
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5)
        crt_die("usage: crt_step N STATUS PID [null|made]");
    int n = atoi(argv[1]), status = atoi(argv[2]);
    const char *ready = getenv("REVIVE_TEST_READY"), *go = getenv("REVIVE_TEST_GO");
    if (ready && go && *ready && *go) {
        char rpath[4096], tmp[4200], gpath[4096];
        snprintf(rpath, sizeof rpath, "%s.%d", ready, n);
        snprintf(tmp, sizeof tmp, "%s.tmp.%d", rpath, (int)getpid());
        snprintf(gpath, sizeof gpath, "%s.%d", go, n);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%s\n", argv[3]) < 0 || fclose(f) != 0 || rename(tmp, rpath) != 0)
            crt_die("cannot write %s", rpath);
        for (long i = 0; access(gpath, F_OK) != 0; i++) {
            if (i > 120 * 200)
                crt_die("waited 120 s for %s", gpath);
            crt_sleep_ms(5);
        }
    }
    if (argc == 5 && !strcmp(argv[4], "made")) {
        /* `made`: stdin the here-document's pipe, read whole only now; stdout a regular file */
        static const char doc[] = "a here-document: a pipe its script made and wrote\n"
                                  "its second line, then end of file\n";
        char got[4096];
        size_t len = 0;
        ssize_t r;
        struct stat st0 = { 0 }, st1 = { 0 };
        while (len < sizeof got && ((r = read(0, got + len, sizeof got - len)) > 0 || (r < 0 && errno == EINTR)))
            len += r > 0 ? (size_t)r : 0;
        if (fstat(0, &st0) != 0 || !S_ISFIFO(st0.st_mode) || fstat(1, &st1) != 0 || !S_ISREG(st1.st_mode) ||
            len != sizeof doc - 1 || memcmp(got, doc, len)) {
            fprintf(stderr, "crt_step: made: stdin %s with %zu bytes (%.*s), stdout %s\n",
                    S_ISFIFO(st0.st_mode) ? "a pipe" : "not a pipe", len, (int)(len > 60 ? 60 : len), got,
                    S_ISREG(st1.st_mode) ? "a regular file" : "not a regular file");
            status += 90;
        }
    }
    for (int i = 0; i < 5; i++)
        printf("step %d line %d: %016llx\n", n, i, (unsigned long long)crt_mix((uint64_t)(n * 100 + i)));
    if (argc == 5 && !strcmp(argv[4], "null")) {
        /* `null`: stdin and stdout still the /dev/null the script gave them; else STATUS + 90 */
        struct stat st;
        /* stdin /dev/zero (1,5), stdout /dev/null (1,3): newuser10 F5 and newuser10b N1 */
        for (int fd = 0; fd <= 1; fd++)
            if (fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, fd == 0 ? 5 : 3))
                return status + 90;
    }
    return status;
}
