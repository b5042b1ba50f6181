/* SPDX-License-Identifier: MIT */
/*
 * Guard: the secret scanner and the run's guardrails (docs/guard.md).
 *
 * 1. The secret scanner finds credentials in arbitrary bytes (not only UTF-8)
 *    with small hand-written matchers: no regular expressions, one forward
 *    pass, linear time. What it finds (the kind names are stable, they show
 *    in "[REDACTED:<kind>]"):
 *      known           an exact value the caller registered (the harness's own
 *                      API key...), also JSON-escaped and also when split by
 *                      line breaks ("\n", "\r", and their JSON escapes)
 *      private_key     a PEM "-----BEGIN ... PRIVATE KEY-----" block, whole
 *                      (to the end of the text when its END line is missing)
 *      openai_key      sk-..., sk-proj-..., sk-svcacct-...
 *      anthropic_key   sk-ant-...
 *      aws_access_key  AKIA/ASIA/... + 16 upper-case letters or digits
 *      aws_secret_key  40 base64 characters (mixed case) near an access key
 *                      id or after a "secret" label
 *      github_token    ghp_/gho_/ghs_/ghu_/ghr_..., github_pat_...
 *      gitlab_token    glpat-...
 *      slack_token     xoxa-/xoxb-/xoxp-/xoxr-/xoxe-...
 *      stripe_key      sk_live_/rk_live_/sk_test_/rk_test_...
 *      google_api_key  AIza + 35
 *      jwt             eyJ....eyJ....sig
 *      bearer_token    the credential after "Authorization: <scheme>" or "Bearer"
 *      url_password    the password in scheme://user:password@host
 *      high_entropy    a 32..512-character base64 token with upper, lower case
 *                      and digits whose Shannon entropy is over 4.3 bits per
 *                      character (pure hex, hashes, UUIDs, paths, data: URLs
 *                      and sha512-... integrity strings are not flagged)
 *    Findings never overlap and come in increasing offset order. Redaction
 *    replaces each with "[REDACTED:<kind>]"; for bearer_token and url_password
 *    only the credential part is replaced. Findings never start or end inside
 *    a JSON escape sequence, so redacting JSON text keeps it valid JSON.
 *
 * 2. Guardrails: lists of checks on the run's task ("input") and its final
 *    output ("output"), loaded from the agent file's section
 *      guardrails:
 *        input:  [ITEM...]
 *        output: [ITEM...]
 *    with ITEM one of
 *      {type: regex, pattern: ERE, action: deny, reason?: TEXT, ignore_case?: BOOL}
 *      {type: max_length, chars: N}             UTF-8 characters
 *      {type: json_schema, schema: {...}}       output only (bridle__schema_check)
 *      {type: secrets}                          trips when the scanner finds anything
 *      {type: command, command: [ARGV...], timeout_ms?: N}
 *    The command runs ON THE HOST, trusted like the harness, with a small
 *    environment (PATH, HOME, LANG, LC_ALL, TZ, TMPDIR); it reads
 *    {"kind":"input"|"output","text":"..."} on stdin and answers
 *    {"decision":"allow"|"deny","reason":"..."} on stdout, within timeout_ms
 *    (default 10000, at most 600000) and 64 KiB. A crash, non-zero exit,
 *    timeout or bad answer is a deny with a reason saying so.
 *
 * Ownership: every object owns what it holds; json_t results are new references.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "bridle/common.h"
#include "util/yaml.h"

/* ---- the secret scanner -------------------------------------------------- */

enum bridle__secret_kind {
        BRIDLE__SECRET_KNOWN,
        BRIDLE__SECRET_PRIVATE_KEY,
        BRIDLE__SECRET_OPENAI_KEY,
        BRIDLE__SECRET_ANTHROPIC_KEY,
        BRIDLE__SECRET_AWS_ACCESS_KEY,
        BRIDLE__SECRET_AWS_SECRET_KEY,
        BRIDLE__SECRET_GITHUB_TOKEN,
        BRIDLE__SECRET_GITLAB_TOKEN,
        BRIDLE__SECRET_SLACK_TOKEN,
        BRIDLE__SECRET_STRIPE_KEY,
        BRIDLE__SECRET_GOOGLE_API_KEY,
        BRIDLE__SECRET_JWT,
        BRIDLE__SECRET_BEARER_TOKEN,
        BRIDLE__SECRET_URL_PASSWORD,
        BRIDLE__SECRET_HIGH_ENTROPY,
        BRIDLE__SECRET_KIND_COUNT,
};

typedef struct bridle__secret_finding {
        enum bridle__secret_kind kind;
        size_t offset; /* bytes from the start of the text */
        size_t length; /* bytes */
} bridle__secret_finding;

/* Known values: at most this many, each 8..4096 bytes (line breaks not counted). */
#define BRIDLE__SECRETS_MAX_KNOWN     32
#define BRIDLE__SECRETS_MIN_KNOWN_LEN 8
#define BRIDLE__SECRETS_MAX_KNOWN_LEN 4096

/* A scanner: the built-in detectors plus the caller's known values. It is
 * read-only after set-up, so one scanner may be used by several threads.
 * Every function that takes a const scanner also accepts NULL (built-in
 * detectors only). */
typedef struct bridle__secrets bridle__secrets;

int bridle__secrets_new(bridle__secrets **ret, bridle_error *err);
bridle__secrets *bridle__secrets_free(bridle__secrets *s);
/* Always redact this value wherever it appears. Too short or too long a value
 * (or too many): BRIDLE_E_INVALID / BRIDLE_E_LIMIT. The value is copied. */
int bridle__secrets_add_known(bridle__secrets *s, const char *value, size_t len, bridle_error *err);

/* "known", "openai_key", ... (never NULL; "unknown" out of range). */
const char *bridle__secret_kind_name(enum bridle__secret_kind kind);

/*
 * Scan len bytes. Stores at most max findings in out (which may be NULL when
 * max is 0) and returns how many there are in all (which may be more than max),
 * or a negative code (-ENOMEM; BRIDLE_E_LIMIT past 1<<20 known-value hits).
 * Memory: a few hundred bytes, plus 16 bytes per known-value hit.
 */
long bridle__secrets_scan(const bridle__secrets *s, const char *text, size_t len,
                          bridle__secret_finding *out, size_t max, bridle_error *err);

/* A new NUL-terminated copy of text with every finding replaced by
 * "[REDACTED:<kind>]". *ret_len (may be NULL): its length; *ret_count (may be
 * NULL): how many were replaced. On failure nothing is returned: the caller
 * must then withhold the text, not pass it on. */
int bridle__secrets_redact(const bridle__secrets *s, const char *text, size_t len, char **ret,
                           size_t *ret_len, size_t *ret_count, bridle_error *err);

/* Redact every string (not keys) in a JSON tree in place. Returns how many
 * findings were replaced, or a negative code (the tree may then be half done). */
long bridle__secrets_redact_json(const bridle__secrets *s, json_t *v, bridle_error *err);

/* ---- guardrails ---------------------------------------------------------- */

enum bridle__guard_kind {
        BRIDLE__GUARD_INPUT,
        BRIDLE__GUARD_OUTPUT,
};

enum bridle__guard_type {
        BRIDLE__GUARD_REGEX,
        BRIDLE__GUARD_MAX_LENGTH,
        BRIDLE__GUARD_JSON_SCHEMA,
        BRIDLE__GUARD_SECRETS,
        BRIDLE__GUARD_COMMAND,
};

#define BRIDLE__GUARDS_MAX_ITEMS         64                /* per list */
#define BRIDLE__GUARD_MAX_PATTERN        1024              /* bytes of an ERE */
#define BRIDLE__GUARD_REGEX_MAX_TEXT     ((size_t)1 << 20) /* longer text trips a regex guardrail */
#define BRIDLE__GUARD_MAX_ANSWER         ((size_t)64 << 10) /* a command's stdout */
#define BRIDLE__GUARD_DEFAULT_TIMEOUT_MS 10000
#define BRIDLE__GUARD_MAX_TIMEOUT_MS     600000

typedef struct bridle__guards bridle__guards;

/*
 * Load a guardrail set from node, the value of the `guardrails` key in doc
 * (node NULL or JSON null: an empty set). path names node in messages (NULL:
 * "guardrails"). Errors: "FILE:LINE:COL: guardrails.output[1].pattern: ...",
 * BRIDLE_E_INVALID (or BRIDLE_E_LIMIT, -ENOMEM). A relative command path
 * holding a '/' is made absolute against the doc's folder (dirname of its
 * name).
 */
int bridle__guards_load(const bridle__doc *doc, const json_t *node, const char *path,
                        bridle__guards **ret, bridle_error *err);
/* The same from canonical JSON (run.started); errors name the key path only. */
int bridle__guards_from_json(const json_t *v, bridle__guards **ret, bridle_error *err);
/* Canonical JSON: {"input":[...],"output":[...]}, every default filled in
 * (action, ignore_case, timeout_ms). NULL only on ENOMEM. */
json_t *bridle__guards_to_json(const bridle__guards *g);
bridle__guards *bridle__guards_free(bridle__guards *g);
/* Number of items in one list (g may be NULL: 0). */
size_t bridle__guards_count(const bridle__guards *g, enum bridle__guard_kind kind);

const char *bridle__guard_kind_name(enum bridle__guard_kind kind); /* "input", "output" */
const char *bridle__guard_type_name(enum bridle__guard_type type); /* "regex", ... */

typedef struct bridle__guard_verdict {
        bool tripped;
        enum bridle__guard_kind kind;
        size_t index;                 /* the tripped item, in its list */
        enum bridle__guard_type type; /* its type */
        char reason[512];             /* why; never holds a found secret */
} bridle__guard_verdict;

/*
 * Check text (len bytes) against the kind's list, in order; the first item
 * that trips decides. secrets: the scanner for `secrets` items (NULL: the
 * built-in detectors only). g may be NULL (nothing trips). Returns 0 with
 * *ret filled, tripped or not; a negative code (-ENOMEM, a failure to start
 * a pipe) only when the check itself could not be made: the caller should
 * then treat the text as not allowed.
 */
int bridle__guards_check(const bridle__guards *g, enum bridle__guard_kind kind, const char *text,
                         size_t len, const bridle__secrets *secrets, bridle__guard_verdict *ret,
                         bridle_error *err);
