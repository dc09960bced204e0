/* --save-shared (docs/snapshots.md "Files mapped shared"): a file several ranks mapped shared
 * and writable has one saved copy per rank, each read by that rank's own capture (the ranks are
 * captured each by its own agent, not at one instant; a thread outside MPI may write the file
 * in between), and every rank writing its own copy back gave the file in no set order, maybe a
 * state it never had (diffrev34 R-L20). restart-mpi picks, for each such file, the one copy
 * to write back: the one READ last.
 *
 * Which copies are of one file: the file's identity where the ranks ran, (checkpoint host,
 * device, inode), the host from snapshot.meta rank.<r>.host, device and inode from the image's
 * file record. The same path on two hosts is two files (node-local scratch, /tmp: each host's
 * file gets its own writer; diffrev35 R-M3 (a): a key by path alone restored one host's only);
 * two names of one file on one host are one. A file on storage several hosts share is one
 * group per host: the read times of two hosts are two clocks, and a network file system keeps
 * no single page cache that one "last" copy could have seen whole; each host's last copy is
 * written there, the hosts' order unset (said in the docs).
 *
 * Which copy is last: each saved region records when its pages were read (crs_rec_region
 * saved_ns, CLOCK_REALTIME, from session 36 on); a rank's copy is its latest such time, ties
 * to the higher rank. Not the image's finish time (R-M3 (b): a rank with a large image finishes
 * last although it read the file first). A group with a copy of an older image (saved_ns 0) is
 * left as before: every rank writes its own copy. */
#ifndef REVIVE_TOOLS_RESTART_SAVED_H
#define REVIVE_TOOLS_RESTART_SAVED_H

#include <stddef.h>
#include <stdint.h>

struct filem_meta;

/* The variable restart-mpi hands the writers to the ranks in (-x for Open MPI): one line per
 * file several ranks of one host saved, "WRITER DEV INO HOST R,R,... A-B,A-B,... PATH\n": the
 * rank whose copy is written back, the file's device and inode as the images record them, the
 * checkpoint host, every rank of the group (the writer among them), the bytes of the file the
 * writer's copy holds (its saved regions' ranges within the file's size, page-rounded), the
 * path for messages. A rank of the list but the writer leaves a saved region of the file (DEV,
 * INO) unwritten when the region's bytes lie within one of those ranges and it restarts on HOST
 * (revive-restart-rank: crs_restart_opts.saved_skip); a part the writer's copy lacks (ranks
 * mapping different parts of one file) is written by its own rank, and a rank restarted on
 * another host writes its own copy there, as before. */
#define RESTART_SAVED_WRITERS_VAR "REVIVE_SAVED_WRITERS"

/* Reads every rank_<r>.img of seqdir (r < ranks: every image is there once restart-mpi's
 * fetch is done; a cached copy a rank restores from has the same bytes, checked against the
 * same checksum) and m's rank.<r>.host, and writes the lines above into out (len bytes,
 * NUL-terminated). say (may be NULL) gets one sentence per group for the user, appended in
 * saylen bytes. Returns the number of lines (0: no file several ranks of a host saved, out
 * ""), -E2BIG when they do not fit in len, or -ENOENT / another -errno with why (whylen bytes)
 * naming the image or host that could not be read (an image not read counts only when another
 * rank saved some file: it may hold a copy of it): out "" in every failure, and every rank
 * writes its own copy back (as before; the caller says so). */
int restart_saved_writers(const char *seqdir, uint64_t ranks, const struct filem_meta *m, char *out,
                          size_t len, char *say, size_t saylen, char *why, size_t whylen);

/* 0 when m says its checkpoint saved no shared file (ckpt.save_shared 0: taken without
 * --save-shared), so that restart_saved_writers has nothing to find and is not called (it opens
 * every image's metadata once more, serially: diffrev36 R-L6); 1 otherwise, a snapshot from
 * before the key (session 36) included. */
int restart_saved_maybe(const struct filem_meta *m);

#endif
