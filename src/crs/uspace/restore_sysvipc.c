/* System V semaphore sets and message queues at restart (image_format.h:
 * SYSVIPC). Each is the original's when it is still there and nobody else
 * uses it (a checkpoint with --kill leaves it: same id, key and size, no live
 * process other than us its last user), its values set or its messages
 * replaced; else made anew, under the old id when the kernel lets the
 * restart choose it (kernel.sem_next_id, msg_next_id: root, or
 * CAP_CHECKPOINT_RESTORE; one restart of the IPC namespace at a time,
 * restore_ipcid.c), with the old key when no other holds it (else
 * private, with a warning). Owner and permissions as saved. Where the id
 * changed, libcr's note of it in the restored memory is rewritten (the
 * next checkpoint saves the new one; libcr takes the id the program kept
 * to it) and the restart says so: other processes' calls with the old id
 * fail.
 *
 * The process's adjustments (SEM_UNDO) are made last before the switch
 * (crs_restore_sysvipc_undo): a semop of -a with SEM_UNDO and one of +a
 * without, together, leave the value and give the kernel's adjustment a. A
 * set or queue a failed restart made is removed again
 * (crs_restore_sysvipc_undo_made). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "crs/uspace/restore.h"
#include "common/log.h"
#include "common/procfs.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <unistd.h>

#define SEMVMX 32767

union semun_arg {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

static const char *what(const struct crs_rec_sysvipc *s)
{
    return s->kind == CRS_SYSVIPC_SEM ? "semaphore set" : "message queue";
}

/* What make asks crs_restore_ipc_make for: the set or queue under its key,
 * or a private one when another holds the key (said once). */
struct create_arg {
    const struct crs_rec_sysvipc *s;
    key_t key;
};

static int create(void *arg)
{
    struct create_arg *c = arg;
    const struct crs_rec_sysvipc *s = c->s;
    int sem = s->kind == CRS_SYSVIPC_SEM, flags = IPC_CREAT | IPC_EXCL | 0600;
    int id = sem ? semget(c->key, (int)s->count, flags) : msgget(c->key, flags);
    if (id < 0 && errno == EEXIST && c->key != IPC_PRIVATE) {
        revive_log_warn("the key 0x%08x of the System V %s %d is held by another: it comes back as a private "
                        "one (IPC_PRIVATE), which a %s of that key does not find", (unsigned)c->key, what(s),
                        s->id, sem ? "semget" : "msgget");
        c->key = IPC_PRIVATE;
        id = sem ? semget(IPC_PRIVATE, (int)s->count, flags) : msgget(IPC_PRIVATE, flags);
    }
    return id;
}

/* Another process, alive: not a zombie (the ends of a tree's processes a
 * --kill killed, whose parent has not reaped them yet: their adjustments
 * were given back as they ended, and they use nothing). */
static int alive_other(pid_t pid)
{
    if (pid <= 0 || pid == getpid() || (kill(pid, 0) != 0 && errno != EPERM))
        return 0;
    char st = revive_proc_state(pid);
    return st != 'Z' && st != 'X';
}

/* The original, left where it was: same kind, id, key and size; no other
 * live process its last user. */
static int left_behind(const struct crs_rec_sysvipc *s)
{
    if (s->kind == CRS_SYSVIPC_SEM) {
        struct semid_ds ds;
        union semun_arg a = { .buf = &ds };
        if (semctl(s->id, 0, IPC_STAT, a) != 0 || ds.sem_perm.__key != s->key || ds.sem_nsems != s->count)
            return 0;
        for (uint32_t k = 0; k < s->count; k++)
            if (alive_other(semctl(s->id, (int)k, GETPID)))
                return 0;
        return 1;
    }
    struct msqid_ds ds;
    return msgctl(s->id, IPC_STAT, &ds) == 0 && ds.msg_perm.__key == s->key && !alive_other(ds.msg_lspid) &&
           !alive_other(ds.msg_lrpid);
}

/* Made anew: the id, or -errno. *held: the restart chose the old id (*_next_id) and got
 * another, as the kernel gives the next free one when another object holds it. */
static int make(struct crs_restore *r, const struct crs_rec_sysvipc *s, int *held)
{
    int sem = s->kind == CRS_SYSVIPC_SEM;
    struct create_arg c = { s, s->key };
    int id = crs_restore_ipc_make(sem ? CRS_IPC_SEM : CRS_IPC_MSG, s->id, create, &c, held);
    if (id < 0) {
        int e = -id;
        crs_restore_error(r, "cannot make the System V %s %d (key 0x%08x) again: %s%s", what(s), s->id,
                          (unsigned)s->key, strerror(e),
                          e == ENOSPC ? (sem ? " (kernel.sem: too many sets or semaphores)" : " (kernel.msgmni)")
                          : e == EINVAL && sem ? " (kernel.sem: more semaphores than a set may hold)" : "");
    }
    return id;
}

/* The saved messages into queue id, which is empty; msg_qbytes as saved
 * when the kernel lets us (raising it past kernel.msgmnb needs
 * CAP_SYS_RESOURCE; else one warning line says so and the restart goes on
 * with the smaller queue). */
static int fill_queue(struct crs_restore *r, const struct crs_rec_sysvipc *s, int id)
{
    struct msqid_ds ds;
    if (msgctl(id, IPC_STAT, &ds) == 0 && ds.msg_qbytes != s->qbytes) {
        unsigned long long now = ds.msg_qbytes;
        ds.msg_qbytes = s->qbytes;
        if (msgctl(id, IPC_SET, &ds) != 0)
            revive_log_warn("cannot give System V message queue %d its msg_qbytes %llu again (%s): it holds at most "
                            "%llu bytes now, so senders wait sooner%s", s->id, (unsigned long long)s->qbytes,
                            strerror(errno), now,
                            errno == EPERM ? "; raising it past kernel.msgmnb needs CAP_SYS_RESOURCE: restart with "
                                             "it (as root), or raise kernel.msgmnb" : "");
    }
    const unsigned char *p = r->img->sysvipcdata + s->data;
    struct { long type; char text[]; } *m = NULL;
    uint64_t at = 0;
    for (uint32_t k = 0; k < s->count; k++) {
        int64_t type;
        uint64_t len;
        memcpy(&type, p + at, 8);
        memcpy(&len, p + at + 8, 8);
        void *grown = realloc(m, sizeof(long) + len + 1);
        if (!grown) {
            free(m);
            crs_restore_error(r, "out of memory for the messages of System V message queue %d", s->id);
            return -ENOMEM;
        }
        m = grown;
        m->type = (long)type;
        memcpy(m->text, p + at + 16, len);
        if (msgsnd(id, m, len, IPC_NOWAIT) != 0) {
            int e = errno;
            free(m);
            crs_restore_error(r, "cannot put message %u back in System V message queue %d (key 0x%08x): %s%s", k,
                              s->id, (unsigned)s->key, strerror(e),
                              e == EAGAIN ? " (it held more bytes than kernel.msgmnb lets the restart give it: "
                                            "raise it, or restart as root)" : "");
            return -e;
        }
        at += 16 + (len + 7) / 8 * 8;
    }
    free(m);
    return 0;
}

/* A queue left behind: what was sent after the checkpoint goes. */
static void drain(int id)
{
    struct { long type; char text[1]; } m;
    while (msgrcv(id, &m, 0, 0, IPC_NOWAIT | MSG_NOERROR) >= 0)
        ;
}

static int owner_mode(const struct crs_rec_sysvipc *s, int id)
{
    if (s->kind == CRS_SYSVIPC_SEM) {
        struct semid_ds ds;
        union semun_arg a = { .buf = &ds };
        if (semctl(id, 0, IPC_STAT, a) != 0)
            return -1;
        ds.sem_perm.uid = s->uid;
        ds.sem_perm.gid = s->gid;
        ds.sem_perm.mode = s->mode;
        return semctl(id, 0, IPC_SET, a);
    }
    struct msqid_ds ds;
    if (msgctl(id, IPC_STAT, &ds) != 0)
        return -1;
    ds.msg_perm.uid = s->uid;
    ds.msg_perm.gid = s->gid;
    ds.msg_perm.mode = s->mode;
    return msgctl(id, IPC_SET, &ds);
}

/* libcr's note of the id, in the restored memory: the new id. */
static void rewrite_note(struct crs_restore *r, const struct crs_rec_sysvipc *s, int id)
{
    const struct crs_image *img = r->img;
    for (size_t i = 0; s->note && i < img->nregions; i++) {
        const struct crs_rec_region *g = &img->regions[i];
        if (s->note >= g->start && s->note + sizeof(int) <= g->end && (g->prot & PROT_WRITE) && r->cur[i]) {
            int *at = (int *)(uintptr_t)(r->cur[i] + (s->note - g->start));
            if (*at == s->id)
                *at = id;
            return;
        }
    }
}

void crs_restore_note_new_id(struct crs_restore *r, const char *what, int old, int id, int held)
{
    size_t len = strlen(r->new_ids);
    if (len + 64 < sizeof r->new_ids)
        snprintf(r->new_ids + len, sizeof r->new_ids - len, "%s%s %d is now %d", len ? ", " : "", what, old, id);
    else if (!strstr(r->new_ids, "..."))
        snprintf(r->new_ids + len, sizeof r->new_ids - len, ", ...");
    r->nnew_ids++;
    r->nnew_held += held != 0;
}

/* One line for them all, and why: a user's restart may not choose ids
 * (the kernel's *_next_id need root or CAP_CHECKPOINT_RESTORE); root's
 * chose them, but another object of the IPC namespace holds the old one.
 * The program's calls on its sets, queues and segments, through libcr,
 * take the ids it kept to the new ones (libcr/sysvipc.c, sysvshm.c);
 * other processes' calls with an old id find nothing or another's object
 * under it. */
void crs_restore_warn_new_ids(struct crs_restore *r)
{
    if (!r->nnew_ids)
        return;
    const char *s = r->nnew_ids > 1 ? "s" : "", *es = r->nnew_ids > 1 ? "" : "s";
    if (r->nnew_held)
        revive_log_warn("%d System V object%s of the image come%s back under another id (%s): another object of "
                        "this IPC namespace holds the old id (made since the checkpoint); the program's own calls "
                        "with the ids it kept go to the new ones (libcr translates), other processes' calls with "
                        "an old id fail or reach that object; restart once it is gone to keep them", r->nnew_ids, s, es, r->new_ids);
    else
        revive_log_warn("%d System V object%s of the image come%s back under another id (%s): this restart may "
                        "not choose ids (kernel.shm_next_id, sem_next_id and msg_next_id need root or "
                        "CAP_CHECKPOINT_RESTORE); the program's own calls with the ids it kept go to the new ones "
                        "(libcr translates), other processes' calls with an old id fail; restart as root to keep "
                        "them", r->nnew_ids, s, es,
                        r->new_ids);
    r->new_ids[0] = 0;
    r->nnew_ids = 0;
    r->nnew_held = 0;
}

static int alloc_ids(struct crs_restore *r)
{
    if (r->sysvipc_ids)
        return 0;
    size_t n = r->img->nsysvipcs;
    r->sysvipc_ids = calloc(n, sizeof *r->sysvipc_ids);
    r->sysvipc_made = calloc(n, 1);
    r->sysvipc_tree = calloc(n, 1);
    if (!r->sysvipc_ids || !r->sysvipc_made || !r->sysvipc_tree) {
        crs_restore_error(r, "out of memory for the System V semaphore sets and message queues");
        return -ENOMEM;
    }
    return 0;
}

/* Record i of r's image: the original taken back or one made again, its
 * values set or its messages put back, owner and mode as saved. Its id, or
 * -errno with the message; *made: 1 when made here; *held: as make's. */
static int bring_back(struct crs_restore *r, size_t i, int *made, int *held)
{
    const struct crs_image *img = r->img;
    const struct crs_rec_sysvipc *s = &img->sysvipcs[i];
    int reused = left_behind(s);
    *held = 0;
    int id = reused ? s->id : make(r, s, held);
    if (id < 0)
        return id;
    *made = !reused;
    int e = 0;
    if (s->kind == CRS_SYSVIPC_SEM) {
        union semun_arg a = { .array = (unsigned short *)(uintptr_t)(img->sysvipcdata + s->data) };
        if (semctl(id, 0, SETALL, a) != 0) {
            e = -errno;
            crs_restore_error(r, "cannot set the values of System V semaphore set %d again: %s", s->id,
                              strerror(errno));
        }
    } else {
        if (reused)
            drain(id);
        e = fill_queue(r, s, id);
    }
    if (e) {
        if (*made)
            s->kind == CRS_SYSVIPC_SEM ? semctl(id, 0, IPC_RMID) : msgctl(id, IPC_RMID, NULL);
        return e;
    }
    if (owner_mode(s, id) != 0)
        revive_log_warn("cannot give the System V %s %d its owner %u:%u and mode %03o: %s", what(s), s->id,
                        s->uid, s->gid, s->mode, strerror(errno));
    return id;
}

int crs_restore_sysvipc(struct crs_restore *r)
{
    const struct crs_image *img = r->img;
    if (!img->nsysvipcs)
        return 0;
    int e = alloc_ids(r);
    if (e)
        return e;
    for (size_t i = 0; i < img->nsysvipcs; i++) {
        const struct crs_rec_sysvipc *s = &img->sysvipcs[i];
        int id, made = 0, held = 0;
        if (r->sysvipc_tree[i]) {
            id = r->sysvipc_ids[i];   /* the tree's restart made or took it, and says when its id changed */
        } else {
            if ((id = bring_back(r, i, &made, &held)) < 0)
                return id;
            r->sysvipc_ids[i] = id;
            r->sysvipc_made[i] = (unsigned char)made;
            if (id != s->id)
                crs_restore_note_new_id(r, what(s), s->id, id, held);
        }
        if (id != s->id)
            rewrite_note(r, s, id);
    }
    return 0;
}

/* The tree's sets and queues: made once from the first image that names
 * each (all were parked when any was recorded, so every image holds the
 * same values and messages); every image naming it takes that one. */
struct made_one {
    int kind, id;
};
static struct made_one *tree_made;   /* for crs_restore_sysvipc_abandon: every one, however many */
static size_t ntree_made, tree_made_cap;

/* Room for one more in tree_made, before it is made: 0 or -ENOMEM. */
static int tree_made_room(struct crs_restore *r)
{
    if (ntree_made < tree_made_cap)
        return 0;
    size_t cap = tree_made_cap ? 2 * tree_made_cap : 64;
    struct made_one *m = realloc(tree_made, cap * sizeof *m);
    if (!m) {
        crs_restore_error(r, "out of memory for the list of System V sets and queues made for the tree");
        return -ENOMEM;
    }
    tree_made = m;
    tree_made_cap = cap;
    return 0;
}

int crs_restore_sysvipc_share(struct crs_restore *const *rs, size_t n, size_t *failed)
{
    for (size_t a = 0; a < n; a++) {
        struct crs_restore *r = rs[a];
        for (size_t i = 0; r && i < r->img->nsysvipcs; i++) {
            const struct crs_rec_sysvipc *s = &r->img->sysvipcs[i];
            if (r->sysvipc_tree && r->sysvipc_tree[i])
                continue;   /* an earlier image's, made already */
            *failed = a;
            int e = alloc_ids(r);
            if (e)
                return e;
            size_t named = 0;
            for (size_t b = a + 1; b < n; b++)
                for (size_t k = 0; rs[b] && k < rs[b]->img->nsysvipcs; k++)
                    named += rs[b]->img->sysvipcs[k].kind == s->kind && rs[b]->img->sysvipcs[k].id == s->id;
            if (!named)
                continue;   /* this process's own: its restart makes it */
            if ((e = tree_made_room(r)))
                return e;
            int made = 0, held = 0, id = bring_back(r, i, &made, &held);
            if (id < 0)
                return id;
            if (made)
                tree_made[ntree_made++] = (struct made_one){ (int)s->kind, id };
            if (id != s->id)
                crs_restore_note_new_id(r, what(s), s->id, id, held);
            for (size_t b = a; b < n; b++)
                for (size_t k = 0; rs[b] && k < rs[b]->img->nsysvipcs; k++) {
                    const struct crs_rec_sysvipc *o = &rs[b]->img->sysvipcs[k];
                    if (o->kind != s->kind || o->id != s->id)
                        continue;
                    if ((e = alloc_ids(rs[b]))) {
                        *failed = b;
                        return e;
                    }
                    rs[b]->sysvipc_ids[k] = id;
                    rs[b]->sysvipc_tree[k] = 1;
                }
        }
        if (r)
            crs_restore_warn_new_ids(r);
    }
    return 0;
}

void crs_restore_sysvipc_abandon(void)
{
    for (size_t i = 0; i < ntree_made; i++)
        if (tree_made[i].kind == CRS_SYSVIPC_SEM)
            semctl(tree_made[i].id, 0, IPC_RMID);
        else
            msgctl(tree_made[i].id, IPC_RMID, NULL);
    ntree_made = 0;
}

int crs_restore_sysvipc_undo(struct crs_restore *r)
{
    const struct crs_image *img = r->img;
    for (size_t i = 0; i < img->nsysvipcs; i++) {
        const struct crs_rec_sysvipc *s = &img->sysvipcs[i];
        if (s->kind != CRS_SYSVIPC_SEM || !(s->flags & CRS_SYSVIPC_F_UNDO))
            continue;
        const unsigned char *p = img->sysvipcdata + s->data;
        for (uint32_t k = 0; k < s->count; k++) {
            int16_t adj;
            uint16_t val;
            memcpy(&adj, p + 2 * ((size_t)s->count + k), 2);
            memcpy(&val, p + 2 * (size_t)k, 2);
            if (!adj)
                continue;
            /* the kernel's adjustment less the operation: an op of -adj with SEM_UNDO gives adj */
            short u = (short)-adj;
            struct sembuf undo = { (unsigned short)k, u, SEM_UNDO | IPC_NOWAIT }, back = { (unsigned short)k, (short)-u, IPC_NOWAIT };
            struct sembuf ops[2];
            if ((int)val + u >= 0 && (int)val + u <= SEMVMX)
                ops[0] = undo, ops[1] = back;
            else
                ops[0] = back, ops[1] = undo;
            if (semop(r->sysvipc_ids[i], ops, 2) != 0) {
                crs_restore_error(r, "cannot give System V semaphore set %d its adjustment %d (SEM_UNDO) on "
                                  "semaphore %u again: %s", s->id, adj, k, strerror(errno));
                return -EIO;
            }
        }
    }
    return 0;
}

void crs_restore_sysvipc_undo_made(struct crs_restore *r)
{
    for (size_t i = 0; r->sysvipc_made && i < r->img->nsysvipcs; i++)
        if (r->sysvipc_made[i]) {
            if (r->img->sysvipcs[i].kind == CRS_SYSVIPC_SEM)
                semctl(r->sysvipc_ids[i], 0, IPC_RMID);
            else
                msgctl(r->sysvipc_ids[i], IPC_RMID, NULL);
        }
}
