/*
 * The hosts a job is to run on must be known before its launch (issue 9, bad input): a launcher
 * given a name nobody can resolve fails late, in its own words, or waits (MPICH's mpiexec, seen
 * on the host test bed, waits on the hosts it did reach). Checked by revive-coord (the user's
 * mpirun -am ft-enable-cr) and restart-mpi, naming the host and where it was given.
 * Unreachable hosts (known, but down) are the launcher's to find.
 */
#ifndef REVIVE_SNAPC_HOSTS_H
#define REVIVE_SNAPC_HOSTS_H

#include <stddef.h>

/* A hostfile: lines "host", "host:N" (MPICH), "host slots=N" (Open MPI), "user@host"; '#'
 * starts a comment. 0, or -1 with one sentence in err (unknown host, unreadable file, no
 * host). */
int snapc_hosts_check_file(const char *path, char *err, size_t errlen);

/* What a launcher option (Open MPI's mpirun, MPICH's mpiexec) is, as far as Revive reads or
 * replaces it; each takes one value. */
enum snapc_launcher_opt {
    SNAPC_LOPT_HOSTS = 1,            /* -H -host --host -hosts --hosts LIST ("h1:2,h2") */
    SNAPC_LOPT_HOSTFILE = 2,         /* -hostfile --hostfile -machinefile --machinefile -f FILE */
    SNAPC_LOPT_DEFAULT_HOSTFILE = 4, /* --default-hostfile FILE */
    SNAPC_LOPT_NP = 8,               /* -np -n --np -c --n N: the number of processes */
    SNAPC_LOPT_PER_NODE = 16,        /* -npernode --npernode -N -ppn --ppn N: processes a node */
};

/* The kind (enum snapc_launcher_opt) of the option NAME[0..len) (an option given as
 * --OPTION=VALUE: its part before the '='), 0 for any other word. The one table of these
 * options: the hosts checked here, those restart-mpi replaces with its --hostfile, the
 * placement its fetch replaces (restart_fetch.c). */
int snapc_launcher_option(const char *name, size_t len);

/* The launcher options before the program (args[0..n)): -H/-host/--host/-hosts/--hosts LIST
 * ("h1:2,h2"), -hostfile/--hostfile/-machinefile/--machinefile/-f/--default-hostfile FILE,
 * each also as --OPTION=VALUE. A relative FILE is taken from the current directory.
 * 0, or -1 with one sentence in err. */
int snapc_hosts_check_args(char *const *args, int n, char *err, size_t errlen);

/* The hosts named by those options (lists and hostfiles; "user@" and ":N" dropped, each once)
 * as "h1,h2" in out, and the number of processes (-n N) in *np (0 when not given). For what a
 * message says (coord_startwait.c): unreadable hostfiles are skipped. Returns 1 when a host did
 * not fit in out (the list is cut: a caller deciding by it cannot tell what is left out), else 0. */
int snapc_hosts_list_args(char *const *args, int n, char *out, size_t outlen, long *np);

/* An MPMD line "OPTIONS PROG ARGS : OPTIONS PROG ARGS ..." (ARGS[0..n), PROGS[0..nprogs) the
 * positions of the programs, ascending; nprogs 0: all n are options). Program K's launcher
 * options are those before the first program, for a later one those after the ':' before it.
 * Sets *from and returns their end (PROGS[K], or n when nprogs is 0); -1 when no ':' stands
 * between program K and the one before (its options cannot be told from that one's arguments). */
int snapc_prog_options(char *const *args, int n, const int *progs, int nprogs, int k, int *from);

/* snapc_hosts_check_args on every program's options (snapc_prog_options). */
int snapc_hosts_check_progs(char *const *args, int n, const int *progs, int nprogs, char *err,
                            size_t errlen);

/* snapc_hosts_list_args over every program's options: the hosts of all of them, each once, and
 * in *np the sum of their numbers of processes (0 when a program gives none: not known). */
int snapc_hosts_list_progs(char *const *args, int n, const int *progs, int nprogs, char *out,
                           size_t outlen, long *np);

/* The hosts MPICH's Hydra starts ranks on, of those snapc_hosts_list_progs lists: it fills the
 * hosts in the order given, each with its slots (":N", else 1; -ppn N each), and starts nothing on
 * a host past the first np ranks' (diffrev48 R-L2: a machinefile's spare node, down, refused a
 * restart that would run). Every host listed when the number of processes is not known, when
 * it exceeds the slots (round robin), or when a later program names hosts of its own. Returns
 * as snapc_hosts_list_progs. */
int snapc_hosts_placed_progs(char *const *args, int n, const int *progs, int nprogs, char *out,
                             size_t outlen);

#endif
