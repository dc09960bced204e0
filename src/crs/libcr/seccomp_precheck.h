/* libcr's check, before a checkpoint parks anything, that the program's own
 * seccomp filters let the thread taking the image make the calls the capture
 * needs (seccomp_precheck.c). */
#ifndef REVIVE_CRS_LIBCR_SECCOMP_PRECHECK_H
#define REVIVE_CRS_LIBCR_SECCOMP_PRECHECK_H

#include "crs/base/component.h"

/* image_fd: the descriptor the image is written to (< 0: not known yet).
 * Returns 1 with res set (status -EPERM, err naming the filter, the call and
 * what to do) when a filter the calling thread runs under would make one of
 * the capture's calls fail or end the thread or process; 0 otherwise (and
 * when the filters cannot be judged: seccomp_eval.c). */
int crs_seccomp_forbids_capture(struct crs_ckpt_result *res, int image_fd);

#endif
