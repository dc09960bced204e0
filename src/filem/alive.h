/*
 * Whether a job still runs, seen from any node (issue 7 review F1). Needs libc only: built into
 * libfilem (the coordinator, supersede.c) and libfilem_stage (the ranks' agents, the pruner).
 */
#ifndef REVIVE_FILEM_ALIVE_H
#define REVIVE_FILEM_ALIVE_H

/* A job runs: its coordinator holds an exclusive flock on JOBDIR/FILEM_ALIVE_NAME (in the shared
 * job directory, so the agents of every node see it) from its first checkpoint until it ends;
 * a killed coordinator's lock goes with it. A restart of a job running beside that job (a test
 * of the restart while production goes on) must not take the running job for superseded and
 * remove its caches, the sequence it is writing among them (issue 7 review F1). */
#define FILEM_ALIVE_NAME ".alive"
/* The coordinator: takes the lock (waiting up to 2 s for a checker's brief shared lock).
 * Returns the descriptor to keep open for the job's life (CLOEXEC), or -errno. */
int filem_job_alive_take(const char *jobdir);
/* 1 when the job of JOBDIR (a shared job directory) runs (its lock is held), 0 when it has
 * provably ended (the lock file is free) or predates the lock (no file: jobs of before). */
int filem_job_alive(const char *jobdir);

#endif
