/* The files an image maps by reference, against the files there now (image_files.h). */
#define _GNU_SOURCE
#include "crs/base/image_files.h"
#include "crs/base/elf_build_id.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *crs_image_private_files(const struct crs_image *img)
{
    char *use = calloc(img->nfiles ? img->nfiles : 1, 1);
    if (!use)
        return NULL;
    for (size_t k = 0; k < img->nregions; k++)
        if (img->regions[k].kind == CRS_REGION_FILE)
            use[img->regions[k].file] = 1; /* the reader checked the index */
    return use;
}

static int build_id_of(const char *path, uint8_t *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int n = (int)crs_elf_build_id(fd, out, CRS_BUILD_ID_MAX);
    close(fd);
    return n;
}

const char *crs_image_file_changed(const struct crs_image *img, size_t i, const char *path,
                                   int *gone, int *touched)
{
    const struct crs_rec_file *f = &img->files[i];
    struct stat st;
    *gone = 0;
    if (touched)
        *touched = 0;
    if (stat(path, &st) != 0) {
        *gone = errno;
        return NULL;
    }
    int64_t mt = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    if ((uint64_t)st.st_size != f->size)
        return "its size";
    if (f->build_id_len) {
        /* the linker's hash of the file's contents: the same build id and size is the same
         * program, whatever its time (a copy put back with cp: review LOW-3) */
        uint8_t id[CRS_BUILD_ID_MAX];
        int n = build_id_of(path, id);
        if (n != (int)f->build_id_len || memcmp(id, f->build_id, f->build_id_len))
            return "its build id";
        if (touched)
            *touched = mt != f->mtime_ns;
        return NULL;
    }
    if (mt != f->mtime_ns)
        return "its modification time";
    if (st.st_ino != f->ino)
        return "its inode";
    return NULL;
}
