/* restart-mpi's command line: its usage (--help) and restart_parse_options (restart_mpi.h).
 * tests/doc/man_pages.sh reads the options restart_parse_options compares its arguments with,
 * and checks that man/restart-mpi.1 names each. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/dirsync.h"
#include "common/fault.h"
#include "common/relocate_arg.h"
#include "common/text.h"
#include "common/size_arg.h"
#include "filem/alive.h"
#include "filem/filem.h"
#include "filem/stage_mark.h"
#include "filem/verified.h"
#include "snapc/hosts.h"
#include "snapc/restart_lock.h"
#include "snapc/util.h"
#include "restart_cache.h"
#include "restart_fetch.h"
#include "restart_files.h"
#include "restart_meta_ask.h"
#include "restart_override.h"
#include "restart_signal.h"
#include "restart_stdin.h"
#include "snap_owner.h"
#include "restart_mpi.h"
#include "tools/tool_die.h"

#ifndef REVIVE_PKGLIBEXECDIR
#define REVIVE_PKGLIBEXECDIR "/usr/local/libexec/revive"
#endif

static void usage(FILE *f)
{
    fprintf(f,
            "usage: restart-mpi [--seq N] [--hostfile F] [--relocate OLD=NEW]... [--no-verify]\n"
            "                   [--ckpt-dir DIR] [--ckpt-local DIR | none] [--preload]\n"
            "                   [--ckpt-no-wait-stage] [--ckpt-partner] [--ckpt-stage-bw BYTES]\n"
            "                   [--ckpt-file-data-max SIZE] [--ckpt-interval SEC]\n"
            "                   [--ckpt-keep N] [--ckpt-save-shared]\n"
            "                   [--ckpt-save-files PATH[,PATH...]]\n"
            "                   [--strict-files] [--no-restore-files] [--showme]\n"
            "                   [--meta-from H1,H2]\n"
            "                   [--recreate-in DIR]\n"
            "                   [-- LAUNCHER OPTIONS...] REF\n"
            "Restarts the MPI job saved in REF (a snapshot reference printed by ckpt-mpirun, or a\n"
            "snapshot directory: its newest committed sequence, or a folder holding snapshot\n"
            "directories, mpirun's --ckpt-dir: the only one, or the head of a restart chain run\n"
            "there (the only one with a committed sequence no restart superseded), said on\n"
            "stderr) with the same MPI\n"
            "launcher, number of ranks and launcher options, and its own checkpoint options\n"
            "(mpirun's --ckpt-interval, --ckpt-keep, --ckpt-local, --ckpt-partner,\n"
            "--ckpt-stage-bw, --ckpt-no-wait-stage, --ckpt-file-data-max, --ckpt-save-shared,\n"
            "--ckpt-save-files) unless an option below (or its variable) says otherwise. The job\n"
            "runs in the foreground; restart-mpi exits with its status. Its own snapshots go\n"
            "beside the old ones (--ckpt-dir: elsewhere).\n"
            "An image missing from the snapshot directory is first fetched from the node-local\n"
            "cache of its rank's host or from its partner copy (the hosts the snapshot names).\n"
            "A snapshot directory that is gone is re-created from the metadata kept in this\n"
            "host's node-local cache (else from the cache of a host of --hostfile or\n"
            "--meta-from, asked through the remote shell $REVIVE_RSH, default ssh), and every\n"
            "image fetched from the caches.\n"
            "  --seq N        take sequence N of a snapshot directory\n"
            "  --hostfile F   run on the hosts of F instead of the original ones\n"
            "  --relocate OLD=NEW  a file or folder the job used (its working directory, its\n"
            "                 program, a file it had open, an MPI file) is now at NEW; given\n"
            "                 to every rank\n"
            "  --no-verify    skip the checks of the rank images before the launch (their\n"
            "                 checksums, the files they map); the ranks still check them\n"
            "  --ckpt-dir DIR the restarted job's snapshots go into DIR (default: beside the\n"
            "                 old ones); made 0700 when only its last part is missing\n"
            "  --ckpt-local DIR  node-local caches (default $REVIVE_LOCAL_DIR, else the job's\n"
            "                 --ckpt-local, else each host's\n"
            "                 $TMPDIR/revive-local-<uid> or /tmp/...): each rank reads its image\n"
            "                 from DIR on its host where a good copy is there, else from the\n"
            "                 snapshot directory; the restarted job's snapshots go there first;\n"
            "                 'none': read the snapshot directory only\n"
            "  --ckpt-file-data-max SIZE  the restarted ranks' images may hold SIZE bytes\n"
            "                 (K, M, G; 0: no limit) of files deleted while open and files in\n"
            "                 /dev/shm (as mpirun's option; default the job's;\n"
            "                 $REVIVE_FILE_DATA_MAX)\n"
            "  --ckpt-no-wait-stage  the restarted job's MPIX_Checkpoint returns once every\n"
            "                 image is in its node's cache, before the commit (as mpirun's option;\n"
            "                 default the job's; $REVIVE_MPIX_NO_WAIT_STAGE=1, =0 turns it off)\n"
            "  --ckpt-partner the restarted job's cached images are also copied into another\n"
            "                 node's cache (as mpirun's option; default the job's;\n"
            "                 $REVIVE_CKPT_PARTNER=1, =0 turns it off)\n"
            "  --ckpt-stage-bw BYTES  the restarted job copies its images from the caches at\n"
            "                 most BYTES per second per rank (0: no limit; default the job's;\n"
            "                 $REVIVE_CKPT_STAGE_BW)\n"
            "  --ckpt-interval SEC  the restarted job's periodic snapshots every SEC seconds\n"
            "                 (0: none; default the job's; $REVIVE_CKPT_INTERVAL)\n"
            "  --ckpt-keep N  the restarted job keeps its N newest snapshots (0: all; default the\n"
            "                 job's; $REVIVE_CKPT_KEEP)\n"
            "  --ckpt-save-shared  the restarted job's snapshots save the files its ranks map\n"
            "                 shared (default the job's; $REVIVE_SAVE_SHARED=1, =0 turns it off)\n"
            "  --ckpt-save-files PATH[,PATH...]  the restarted job's snapshots save these files\n"
            "                 (default the job's, moved by --relocate; $REVIVE_SAVE_FILES, empty:\n"
            "                 none)\n"
            "  --preload      copy each rank's image into its host's cache first\n"
            "  --strict-files refuse the restart when an MPI file the job had open changed\n"
            "                 at all since the snapshot (default: a file that grew or was\n"
            "                 written in place, as a job that ran on after the snapshot leaves\n"
            "                 it, is opened as it is, with a note; a file gone, replaced,\n"
            "                 shorter or no longer accessible is always refused;\n"
            "                 $REVIVE_RESTART_STRICT_FILES=1)\n"
            "  --no-restore-files  do not put back the files the snapshot saved with\n"
            "                 --save-files (default: each is put back where it was, with its\n"
            "                 mode and time, before the launch; a damaged copy refuses the\n"
            "                 restart; in a saved directory what was made since is removed,\n"
            "                 named, but for what a running process has open or sits in)\n"
            "  --meta-from H1,H2  hosts the job ran on whose caches may hold the snapshot's\n"
            "                 metadata when its directory is gone and this host's cache has none\n"
            "  --recreate-in DIR  the snapshot directory and the storage that held it are gone:\n"
            "                 re-create it in DIR (storage every host sees) from the caches\n"
            "  --showme       print the launch command and do nothing (before it, as comments,\n"
            "                 the fetch of missing images that would run: which from which hosts)\n"
            "  -- OPTIONS     extra launcher options, before the saved ones; one the saved\n"
            "                 arguments hold too (same name, e.g. --bind-to, -bind-to, --mca KEY)\n"
            "                 replaces them, said on stderr; REF comes last. The restarted\n"
            "                 job's snapshots record them (and --hostfile's) as its launcher\n"
            "                 options: a restart of those runs as this one did\n"
            "Exit status: the restarted job's; 1 no restart: the snapshot refused (missing,\n"
            "not committed, damaged, another user's, a changed program or MPI library) or the\n"
            "launch failed, the reason in one line on standard error; 2 wrong usage (an unknown\n"
            "option, no REF or two, a bad option value, options that exclude each other);\n"
            "128+N interrupted by signal N (SIGINT, SIGTERM: the sequence is not marked failed).\n"
            "examples:\n"
            "  restart-mpi ./revive_global_snapshot_4242.ckpt/3\n"
            "  restart-mpi --seq 2 ./revive_global_snapshot_4242.ckpt\n"
            "  restart-mpi --relocate /old/run=/new/run -- --oversubscribe ./snap.ckpt/3\n");
}

/* restart-mpi --ckpt-dir DIR, checked before anything is made as the mpirun wrapper's is (by
 * revive-coord, which makes it): a directory this user can write into, or one whose parent is,
 * then made 0700 by the coordinator (only its last part: a typo in the middle of the path should
 * not become a tree). Anything else ends restart-mpi in one line, status 2. Returned absolute
 * (the coordinator runs from the job's directory). */
static const char *restart_ckpt_dir_check(const char *dir)
{
    static char abs[PATH_MAX];
    struct stat st;
    if (realpath(dir, abs)) {
        if (stat(abs, &st) < 0 || !S_ISDIR(st.st_mode))
            restart_usage_die("--ckpt-dir %s is not a directory; give the directory the restarted "
                              "job's snapshots go into", dir);
        if (access(abs, W_OK | X_OK) < 0)
            restart_usage_die("--ckpt-dir %s: cannot write snapshots there (%s); choose another "
                              "directory", dir, strerror(errno));
        return abs;
    }
    if (errno != ENOENT)
        restart_usage_die("--ckpt-dir %s: %s; choose another directory", dir, strerror(errno));
    /* missing: its parent must be there (the last part is made) */
    char parent[PATH_MAX], ppath[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", dir);
    size_t l = strlen(parent);
    while (l > 1 && parent[l - 1] == '/')
        parent[--l] = 0;
    char *slash = strrchr(parent, '/');
    const char *last = slash ? slash + 1 : parent;
    if (slash == parent)
        snprintf(ppath, sizeof ppath, "/");
    else if (slash) {
        *slash = 0;
        snprintf(ppath, sizeof ppath, "%s", parent);
    } else
        snprintf(ppath, sizeof ppath, ".");
    char preal[PATH_MAX];
    if (!*last || !strcmp(last, ".") || !strcmp(last, "..") || !realpath(ppath, preal) ||
        stat(preal, &st) < 0 || !S_ISDIR(st.st_mode))
        restart_usage_die("--ckpt-dir %s does not exist, nor does its parent; create it with "
                          "'mkdir -p %s' or choose another", dir, dir);
    if (access(preal, W_OK | X_OK) < 0)
        restart_usage_die("--ckpt-dir %s does not exist and cannot be made in %s (%s); choose "
                          "another directory", dir, preal, strerror(errno));
    if ((size_t)snprintf(abs, sizeof abs, "%s/%s", strcmp(preal, "/") ? preal : "", last) >=
        sizeof abs)
        restart_usage_die("--ckpt-dir %s: the path is too long", dir);
    return abs;
}

/* The command line into o. A wrong one ends restart-mpi with status 2 (restart_usage_die), --help with
 * 0, before anything is made; REVIVE_LOCAL_DIR is set from --ckpt-local (the restarted job's own
 * snapshots take it too). */
void restart_parse_options(int argc, char **argv, struct opts *o)
{
    long want_seq = -1;
    const char *hostfile = NULL, *ref = NULL, *meta_from = NULL, *recreate_in = NULL;
    int showme = 0, verify = 1, preload = 0, restore_files = 1;
    const char *ckpt_dir = NULL;
    /* node-local caches (issue 9): each rank reads its image from its node's cache where a good
     * copy is there, else from the snapshot directory; --preload copies it there first */
    const char *local = getenv("REVIVE_LOCAL_DIR");
    int local_given = local && *local;
    struct argv extra = {0}, reloc = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            /* everything up to the last argument is for the launcher, the last is REF: a REF
             * given before "--" made the last launcher option the reference ("3 does not
             * exist", review LOW-3), so each mistake is said as such */
            if (ref && i + 1 < argc)
                restart_usage_die("the snapshot reference goes last, after the launcher options: "
                          "restart-mpi [OPTIONS] -- %s... %s (it came before --); see %s --help",
                          argv[i + 1], ref, restart_me);
            if (!ref && i + 1 >= argc)
                restart_usage_die("no snapshot reference after --: restart-mpi [OPTIONS] -- "
                          "[LAUNCHER OPTIONS...] REF; see %s --help", restart_me);
            for (i++; i < argc - 1; i++)
                restart_push(&extra, argv[i]);
            if (i < argc) {
                if (argv[i][0] == '-')
                    restart_usage_die("the last argument after -- is the snapshot reference, not the "
                              "launcher option %s: restart-mpi [OPTIONS] -- [LAUNCHER OPTIONS...] "
                              "REF; see %s --help", argv[i], restart_me);
                ref = argv[i];
            }
            break;
        } else if (!strcmp(a, "--seq") || !strcmp(a, "-s")) {
            const char *v = i + 1 < argc ? argv[++i] : "";
            char *end;
            errno = 0;
            want_seq = strtol(v, &end, 10);
            /* (a number too large for a sequence was taken as the largest one) */
            if (!*v || *end || errno || want_seq < 0 || want_seq > 999999999999999999L)
                restart_usage_die("--seq needs a sequence number (0 to 999999999999999999), not '%s'", v);
        } else if (!strcmp(a, "--hostfile") || !strcmp(a, "--machinefile")) {
            if (i + 1 >= argc)
                restart_usage_die("%s needs a file", a);
            hostfile = argv[++i];
        } else if (!strcmp(a, "--meta-from")) {
            if (i + 1 >= argc || !argv[i + 1][0] || argv[i + 1][0] == '-')
                restart_usage_die("--meta-from needs a list of hosts (h1,h2)");
            meta_from = argv[++i];
        } else if (!strcmp(a, "--recreate-in")) {
            if (i + 1 >= argc || !argv[i + 1][0])
                restart_usage_die("--recreate-in needs a directory (storage every host sees)");
            recreate_in = argv[++i];
        } else if (!strcmp(a, "--relocate") || !strncmp(a, "--relocate=", 11)) {
            const char *v = a[10] == '=' ? a + 11 : (i + 1 < argc ? argv[++i] : "");
            char why[PATH_MAX * 2 + 256];
            if (revive_relocate_arg_check(v, why, sizeof why) != 0)
                restart_usage_die("%s", why);
            if (reloc.n >= 64)
                restart_usage_die("at most 64 --relocate options");
            restart_push(&reloc, v);
        } else if (!strcmp(a, "--ckpt-local")) {
            if (i + 1 >= argc || (argv[i + 1][0] != '/' && strcmp(argv[i + 1], "none") != 0))
                restart_usage_die("--ckpt-local needs an absolute path (the same on every host) or 'none'");
            local = argv[++i];
            local_given = 1;
        } else if (!strcmp(a, "--ckpt-file-data-max")) {
            uint64_t b;
            if (i + 1 >= argc || revive_size_arg(argv[i + 1], &b) < 0)
                restart_usage_die("--ckpt-file-data-max needs a size such as 4G or 512M (0: no limit), "
                          "not '%s'", i + 1 < argc ? argv[i + 1] : "");
            setenv("REVIVE_FILE_DATA_MAX", argv[++i], 1); /* read by the restarted ranks */
        } else if (!strcmp(a, "--ckpt-interval") || !strcmp(a, "--ckpt-keep")) {
            /* the restarted job's coordinator reads them (restart_exec_coordinator gives the
             * job's own only when they are unset) */
            const char *v = i + 1 < argc ? argv[i + 1] : "";
            char *end;
            errno = 0;
            long x = strtol(v, &end, 10);
            if (!*v || *end || errno || x < 0 || x > 100000000)
                restart_usage_die("%s needs a whole number%s from 0 to 100000000, not '%s'", a,
                                  a[7] == 'i' ? " of seconds" : "", v);
            setenv(a[7] == 'i' ? "REVIVE_CKPT_INTERVAL" : "REVIVE_CKPT_KEEP", v, 1);
            i++;
        } else if (!strcmp(a, "--ckpt-save-shared")) {
            setenv("REVIVE_SAVE_SHARED", "1", 1); /* read by the new coordinator */
        } else if (!strcmp(a, "--ckpt-save-files")) {
            if (i + 1 >= argc || !argv[i + 1][0])
                restart_usage_die("--ckpt-save-files needs PATH[,PATH...]");
            setenv("REVIVE_SAVE_FILES", argv[++i], 1); /* read by the new coordinator */
        } else if (!strcmp(a, "--ckpt-no-wait-stage")) {
            setenv("REVIVE_MPIX_NO_WAIT_STAGE", "1", 1); /* read by the new coordinator */
        } else if (!strcmp(a, "--ckpt-partner")) {
            setenv("REVIVE_CKPT_PARTNER", "1", 1); /* read by the new coordinator */
        } else if (!strcmp(a, "--ckpt-stage-bw")) {
            const char *v = i + 1 < argc ? argv[i + 1] : "";
            if (!*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 19)
                restart_usage_die("--ckpt-stage-bw needs a whole number of bytes per second, 0 or "
                                  "more (0: no limit), not '%s'", v);
            setenv("REVIVE_CKPT_STAGE_BW", v, 1); /* read by the new coordinator */
            i++;
        } else if (!strcmp(a, "--ckpt-dir")) {
            if (i + 1 >= argc || !argv[i + 1][0])
                restart_usage_die("--ckpt-dir needs a directory (where the restarted job's "
                                  "snapshots go)");
            ckpt_dir = restart_ckpt_dir_check(argv[++i]);
        } else if (!strcmp(a, "--preload"))
            preload = 1;
        else if (!strcmp(a, "--no-verify"))
            verify = 0;
        else if (!strcmp(a, "--no-restore-files"))
            restore_files = 0;
        else if (!strcmp(a, "--strict-files"))
            setenv("REVIVE_RESTART_STRICT_FILES", "1", 1); /* read by the restarted ranks */
        else if (!strcmp(a, "--showme"))
            showme = 1;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        } else if (a[0] == '-') {
            /* one line, as GNU tools say it: the usage would push the mistake off the screen */
            fprintf(stderr, "%s: unknown option %s (launcher options go after --); see %s --help\n",
                    restart_me, a, restart_me);
            exit(2);
        } else if (!ref)
            ref = a;
        else {
            fprintf(stderr, "%s: one snapshot reference only (%s, then %s; launcher options go "
                            "after --); see %s --help\n", restart_me, ref, a, restart_me);
            exit(2);
        }
    }
    /* MPI_Wtime across the restart (src/pml_hooks/wtime.c), read by every rank: a typo would
     * be taken for the default on every rank without a word */
    const char *wt = getenv("REVIVE_WTIME");
    if (wt && *wt && strcmp(wt, "wall") != 0 && strcmp(wt, "continuous") != 0)
        restart_usage_die("REVIVE_WTIME must be 'wall' (MPI_Wtime counts the time the job was down, "
                          "the default) or 'continuous' (it goes on from the checkpoint), not '%s'", wt);
    if (local && !*local)
        local = NULL;
    if (local && local[0] != '/' && strcmp(local, "none") != 0)
        restart_die("REVIVE_LOCAL_DIR must be an absolute path (the same on every host) or 'none', not "
            "'%s'", local);
    if (preload && local && !strcmp(local, "none"))
        restart_usage_die("--preload needs a node-local directory (not --ckpt-local none)");
    const char *pt = getenv("REVIVE_CKPT_PARTNER");
    if (pt && !strcmp(pt, "1") && local && !strcmp(local, "none"))
        restart_usage_die("--ckpt-partner keeps copies in the node-local caches: it cannot go "
                          "with --ckpt-local none");
    if (local)
        setenv("REVIVE_LOCAL_DIR", local, 1); /* the restarted job's own snapshots too */
    if (!ref) {
        usage(stderr);
        exit(2);
    }
    *o = (struct opts){.want_seq = want_seq, .hostfile = hostfile, .ref = ref,
                       .meta_from = meta_from, .recreate_in = recreate_in, .local = local,
                       .ckpt_dir = ckpt_dir,
                       .local_given = local_given,
                       .showme = showme, .verify = verify, .preload = preload,
                       .restore_files = restore_files, .extra = extra,
                       .reloc = reloc};
}

void restart_carry_job_options(struct opts *o, const struct filem_meta *m)
{
    /* --ckpt-local: a path, or "none"; "default" (each node's own cache) is what the restarted
     * job does anyway. --preload with "none" was refused above for the command line's. */
    const char *lc = filem_meta_get(m, "ckpt.local");
    if (!o->local_given && lc && (lc[0] == '/' || (!strcmp(lc, "none") && !o->preload))) {
        static char keep[PATH_MAX];
        snprintf(keep, sizeof keep, "%s", lc);
        o->local = keep;
        setenv("REVIVE_LOCAL_DIR", keep, 1); /* the restarted job's own snapshots */
    }
    /* --ckpt-save-shared as the job's option, not one snapshot's ckpt-mpirun --save-shared
     * (ckpt.save_shared says either) */
    const char *ss = filem_meta_get(m, "ckpt.save_shared.job");
    if (ss && !strcmp(ss, "1") && !getenv("REVIVE_SAVE_SHARED"))
        setenv("REVIVE_SAVE_SHARED", "1", 1);
    /* --ckpt-partner, --ckpt-stage-bw, --ckpt-no-wait-stage, --ckpt-file-data-max: the
     * variables restart-mpi's options set (or the user did) win; partner copies need the
     * node-local caches, which --ckpt-local none turned off for this restart */
    const char *pt = filem_meta_get(m, "ckpt.partner");
    if (pt && !strcmp(pt, "1") && !getenv("REVIVE_CKPT_PARTNER") &&
        !(o->local && !strcmp(o->local, "none")))
        setenv("REVIVE_CKPT_PARTNER", "1", 1);
    const char *bw = filem_meta_get(m, "ckpt.stage_bw");
    if (bw && *bw && strcmp(bw, "0") && strspn(bw, "0123456789") == strlen(bw) &&
        !getenv("REVIVE_CKPT_STAGE_BW"))
        setenv("REVIVE_CKPT_STAGE_BW", bw, 1);
    const char *nw = filem_meta_get(m, "ckpt.no_wait_stage");
    if (nw && !strcmp(nw, "1") && !getenv("REVIVE_MPIX_NO_WAIT_STAGE"))
        setenv("REVIVE_MPIX_NO_WAIT_STAGE", "1", 1);
    uint64_t fdm_b;
    const char *fdm = filem_meta_get(m, "ckpt.file_data_max");
    if (fdm && revive_size_arg(fdm, &fdm_b) == 0 && !getenv("REVIVE_FILE_DATA_MAX"))
        setenv("REVIVE_FILE_DATA_MAX", fdm, 1); /* the ranks' (-x for Open MPI's) */
    /* --ckpt-save-files: the same files, where --relocate moves them (the job's files are
     * there now) */
    const char *jsf = filem_meta_get(m, "ckpt.save_files");
    if (jsf && *jsf && !getenv("REVIVE_SAVE_FILES")) {
        static char list[2 * PATH_MAX + 8192];
        setenv("REVIVE_SAVE_FILES",
               restart_relocated_list(jsf, &o->reloc, list, sizeof list) == 0 ? list : jsf, 1);
    }
}
