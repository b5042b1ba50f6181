/* SPDX-License-Identifier: MIT */
/*
 * OTLP/HTTP JSON export, the parts behind bridle__trace_otlp_body and
 * bridle__trace_otlp_send (trace.h) that export.c, the runner's live export
 * and the unit tests use on their own.
 *
 * Encoding (OTLP JSON, opentelemetry-proto's JSON mapping): traceId/spanId as
 * lower-case hex, times as decimal strings of nanoseconds, kind and status
 * code as enum integers, 64-bit integers as decimal strings. A string value
 * longer than the cap is cut (on a UTF-8 character boundary) and the
 * attribute "<name>.truncated": true is added.
 *
 * Ownership: returned json_t are new references; *ret strings are malloc'd.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "bridle/common.h"
#include "guard/guard.h"
#include "journal/journal.h"
#include "trace/trace.h"

#define BRIDLE__OTLP_MAX_HEADERS     64
#define BRIDLE__OTLP_MAX_HEADER_LEN  8192 /* bytes of one "name: value" */
#define BRIDLE__OTLP_MAX_RETRIES     10
#define BRIDLE__OTLP_DEFAULT_RETRIES 4
#define BRIDLE__OTLP_DEFAULT_TIMEOUT 10000 /* ms per attempt */
#define BRIDLE__OTLP_MAX_BACKOFF_MS  5000
#define BRIDLE__OTLP_MAX_RESPONSE    (64 << 10)

/* The body of bridle__trace_otlp_body with a cap of cap bytes per string
 * attribute value (0: BRIDLE__TRACE_ATTR_CAP). NULL only on ENOMEM or when
 * spans is not an array. */
json_t *bridle__otlp_body(const json_t *spans, size_t cap);

/* The body as compact JSON text with every finding of the scanner s (NULL:
 * the built-in detectors) redacted. */
int bridle__otlp_body_text(const json_t *spans, size_t cap, const bridle__secrets *s, char **ret,
                           size_t *ret_len, bridle_error *err);

/* The URL to POST to: endpoint (a base URL, "/v1/traces" appended) or, when
 * NULL or empty, $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (as is), else
 * $OTEL_EXPORTER_OTLP_ENDPOINT (+ "/v1/traces"). Only http:// and https://.
 * BRIDLE_E_INVALID when there is none or it is not a URL. */
int bridle__otlp_url(const char *endpoint, char **ret, bridle_error *err);

/* The request's extra headers as an array of [name, value]: from
 * $OTEL_EXPORTER_OTLP_HEADERS, then $OTEL_EXPORTER_OTLP_TRACES_HEADERS, then
 * given ("K=V", NULL-terminated, may be NULL); a later one replaces an
 * earlier one of the same name (case-insensitive). Environment lists are
 * "k1=v1,k2=v2" with percent-encoded values. Names are HTTP tokens; values
 * hold no control characters. Messages never quote a value. */
int bridle__otlp_headers(const char *const *given, json_t **ret, bridle_error *err);
/* One "k1=v1,k2=v2" list (percent-decoded) into an array as above. */
int bridle__otlp_parse_header_list(const char *list, const char *what, json_t *into,
                                   bridle_error *err);

/* gzip (RFC 1952) of len bytes. */
int bridle__otlp_gzip(const void *in, size_t len, void **ret, size_t *ret_len, bridle_error *err);

/* POST a body (JSON text) as bridle__trace_otlp_send does. gzip also when
 * OTEL_EXPORTER_OTLP_TRACES_COMPRESSION (else OTEL_EXPORTER_OTLP_COMPRESSION)
 * is "gzip"; retry pauses start at $BRIDLE_OTLP_BACKOFF_MS (default 200). */
int bridle__otlp_post(const char *body, size_t len, const bridle__otlp_opts *o, bridle_error *err);

/* Export a run's trace as the agent file's `trace:` asks (cfg: the canonical
 * {"export":"otlp","endpoint":URL|null,"headers":{K:V},"gzip":bool}) from the
 * open journal j. secrets: the run's scanner (it knows the API keys). */
enum bridle__live_mode {
        BRIDLE__LIVE_TICK = 0,    /* during the run: the spans that ended since the last
                                   * export, one quick attempt */
        BRIDLE__LIVE_SEGMENT = 1, /* a part of the run ended (stopped, waiting): the same,
                                   * with retries */
        BRIDLE__LIVE_FINAL = 2,   /* the run completed or failed: every span not sent yet,
                                   * run, agent and turn spans too */
};
/* *io_upto_seq: the events already exported (their ended spans were sent;
 * 0 none); on success it becomes the last event's seq. Nothing to send is
 * success and sends nothing. */
int bridle__trace_export_live(const json_t *cfg, bridle__journal *j, const char *run_id,
                              const bridle__secrets *secrets, enum bridle__live_mode mode,
                              int64_t *io_upto_seq, bridle_error *err);
