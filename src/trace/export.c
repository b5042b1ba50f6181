/* SPDX-License-Identifier: MIT */
/* A run's trace to an OTLP collector: from the journal (bridle trace
 * --export otlp), or at the end of each part of a run (trace: {export: otlp}
 * in the agent file). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bridle/trace.h"
#include "journal/journal.h"
#include "trace/otlp.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/envexpand.h"
#include "util/error.h"

/* A span that ends with an event of its own (a call, a model request, a
 * decision...), not one that stays open while the run goes on. */
static bool leaf(const json_t *span)
{
        const char *n = json_string_value(json_object_get(span, "name")) ?: "";
        return strcmp(n, "run") != 0 && strncmp(n, "agent ", 6) != 0 && strncmp(n, "turn ", 5) != 0 &&
               !json_is_true(json_object_get(json_object_get(span, "attributes"), "bridle.incomplete"));
}

/* The ended leaf spans of the events up to seq: what an export up to seq sent. */
static int sent_before(const json_t *events, int64_t upto, json_t **ret, bridle_error *err)
{
        json_t *prefix = json_array(), *ids = json_object();
        size_t i;
        json_t *ev;
        if (!prefix || !ids) {
                json_decref(prefix);
                json_decref(ids);
                return bridle__err(err, -ENOMEM, "trace export");
        }
        json_array_foreach(events, i, ev) if (json_integer_value(json_object_get(ev, "seq")) <= upto)
                (void)json_array_append(prefix, ev);
        json_t *spans = NULL;
        int r = json_array_size(prefix) ? bridle__trace_build(prefix, BRIDLE__TRACE_ATTR_CAP, &spans, err) : 0;
        json_array_foreach(spans, i, ev) if (leaf(ev))
                (void)json_object_set_new(ids, json_string_value(json_object_get(ev, "span_id")) ?: "", json_true());
        json_decref(spans);
        json_decref(prefix);
        if (r < 0) {
                json_decref(ids);
                return r;
        }
        *ret = ids;
        return 0;
}

/* The spans of events, through the scanner s, posted as o says; with a
 * mode, only those the mode sends that were not sent up to *io_upto. */
static int export_some(const json_t *events, size_t cap, const bridle__secrets *s, const bridle__otlp_opts *o,
                       int mode, int64_t *io_upto, bridle_error *err)
{
        json_t *spans = NULL, *sent = NULL;
        int r = bridle__trace_build(events, cap ? cap : BRIDLE__TRACE_ATTR_CAP, &spans, err);
        if (r < 0)
                return r;
        if (mode >= 0) {
                if ((r = sent_before(events, *io_upto, &sent, err)) < 0) {
                        json_decref(spans);
                        return r;
                }
                json_t *keep = json_array();
                size_t i;
                json_t *sp;
                json_array_foreach(spans, i, sp) {
                        const char *id = json_string_value(json_object_get(sp, "span_id")) ?: "";
                        if (!json_object_get(sent, id) && (mode == BRIDLE__LIVE_FINAL || leaf(sp)))
                                (void)json_array_append(keep, sp);
                }
                json_decref(spans);
                json_decref(sent);
                spans = keep;
                if (!spans)
                        return bridle__err(err, -ENOMEM, "trace export");
                if (!json_array_size(spans)) {
                        json_decref(spans);
                        return 0;
                }
        }
        _cleanup_free_ char *body = NULL;
        size_t len = 0;
        r = bridle__otlp_body_text(spans, cap, s, &body, &len, err);
        json_decref(spans);
        if (r < 0)
                return r;
        r = bridle__otlp_post(body, len, o, err);
        if (r == 0 && mode >= 0)
                *io_upto = json_integer_value(json_object_get(json_array_get(events, json_array_size(events) - 1), "seq"));
        return r;
}

static int export_events(const json_t *events, size_t cap, const bridle__secrets *s, const bridle__otlp_opts *o,
                         bridle_error *err)
{
        return export_some(events, cap, s, o, -1, NULL, err);
}

/* The API keys the run's agents read (run.started's agents' api_key_env,
 * and OPENAI_API_KEY), as known values of the scanner. */
static void add_keys(bridle__secrets *s, const json_t *events)
{
        const char *names[BRIDLE__SECRETS_MAX_KNOWN];
        size_t n = 0;
        names[n++] = "OPENAI_API_KEY";
        size_t i;
        json_t *ev;
        json_array_foreach(events, i, ev)
        {
                if (strcmp(json_string_value(json_object_get(ev, "type")) ?: "", "run.started") !=
                    0)
                        continue;
                const char *k;
                json_t *a;
                json_object_foreach(
                        json_object_get(json_object_get(json_object_get(ev, "data"), "agents"),
                                        "agents"),
                        k, a)
                {
                        const char *env = json_string_value(json_object_get(a, "api_key_env"));
                        if (env && n < BRIDLE__SECRETS_MAX_KNOWN)
                                names[n++] = env;
                }
        }
        for (i = 0; i < n; i++) {
                const char *v = getenv(names[i]);
                size_t len = v ? strlen(v) : 0;
                if (len >= BRIDLE__SECRETS_MIN_KNOWN_LEN && len <= BRIDLE__SECRETS_MAX_KNOWN_LEN)
                        (void)bridle__secrets_add_known(s, v, len, NULL);
        }
}

int bridle_trace_export_otlp(const char *run_ref, const bridle_otlp_opts *opts, bridle_error *err)
{
        if (!run_ref)
                return bridle__err(err, -EINVAL, "no run");
        static const bridle_otlp_opts none;
        if (!opts)
                opts = &none;
        bridle__journal *j = NULL;
        int r = bridle__journal_open(opts->journal_path, &j, err);
        if (r < 0)
                return r;
        char id[33];
        json_t *events = NULL;
        r = bridle__journal_events(j, run_ref, id, &events, err);
        j = bridle__journal_close(j);
        if (r < 0)
                return r;
        bridle__secrets *s = NULL;
        if ((r = bridle__secrets_new(&s, err)) == 0) {
                add_keys(s, events);
                bridle__otlp_opts o = {
                        .endpoint = opts->endpoint, .headers = opts->headers, .gzip = opts->gzip};
                r = export_events(events, opts->attr_cap, s, &o, err);
        }
        bridle__secrets_free(s);
        json_decref(events);
        return r;
}

/* A header value from the agent file, ${NAME}s filled in from the
 * environment: credentials stay out of the agent file and so out of the
 * journal (run.started records the agent as written). */
static int expand_header(const char *key, const char *in, char **ret, bridle_error *err)
{
        char what[200];
        (void)snprintf(what, sizeof(what), "trace.headers.%s", key);
        return bridle__env_expand(what, in, ret, err);
}

int bridle__trace_export_live(const json_t *cfg, bridle__journal *j, const char *run_id,
                              const bridle__secrets *secrets, enum bridle__live_mode mode,
                              int64_t *io_upto_seq, bridle_error *err)
{
        if (!json_is_object(cfg) || !j || !run_id)
                return bridle__err(err, -EINVAL, "no trace export, journal or run");
        json_t *hobj = json_object_get(cfg, "headers");
        size_t nh = json_object_size(hobj), i = 0;
        if (nh > BRIDLE__OTLP_MAX_HEADERS)
                return bridle__err(err, BRIDLE_E_LIMIT, "trace.headers: more than %d",
                                   BRIDLE__OTLP_MAX_HEADERS);
        char **lines = bridle__calloc(nh + 1, sizeof(*lines));
        if (!lines)
                return bridle__err(err, -ENOMEM, "trace export");
        int r = 0;
        const char *k;
        json_t *v;
        json_object_foreach(hobj, k, v)
        {
                char *val = NULL;
                if ((r = expand_header(k, json_string_value(v) ?: "", &val, err)) < 0)
                        break;
                int n = asprintf(&lines[i], "%s=%s", k, val);
                explicit_bzero(val, strlen(val));
                free(val);
                if (n < 0) {
                        lines[i] = NULL;
                        r = bridle__err(err, -ENOMEM, "trace export");
                        break;
                }
                i++;
        }
        json_t *events = NULL;
        char id[33];
        if (r == 0)
                r = bridle__journal_events(j, run_id, id, &events, err);
        if (r == 0) {
                bridle__otlp_opts o = {.endpoint =
                                               json_string_value(json_object_get(cfg, "endpoint")),
                                       .headers = (const char *const *)lines,
                                       .gzip = json_is_true(json_object_get(cfg, "gzip"))};
                /* While the run goes on: one quick try, the run does not wait for a
                 * collector that is down (what is not sent goes with the next export). */
                if (mode == BRIDLE__LIVE_TICK) {
                        o.max_retries = 1;
                        o.timeout_ms = 2000;
                }
                r = export_some(events, 0, secrets, &o, (int)mode, io_upto_seq, err);
        }
        json_decref(events);
        for (i = 0; lines[i]; i++) {
                explicit_bzero(lines[i], strlen(lines[i]));
                free(lines[i]);
        }
        free(lines);
        return r;
}
