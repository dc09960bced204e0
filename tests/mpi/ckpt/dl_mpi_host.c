/* dl_mpi_host PLUGIN ARGS...: a program not linked against MPI that loads its MPI code at run
 * time, as Python loads mpi4py's extension module: dlopen(PLUGIN, RTLD_NOW | RTLD_LOCAL), then
 * the plugin's plug_main(ARGS). Built with the plain C compiler (dl_mpi.sh). */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: dl_mpi_host PLUGIN ARGS...\n");
        return 2;
    }
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "dl_mpi_host: %s\n", dlerror());
        return 2;
    }
    int (*plug_main)(int, char **) = (int (*)(int, char **))dlsym(h, "plug_main");
    if (!plug_main) {
        fprintf(stderr, "dl_mpi_host: %s has no plug_main\n", argv[1]);
        return 2;
    }
    return plug_main(argc - 1, argv + 1);
}
