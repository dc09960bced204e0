/* The note of the writable shared file mappings whose pages an image leaves to their files
 * (crs_ckpt_result.shared, crs_proto_reply.shared, a tree's crs_tree_ckpt_opts.shared): one
 * line a mapping, "BYTES PATH" (a tree's: "PID BYTES PATH"), as many as fit, then one line
 * "+N" for the N that did not. Its one writer, its one reader, and the one warning sentence a
 * user reads for each line (cr_checkpoint, libcr's cr_request_checkpoint, the coordinator,
 * ckpt-mpirun, ckpt-info): diffrev34 R-L23, the note was parsed by hand in six places and the
 * sentence spelled in four, already drifting apart. */
#ifndef REVIVE_CRS_BASE_SHARED_NOTE_H
#define REVIVE_CRS_BASE_SHARED_NOTE_H

#include <stddef.h>

struct crs_shared_line {
    unsigned long long more;   /* a "+N" line: N (the other fields 0); else 0 */
    long pid;                  /* with_pid: the member's pid; else 0 */
    unsigned long long bytes;  /* the mapping's length */
    const char *path;          /* pathlen bytes inside the note (not NUL-terminated) */
    int pathlen;
};

/* The next line of the note at *cursor (NULL or "" : none) into *l, *cursor moved past it.
 * with_pid: the lines start with a pid (a tree's note). Returns 1, or 0 at the note's end. */
int crs_shared_note_next(const char **cursor, int with_pid, struct crs_shared_line *l);

struct crs_shared_writer {
    char *buf;
    size_t cap, used;
    unsigned long long more;   /* lines that did not fit */
};

/* Starts writing the note into buf (cap bytes, at least 32). append: the note already in buf is
 * kept and added to, its "+N" line counted on; else buf is emptied. */
void crs_shared_note_open(struct crs_shared_writer *w, char *buf, size_t cap, int append);

/* One mapping's line (pid < 0: without one); a line that does not fit, with room kept for
 * the "+N" line, and every line after one that did not, only counted. */
void crs_shared_note_put(struct crs_shared_writer *w, long pid, unsigned long long bytes, const char *path,
                         int pathlen);

/* N more mappings counted (a "+N" line read from another note). */
void crs_shared_note_more(struct crs_shared_writer *w, unsigned long long n);

/* Ends the note: its "+N" line when some did not fit. */
void crs_shared_note_close(struct crs_shared_writer *w);

/* The user's warning for line l into out (cap bytes; returns as snprintf):
 *   "WHOM maps PATH shared and writable (N bytes): its pages are not in the HELD, a restart
 *    sees the file as it is then (SAVER saves them)"
 * and for a "+N" line
 *   "and N more such mapping(s) of WHOM, not saved either (LISTER lists them)".
 * held: "image" or "snapshot"; saver, lister: NULL leaves the parenthesis out. */
int crs_shared_warning(char *out, size_t cap, const char *whom, const struct crs_shared_line *l, const char *held,
                       const char *saver, const char *lister);

#endif
