# Sourced by tests/snapc/lib.sh and tests/mpi/ckpt/ckptenv.sh: both kinds of test find the
# launcher under a real coordinator (revive-coord), so the one way to tell it from the
# coordinator's other children lives here.
# launcher_of COORD: the launcher a coordinator started: its child that is neither its
# revive-witness (src/snapc/coord_witness.c, forked after the launcher but not always given the
# higher pid), its ^C sentinel (the wrapper's, revive-sentinel) nor a child not yet named or
# exec'd (comm still revive-coord); nothing and status 1
# when there is none (yet). "pgrep -P COORD | head -1" took the witness when its pid was lower.
launcher_of() {
    local p comm
    for p in $(pgrep -P "$1"); do
        read -r comm 2>/dev/null </proc/$p/comm || continue
        case $comm in revive-witness | revive-coord | revive-sentinel) continue ;; esac
        echo "$p"
        return 0
    done
    return 1
}
