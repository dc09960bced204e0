/*
 * The --relocate OLD=NEW rule, one for every reader of it: the ranks' restores (crs_restore_path,
 * the MPI layer's objects), cr_restart --tree and restart-mpi (its checks of the files the images
 * map, where it puts the saved files back, its working directory). Before session 39 restart-mpi
 * had its own copy, which kept a NEW's trailing '/' ("/new/" made "/new//x", and "/new/" for OLD
 * itself) and cut a moved path that did not fit, where the ranks took "/new/x" and the path
 * unmoved.
 */
#ifndef REVIVE_CRS_BASE_RELOCATED_H
#define REVIVE_CRS_BASE_RELOCATED_H

#include <stddef.h>

/* `path` as --relocate OLD=NEW (crs_restart_opts.relocate) moves it: under
 * the longest OLD that is it or one of its folders, NEW in place of OLD
 * ("OLD/" means OLD, "NEW/" means NEW); else `path` itself. The moved path is
 * written to buf (cap bytes); `path` comes back when it does not fit (a path
 * of PATH_MAX bytes or more, which no system call takes: the ranks and
 * restart-mpi then all look at the path as saved, never at a cut one). */
const char *crs_relocated(const char *const *relocate, size_t nrelocate, const char *path, char *buf, size_t cap);

#endif
