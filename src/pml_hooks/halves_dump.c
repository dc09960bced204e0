/* Knowing the halves apart: the dump (REVIVE_HALVES_DUMP=PREFIX writes PREFIX.RANK at
 * MPI_Finalize): every region of /proc/self/maps, thread and descriptor with its half and the
 * reason, as the queries answer. Uses stdio: not for a frozen process. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "common/log.h"
#include "pml_hooks/halves_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int dump_line(const struct revive_maps_entry *m, void *arg)
{
    FILE *f = arg;
    struct pml_half_span s[64];
    int n = pml_halves_split(m->start, m->end, m->name, s, 64);
    for (int i = 0; i < n && i < 64; i++)
        fprintf(f, "region %012llx-%012llx %s %s why: %s; %s\n", (unsigned long long)s[i].start,
                (unsigned long long)s[i].end, m->perms, pml_half_name(s[i].half), s[i].why,
                *m->name ? m->name : "(anonymous)");
    return 0;
}

void pml_halves_dump(FILE *f)
{
    pml_maps_each(dump_line, f);
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        pid_t tid = (pid_t)atoi(e->d_name);
        char p[64], comm[64] = "";
        snprintf(p, sizeof p, "/proc/self/task/%d/comm", (int)tid);
        FILE *c = fopen(p, "re");
        if (c) {
            if (fgets(comm, sizeof comm, c))
                comm[strcspn(comm, "\n")] = 0;
            fclose(c);
        }
        const char *w;
        int h = pml_half_of_thread(tid, &w);
        fprintf(f, "thread %d %s why: %s; %s\n", (int)tid, pml_half_name(h), w, comm);
    }
    if (d)
        closedir(d);
    d = opendir("/proc/self/fd");
    int skip = d ? dirfd(d) : -1;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        int fd = atoi(e->d_name);
        if (fd == skip)
            continue;
        char tgt[512];
        const char *w;
        int h = pml_half_of_fd(fd, &w);
        if (h < 0)
            continue;
        if (pml_fd_target(fd, tgt, sizeof tgt) < 0)
            strcpy(tgt, "?");
        fprintf(f, "fd %d %s why: %s; %s\n", fd, pml_half_name(h), w, tgt);
    }
    if (d)
        closedir(d);
    if (pml_reg_overflowed())
        fprintf(f, "note: the registry overflowed (%d entries); some answers fell back to names\n",
                pml_reg_capacity());
    if (pml_reg_lost())
        fprintf(f, "note: %d registry changes made by signal handlers were lost\n", pml_reg_lost());
}

void pml_halves_dump_to(const char *prefix, int rank)
{
    char path[4200];
    snprintf(path, sizeof path, "%s.%d", prefix, rank);
    FILE *f = fopen(path, "we");
    if (!f) {
        revive_log_error("cannot write %s: %s", path, strerror(errno));
        return;
    }
    pml_halves_dump(f);
    fclose(f);
}
