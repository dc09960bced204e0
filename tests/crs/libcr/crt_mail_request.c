/*
 * The first pattern of the BLCR mail (reference/, Paul Hargrove, 2007-12-17),
 * as the mail wrote it: cr_init, then at each place a cr_request followed by
 * an empty cr_enter_cs/cr_leave_cs pair, which "ensures the checkpoint has
 * completed before the next step". Place 1 uses cr_request_file (the mail's
 * advice, so place 3 does not overwrite it), place 3 plain cr_request
 * (context.PID in the current directory).
 *
 * The program prints "-- place1 --" / "-- place3 --" before each request and
 * checks, after each critical section, that the image is there in full
 * (non-empty, mode 0600); mail_request.sh restarts both images and compares what
 * follows each marker with this run. Ends with "RESULT ok", status 42.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <libcr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t state[4096];

static void check_image(const char *what, const char *path)
{
    struct stat st;
    int ok = stat(path, &st) == 0 && st.st_size > 4096 && (st.st_mode & 0777) == 0600;
    crt_check(what, ok, "%s: %s, size %lld, mode %o", path, ok ? "ok" : "missing or wrong",
              (long long)st.st_size, st.st_mode & 0777);
}

int main(void)
{
    cr_client_id_t cr;
    char ctx[64];
    uint64_t h;

    cr = cr_init();
    crt_check("cr_init", cr >= 0, "returned %d", cr);
    for (size_t i = 0; i < sizeof(state) / sizeof(state[0]); i++)
        state[i] = crt_mix(i);
    h = crt_hash(state, sizeof(state), 0);
    crt_say("state %016llx", (unsigned long long)h);

    printf("-- place1 --\n");
    fflush(stdout);
    cr_request_file("ctx.place1"); /* place1: request the first checkpoint here */
    cr_enter_cs(cr);               /* enter critical section, ensures checkpoint is done */
    cr_leave_cs(cr);               /* leave */
    check_image("image of place1 complete after the critical section", "ctx.place1");

    /* place2 */
    crt_check_u64("state intact at place2", crt_hash(state, sizeof(state), 0), h);
    for (size_t i = 0; i < sizeof(state) / sizeof(state[0]); i += 3)
        state[i] ^= 0x5555;
    h = crt_hash(state, sizeof(state), 0);
    crt_say("state changed %016llx", (unsigned long long)h);

    printf("-- place3 --\n");
    fflush(stdout);
    cr_request(); /* place3: request the second checkpoint here */
    cr_enter_cs(cr);
    cr_leave_cs(cr);
    snprintf(ctx, sizeof(ctx), "context.%d", (int)getpid());
    check_image("image of place3 complete after the critical section", ctx);

    /* place4 */
    crt_check_u64("state intact at place4", crt_hash(state, sizeof(state), 0), h);
    crt_finish();
}
