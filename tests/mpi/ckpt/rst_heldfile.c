/* rst_heldfile STEPS PACEFILE MS (rst_heldfile.sh): each rank holds its log held.RANK.log open
 * for writing with O_APPEND and one line a step; all ranks hold shared.dat open for reading and
 * writing, each its own open file, writing its record of each step at its own offset (rank R's
 * at (NP * (S - 1) + R) * 64, the offset moved on by the writes and an lseek). Every step prints
 * the sum over the ranks of the two files' sizes as each sees them after its write; the end
 * prints a checksum of every file's content. A restart whose files are not as they were at the
 * snapshot (gone, grown by a later run) prints other sizes and checksums, or fails. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include "rst_pace.h"

#define REC 64

static long long file_sum(const char *path)
{
    char buf[4096];
    unsigned long long h = 1469598103934665603ull;
    int fd = open(path, O_RDONLY);
    ssize_t n;
    if (fd < 0)
        return -1;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < n; i++)
            h = (h ^ (unsigned char)buf[i]) * 1099511628211ull;
    close(fd);
    return (long long)(h % 1000000007ull);
}

int main(int argc, char **argv)
{
    struct rst_run r = rst_begin(&argc, &argv, "rst_heldfile");
    char log[64];
    snprintf(log, sizeof log, "held.%d.log", r.me);
    int fl = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    if (r.me == 0)
        close(open("shared.dat", O_WRONLY | O_CREAT | O_TRUNC, 0644));
    MPI_Barrier(MPI_COMM_WORLD);
    int fs = open("shared.dat", O_RDWR);
    if (fl < 0 || fs < 0 || lseek(fs, (off_t)r.me * REC, SEEK_SET) < 0) {
        fprintf(stderr, "rst_heldfile: rank %d: %s\n", r.me, strerror(errno));
        MPI_Abort(MPI_COMM_WORLD, 3);
    }
    for (int s = 1; s <= r.steps; s++) {
        char line[64], rec[REC];
        int len = snprintf(line, sizeof line, "rank %d step %d\n", r.me, s);
        memset(rec, ' ', sizeof rec);
        snprintf(rec, sizeof rec, "rank %d step %d", r.me, s);
        rec[REC - 1] = '\n';
        struct stat a, b;
        int bad = write(fl, line, (size_t)len) != len || write(fs, rec, REC) != REC ||
                  lseek(fs, (off_t)(r.np - 1) * REC, SEEK_CUR) < 0;
        MPI_Barrier(MPI_COMM_WORLD); /* every rank's record of the step written: one size for all */
        if (bad || fstat(fl, &a) || fstat(fs, &b)) {
            fprintf(stderr, "rst_heldfile: rank %d step %d: %s\n", r.me, s, strerror(errno));
            MPI_Abort(MPI_COMM_WORLD, 3);
        }
        MPI_Barrier(MPI_COMM_WORLD); /* and no rank writes the next step's before every one looked */
        rst_step_sum(&r, s, (long long)a.st_size * 1000 + (long long)b.st_size);
    }
    close(fl);
    close(fs);
    MPI_Barrier(MPI_COMM_WORLD);
    long long acc = file_sum(log) + (r.me == 0 ? file_sum("shared.dat") : 0);
    rst_done_sum(&r, acc % 1000000007ll);
    MPI_Finalize();
    return 0;
}
