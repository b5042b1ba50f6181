/* SPDX-License-Identifier: MIT */
/*
 * bridle: traces of runs, read from the journal (docs/trace.md): a tree for
 * the terminal, JSON lines of spans, one self-contained HTML page, or
 * OTLP/HTTP JSON sent to an OpenTelemetry collector. Nothing here talks to
 * the model; the API key and anything the secret scanner flags never appear.
 *
 * Ownership: strings in opts are borrowed for the call; *ret_text is the
 * caller's to free().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "bridle/common.h"

#ifdef __cplusplus
extern "C" {
#endif

enum bridle_trace_format {
        BRIDLE_TRACE_TEXT = 0,  /* the run as a tree, for a terminal */
        BRIDLE_TRACE_JSONL = 1, /* one span per line (the span model of docs/trace.md) */
        BRIDLE_TRACE_HTML = 2,  /* one page: summary, timeline, each call's arguments and output */
};

typedef struct bridle_trace_opts {
        const char *journal_path;    /* NULL: $BRIDLE_HOME/journal.db */
        enum bridle_trace_format format;
        unsigned width;              /* text: columns (0: 80) */
        size_t attr_cap;             /* bytes of one attribute (0: 4096) */
} bridle_trace_opts;

/* A run's trace in the given format. */
BRIDLE_EXPORT int bridle_trace_render(const char *run_ref, const bridle_trace_opts *opts, char **ret_text,
                                      bridle_error *err);

typedef struct bridle_otlp_opts {
        const char *journal_path;    /* NULL: $BRIDLE_HOME/journal.db */
        const char *endpoint;        /* base URL ("/v1/traces" is appended); NULL: OTEL_EXPORTER_OTLP_* */
        const char *const *headers;  /* "K=V", NULL-terminated, or NULL; OTEL_EXPORTER_OTLP_HEADERS adds */
        bool gzip;
        size_t attr_cap;             /* 0: 4096 */
} bridle_otlp_opts;

/* Send a run's trace to a collector over OTLP/HTTP (JSON encoding). */
BRIDLE_EXPORT int bridle_trace_export_otlp(const char *run_ref, const bridle_otlp_opts *opts, bridle_error *err);

/* The price table in use (`bridle prices`), as JSON text in *ret_json (the
 * caller's to free()): {"file": the override file read ($BRIDLE_PRICES, else
 * $BRIDLE_HOME/prices.yaml), absent when none; "looked_at"; "unit": "USD per
 * million tokens"; "models": [{"model","input","cached_input","output",
 * "source": "built-in" | "file"}]}. */
BRIDLE_EXPORT int bridle_prices(char **ret_json, bridle_error *err);

#ifdef __cplusplus
}
#endif
