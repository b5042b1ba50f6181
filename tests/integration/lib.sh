# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Tiny assert helpers for the integration scripts. Source it first:
#   . "$(dirname "$0")/lib.sh"
# Each script is one meson test: exit 0 pass, 1 fail, 77 skip (with a reason).
set -euo pipefail

: "${BRIDLE:?BRIDLE is not set (run through meson test)}"
export BRIDLE

PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3 || true)

T=$(mktemp -d "${TMPDIR:-/tmp}/bridle-integ.XXXXXX")
chmod 755 "$T"
_cleanups=()
_cleanup() {
        local c
        for c in "${_cleanups[@]}"; do
                eval "$c" || true
        done
        rm -rf "$T"
}
trap _cleanup EXIT
# at_exit 'command': run at exit (before the temp dir goes).
at_exit() { _cleanups+=("$1"); }

_checks=0
say() { printf '%s\n' "$*" >&2; }
fail() {
        say "FAIL: $*"
        exit 1
}
skip() {
        say "SKIP: $*"
        exit 77
}
ok() {
        _checks=$((_checks + 1))
        say "ok $_checks - $*"
}

# run CMD...: run without failing the script; sets RC, OUT, ERR.
run() {
        set +e
        "$@" >"$T/.out" 2>"$T/.err" </dev/null
        RC=$?
        set -e
        OUT=$(cat "$T/.out")
        ERR=$(cat "$T/.err")
}
# run_in INPUT_FILE CMD...: like run, with stdin from a file.
run_in() {
        local in=$1
        shift
        set +e
        "$@" >"$T/.out" 2>"$T/.err" <"$in"
        RC=$?
        set -e
        OUT=$(cat "$T/.out")
        ERR=$(cat "$T/.err")
}
# sb ARGS...: run `bridle sandbox run ARGS...` (same variables as run).
sb() { run "$BRIDLE" sandbox run "$@"; }

show() { say "  rc=$RC"; say "  stdout: ${OUT:0:2000}"; say "  stderr: ${ERR:0:2000}"; }

assert_rc() {
        local want=$1 what=$2
        if [ "$RC" != "$want" ]; then
                show
                fail "$what: exit status $RC, wanted $want"
        fi
        ok "$what (exit $RC)"
}
assert_eq() {
        local got=$1 want=$2 what=$3
        if [ "$got" != "$want" ]; then
                show
                fail "$what: got '$got', wanted '$want'"
        fi
        ok "$what"
}
assert_contains() {
        local hay=$1 needle=$2 what=$3
        case "$hay" in
        *"$needle"*) ok "$what" ;;
        *)
                show
                fail "$what: '$needle' not found in '${hay:0:2000}'"
                ;;
        esac
}
assert_not_contains() {
        local hay=$1 needle=$2 what=$3
        case "$hay" in
        *"$needle"*)
                show
                fail "$what: '$needle' found in '${hay:0:2000}'"
                ;;
        *) ok "$what" ;;
        esac
}
assert_match() {
        local hay=$1 re=$2 what=$3
        if ! [[ $hay =~ $re ]]; then
                show
                fail "$what: '${hay:0:2000}' does not match /$re/"
        fi
        ok "$what"
}

need_python() { if [ -z "$PY" ] || [ ! -x "$PY" ]; then skip "python3 is not installed on the host"; fi; }

# json_check 'PYTHON EXPR over j' WHAT: evaluates the expression with j = json.loads(OUT).
json_check() {
        local expr=$1 what=$2
        need_python
        if ! printf '%s' "$OUT" | "$PY" -c '
import json, sys
j = json.load(sys.stdin)
sys.exit(0 if eval(sys.argv[1]) else 1)' "$expr" 2>"$T/.pyerr"; then
                show
                say "  python: $(cat "$T/.pyerr")"
                fail "$what: json check failed: $expr"
        fi
        ok "$what"
}
# json_get KEY: print j[KEY] (python repr for non-strings).
json_get() {
        printf '%s' "$OUT" | "$PY" -c '
import json, sys
v = json.load(sys.stdin)[sys.argv[1]]
print(v if isinstance(v, str) else json.dumps(v))' "$1"
}

# wait_until SECONDS CMD...: poll CMD every 0.1 s until it succeeds; 1 on time out.
wait_until() {
        local limit=$1 i
        shift
        for ((i = 0; i < limit * 10; i++)); do
                if "$@"; then
                        return 0
                fi
                sleep 0.1
        done
        return 1
}

# The CLI may be built with temporary weak stubs of library functions (an
# untracked src/cli/tmp_stubs.c) that shadow the library's real ones.
cli_has_stub() {
        command -v nm >/dev/null 2>&1 || return 1
        nm "$BRIDLE" 2>/dev/null | grep -Eq " [Ww] $1\$"
}
