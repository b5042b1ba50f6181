#!/bin/sh
# The tests of wordcount.sh: prints one line per test and exits non-zero on a failure.
set -u
here=$(dirname "$0")
fail=0
check() {
        printf '%s' "$2" > /tmp/wc-input
        got=$(sh "$here/wordcount.sh" /tmp/wc-input)
        if [ "$got" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: expected $3, got $got"; fail=1; fi
}
check "one line" "hello sandboxed world" 3
check "two lines" "one
two" 2
check "extra spaces" "  a   b  " 2
exit $fail
