/* The libraries of rank_fdlib (rank_fdlib.sh builds each from this file with -DFDLIB_...), each
 * opening descriptors in its constructor, before main, as OpenFOAM's libOpenFOAM opens /dev/null
 * for its global Snull (newuser8 F1), or any C++ library with a global ofstream or log:
 *   FDLIB_A  libfdl_a.so, which the program is linked against (it needs libfdl_b.so): /dev/null
 *            for writing and a pipe (fdl_a_null, fdl_a_pipe)
 *   FDLIB_B  libfdl_b.so, which libfdl_a.so needs (a chain of DT_NEEDED): the input file
 *            fdlib.in of the folder the rank starts in, for reading (fdl_b_in, which the
 *            program reaches through libfdl_a.so's fdl_a_input)
 *   FDLIB_P  libfdl_p.so, preloaded by the user (LD_PRELOAD, after Revive's layer): /dev/null
 *            for writing (fdl_p_null)
 *   FDLIB_D  libfdl_d.so, which the program dlopens in main before MPI_Init: /dev/null for
 *            writing and a pipe (fdl_d_null, fdl_d_pipe)
 * glibc runs the constructors of the first three before those of the libraries preloaded ahead
 * of them (Revive's layer): their descriptors were taken for the launcher's, left out of the
 * images, and after a restart the numbers were closed (EBADF) or another's (MPICH: a pipe of the
 * new launcher or MPI library, SIGPIPE). */
#include <fcntl.h>
#include <unistd.h>

#if defined(FDLIB_A)
int fdl_a_null = -1, fdl_a_pipe[2] = { -1, -1 };
extern int fdl_b_in;
int *fdl_a_input(void) /* (a use of libfdl_b.so: linked --as-needed, the dependency stays) */
{
    return &fdl_b_in;
}
__attribute__((constructor)) static void fdl_a(void)
{
    fdl_a_null = open("/dev/null", O_WRONLY);
    if (pipe(fdl_a_pipe) != 0)
        fdl_a_pipe[0] = fdl_a_pipe[1] = -1;
}
#elif defined(FDLIB_B)
int fdl_b_in = -1;
__attribute__((constructor)) static void fdl_b(void)
{
    fdl_b_in = open("fdlib.in", O_RDONLY);
}
#elif defined(FDLIB_P)
int fdl_p_null = -1;
__attribute__((constructor)) static void fdl_p(void)
{
    fdl_p_null = open("/dev/null", O_WRONLY);
}
#elif defined(FDLIB_D)
int fdl_d_null = -1, fdl_d_pipe[2] = { -1, -1 };
__attribute__((constructor)) static void fdl_d(void)
{
    fdl_d_null = open("/dev/null", O_WRONLY);
    if (pipe(fdl_d_pipe) != 0)
        fdl_d_pipe[0] = fdl_d_pipe[1] = -1;
}
#else
#error "rank_fdlib_lib.c: build with one of -DFDLIB_A, -DFDLIB_B, -DFDLIB_P, -DFDLIB_D"
#endif
