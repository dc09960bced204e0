/*
 * Extension sections (EXT) the reader must refuse even when every checksum
 * matches (the image is resealed after each change): malformed owner tags,
 * an extension shorter than its head, EXT in a version-1 image, an unknown
 * version, the unused versions 17 and 18 (diffrev20 LOW-H), a wrong record size, more than CRS_EXT_MAX extensions. And the
 * unchanged image reads, with its extensions. Not resealed: a version field damaged (alone, and
 * with the header size) is named a damaged header, not another release's image.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>

#include "image_test.h"

static unsigned char *orig;
static size_t orig_len;

/* The image's header and table in a copy of its bytes. */
struct view {
    unsigned char *p;
    struct crs_image_header *h;
    struct crs_section_entry *t;
};

/* The n-th section of `type` in the table (n from 0). */
static struct crs_section_entry *entry(struct view *v, uint32_t type, int n)
{
    for (uint32_t i = 0; i < v->h->section_count; i++)
        if (v->t[i].type == type && n-- == 0)
            return &v->t[i];
    FAILF("the sample has no section %u number %d", type, n);
}

typedef void mutation(struct view *v);

/* Applies `m` to a copy of the sample, reseals it (unless `damaged`: its
 * checksums then no longer match what changed) and expects the reader to
 * refuse it with a message containing `want`. */
static void expect_refused_as(const char *what, mutation *m, const char *want, int damaged)
{
    char *path = temp_path("ext");
    unsigned char *p = malloc(orig_len);
    memcpy(p, orig, orig_len);
    struct view v = { p, (struct crs_image_header *)p, NULL };
    v.t = (struct crs_section_entry *)(p + v.h->table_offset);
    m(&v);
    int fd = open(path, O_WRONLY | O_TRUNC);
    if (fd < 0 || write(fd, p, orig_len) != (ssize_t)orig_len || close(fd))
        FAILF("cannot write %s", path);
    if (!damaged)
        image_reseal(path);
    struct crs_image img;
    if (crs_image_open(&img, path) == 0)
        FAILF("%s: the image was accepted", what);
    if (!strstr(img.err, want))
        FAILF("%s: message \"%s\" lacks \"%s\"", what, img.err, want);
    printf("ok %s: %s\n", what, img.err);
    crs_image_close(&img);
    unlink(path);
    free(path);
    free(p);
}

static void expect_refused(const char *what, mutation *m, const char *want)
{
    expect_refused_as(what, m, want, 0);
}

static char *owner_of(struct view *v, int n)
{
    return ((struct crs_ext_head *)(v->p + entry(v, CRS_SEC_EXT, n)->offset))->owner;
}

static void owner_space(struct view *v) { owner_of(v, 0)[1] = ' '; }             /* "m i" */
static void owner_control(struct view *v) { owner_of(v, 0)[0] = '\n'; }
static void owner_high(struct view *v) { owner_of(v, 0)[2] = (char)0xe9; }
static void owner_empty(struct view *v) { memset(owner_of(v, 0), 0, CRS_EXT_OWNER_MAX); }
static void owner_after_nul(struct view *v) { owner_of(v, 0)[5] = 'x'; }        /* "mpi\0\0x" */
static void owner_full(struct view *v) { memset(owner_of(v, 1), 'a', CRS_EXT_OWNER_MAX); }
/* the empty extension (16 bytes: its head) cut to 8; the rest becomes padding */
static void short_head(struct view *v) { entry(v, CRS_SEC_EXT, 2)->size = 8; }
static void version_1(struct view *v) { v->h->version = 1; }
static void version_next(struct view *v) { v->h->version = CRS_IMAGE_VERSION + 1; }
static void version_17(struct view *v) { v->h->version = 17; }
static void version_18(struct view *v) { v->h->version = 18; }
/* a byte of the version field changed (and, with it, the header size's): not resealed */
static void version_byte(struct view *v) { v->h->version ^= 0xff00; }
static void version_size(struct view *v)
{
    v->h->version ^= 0xff00;
    v->h->header_size ^= 0xff0000;
}
static void record_size(struct view *v) { entry(v, CRS_SEC_EXT, 1)->record_size = 8; }
static void record_size_auxv_to_ext(struct view *v)
{
    struct crs_section_entry *e = entry(v, CRS_SEC_AUXV, 0);
    e->type = CRS_SEC_EXT;
    e->record_size = 1;
}

int main(void)
{
    char *path = temp_path("ext-orig"), err[256] = "";
    int fd = open(path, O_RDWR | O_TRUNC);
    if (sample_image_write(fd, 0, SAMPLE_SMALL | SAMPLE_EXT, err))
        FAILF("writing the sample: %s", err);
    close(fd);
    orig = slurp(path, &orig_len);

    /* resealing alone changes nothing */
    image_reseal(path);
    struct crs_image img;
    if (crs_image_open(&img, path))
        FAILF("the resealed sample is refused: %s", img.err);
    ASSERT_EQ(img.hdr.version, 2);
    ASSERT_EQ(img.nexts, 3);
    crs_image_close(&img);

    expect_refused("owner with a space", owner_space, "malformed owner tag");
    expect_refused("owner with a control character", owner_control, "malformed owner tag");
    expect_refused("owner with a byte above 0x7e", owner_high, "malformed owner tag");
    expect_refused("empty owner", owner_empty, "malformed owner tag");
    expect_refused("owner bytes after its NUL", owner_after_nul, "malformed owner tag");
    expect_refused("owner without a NUL", owner_full, "malformed owner tag");
    expect_refused("extension shorter than its head", short_head, "shorter than its head");
    expect_refused("EXT in a version-1 image", version_1, "section EXT in a version 1 image");
    expect_refused("a version newer than this Revive's", version_next, "but this Revive reads versions 1 to");
    expect_refused("the unused version 17", version_17,
                   "format version 17, which no Revive defines (versions 17 and 18 are unused");
    expect_refused("the unused version 18", version_18,
                   "format version 18, which no Revive defines (versions 17 and 18 are unused");
    /* the same out-of-range version by damage, the checksum unmatched: damaged, not another
     * release's (a tree member's image whose version byte changed was "use the Revive release
     * that wrote it") */
    expect_refused_as("a damaged version byte", version_byte,
                      "header checksum mismatch (its format version reads", 1);
    expect_refused_as("damaged version and header size bytes", version_size,
                      "header checksum mismatch (its format version reads", 1);
    expect_refused("EXT records of 8 bytes", record_size, "records of 8 bytes");

    /* more than CRS_EXT_MAX: 64 written, plus AUXV (16 bytes) turned into a 65th */
    size_t slen = crs_iw_scratch_size(1, 64, 0);
    void *scratch = malloc(slen);
    struct crs_image_writer w;
    fd = open(path, O_RDWR | O_TRUNC);
    ASSERT_EQ(crs_iw_open(&w, fd, scratch, slen, 1, 64, 0), 0);
    struct crs_rec_process proc = { .pid = 1 };
    uint64_t auxv[2] = { 0x6f6c6c6568, 0 }; /* "hello": a valid head */
    ASSERT_EQ(crs_iw_section(&w, CRS_SEC_PROCESS, &proc, sizeof(proc), 1), 0);
    ASSERT_EQ(crs_iw_section(&w, CRS_SEC_AUXV, auxv, sizeof(uint64_t), 2), 0);
    for (int i = 0; i < CRS_EXT_MAX; i++)
        ASSERT_EQ(crs_iw_extension(&w, "x", &i, sizeof(i)), 0);
    ASSERT_EQ(crs_iw_finish(&w, &(struct crs_image_header){ .pid = 1 }), 0);
    close(fd);
    if (crs_image_open(&img, path))
        FAILF("an image of %d extensions is refused: %s", CRS_EXT_MAX, img.err);
    ASSERT_EQ(img.nexts, CRS_EXT_MAX);
    ASSERT_EQ(*(const int *)img.exts[CRS_EXT_MAX - 1].data, CRS_EXT_MAX - 1);
    crs_image_close(&img);
    free(orig);
    orig = slurp(path, &orig_len);
    expect_refused("65 extensions", record_size_auxv_to_ext, "more than 64");

    unlink(path);
    free(path);
    free(orig);
    free(scratch);
    return 0;
}
