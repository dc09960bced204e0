/*
 * cr_info: says what a Revive process image holds.
 *
 *   cr_info [--json] [--verify] FILE
 *
 * Prints the header facts, the process, its threads, memory regions (with the
 * bytes stored for each), files referenced, descriptors, signal handlers set
 * and totals; --json prints the same as one JSON object; --verify also reads
 * every chunk and checks its checksum. Exit status: 0 valid, 1 invalid (the
 * reason on stderr), 2 usage.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "crs/base/image.h"

static const char *kind_name(uint32_t kind)
{
    switch (kind) {
    case CRS_REGION_ANON: return "anon";
    case CRS_REGION_FILE: return "file";
    case CRS_REGION_FILE_SHARED: return "file-shared";
    case CRS_REGION_SHMEM: return "shmem";
    case CRS_REGION_VDSO: return "vdso";
    default: return "?";
    }
}

static const char *fd_kind_name(uint32_t kind)
{
    static const char *const names[] = { "?", "regular", "directory", "chardev",
                                         "inherit", "memfd", "closed", "pipe" };
    return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

/* "rwxp" as /proc/PID/maps shows it; shared kinds get 's'. */
static void prot_str(const struct crs_rec_region *r, char out[5])
{
    out[0] = r->prot & 1 ? 'r' : '-';
    out[1] = r->prot & 2 ? 'w' : '-';
    out[2] = r->prot & 4 ? 'x' : '-';
    out[3] = r->kind == CRS_REGION_FILE_SHARED || r->kind == CRS_REGION_SHMEM ? 's' : 'p';
    out[4] = '\0';
}

static void signal_name(int sig, char *buf, size_t len)
{
    const char *abbrev = sigabbrev_np(sig);
    if (abbrev)
        snprintf(buf, len, "SIG%s", abbrev);
    else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
        snprintf(buf, len, "SIGRTMIN+%d", sig - SIGRTMIN);
    else
        snprintf(buf, len, "SIG%d", sig);
}

/* Bytes of page data stored for [start, end) (both lists are ascending). */
static uint64_t bytes_stored(const struct crs_image *img, uint64_t start, uint64_t end)
{
    uint64_t n = 0;
    for (size_t i = 0; i < img->nchunks; i++) {
        uint64_t a = img->chunks[i].vaddr, b = a + img->chunks[i].length;
        if (b <= start)
            continue;
        if (a >= end)
            break;
        n += (b < end ? b : end) - (a > start ? a : start);
    }
    return n;
}

struct totals {
    uint64_t mapped, raw, disk;
    size_t handlers;
};

static struct totals totals_of(const struct crs_image *img)
{
    struct totals t = { 0, 0, 0, 0 };
    for (size_t i = 0; i < img->nregions; i++)
        t.mapped += img->regions[i].end - img->regions[i].start;
    for (size_t i = 0; i < img->nchunks; i++) {
        t.raw += img->chunks[i].length;
        t.disk += img->chunks[i].stored_length;
    }
    for (size_t i = 0; i < img->nsigactions; i++)
        t.handlers += img->sigactions[i].handler != 0;
    return t;
}

/* ---------------- text ---------------- */

static void print_text(const struct crs_image *img, const char *path, bool verified)
{
    const struct crs_image_header *h = &img->hdr;
    const struct crs_rec_process *p = img->process;
    struct totals t = totals_of(img);
    char when[64] = "?";
    time_t secs = (time_t)(h->created_ns / 1000000000u);
    struct tm tm;
    if (gmtime_r(&secs, &tm))
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);

    printf("image %s\n", path);
    printf("  format:   version %" PRIu32 ", %" PRIu64 " bytes, %" PRIu32 " sections, %s\n",
           h->version, h->image_size, h->section_count,
           h->flags & CRS_IMAGE_F_COMPRESSED ? "zstd-compressed chunks" : "uncompressed");
    printf("  created:  %s, pid %" PRId32 "\n", when, h->pid);
    printf("  host:     Linux %s %s, page size %" PRIu32 ", xfeatures 0x%" PRIx64
           ", xsave %" PRIu32 " bytes\n", h->kernel_release, h->machine, h->page_size,
           h->xfeatures, h->xsave_size);

    printf("process %" PRId32 "\n", p->pid);
    printf("  ppid %" PRId32 ", pgid %" PRId32 ", sid %" PRId32 ", uid %" PRIu32 ", gid %" PRIu32
           ", umask %04" PRIo32 "\n", p->ppid, p->pgid, p->sid, p->uid, p->gid, p->umask);
    printf("  exe:      %s\n", crs_image_str(img, p->exe));
    printf("  cwd:      %s\n", crs_image_str(img, p->cwd));
    printf("  cmdline:  %s\n", crs_image_str(img, p->cmdline));
    printf("  brk:      0x%" PRIx64 "-0x%" PRIx64 "\n", p->start_brk, p->brk);

    printf("threads: %zu\n", img->nthreads);
    for (size_t i = 0; i < img->nthreads; i++) {
        const struct crs_rec_thread *th = &img->threads[i];
        printf("  tid %" PRId32 "%s%s\n", th->tid, th->flags & CRS_THREAD_F_MAIN ? " (main)" : "",
               th->flags & CRS_THREAD_F_MANAGER ? " (manager)" : "");
    }

    printf("regions: %zu\n", img->nregions);
    for (size_t i = 0; i < img->nregions; i++) {
        const struct crs_rec_region *r = &img->regions[i];
        char prot[5];
        prot_str(r, prot);
        const char *name = crs_image_str(img, r->name);
        printf("  %016" PRIx64 "-%016" PRIx64 " %s %-11s %10" PRIu64 " stored%s%s\n", r->start,
               r->end, prot, kind_name(r->kind), bytes_stored(img, r->start, r->end),
               *name ? "  " : "", name);
    }

    printf("files: %zu\n", img->nfiles);
    for (size_t i = 0; i < img->nfiles; i++) {
        const struct crs_rec_file *f = &img->files[i];
        printf("  %s  dev %u:%u ino %" PRIu64 " size %" PRIu64 " mtime %" PRId64 " build-id ",
               crs_image_str(img, f->path), major(f->dev), minor(f->dev), f->ino, f->size,
               f->mtime_ns);
        for (uint32_t k = 0; k < f->build_id_len; k++)
            printf("%02x", f->build_id[k]);
        printf("%s\n", f->build_id_len ? "" : "none");
    }

    printf("memfds: %zu\n", img->nmemfds);
    for (size_t i = 0; i < img->nmemfds; i++) {
        const struct crs_rec_memfd *m = &img->memfds[i];
        printf("  %zu: \"%s\" size %" PRIu64 " ino %" PRIu64 " seals 0x%" PRIx32 "\n", i,
               crs_image_str(img, m->name), m->size, m->ino, m->seals);
    }

    printf("fds: %zu\n", img->nfds);
    for (size_t i = 0; i < img->nfds; i++) {
        const struct crs_rec_fd *f = &img->fds[i];
        printf("  %3" PRId32 " %-9s", f->fd, fd_kind_name(f->kind));
        if (f->path.length)
            printf(" %s", crs_image_str(img, f->path));
        if (f->offset >= 0)
            printf(" offset %" PRId64, f->offset);
        if (f->kind == CRS_FD_MEMFD)
            printf(" memfd %" PRId32, f->memfd);
        if (f->kind == CRS_FD_PIPE && (size_t)f->memfd < img->npipes)
            printf(" pipe %" PRId32 " (%" PRIu64 " bytes held)", f->memfd, img->pipes[f->memfd].data_length);
        if (f->dup_of >= 0)
            printf(" shares its file with fd %" PRId32, f->dup_of);
        printf(" flags 0%" PRIo32 "%s\n", f->open_flags, f->fd_flags & FD_CLOEXEC ? " cloexec" : "");
    }

    printf("signal handlers set: %zu\n", t.handlers);
    for (size_t i = 0; i < img->nsigactions; i++) {
        const struct crs_rec_sigaction *s = &img->sigactions[i];
        if (!s->handler)
            continue;
        char name[32];
        signal_name((int)i + 1, name, sizeof(name));
        if (s->handler == 1)
            printf("  %-10s ignored\n", name);
        else
            printf("  %-10s handler 0x%" PRIx64 " flags 0x%" PRIx64 " mask 0x%" PRIx64 "\n", name,
                   s->handler, s->flags, s->mask);
    }

    printf("totals: %zu regions mapping %" PRIu64 " bytes; %zu chunks holding %" PRIu64
           " bytes in %" PRIu64 " bytes on disk; image %" PRIu64 " bytes\n",
           img->nregions, t.mapped, img->nchunks, t.raw, t.disk, h->image_size);
    if (verified)
        printf("verify: all %zu chunks OK\n", img->nchunks);
}

/* ---------------- JSON ---------------- */

static void jstr(const char *s)
{
    putchar('"');
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            printf("\\%c", *c);
        else if (*c < 0x20)
            printf("\\u%04x", *c);
        else
            putchar(*c);
    }
    putchar('"');
}

static void jkey(const char *k, bool *first)
{
    printf("%s\"%s\": ", *first ? "" : ", ", k);
    *first = false;
}

static void ju64(const char *k, uint64_t v, bool *first) { jkey(k, first); printf("%" PRIu64, v); }
static void ji64(const char *k, int64_t v, bool *first) { jkey(k, first); printf("%" PRId64, v); }
static void jhex(const char *k, uint64_t v, bool *first) { jkey(k, first); printf("\"0x%" PRIx64 "\"", v); }
static void jstrk(const char *k, const char *v, bool *first) { jkey(k, first); jstr(v); }
static void jbool(const char *k, bool v, bool *first) { jkey(k, first); fputs(v ? "true" : "false", stdout); }

static void print_json(const struct crs_image *img, const char *path, bool verified)
{
    const struct crs_image_header *h = &img->hdr;
    const struct crs_rec_process *p = img->process;
    struct totals t = totals_of(img);
    bool f = true, g;

    printf("{");
    jstrk("file", path, &f);
    jkey("header", &f);
    g = true;
    printf("{");
    ju64("version", h->version, &g);
    ju64("image_size", h->image_size, &g);
    ju64("sections", h->section_count, &g);
    jbool("compressed", h->flags & CRS_IMAGE_F_COMPRESSED, &g);
    ju64("created_ns", h->created_ns, &g);
    ji64("pid", h->pid, &g);
    jstrk("kernel_release", h->kernel_release, &g);
    jstrk("machine", h->machine, &g);
    ju64("page_size", h->page_size, &g);
    jhex("xfeatures", h->xfeatures, &g);
    ju64("xsave_size", h->xsave_size, &g);
    printf("}");

    jkey("process", &f);
    g = true;
    printf("{");
    ji64("pid", p->pid, &g);
    ji64("ppid", p->ppid, &g);
    ji64("pgid", p->pgid, &g);
    ji64("sid", p->sid, &g);
    ju64("uid", p->uid, &g);
    ju64("gid", p->gid, &g);
    ju64("umask", p->umask, &g);
    ju64("thread_count", p->thread_count, &g);
    jstrk("exe", crs_image_str(img, p->exe), &g);
    jstrk("cwd", crs_image_str(img, p->cwd), &g);
    jstrk("cmdline", crs_image_str(img, p->cmdline), &g);
    jhex("start_brk", p->start_brk, &g);
    jhex("brk", p->brk, &g);
    printf("}");

    jkey("threads", &f);
    printf("[");
    for (size_t i = 0; i < img->nthreads; i++) {
        g = true;
        printf("%s{", i ? ", " : "");
        ji64("tid", img->threads[i].tid, &g);
        jbool("main", img->threads[i].flags & CRS_THREAD_F_MAIN, &g);
        jbool("manager", img->threads[i].flags & CRS_THREAD_F_MANAGER, &g);
        printf("}");
    }
    printf("]");

    jkey("regions", &f);
    printf("[");
    for (size_t i = 0; i < img->nregions; i++) {
        const struct crs_rec_region *r = &img->regions[i];
        char prot[5];
        prot_str(r, prot);
        g = true;
        printf("%s{", i ? ", " : "");
        jhex("start", r->start, &g);
        jhex("end", r->end, &g);
        jstrk("prot", prot, &g);
        jstrk("kind", kind_name(r->kind), &g);
        jstrk("name", crs_image_str(img, r->name), &g);
        ji64("file", r->file, &g);
        jhex("pgoff", r->pgoff, &g);
        ju64("bytes_stored", bytes_stored(img, r->start, r->end), &g);
        printf("}");
    }
    printf("]");

    jkey("files", &f);
    printf("[");
    for (size_t i = 0; i < img->nfiles; i++) {
        const struct crs_rec_file *fl = &img->files[i];
        char id[2 * CRS_BUILD_ID_MAX + 1] = "";
        for (uint32_t k = 0; k < fl->build_id_len; k++)
            sprintf(id + 2 * k, "%02x", fl->build_id[k]);
        g = true;
        printf("%s{", i ? ", " : "");
        jstrk("path", crs_image_str(img, fl->path), &g);
        ju64("dev", fl->dev, &g);
        ju64("ino", fl->ino, &g);
        ju64("size", fl->size, &g);
        ji64("mtime_ns", fl->mtime_ns, &g);
        ju64("mode", fl->mode, &g);
        jstrk("build_id", id, &g);
        printf("}");
    }
    printf("]");

    jkey("memfds", &f);
    printf("[");
    for (size_t i = 0; i < img->nmemfds; i++) {
        g = true;
        printf("%s{", i ? ", " : "");
        jstrk("name", crs_image_str(img, img->memfds[i].name), &g);
        ju64("size", img->memfds[i].size, &g);
        ju64("ino", img->memfds[i].ino, &g);
        ju64("seals", img->memfds[i].seals, &g);
        printf("}");
    }
    printf("]");

    jkey("fds", &f);
    printf("[");
    for (size_t i = 0; i < img->nfds; i++) {
        const struct crs_rec_fd *d = &img->fds[i];
        g = true;
        printf("%s{", i ? ", " : "");
        ji64("fd", d->fd, &g);
        jstrk("kind", fd_kind_name(d->kind), &g);
        jstrk("path", crs_image_str(img, d->path), &g);
        ji64("offset", d->offset, &g);
        ju64("open_flags", d->open_flags, &g);
        jbool("cloexec", d->fd_flags & FD_CLOEXEC, &g);
        ji64("memfd", d->memfd, &g);
        printf("}");
    }
    printf("]");

    jkey("signals", &f);
    printf("[");
    bool first_sig = true;
    for (size_t i = 0; i < img->nsigactions; i++) {
        const struct crs_rec_sigaction *s = &img->sigactions[i];
        if (!s->handler)
            continue;
        char name[32];
        signal_name((int)i + 1, name, sizeof(name));
        g = true;
        printf("%s{", first_sig ? "" : ", ");
        first_sig = false;
        ju64("signal", i + 1, &g);
        jstrk("name", name, &g);
        if (s->handler == 1)
            jstrk("handler", "ignore", &g);
        else
            jhex("handler", s->handler, &g);
        jhex("flags", s->flags, &g);
        jhex("mask", s->mask, &g);
        printf("}");
    }
    printf("]");

    jkey("totals", &f);
    g = true;
    printf("{");
    ju64("regions", img->nregions, &g);
    ju64("mapped_bytes", t.mapped, &g);
    ju64("chunks", img->nchunks, &g);
    ju64("stored_bytes", t.raw, &g);
    ju64("disk_bytes", t.disk, &g);
    ju64("signal_handlers", t.handlers, &g);
    ju64("image_size", h->image_size, &g);
    printf("}");
    jbool("verified", verified, &f);
    printf("}\n");
}

static void usage(FILE *to)
{
    fprintf(to, "usage: cr_info [--json] [--verify] FILE\n"
                "  prints what a Revive process image holds; --json as JSON;\n"
                "  --verify also checks every chunk's checksum. Exit 0 valid, 1 invalid.\n");
}

int main(int argc, char **argv)
{
    bool json = false, verify = false;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else if (!strcmp(argv[i], "--verify"))
            verify = true;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "cr_info: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (path) {
            fprintf(stderr, "cr_info: one image at a time\n");
            usage(stderr);
            return 2;
        } else
            path = argv[i];
    }
    if (!path) {
        usage(stderr);
        return 2;
    }

    struct crs_image img;
    if (crs_image_open(&img, path) < 0) {
        fprintf(stderr, "cr_info: %s\n", img.err);
        return 1;
    }
    /* verify before printing, so that an invalid image prints nothing but the reason */
    if (verify && crs_image_verify_chunks(&img) < 0) {
        fprintf(stderr, "cr_info: %s\n", img.err);
        crs_image_close(&img);
        return 1;
    }
    if (json)
        print_json(&img, path, verify);
    else
        print_text(&img, path, verify);
    crs_image_close(&img);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("cr_info: writing the output");
        return 1;
    }
    return 0;
}
