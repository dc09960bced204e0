/*
 * State test: a dlsym that is not the C library's (owndlsym_wrap.c: counts its calls, forwards
 * to the C library's) in front of libcr's lookups: the program's own (crt_owndlsym), or one in
 * a library preloaded (crt_owndlsym_plain under cr_run: libcr comes first; crt_owndlsym_lcr,
 * linked with -lcr: the preloaded library comes before libcr). libcr found each libc call it
 * stands in front of (close, sigaction, ...) with dlsym(RTLD_NEXT) through the symbol dlsym, so
 * through that wrapper, whose RTLD_NEXT is relative to itself: the program's "next close" was
 * libcr's own, and the first close recursed until SIGSEGV (diffrev38 R-L8).
 * The program looks functions up through dlsym (a dlopen'ed libm, RTLD_DEFAULT) and calls them,
 * closes descriptors and sets a signal's action (calls libcr stands in front of), and says how
 * many calls the wrapper has had: its own only (libcr's lookups never go through it), the same
 * number as an uninterrupted run without libcr. Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* owndlsym_wrap.c's, linked in or in the preloaded library */
unsigned long crt_own_dlsym_calls(void) __attribute__((weak));

static void *libm;
static volatile sig_atomic_t hups;

static void on_hup(int sig)
{
    (void)sig;
    hups++;
}

static void check(const char *when)
{
    double (*cosine)(double) = (double (*)(double))dlsym(libm, "cos");
    size_t (*length)(const char *) = (size_t (*)(const char *))dlsym(RTLD_DEFAULT, "strlen");
    crt_check_when("dlsym(libm, cos)", when, cosine && (long)(cosine(0.5) * 1e6) == 877582,
                   "%s", cosine ? "a wrong function" : dlerror());
    crt_check_when("dlsym(RTLD_DEFAULT, strlen)", when, length && length(when) == strlen(when),
                   "%s", length ? "a wrong function" : dlerror());
    int p[2];
    crt_check_when("pipe and close", when, pipe(p) == 0 && close(p[0]) == 0 && close(p[1]) == 0,
                   "%s", strerror(errno));
    struct sigaction sa = { .sa_handler = on_hup };
    sigemptyset(&sa.sa_mask);
    int before = hups;
    crt_check_when("sigaction and a signal", when,
                   sigaction(SIGHUP, &sa, NULL) == 0 && raise(SIGHUP) == 0 && hups == before + 1,
                   "%d signals taken", hups - before);
    crt_say("calls to the dlsym in front of libc's %s: %lu", when, crt_own_dlsym_calls());
}

int main(void)
{
    if (!crt_own_dlsym_calls)
        crt_die("no dlsym of its own: preload the library built from owndlsym_wrap.c");
    libm = dlopen("libm.so.6", RTLD_NOW | RTLD_LOCAL);
    if (!libm)
        crt_die("dlopen libm.so.6: %s", dlerror());
    crt_check_around_points(check);
}
