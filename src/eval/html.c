/* SPDX-License-Identifier: MIT */
/*
 * report.html: one self-contained page (inline CSS and SVG, no script, no
 * network): the totals, a bar chart of each task's scores (pass rate and
 * completion rate), a table of the tasks' figures with regressions marked,
 * and every run's checks. Every text from the suite or the runs is escaped.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval.h"
#include "util/alloc.h"

#define HTML_MAX ((size_t)64 << 20)

struct buf {
        char *p;
        size_t n, cap;
        bool failed;
};

static void put(struct buf *b, const char *s, size_t len)
{
        if (b->failed)
                return;
        if (b->n + len + 1 > b->cap) {
                size_t cap = b->cap ? b->cap : 4096;
                while (cap < b->n + len + 1 && cap < HTML_MAX * 2)
                        cap *= 2;
                char *np = cap > HTML_MAX ? NULL : bridle__realloc(b->p, cap);
                if (!np) {
                        b->failed = true;
                        return;
                }
                b->p = np;
                b->cap = cap;
        }
        memcpy(b->p + b->n, s, len);
        b->n += len;
        b->p[b->n] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
        put(b, s, strlen(s));
}

static void putf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct buf *b, const char *fmt, ...)
{
        char tmp[512];
        va_list ap;
        va_start(ap, fmt);
        /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is right above */
        int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
        va_end(ap);
        if (n > 0)
                put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Text escaped for element content and quoted attributes. */
static void esc(struct buf *b, const char *s)
{
        if (!s)
                return;
        for (const char *p = s; *p; p++) {
                switch (*p) {
                case '<': puts_(b, "&lt;"); break;
                case '>': puts_(b, "&gt;"); break;
                case '&': puts_(b, "&amp;"); break;
                case '"': puts_(b, "&quot;"); break;
                case '\'': puts_(b, "&#39;"); break;
                default: put(b, p, 1); break;
                }
        }
}

static const char *str(const json_t *o, const char *k)
{
        const char *s = json_string_value(json_object_get(o, k));
        return s ? s : "";
}

static double num(const json_t *o, const char *k)
{
        return json_number_value(json_object_get(o, k));
}

static const char CSS[] =
        "body{font:14px system-ui,sans-serif;margin:2em;color:#222}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
        "th{background:#f3f3f3}.pass{color:#17692a}.fail{color:#b01c1c;font-weight:bold}"
        ".reg{background:#fde8e8}.sum{font-size:16px}code{background:#f6f6f6}"
        "details{margin:.3em 0}svg text{font:12px sans-serif}";

static void chart(struct buf *b, const json_t *tasks)
{
        size_t n = json_array_size(tasks);
        const unsigned row = 28, left = 180, width = 400;
        putf(b, "<h2>Scores</h2><svg id=\"chart\" role=\"img\" aria-label=\"scores per task\" "
                "xmlns=\"http://www.w3.org/2000/svg\" width=\"%u\" height=\"%zu\">",
             left + width + 80, n * row + 30);
        size_t i;
        const json_t *t;
        json_array_foreach(tasks, i, t) {
                double pr = num(t, "pass_rate"), cr = num(t, "completion_rate");
                unsigned y = (unsigned)(i * row + 4);
                puts_(b, "<text x=\"0\" y=\"");
                putf(b, "%u\">", y + 14);
                esc(b, str(t, "name"));
                putf(b, "</text><rect class=\"bar-pass\" x=\"%u\" y=\"%u\" width=\"%.0f\" height=\"10\" fill=\"%s\"/>",
                     left, y + 2, pr * width, json_is_true(json_object_get(t, "regressed")) ? "#d33" : "#2a8a3e");
                putf(b, "<rect x=\"%u\" y=\"%u\" width=\"%.0f\" height=\"6\" fill=\"#8aa6c8\"/>", left, y + 14,
                     cr * width);
                putf(b, "<text x=\"%.0f\" y=\"%u\">%.0f%%</text>", left + pr * width + 6, y + 12, pr * 100);
        }
        putf(b, "<text x=\"%u\" y=\"%zu\">green/red: pass rate (red: regressed); blue: completion rate</text>", left,
             n * row + 24);
        puts_(b, "</svg>");
}

static void task_row(struct buf *b, const json_t *t)
{
        bool reg = json_is_true(json_object_get(t, "regressed"));
        puts_(b, reg ? "<tr class=\"reg\"><td>" : "<tr><td>");
        esc(b, str(t, "name"));
        putf(b, "</td><td class=\"%s\">%d/%d</td><td>%.0f%%</td>", json_is_true(json_object_get(t, "ok")) ? "pass" : "fail",
             (int)num(t, "passed"), (int)num(t, "n_runs"), num(t, "completion_rate") * 100);
        putf(b, "<td>%d</td><td>%d</td><td>%.1f</td><td>%.1f</td><td>%.1f</td><td>$%.4f</td><td>%.0f ms</td><td>",
             (int)num(t, "blocked"), (int)num(t, "violations"), num(t, "turns"), num(t, "calls"),
             num(t, "repeated_calls"), num(t, "cost_usd"), num(t, "duration_ms"));
        size_t i;
        const json_t *g;
        json_array_foreach(json_object_get(t, "regressions"), i, g) {
                puts_(b, "<span class=\"fail\">");
                esc(b, str(g, "metric"));
                putf(b, " %.4g &rarr; %.4g</span> ", num(g, "baseline"), num(g, "value"));
        }
        puts_(b, "</td></tr>");
}

static void runs_detail(struct buf *b, const json_t *t)
{
        puts_(b, "<details><summary>");
        esc(b, str(t, "name"));
        puts_(b, "</summary>");
        size_t i, k;
        const json_t *r, *c;
        json_array_foreach(json_object_get(t, "runs"), i, r) {
                putf(b, "<p>run %zu <code>", i + 1);
                esc(b, str(r, "run_id"));
                puts_(b, "</code> ");
                esc(b, str(r, "status"));
                if (json_object_get(r, "error")) {
                        puts_(b, " <span class=\"fail\">");
                        esc(b, str(r, "error"));
                        puts_(b, "</span>");
                }
                puts_(b, "</p><table><tr><th>check</th><th>ok</th><th>expected</th><th>got</th></tr>");
                json_array_foreach(json_object_get(r, "checks"), k, c) {
                        bool ok = json_is_true(json_object_get(c, "ok"));
                        puts_(b, "<tr><td>");
                        esc(b, str(c, "what"));
                        putf(b, "</td><td class=\"%s\">%s</td><td>", ok ? "pass" : "fail", ok ? "ok" : "FAIL");
                        esc(b, str(c, "expected"));
                        puts_(b, "</td><td>");
                        esc(b, str(c, "got"));
                        puts_(b, "</td></tr>");
                }
                puts_(b, "</table>");
        }
        puts_(b, "</details>");
}

char *bridle__eval_html(const json_t *results)
{
        struct buf b = {0};
        const json_t *tasks = json_object_get(results, "tasks");
        const json_t *tot = json_object_get(results, "totals");
        puts_(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>bridle eval: ");
        esc(&b, str(results, "suite"));
        puts_(&b, "</title><style>");
        puts_(&b, CSS);
        puts_(&b, "</style></head><body><h1>bridle eval: ");
        esc(&b, str(results, "suite"));
        puts_(&b, "</h1><p class=\"sum\" id=\"summary\">");
        putf(&b, "%d of %d tasks passed; runs: %d, completion %.0f%%, pass rate %.0f%%; blocked %d, violations %d; "
                 "cost $%.4f; time %.1f s",
             (int)num(tot, "tasks_passed"), (int)num(tot, "tasks"), (int)num(tot, "runs"),
             num(tot, "completion_rate") * 100, num(tot, "pass_rate") * 100, (int)num(tot, "blocked"),
             (int)num(tot, "violations"), num(tot, "cost_usd"), num(tot, "duration_ms") / 1000);
        const json_t *base = json_object_get(results, "baseline");
        if (json_is_object(base)) {
                putf(&b, "; %d regressed against ", (int)num(tot, "regressed_tasks"));
                esc(&b, str(base, "file"));
        }
        puts_(&b, "</p><p>model: ");
        esc(&b, json_string_value(json_object_get(results, "model")) ? str(results, "model") : "(the agents')");
        putf(&b, ", repeat %d</p>", (int)num(results, "repeat"));
        chart(&b, tasks);
        puts_(&b, "<h2>Tasks</h2><table id=\"tasks\"><tr><th>task</th><th>passed</th><th>completed</th>"
                  "<th>blocked</th><th>violations</th><th>turns</th><th>calls</th><th>repeated</th><th>cost</th>"
                  "<th>time</th><th>regressions</th></tr>");
        size_t i;
        const json_t *t;
        json_array_foreach(tasks, i, t) task_row(&b, t);
        puts_(&b, "</table><h2>Runs</h2>");
        json_array_foreach(tasks, i, t) runs_detail(&b, t);
        puts_(&b, "</body></html>\n");
        if (b.failed) {
                free(b.p);
                return NULL;
        }
        return b.p;
}
