#!/bin/bash
# Requests that meet the job's end get the designed answer "the job ended", never an errno
# (campaign-failures.md #7: ckpt-mpirun said "cannot send the request ...: Broken pipe" when the
# coordinator closed, on its way out, a connection whose request it had not read yet).
#   - a tool connected, its request not sent yet when the job ends: the coordinator waits a
#     moment for it, then answers "the job ended before the request was read";
#   - a tool whose request is sent as the launcher ends, before the coordinator read it: "the
#     job ended".
# The tool is a small python3 client speaking the tools' framing (skipped, and said so, without
# python3).
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-jobend
py=$(command -v python3) || { echo "SKIP: no python3 for the raw client"; exit 77; }

# client SOCKET WHEN OUT: connects; sends a CKPT request at once (WHEN=now) or never
# (WHEN=never); writes "connected" to OUT.state once connected, then what the coordinator
# answered (the DONE frame's text) to OUT
client() {
    "$py" - "$@" <<'EOS' &
import socket, struct, sys, os
path, when, out = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
if when == 'now':
    s.sendall(struct.pack('<IHHII', 0x43535652, 1, 100, 8, 0) + struct.pack('<II', 0, 0))
open(out + '.state', 'w').write('connected\n')
data = b''
try:
    while True:
        b = s.recv(4096)
        if not b:
            break
        data += b
except OSError as e:
    data += ('[%s]' % e).encode()
open(out, 'w').write(data[16 + 16:].decode(errors='replace') if len(data) >= 32 else
                     '(no answer: %r)' % data)
EOS
}

for when in never now; do
    start_job $when 2 --iters 1000000 --sleep-us 500
    sock=$REVIVE_SOCKET_DIR/coord.$JOB
    wait_for 60 '[ -S "$sock" ]' || fail "$when: no coordinator socket"
    launcher=$(launcher_of $JOB)
    if [ $when = never ]; then
        client "$sock" $when "$W/$when.answer"
        cpid=$!
        wait_for 60 '[ -s "$W/$when.answer.state" ]' || fail "$when: the client did not connect"
    fi
    if [ $when = now ]; then
        # the request waits unread: the coordinator is stopped while its launcher ends (it
        # sees both at once when continued, and leaves its loop with the request unread)
        kill -STOP $JOB
        client "$sock" $when "$W/$when.answer"
        cpid=$!
        wait_for 60 '[ -s "$W/$when.answer.state" ]' || fail "$when: the client did not connect"
        kill -TERM "$launcher"
        wait_for 60 '! kill -0 $launcher 2>/dev/null || [ "$(ps -o stat= -p $launcher | cut -c1)" = Z ]' ||
            fail "$when: the launcher did not end"
        kill -CONT $JOB
    else
        kill -TERM $JOB
    fi
    wait $JOB
    wait_for 60 '! kill -0 $cpid 2>/dev/null' || { fail "$when: the client got no end"; kill $cpid; }
    case $when in
    never) want='"error":"the job ended before the request was read"' ;;
    now) want='"error":"the job ended' ;;
    esac
    grep -qF -- "$want" "$W/$when.answer" ||
        fail "a request ($when) meeting the job's end: $(cat "$W/$when.answer")"
done
pass "requests meeting the job's end: 'the job ended' (before the request was read)"
finish
