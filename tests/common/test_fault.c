/* Fault points: REVIVE_FAULT arms the named points only, is parsed once, and reports
 * names that are no point once (listing the known ones), without malloc. */
#define _GNU_SOURCE
#include "common/fault.h"
#include "common/log.h"
#include "common_test.h"

#include <sys/syscall.h>
#include <unistd.h>

const char ct_no_malloc_what[] = "the fault points";

/* The child prints which points are armed ("image-commit restore-aside") on stderr,
 * after whatever the parse reported; asking twice must not report twice. */
static void armed(void *arg)
{
    (void)arg;
    int on[REVIVE_FAULT_COUNT];
    ct_no_malloc = 1;
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < REVIVE_FAULT_COUNT; i++)
            on[i] = revive_fault((enum revive_fault_point)i);
    ct_no_malloc = 0;
    char line[1024];
    size_t len = 0;
    line[0] = 0;
    for (int i = 0; i < REVIVE_FAULT_COUNT; i++)
        if (on[i])
            len += (size_t)snprintf(line + len, sizeof line - len, "%s%s", len ? " " : "",
                                    revive_fault_name((enum revive_fault_point)i));
    fprintf(stderr, "armed: %s\n", line);
}

static void expect(const char *value, const char *want)
{
    char out[4096];
    ct_run_child("REVIVE_FAULT", value, armed, NULL, out, sizeof out);
    if (strcmp(out, want))
        FAILF("REVIVE_FAULT=%s gave:\n%s\nexpected:\n%s", value ? value : "(unset)", out, want);
}

int main(void)
{
    unsetenv("REVIVE_VERBOSE"); /* the report's format must not depend on the caller's level */
    /* names are unique and every point has one */
    for (int i = 0; i < REVIVE_FAULT_COUNT; i++) {
        const char *n = revive_fault_name((enum revive_fault_point)i);
        ASSERT_TRUE(n && *n);
        for (int j = 0; j < i; j++)
            ASSERT_TRUE(strcmp(n, revive_fault_name((enum revive_fault_point)j)) != 0);
    }
    ASSERT_TRUE(revive_fault_name(REVIVE_FAULT_COUNT) == NULL);
    ASSERT_STREQ(revive_fault_name(REVIVE_FAULT_image_commit), "image-commit");

    expect(NULL, "armed: \n");
    expect("", "armed: \n");
    expect("image-commit", "armed: image-commit\n");
    expect("restore-aside,image-finish", "armed: image-finish restore-aside\n");
    expect(",image-finish,,", "armed: image-finish\n");

    /* misspelt names: reported once, in one line, then every known name in lines of "known: "
     * short of a log line (one line held them all until the table passed 56 points: the last
     * names came out cut); the rest still armed */
    {
        char out[8192];
        ct_run_child("REVIVE_FAULT", "image-finis,image-commit,bogus", armed, NULL, out, sizeof out);
        const char *first = "revive: fault: REVIVE_FAULT names no fault point: 'image-finis', 'bogus'; "
                            "the known points follow\n";
        ASSERT_TRUE(strncmp(out, first, strlen(first)) == 0);
        const char *tail = "armed: image-commit\n";
        size_t ol = strlen(out);
        ASSERT_TRUE(ol > strlen(tail) && strcmp(out + ol - strlen(tail), tail) == 0);
        char names[8192] = "";
        size_t nl = 0;
        for (const char *l = out + strlen(first), *e; (e = strchr(l, '\n')) && strncmp(l, "armed: ", 7); l = e + 1) {
            const char *pre = "revive: fault: known: ";
            ASSERT_TRUE(strncmp(l, pre, strlen(pre)) == 0);
            ASSERT_TRUE((size_t)(e - l) + 1 <= REVIVE_LOG_LINE_MAX && !strstr(l, "..."));
            nl += (size_t)snprintf(names + nl, sizeof names - nl, "%s%.*s", nl ? ", " : "",
                                   (int)(e - l - strlen(pre)), l + strlen(pre));
        }
        char known[8192];
        size_t len = 0;
        for (int i = 0; i < REVIVE_FAULT_COUNT; i++)
            len += (size_t)snprintf(known + len, sizeof known - len, "%s%s", i ? ", " : "",
                                    revive_fault_name((enum revive_fault_point)i));
        if (strcmp(names, known))
            FAILF("the known names reported:\n%s\nwant:\n%s", names, known);
    }
    /* tests may set REVIVE_FAULT after a first check, then ask for it to be read again */
    setenv("REVIVE_FAULT", "restore-aside", 1);
    ASSERT_EQ(revive_fault(REVIVE_FAULT_restore_aside), 1);
    unsetenv("REVIVE_FAULT");
    ASSERT_EQ(revive_fault(REVIVE_FAULT_restore_aside), 1); /* read once */
    revive_fault_reread();
    ASSERT_EQ(revive_fault(REVIVE_FAULT_restore_aside), 0);

    printf("PASS: REVIVE_FAULT arms named points, reports unknown names once, no malloc\n");
    return 0;
}
