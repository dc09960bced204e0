/* Whether a program file is static, and has libcr.a inside (static_exe.h). */
#define _GNU_SOURCE
#include "common/static_exe.h"

#include <elf.h>
#include <string.h>
#include <unistd.h>

int revive_exe_is_static(int fd, const char *name)
{
    const char *base = name && strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    if (base && (!strncmp(base, "ld-linux", 8) || !strncmp(base, "ld.so", 5) || !strncmp(base, "ld64.so", 7)))
        return 0;
    Elf64_Ehdr eh;
    if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) ||
        eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum >= 256)
        return 0;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) != (ssize_t)sizeof ph)
            return 0;   /* unreadable: let it run */
        if (ph.p_type == PT_INTERP)
            return 0;
    }
    return 1;
}

int revive_exe_has_static_libcr(int fd)
{
    static const char marker[] = "revive-libcr-static-1";
    char buf[4096 + sizeof marker];   /* small: a thread's stack may be */
    size_t keep = 0;
    off_t at = 0;
    ssize_t n;
    while ((n = pread(fd, buf + keep, sizeof buf - keep, at)) > 0) {
        size_t len = keep + (size_t)n;
        at += n;
        if (memmem(buf, len, marker, sizeof marker))
            return 1;
        keep = len < sizeof marker ? len : sizeof marker;   /* a marker across two reads */
        memmove(buf, buf + len - keep, keep);
    }
    return 0;
}
