/* text.h: revive_text_put (the append into a fixed buffer of restart-mpi's writer lines and the
 * placement's description): what fits is kept whole and counted, what does not leaves the
 * buffer as it was at *used and returns the caller's errno, an exact fit (the last byte the
 * NUL) counts as a fit, a NULL buffer or *used past its end the errno; revive_text_cut on a character
 * boundary. No malloc. */
#include "common/text.h"
#include "common_test.h"

#include <errno.h>

const char ct_no_malloc_what[] = "the text helpers";

int main(void)
{
    char buf[16];
    size_t used = 0;
    ct_no_malloc = 1;

    /* appends, counted */
    ASSERT_EQ(revive_text_put(buf, sizeof buf, &used, -E2BIG, "%s=%d", "ab", 7), 0);
    ASSERT_STREQ(buf, "ab=7");
    ASSERT_EQ(used, 4);
    ASSERT_EQ(revive_text_put(buf, sizeof buf, &used, -E2BIG, ",%llu", 12345ULL), 0);
    ASSERT_STREQ(buf, "ab=7,12345");
    ASSERT_EQ(used, 10);

    /* does not fit whole: nothing of it kept, the caller's errno, *used unmoved */
    ASSERT_EQ(revive_text_put(buf, sizeof buf, &used, -ENOSPC, "%s", "too long"), -ENOSPC);
    ASSERT_STREQ(buf, "ab=7,12345");
    ASSERT_EQ(used, 10);
    ASSERT_EQ(revive_text_put(buf, sizeof buf, &used, -E2BIG, "%s", "xxxxxx"), -E2BIG); /* 6 + NUL > 6 */
    ASSERT_STREQ(buf, "ab=7,12345");

    /* exact fit: 5 more characters and the NUL fill the 16 bytes */
    ASSERT_EQ(revive_text_put(buf, sizeof buf, &used, -E2BIG, "%s", "hello"), 0);
    ASSERT_EQ(used, 15);
    ASSERT_STREQ(buf, "ab=7,12345hello");
    /* one byte left (the NUL's): an empty text fits, one character does not */
    ASSERT_EQ(revive_text_put(buf, sizeof buf, &used, -E2BIG, "%s", ""), 0);
    ASSERT_EQ(revive_text_put(buf, sizeof buf, &used, -E2BIG, "%c", 'x'), -E2BIG);
    ASSERT_EQ(used, 15);
    ASSERT_STREQ(buf, "ab=7,12345hello");

    /* *used past the end, a NULL buffer: the errno, nothing written */
    size_t past = sizeof buf + 3;
    ASSERT_EQ(revive_text_put(buf, sizeof buf, &past, -ENOSPC, "x"), -ENOSPC);
    ASSERT_EQ(past, sizeof buf + 3);
    size_t zero = 0;
    ASSERT_EQ(revive_text_put(NULL, 0, &zero, -E2BIG, "x"), -E2BIG);
    ASSERT_EQ(zero, 0);

    /* an empty text fits where a byte is left */
    char one[1];
    size_t u1 = 0;
    ASSERT_EQ(revive_text_put(one, sizeof one, &u1, -E2BIG, "%s", ""), 0);
    ASSERT_EQ(u1, 0);
    ASSERT_EQ(one[0], 0);

    /* revive_text_cut: "..." at the end, never inside a UTF-8 sequence */
    char cut[8] = "abcdefg";
    revive_text_cut(cut, sizeof cut);
    ASSERT_STREQ(cut, "abcd...");
    char utf[8] = "ab\xc3\xa9\xc3\xa9x"; /* a b e-acute e-acute x */
    revive_text_cut(utf, sizeof utf);
    ASSERT_STREQ(utf, "ab\xc3\xa9...");
    ct_no_malloc = 0;
    printf("PASS: revive_text_put and revive_text_cut\n");
    return 0;
}
