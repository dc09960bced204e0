/* TEMPORARY, delete when libcr exports the park deferral (helper *component*, the prototypes
 * agreed in the team plan): until then the layer references crs_park_defer_enter/leave weakly,
 * so that it loads without them, and the registry's sections call them when they are there. */
#ifndef PML_HOOKS_HALVES_DEFER_SHIM_H
#define PML_HOOKS_HALVES_DEFER_SHIM_H

void crs_park_defer_enter(void) __attribute__((weak));
void crs_park_defer_leave(void) __attribute__((weak));

static inline void pml_park_defer_enter(void)
{
    if (crs_park_defer_enter)
        crs_park_defer_enter();
}

static inline void pml_park_defer_leave(void)
{
    if (crs_park_defer_leave)
        crs_park_defer_leave();
}

#endif
