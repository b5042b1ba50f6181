/* SPDX-License-Identifier: MIT */
/*
 * bridle trace RUN [--format text|jsonl|html] [--out FILE] [--width N]
 *                  [--attr-cap BYTES] [--journal PATH]
 * bridle trace RUN --export otlp [--endpoint URL] [--header K=V]... [--gzip]
 * A run's trace, read from the journal (include/bridle/trace.h, docs/trace.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridle/bridle.h"
#include "bridle/trace.h"
#include "commands.h"

#define MAX_HEADERS 64

struct trace_args {
        const char *run, *out, *journal, *endpoint, *export_to;
        bridle_trace_opts opts;
        const char *headers[MAX_HEADERS + 1];
        size_t n_headers;
        bool gzip;
};

static int usage(FILE *f, int status)
{
        (void)fputs("usage: bridle trace RUN [--format text|jsonl|html] [--out FILE] [--width N]\n"
                    "                        [--attr-cap BYTES] [--journal PATH]\n"
                    "       bridle trace RUN --export otlp [--endpoint URL] [--header K=V]... [--gzip]\n"
                    "\n"
                    "A run's trace (RUN: its id or a unique prefix of at least 4 characters):\n"
                    "  --format text    the run as a tree (default), --width columns (default 80)\n"
                    "  --format jsonl   one span per line (docs/trace.md)\n"
                    "  --format html    one self-contained page: summary, timeline, each call\n"
                    "  --out FILE       write there instead of to stdout\n"
                    "  --attr-cap N     bytes of one attribute value (default 4096; longer is cut)\n"
                    "  --export otlp    send it to an OpenTelemetry collector (OTLP/HTTP, JSON);\n"
                    "                   --endpoint is the base URL (/v1/traces is appended; default\n"
                    "                   OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT),\n"
                    "                   --header K=V (repeatable, plus OTEL_EXPORTER_OTLP_HEADERS), --gzip\n"
                    "  --journal PATH   the journal (default $BRIDLE_HOME/journal.db)\n",
                    f);
        return status;
}

static int bad(const char *what, const char *arg)
{
        (void)fprintf(stderr, "bridle trace: %s '%s'\n", what, arg);
        return -2;
}

static int parse_format(const char *v, struct trace_args *a)
{
        if (strcmp(v, "text") == 0)
                a->opts.format = BRIDLE_TRACE_TEXT;
        else if (strcmp(v, "jsonl") == 0)
                a->opts.format = BRIDLE_TRACE_JSONL;
        else if (strcmp(v, "html") == 0)
                a->opts.format = BRIDLE_TRACE_HTML;
        else
                return bad("unknown format (expected text, jsonl or html)", v);
        return 1;
}

static int parse_number(const char *v, unsigned long max, unsigned long *ret)
{
        char *end = NULL;
        errno = 0;
        unsigned long n = strtoul(v, &end, 10);
        if (errno || !end || *end || end == v || v[0] == '-' || n == 0 || n > max)
                return -1;
        *ret = n;
        return 0;
}

/* An option with a value: 1 taken (i advanced), 0 not this one, -2 usage. */
static int valued(int argc, char **argv, int *i, struct trace_args *a)
{
        const char *o = argv[*i];
        static const char *const names[] = {"--format", "--out", "--journal", "--width", "--attr-cap",
                                            "--export", "--endpoint", "--header"};
        size_t k = 0;
        while (k < sizeof(names) / sizeof(names[0]) && strcmp(o, names[k]) != 0)
                k++;
        if (k == sizeof(names) / sizeof(names[0]))
                return 0;
        if (*i + 1 >= argc)
                return bad("missing value after", o);
        const char *v = argv[++*i];
        unsigned long n = 0;
        switch (k) {
        case 0:
                return parse_format(v, a);
        case 1:
                a->out = v;
                return 1;
        case 2:
                a->opts.journal_path = v;
                return 1;
        case 3:
                if (parse_number(v, 1000, &n) < 0)
                        return bad("--width: expected 1..1000 columns, got", v);
                a->opts.width = (unsigned)n;
                return 1;
        case 4:
                if (parse_number(v, 16u << 20, &n) < 0)
                        return bad("--attr-cap: expected 1..16777216 bytes, got", v);
                a->opts.attr_cap = n;
                return 1;
        case 5:
                if (strcmp(v, "otlp") != 0)
                        return bad("--export: only 'otlp' is known, got", v);
                a->export_to = v;
                return 1;
        case 6:
                a->endpoint = v;
                return 1;
        default:
                if (!strchr(v, '=') || v[0] == '=')
                        return bad("--header: expected K=V, got", v);
                if (a->n_headers >= MAX_HEADERS)
                        return bad("--header: too many headers, at", v);
                a->headers[a->n_headers++] = v;
                return 1;
        }
}

/* 1: parsed, 0: --help printed, -2: usage error. */
static int parse(int argc, char **argv, struct trace_args *a)
{
        for (int i = 1; i < argc; i++) {
                const char *o = argv[i];
                int r = valued(argc, argv, &i, a);
                if (r != 0) {
                        if (r < 0)
                                return r;
                        continue;
                }
                if (strcmp(o, "--gzip") == 0)
                        a->gzip = true;
                else if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0)
                        return 0;
                else if (!a->run && o[0] != '-')
                        a->run = o;
                else
                        return bad("unexpected argument", o);
        }
        if (!a->run) {
                (void)fputs("bridle trace: which run?\n", stderr);
                return -2;
        }
        if (!a->export_to && (a->endpoint || a->n_headers || a->gzip)) {
                (void)fputs("bridle trace: --endpoint, --header and --gzip go with --export otlp\n", stderr);
                return -2;
        }
        return 1;
}

static int write_out(const char *path, const char *text)
{
        size_t len = strlen(text);
        if (!path)
                return fwrite(text, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : -1;
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0) {
                (void)fprintf(stderr, "bridle trace: '%s': %s\n", path, strerror(errno));
                return -1;
        }
        size_t done = 0;
        while (done < len) {
                ssize_t n = write(fd, text + done, len - done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        (void)fprintf(stderr, "bridle trace: writing '%s': %s\n", path,
                                      n < 0 ? strerror(errno) : "no space");
                        (void)close(fd);
                        return -1;
                }
                done += (size_t)n;
        }
        if (close(fd) < 0) {
                (void)fprintf(stderr, "bridle trace: writing '%s': %s\n", path, strerror(errno));
                return -1;
        }
        return 0;
}

static int export_otlp(const struct trace_args *a)
{
        bridle_otlp_opts o = {.journal_path = a->opts.journal_path,
                              .endpoint = a->endpoint,
                              .headers = a->n_headers ? a->headers : NULL,
                              .gzip = a->gzip,
                              .attr_cap = a->opts.attr_cap};
        bridle_error err = {0};
        if (bridle_trace_export_otlp(a->run, &o, &err) < 0) {
                (void)fprintf(stderr, "bridle trace: %s\n", err.msg);
                return 1;
        }
        return 0;
}

int bridle_cmd_trace(int argc, char **argv)
{
        struct trace_args a = {0};
        int r = parse(argc, argv, &a);
        if (r <= 0)
                return r == 0 ? usage(stdout, 0) : usage(stderr, 2);
        if (a.export_to)
                return export_otlp(&a);
        bridle_error err = {0};
        char *text = NULL;
        if (bridle_trace_render(a.run, &a.opts, &text, &err) < 0) {
                (void)fprintf(stderr, "bridle trace: %s\n", err.msg);
                return 1;
        }
        r = write_out(a.out, text);
        free(text);
        return r < 0 ? 1 : 0;
}
