#!/bin/bash
# SPDX-License-Identifier: MIT
# No process of a sandbox outlives it, also when the caller itself is killed
# (SIGTERM from a supervisor, SIGINT from ^C, SIGKILL).
. "$(dirname "$0")/lib.sh"

# Job control on: without it bash starts background jobs with SIGINT ignored.
set -m
for sig in TERM INT KILL; do
        marker="8$RANDOM$$"
        "$BRIDLE" sandbox run -- sh -c "sleep $marker" >/dev/null 2>&1 </dev/null &
        bp=$!
        at_exit "kill -KILL $bp 2>/dev/null"
        seen() { pgrep -f "^sleep $marker\$" >/dev/null; }
        wait_until 20 seen || fail "SIG$sig: the sandboxed sleep never showed up"
        kill -"$sig" "$bp"
        wait "$bp" 2>/dev/null || true
        gone() { ! seen; }
        if ! wait_until 10 gone; then
                # clean up what leaked: the sandbox's init is the sleep's grandparent
                for p in $(pgrep -f "^sleep $marker\$"); do
                        sh_pid=$(ps -o ppid= -p "$p" | tr -d ' ')
                        init_pid=$(ps -o ppid= -p "$sh_pid" | tr -d ' ')
                        [ "$(ps -o comm= -p "$init_pid")" = bridle-init ] && kill -KILL "$init_pid"
                        kill -KILL "$p" 2>/dev/null
                done
                fail "SIG$sig to the caller left the sandbox's processes running"
        fi
        ok "SIG$sig to the caller: the sandbox died with it"
done
say "all $_checks checks passed"
