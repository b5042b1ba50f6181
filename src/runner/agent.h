/* SPDX-License-Identifier: MIT */
/*
 * Agent files (YAML or JSON), loaded and checked completely before a run
 * starts, with errors "FILE:LINE:COL: key: message". An agent is kept as a
 * canonical JSON object (every key filled in, paths absolute, the script
 * expanded and inline) so that run.started can record it and resume can run
 * it without the files:
 *   {"name","model","provider","base_url","api_key_env","instructions",
 *    "tools":[..],"native_tools":[..],"command_tools":[..],"handoffs":[names],
 *    "handoff_description","manifest":PATH|null,"max_turns":N,
 *    "budget":{"tokens":N|null,"cost_usd":X|null,"wall":S|null},
 *    "script":[..]|null,"script_name":NAME|null,"file":PATH|null,
 *    "mcp_servers":[..] (see bridle__agent_mcp_servers)}
 * A set of agents is an object name -> agent; its "entry" agent is the one the
 * run starts with. Handoff files are loaded recursively (cycles allowed, at
 * most 32 agents; two different files with the same name are an error).
 */
#pragma once

#include <jansson.h>

#include "bridle/common.h"
#include "bridle/run.h"

#define BRIDLE__AGENT_MAX 32
#define BRIDLE__DEFAULT_MODEL "gpt-5.1"
#define BRIDLE__DEFAULT_MAX_TURNS 40
#define BRIDLE__DEFAULT_CHECKPOINT_EVERY 10
#define BRIDLE__AGENT_MCP_MAX 16 /* mcp_servers of one agent */

/* Load path (NULL: the built-in default agent) and its handoffs, apply the
 * overrides of opts (provider, model, base_url, script_file, manifest_file,
 * max_turns: to every agent). *ret is {"entry": NAME, "agents": {...}}: a
 * reference the caller must treat as read-only (the same object is handed
 * out again while none of the files read has changed). */
int bridle__agents_load(const char *path, const bridle_agent_opts *opts, json_t **ret, bridle_error *err);

/* One agent document from memory (name for messages; dir resolves its relative
 * paths). *ret is its canonical object (without "file"), *ret_files the
 * absolute paths of its handoff files. */
int bridle__agent_parse(const char *data, size_t len, const char *name, const char *dir, json_t **ret,
                        json_t **ret_files, bridle_error *err);

/* The agent file's mcp_servers (agent_mcp.c), checked: *ret (always set; the
 * caller frees it) is a list of {"name","where":"sandbox"|"host"|"http",
 * "command":[..]|absent,"url"|absent,"headers"|absent,"env"|absent,
 * "cwd"|absent,"trusted","startup_timeout_ms","timeout_ms","tools"|absent}.
 * Header and env values keep their ${VAR}s: they are filled in when the
 * server is started, never recorded. */
typedef struct bridle__doc bridle__doc;
int bridle__agent_mcp_servers(const bridle__doc *doc, const json_t *top, json_t **ret, bridle_error *err);

/* The builtin tool names, NULL-terminated. */
extern const char *const bridle__builtin_tool_names[];
