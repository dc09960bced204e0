/* A --relocate OLD=NEW argument checked before use. An image names every file by its absolute
 * path, and the restore compares OLD with those names as text: a relative OLD ("dA=dB", typed in
 * the folder where the user moved dA) matched nothing, and the restart then said that a file was
 * missing and to restart with --relocate OLD=NEW, which the user had just done (a fresh-user
 * review of issue 10). So a relative path is refused, with the option as it reads from the
 * current directory. */
#include "common/relocate_arg.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int revive_relocate_arg_check(const char *arg, char *msg, size_t cap)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || !eq[1]) {
        snprintf(msg, cap, "--relocate takes OLD=NEW (two paths), not '%s'", arg);
        return -1;
    }
    if (arg[0] == '/' && eq[1] == '/')
        return 0;
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) {
        snprintf(msg, cap, "--relocate takes absolute paths (OLD=NEW, each starting with '/'), not '%s'", arg);
        return -1;
    }
    int oldrel = arg[0] != '/', newrel = eq[1] != '/';
    snprintf(msg, cap,
             "--relocate takes absolute paths (the image names files by theirs), not '%s'; from this "
             "folder that is --relocate %s%s%.*s=%s%s%s",
             arg, oldrel ? cwd : "", oldrel ? "/" : "", (int)(eq - arg), arg, newrel ? cwd : "",
             newrel ? "/" : "", eq + 1);
    return -1;
}
