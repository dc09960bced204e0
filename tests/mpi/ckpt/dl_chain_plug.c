/* A plugin of dl_chain.c, built by dl_chain.sh as plug_K.so (-DPLUG=K) and loaded at run time
 * with dlopen RTLD_LOCAL, as h5py loads its extension modules and hwloc its plugins. Each keeps a
 * buffer of its own in memory malloc maps for it (a large block: an mmap inside libc, which no
 * mmap wrapper sees) and in its data, both filled with its pattern when it is loaded and checked
 * at every call; calls back into the program (whose callback walks the stack through this
 * object: the unwinder's table of loaded objects). */
#include <stdint.h>
#include <stdlib.h>

#ifndef PLUG
#error "built with -DPLUG=K"
#endif

#define BIG (3u << 20) /* above glibc's mmap threshold, on every growth of it */
static uint32_t small[1024];
static uint32_t *big;

__attribute__((constructor)) static void plug_load(void)
{
    big = malloc(BIG);
    if (!big)
        return;
    for (uint32_t i = 0; i < BIG / 4; i += 1024)
        big[i] = i * 2654435761u + PLUG;
    for (uint32_t i = 0; i < 1024; i++)
        small[i] = i ^ (PLUG * 40503u);
}

__attribute__((destructor)) static void plug_unload(void)
{
    free(big);
    big = NULL;
}

/* The plugin's value for step s, -1 when its memory does not hold its pattern any more;
 * cb(s) is called in between (through this object's frame). */
long plug_value(int s, long (*cb)(int))
{
    if (!big)
        return -1;
    for (uint32_t i = 0; i < BIG / 4; i += 1024)
        if (big[i] != i * 2654435761u + PLUG)
            return -1;
    for (uint32_t i = 0; i < 1024; i++)
        if (small[i] != (i ^ (PLUG * 40503u)))
            return -1;
    long v = cb(s);
    return v < 0 ? -1 : (long)PLUG * 1000 + (s % 97) + v;
}
