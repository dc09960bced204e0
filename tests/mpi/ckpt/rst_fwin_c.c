/* rst_fwin's C side (rst_fort.sh FLAVOR rst_fwin): a window attribute as the C binding gives it,
 * for the Fortran program to compare with what MPI_WIN_GET_ATTR gave it. The two bindings reach
 * the layer by different paths (the Fortran one through the library's own Fortran code:
 * src/pml_hooks/fortran_paths.c), so an adjustment the C path makes and the Fortran path misses
 * shows as a difference.
 *
 *   call rst_fwin_cattr(win, which, val, flag)
 *
 * win: the window's Fortran handle; which: 1 MPI_WIN_BASE, 2 MPI_WIN_SIZE, 3 MPI_WIN_DISP_UNIT,
 * 4 MPI_WIN_CREATE_FLAVOR, 5 MPI_WIN_MODEL; val: the value (INTEGER(KIND=MPI_ADDRESS_KIND));
 * flag: 1 when the attribute is set, 0 when not, -1 when the call failed. */
#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

void rst_fwin_cattr_(const MPI_Fint *win, const MPI_Fint *which, MPI_Aint *val, MPI_Fint *flag);

void rst_fwin_cattr_(const MPI_Fint *win, const MPI_Fint *which, MPI_Aint *val, MPI_Fint *flag)
{
    static const int keyvals[] = { MPI_WIN_BASE, MPI_WIN_SIZE, MPI_WIN_DISP_UNIT,
                                   MPI_WIN_CREATE_FLAVOR, MPI_WIN_MODEL };
    *val = 0;
    *flag = -1;
    if (*which < 1 || *which > 5)
        return;
    void *p = NULL;
    int set = 0;
    if (MPI_Win_get_attr(MPI_Win_f2c(*win), keyvals[*which - 1], &p, &set) != MPI_SUCCESS)
        return;
    *flag = set != 0;
    if (!set)
        return;
    switch (*which) {
    case 1: /* the base address itself */
        *val = (MPI_Aint)(uintptr_t)p;
        break;
    case 2: /* a pointer to the size */
        *val = *(MPI_Aint *)p;
        break;
    default: /* a pointer to an int */
        *val = *(int *)p;
        break;
    }
}
