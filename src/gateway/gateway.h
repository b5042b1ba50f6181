/* SPDX-License-Identifier: MIT */
/*
 * The gateway's decision core (docs/gateway.md): a policy, loaded and checked
 * before use, and one call that says whether a tool call may run.
 *
 * Pure: no sandbox, no I/O beyond reading the policy file, nothing printed.
 * The runner calls bridle__gateway_decide*() before every tool call and acts
 * on the verdict (run it, ask a person, or send the refusal back).
 *
 * Ownership: a policy is immutable once loaded; it may be shared between
 * threads for deciding. Strings a policy returns are borrowed from it.
 * Verdicts are caller-owned plain structs (no allocation inside).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bridle/common.h"

/* Ordered: a stricter decision compares greater. */
enum bridle__decision {
        BRIDLE__ALLOW = 0,
        BRIDLE__ASK = 1,
        BRIDLE__DENY = 2,
};

enum bridle__approvals_mode {
        BRIDLE__APPROVALS_EACH = 0, /* ask for each call as it comes */
        BRIDLE__APPROVALS_END = 1,  /* writes go to the upper layer; one diff at the end */
};

enum bridle__network_mode {
        BRIDLE__NETWORK_NONE = 0,
        BRIDLE__NETWORK_ALLOWLIST = 1,
};

/* What resume does with a writing call that started and has no result. */
enum bridle__in_doubt {
        BRIDLE__IN_DOUBT_RERUN = 0, /* restore the checkpoint before it, run it again */
        BRIDLE__IN_DOUBT_ASK = 1,   /* a person decides */
};

/* What a run does when an MCP server dies under one of its calls (docs/mcp.md). */
enum bridle__server_lost {
        BRIDLE__SERVER_LOST_CONTINUE = 0, /* the call is an error result; the next call starts it again */
        BRIDLE__SERVER_LOST_STOP = 1,     /* the run stops (resumable) after that call's batch */
};

typedef struct bridle__policy bridle__policy;

/* The answer for one tool call. */
typedef struct bridle__verdict {
        enum bridle__decision decision;
        /* What decided, for people: "commands[3] prefix [rm -rf]", "tools.read_file",
         * "default", "tools.exec_command (fallback)", "built-in safe command 'ls'",
         * "not simple: command substitution", "empty command". */
        char rule[192];
        /* The rule's reason: as written in the policy, or the parser's
         * explanation; may be empty. */
        char reason[256];
        /* The simple command that decided (argv joined by spaces, cut to fit);
         * empty for tools that run no command. */
        char command[192];
        /* The largest `timeout` (seconds, as ms) among the command rules that
         * decided; 0 when none gave one. */
        uint64_t timeout_ms;
        /* Every command of the string is one the built-in safe list vouches
         * for (read-only; no redirection writes a file), whatever rule
         * decided: the runner takes no checkpoint before it. Tools: false. */
        bool read_only;
} bridle__verdict;

/* Settings the runner and the sandbox apply (paths, network, approvals). */
typedef struct bridle__policy_settings {
        enum bridle__decision default_decision;
        enum bridle__approvals_mode approvals;
        /* 0: never stop on denials; N: stop the run at the Nth denial (true = 1). */
        unsigned stop_on_deny;
        bool safe_commands;            /* the built-in safe list applies (default true) */
        const char *const *deny_write; /* globs, relative to the workspace */
        size_t n_deny_write;
        const char *const *deny_read;
        size_t n_deny_read;
        enum bridle__network_mode network;
        const char *const *allow_hosts; /* lower case; "*.x" = subdomains of x */
        size_t n_allow_hosts;
        enum bridle__in_doubt in_doubt;
        unsigned max_tool_failures; /* stop after this many failed calls of one tool in a row; 0 never */
        enum bridle__server_lost server_lost;
} bridle__policy_settings;

/* ---- loading ------------------------------------------------------------------ */

/* Parse a policy (YAML or JSON) from memory; name is used in messages.
 * Everything is checked: unknown keys, types, values. Errors read
 * "NAME:LINE:COL: key.path: message" with BRIDLE_E_INVALID (or BRIDLE_E_LIMIT,
 * -ENOMEM). */
int bridle__policy_parse(const char *data, size_t len, const char *name, bridle__policy **ret,
                         bridle_error *err);
/* Read and parse a file (at most 4 MiB). A file that cannot be read is
 * "PATH: message" with -errno. */
int bridle__policy_load(const char *path, bridle__policy **ret, bridle_error *err);
/* The built-in policy used when none is given: read_file, list_dir, search,
 * load_skill allow; the safe commands allow; everything else ask.
 * NULL only on ENOMEM. */
bridle__policy *bridle__policy_default(void);
bridle__policy *bridle__policy_free(bridle__policy *p);

/* The policy as canonical JSON (sorted keys, every key present): what the runner
 * records in run.started. New reference, NULL on ENOMEM. */
json_t *bridle__policy_to_json(const bridle__policy *p);
/* Load it back (from run.started); messages name "recorded policy". */
int bridle__policy_from_json(const json_t *j, bridle__policy **ret, bridle_error *err);

/* The name given at load ("FILE", "built-in", "recorded policy"); borrowed. */
const char *bridle__policy_name(const bridle__policy *p);
/* Borrowed; valid while p lives. */
const bridle__policy_settings *bridle__policy_settings_get(const bridle__policy *p);

/*
 * Rules that cannot apply to an agent with these tools (names as in the agent
 * file, plus "shell" and "apply_patch" for native tools, and "<server>__*"
 * for each MCP server, whose tools are known only once it runs): a tools.NAME rule
 * for a tool it does not have, command rules with neither exec_command nor
 * shell. Returns the number of warnings (>= 0) and *ret, a NULL-terminated
 * list of messages ("FILE:LINE:COL: tools.x: ..." when positions are known)
 * to free with bridle__policy_warnings_free(); or -ENOMEM.
 */
int bridle__policy_check_tools(const bridle__policy *p, const char *const *tools, size_t n_tools,
                               char ***ret, bridle_error *err);
char **bridle__policy_warnings_free(char **warnings);

/* May host (a DNS name, any case, no port) be reached? Always false in mode none. */
bool bridle__policy_host_allowed(const bridle__policy *p, const char *host);

/* ---- deciding ------------------------------------------------------------------- */

/*
 * A function call: name and its arguments (JSON text, as the model sent it;
 * len bytes, "" counts as {}). For exec_command, the `cmd` argument is split
 * and each simple command matched; arguments that cannot be read are "ask".
 * Returns 0 (with *ret filled) or -ENOMEM. Never fails for bad input.
 */
int bridle__gateway_decide(const bridle__policy *p, const char *name, const char *arguments,
                           size_t len, bridle__verdict *ret, bridle_error *err);
/* The same with parsed arguments (borrowed; NULL = {}). */
int bridle__gateway_decide_args(const bridle__policy *p, const char *name, const json_t *args,
                                bridle__verdict *ret, bridle_error *err);
/* A native Responses item: shell_call (each of action.commands like a cmd,
 * tools.shell first) or apply_patch_call (tools.apply_patch). Other items:
 * tools.<type> else default. */
int bridle__gateway_decide_item(const bridle__policy *p, const json_t *item, bridle__verdict *ret,
                                bridle_error *err);
/* One bash command string, as exec_command would run it (tools.exec_command
 * is the fallback when set). */
int bridle__gateway_decide_cmd(const bridle__policy *p, const char *cmd, bridle__verdict *ret,
                               bridle_error *err);

const char *bridle__decision_name(enum bridle__decision d); /* "allow", "ask", "deny" */
