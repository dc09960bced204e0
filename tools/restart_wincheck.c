/* A rank image holding an MPI window whose memory no restart can bring back is refused before
 * its restore, saying why and what to do (revive-restart-rank). The image's "mpi-objs" section
 * (src/pml_hooks/objs_ckpt.c) lists its open windows, one line each:
 *
 *   window flavor=allocate ranks=1 base=0x... size=128 ... memory=private
 *
 * "memory=private": the MPI library gave the window memory of its own that was no shared
 * mapping at the snapshot (an Open MPI window, of one rank or osc/pt2pt's, when the lower half's
 * root could not serve it, src/pml_hooks/lower_winmem.h; since newuser7f F1 the checkpoint is
 * refused instead, so only an older Revive's snapshot holds one: ckpt-info --verify says so too). No memory= at all: the image is of a Revive from
 * before that field. Those before commit 0122f2d left every Open MPI window of one rank
 * (MPI_Win_allocate or _shared on a communicator of one rank) in the library's heap; they are
 * told apart from later ones by the layer library the image maps (revive-mpi-ompi.so), which
 * since 0122f2d names the lower root's function that serves such windows. A restored rank runs
 * its image's own layer, so without this check such a rank was refused by that old code, with a
 * message that said only that the memory was not a shared mapping, and after each rank's whole
 * restore and a fresh MPI. */
#define _GNU_SOURCE
#include "restart_wincheck.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crs/base/image.h"
#include "crs/base/image_files.h"
#include "pml_hooks/lower_winmem.h"
#include "pml_hooks/objs_line.h"

/* 1 when the file at path holds the bytes of s, 0 when not, -1 when it cannot be read. */
static int file_has(const char *path, const char *s)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    int r = -1;
    if (fstat(fd, &st) == 0 && st.st_size > 0) {
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m != MAP_FAILED) {
            r = memmem(m, (size_t)st.st_size, s, strlen(s)) != NULL;
            munmap(m, (size_t)st.st_size);
        }
    }
    close(fd);
    return r;
}

/* The image's Open MPI layer library is, unchanged, one from before 0122f2d: 1; else 0 (not
 * Open MPI's, changed or gone: the restore's own check of mapped files names it). */
static int ompi_layer_before_winmem(const struct crs_image *img)
{
    for (size_t i = 0; i < img->nfiles; i++) {
        const char *path = crs_image_str(img, img->files[i].path);
        const char *b = strrchr(path, '/');
        if (strcmp(b ? b + 1 : path, "revive-mpi-ompi.so"))
            continue;
        int gone = 0;
        if (crs_image_file_changed(img, i, path, &gone, NULL) || gone)
            return 0;
        return file_has(path, PML_LOWER_WINMEM_ARM) == 0;
    }
    return 0;
}

int restart_wincheck(const char *path, char *err, size_t errlen)
{
    struct crs_image img;
    memset(&img, 0, sizeof img);
    if (crs_image_open_first(&img, path) != 0)
        return 0; /* the restore says what is wrong with it */
    int refused = restart_wincheck_img(&img, path, 1, err, errlen);
    crs_image_close(&img);
    return refused;
}

int restart_wincheck_img(const struct crs_image *img, const char *path, int advice, char *err,
                         size_t errlen)
{
    const struct crs_image_ext *x = crs_image_extension(img, "mpi-objs", NULL);
    int refused = 0, old = -1;
    const char *s = x ? x->data : NULL, *end = s ? s + x->len : NULL;
    while (s && s < end && !refused) {
        const char *e = memchr(s, '\n', (size_t)(end - s));
        if (!e)
            e = end;
        struct pml_objs_win_line l;
        char bad[32];
        const unsigned need = 1u << PML_WK_FLAVOR | 1u << PML_WK_RANKS | 1u << PML_WK_BASE |
                              1u << PML_WK_SIZE;
        int win = (size_t)(e - s) > strlen(PML_OBJS_WIN_PREFIX) &&
                  !strncmp(s, PML_OBJS_WIN_PREFIX, strlen(PML_OBJS_WIN_PREFIX));
        if (win && (pml_objs_win_parse(s, e, &l, bad, sizeof bad) != 0 || (l.have & need) != need)) {
            /* an image of another Revive: its own layer checks its windows after the restore */
            fprintf(stderr, "revive-restart-rank: warning: %s: a window line of its mpi-objs "
                    "section %s %s: its window memory is not checked before the restore\n",
                    path, *bad ? "has the unknown key" : "lacks a key of",
                    *bad ? bad : "flavor, ranks, base, size");
        } else if (win) {
            const char *flavor = l.v[PML_WK_FLAVOR], *ranks = l.v[PML_WK_RANKS],
                       *base = l.v[PML_WK_BASE], *size = l.v[PML_WK_SIZE],
                       *mem = l.v[PML_WK_MEMORY];
            if (!strcmp(mem, "private")) {
                snprintf(err, errlen, "its image holds an MPI window (%s, %s rank(s), "
                         "%s bytes at %s) whose memory the MPI library gave from memory of its "
                         "own that was no shared mapping at the snapshot (an Open MPI window that "
                         "the lower half's root did not serve, osc/pt2pt's or one of one rank; "
                         "a Revive since newuser7f F1 refuses such a checkpoint): no restart can put it back "
                         "at the address the program knows%s",
                         flavor, ranks, size, base,
                         advice ? ", so this snapshot cannot be restarted. Restart from an earlier "
                                  "snapshot (restart-mpi of the directory takes it), or run the "
                                  "job again from its start" : "");
                refused = 1;
            } else if (!*mem && !strcmp(ranks, "1") && atoll(size) > 0 &&
                       (!strcmp(flavor, "allocate") || !strcmp(flavor, "shared"))) {
                if (old < 0)
                    old = ompi_layer_before_winmem(img);
                if (old) {
                    snprintf(err, errlen, "its image was taken by a Revive from before "
                             "commit 0122f2d, which left an Open MPI window of one rank "
                             "(MPI_Win_allocate%s, %s bytes at %s) in the MPI library's heap: no "
                             "Revive can put it back at the address the program knows%s",
                             strcmp(flavor, "shared") ? "" : "_shared", size, base,
                             advice ? ", so this snapshot cannot be restarted. Run the job again "
                                      "from its start (or restart from a snapshot taken while it "
                                      "held no such window): snapshots of such windows by this "
                                      "Revive restart" : "");
                    refused = 1;
                }
            }
        }
        s = e + 1;
    }
    return refused;
}
