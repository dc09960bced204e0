#include "crs/base/elf_build_id.h"

#include <elf.h>
#include <string.h>
#include <unistd.h>

uint32_t crs_elf_build_id(int fd, uint8_t *out, uint32_t max)
{
    Elf64_Ehdr eh;
    if (pread(fd, &eh, sizeof eh, 0) != sizeof eh || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 64)
        return 0;
    Elf64_Phdr ph[64];
    size_t phsz = (size_t)eh.e_phnum * sizeof(Elf64_Phdr);
    if (pread(fd, ph, phsz, (off_t)eh.e_phoff) != (ssize_t)phsz)
        return 0;
    for (int i = 0; i < eh.e_phnum; i++) {
        if (ph[i].p_type != PT_NOTE || ph[i].p_filesz > 4096)
            continue;
        unsigned char notes[4096];
        if (pread(fd, notes, ph[i].p_filesz, (off_t)ph[i].p_offset) != (ssize_t)ph[i].p_filesz)
            continue;
        size_t off = 0;
        while (off + sizeof(Elf64_Nhdr) <= ph[i].p_filesz) {
            Elf64_Nhdr nh;
            memcpy(&nh, notes + off, sizeof nh);
            size_t name_at = off + sizeof nh;
            size_t desc_at = name_at + ((nh.n_namesz + 3) & ~3u);
            size_t next = desc_at + ((nh.n_descsz + 3) & ~3u);
            if (next > ph[i].p_filesz)
                break;
            if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && !memcmp(notes + name_at, "GNU", 4) &&
                nh.n_descsz <= max) {
                memcpy(out, notes + desc_at, nh.n_descsz);
                return nh.n_descsz;
            }
            off = next;
        }
    }
    return 0;
}
