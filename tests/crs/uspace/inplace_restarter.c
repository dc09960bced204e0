/* A tiny static restarter, as an MPI rank's will be: restores an image in
 * place, in this very process (no fork), under this process's pid and new
 * thread ids, and hands the restored process a blob.
 *   inplace_restarter [--fd] IMAGE BLOB
 * --fd: open the image here and pass the descriptor instead of the path.
 * Returns only when the restore fails (status 1, the reason on stderr). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "crs/base/component.h"

int main(int argc, char **argv)
{
    int by_fd = argc == 4 && !strcmp(argv[1], "--fd");
    if (argc != 3 + by_fd) {
        fprintf(stderr, "usage: inplace_restarter [--fd] IMAGE BLOB\n");
        return 2;
    }
    const char *path = argv[1 + by_fd], *blob = argv[2 + by_fd];
    struct crs_restart_opts o = {
        .path = path,
        .fd = -1,
        .restore_ids = 0,
        .handoff = blob,
        .handoff_len = strlen(blob) + 1,
    };
    if (by_fd && (o.fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        perror(path);
        return 1;
    }
    char err[1024];
    const struct crs_component *crs = crs_component_select(NULL, err, sizeof err);
    if (crs)
        crs_restart(crs, &o, err, sizeof err);
    fprintf(stderr, "inplace_restarter: %s\n", err);
    return 1;
}
