/* The writer of a tree's file (tree_ckpt.c): each member told what the
 * restart puts in place and asked to write its image in turn through the
 * one file, then the table (tree.h) at the start of the tree. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "crs/base/tree_ckpt.h"
#include "crs/base/image_format.h"
#include "crs/base/protocol.h"
#include "crs/base/shared_note.h"
#include "crs/base/tree_objects.h"
#include "common/fault.h"
#include "common/fd_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

/* Member m's word to record: its descriptors the restart puts in place
 * (the links: scan_fds lists each member's in ascending order). */
static void placed_fds(const struct tree_ckpt *t, size_t m, struct crs_proto_go *go)
{
    memset(go, 0, sizeof *go);
    go->magic = CRS_PROTO_GO;
    for (size_t i = 0; i < t->nfds; i++) {
        const struct fd_entry *f = &t->fds[i];
        if (f->member != (int)m || f->group < 0)
            continue;
        if (go->nplaced == CRS_PROTO_GO_MAX) {
            go->nplaced = CRS_PROTO_GO_ALL;
            return;
        }
        go->placed[go->nplaced++] = f->fd;
    }
    /* ends of socket pairs members share */
    for (size_t i = 0; i < t->nsocks; i++) {
        const struct sock_entry *x = &t->socks[i];
        if (x->member != (int)m || x->group < 0)
            continue;
        if (go->nplaced == CRS_PROTO_GO_MAX) {
            go->nplaced = CRS_PROTO_GO_ALL;
            return;
        }
        go->placed[go->nplaced++] = x->fd;
    }
    for (uint32_t a = 1; a < go->nplaced; a++)   /* ascending */
        for (uint32_t b = a; b > 0 && go->placed[b - 1] > go->placed[b]; b--) {
            int32_t x = go->placed[b];
            go->placed[b] = go->placed[b - 1];
            go->placed[b - 1] = x;
        }
}

/* Every member's pid in the go word (crs_proto_go.members). */
static void go_members(const struct tree_ckpt *t, struct crs_proto_go *go)
{
    if (t->nmembers > CRS_PROTO_GO_MEMBERS_MAX) {
        go->nmembers = CRS_PROTO_GO_ALL;
        return;
    }
    for (size_t m = 0; m < t->nmembers; m++)
        go->members[go->nmembers++] = t->all[t->members[m]].in_pid;
}

void crs_tree_go(const struct tree_ckpt *t, size_t m, struct crs_proto_go *go)
{
    placed_fds(t, m, go);
    crs_tree_objects_go(&t->objs, m, go);
    go_members(t, go);
}

static int write_all(int fd, const void *p, size_t len, uint64_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pwrite(fd, (const char *)p + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        done += (size_t)n;
    }
    return 0;
}

/* The header of the table tb (its checksum is the table's, set when it is
 * written). */
static void fill_header(const struct tree_ckpt *t, const struct tree_table *tb, struct crs_tree_header *h)
{
    memset(h, 0, sizeof *h);
    memcpy(h->magic, CRS_TREE_MAGIC, 8);
    int has_kobj = 0, has_fifo = 0;
    for (size_t x = 0; x < tb->ngroups; x++) {
        has_kobj |= tb->groups[x].kind == CRS_TREE_G_KOBJ || tb->groups[x].kind == CRS_TREE_G_SOCK;
        has_fifo |= tb->groups[x].kind == CRS_TREE_G_FIFO;
    }
    /* the lowest version that holds these groups: older Revives read what they know */
    h->version = has_fifo ? CRS_TREE_VERSION : has_kobj ? 4 : tb->has_shmem ? 3 : 2;
    h->scope = (uint32_t)t->o->scope;
    h->id = (int32_t)t->o->id;
    h->nmembers = (uint32_t)t->nmembers;
    h->ngroups = (uint32_t)tb->ngroups;
    h->nlinks = (uint32_t)tb->nlinks;
    h->strings_offset = sizeof *h + t->nmembers * sizeof(struct crs_tree_member) +
                        tb->ngroups * sizeof *tb->groups + tb->nlinks * sizeof *tb->links;
    h->strings_length = tb->slen;
    h->data_offset = h->strings_offset + tb->slen;
    h->data_length = tb->dlen;
    h->table_length = h->data_offset + tb->dlen;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    h->created_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Member m's record but for its image: who it is, or a zombie's status. */
static void fill_member(const struct tree_ckpt *t, size_t m, struct crs_tree_member *x)
{
    const struct proc_info *p = &t->all[t->members[m]];
    x->pid = p->in_pid;
    int parent = find_proc(t, p->ppid);
    x->ppid = parent >= 0 && crs_tree_is_member(t, parent) ? t->all[parent].in_pid : 0;
    x->pgid = p->in_pgid;
    x->sid = p->in_sid;
    memcpy(x->comm, p->comm, sizeof x->comm);
    if (p->state == 'Z') {
        x->kind = CRS_TREE_ZOMBIE;
        x->wait_status = p->exit_code;
        return;
    }
    x->kind = CRS_TREE_PROCESS;
}

/* Member m's caveat on success (its image could not be restarted on this
 * machine): the checkpoint fails with it when the members are to be ended,
 * else it is the first warning. 0, or -E2BIG with the message. */
static int member_caveat(struct tree_ckpt *t, size_t m, const char *msg)
{
    const struct crs_tree_ckpt_opts *o = t->o;
    char w[64];
    if (o->signal_after == SIGKILL || o->signal_after == SIGTERM) {
        /* its image could not be restarted here (diffrev20 MEDIUM-A):
         * as for one process (protocol.c), no member is ended and
         * the file is not committed (an earlier image there stays);
         * the members not captured yet need not be */
        fail(t, "%s: %s; no process of the %s was ended (%s) and the image was not kept: raise the limit "
                "and checkpoint again, or checkpoint with --cont or --stop to keep the image while it "
                "runs", who(t, m, w, sizeof w), msg, crs_tree_scope_name(o->scope),
             o->signal_after == SIGKILL ? "--kill" : "--term");
        return -E2BIG;
    }
    if (o->warn && o->warnlen && !o->warn[0])
        snprintf(o->warn, o->warnlen, "%s: %s", who(t, m, w, sizeof w), msg);
    return 0;
}

/* Member m's writable shared file mappings left to their files (its reply's note) added to
 * o->shared with its pid first (crs/base/shared_note.h), the "+N" of every member summed. */
static void member_shared(struct tree_ckpt *t, size_t m, const char *lines)
{
    const struct crs_tree_ckpt_opts *o = t->o;
    if (!o->shared || o->sharedlen < 32)
        return;
    struct crs_shared_writer w;
    crs_shared_note_open(&w, o->shared, o->sharedlen, 1);
    struct crs_shared_line l;
    while (crs_shared_note_next(&lines, 0, &l))
        if (l.more)
            crs_shared_note_more(&w, l.more);
        else
            crs_shared_note_put(&w, (long)t->all[t->members[m]].pid, l.bytes, l.path, l.pathlen);
    crs_shared_note_close(&w);
}

int crs_tree_fdata_add(struct tree_ckpt *t, uint64_t n, const char *what)
{
    uint64_t max = crs_tree_fdata_max(t);
    if (max && (t->fdata > max || n > max - t->fdata)) {
        char also[160] = "";
        if (t->o->file_data_held)
            snprintf(also, sizeof also, " and the %llu MiB of %s",
                     (unsigned long long)((t->o->file_data_held + (1 << 20) - 1) >> 20),
                     t->o->file_data_held_what ? t->o->file_data_held_what : "saved data");
        fail(t, "%s %llu MiB of saved files; with the other saved files of the %s%s that is more than the %llu "
                "MiB an image may hold of files deleted while open or in /dev/shm: raise the limit (%s), or "
                "close or shrink the files",
             what, (unsigned long long)((n + (1 << 20) - 1) >> 20), crs_tree_scope_name(t->o->scope), also,
             (unsigned long long)(max >> 20), crs_tree_fdata_hint(t));
        return -EFBIG;
    }
    t->fdata += n;
    return 0;
}

/* len bytes at pos of the file rd reads: 0, -EIO when it ends before, or -errno */
static int read_back(int rd, void *buf, size_t len, uint64_t pos)
{
    ssize_t n;
    do
        n = pread(rd, buf, len, (off_t)pos);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

/* A descriptor that reads the tree's file open at fd: fd itself when it reads, else one of its own
 * (/proc/self/fd/N: libcr's caller may hand a write-only one; *own set). -errno when none
 * (tree-fdata-unread: none, as for a write-only file the caller may not read, or no /proc). */
static int reader_of(int fd, int *own)
{
    *own = 0;
    int fl = fcntl(fd, F_GETFL), refuse = revive_fault(REVIVE_FAULT_tree_fdata_unread);
    if (fl >= 0 && (fl & O_ACCMODE) != O_WRONLY && !refuse)
        return fd;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int rd = refuse ? (errno = EACCES, -1) : open(path, O_RDONLY | O_CLOEXEC);
    if (rd < 0)
        return -errno;
    *own = 1;
    return rd;
}

/* The bytes of saved files (its FDATA section) in the image member m wrote from pos in the tree's
 * file, in *n. 0, or -errno with the message: an image that cannot be read back fails the
 * checkpoint, as a write that fails (diffrev45: it counted as 0 without a word, and the one limit
 * for the whole file lapsed for its files), and so does one that is not an image (not written as
 * its member said). Not read where there is no limit: nothing is counted then. */
static int image_fdata(struct tree_ckpt *t, int fd, size_t m, uint64_t pos, uint64_t *n)
{
    *n = 0;
    if (!crs_tree_fdata_max(t))
        return 0;
    char w[64];
    revive_fd_enter(); /* a descriptor of its own, closed here: none a fork in a rank would copy */
    int own, rd = reader_of(fd, &own);
    if (rd < 0) {
        revive_fd_leave();
        fail(t, "cannot read back the image of %s to count its saved files within the limit (the tree's "
                "file, written through a write-only descriptor, reopened as /proc/self/fd/%d: %s): checkpoint "
                "where /proc is mounted and the file may be read, or with no limit (%s 0)",
             who(t, m, w, sizeof w), fd, strerror(-rd), crs_tree_fdata_hint(t));
        return rd;
    }
    struct crs_image_header h;
    int e = read_back(rd, &h, sizeof h, pos);
    if (!e && (memcmp(h.magic, CRS_IMAGE_MAGIC, 8) != 0 || h.section_count > CRS_SECTIONS_MAX))
        e = -EBADMSG;
    for (uint32_t k = 0; !e && k < h.section_count; k++) {
        struct crs_section_entry x;
        if (!(e = read_back(rd, &x, sizeof x, pos + h.table_offset + k * sizeof x)) && x.type == CRS_SEC_FDATA)
            *n += x.size;
    }
    if (own)
        close(rd);
    revive_fd_leave();
    if (e)
        fail(t, "cannot read back the image of %s in the tree's file to count its saved files: %s",
             who(t, m, w, sizeof w), e == -EBADMSG ? "what it wrote is not an image"
                                     : e == -EIO   ? "the file ends inside it"
                                                   : strerror(-e));
    return e;
}

/* Member m (parked, connected) writes its image from *pos: it is told what
 * the restart puts in place and answers once written; x gets where the
 * image is, *pos where the next one goes. 0, or -errno with the message. */
static int member_image(struct tree_ckpt *t, int fd, size_t m, uint64_t *pos, struct crs_tree_member *x)
{
    /* its image from here: the members write in turn through the one
     * open file (the writer starts at the file's offset and leaves it at
     * the image's end) */
    if (lseek(fd, (off_t)*pos, SEEK_SET) < 0) {
        int e = -errno;   /* before fail(), which may change errno */
        fail(t, "cannot write the tree's file: %s", strerror(-e));
        return e;
    }
    struct crs_proto_go go;
    crs_tree_go(t, m, &go);
    struct crs_proto_reply rp;
    if (m == 1 && revive_fault(REVIVE_FAULT_tree_go_late)) {
        fprintf(stderr, "cr_checkpoint: fault tree-go-late: holding before process %d writes its image\n",
                (int)t->all[t->members[m]].pid);
        fflush(stderr);
        struct timespec hold = { 3, 0 };
        while (nanosleep(&hold, &hold) != 0 && errno == EINTR)
            ;
    }
    int e = crs_proto_send(t->conn[m], &go, sizeof go, -1);
    if (e) {
        char w[64];
        if (crs_tree_member_ended(t->all[t->members[m]].pid))   /* (its connection closed: "Broken pipe") */
            fail(t, "%s died during the checkpoint of the %s", who(t, m, w, sizeof w),
                 crs_tree_scope_name(t->o->scope));
        else
            fail(t, "cannot reach %s: %s", who(t, m, w, sizeof w), strerror(-e));
        return e;
    }
    if ((e = crs_tree_member_written(t, m, fd, &rp)))
        return e;
    rp.msg[sizeof rp.msg - 1] = 0;   /* on success: a caveat, or "" */
    if (rp.magic == CRS_PROTO_MAGIC && rp.msg[0] && (e = member_caveat(t, m, rp.msg)))
        return e;
    rp.shared[sizeof rp.shared - 1] = 0;
    if (rp.magic == CRS_PROTO_MAGIC && rp.status == 0)
        member_shared(t, m, rp.shared);
    off_t end = lseek(fd, 0, SEEK_CUR);
    if (end < (off_t)*pos) {
        fail(t, "the tree's file is shorter than the image process %d wrote", (int)t->all[t->members[m]].pid);
        return -EIO;
    }
    x->image_offset = *pos - t->base;
    x->image_length = (uint64_t)end - *pos;
    /* the member checked its own saved files against the whole limit; the tree's file holds
     * every member's (and the caller's, file_data_held): one budget for the whole file, counted
     * once the member wrote (the file may pass the limit by that image: refused, it is discarded,
     * never committed) */
    char w[64], what[96];
    snprintf(what, sizeof what, "%s holds", who(t, m, w, sizeof w));
    uint64_t held;
    if ((e = image_fdata(t, fd, m, *pos, &held)) || (e = crs_tree_fdata_add(t, held, what)))
        return e;
    *pos = ((uint64_t)end + 4095) & ~4095ull;
    return 0;
}

/* The table (header h, members mem, then tb) at the tree's start, made
 * durable. 0, or -errno with the message. */
static int write_table(struct tree_ckpt *t, int fd, struct crs_tree_header *h, const struct crs_tree_member *mem,
                       const struct tree_table *tb)
{
    size_t tl = (size_t)h->table_length;
    unsigned char *tab = crs_tmem_calloc(1, tl);
    if (!tab)
        return -ENOMEM;
    size_t off = sizeof *h;
    memcpy(tab + off, mem, t->nmembers * sizeof *mem), off += t->nmembers * sizeof *mem;
    memcpy(tab + off, tb->groups, tb->ngroups * sizeof *tb->groups), off += tb->ngroups * sizeof *tb->groups;
    memcpy(tab + off, tb->links, tb->nlinks * sizeof *tb->links), off += tb->nlinks * sizeof *tb->links;
    memcpy(tab + off, tb->strings, tb->slen), off += tb->slen;
    if (tb->dlen)
        memcpy(tab + off, tb->data, tb->dlen);
    memcpy(tab, h, sizeof *h);
    h->checksum = XXH3_64bits(tab, tl);
    memcpy(tab, h, sizeof *h);
    int e = write_all(fd, tab, tl, t->base);
    if (!e && fsync(fd) != 0 && errno != EINVAL)
        e = -errno;
    if (e)
        fail(t, "cannot write the tree's table: %s", strerror(-e));
    crs_tmem_free(tab);
    return e;
}

int crs_tree_writer_start(const struct tree_ckpt *t, const struct tree_table *tb, struct tree_writer *w)
{
    memset(w, 0, sizeof *w);
    w->mem = crs_tmem_calloc(t->nmembers, sizeof *w->mem);
    if (!w->mem)
        return -ENOMEM;
    fill_header(t, tb, &w->h);
    for (size_t m = 0; m < t->nmembers; m++)
        fill_member(t, m, &w->mem[m]);
    w->pos = (t->base + w->h.table_length + 4095) & ~4095ull;
    return 0;
}

int crs_tree_write_member(struct tree_ckpt *t, int fd, size_t m, struct tree_writer *w)
{
    if (w->mem[m].kind != CRS_TREE_PROCESS)
        return 0;
    return member_image(t, fd, m, &w->pos, &w->mem[m]);
}

int crs_tree_writer_finish(struct tree_ckpt *t, int fd, struct tree_writer *w, const struct tree_table *tb)
{
    return write_table(t, fd, &w->h, w->mem, tb);
}

void crs_tree_writer_free(struct tree_writer *w)
{
    crs_tmem_free(w->mem);
    w->mem = NULL;
}

int crs_tree_write(struct tree_ckpt *t, int fd, const struct tree_table *tb)
{
    struct tree_writer w;
    int e = crs_tree_writer_start(t, tb, &w);
    for (size_t m = 0; m < t->nmembers && !e; m++)
        e = crs_tree_write_member(t, fd, m, &w);
    if (!e)
        e = crs_tree_writer_finish(t, fd, &w, tb);
    crs_tree_writer_free(&w);
    return e;
}
