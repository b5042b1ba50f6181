/* SPDX-License-Identifier: MIT */
/* A validated manifest: onto a sandbox spec, and out as canonical JSON. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest/manifest.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"


static int apply_entry(const bridle_manifest *m, const struct manifest_entry *e,
                       bridle_sandbox_spec *spec, bridle_error *err)
{
        switch (e->type) {
        case MANIFEST_FILE:
                return bridle_sandbox_spec_add_file(spec, e->path, e->content, e->content_len,
                                                    e->mode < 0 ? 0u : (unsigned)e->mode, err);
        case MANIFEST_DIR:
                return bridle_sandbox_spec_add_dir(spec, e->path, err);
        case MANIFEST_LOCAL_FILE:
                return bridle_sandbox_spec_add_copy(spec, e->path, e->source, err);
        case MANIFEST_LOCAL_DIR: {
                size_t n = strlen(m->root) + 1 + strlen(e->path) + 1;
                _cleanup_free_ char *target = bridle__malloc(n);
                if (!target)
                        return bridle__err(err, -ENOMEM, "bind target");
                (void)snprintf(target, n, "%s/%s", m->root, e->path);
                return bridle_sandbox_spec_add_bind(spec, e->source, target,
                                                    e->read_only ? BRIDLE_BIND_RO : 0, err);
        }
        }
        return bridle__err(err, -EINVAL, "unknown entry type");
}

int bridle_manifest_apply(const bridle_manifest *m, bridle_sandbox_spec *spec, bridle_error *err)
{
        if (!m || !spec)
                return bridle__err(err, -EINVAL, "bridle_manifest_apply: invalid arguments");
        int r = bridle_sandbox_spec_set_root(spec, m->root, err);
        if (r < 0)
                goto fail_root;
        for (size_t i = 0; i < m->n_entries; i++) {
                r = apply_entry(m, &m->entries[i], spec, err);
                if (r < 0) {
                        if (err)
                                (void)bridle__err_prefix(err, "%s: entries[%zu]", m->name, i);
                        return r;
                }
        }
        for (size_t i = 0; i < m->n_env; i++) {
                r = bridle_sandbox_spec_set_env(spec, m->env[i].name, m->env[i].value, err);
                if (r < 0) {
                        if (err)
                                (void)bridle__err_prefix(err, "%s: environment.%s", m->name,
                                                         m->env[i].name);
                        return r;
                }
        }
        bridle_sandbox_spec_set_limits(spec, &m->limits);
        bridle_sandbox_spec_set_net(spec, m->net);
        return 0;

fail_root:
        if (err)
                (void)bridle__err_prefix(err, "%s: root", m->name);
        return r;
}

/* ---- canonical JSON --------------------------------------------------------------- */

static json_t *entry_json(const struct manifest_entry *e)
{
        const char *type = bridle__manifest_type_name(e->type);
        char mode[16];
        switch (e->type) {
        case MANIFEST_FILE:
                if (e->mode < 0)
                        return json_pack("{s:s, s:s, s:s%}", "type", type, "path", e->path,
                                         "content", e->content, e->content_len);
                (void)snprintf(mode, sizeof(mode), "%04o", (unsigned)e->mode);
                return json_pack("{s:s, s:s, s:s%, s:s}", "type", type, "path", e->path,
                                 "content", e->content, e->content_len, "mode", mode);
        case MANIFEST_DIR:
                return json_pack("{s:s, s:s}", "type", type, "path", e->path);
        case MANIFEST_LOCAL_FILE:
                return json_pack("{s:s, s:s, s:s}", "type", type, "path", e->path, "source",
                                 e->source);
        case MANIFEST_LOCAL_DIR:
                return json_pack("{s:s, s:s, s:s, s:b}", "type", type, "path", e->path,
                                 "source", e->source, "read_only", (int)e->read_only);
        }
        return NULL;
}

static int set_u64(json_t *obj, const char *key, uint64_t v)
{
        if (!v)
                return 0;
        return json_object_set_new(obj, key, json_integer((json_int_t)v));
}

static json_t *limits_json(const bridle_limits *l)
{
        json_auto_t *o = json_object();
        if (!o)
                return NULL;
        if (l->timeout_ms) {
                /* Seconds, as written in a manifest: an integer when whole. */
                json_t *t = l->timeout_ms % 1000 ? json_real((double)l->timeout_ms / 1000.0)
                                                 : json_integer((json_int_t)(l->timeout_ms / 1000));
                if (json_object_set_new(o, "timeout", t) < 0)
                        return NULL;
        }
        if (set_u64(o, "memory", l->memory) < 0 || set_u64(o, "pids", l->pids) < 0 ||
            set_u64(o, "cpu", l->cpu_s) < 0 || set_u64(o, "disk", l->disk) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static json_t *manifest_json(const bridle_manifest *m)
{
        json_auto_t *entries = json_array();
        json_auto_t *env = json_object();
        if (!entries || !env)
                return NULL;
        for (size_t i = 0; i < m->n_entries; i++)
                if (json_array_append_new(entries, entry_json(&m->entries[i])) < 0)
                        return NULL;
        for (size_t i = 0; i < m->n_env; i++)
                if (json_object_set_new(env, m->env[i].name, json_string(m->env[i].value)) < 0)
                        return NULL;
        return json_pack("{s:i, s:s, s:O, s:O, s:o, s:s}", "version", 1, "root", m->root,
                         "entries", entries, "environment", env, "limits",
                         limits_json(&m->limits), "network",
                         m->net == BRIDLE_NET_LOOPBACK ? "loopback" : "none");
}

char *bridle_manifest_to_json(const bridle_manifest *m)
{
        if (!m)
                return NULL;
        json_auto_t *j = manifest_json(m);
        if (!j)
                return NULL;
        return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
}
