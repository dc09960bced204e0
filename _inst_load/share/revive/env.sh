# Source this file (". /work/wt-r10/_inst_load/share/revive/env.sh") to put Revive's mpirun/mpiexec wrapper first in PATH,
# as a module file would: "mpirun -am ft-enable-cr -np N ./app" then runs the job through Revive;
# Revive's commands (ckpt-mpirun, restart-mpi, ckpt-info, cr_*) come with it, and its libraries
# (libcr, libmpix_ckpt) for pkg-config, the compiler and the loader.
case ":$PATH:" in
*":/work/wt-r10/_inst_load/bin:"*) ;;
*) PATH="/work/wt-r10/_inst_load/bin:$PATH"; export PATH ;;
esac
case ":$PATH:" in
*":/work/wt-r10/_inst_load/libexec/revive/bin:"*) ;;
*) PATH="/work/wt-r10/_inst_load/libexec/revive/bin:$PATH"; export PATH ;;
esac
case ":${PKG_CONFIG_PATH:-}:" in
*":/work/wt-r10/_inst_load/lib/pkgconfig:"*) ;;
*) PKG_CONFIG_PATH="/work/wt-r10/_inst_load/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"; export PKG_CONFIG_PATH ;;
esac
case ":${LIBRARY_PATH:-}:" in
*":/work/wt-r10/_inst_load/lib:"*) ;;
*) LIBRARY_PATH="/work/wt-r10/_inst_load/lib${LIBRARY_PATH:+:$LIBRARY_PATH}"; export LIBRARY_PATH ;;
esac
case ":${CPATH:-}:" in
*":/work/wt-r10/_inst_load/include:"*) ;;
*) CPATH="/work/wt-r10/_inst_load/include${CPATH:+:$CPATH}"; export CPATH ;;
esac
case ":${LD_LIBRARY_PATH:-}:" in
*":/work/wt-r10/_inst_load/lib:"*) ;;
*) LD_LIBRARY_PATH="/work/wt-r10/_inst_load/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; export LD_LIBRARY_PATH ;;
esac
