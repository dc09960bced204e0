/* Another user's snapshot directory, refused with whose it is and what to do (snap_owner.h). */
#define _GNU_SOURCE
#include "tools/snapc/snap_owner.h"

#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapc/util.h"

int snap_owner_refuse(const struct snap_owner_words *w, const char *dir)
{
    struct stat st;
    if (stat(dir, &st) < 0 || st.st_uid == geteuid())
        return 0;
    struct passwd *pw = getpwuid(st.st_uid);
    char who[300];
    if (pw)
        snprintf(who, sizeof who, "user %s (uid %u)", pw->pw_name, (unsigned)st.st_uid);
    else
        snprintf(who, sizeof who, "uid %u", (unsigned)st.st_uid);
    if (geteuid() != 0) {
        fprintf(stderr, "%s: %s belongs to %s, not to you (uid %u): snapshots are private to their owner, "
                        "and only %s can %s it\n",
                w->me, dir, who, (unsigned)geteuid(), pw ? pw->pw_name : "that user", w->verb);
        return 1;
    }
    /* the same command, each word quoted for a shell, so that it can be pasted back */
    struct snapc_sbuf cmd = {0};
    snapc_sb_printf(&cmd, "%s", w->me);
    for (int i = 1; i < w->argc; i++) {
        snapc_sb_printf(&cmd, " ");
        snapc_sb_shell_word(&cmd, w->argv[i]);
    }
    fprintf(stderr, "%s: %s belongs to %s: %s, so run it as that user (for example: runuser -u %s -- %s)%s\n",
            w->me, dir, who, w->why, pw ? pw->pw_name : "USER", cmd.p ? cmd.p : w->me, w->tail);
    snapc_sb_free(&cmd);
    return 1;
}

int snap_owner_refuse_above(const struct snap_owner_words *w, const char *ref)
{
    char d[PATH_MAX];
    snprintf(d, sizeof d, "%s", ref);
    for (;;) {
        size_t n = strlen(d);
        while (n > 1 && d[n - 1] == '/')
            d[--n] = 0;
        char *slash = strrchr(d, '/');
        if (!slash)
            return 0;
        if (slash == d)
            d[1] = 0;
        else
            *slash = 0;
        struct stat st;
        /* the directory that stops the caller: another user's, not searchable */
        if (stat(d, &st) == 0 && st.st_uid != geteuid() && access(d, X_OK) != 0)
            return snap_owner_refuse(w, d);
        if (slash == d)
            return 0;
    }
}
