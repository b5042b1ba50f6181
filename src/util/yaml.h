/* SPDX-License-Identifier: MIT */
/*
 * Document loader: YAML (a safe subset of YAML 1.2) or JSON into a jansson
 * tree, with the source line and column of every node kept in a side table.
 *
 * Used for manifests, policies and agent files. What it accepts:
 *   - one document per stream (a second "---" is an error);
 *   - block and flow mappings and sequences, nested at most
 *     BRIDLE__DOC_MAX_DEPTH deep, at most BRIDLE__DOC_MAX_NODES nodes,
 *     at most BRIDLE__DOC_MAX_SIZE bytes of input;
 *   - plain scalars resolved with the YAML 1.2 core schema: null, ~ and an
 *     empty value are null; true/false (also True, TRUE...) are booleans;
 *     [-+]?[0-9]+, 0o17 and 0x1F are integers (64-bit, else an error);
 *     decimal and exponent forms are reals (.inf and .nan are errors);
 *     anything else is a string. Quoted scalars are always strings. So
 *     "yes", "no", "on", "off" are strings, and 0644 is the integer 644
 *     (bridle__docpos.raw keeps the text for callers that care);
 *   - mapping keys are strings: a key that is not a scalar, or a plain
 *     scalar that resolves to a non-string (1:, true:, null:), is an error,
 *     as is a key holding a NUL byte and a key given twice (the message
 *     names both places).
 * Rejected outright: anchors and aliases (no "billion laughs"), and tags.
 * JSON is parsed as YAML flow syntax, so its positions are exact too.
 *
 * Errors read "NAME:LINE:COL: message" (lines and columns count from 1).
 * Codes: BRIDLE_E_INVALID for malformed input, BRIDLE_E_LIMIT for caps,
 * -ENOMEM.
 *
 * Ownership: the doc owns its tree; bridle__doc_root() borrows it. Positions
 * are valid while the doc lives.
 */
#pragma once

#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>

#include "bridle/common.h"

#define BRIDLE__DOC_MAX_SIZE ((size_t)4 << 20)
#define BRIDLE__DOC_MAX_DEPTH 64
#define BRIDLE__DOC_MAX_NODES 250000

typedef struct bridle__doc bridle__doc;

/* Where a node came from. */
typedef struct bridle__docpos {
        int line, col;         /* the value's first character, 1-based */
        int key_line, key_col; /* for a mapping member: its key; else = line, col */
        const char *raw;       /* plain non-string scalars (numbers, booleans,
                                  null): the text as written; else NULL */
} bridle__docpos;

/* Parse len bytes of data. name is used in messages (NULL: "<input>"). */
int bridle__doc_load(const char *data, size_t len, const char *name, bridle__doc **ret,
                     bridle_error *err);
bridle__doc *bridle__doc_free(bridle__doc *doc);

/* The tree (borrowed; never NULL after a successful load: an empty stream is null). */
json_t *bridle__doc_root(const bridle__doc *doc);
const char *bridle__doc_name(const bridle__doc *doc);

/*
 * Position of the value held in a slot: parent NULL means the root;
 * an object parent with key, or an array parent with index. This works for
 * every node, including true/false/null, which jansson shares between slots.
 * NULL if the slot is unknown.
 */
const bridle__docpos *bridle__doc_slot(const bridle__doc *doc, const json_t *parent,
                                       const char *key, size_t index);
/* Position of a node by identity: containers, strings and numbers only
 * (booleans and null are shared singletons: use bridle__doc_slot). */
const bridle__docpos *bridle__doc_node(const bridle__doc *doc, const json_t *node);
/* Convenience: line and column of a node; -ENOENT if unknown. */
int bridle__doc_pos(const bridle__doc *doc, const json_t *node, int *line, int *col);

/* Fill err with "NAME:LINE:COL: message" (line <= 0: "NAME: message") and return code. */
int bridle__doc_err(const bridle__doc *doc, int line, int col, bridle_error *err, int code,
                    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
int bridle__doc_verr(const bridle__doc *doc, int line, int col, bridle_error *err, int code,
                     const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

/* BRIDLE_E_INVALID at the value in a slot (bridle__doc_slot; key NULL and an
 * object parent: the mapping itself): "NAME:LINE:COL: message". */
int bridle__doc_fail(const bridle__doc *doc, const json_t *parent, const char *key, size_t index,
                     bridle_error *err, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* A short name for a node's type, for messages: "mapping", "list", "string",
 * "integer", "number", "boolean", "null". */
const char *bridle__json_type_name(const json_t *v);

/* Copy s (len bytes, may hold NULs) into buf for use inside a message:
 * control and non-ASCII-printable bytes become '?', long strings are cut
 * with "...". Returns buf. */
const char *bridle__doc_quote(const char *s, size_t len, char *buf, size_t size);
