#!/bin/bash
# SPDX-License-Identifier: MIT
# The environment is exactly PATH, HOME=/workspace, LANG=C.UTF-8, TERM=dumb
# (+ PWD when a shell sets it), then --env; nothing inherited from the caller.
. "$(dirname "$0")/lib.sh"

export SECRET_TOKEN=sk-bridle-test-secret
export HOME=/root/caller-home LANG=de_DE.UTF-8 TERM=xterm-256color

sb -- env
assert_rc 0 "env"
names=$(printf '%s\n' "$OUT" | cut -d= -f1 | grep -v '^PWD$' | sort | tr '\n' ' ')
assert_eq "$names" "HOME LANG PATH TERM " "exactly PATH, HOME, LANG, TERM"
assert_contains "$OUT" "HOME=/workspace" "HOME=/workspace"
assert_contains "$OUT" "LANG=C.UTF-8" "LANG=C.UTF-8"
assert_contains "$OUT" "TERM=dumb" "TERM=dumb"
assert_match "$OUT" $'(^|\n)PATH=/[^\n]*/usr/bin' "PATH includes /usr/bin"
assert_not_contains "$OUT" "sk-bridle-test-secret" "the caller's secret is not inherited"

sb -- sh -c 'echo "[$PWD]"; env | grep -c .'
assert_contains "$OUT" "[/workspace]" "the shell's PWD is /workspace"

sb -- sh -c 'cat /proc/1/environ /proc/self/environ | tr "\0" "\n"'
assert_not_contains "$OUT" "SECRET_TOKEN" "no secret in init's or the command's environ"

sb --env FOO=bar --env 'SPACED=a b=c' --env HOME=/tmp --env FOO=baz --env EMPTY= -- env
assert_rc 0 "env with --env"
assert_contains "$OUT" "FOO=baz" "a later --env wins"
assert_not_contains "$OUT" "FOO=bar" "the earlier value is gone"
assert_contains "$OUT" "SPACED=a b=c" "values keep spaces and '='"
assert_contains "$OUT" "HOME=/tmp" "--env overrides a default"
assert_match "$OUT" $'(^|\n)EMPTY=(\n|$)' "an empty value is set"
[ "$(printf '%s\n' "$OUT" | grep -c '^HOME=')" = 1 ] || fail "HOME set twice"
ok "HOME appears once"

sb --env PATH=/nowhere -- sh -c 'echo $PATH'
assert_rc 127 "PATH from --env is used to find the command"

say "all $_checks checks passed"
