/*
 * A tree's checkpoint (tree_ckpt.c): the saved files its members share.
 * A file deleted while open, or one in /dev/shm, goes into the image of each
 * process that maps it shared or holds it (image_format.h: FOBJS). When two
 * members or more do (Python multiprocessing's POSIX named semaphores and
 * shared values; a parent's scratch file its children map), the restart must
 * make one file for all of them, not a copy each: the members would no
 * longer see each other's writes (a semaphore posted by one would not wake
 * another). Such a file becomes one CRS_TREE_G_OBJECT group of the tree:
 * its bytes once, in the image of its owner (the first member that holds it
 * open, else the first that maps it); the others record it without bytes
 * (crs_proto_go.elsewhere). Shared memory members map or hold (a memfd,
 * MAP_SHARED|MAP_ANONYMOUS memory mapped before a fork) is found the same
 * way and becomes a CRS_TREE_G_SHMEM group: its pages once, in the owner's
 * image, one memfd for all members after a restart.
 */
#ifndef REVIVE_CRS_TREE_OBJECTS_H
#define REVIVE_CRS_TREE_OBJECTS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct crs_proto_go;

struct crs_tree_object {
    uint64_t dev, ino;
    int owner;                   /* member index */
    int owner_has_fd;            /* the owner holds it open (reads it whole) */
    int first, count;            /* the first member naming it, how many do */
    int shmem;                   /* shared memory (a memfd, shared anonymous memory), not a file */
    char *path;                  /* as /proc shows it */
};

struct crs_tree_objects {
    struct crs_tree_object *v;
    size_t n, cap;
    size_t nmembers;
    unsigned char *named;        /* n x nmembers while finding: member m names object i */
};

/* Whether a shared mapping or an open file /proc names `name` (on device
 * dev) is one a member's image saves as a file (a deleted regular file, one
 * in /dev/shm, a System V shared memory segment; not a memfd, shared
 * anonymous memory or hugetlbfs memory, which are kept as shared memory). */
int crs_tree_object_name(const char *name, uint64_t dev);

/* Whether a shared mapping or an open file /proc names `name` (on device
 * dev) is shared memory a member's image keeps as a MEMFDS record: a memfd,
 * shared anonymous memory ("/dev/zero (deleted)", "[anon_shmem:NAME]"),
 * shared MAP_HUGETLB memory, a deleted hugetlbfs file. Not System V shared
 * memory, which is saved as a file (crs_tree_object_name). */
int crs_tree_shmem_name(const char *name, uint64_t dev);

/* Finds the saved files and shared memory two members or more name (each member's open files
 * and shared mappings; pids[m] as our /proc names member m, 0 for one to
 * pass over: a zombie). 0, or -errno with one message in err (more than
 * CRS_PROTO_GO_FILES_MAX such files). */
int crs_tree_objects_find(struct crs_tree_objects *o, const pid_t *pids, size_t nmembers, char *err, size_t errlen);

/* The object with that device and inode, or -1. */
int crs_tree_objects_index(const struct crs_tree_objects *o, uint64_t dev, uint64_t ino);

/* Member m's word to record, the files and shared memory whose bytes
 * another member saves. */
void crs_tree_objects_go(const struct crs_tree_objects *o, size_t m, struct crs_proto_go *go);

void crs_tree_objects_free(struct crs_tree_objects *o);

#endif
