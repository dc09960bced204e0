/* revive-rank PROGRAM [ARGS...]: what the mpirun wrapper puts in front of every rank (Open MPI's
 * orte_fork_agent, before the program on MPICH's command line). It does revive-exec's work for
 * the common case in C, and hands every other case to revive-exec (the script beside it, which
 * does it all as before).
 *
 * Why: revive-exec is a bash script; bash's start alone is ~5 ms of CPU, the script's run ~8 ms
 * in every rank of every job and restart (perf stat -r 60: revive-exec /bin/true 21 ms against
 * 12-14 ms for the same preload by env), while the wrapper has already told the ranks the answer
 * of the script's costly part (REVIVE_EXEC_KNOWN: the flavour of the job's one program, on the
 * wrapper's host).
 *
 * The common case, taken here only when all of it holds: REVIVE_MPI unset; REVIVE_EXEC_KNOWN
 * ("FLAVOUR[:LIBRARY] HOST ABSPATH") names this host and the program as revive-exec resolves it
 * (a name with a slash: a regular executable file, made absolute with $PWD; a name without: the
 * first executable regular file of PATH); the flavour ompi or mpich; the layer and libcr
 * readable; and, when the job has a coordinator (REVIVE_COORD, a 64-character secret), its
 * socket on this host (elsewhere revive-exec bounds the connection with timeout). Then: the
 * coordinator told that the rank started (SNAPC_MSG_STARTED, as revive-exec's said_started),
 * LD_PRELOAD, REVIVE_MPI_PRELOADED and REVIVE_MPI_FLAVOR set, REVIVE_EXEC_KNOWN unset, and the
 * program executed, exactly as revive-exec does. Anything else: revive-exec, with the same
 * arguments and environment, before anything was said or changed.
 *
 * revive-rank --detect PROGRAM: the wrapper's question, once a job (detect below): the common
 * case answered here, any other by revive-exec --detect. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef REVIVE_PKGLIBDIR
#error "REVIVE_PKGLIBDIR must name the installed layers' folder"
#endif
#ifndef REVIVE_LIBDIR
#error "REVIVE_LIBDIR must name the installed libcr's folder"
#endif
#ifndef REVIVE_PKGLIBEXECDIR
#error "REVIVE_PKGLIBEXECDIR must name revive-exec's folder"
#endif

static char **args;

/* revive-exec, beside this program, with the same arguments: the script does all of it */
static void __attribute__((noreturn)) script(void)
{
    char self[PATH_MAX], path[PATH_MAX + 16];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = 0;
        char *slash = strrchr(self, '/');
        if (slash)
            *slash = 0;
        snprintf(path, sizeof path, "%s/revive-exec", self);
    } else
        snprintf(path, sizeof path, "%s/revive-exec", REVIVE_PKGLIBEXECDIR);
    args[0] = path;
    execv(path, args);
    fprintf(stderr, "revive: mpi: cannot run %s: %s (Revive's installation is incomplete: reinstall"
            " it)\n", path, strerror(errno));
    _exit(127);
}

static int executable_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

/* bash's $PWD: the environment's PWD when it is absolute and names the working folder, else
 * the working folder's path */
static int logical_cwd(char *out, size_t cap)
{
    const char *pwd = getenv("PWD");
    struct stat a, b;
    if (pwd && pwd[0] == '/' && strlen(pwd) < cap && stat(pwd, &a) == 0 && stat(".", &b) == 0 &&
        a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
        strcpy(out, pwd);
        return 0;
    }
    return getcwd(out, cap) ? 0 : -1;
}

/* the program's absolute path as revive-exec makes it (path_of, then $PWD/ before a relative
 * one); -1 when it would not take REVIVE_EXEC_KNOWN's answer */
static int program_path(const char *name, char *out, size_t cap)
{
    if (strchr(name, '/')) {
        if (!executable_file(name))
            return -1;
        if (name[0] == '/')
            return snprintf(out, cap, "%s", name) < (int)cap ? 0 : -1;
        char cwd[PATH_MAX];
        if (logical_cwd(cwd, sizeof cwd))
            return -1;
        return snprintf(out, cap, "%s/%s", cwd, name) < (int)cap ? 0 : -1;
    }
    /* command -v: a builtin, function or alias of that name would be bash's answer, and the
     * wrapper's: such a name is left to revive-exec */
    static const char *const builtin[] = { "alias", "bg", "bind", "break", "builtin", "caller",
        "cd", "command", "compgen", "complete", "compopt", "continue", "declare", "dirs", "disown",
        "echo", "enable", "eval", "exec", "exit", "export", "false", "fc", "fg", "getopts", "hash",
        "help", "history", "jobs", "kill", "let", "local", "logout", "mapfile", "popd", "printf",
        "pushd", "pwd", "read", "readarray", "readonly", "return", "set", "shift", "shopt",
        "source", "suspend", "test", "times", "trap", "true", "type", "typeset", "ulimit", "umask",
        "unalias", "unset", "wait", "[", ".", ":" };
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
        if (!strcmp(name, builtin[i]))
            return -1;
    for (char **e = environ; *e; e++)
        if (!strncmp(*e, "BASH_FUNC_", 10))
            return -1; /* an exported function might bear the name */
    const char *path = getenv("PATH");
    if (!path || !*path)
        return -1;
    for (const char *p = path;;) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char cand[PATH_MAX];
        /* an empty entry is the working folder: left to revive-exec */
        if (!len || snprintf(cand, sizeof cand, "%.*s/%s", (int)len, p, name) >= (int)sizeof cand)
            return -1;
        if (executable_file(cand)) {
            if (cand[0] != '/')
                return -1;
            return snprintf(out, cap, "%s", cand) < (int)cap ? 0 : -1;
        }
        if (!end)
            return -1;
        p = end + 1;
    }
}

/* SNAPC_MSG_STARTED to the coordinator (src/snapc/wire.h: the 16-byte header, then the job's
 * secret), as revive-exec's said_started on the coordinator's host; errors are ignored there too */
static void say_started(const char *coord, const char *secret)
{
    const char *colon = strrchr(coord, ':');
    if (!colon || colon == coord)
        return;
    char host[256];
    snprintf(host, sizeof host, "%.*s", (int)(colon - coord), coord);
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
    if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
        return;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        int s = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (s < 0)
            continue;
        if (connect(s, a->ai_addr, a->ai_addrlen) == 0) {
            unsigned char msg[16 + 64] = { 'R', 'V', 'S', 'C', 1, 0, 0x18, 0, 0x40, 0, 0, 0, 0, 0, 0, 0 };
            memcpy(msg + 16, secret, 64);
            ssize_t w = write(s, msg, sizeof msg);
            (void)w;
            close(s);
            break;
        }
        close(s);
    }
    freeaddrinfo(ai);
}

/* the dynamic loader RTLD OPT FILE: with out, under LC_ALL=C, its standard output and error read
 * into out (cap bytes, NUL-ended); without, both to /dev/null. Its exit status, or -1 (not run,
 * killed, or nothing read into out) */
static int loader_run(const char *rtld, const char *opt, const char *file, char *out, size_t cap)
{
    int pfd[2] = { -1, -1 };
    if (out && pipe2(pfd, O_CLOEXEC))
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (out) {
        posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
        posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
    } else {
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
    }
    /* deps_of's LC_ALL=C for --list: the environment with it set */
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = malloc((n + 2) * sizeof *env);
    if (!env) {
        posix_spawn_file_actions_destroy(&fa);
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "LC_ALL=", 7))
            env[k++] = environ[i];
    env[k++] = (char *)"LC_ALL=C";
    env[k] = NULL;
    char *av[] = { (char *)rtld, (char *)opt, (char *)file, NULL };
    pid_t pid;
    int rc = posix_spawn(&pid, rtld, &fa, NULL, av, out ? env : environ);
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    if (out)
        close(pfd[1]);
    if (rc) {
        if (out)
            close(pfd[0]);
        return -1;
    }
    size_t got = 0;
    if (out) {
        ssize_t r;
        while ((r = read(pfd[0], out + got, cap - 1 - got)) != 0) {
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                break;
            got += (size_t)r;
            if (got == cap - 1) { /* longer than any list of libraries: the script decides */
                got = 0;
                break;
            }
        }
        out[got] = 0;
        close(pfd[0]);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (out && !got)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* revive-exec --detect PROGRAM's common case, the wrapper's once a job: a program linked against
 * Open MPI or MPICH (not both), REVIVE_MPI unset, not a script: "ompi" or "mpich", from the
 * loader's --verify and --list as revive-exec's deps_of and flavour_of read them. The script is
 * a bash started for it (with its two loader runs ~20 ms of CPU a job, the loader's ~5); every
 * other answer, message and status (Python, REVIVE_MPI, a static program, none or both MPIs,
 * a name bash resolves itself) stays the script's. */
static void __attribute__((noreturn)) detect(const char *name)
{
    const char *forced = getenv("REVIVE_MPI");
    char path[PATH_MAX];
    if ((forced && *forced) || name[0] == '-' || program_path(name, path, sizeof path))
        script();
    if (strchr(name, '/')) /* the name as given, as deps_of is given it */
        snprintf(path, sizeof path, "%s", name);
    char magic[2] = { 0, 0 };
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, magic, 2) != 2 || (magic[0] == '#' && magic[1] == '!')) {
        if (fd >= 0)
            close(fd);
        script();
    }
    close(fd);
    static const char *const rtlds[] = { "/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1" };
    static char deps[65536];
    for (size_t i = 0; i < sizeof rtlds / sizeof rtlds[0]; i++) {
        if (access(rtlds[i], X_OK))
            continue;
        if (loader_run(rtlds[i], "--verify", path, NULL, 0) != 0)
            continue;
        if (loader_run(rtlds[i], "--list", path, deps, sizeof deps) != 0)
            script();
        int o = strstr(deps, "libmpi.so.40") != NULL, m = strstr(deps, "libmpich.so.12") != NULL;
        if (o == m)
            script(); /* neither (Python, dlopen: the script's look) or both (its message) */
        puts(o ? "ompi" : "mpich");
        exit(fflush(stdout) ? 1 : 0);
    }
    script();
}

int main(int argc, char **argv)
{
    args = argv;
    if (argc == 3 && !strcmp(argv[1], "--detect"))
        detect(argv[2]);
    if (argc < 2 || argv[1][0] == '-') /* usage, other options: revive-exec's */
        script();
    const char *known = getenv("REVIVE_EXEC_KNOWN"), *forced = getenv("REVIVE_MPI");
    if (!known || !*known || (forced && *forced))
        script();
    /* "FLAVOUR[:LIBRARY] HOST ABSPATH" */
    const char *sp1 = strchr(known, ' ');
    const char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp2)
        script();
    char kf[PATH_MAX], kh[256], host[256], prog[PATH_MAX];
    if (snprintf(kf, sizeof kf, "%.*s", (int)(sp1 - known), known) >= (int)sizeof kf ||
        snprintf(kh, sizeof kh, "%.*s", (int)(sp2 - sp1 - 1), sp1 + 1) >= (int)sizeof kh)
        script();
    if (gethostname(host, sizeof host) || strcmp(host, kh) || program_path(argv[1], prog, sizeof prog) ||
        strcmp(prog, sp2 + 1))
        script();
    char *mpilib = strchr(kf, ':');
    if (mpilib) {
        *mpilib++ = 0;
        if (!*mpilib) /* "FLAVOUR:": none, as revive-exec's ${mpilib:+...} */
            mpilib = NULL;
    }
    if (strcmp(kf, "ompi") && strcmp(kf, "mpich"))
        script();
    const char *libdir = getenv("REVIVE_MPI_LIBDIR");
    if (!libdir || !*libdir)
        libdir = REVIVE_PKGLIBDIR;
    char layer[PATH_MAX], libcr[PATH_MAX];
    if (snprintf(layer, sizeof layer, "%s/revive-mpi-%.5s.so", libdir, kf) >= (int)sizeof layer ||
        snprintf(libcr, sizeof libcr, "%s/libcr.so.0", libdir) >= (int)sizeof libcr)
        script();
    if (access(libcr, R_OK))
        snprintf(libcr, sizeof libcr, "%s/libcr.so.0", REVIVE_LIBDIR);
    if (access(layer, R_OK) || access(libcr, R_OK))
        script(); /* its message */
    const char *coord = getenv("REVIVE_COORD"), *secret = getenv("REVIVE_JOB_SECRET");
    if (coord && *coord && secret && strlen(secret) == 64) {
        const char *dir = getenv("REVIVE_SOCKET_DIR"), *id = getenv("REVIVE_JOB_ID");
        char sock[PATH_MAX];
        struct stat st;
        if (dir && *dir)
            snprintf(sock, sizeof sock, "%s/coord.%s", dir, id ? id : "");
        else
            snprintf(sock, sizeof sock, "/tmp/revive-%u/coord.%s", (unsigned)geteuid(), id ? id : "");
        if (stat(sock, &st) || !S_ISSOCK(st.st_mode))
            script(); /* another host: the connection bounded in time */
        say_started(coord, secret);
    }
    const char *old = getenv("LD_PRELOAD");
    size_t cap = strlen(libcr) + strlen(layer) + (mpilib ? strlen(mpilib) : 0) + (old ? strlen(old) : 0) + 4;
    char *pre = malloc(cap);
    if (!pre)
        script();
    snprintf(pre, cap, "%s:%s%s%s%s%s", libcr, layer, mpilib ? ":" : "", mpilib ? mpilib : "",
             old && *old ? ":" : "", old && *old ? old : "");
    if (setenv("LD_PRELOAD", pre, 1) || (mpilib ? setenv("REVIVE_MPI_PRELOADED", mpilib, 1)
                                                : unsetenv("REVIVE_MPI_PRELOADED")) ||
        setenv("REVIVE_MPI_FLAVOR", kf, 1) || unsetenv("REVIVE_EXEC_KNOWN")) {
        fprintf(stderr, "revive: mpi: cannot set the rank's environment: %s\n", strerror(errno));
        return 1;
    }
    execvp(argv[1], argv + 1);
    int e = errno;
    fprintf(stderr, "revive-rank: %s: %s\n", argv[1], strerror(e));
    return e == ENOENT ? 127 : 126;
}
