/* cr_info's view of a process tree file (cr_info_tree.h). */
#define _GNU_SOURCE
#include "cr_info_tree.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/socket.h> /* SOCK_DGRAM, SOCK_SEQPACKET: a socket pair group's type */

#include "cr_info_json.h"

static const char *group_kind(uint32_t k)
{
    return k == CRS_TREE_G_PIPE_READ    ? "pipe, read end"
           : k == CRS_TREE_G_PIPE_WRITE ? "pipe, write end"
           : k == CRS_TREE_G_DELETED    ? "deleted file"
           : k == CRS_TREE_G_OBJECT     ? "saved file"
           : k == CRS_TREE_G_SHMEM      ? "shared memory"
           : k == CRS_TREE_G_KOBJ       ? "kernel object"
           : k == CRS_TREE_G_SOCK       ? "socket pair end"
           : k == CRS_TREE_G_FIFO       ? "FIFO"
                                        : "file";
}

void tree_text(const struct crs_tree *t, const char *path)
{
    printf("process tree %s\n", path);
    printf("  scope:    %s %d, %u processes\n", crs_tree_scope_name(t->hdr.scope), (int)t->hdr.id,
           t->hdr.nmembers);
    printf("members (%u):\n", t->hdr.nmembers);
    for (uint32_t i = 0; i < t->hdr.nmembers; i++) {
        const struct crs_tree_member *m = &t->members[i];
        char st[64] = "";
        if (m->kind == CRS_TREE_ZOMBIE)
            crs_tree_status_text(m->wait_status, st, sizeof st);
        printf("  pid %d '%.16s' parent %d, group %d, session %d: %s%s", (int)m->pid, m->comm, (int)m->ppid,
               (int)m->pgid, (int)m->sid, m->kind == CRS_TREE_ZOMBIE ? "zombie, " : "", st);
        if (m->kind == CRS_TREE_PROCESS)
            printf("image of %" PRIu64 " bytes at %" PRIu64, m->image_length, m->image_offset);
        printf("\n");
    }
    if (t->hdr.ngroups)
        printf("shared open files (%u):\n", t->hdr.ngroups);
    for (uint32_t g = 0; g < t->hdr.ngroups; g++) {
        const struct crs_tree_group *x = &t->groups[g];
        printf("  %s", group_kind(x->kind));
        if (x->kind == CRS_TREE_G_OBJECT || x->kind == CRS_TREE_G_SHMEM) {
            /* its holders are in the members' images (FOBJS, MEMFDS) */
            printf(" %s (device %" PRIu64 ", inode %" PRIu64 "): its bytes in the image of pid %d, made once for "
                   "every member that maps or holds it\n", t->strings + x->path, x->dev, x->pipe_id,
                   (int)t->members[x->owner].pid);
            continue;
        }
        if (x->kind == CRS_TREE_G_SOCK)
            printf(" %s of pair %" PRIu64 " (end %" PRId64 ")%s",
                   x->sock_type == SOCK_DGRAM ? "datagram" : x->sock_type == SOCK_SEQPACKET ? "seqpacket" : "stream",
                   x->pipe_id, x->offset, x->data_length ? "," : "");
        else if (x->kind == CRS_TREE_G_FIFO)
            printf(" %s (inode %" PRIu64 ", opened %s%s)%s", t->strings + x->path, x->pipe_id,
                   (x->open_flags & O_ACCMODE) == O_RDONLY ? "to read" : (x->open_flags & O_ACCMODE) == O_WRONLY
                   ? "to write" : "read-write", (x->open_flags & CRS_TREE_FIFO_WAITING) ? ", no writer yet" : "",
                   x->data_length ? "," : "");
        else if (x->kind == CRS_TREE_G_KOBJ)
            printf(" %s, recorded in the image of pid %d (its descriptor %" PRId64 "), made once and shared",
                   t->strings + x->path, (int)t->members[x->owner].pid, x->offset);
        else if (x->kind == CRS_TREE_G_DELETED && x->object)
            printf(" %s at offset %" PRId64 ", the saved file's", t->strings + x->path, x->offset);
        else if (x->kind == CRS_TREE_G_FILE || x->kind == CRS_TREE_G_DELETED)
            printf(" %s at offset %" PRId64 "%s", t->strings + x->path, x->offset, x->data_length ? "," : "");
        else
            printf(" of pipe %" PRIu64 "%s", x->pipe_id, x->data_length ? "," : "");
        if (x->data_length)
            printf(" holding %" PRIu64 " bytes", x->data_length);
        printf(":");
        for (uint32_t l = 0; l < t->hdr.nlinks; l++)
            if (t->links[l].group == (int32_t)g)
                printf(" pid %d fd %d", (int)t->members[t->links[l].member].pid, (int)t->links[l].fd);
        printf("\n");
    }
}

void tree_json(const struct crs_tree *t, const char *path)
{
    struct jobj top = { "{", false };
    jstrk("file", path, &top);
    jstrk("scope", crs_tree_scope_name(t->hdr.scope), &top);
    ji64("id", t->hdr.id, &top);
    ju64("created_ns", t->hdr.created_ns, &top);
    jkey("members", &top);
    printf("[");
    for (uint32_t i = 0; i < t->hdr.nmembers; i++) {
        const struct crs_tree_member *m = &t->members[i];
        struct jobj o = { i ? ", {" : "{", false };
        ji64("pid", m->pid, &o);
        ji64("ppid", m->ppid, &o);
        ji64("pgid", m->pgid, &o);
        ji64("sid", m->sid, &o);
        char comm[17];
        snprintf(comm, sizeof comm, "%.16s", m->comm);
        jstrk("comm", comm, &o);
        jbool("zombie", m->kind == CRS_TREE_ZOMBIE, &o);
        if (m->kind == CRS_TREE_ZOMBIE)
            ji64("wait_status", m->wait_status, &o);
        else {
            ju64("image_offset", m->image_offset, &o);
            ju64("image_length", m->image_length, &o);
        }
        printf("}");
    }
    printf("]");
    jkey("shared", &top);
    printf("[");
    for (uint32_t g = 0; g < t->hdr.ngroups; g++) {
        const struct crs_tree_group *x = &t->groups[g];
        struct jobj o = { g ? ", {" : "{", false };
        jstrk("kind", group_kind(x->kind), &o);
        if (x->kind == CRS_TREE_G_OBJECT || x->kind == CRS_TREE_G_SHMEM) {
            jstrk("path", t->strings + x->path, &o);
            ju64("device", x->dev, &o);
            ju64("inode", x->pipe_id, &o);
            ji64("bytes_in_image_of", t->members[x->owner].pid, &o);
        } else if (x->kind == CRS_TREE_G_SOCK) {
            jstrk("type", x->sock_type == SOCK_DGRAM ? "datagram" : x->sock_type == SOCK_SEQPACKET ? "seqpacket"
                                                                                                : "stream", &o);
            ju64("pair", x->pipe_id, &o);
            ji64("end", x->offset, &o);
            ju64("bytes", x->data_length, &o);
        } else if (x->kind == CRS_TREE_G_FIFO) {
            jstrk("path", t->strings + x->path, &o);
            ju64("inode", x->pipe_id, &o);
            jstrk("access", (x->open_flags & O_ACCMODE) == O_RDONLY ? "read" : (x->open_flags & O_ACCMODE) == O_WRONLY
                                                                               ? "write" : "read-write", &o);
            if (x->open_flags & CRS_TREE_FIFO_WAITING)
                jbool("no_writer_yet", 1, &o);
            ju64("bytes", x->data_length, &o);
        } else if (x->kind == CRS_TREE_G_KOBJ) {
            jstrk("object", t->strings + x->path, &o);
            ji64("recorded_by", t->members[x->owner].pid, &o);
            ji64("recorded_fd", x->offset, &o);
        } else if (x->kind == CRS_TREE_G_FILE || x->kind == CRS_TREE_G_DELETED) {
            jstrk("path", t->strings + x->path, &o);
            ji64("offset", x->offset, &o);
            if (x->kind == CRS_TREE_G_DELETED)
                ju64("bytes", x->data_length, &o);
            if (x->kind == CRS_TREE_G_DELETED && x->object)
                ju64("saved_file", x->object - 1, &o);
        } else {
            ju64("pipe", x->pipe_id, &o);
            ju64("bytes", x->data_length, &o);
        }
        jkey("holders", &o);
        printf("[");
        int first = 1;
        for (uint32_t l = 0; l < t->hdr.nlinks; l++)
            if (t->links[l].group == (int32_t)g) {
                printf("%s{\"pid\": %d, \"fd\": %d}", first ? "" : ", ",
                       (int)t->members[t->links[l].member].pid, (int)t->links[l].fd);
                first = 0;
            }
        printf("]}");
    }
    printf("]");
    jkey("images", &top);
    printf("[");
}
