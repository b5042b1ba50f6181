#!/bin/bash
# SPDX-License-Identifier: MIT
# --net allowlist end to end: inside a real sandbox, the proxy variables send
# curl, python3 urllib, git and npm through the bridge (127.0.0.1:3128) to the
# CLI's egress proxy; local servers stand in for allowed domains through the
# proxy's test map (BRIDLE_TESTING=1 + BRIDLE_EGRESS_TEST_MAP). Hosts not
# listed get the proxy's 403, loopback through the proxy is refused, and a
# direct connection finds no route. HTTPS goes through CONNECT to
# `openssl s_server`, with the sandbox checking the certificate itself.
. "$(dirname "$0")/lib.sh"
need_python
sb -- curl --version
[ $RC = 0 ] || skip "curl does not run inside the sandbox: $ERR"

mkdir -p "$T/www"
echo "hello from allowed" >"$T/www/index.html"
cat >"$T/serve.py" <<'PY'
import http.server, os, socketserver, sys
os.chdir(sys.argv[1])
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        with open(sys.argv[2] + ".log", "a") as f:
            f.write("%s %s\n" % (self.command, self.path))
srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), H)
open(sys.argv[2] + ".tmp", "w").write(str(srv.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
srv.serve_forever()
PY
"$PY" "$T/serve.py" "$T/www" "$T/port" &
srv=$!
at_exit "kill $srv 2>/dev/null"
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
[ -s "$T/port" ] || fail "the local HTTP server did not start"
port=$(cat "$T/port")

export BRIDLE_TESTING=1
export BRIDLE_EGRESS_TEST_MAP="allowed.test=127.0.0.1:$port"
allow=(--net allowlist --allow-host allowed.test --allow-host '*.allowed.test' --ro "$T:/t")

# ---- curl ------------------------------------------------------------------------
sb "${allow[@]}" -- curl -sS -f -m 10 http://allowed.test/index.html
assert_rc 0 "curl through the proxy to an allowed (mapped) host"
assert_eq "$OUT" "hello from allowed" "curl: the allowed host's page"
grep -q "GET /index.html" "$T/port.log" || fail "the local server did not see the request"
ok "the request reached the server standing in for allowed.test"

sb "${allow[@]}" -- curl -sS -m 10 http://other.test/
assert_rc 0 "curl to a host not listed"
assert_contains "$OUT" "bridle egress: host 'other.test' is not in the allowlist" "the proxy's 403 text"
assert_contains "$ERR" "refused GET other.test:80: 403" "the refusal is reported on stderr"
sb "${allow[@]}" -- curl -sS -f -m 10 https://other.test/
[ "$RC" != 0 ] || fail "https to a host not listed succeeded"
assert_contains "$ERR" "refused CONNECT other.test:443: 403" "CONNECT to a host not listed is refused"

# the proxy never reaches the host's loopback, whatever the name
sb --net allowlist --allow-host localhost -- curl -sS -m 10 --noproxy "" -x http://127.0.0.1:3128 "http://localhost:$port/"
assert_contains "$OUT" "resolves to a loopback address" "localhost through the proxy: refused"
sb --net allowlist --allow-host allowed.test -- curl -sS -m 10 --noproxy "" -x http://127.0.0.1:3128 "http://2130706433:$port/"
assert_contains "$OUT" "not in the allowlist" "a decimal IP literal is not a listed host"

# direct connections: no route out, and the sandbox's 127.0.0.1 is its own
sb "${allow[@]}" -- curl -sS -m 5 --noproxy '*' "http://127.0.0.1:$port/index.html"
[ "$RC" != 0 ] || fail "direct connection to 127.0.0.1:$port reached the host"
ok "direct: the host's loopback is not reachable (curl exit $RC)"
hostip=$(hostname -I 2>/dev/null | awk '{print $1}')
if [ -n "$hostip" ]; then
        sb "${allow[@]}" -- curl -sS -m 5 --noproxy '*' "http://$hostip:$port/index.html"
        [ "$RC" != 0 ] || fail "direct connection to $hostip reached the host"
        assert_not_contains "$OUT" "hello" "direct: no route to the host's address $hostip"
fi
sb "${allow[@]}" -- sh -c 'cat /proc/net/route | wc -l; ls /sys/class/net 2>/dev/null'
assert_eq "$(printf '%s\n' "$OUT" | head -1)" "1" "no route besides loopback (an empty route table)"

# ---- python3 urllib ------------------------------------------------------------------
cat >"$T/urllib_get.py" <<'PY'
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode().strip())
except urllib.error.HTTPError as e:
    print("HTTP", e.code, e.read().decode().strip())
PY
chmod 644 "$T"/*.py
sb "${allow[@]}" -- python3 /t/urllib_get.py http://allowed.test/index.html
assert_rc 0 "python3 urllib"
assert_eq "$OUT" "hello from allowed" "python3 urllib honours http_proxy"
sb "${allow[@]}" -- python3 /t/urllib_get.py http://elsewhere.test/
assert_contains "$OUT" "HTTP 403 bridle egress: host 'elsewhere.test' is not in the allowlist" \
        "python3 urllib sees the proxy's 403"

# ---- git (dumb HTTP) ----------------------------------------------------------------------
if command -v git >/dev/null; then
        git init -q --bare "$T/www/repo.git"
        git -C "$T" init -q src
        git -C "$T/src" -c user.email=t@t -c user.name=t commit -q --allow-empty -m first
        git -C "$T/src" push -q "$T/www/repo.git" HEAD:refs/heads/main
        git -C "$T/www/repo.git" update-server-info
        # s_server -WWW (the TLS origin below) serves the path with its query string
        cp "$T/www/repo.git/info/refs" "$T/www/repo.git/info/refs?service=git-upload-pack"
        sb "${allow[@]}" -- git clone -q http://allowed.test/repo.git /tmp/clone
        assert_rc 0 "git clone over HTTP through the proxy"
        sb "${allow[@]}" -- git ls-remote http://other.test/repo.git
        [ "$RC" != 0 ] || fail "git reached a host not listed"
        assert_contains "$ERR" "403" "git: a host not listed is refused"
else
        say "SKIP part: git is not installed"
fi

# ---- npm ------------------------------------------------------------------------------------
if command -v npm >/dev/null; then
        cat >"$T/www/fakepkg" <<EOF2
{"name":"fakepkg","dist-tags":{"latest":"1.2.3"},"versions":{"1.2.3":{"name":"fakepkg","version":"1.2.3",
"dist":{"tarball":"http://allowed.test/fakepkg-1.2.3.tgz"}}}}
EOF2
        sb "${allow[@]}" --env npm_config_cache=/tmp/npm -- npm view --registry http://allowed.test/ fakepkg version
        assert_rc 0 "npm view through the proxy"
        assert_eq "$OUT" "1.2.3" "npm honours the proxy variables"
        sb "${allow[@]}" --env npm_config_cache=/tmp/npm -- npm view --fetch-retries 0 --registry http://other.test/ fakepkg version
        [ "$RC" != 0 ] || fail "npm reached a host not listed"
        assert_contains "$ERR" "403" "npm: a host not listed is refused"
else
        say "SKIP part: npm is not installed"
fi

# ---- HTTPS through CONNECT (TLS tunnelled, checked inside) -----------------------------------
if ! command -v openssl >/dev/null; then
        say "SKIP part: openssl is not installed (no local TLS server)"
        exit 0
fi
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 \
        -subj /CN=tls.allowed.test -addext subjectAltName=DNS:tls.allowed.test 2>/dev/null
chmod 644 "$T/key.pem" "$T/cert.pem"
tport=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$T/www" && exec openssl s_server -quiet -accept "127.0.0.1:$tport" -cert "$T/cert.pem" -key "$T/key.pem" \
        -WWW </dev/null >/dev/null 2>&1) &
tls=$!
at_exit "kill $tls 2>/dev/null"
for _ in $(seq 100); do "$PY" -c "import socket; socket.create_connection(('127.0.0.1',$tport),1)" 2>/dev/null && break; sleep 0.1; done
export BRIDLE_EGRESS_TEST_MAP="allowed.test=127.0.0.1:$port,tls.allowed.test=127.0.0.1:$tport"

sb "${allow[@]}" -- curl -sS -f -m 10 --cacert /t/cert.pem https://tls.allowed.test/index.html
assert_rc 0 "curl https through CONNECT"
assert_eq "$OUT" "hello from allowed" "https: the page came through the tunnel"
sb "${allow[@]}" -- curl -sS -m 10 https://tls.allowed.test/index.html
[ "$RC" != 0 ] || fail "an untrusted certificate was accepted: the tunnel is not end to end"
ok "https: the sandbox checks the origin's certificate itself (no interception; curl exit $RC)"

cat >"$T/urllib_tls.py" <<'PY'
import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile="/t/cert.pem")
print(urllib.request.urlopen(sys.argv[1], timeout=10, context=ctx).read().decode().strip())
PY
chmod 644 "$T/urllib_tls.py"
sb "${allow[@]}" -- python3 /t/urllib_tls.py https://tls.allowed.test/index.html
assert_rc 0 "python3 urllib https"
assert_eq "$OUT" "hello from allowed" "python3 urllib goes through CONNECT (https_proxy)"
if command -v git >/dev/null; then
        sb "${allow[@]}" --env GIT_SSL_CAINFO=/t/cert.pem -- git clone -q https://tls.allowed.test/repo.git /tmp/clone
        assert_rc 0 "git clone over HTTPS through CONNECT"
fi
