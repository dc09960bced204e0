/* The "window" line of a rank image's mpi-objs section (src/pml_hooks/objs_line.h): what the
 * layer writes, revive-restart-rank's window check reads back, key by key. Each key's value
 * survives a round trip; a line as every Revive since the memory= field wrote it (the literal
 * below, the format objs_ckpt.c had before the keys were shared) has every key, so a key renamed
 * in the table makes this test fail, not the check go quiet; an unknown key is refused, naming
 * it; a missing one is missing from the keys found. */
#include "pml_hooks/objs_line.h"
#include "tests/unit_assert.h"

int main(void)
{
    struct pml_objs_win_line w, r;
    char line[1024], bad[32];
    memset(&w, 0, sizeof w);
    for (int i = 0; i < PML_WK_N; i++)
        snprintf(w.v[i], sizeof w.v[i], "v%d_%s", i, pml_objs_win_keys[i]);
    int n = pml_objs_win_format(line, sizeof line, &w);
    ASSERT_EQ(n, (long long)strlen(line));
    ASSERT_EQ(line[n - 1], '\n');
    ASSERT_EQ(pml_objs_win_parse(line, line + n, &r, bad, sizeof bad), 0);
    ASSERT_EQ(r.have, (1u << PML_WK_N) - 1);
    for (int i = 0; i < PML_WK_N; i++)
        ASSERT_STREQ(r.v[i], w.v[i]);

    /* as objs_ckpt.c wrote it before the keys were shared (and images hold it) */
    const char *old = "window flavor=allocate ranks=1 base=0x7f0012340000 size=128 disp_unit=8 "
                      "fences=3 fence_epoch=1 lock_all=0 locks=2 memory=private\n";
    ASSERT_EQ(pml_objs_win_parse(old, old + strlen(old), &r, bad, sizeof bad), 0);
    if (r.have != (1u << PML_WK_N) - 1)
        for (int i = 0; i < PML_WK_N; i++)
            if (!(r.have & 1u << i))
                FAILF("key %s= of the window line is not in what Revive writes: \"%s\"",
                      pml_objs_win_keys[i], old);
    ASSERT_STREQ(r.v[PML_WK_FLAVOR], "allocate");
    ASSERT_STREQ(r.v[PML_WK_RANKS], "1");
    ASSERT_STREQ(r.v[PML_WK_BASE], "0x7f0012340000");
    ASSERT_STREQ(r.v[PML_WK_SIZE], "128");
    ASSERT_STREQ(r.v[PML_WK_MEMORY], "private");

    /* an unknown key: refused, named */
    const char *unk = "window flavour=allocate ranks=1 base=0x1000 size=8\n";
    ASSERT_EQ(pml_objs_win_parse(unk, unk + strlen(unk), &r, bad, sizeof bad), -1);
    ASSERT_STREQ(bad, "flavour");
    /* a missing key (an image from before memory=): the rest read, memory not found */
    const char *mis = "window flavor=shared ranks=1 base=0x1000 size=8 disp_unit=1";
    ASSERT_EQ(pml_objs_win_parse(mis, mis + strlen(mis), &r, bad, sizeof bad), 0);
    ASSERT_EQ(r.have & 1u << PML_WK_MEMORY, 0);
    ASSERT_STREQ(r.v[PML_WK_FLAVOR], "shared");
    ASSERT_STREQ(r.v[PML_WK_MEMORY], "");
    /* no window line */
    const char *file = "file amode=0x1 ranks=2\n";
    ASSERT_EQ(pml_objs_win_parse(file, file + strlen(file), &r, bad, sizeof bad), -1);
    /* a buffer too small: the length it needed, as snprintf */
    char tiny[16];
    ASSERT_EQ(pml_objs_win_format(tiny, sizeof tiny, &w), n);
    printf("ok: the window line's %d keys round-trip; an unknown key is refused\n", PML_WK_N);
    return 0;
}
