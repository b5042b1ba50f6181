/* SPDX-License-Identifier: MIT */
/* OTLP JSON: the ExportTraceServiceRequest body for a run's spans. */
#include "trace/otlp.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

/* opentelemetry.proto.trace.v1.Span.SpanKind / Status.StatusCode */
enum { KIND_INTERNAL = 1, KIND_SERVER = 2, KIND_CLIENT = 3, KIND_PRODUCER = 4, KIND_CONSUMER = 5 };
enum { STATUS_OK = 1, STATUS_ERROR = 2 };

#define MAX_DEPTH 8 /* nested arrays/objects in one attribute value */

static int kind_of(const char *k)
{
        static const struct {
                const char *name;
                int v;
        } kinds[] = {{"internal", KIND_INTERNAL},
                     {"server", KIND_SERVER},
                     {"client", KIND_CLIENT},
                     {"producer", KIND_PRODUCER},
                     {"consumer", KIND_CONSUMER}};
        for (size_t i = 0; k && i < sizeof(kinds) / sizeof(kinds[0]); i++)
                if (!strcmp(k, kinds[i].name))
                        return kinds[i].v;
        return KIND_INTERNAL;
}

/* n lower-case hex digits (a trace or span id), or NULL when v is not one. */
static json_t *hex_id(const json_t *v, size_t n)
{
        const char *s = json_string_value(v);
        if (!s || strlen(s) != n)
                return NULL;
        char buf[33];
        bool nonzero = false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (c >= 'A' && c <= 'F')
                        c = (char)(c - 'A' + 'a');
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                        return NULL;
                nonzero |= c != '0';
                buf[i] = c;
        }
        buf[n] = 0;
        return nonzero ? json_string(buf) : NULL; /* all-zero ids are invalid in OTLP */
}

/* Unix milliseconds as a decimal string of nanoseconds. */
static json_t *nanos(const json_t *ms)
{
        json_int_t v =
                json_is_integer(ms) ? json_integer_value(ms) : (json_int_t)json_number_value(ms);
        if (v < 0)
                v = 0;
        char buf[40];
        (void)snprintf(buf, sizeof(buf), "%" PRIu64, (uint64_t)v * UINT64_C(1000000));
        return json_string(buf);
}

/* The length of s cut to at most cap bytes, not inside a UTF-8 character. */
static size_t utf8_cut(const char *s, size_t len, size_t cap)
{
        if (len <= cap)
                return len;
        size_t n = cap;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
                n--;
        return n;
}

static json_t *any_value(const json_t *v, size_t cap, bool *cut, unsigned depth);

static json_t *kv(const char *key, json_t *value)
{
        return value ? json_pack("{s:s,s:o}", "key", key, "value", value) : NULL;
}

static json_t *array_value(const json_t *v, size_t cap, bool *cut, unsigned depth)
{
        json_t *vals = json_array();
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
                json_t *a = any_value(e, cap, cut, depth + 1);
                if (a && json_array_append_new(vals, a) < 0) {
                        json_decref(vals);
                        return NULL;
                }
        }
        return vals ? json_pack("{s:{s:o}}", "arrayValue", "values", vals) : NULL;
}

static json_t *kvlist_value(const json_t *v, size_t cap, bool *cut, unsigned depth)
{
        json_t *vals = json_array();
        const char *k;
        json_t *e;
        json_object_foreach((json_t *)v, k, e)
        {
                json_t *a = any_value(e, cap, cut, depth + 1);
                if (a && json_array_append_new(vals, kv(k, a)) < 0) {
                        json_decref(vals);
                        return NULL;
                }
        }
        return vals ? json_pack("{s:{s:o}}", "kvlistValue", "values", vals) : NULL;
}

/* An AnyValue; NULL for null (the attribute is left out). */
static json_t *any_value(const json_t *v, size_t cap, bool *cut, unsigned depth)
{
        char buf[32];
        switch (json_typeof(v)) {
        case JSON_STRING: {
                const char *s = json_string_value(v);
                size_t len = json_string_length(v), n = utf8_cut(s, len, cap);
                if (n < len)
                        *cut = true;
                return json_pack("{s:s%}", "stringValue", s, n);
        }
        case JSON_INTEGER:
                (void)snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                return json_pack("{s:s}", "intValue", buf);
        case JSON_REAL:
                return json_pack("{s:f}", "doubleValue", json_real_value(v));
        case JSON_TRUE:
        case JSON_FALSE:
                return json_pack("{s:b}", "boolValue", json_is_true(v));
        case JSON_ARRAY:
                if (depth >= MAX_DEPTH)
                        return NULL;
                return array_value(v, cap, cut, depth);
        case JSON_OBJECT:
                if (depth >= MAX_DEPTH)
                        return NULL;
                return kvlist_value(v, cap, cut, depth);
        case JSON_NULL:
        default:
                return NULL;
        }
}

/* An attributes object as OTLP KeyValues; a cut value adds "<key>.truncated". */
static json_t *attributes(const json_t *obj, size_t cap)
{
        json_t *out = json_array();
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)obj, k, v)
        {
                bool cut = false;
                json_t *a = any_value(v, cap, &cut, 0);
                if (!a)
                        continue;
                if (json_array_append_new(out, kv(k, a)) < 0)
                        goto oom;
                if (!cut)
                        continue;
                char name[512];
                int n = snprintf(name, sizeof(name), "%s.truncated", k);
                if (n < 0 || (size_t)n >= sizeof(name) || json_object_get(obj, name))
                        continue;
                if (json_array_append_new(out, kv(name, json_pack("{s:b}", "boolValue", 1))) < 0)
                        goto oom;
        }
        return out;
oom:
        json_decref(out);
        return NULL;
}

static json_t *events(const json_t *evs, size_t cap)
{
        json_t *out = json_array();
        size_t i;
        json_t *e;
        json_array_foreach(evs, i, e)
        {
                const char *name = json_string_value(json_object_get(e, "name"));
                json_t *o = json_pack("{s:o,s:s,s:o}", "timeUnixNano",
                                      nanos(json_object_get(e, "time_ms")), "name",
                                      name ? name : "event", "attributes",
                                      attributes(json_object_get(e, "attributes"), cap));
                if (json_array_append_new(out, o) < 0) {
                        json_decref(out);
                        return NULL;
                }
        }
        return out;
}

static json_t *status(const json_t *span)
{
        const char *s = json_string_value(json_object_get(span, "status"));
        if (s && !strcmp(s, "error")) {
                const char *m = json_string_value(json_object_get(span, "status_message"));
                return json_pack("{s:i,s:s}", "code", STATUS_ERROR, "message", m ? m : "");
        }
        if (s && !strcmp(s, "ok"))
                return json_pack("{s:i}", "code", STATUS_OK);
        return json_object();
}

/* One span, or NULL (with *bad) when its ids are unusable. */
static json_t *span(const json_t *sp, size_t cap, bool *bad)
{
        json_t *tid = hex_id(json_object_get(sp, "trace_id"), 32),
               *sid = hex_id(json_object_get(sp, "span_id"), 16);
        if (!tid || !sid) {
                json_decref(tid);
                json_decref(sid);
                *bad = true;
                return NULL;
        }
        const char *name = json_string_value(json_object_get(sp, "name"));
        json_t *o = json_pack("{s:o,s:o,s:s,s:i,s:o,s:o,s:o,s:o,s:o}", "traceId", tid, "spanId",
                              sid, "name", name ? name : "span", "kind",
                              kind_of(json_string_value(json_object_get(sp, "kind"))),
                              "startTimeUnixNano", nanos(json_object_get(sp, "start_ms")),
                              "endTimeUnixNano", nanos(json_object_get(sp, "end_ms")), "attributes",
                              attributes(json_object_get(sp, "attributes"), cap), "events",
                              events(json_object_get(sp, "events"), cap), "status", status(sp));
        json_t *pid = hex_id(json_object_get(sp, "parent_span_id"), 16);
        if (o && pid && json_object_set_new(o, "parentSpanId", pid) < 0) {
                json_decref(o);
                return NULL;
        }
        if (!o)
                json_decref(pid);
        return o;
}

static json_t *resource(void)
{
        json_t *attrs = json_pack("[{s:s,s:{s:s}},{s:s,s:{s:s}},{s:s,s:{s:s}},{s:s,s:{s:s}}]",
                                  "key", "service.name", "value", "stringValue", "bridle", "key",
                                  "service.version", "value", "stringValue", BRIDLE_VERSION, "key",
                                  "telemetry.sdk.name", "value", "stringValue", "bridle", "key",
                                  "telemetry.sdk.version", "value", "stringValue", BRIDLE_VERSION);
        return attrs ? json_pack("{s:o}", "attributes", attrs) : NULL;
}

json_t *bridle__otlp_body(const json_t *spans, size_t cap)
{
        if (!json_is_array(spans))
                return NULL;
        if (!cap)
                cap = BRIDLE__TRACE_ATTR_CAP;
        json_t *out = json_array();
        size_t i;
        json_t *sp;
        json_array_foreach(spans, i, sp)
        {
                bool bad = false;
                json_t *o = span(sp, cap, &bad);
                if (bad)
                        continue;
                if (json_array_append_new(out, o) < 0) {
                        json_decref(out);
                        return NULL;
                }
        }
        if (!out)
                return NULL;
        return json_pack("{s:[{s:o,s:[{s:{s:s,s:s},s:o}]}]}", "resourceSpans", "resource",
                         resource(), "scopeSpans", "scope", "name", "bridle", "version",
                         BRIDLE_VERSION, "spans", out);
}

json_t *bridle__trace_otlp_body(const json_t *spans)
{
        return bridle__otlp_body(spans, 0);
}

int bridle__otlp_body_text(const json_t *spans, size_t cap, const bridle__secrets *s, char **ret,
                           size_t *ret_len, bridle_error *err)
{
        if (!json_is_array(spans))
                return bridle__err(err, -EINVAL, "spans: not an array");
        json_t *body = bridle__otlp_body(spans, cap);
        if (!body)
                return bridle__err(err, -ENOMEM, "OTLP body");
        char *text = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        if (!text)
                return bridle__err(err, -ENOMEM, "OTLP body");
        /* The builder redacts each text already; this pass also catches what
         * only the whole body shows (and the run's own keys, when s knows
         * them). It keeps the JSON valid. */
        char *clean = NULL;
        size_t len = 0;
        int r = bridle__secrets_redact(s, text, strlen(text), &clean, &len, NULL, err);
        free(text);
        if (r < 0)
                return r;
        *ret = clean;
        if (ret_len)
                *ret_len = len;
        return 0;
}
