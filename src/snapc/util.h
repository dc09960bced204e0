/* Small helpers shared by the coordinator and the tools (not by the agent). */
#ifndef REVIVE_SNAPC_UTIL_H
#define REVIVE_SNAPC_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Growing text buffer; on allocation failure it stops growing and sets oom. */
struct snapc_sbuf {
    char *p;
    size_t len, cap;
    int oom;
};

void snapc_sb_printf(struct snapc_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal (quotes included). */
void snapc_sb_json_str(struct snapc_sbuf *b, const char *s);
void snapc_sb_free(struct snapc_sbuf *b);

/* Rank lists in messages ("not back: ranks 0,2,5"): at most SNAPC_LIST_SHOWN numbers, then
 * ",..." so that a cut list never reads as complete (a 1000-rank restore listed ~100 ranks as
 * "not begun" with nothing to say more were left out: diffrev45 R-L5). */
#define SNAPC_LIST_SHOWN 32
/* Appends to b the numbers r in [0, n) for which pick(r, arg) holds, comma-separated, the first
 * SNAPC_LIST_SHOWN of them, then ",..." when there are more. Returns how many hold. */
int snapc_sb_rank_list(struct snapc_sbuf *b, int n, int (*pick)(int r, void *arg), void *arg);

/* Appends s quoted for a POSIX shell (as is when it needs no quoting): --showme's commands. */
void snapc_sb_shell_word(struct snapc_sbuf *b, const char *s);

/* snprintf that is allowed to cut (messages): no truncation warnings. */
void snapc_fmt(char *dst, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Wall clock as seconds with milliseconds ("1700000000.123"); the monotonic one is
 * revive_mono_ms (common/clock.h). */
void snapc_wall_str(char *out, size_t len, int64_t wall_ms);
int64_t snapc_wall_ms(void);

/* The directory of the coordinators' sockets of uid: $REVIVE_SOCKET_DIR, else
 * /tmp/revive-<uid>. */
void snapc_socket_dir(char *out, size_t len, unsigned uid);

/* Tiny readers of the flat JSON the coordinator writes: the value of "key"
 * (first occurrence) as a number or a string (escapes undone). 0 or -ENOENT. */
int snapc_json_num(const char *json, const char *key, long long *out);
int snapc_json_str(const char *json, const char *key, char *out, size_t len);

/* Human size "12.3 MiB". */
void snapc_human_bytes(char *out, size_t len, uint64_t b);

#endif
