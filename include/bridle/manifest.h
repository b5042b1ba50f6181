/* SPDX-License-Identifier: MIT */
/*
 * Workspace manifests (YAML or JSON): what a sandbox's workspace starts with.
 *
 *   version: 1
 *   root: /workspace
 *   entries:
 *     - {type: file, path: notes.md, content: "hello\n"}
 *     - {type: dir, path: out}
 *     - {type: local_file, path: data.csv, source: ./data.csv}
 *     - {type: local_dir, path: repo, source: ../repo, read_only: true}
 *   environment: {MODE: review}
 *   limits: {timeout: 600, memory: 1G, pids: 256, cpu: 300, disk: 1G}
 *   network: none
 *
 * The format, every key and every error: docs/manifest.md.
 *
 * Errors name the file, line, column and key path, e.g.
 *   "manifest.yaml:7:5: entries[2].source: 'missing.csv' does not exist".
 * Codes: BRIDLE_E_INVALID, BRIDLE_E_LIMIT (4 MiB file, 10,000 entries, 1 MiB of
 * content per file, 64 levels, 250,000 values), -ENOMEM, or -errno from reading.
 * A manifest is validated completely (local sources are stat()ed) before
 * anything uses it: one that fails to load changes nothing.
 *
 * Ownership: bridle_manifest_load/parse return a manifest the caller frees;
 * *ret is set only on success.
 */
#pragma once

#include "bridle/common.h"
#include "bridle/sandbox.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bridle_manifest bridle_manifest;

/* Load and validate a manifest file; relative sources resolve against its folder. */
BRIDLE_EXPORT int bridle_manifest_load(const char *path, bridle_manifest **ret,
                                       bridle_error *err);
/* Same, from memory. name is used in messages (NULL: "<manifest>"); base_dir resolves
 * relative sources (NULL: the current directory). */
BRIDLE_EXPORT int bridle_manifest_parse(const char *data, size_t len, const char *name,
                                        const char *base_dir, bridle_manifest **ret,
                                        bridle_error *err);
BRIDLE_EXPORT bridle_manifest *bridle_manifest_free(bridle_manifest *m);

/* Apply a manifest to a spec: root, entries (in order), environment (in order),
 * limits (those given), network. A file entry's mode is not applied (the spec has
 * no call for it yet). On failure the spec is partly filled: free it. */
BRIDLE_EXPORT int bridle_manifest_apply(const bridle_manifest *m, bridle_sandbox_spec *spec,
                                        bridle_error *err);

/* The manifest as canonical JSON: compact, sorted keys, defaults filled in, paths
 * normalised, sources absolute, sizes in bytes. It loads back to the same bytes, and
 * a YAML manifest and its JSON twin give the same bytes. Caller frees with free();
 * NULL on ENOMEM. */
BRIDLE_EXPORT char *bridle_manifest_to_json(const bridle_manifest *m);

#ifdef __cplusplus
}
#endif
