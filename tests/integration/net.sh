#!/bin/bash
# SPDX-License-Identifier: MIT
# --net none: an empty network namespace, no interface up;
# --net loopback: lo is up and a server inside is reachable from inside.
. "$(dirname "$0")/lib.sh"
sb -- python3 -c 'print(1)'
[ $RC = 0 ] || skip "python3 does not run inside the sandbox: $ERR"

cat >"$T/ifs.py" <<'PY'
import fcntl, socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
names = [l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:]]
for n in names:
    flags = struct.unpack("H", fcntl.ioctl(s, 0x8913, struct.pack("256s", n.encode()))[16:18])[0]
    print(n, "up" if flags & 1 else "down")
PY
cat >"$T/echo.py" <<'PY'
import socket, threading
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
try:
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
except OSError as e:
    print("server-error", e.errno)
    raise SystemExit(0)
port = srv.getsockname()[1]
def serve():
    c, _ = srv.accept()
    c.sendall(b"echo:" + c.recv(100))
    c.close()
t = threading.Thread(target=serve, daemon=True)
t.start()
cl = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
cl.settimeout(5)
try:
    cl.connect(("127.0.0.1", port))
    cl.sendall(b"ping")
    print(cl.recv(100).decode())
except OSError as e:
    print("client-error", e.errno)
PY
chmod 644 "$T"/*.py

sb --ro "$T:/t" -- python3 /t/ifs.py
assert_rc 0 "list interfaces (default)"
assert_contains "$OUT" "lo down" "default net: lo exists and is down"
assert_not_contains "$OUT" " up" "default net: no interface is up"
[ "$(printf '%s\n' "$OUT" | wc -l)" = 1 ] || fail "default net: more than lo: $OUT"
ok "default net: only lo"

sb --net none --ro "$T:/t" -- python3 /t/ifs.py
assert_eq "$OUT" "lo down" "--net none: only lo, down"

sb --net none --ro "$T:/t" -- python3 /t/echo.py
assert_rc 0 "--net none echo attempt"
assert_not_contains "$OUT" "echo:ping" "--net none: loopback traffic does not flow"

sb --net loopback --ro "$T:/t" -- python3 /t/ifs.py
assert_eq "$OUT" "lo up" "--net loopback: only lo, up"

sb --net loopback --ro "$T:/t" -- python3 /t/echo.py
assert_rc 0 "--net loopback echo"
assert_eq "$OUT" "echo:ping" "--net loopback: a server inside is reachable from inside"

# a server in the sandbox's loopback is not the host's loopback: a host
# listener is not reachable from a --net loopback sandbox
"$PY" - "$T/port" <<'PY' &
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1); s.settimeout(15)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
try:
    s.accept(); print("HOST-REACHED")
except OSError:
    pass
PY
hostsrv=$!
at_exit "kill $hostsrv 2>/dev/null"
wait_until 10 test -s "$T/port" || fail "host listener did not start"
port=$(cat "$T/port")
sb --net loopback -- python3 -c "
import socket
s = socket.socket(); s.settimeout(3)
try:
    s.connect(('127.0.0.1', $port)); print('connected')
except OSError as e:
    print('refused', e.errno)"
assert_contains "$OUT" "refused" "the host's loopback is not reachable"
kill $hostsrv 2>/dev/null || true

say "all $_checks checks passed"
