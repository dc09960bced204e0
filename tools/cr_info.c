/*
 * cr_info: says what a Revive process image holds.
 *
 *   cr_info [--json] [--verify] FILE
 *
 * Prints the header facts, the process, its threads, memory regions (with the
 * bytes stored for each), files referenced, descriptors, signal handlers set,
 * extensions (owner, size, checksum; only when the image has any) and totals;
 * --json prints the same as one JSON object; --verify also reads every chunk
 * and checks its checksum. Exit status: 0 valid, 1 invalid (the reason on
 * stderr), 2 usage.
 *
 * This file reads the arguments, opens the image (or the process tree file, a
 * table and its members' images) and hands it to a printer: cr_info_text.c
 * for text, cr_info_json_image.c for JSON, each walking
 * src/crs/base/image_sections.def; cr_info_names.c holds the names both use,
 * cr_info_json.c the JSON writer, cr_info_tree.c a tree file's table.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crs/base/image.h"
#include "crs/base/tree.h"

#include "cr_info_print.h"
#include "cr_info_tree.h"

/* A tree file: its table, then each member's image as for one process. */
static int info_tree(int fd, const char *path, bool json, bool verify)
{
    struct crs_tree t;
    char err[512];
    if (crs_tree_read(fd, &t, err, sizeof err) != 0) {
        fprintf(stderr, "cr_info: %s: %s\n", path, err);
        return 1;
    }
    struct crs_image *imgs = calloc(t.hdr.nmembers, sizeof *imgs);
    int rc = imgs ? 0 : 1;
    for (uint32_t i = 0; i < t.hdr.nmembers && !rc; i++) {
        const struct crs_tree_member *m = &t.members[i];
        if (m->kind != CRS_TREE_PROCESS)
            continue;
        int mfd = dup(fd);
        char name[4200];
        snprintf(name, sizeof name, "%s (process %d)", path, (int)m->pid);
        if (mfd < 0 || lseek(mfd, (off_t)(t.base + m->image_offset), SEEK_SET) < 0) {
            fprintf(stderr, "cr_info: %s: %s\n", path, strerror(errno));
            if (mfd >= 0)
                close(mfd);
            rc = 1;
        } else if (crs_image_open_fd(&imgs[i], mfd, name) < 0) {   /* it closed mfd */
            fprintf(stderr, "cr_info: %s\n", imgs[i].err);
            rc = 1;
        } else if (verify && crs_image_verify_chunks(&imgs[i]) < 0) {
            fprintf(stderr, "cr_info: %s\n", imgs[i].err);
            rc = 1;
        }
    }
    if (!rc) {
        if (json)
            tree_json(&t, path);
        else
            tree_text(&t, path);
        int first = 1;
        for (uint32_t i = 0; i < t.hdr.nmembers; i++) {
            if (t.members[i].kind != CRS_TREE_PROCESS)
                continue;
            char name[4200];
            snprintf(name, sizeof name, "%s (process %d)", path, (int)t.members[i].pid);
            if (json) {
                printf("%s", first ? "" : ", ");
                print_json(&imgs[i], name, verify);
            } else {
                printf("\n");
                print_text(&imgs[i], name, verify);
            }
            first = 0;
        }
        if (json)
            printf("], \"verified\": %s}\n", verify ? "true" : "false");
    }
    for (uint32_t i = 0; imgs && i < t.hdr.nmembers; i++)
        if (t.members[i].kind == CRS_TREE_PROCESS && imgs[i].name)
            crs_image_close(&imgs[i]);
    free(imgs);
    crs_tree_free(&t);
    return rc;
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
    bool opts = true; /* until "--" (getopt's convention: what follows is no option) */
    for (int i = 1; i < argc; i++) {
        if (opts && !strcmp(argv[i], "--"))
            opts = false;
        else if (!opts || argv[i][0] != '-' || !argv[i][1]) {
            if (path) {
                fprintf(stderr, "cr_info: one image at a time\n");
                usage(stderr);
                return 2;
            }
            path = argv[i];
        } else if (!strcmp(argv[i], "--json"))
            json = true;
        else if (!strcmp(argv[i], "--verify"))
            verify = true;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "cr_info: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!path) {
        usage(stderr);
        return 2;
    }

    int tfd = open(path, O_RDONLY | O_CLOEXEC);
    if (tfd >= 0 && crs_tree_is_tree(tfd) == 1) {
        int rc = info_tree(tfd, path, json, verify);
        close(tfd);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            perror("cr_info: writing the output");
            return 1;
        }
        return rc;
    }
    if (tfd >= 0)
        close(tfd);
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
