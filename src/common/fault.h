/* Fault points for tests: REVIVE_FAULT=name[,name...] makes the named steps fail.
 *
 * The points are listed once, in common/fault_points.def. Code asks at the step:
 *
 *     if (revive_fault(REVIVE_FAULT_image_commit)) { fail as a real error would }
 *
 * REVIVE_FAULT is read and parsed at the first call (in the process, once). A name that
 * is no fault point is reported once through the logger, with the list of known names,
 * and otherwise ignored. No allocation: callable while other threads are frozen. */
#ifndef REVIVE_COMMON_FAULT_H
#define REVIVE_COMMON_FAULT_H

enum revive_fault_point {
#define REVIVE_FAULT_POINT(id, name, what) REVIVE_FAULT_##id,
#include "common/fault_points.def"
#undef REVIVE_FAULT_POINT
    REVIVE_FAULT_COUNT
};

/* 1 when REVIVE_FAULT names this point, else 0. */
int revive_fault(enum revive_fault_point p);

/* The point's name as REVIVE_FAULT spells it ("image-commit"); NULL when out of range. */
const char *revive_fault_name(enum revive_fault_point p);

/* Unit tests only: forget what was parsed, so that the next check reads REVIVE_FAULT again
 * (after a setenv). Not for use while other threads may check a point. */
void revive_fault_reread(void);

#endif
