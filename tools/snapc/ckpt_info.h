/* ckpt-info's own files (tools/snapc/ckpt-info.c: the command, the index and the caches;
 * info_seq.c: one sequence shown); nothing else includes this. */
#ifndef REVIVE_TOOLS_SNAPC_CKPT_INFO_H
#define REVIVE_TOOLS_SNAPC_CKPT_INFO_H

#include <stdint.h>

#include "snapc/util.h"
#include "tools/snapc/seq_pick.h"

/* ckpt-info's exit statuses (its usage says them) */
enum { INFO_OK = 0, INFO_DAMAGED = 1, INFO_USAGE = 2, INFO_NONE = 3, INFO_STAGING = 4 };

extern const char info_me[]; /* "ckpt-info", each message's first word */
extern int info_json;        /* --json: everything into the caller's JSON buffer, not as text */

/* info_seq.c: sequence seq of jobdir (its state, its facts, each rank's image and copies; with
 * verify, every image checked), as text on standard output or, with info_json, as one JSON
 * object appended to jb; a failure's one line on standard error. Returns its INFO_ status.
 * *vd (may be NULL): with verify, the verdict of restart-mpi's rule on a committed sequence
 * (seq_pick_judge), else vd->result -1 (not judged). */
int info_show_seq(const char *jobdir, uint64_t seq, int verify, struct snapc_sbuf *jb,
                  struct seq_pick_verdict *vd);

/* info_options.c: the job's --ckpt-* options that m records (restart-mpi carries them): one
 * line of text on standard output, or with jb a ,"ckpt_options":{...} member appended to it. */
struct filem_meta;
void info_ckpt_options(const struct filem_meta *m, struct snapc_sbuf *jb);

#endif
