#!/bin/bash
# SPDX-License-Identifier: MIT
# A manifest file entry's `mode: 0755` makes it executable.
. "$(dirname "$0")/lib.sh"
if cli_has_stub bridle_manifest_load; then
        skip "the CLI is linked with a temporary stub of bridle_manifest_load (untracked src/cli/tmp_stubs.c)"
fi
printf 'version: 1\nentries:\n  - {type: file, path: run.sh, mode: 0755, content: "#!/bin/sh\\necho ran\\n"}\n  - {type: file, path: plain, mode: 0600, content: x}\n' >"$T/m.yaml"
sb --manifest "$T/m.yaml" -- sh -c 'stat -c %a run.sh plain; ./run.sh'
[ $RC != 125 ] || skip "the sandbox could not be made: $ERR"
assert_contains "$OUT" "755" "mode 0755 applied"
assert_contains "$OUT" "600" "mode 0600 applied"
assert_contains "$OUT" "ran" "the 0755 file runs"
say "all $_checks checks passed"
