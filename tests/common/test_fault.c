/* Fault points: REVIVE_FAULT arms the named points only, is parsed once, and reports
 * names that are no point once (listing the known ones), without malloc. */
#define _GNU_SOURCE
#include "common/fault.h"
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

    /* misspelt names: reported once, in one line with the known names; the rest still armed */
    char known[1024], want[2048];
    size_t len = 0;
    for (int i = 0; i < REVIVE_FAULT_COUNT; i++)
        len += (size_t)snprintf(known + len, sizeof known - len, "%s%s", i ? ", " : "",
                                revive_fault_name((enum revive_fault_point)i));
    snprintf(want, sizeof want, "revive: fault: REVIVE_FAULT names no fault point: 'image-finis', 'bogus' "
             "(known: %s)\narmed: image-commit\n", known);
    expect("image-finis,image-commit,bogus", want);
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
