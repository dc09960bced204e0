/* The restored process takes on the image's credentials (real, effective and
 * saved uid and gid, supplementary groups) before any of the image's code
 * runs: an image is data its user wrote, so root restarting another user's
 * image must not run that user's code as root. When cr_restart cannot take
 * them on (a user restarting another user's image), the restart is refused. */
#define _GNU_SOURCE
#include "crs/uspace/restore.h"

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

/* 1 when every one of the na groups a is among the nb groups b. */
static int all_among(const gid_t *a, size_t na, const gid_t *b, size_t nb)
{
    for (size_t i = 0; i < na; i++) {
        size_t k = 0;
        while (k < nb && b[k] != a[i])
            k++;
        if (k == nb)
            return 0;
    }
    return 1;
}

/* gid_t is the image's uint32_t on Linux (checked below), so the image's groups compare as is. */
_Static_assert(sizeof(gid_t) == sizeof(uint32_t), "gid_t is 32 bits");

static int same_groups(const gid_t *a, size_t na, const uint32_t *b, size_t nb)
{
    const gid_t *bg = (const gid_t *)b;
    return all_among(a, na, bg, nb) && all_among(bg, nb, a, na);
}

int crs_restore_creds(struct crs_restore *r)
{
    const struct crs_image *img = r->img;
    uint32_t old_ids[CRS_CREDS_IDS + 1];
    const uint32_t *ids, *groups;
    size_t ngroups;
    if (img->ncreds >= CRS_CREDS_IDS) {
        ids = img->creds;
        groups = img->creds + CRS_CREDS_IDS;
        ngroups = img->ncreds - CRS_CREDS_IDS;
    } else {
        /* an image older than version 7 knows the real ids only: those,
         * with the gid as the only group */
        uint32_t u = img->process->uid, g = img->process->gid;
        old_ids[0] = old_ids[1] = old_ids[2] = u;
        old_ids[3] = old_ids[4] = old_ids[5] = old_ids[6] = g;
        ids = old_ids;
        groups = old_ids + CRS_CREDS_IDS;
        ngroups = 1;
    }
    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0) {
        crs_restore_error(r, "cannot read cr_restart's credentials: %s", strerror(errno));
        return -errno;
    }
    int ng = getgroups(0, NULL);
    gid_t *mine = calloc(ng > 0 ? (size_t)ng : 1, sizeof *mine);
    if (ng < 0 || !mine || getgroups(ng, mine) != ng) {
        free(mine);
        crs_restore_error(r, "cannot read cr_restart's supplementary groups");
        return -EIO;
    }
    int groups_same = same_groups(mine, (size_t)ng, groups, ngroups);
    free(mine);
    int ids_same = ru == ids[0] && eu == ids[1] && su == ids[2] && rg == ids[3] && eg == ids[4] && sg == ids[5];
    if (ids_same && groups_same)
        return 0;
    /* Only root may set the groups. A user restarting an image of their own
     * keeps their current groups: they run their own code with them anyway. */
    int own_image = ru != 0 && ids[0] == ru && ids[1] == ru && ids[2] == ru;
    if (!groups_same && setgroups(ngroups, (const gid_t *)groups) != 0 && !(errno == EPERM && own_image))
        goto refuse;
    /* Capabilities the image's threads take on again (restart_info.h) must
     * outlive the change of uids, which clears the permitted set. */
    if (!ids_same && (img->process->flags & CRS_PROC_F_CAPSET) && img->process->cap_prm &&
        prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == 0)
        r->keepcaps = 1;
    /* the gids while we may still change them */
    if (!ids_same && (setresgid(ids[3], ids[4], ids[5]) != 0 || setresuid(ids[0], ids[1], ids[2]) != 0))
        goto refuse;
    /* The kernel made the process undumpable when its effective ids changed;
     * a process whose ids are all alike was dumpable (its user may
     * checkpoint it again, read its /proc files). */
    if (ids[0] == ids[1] && ids[1] == ids[2] && ids[3] == ids[4] && ids[4] == ids[5])
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    return 0;
refuse:;
    int e = errno;
    crs_restore_error(r, "the image belongs to uid %u (gid %u); cr_restart, running as uid %u, cannot take on "
                         "its credentials (%s): restart it as that user, or as root",
                      ids[0], ids[3], (unsigned)ru, strerror(e));
    return -EPERM;
}
