/* restart-mpi's launcher options given after `--` that replace the saved ones (newuser9 F2).
 * The restart's command is the launcher, restart-mpi's own options, those given after `--`,
 * then the job's saved arguments. A launcher keeps the last of an option given twice (Open MPI's
 * mpirun), or refuses it ("duplicate setting", MPICH's Hydra mpiexec), so an option of the
 * saved arguments could be neither dropped nor changed: a job started with `--bind-to core` on
 * h1:2,h2:2 could not come back as 4 ranks on one 2-core host. An option given after `--`
 * that the saved arguments hold too now replaces every saved occurrence, with its values.
 *
 * Options are compared by name, whatever their dashes (`-bind-to` = `--bind-to`: both
 * launchers accept either) and with a value given as `--NAME=VALUE`; the host options
 * (-H -host --host -hosts), the hostfile ones (-hostfile -machinefile -f) and the per-node
 * ones (-npernode -N -ppn) are one name each (snapc/hosts.h). Options that set one of many
 * keys are compared by name and key: Open MPI's --mca/--gmca KEY VALUE and -x VAR[=VALUE],
 * Hydra's -env/-genv KEY VALUE (`-- --mca btl self,tcp` replaces the saved `--mca btl ...`,
 * not the saved `--mca plm_rsh_agent ...`). An option's values are the words after it that do
 * not begin with '-' (in the saved arguments, up to the program).
 * restart-mpi then hands the launch, the fetch and the restarted job's coordinator one list
 * (--hostfile's file, the options given after `--`, the saved ones left here): the coordinator
 * picks its address on the network it names and records it in the restarted job's snapshots
 * (diffrev31 R-M1: the replacing option reached the launch command only, so the restarted
 * job's snapshot.meta held neither it nor the saved one, and an interface option given after
 * `--` was not seen by the coordinator). */
#ifndef REVIVE_TOOLS_RESTART_OVERRIDE_H
#define REVIVE_TOOLS_RESTART_OVERRIDE_H

#include <stdio.h>

/* USER: the saved launcher arguments (N words; PROGS: the positions of the NPROGS programs,
 * ascending, their own arguments following each up to ":"), EX: the NEX options given after
 * `--`. Removes from USER every launcher option (never a program or its arguments) that EX
 * holds too, with its values, says each on SAY ("ME: the saved launcher option --bind-to core
 * is replaced by --bind-to none, given after --"), shifts PROGS, NULL-terminates USER (it
 * holds N+1 slots). Returns the new count. Never fails. */
int restart_override(char **user, int n, int *progs, int nprogs, char *const *ex, int nex,
                     const char *me, FILE *say);

#endif
