/* The coordinator's fetch's answer (src/snapc/fetch_lines.c, read by coord_fetch.c): "got R
 * HOST PATH" lines and the "end E" line with its error; empty input, no final newline, lines
 * longer than any buffer, a host too long, malformed lines, and NUL bytes in what the pipe gave
 * (a NUL cut off the rest of its read: the "got" and "end" after it were lost). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapc/fetch_lines.h"
#include "snapc_test.h"

static char said[8192];

static void got(void *arg, int rank, const char *host, const char *base, size_t blen)
{
    (*(int *)arg)++;
    size_t o = strlen(said);
    snprintf(said + o, sizeof said - o, "[%d %s %.*s]", rank, host, (int)blen, base);
}

/* TEXT read: the ranks got as "[R HOST BASE]..." into said, the error (or "(none)") returned */
static const char *read_text(const char *text, int *n)
{
    said[0] = 0;
    *n = 0;
    const char *err = snapc_fetch_lines(text, got, n);
    return err ? err : "(none)";
}

int main(void)
{
    int n;
    /* empty: nothing got, no end */
    CHECK(!strcmp(read_text("", &n), "(none)"));
    CHECK_EQ(n, 0);

    /* the usual answer */
    const char *e = read_text("got 1 h2 /c/job/0/partner_1.img\ngot 2 h3 /c/job/0/rank_2.img\nend 0\n", &n);
    CHECK_EQ(n, 2);
    CHECK(!strcmp(said, "[1 h2 partner_1.img][2 h3 rank_2.img]"));
    CHECK(!strcmp(e, ""));

    /* an error to the end, several lines, without its final newline */
    e = read_text("got 0 h1 rank_0.img\nend -5\nh2: not reached\nh3: down", &n);
    CHECK_EQ(n, 1);
    CHECK(!strcmp(said, "[0 h1 rank_0.img]"));
    CHECK(!strcmp(e, "h2: not reached\nh3: down"));

    /* the last line without its newline; an "end" with nothing after it */
    read_text("got 3 h4 /x/rank_3.img", &n);
    CHECK_EQ(n, 1);
    CHECK(!strcmp(said, "[3 h4 rank_3.img]"));
    CHECK(!strcmp(read_text("end 0", &n), ""));

    /* what comes after the first "end" is its error, never a line */
    e = read_text("end 0\ngot 4 h5 /x/rank_4.img\n", &n);
    CHECK_EQ(n, 0);
    CHECK(!strcmp(e, "got 4 h5 /x/rank_4.img\n"));

    /* malformed lines are passed over: no rank, no host, no path, a word for the rank */
    read_text("got\ngot 5\ngot 5 h6\ngot x h6 /p\ngot -1 h6 /p\ngotten 5 h6 /p\n got 5 h6 /p\n", &n);
    CHECK_EQ(n, 0);

    /* lines longer than any buffer: a junk line of 100000 bytes, then a path of 20000 */
    size_t big = 100000 + 40 + 20000 + 64;
    char *t = malloc(big);
    CHECK(t != NULL);
    if (t) {
        memset(t, 'x', 100000);
        size_t o = 100000;
        o += (size_t)sprintf(t + o, "\ngot 6 h7 /");
        memset(t + o, 'd', 20000);
        o += 20000;
        o += (size_t)sprintf(t + o, "/rank_6.img\nend 0\n");
        t[o] = 0;
        e = read_text(t, &n);
        CHECK_EQ(n, 1);
        CHECK(!strcmp(said, "[6 h7 rank_6.img]"));
        CHECK(!strcmp(e, ""));
        free(t);
    }

    /* a host longer than 255 bytes: cut, and the path still its own */
    char line[700];
    char host[301];
    memset(host, 'h', 300);
    host[300] = 0;
    snprintf(line, sizeof line, "got 7 %s /p/partner_7.img\n", host);
    read_text(line, &n);
    CHECK_EQ(n, 1);
    char want[300];
    snprintf(want, sizeof want, "[7 %.255s partner_7.img]", host);
    CHECK(!strcmp(said, want));

    /* NUL bytes in a read: kept as '?', what follows them is still read */
    static const char piece[] = "got 8 h8 /p/rank_8.img\n\0\0junk\ngot 9 h9 /p/rank_9.img\nend 0\n";
    struct snapc_sbuf out = {0};
    snapc_fetch_out_add(&out, piece, sizeof piece - 1);
    CHECK_EQ(out.len, sizeof piece - 1);
    e = read_text(out.p ? out.p : "", &n);
    CHECK_EQ(n, 2);
    CHECK(!strcmp(said, "[8 h8 rank_8.img][9 h9 rank_9.img]"));
    CHECK(!strcmp(e, ""));
    snapc_sb_free(&out);
    /* and pieces longer than the copy's own (1 KiB), a NUL at the end of one */
    char many[5000];
    memset(many, 'a', sizeof many);
    many[1023] = 0;
    many[sizeof many - 1] = 0;
    snapc_fetch_out_add(&out, many, sizeof many);
    CHECK_EQ(out.len, sizeof many);
    CHECK(out.p && out.p[1023] == '?' && out.p[sizeof many - 1] == '?' && out.p[1024] == 'a');
    snapc_sb_free(&out);
    return test_summary("test_fetch_lines");
}
