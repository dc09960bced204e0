# Sourced by tests/mpi/apps/tachyon.sh and tests/mpi/ckpt/apps/tachyon.sh after their own
# environment (need_prog, $flavor, $tmp): the Tachyon ray tracer (Debian tachyon-bin-nox) with
# the library built for FLAVOR (libtachyon-openmpi-0 / libtachyon-mpich-0), else a skip (77).
# tachyon-nox links libtachyon.so.0 (a Debian alternative): the one built for FLAVOR goes first
# through LD_LIBRARY_PATH. Sets tachyon, the program.
tachyon=/usr/bin/tachyon-nox
case $flavor in ompi) lib=libtachyon-openmpi.so.0 ;; mpich) lib=libtachyon-mpich.so.0 ;; esac
libpath=/usr/lib/x86_64-linux-gnu/$lib
need_prog "$tachyon"
[ -r "$libpath" ] || { echo "SKIP: $libpath is not installed (run scripts/install-deps as root)"; exit 77; }
mkdir -p "$tmp/lib" && ln -s "$libpath" "$tmp/lib/libtachyon.so.0"
export LD_LIBRARY_PATH=$tmp/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
