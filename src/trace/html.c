/* SPDX-License-Identifier: MIT */
/*
 * A trace as one self-contained HTML page (trace.h, docs/trace.md): the
 * summary (status, task, output, tokens, cost by model, tools, decisions
 * and approvals), then the timeline: one row per span in tree order, a bar
 * for its time in the run, and, unfolded, its tool arguments, output,
 * attributes and events.
 *
 * Every text of the trace is untrusted (a tool's output, the model's text):
 * it only ever goes into text nodes and quoted attribute values, escaped.
 * The inline script holds no data. The page's Content-Security-Policy
 * allows nothing from the network, so even a mistake here cannot load or
 * send anything.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "trace/buf.h"
#include "trace/trace.h"
#include "util/cleanup.h"
#include "util/error.h"

#define MAX_DEPTH 24

static const char *str(const json_t *o, const char *key)
{
        return json_string_value(json_object_get(o, key));
}

static const json_t *attrs(const json_t *s)
{
        return json_object_get(s, "attributes");
}

static const char *astr(const json_t *s, const char *key)
{
        return str(attrs(s), key);
}

/* Text escaped for a text node or a quoted attribute value. */
static void esc_n(bridle__tracebuf *b, const char *s, size_t n)
{
        size_t from = 0;
        for (size_t i = 0; i < n; i++) {
                const char *rep;
                switch (s[i]) {
                case '&':
                        rep = "&amp;";
                        break;
                case '<':
                        rep = "&lt;";
                        break;
                case '>':
                        rep = "&gt;";
                        break;
                case '"':
                        rep = "&quot;";
                        break;
                case '\'':
                        rep = "&#39;";
                        break;
                case '\0':
                        rep = "&#xFFFD;";
                        break;
                default:
                        continue;
                }
                bridle__tracebuf_add(b, s + from, i - from);
                bridle__tracebuf_puts(b, rep);
                from = i + 1;
        }
        bridle__tracebuf_add(b, s + from, n - from);
}

static void esc(bridle__tracebuf *b, const char *s)
{
        if (s)
                esc_n(b, s, strlen(s));
}

static void esc_json(bridle__tracebuf *b, const json_t *v)
{
        if (json_is_string(v)) {
                esc_n(b, json_string_value(v), json_string_length(v));
                return;
        }
        _cleanup_free_ char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(12));
        esc(b, t ? t : "?");
}

/* A tag with escaped text: <tag class="cls">text</tag>. */
static void tag(bridle__tracebuf *b, const char *t, const char *cls, const char *text)
{
        bridle__tracebuf_printf(b, "<%s class=\"%s\">", t, cls);
        esc(b, text);
        bridle__tracebuf_printf(b, "</%s>", t);
}

static const char CSS[] =
        ":root{--fg:#1d2330;--mut:#667085;--bd:#d0d5dd;--bg:#fff;--alt:#f6f7f9}"
        "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:var(--fg);background:var(--bg);"
        "margin:0;padding:16px 24px}"
        "h1{font-size:20px;margin:0 0 12px}h2{font-size:16px;margin:20px 0 8px}"
        "code,pre{font:12px/1.4 ui-monospace,Menlo,Consolas,monospace}"
        "pre{background:var(--alt);border:1px solid var(--bd);padding:6px 8px;white-space:pre-wrap;"
        "word-break:break-word;max-height:360px;overflow:auto;margin:4px 0}"
        "table{border-collapse:collapse;margin:4px 0}th,td{text-align:left;padding:3px 10px 3px 0;"
        "vertical-align:top;border-bottom:1px solid var(--alt)}th{color:var(--mut);font-weight:600}"
        "td.n{text-align:right;font-variant-numeric:tabular-nums}"
        ".kv td{white-space:pre-wrap;word-break:break-word}"
        ".badge{display:inline-block;padding:0 8px;border-radius:10px;font-size:12px;background:#e4e7ec}"
        ".status-completed,.d-allow,.d-approve{background:#d1fadf}.status-failed,.d-deny{background:#fee4e2}"
        ".status-stopped,.status-awaiting_approval,.status-interrupted,.d-ask,.d-pending{background:#fef0c7}"
        "#timeline .row{display:block;border-bottom:1px solid var(--alt)}"
        "#timeline summary{display:grid;grid-template-columns:minmax(260px,38%) 1fr 80px;gap:8px;"
        "align-items:center;cursor:pointer;padding:2px 0;list-style:none}"
        "#timeline summary::-webkit-details-marker{display:none}"
        ".label{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}"
        ".track{position:relative;height:12px;background:var(--alt);border-radius:2px}"
        ".bar{position:absolute;top:0;height:12px;min-width:2px;border-radius:2px;background:#98a2b3}"
        ".dur{text-align:right;color:var(--mut);font-variant-numeric:tabular-nums}"
        ".k-run .bar{background:#667085}.k-agent .bar{background:#7a5af8}.k-turn .bar{background:#b2ccff}"
        ".k-chat .bar{background:#2e90fa}.k-tool .bar{background:#12b76a}.k-gateway .bar{background:#f79009}"
        ".k-approval .bar{background:#fdb022}.k-exec .bar{background:#15b79e}.k-sandbox .bar{background:#d0d5dd}"
        ".k-checkpoint .bar{background:#b54708}.k-handoff .bar{background:#ee46bc}"
        ".k-guardrail .bar{background:#f04438}"
        ".err .label{color:#b42318;font-weight:600}.err .bar{outline:2px solid #f04438}"
        ".detail{padding:4px 0 10px 24px}.detail h3{font-size:12px;color:var(--mut);margin:8px 0 0}"
        ".events li{font:12px ui-monospace,Menlo,Consolas,monospace}"
        "button{font:inherit;margin-right:6px}";

static const char JS[] =
        "(function(){var rows=document.querySelectorAll('#timeline details');"
        "function all(o){for(var i=0;i<rows.length;i++)rows[i].open=o;}"
        "document.getElementById('expand').addEventListener('click',function(){all(true);});"
        "document.getElementById('collapse').addEventListener('click',function(){all(false);});"
        "document.body.setAttribute('data-ready','1');})();";

/* ---- the summary ------------------------------------------------------------------------ */

static void kv(bridle__tracebuf *b, const char *k, const char *v)
{
        if (!v)
                return;
        bridle__tracebuf_puts(b, "<tr><th>");
        esc(b, k);
        bridle__tracebuf_puts(b, "</th><td>");
        esc(b, v);
        bridle__tracebuf_puts(b, "</td></tr>\n");
}

static void utc(int64_t ms, char *out, size_t cap)
{
        time_t t = (time_t)(ms / 1000);
        struct tm tm;
        if (!gmtime_r(&t, &tm) || strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
                (void)snprintf(out, cap, "%lld", (long long)ms);
}

static void models_table(bridle__tracebuf *b, const json_t *sum)
{
        bridle__tracebuf_puts(b, "<h2>Cost by model</h2>\n<table id=\"models\"><tr><th>model</th><th>requests</th>"
                             "<th>input tokens</th><th>output tokens</th><th>cost (USD)</th></tr>\n");
        const char *m;
        const json_t *v;
        json_object_foreach((json_t *)json_object_get(sum, "models"), m, v)
        {
                bridle__tracebuf_puts(b, "<tr><td>");
                esc(b, m);
                bridle__tracebuf_printf(b, "</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td>"
                                       "<td class=\"n\">%.6f</td></tr>\n",
                                    (long long)json_integer_value(json_object_get(v, "requests")),
                                    (long long)json_integer_value(json_object_get(v, "input_tokens")),
                                    (long long)json_integer_value(json_object_get(v, "output_tokens")),
                                    json_number_value(json_object_get(v, "cost_usd")));
        }
        bridle__tracebuf_puts(b, "</table>\n");
}

static void tools_table(bridle__tracebuf *b, const json_t *sum)
{
        bridle__tracebuf_puts(b, "<h2>Tools</h2>\n<table id=\"tools\"><tr><th>tool</th><th>calls</th><th>failed</th>"
                             "<th>denied</th></tr>\n");
        const char *t;
        const json_t *v;
        json_object_foreach((json_t *)json_object_get(sum, "tools"), t, v)
        {
                bridle__tracebuf_puts(b, "<tr><td>");
                esc(b, t);
                bridle__tracebuf_printf(b, "</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td>"
                                       "</tr>\n",
                                    (long long)json_integer_value(json_object_get(v, "calls")),
                                    (long long)json_integer_value(json_object_get(v, "failed")),
                                    (long long)json_integer_value(json_object_get(v, "denied")));
        }
        bridle__tracebuf_puts(b, "</table>\n");
}

/* Each gateway decision and approval, in time order. */
static void decisions_table(bridle__tracebuf *b, const json_t *spans)
{
        bridle__tracebuf_puts(b, "<h2>Decisions and approvals</h2>\n<table id=\"decisions\"><tr><th>what</th>"
                             "<th>call</th><th>decision</th><th>rule</th><th>reason</th></tr>\n");
        size_t i;
        const json_t *s, *parent = NULL;
        json_array_foreach(spans, i, s)
        {
                const char *name = str(s, "name") ?: "";
                bool gw = strcmp(name, "gateway") == 0, ap = strcmp(name, "approval") == 0;
                if (!gw && !ap)
                        continue;
                size_t j;
                const json_t *p;
                parent = NULL;
                json_array_foreach(spans, j, p) if (!parent && str(s, "parent_span_id") &&
                                                    !strcmp(str(p, "span_id") ?: "", str(s, "parent_span_id")))
                        parent = p;
                const char *d = gw ? astr(s, "bridle.decision") : astr(s, "bridle.approval.decision");
                const char *reason = gw ? astr(s, "bridle.reason") : astr(s, "bridle.approval.reason");
                bridle__tracebuf_printf(b, "<tr class=\"%s\"><td>", gw ? "gateway" : "approval");
                esc(b, gw ? "gateway" : "approval");
                bridle__tracebuf_puts(b, "</td><td>");
                esc(b, astr(parent, "gen_ai.tool.name") ?: astr(s, "gen_ai.tool.name"));
                bridle__tracebuf_puts(b, " <code>");
                esc(b, astr(parent, "gen_ai.tool.call.id") ?: astr(s, "gen_ai.tool.call.id"));
                bridle__tracebuf_puts(b, "</code></td><td><span class=\"badge d-");
                esc(b, d ?: "none");
                bridle__tracebuf_puts(b, "\">");
                esc(b, d ?: "?");
                bridle__tracebuf_puts(b, "</span></td><td>");
                esc(b, astr(s, "bridle.rule"));
                bridle__tracebuf_puts(b, "</td><td>");
                esc(b, reason && *reason ? reason : astr(s, "bridle.reason"));
                bridle__tracebuf_puts(b, "</td></tr>\n");
        }
        bridle__tracebuf_puts(b, "</table>\n");
}

static void summary_html(bridle__tracebuf *b, const json_t *sum, const json_t *spans)
{
        const char *st = str(sum, "status") ?: "unknown";
        bridle__tracebuf_puts(b, "<header><h1>Run <code id=\"run-id\">");
        esc(b, str(sum, "run_id"));
        bridle__tracebuf_puts(b, "</code> <span id=\"status\" class=\"badge status-");
        esc(b, st);
        bridle__tracebuf_puts(b, "\">");
        esc(b, st);
        bridle__tracebuf_puts(b, "</span></h1></header>\n<section id=\"summary\">\n<table class=\"kv\">\n");
        kv(b, "agent", str(sum, "agent"));
        kv(b, "task", str(sum, "task"));
        kv(b, "final output", str(sum, "final_output"));
        if (strcmp(st, "completed") != 0)
                kv(b, "reason", str(sum, "reason"));
        kv(b, "where", str(sum, "where"));
        char line[256], when[64];
        const json_t *tok = json_object_get(sum, "tokens");
        (void)snprintf(line, sizeof(line), "%lld", (long long)json_integer_value(json_object_get(sum, "turns")));
        kv(b, "turns", line);
        (void)snprintf(line, sizeof(line), "%lld in (%lld cached), %lld out",
                       (long long)json_integer_value(json_object_get(tok, "input")),
                       (long long)json_integer_value(json_object_get(tok, "cached")),
                       (long long)json_integer_value(json_object_get(tok, "output")));
        kv(b, "tokens", line);
        bridle__tracebuf_printf(b, "<tr><th>cost</th><td id=\"cost\">$%.6f</td></tr>\n",
                            json_number_value(json_object_get(sum, "cost_usd")));
        bridle__tracebuf_printf(b, "<tr><th>sandbox</th><td id=\"sandbox-seconds\">%.1f s</td></tr>\n",
                            json_number_value(json_object_get(sum, "sandbox_seconds")));
        (void)snprintf(line, sizeof(line), "%.3f s", (double)json_integer_value(json_object_get(sum, "duration_ms")) / 1000);
        kv(b, "duration", line);
        utc(json_integer_value(json_object_get(sum, "started_ms")), when, sizeof(when));
        kv(b, "started", when);
        bridle__tracebuf_puts(b, "</table>\n");
        models_table(b, sum);
        tools_table(b, sum);
        decisions_table(b, spans);
        bridle__tracebuf_puts(b, "</section>\n");
}

/* ---- the timeline -------------------------------------------------------------------------- */

static const char *kind_class(const char *name)
{
        static const char *const prefixes[][2] = {
                {"agent ", "agent"}, {"turn ", "turn"}, {"chat ", "chat"}, {"tool ", "tool"},
                {"sandbox exec", "exec"}, {"mcp call", "exec"}, {"sandbox", "sandbox"}, {"run", "run"}, {"gateway", "gateway"},
                {"approval", "approval"}, {"checkpoint", "checkpoint"}, {"handoff", "handoff"},
                {"guardrail", "guardrail"},
        };
        for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
                if (strncmp(name, prefixes[i][0], strlen(prefixes[i][0])) == 0)
                        return prefixes[i][1];
        return "other";
}

static void dur_text(int64_t ms, char *out, size_t cap)
{
        if (ms < 1000)
                (void)snprintf(out, cap, "%lld ms", (long long)ms);
        else
                (void)snprintf(out, cap, "%.2f s", (double)ms / 1000.0);
}

/* The row's label after the name: the decision, the tokens and cost... */
static void label_extra(bridle__tracebuf *b, const json_t *s, const char *kind)
{
        const json_t *a = attrs(s);
        const char *extra = NULL;
        char line[256];
        if (strcmp(kind, "chat") == 0) {
                (void)snprintf(line, sizeof(line), "%lld in, %lld out, $%.6f",
                               (long long)json_integer_value(json_object_get(a, "gen_ai.usage.input_tokens")),
                               (long long)json_integer_value(json_object_get(a, "gen_ai.usage.output_tokens")),
                               json_number_value(json_object_get(a, "bridle.cost_usd")));
                extra = line;
        } else if (strcmp(kind, "tool") == 0) {
                extra = json_is_true(json_object_get(a, "bridle.tool.denied")) ? "denied"
                        : json_is_false(json_object_get(a, "bridle.tool.ok"))   ? "failed"
                                                                                : astr(s, "bridle.decision");
        } else if (strcmp(kind, "gateway") == 0) {
                extra = astr(s, "bridle.decision");
        } else if (strcmp(kind, "approval") == 0) {
                extra = astr(s, "bridle.approval.decision");
        } else if (strcmp(kind, "run") == 0) {
                extra = astr(s, "bridle.run.status");
        } else if (strcmp(kind, "handoff") == 0) {
                (void)snprintf(line, sizeof(line), "%s \xe2\x86\x92 %s", astr(s, "bridle.handoff.from") ?: "?",
                               astr(s, "bridle.handoff.to") ?: "?");
                extra = line;
        }
        if (extra) {
                bridle__tracebuf_puts(b, " <span class=\"extra\">\xc2\xb7 ");
                esc(b, extra);
                bridle__tracebuf_puts(b, "</span>");
        }
}

static void pre(bridle__tracebuf *b, const char *title, const char *cls, const char *text)
{
        if (!text)
                return;
        bridle__tracebuf_puts(b, "<h3>");
        esc(b, title);
        bridle__tracebuf_printf(b, "</h3><pre class=\"%s\">", cls);
        esc(b, text);
        bridle__tracebuf_puts(b, "</pre>\n");
}

static void detail(bridle__tracebuf *b, const json_t *s)
{
        const json_t *a = attrs(s);
        bridle__tracebuf_puts(b, "<div class=\"detail\">\n");
        if (str(s, "status_message")) {
                bridle__tracebuf_puts(b, "<p class=\"status-message\">");
                esc(b, str(s, "status_message"));
                bridle__tracebuf_puts(b, "</p>\n");
        }
        pre(b, json_is_true(json_object_get(a, "bridle.tool.arguments.truncated")) ? "arguments (cut)" : "arguments",
            "args", astr(s, "bridle.tool.arguments"));
        pre(b, json_is_true(json_object_get(a, "bridle.tool.output.truncated")) ? "output (cut)" : "output", "output",
            astr(s, "bridle.tool.output"));
        pre(b, "response", "response", astr(s, "bridle.response.text"));
        bridle__tracebuf_puts(b, "<h3>attributes</h3><table class=\"attrs\">\n");
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)a, k, v)
        {
                if (!strcmp(k, "bridle.tool.arguments") || !strcmp(k, "bridle.tool.output") ||
                    !strcmp(k, "bridle.response.text"))
                        continue;
                bridle__tracebuf_puts(b, "<tr><th>");
                esc(b, k);
                bridle__tracebuf_puts(b, "</th><td>");
                esc_json(b, v);
                bridle__tracebuf_puts(b, "</td></tr>\n");
        }
        bridle__tracebuf_puts(b, "</table>\n");
        size_t i;
        const json_t *e;
        if (json_array_size(json_object_get(s, "events")))
                bridle__tracebuf_puts(b, "<h3>events</h3><ul class=\"events\">\n");
        json_array_foreach(json_object_get(s, "events"), i, e)
        {
                bridle__tracebuf_puts(b, "<li>");
                esc(b, str(e, "name"));
                bridle__tracebuf_puts(b, " ");
                esc_json(b, attrs(e));
                bridle__tracebuf_puts(b, "</li>\n");
        }
        if (json_array_size(json_object_get(s, "events")))
                bridle__tracebuf_puts(b, "</ul>\n");
        bridle__tracebuf_puts(b, "</div>\n");
}

struct timeline {
        const json_t *spans;
        json_t *children; /* span_id -> [indices] */
        int64_t t0, total;
        bridle__tracebuf *b;
};

static void row(struct timeline *t, const json_t *s, unsigned depth)
{
        bridle__tracebuf *b = t->b;
        const char *name = str(s, "name") ?: "?";
        const char *kind = kind_class(name);
        int64_t start = json_integer_value(json_object_get(s, "start_ms"));
        int64_t end = json_integer_value(json_object_get(s, "end_ms"));
        bool err = strcmp(str(s, "status") ?: "", "error") == 0;
        double left = (double)(start - t->t0) * 100.0 / (double)t->total;
        double width = (double)(end - start) * 100.0 / (double)t->total;
        left = left < 0 ? 0 : left > 100 ? 100 : left;
        width = width < 0.2 ? 0.2 : width > 100 - left ? 100 - left : width;
        char dur[32];
        dur_text(end - start, dur, sizeof(dur));
        bridle__tracebuf_printf(b, "<details class=\"row span k-%s%s\" data-kind=\"%s\" data-span-id=\"", kind,
                            err ? " err" : "", kind);
        esc(b, str(s, "span_id"));
        bridle__tracebuf_puts(b, "\" data-name=\"");
        esc(b, name);
        bridle__tracebuf_printf(b, "\"><summary><span class=\"label\" style=\"padding-left:%upx\" title=\"",
                                depth * 16);
        esc(b, name);
        bridle__tracebuf_puts(b, "\">");
        tag(b, "span", "name", name);
        label_extra(b, s, kind);
        bridle__tracebuf_printf(b, "</span><span class=\"track\"><span class=\"bar\" style=\"left:%.3f%%;width:%.3f%%\">"
                               "</span></span>",
                            left, width);
        tag(b, "span", "dur", dur);
        bridle__tracebuf_puts(b, "</summary>\n");
        detail(b, s);
        bridle__tracebuf_puts(b, "</details>\n");
}

static void walk(struct timeline *t, size_t idx, unsigned depth)
{
        const json_t *s = json_array_get(t->spans, idx);
        row(t, s, depth);
        if (depth >= MAX_DEPTH)
                return;
        size_t i;
        const json_t *k;
        const json_t *kids = json_object_get(t->children, str(s, "span_id") ?: "");
        json_array_foreach(kids, i, k)
        {
                walk(t, (size_t)json_integer_value(k), depth + 1);
        }
}

static int index_children(json_t *children, const json_t *spans)
{
        size_t i;
        const json_t *s;
        json_array_foreach(spans, i, s)
        {
                const char *p = str(s, "parent_span_id");
                if (!p)
                        continue;
                json_t *list = json_object_get(children, p);
                if (!list) {
                        list = json_array();
                        if (!list || json_object_set_new(children, p, list) < 0)
                                return -ENOMEM;
                }
                if (json_array_append_new(list, json_integer((json_int_t)i)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static void timeline_html(struct timeline *t)
{
        bridle__tracebuf *b = t->b;
        char total[32];
        dur_text(t->total, total, sizeof(total));
        bridle__tracebuf_puts(b, "<section id=\"timeline\">\n<h2>Timeline</h2>\n<p class=\"controls\">"
                             "<button id=\"expand\" type=\"button\">expand all</button>"
                             "<button id=\"collapse\" type=\"button\">collapse all</button> ");
        tag(b, "span", "total", total);
        bridle__tracebuf_puts(b, "</p>\n");
        size_t i;
        const json_t *s;
        json_array_foreach(t->spans, i, s)
        {
                if (!json_object_get(s, "parent_span_id"))
                        walk(t, i, 0);
        }
        bridle__tracebuf_puts(b, "</section>\n");
}

int bridle__trace_html(const json_t *summary, const json_t *spans, char **ret, bridle_error *err)
{
        if (!ret || !json_is_array(spans))
                return bridle__err(err, -EINVAL, "trace html: no spans");
        json_auto_t *children = json_object();
        if (!children || index_children(children, spans) < 0)
                return bridle__err(err, -ENOMEM, "trace html: out of memory");
        struct timeline t = {.spans = spans, .children = children, .t0 = INT64_MAX, .total = 1};
        int64_t t1 = 0;
        size_t i;
        const json_t *s;
        json_array_foreach(spans, i, s)
        {
                int64_t a = json_integer_value(json_object_get(s, "start_ms"));
                int64_t e = json_integer_value(json_object_get(s, "end_ms"));
                t.t0 = a < t.t0 ? a : t.t0;
                t1 = e > t1 ? e : t1;
        }
        if (t.t0 == INT64_MAX)
                t.t0 = 0;
        t.total = t1 > t.t0 ? t1 - t.t0 : 1;
        bridle__tracebuf b = {0};
        t.b = &b;
        bridle__tracebuf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                              "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                              "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
                              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                              "<meta name=\"generator\" content=\"bridle trace\">\n<title>bridle trace ");
        esc(&b, str(summary, "run_id"));
        bridle__tracebuf_printf(&b, "</title>\n<style>%s</style>\n</head>\n<body>\n", CSS);
        if (summary)
                summary_html(&b, summary, spans);
        timeline_html(&t);
        bridle__tracebuf_printf(&b, "<script>%s</script>\n</body></html>\n", JS);
        char *text = bridle__tracebuf_take(&b);
        if (!text)
                return bridle__err(err, -ENOMEM, "trace html: out of memory or over %zu bytes", BRIDLE__TRACEBUF_MAX);
        *ret = text;
        return 0;
}
