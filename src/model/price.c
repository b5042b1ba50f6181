/* SPDX-License-Identifier: MIT */
/* Prices per million tokens: a built-in table and an override file (model.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/yaml.h"

#define PRICES_MAX_SIZE ((size_t)1 << 20)

struct price {
        const char *model;
        double input, cached_input, output; /* USD per million tokens */
};

/* OpenAI's standard-tier list prices. */
static const struct price builtin[] = {
        {"gpt-5.1", 1.25, 0.125, 10.00},     {"gpt-5", 1.25, 0.125, 10.00},
        {"gpt-5-mini", 0.25, 0.025, 2.00},   {"gpt-5-nano", 0.05, 0.005, 0.40},
        {"gpt-4.1", 2.00, 0.50, 8.00},       {"gpt-4.1-mini", 0.40, 0.10, 1.60},
        {"gpt-4.1-nano", 0.10, 0.025, 0.40}, {"gpt-4o", 2.50, 1.25, 10.00},
        {"gpt-4o-mini", 0.15, 0.075, 0.60},  {"o3", 2.00, 0.50, 8.00},
        {"o4-mini", 1.10, 0.275, 4.40},
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool loaded;
static json_t *overrides; /* {MODEL: {input, cached_input, output}} */
static char overrides_path[4096]; /* the file they came from ("" when none) */

static const char *prices_path(char *buf, size_t size)
{
        const char *p = getenv("BRIDLE_PRICES");
        if (p && *p)
                return p;
        const char *home = getenv("BRIDLE_HOME");
        if (home && *home) {
                (void)snprintf(buf, size, "%s/prices.yaml", home);
                return buf;
        }
        const char *h = getenv("HOME");
        if (!h || !*h)
                return NULL;
        (void)snprintf(buf, size, "%s/.local/share/bridle/prices.yaml", h);
        return buf;
}

static bool entry_ok(const json_t *e)
{
        const json_t *c = json_object_get(e, "cached_input");
        return json_is_object(e) && json_is_number(json_object_get(e, "input")) &&
               json_is_number(json_object_get(e, "output")) && (!c || json_is_number(c));
}

static void load(void)
{
        char buf[4096];
        const char *path = prices_path(buf, sizeof(buf));
        if (!path)
                return;
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r = bridle__read_file(AT_FDCWD, path, PRICES_MAX_SIZE, &data, &len);
        if (r == -ENOENT)
                return;
        if (r < 0) {
                bridle__log(4, "prices '%s': %s", path, strerror(-r));
                return;
        }
        bridle__doc *doc = NULL;
        bridle_error e = {0};
        if (bridle__doc_load(data, len, path, &doc, &e) < 0) {
                bridle__log(4, "%s", e.msg);
                return;
        }
        json_t *root = bridle__doc_root(doc);
        const char *model;
        json_t *v;
        if (json_is_object(root)) {
                json_object_foreach(root, model, v)
                {
                        if (!entry_ok(v))
                                bridle__log(4,
                                            "%s: '%s': expected {input, cached_input, output} "
                                            "numbers; ignored",
                                            path, model);
                }
                overrides = json_incref(root);
                (void)snprintf(overrides_path, sizeof(overrides_path), "%s", path);
        } else {
                bridle__log(4, "%s: expected a mapping of model names; ignored", path);
        }
        bridle__doc_free(doc);
}

void bridle__model_prices_reload(void)
{
        (void)pthread_mutex_lock(&lock);
        json_decref(overrides);
        overrides = NULL;
        overrides_path[0] = '\0';
        loaded = false;
        (void)pthread_mutex_unlock(&lock);
}

static bool from_override(const char *model, struct price *p)
{
        const json_t *e = json_object_get(overrides, model);
        if (!entry_ok(e))
                return false;
        p->input = json_number_value(json_object_get(e, "input"));
        p->output = json_number_value(json_object_get(e, "output"));
        const json_t *c = json_object_get(e, "cached_input");
        p->cached_input = c ? json_number_value(c) : p->input;
        return true;
}

static bool lookup_exact(const char *model, struct price *p)
{
        if (from_override(model, p))
                return true;
        for (size_t i = 0; i < ELEMENTSOF(builtin); i++)
                if (strcmp(builtin[i].model, model) == 0) {
                        *p = builtin[i];
                        return true;
                }
        return false;
}

/* "gpt-4o-2024-08-06" is priced as "gpt-4o". */
static bool strip_date(const char *model, char *buf, size_t size)
{
        size_t n = strlen(model);
        static const char shape[] = "-dddd-dd-dd";
        size_t k = sizeof(shape) - 1;
        if (n <= k || n - k >= size)
                return false;
        const char *s = model + n - k;
        for (size_t i = 0; i < k; i++)
                if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
                        return false;
        memcpy(buf, model, n - k);
        buf[n - k] = '\0';
        return true;
}

double bridle__model_cost(const char *model, const bridle__model_usage *u, bool *known)
{
        struct price p;
        char base[256];
        if (known)
                *known = false;
        if (!model || !u)
                return 0;
        (void)pthread_mutex_lock(&lock);
        if (!loaded) {
                load();
                loaded = true;
        }
        bool found = lookup_exact(model, &p) ||
                     (strip_date(model, base, sizeof(base)) && lookup_exact(base, &p));
        (void)pthread_mutex_unlock(&lock);
        if (!found)
                return 0;
        if (known)
                *known = true;
        int64_t cached = u->cached_tokens < u->input_tokens ? u->cached_tokens : u->input_tokens;
        if (cached < 0)
                cached = 0;
        double cost = (double)(u->input_tokens - cached) * p.input +
                      (double)cached * p.cached_input + (double)u->output_tokens * p.output;
        return cost / 1e6;
}

static json_t *price_row(const char *model, const struct price *p, const char *source)
{
        return json_pack("{s:s, s:f, s:f, s:f, s:s}", "model", model, "input", p->input, "cached_input",
                         p->cached_input, "output", p->output, "source", source);
}

/* The built-in rows (a file's entry of the same name replaces one), then the
 * file's other entries. */
static json_t *table_rows(void)
{
        json_t *rows = json_array();
        for (size_t i = 0; rows && i < ELEMENTSOF(builtin); i++) {
                struct price p = builtin[i];
                bool file = from_override(builtin[i].model, &p);
                if (json_array_append_new(rows, price_row(builtin[i].model, &p, file ? "file" : "built-in")) < 0) {
                        json_decref(rows);
                        return NULL;
                }
        }
        const char *model;
        json_t *v;
        json_object_foreach(overrides, model, v)
        {
                struct price p;
                bool known = false;
                for (size_t i = 0; i < ELEMENTSOF(builtin); i++)
                        known |= strcmp(builtin[i].model, model) == 0;
                if (known || !rows || !from_override(model, &p))
                        continue;
                if (json_array_append_new(rows, price_row(model, &p, "file")) < 0) {
                        json_decref(rows);
                        return NULL;
                }
        }
        return rows;
}

json_t *bridle__model_prices_table(void)
{
        char buf[4096];
        (void)pthread_mutex_lock(&lock);
        if (!loaded) {
                load();
                loaded = true;
        }
        const char *looked = prices_path(buf, sizeof(buf));
        json_t *rows = table_rows();
        json_t *out = rows ? json_pack("{s:s?, s:s?, s:s, s:o}", "file", overrides_path[0] ? overrides_path : NULL,
                                       "looked_at", looked, "unit", "USD per million tokens", "models", rows)
                           : NULL;
        (void)pthread_mutex_unlock(&lock);
        return out;
}
