/*
 * State test: the vdso. glibc calls the kernel's vdso for clock_gettime,
 * gettimeofday, time and getcpu; after a restart the new kernel's vdso and
 * vvar must sit where the old ones were (glibc cached their addresses), so
 * every clock must still agree with the raw system call. The test also looks
 * __vdso_clock_gettime up in the vdso's own symbol table and calls it
 * directly. It is also the small program the bad-input tests checkpoint.
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <elf.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef int (*vdso_gettime_fn)(clockid_t, struct timespec *);

static int64_t ts_ns(const struct timespec *t)
{
    return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static int64_t sys_clock(clockid_t c)
{
    struct timespec t;
    syscall(SYS_clock_gettime, c, &t);
    return ts_ns(&t);
}

/* Finds a symbol in the vdso through its section headers (the whole image is
 * mapped). Returns NULL if anything looks wrong. */
static void *vdso_sym(const char *name)
{
    uintptr_t base = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
    const Elf64_Ehdr *eh = (const void *)base;
    const Elf64_Shdr *sh;
    const Elf64_Phdr *ph;
    uintptr_t vaddr0 = 0;
    if (!base || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
        return NULL;
    ph = (const void *)(base + eh->e_phoff);
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD) {
            vaddr0 = ph[i].p_vaddr - ph[i].p_offset;
            break;
        }
    sh = (const void *)(base + eh->e_shoff);
    for (int i = 0; i < eh->e_shnum; i++) {
        const Elf64_Sym *sym;
        const char *str;
        size_t n;
        if (sh[i].sh_type != SHT_DYNSYM)
            continue;
        sym = (const void *)(base + sh[i].sh_offset);
        str = (const char *)(base + sh[sh[i].sh_link].sh_offset);
        n = sh[i].sh_size / sizeof(Elf64_Sym);
        for (size_t k = 0; k < n; k++)
            if (sym[k].st_name && strcmp(str + sym[k].st_name, name) == 0 && sym[k].st_value)
                return (void *)(base + sym[k].st_value - vaddr0);
    }
    return NULL;
}

/* Start of the mapping named `name` in /proc/self/maps, or 0. */
static unsigned long map_start(const char *name)
{
    FILE *f = fopen("/proc/self/maps", "re");
    char line[512];
    unsigned long lo = 0, hi;
    int found = 0;
    if (!f)
        return 0;
    while (!found && fgets(line, sizeof(line), f)) {
        char *nl = strchr(line, '\n'), *p;
        if (nl)
            *nl = 0;
        p = strrchr(line, ' ');
        if (p && strcmp(p + 1, name) == 0 && sscanf(line, "%lx-%lx", &lo, &hi) == 2)
            found = 1;
    }
    fclose(f);
    return found ? lo : 0;
}

static void check_clocks(int point)
{
    static const struct {
        clockid_t id;
        const char *name;
    } clocks[] = {
        {CLOCK_MONOTONIC, "CLOCK_MONOTONIC"},
        {CLOCK_REALTIME, "CLOCK_REALTIME"},
        {CLOCK_BOOTTIME, "CLOCK_BOOTTIME"},
        {CLOCK_MONOTONIC_RAW, "CLOCK_MONOTONIC_RAW"},
        {CLOCK_MONOTONIC_COARSE, "CLOCK_MONOTONIC_COARSE"},
        {CLOCK_REALTIME_COARSE, "CLOCK_REALTIME_COARSE"},
    };
    const int64_t tol = 500000000; /* 0.5 s */
    char name[128];
    vdso_gettime_fn direct;
    unsigned long vdso = map_start("[vdso]");

    crt_check("vdso mapped where auxv says", vdso && vdso == getauxval(AT_SYSINFO_EHDR),
              "[vdso] at %#lx, AT_SYSINFO_EHDR %#lx", vdso, getauxval(AT_SYSINFO_EHDR));
    crt_check("vvar mapped", map_start("[vvar]") != 0, "no [vvar] in /proc/self/maps");
    for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
        struct timespec t;
        int64_t s0, v, s1;
        s0 = sys_clock(clocks[i].id);
        clock_gettime(clocks[i].id, &t);
        v = ts_ns(&t);
        s1 = sys_clock(clocks[i].id);
        snprintf(name, sizeof(name), "%s agrees with the system call (%d)", clocks[i].name,
                 point);
        crt_check(name, v >= s0 - tol && v <= s1 + tol, "vdso %lld, syscall %lld..%lld",
                  (long long)v, (long long)s0, (long long)s1);
    }
    direct = (vdso_gettime_fn)vdso_sym("__vdso_clock_gettime");
    {
        struct timespec t = {0, 0};
        int64_t s0 = sys_clock(CLOCK_MONOTONIC), v, s1;
        int rc = direct ? direct(CLOCK_MONOTONIC, &t) : -1;
        s1 = sys_clock(CLOCK_MONOTONIC);
        v = ts_ns(&t);
        snprintf(name, sizeof(name), "__vdso_clock_gettime called directly (%d)", point);
        crt_check(name, rc == 0 && v >= s0 - tol && v <= s1 + tol, "found %d rc %d value %lld",
                  direct != NULL, rc, (long long)v);
    }
    {
        struct timeval tv;
        int64_t s0 = sys_clock(CLOCK_REALTIME), v, s1;
        gettimeofday(&tv, NULL);
        s1 = sys_clock(CLOCK_REALTIME);
        v = (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000;
        snprintf(name, sizeof(name), "gettimeofday agrees (%d)", point);
        crt_check(name, v >= s0 - tol && v <= s1 + tol, "%lld vs %lld", (long long)v,
                  (long long)s0);
        snprintf(name, sizeof(name), "time agrees (%d)", point);
        crt_check(name, (int64_t)time(NULL) >= s0 / 1000000000 - 1 &&
                            (int64_t)time(NULL) <= s1 / 1000000000 + 1,
                  "time %lld", (long long)time(NULL));
    }
    {
        int cpu = sched_getcpu();
        long n = sysconf(_SC_NPROCESSORS_CONF);
        snprintf(name, sizeof(name), "sched_getcpu in range (%d)", point);
        crt_check(name, cpu >= 0 && cpu < n, "cpu %d of %ld", cpu, n);
    }
    {
        struct timespec a, b;
        int bad = 0;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (int i = 0; i < 200000; i++) {
            clock_gettime(CLOCK_MONOTONIC, &b);
            if (ts_ns(&b) < ts_ns(&a))
                bad++;
            a = b;
        }
        snprintf(name, sizeof(name), "CLOCK_MONOTONIC never goes back (%d)", point);
        crt_check(name, bad == 0, "%d steps back", bad);
    }
}

int main(void)
{
    struct timespec before, after;

    check_clocks(0);
    clock_gettime(CLOCK_MONOTONIC, &before);

    crt_checkpoint_point(1);

    clock_gettime(CLOCK_MONOTONIC, &after);
    crt_check("CLOCK_MONOTONIC later than before the checkpoint", ts_ns(&after) >= ts_ns(&before),
              "went back by %lld ns", (long long)(ts_ns(&before) - ts_ns(&after)));
    check_clocks(1);

    crt_checkpoint_point(2);

    check_clocks(2);
    crt_finish();
}
