/* The PID operand of cr_checkpoint and ckpt-mpirun: read and refused in the same words and with
 * the same exit status by both (issue 7: they worded a wrong PID differently and exited 1 or 2
 * for the same mistake). Each refusal is one line on standard error naming the PID, what it is
 * and what to do. */
#ifndef REVIVE_TOOLS_PID_ARG_H
#define REVIVE_TOOLS_PID_ARG_H

#include <sys/types.h>

/* The exit status of an operand that is no process id at all (usage), and of a PID that names
 * nothing this command can checkpoint (no such process, a zombie, another user's). */
#define TOOL_PID_USAGE 2
#define TOOL_PID_REFUSED 1

/* The largest PID Linux can hand out (PID_MAX_LIMIT): a number above it names no process. */
#define TOOL_PID_MAX 4194304

/* s as a PID (a whole decimal number from 1 to TOOL_PID_MAX): 0, or TOOL_PID_USAGE after one
 * line saying it is not one (a negative number, "12x", "" included). me: the command's name. */
int tool_pid_parse(const char *me, const char *s, pid_t *out);

/* The command line as given (main's argc and argv), repeated whole in tool_pid_check's advice to
 * run the command as another user (it said "run ckpt-mpirun PID", dropping --term and the
 * others). Not called: the command's name and the PID only. */
void tool_pid_args(int argc, char **argv);

/* pid exists, is no zombie and, unless the caller is root, belongs to the caller: 0, or
 * TOOL_PID_REFUSED after one line saying what it is. give: what the user should give instead
 * ("the PID of the job's mpirun"), used when there is no such process. */
int tool_pid_check(const char *me, pid_t pid, const char *give);

/* The command name of pid (/proc/PID/comm), "?" when unknown. */
void tool_pid_comm(pid_t pid, char *out, size_t len);

/* The nearest ancestor of pid (pid itself excluded) whose command name is name, or 0. */
pid_t tool_pid_ancestor_named(pid_t pid, const char *name);

#endif
