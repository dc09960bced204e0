/* Who gets a descriptor's SIGIO (image_format.h: FDOWNERS): the owner
 * (F_GETOWN_EX: a thread, the process, a process group) and the signal
 * (F_GETSIG) of each open file the restart makes again, when either was
 * set. The owner is recorded by what it is to the process, so that a
 * restart under new ids gives the same: the process itself, one of its
 * threads, its own process group; another process or group is refused
 * (after a restart its number names another or none), except in a tree's
 * checkpoint, whose members keep their numbers. A standard stream the
 * process inherited (0-2: cr_restart's own at restart) whose owner is
 * another process is left out, said at info level. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "crs/uspace/capture.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int owned_kind(uint32_t kind)
{
    return kind != CRS_FD_CLOSED && kind != CRS_FD_INHERITED && kind != CRS_FD_PIDFD;
}

static const char *owner_type_name(int type)
{
    return type == F_OWNER_TID ? "thread" : type == F_OWNER_PGRP ? "process group" : "process";
}

int crs_capture_fd_owners(struct crs_capture *c)
{
    pid_t self = getpid(), pgrp = getpgrp();
    for (size_t i = 0; i < c->nfds; i++) {
        const struct crs_rec_fd *r = &c->fds[i];
        if (!owned_kind(r->kind) || r->dup_of >= 0)
            continue;   /* a dup shares its open file's owner */
        struct f_owner_ex ow = { 0, 0 };
        int sig = fcntl(r->fd, F_GETSIG);
        if (fcntl(r->fd, F_GETOWN_EX, &ow) != 0 || sig < 0 || (ow.pid == 0 && sig == 0))
            continue;
        uint32_t who = CRS_FDOWN_OTHER;
        if (ow.pid == 0)
            who = CRS_FDOWN_NONE;
        else if (ow.type == F_OWNER_PID && ow.pid == self)
            who = CRS_FDOWN_SELF;
        else if (ow.type == F_OWNER_PGRP && ow.pid == pgrp)
            who = CRS_FDOWN_PGRP;
        else if (ow.type == F_OWNER_TID)
            for (size_t t = 0; t < c->nthreads; t++)
                if (c->threads[t].tid == ow.pid)
                    who = CRS_FDOWN_THREAD;
        if (who == CRS_FDOWN_OTHER && !c->opts.tree && r->kind == CRS_FD_INHERIT) {
            /* a standard stream from the launcher (a shell's terminal, whose owner
             * the shell set): the restart gives cr_restart's own stream, whose owner
             * is cr_restart's business; nothing of the process's to keep */
            revive_log_info("descriptor %d, inherited, sends its I/O signal (F_SETOWN) to %s %d outside the "
                            "checkpoint (the launcher's setting): not recorded; after a restart it is whatever "
                            "cr_restart's own descriptor %d has", r->fd, owner_type_name(ow.type), (int)ow.pid,
                            r->fd);
            continue;
        }
        if (who == CRS_FDOWN_OTHER && !c->opts.tree) {
            crs_capture_error(c, "descriptor %d sends its I/O signal (F_SETOWN) to %s %d, which is not this "
                              "process, one of its threads or its process group: after a restart that number "
                              "would name another or none; give the descriptor this process as its owner, or "
                              "checkpoint the tree that holds both (cr_checkpoint --tree)", r->fd,
                              owner_type_name(ow.type), (int)ow.pid);
            return -ENOTSUP;
        }
        if (!c->fdowns && !(c->fdowns = crs_scratch_alloc(c->scratch, (c->nfds ? c->nfds : 1) * sizeof *c->fdowns))) {
            crs_capture_error(c, "out of scratch memory for descriptors' owners");
            return -ENOMEM;
        }
        struct crs_rec_fdown *o = &c->fdowns[c->nfdowns++];
        memset(o, 0, sizeof *o);
        o->fd = r->fd;
        o->type = (uint32_t)ow.type;
        o->id = ow.pid;
        o->sig = (uint32_t)sig;
        o->who = who;
    }
    return 0;
}
