#!/bin/bash
# SPDX-License-Identifier: MIT
# --manifest: entries (file, dir, local_file, local_dir read_only), environment,
# limits and network are honoured; flags override the manifest; a broken
# manifest exits 125 naming file:line:col and the key path, and nothing runs.
. "$(dirname "$0")/lib.sh"

if cli_has_stub bridle_manifest_load; then
        skip "the CLI is linked with a temporary stub of bridle_manifest_load (untracked src/cli/tmp_stubs.c)"
fi

M="$T/proj"
mkdir -p "$M/inputs/repo/sub" "$M/conf"
printf 'a,b\n1,2\n' >"$M/inputs/data.csv"
echo repo-file >"$M/inputs/repo/sub/r.txt"
chmod -R a+rX "$T"
cat >"$M/conf/m.yaml" <<'YAML'
version: 1
root: /workspace
entries:
  - {type: file, path: notes.md, content: "hello\n"}
  - type: file
    path: bin/run.sh
    mode: 0755
    content: |
      #!/bin/sh
      echo "ran $MODE"
  - {type: dir, path: out/deep}
  - {type: local_file, path: data.csv, source: ../inputs/data.csv}
  - {type: local_dir, path: repo, source: ../inputs/repo, read_only: true}
environment: {MODE: review, LEVEL: 3}
limits: {timeout: 3, memory: 64M, pids: 32, cpu: 7, disk: 8M}
network: loopback
YAML

sb --manifest "$M/conf/m.yaml" -- sh -c '
        cat notes.md; cat data.csv; cat repo/sub/r.txt; test -d out/deep && echo DIR-OK
        sh bin/run.sh; echo "LEVEL=$LEVEL"
        echo x > repo/new 2>/dev/null || echo RO-OK
        echo x > out/deep/w && echo RW-OK
        ulimit -t; df -k /tmp | tail -n1; grep -c "lo:" /proc/net/dev'
assert_rc 0 "a good manifest runs"
assert_contains "$OUT" "hello" "file entry"
assert_contains "$OUT" $'a,b\n1,2' "local_file entry (source relative to the manifest's folder)"
assert_contains "$OUT" "repo-file" "local_dir entry"
assert_contains "$OUT" "DIR-OK" "dir entry with parents"
assert_contains "$OUT" "ran review" "a multi-line file entry; environment reaches it"
assert_contains "$OUT" "LEVEL=3" "a number in environment becomes a string"
assert_contains "$OUT" "RO-OK" "local_dir read_only cannot be written"
assert_contains "$OUT" "RW-OK" "the workspace is writable"
assert_match "$OUT" $'\n7\n' "limits.cpu applied (ulimit -t 7)"
assert_match "$OUT" " 8192 " "limits.disk applied (8M /tmp)"
[ ! -e "$M/inputs/repo/new" ] || fail "the read-only local_dir was written on the host"

sb --manifest "$M/conf/m.yaml" --ro "$T:/t" -- sh -c 'sleep 30'
assert_rc 124 "limits.timeout applied"
sb --manifest "$M/conf/m.yaml" -- python3 -c 'b = b"x" * (512 << 20); print("ALIVE")'
[ $RC != 0 ] && [ $RC != 124 ] || fail "limits.memory not applied (exit $RC)"
ok "limits.memory applied (exit $RC)"
cat >"$T/ifs.py" <<'PY'
import fcntl, socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
fl = struct.unpack("H", fcntl.ioctl(s, 0x8913, struct.pack("256s", b"lo"))[16:18])[0]
print("lo", "up" if fl & 1 else "down")
PY
chmod 644 "$T/ifs.py"
sb --manifest "$M/conf/m.yaml" --ro "$T/ifs.py:/ifs.py" -- python3 /ifs.py
assert_eq "$OUT" "lo up" "network: loopback applied"

# flags go on top of the manifest
sb --manifest "$M/conf/m.yaml" --env MODE=flag --net none --timeout 20 --ro "$T/ifs.py:/ifs.py" -- sh -c 'echo $MODE; python3 /ifs.py'
assert_eq "$OUT" $'flag\nlo down' "--env and --net override the manifest"

# the same manifest as JSON
cat >"$M/conf/m.json" <<'JSON'
{"version": 1, "entries": [{"type": "file", "path": "j.txt", "content": "from-json\n"}],
 "environment": {"J": "1"}}
JSON
sb --manifest "$M/conf/m.json" -- sh -c 'cat j.txt; echo J=$J'
assert_eq "$OUT" $'from-json\nJ=1' "a JSON manifest"

# --- broken manifests: 125, file:line:col, key path, nothing runs
broken() { # NAME KEYPATH-REGEX YAML
        printf '%s' "$3" >"$M/conf/$1.yaml"
        rm -f "$T/ran"
        sb --manifest "$M/conf/$1.yaml" --rw "$T:$T" -- touch "$T/ran"
        assert_rc 125 "$1: exit 125"
        assert_match "$ERR" "$1\\.yaml:[0-9]+:[0-9]+: " "$1: the message names file:line:col"
        assert_match "$ERR" "$2" "$1: the message names the key path"
        [ ! -e "$T/ran" ] || fail "$1: the command ran"
}
broken unknown-key 'entries\[0\]\.bogus' $'version: 1\nentries:\n  - {type: file, path: a, content: x, bogus: 1}\n'
broken missing-source 'entries\[1\]\.source' $'version: 1\nentries:\n  - {type: dir, path: d}\n  - {type: local_file, path: a, source: ./nope.csv}\n'
broken leaves-root 'entries\[0\]\.path' $'version: 1\nentries:\n  - {type: file, path: ../../etc/evil, content: x}\n'
broken duplicate 'entries\[1\]' $'version: 1\nentries:\n  - {type: dir, path: a}\n  - {type: file, path: a, content: x}\n'
broken wrong-type 'limits\.memory' $'version: 1\nlimits: {memory: [1]}\n'
broken bad-network 'network' $'version: 1\nnetwork: internet\n'
broken bad-env 'environment' $'version: 1\nenvironment: {"1X": a}\n'
broken top-unknown 'colour' $'version: 1\ncolour: blue\n'
broken syntax '' $'version: 1\nentries: [\n'
# the line and column point at the offending key
printf 'version: 1\nentries:\n  - type: file\n    path: a\n    content: x\n    extra: 1\n' >"$M/conf/pos.yaml"
sb --manifest "$M/conf/pos.yaml" -- true
assert_contains "$ERR" "pos.yaml:6:5: entries[0].extra" "line 6, column 5 of the unknown key"

say "all $_checks checks passed"
