/* SPDX-License-Identifier: MIT */
/*
 * Traces: a projection of a run's journal (docs/trace.md). The builder
 * (spans.c) turns a run's events into spans; renderers write them as text
 * (a tree for the terminal), JSON lines, one self-contained HTML page, or
 * OTLP/HTTP JSON (otlp.c) sent to a collector.
 *
 * The span model (a json_t array, oldest start first; every renderer reads
 * only this):
 *   {"trace_id": 32 hex (the run id), "span_id": 16 hex (stable: derived
 *    from the run id and the event seq that opened the span),
 *    "parent_span_id": 16 hex or absent (the root),
 *    "name": "run" | "agent <name>" | "turn <n>" | "chat <model>" |
 *            "tool <name>" | "gateway" | "approval" | "sandbox exec" |
 *            "checkpoint" | "handoff" | "guardrail" | "sandbox",
 *    "kind": "internal" | "client",
 *    "start_ms", "end_ms": unix ms (end_ms >= start_ms; an open span ends at
 *            the run's last event),
 *    "status": "ok" | "error", "status_message": text (error only),
 *    "attributes": {name: string | integer | number | bool | array of
 *            strings}: OpenTelemetry GenAI names where they exist
 *            (gen_ai.operation.name, gen_ai.system, gen_ai.request.model,
 *            gen_ai.response.id, gen_ai.usage.input_tokens,
 *            gen_ai.usage.output_tokens, gen_ai.tool.name,
 *            gen_ai.tool.call.id, gen_ai.agent.name), bridle.* otherwise
 *            (bridle.run.id, bridle.cost_usd, bridle.decision, bridle.rule,
 *            bridle.tool.arguments, bridle.tool.output, bridle.snapshot.id,
 *            ...). Values longer than the cap are cut and the attribute
 *            "<name>.truncated": true is added. Text has gone through the
 *            secret scanner.
 *    "events": [{"name": "retry" | "exception" | ..., "time_ms",
 *            "attributes": {...}}]}
 * Span tree: run > agent > turn > chat (the model request); run > agent >
 * tool > gateway, approval, sandbox exec; run > checkpoint; run > handoff;
 * run > guardrail. Model retries and errors are span events of "chat".
 *
 * Ownership: returned json_t are new references; strings borrowed.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "bridle/common.h"

#define BRIDLE__TRACE_ATTR_CAP 4096 /* bytes of one attribute value */

/* Spans of a run from its events (bridle__journal_events()). A run with no
 * events is BRIDLE_E_INVALID. *ret is an array as above. */
int bridle__trace_build(const json_t *events, size_t attr_cap, json_t **ret, bridle_error *err);

/* Summary of a run for the top of a trace: {"run_id","agent","status",
 * "task","final_output","turns","tokens":{"input","output"},
 * "cost_usd","sandbox_seconds","models":{model:{"requests","input_tokens",
 * "output_tokens","cost_usd"}},"tools":{name:{"calls","failed","denied"}}}. */
json_t *bridle__trace_summary(const json_t *events, const json_t *spans);

/* Renderers: malloc'd NUL-terminated text in *ret. */
int bridle__trace_text(const json_t *summary, const json_t *spans, unsigned width, char **ret, bridle_error *err);
int bridle__trace_jsonl(const json_t *spans, char **ret, bridle_error *err);
int bridle__trace_html(const json_t *summary, const json_t *spans, char **ret, bridle_error *err);

/* OTLP/HTTP JSON (otlp.c): the ExportTraceServiceRequest body for spans
 * (resource service.name "bridle"). */
json_t *bridle__trace_otlp_body(const json_t *spans);
/* POST it to endpoint (a base URL: "/v1/traces" appended, unless the URL
 * came from OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, used as is); headers
 * "K=V" (plus OTEL_EXPORTER_OTLP_HEADERS); gzip when asked; retries with
 * backoff on 429/5xx/connection errors (bounded). endpoint NULL: from the
 * environment (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, then
 * OTEL_EXPORTER_OTLP_ENDPOINT), else an error. */
typedef struct bridle__otlp_opts {
        const char *endpoint;
        const char *const *headers; /* "K=V", NULL-terminated; may be NULL */
        bool gzip;
        unsigned max_retries;       /* 0: default 4 */
        unsigned timeout_ms;        /* 0: default 10000 */
} bridle__otlp_opts;
int bridle__trace_otlp_send(const json_t *spans, const bridle__otlp_opts *o, bridle_error *err);
