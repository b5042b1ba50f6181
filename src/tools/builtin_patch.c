/* SPDX-License-Identifier: MIT */
/* apply_patch (bridle_sandbox_patch) and skills: load_skill, and the SKILL.md
 * front matter parser the instructions' skills index uses too. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridle/sandbox.h"
#include "tools/internal.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/yaml.h"

#define SKILL_MAX_BYTES (1u << 20)
#define SKILL_DESC_MAX  1024

int bridle__tool_apply_patch(void *ud, const bridle__tool_env *env, const json_t *args,
                             char **ret_output, bridle_error *err)
{
        const char *id = NULL;
        int r = bridle__tools_sandbox(env, &id, err);
        if (r < 0)
                return r;
        const json_t *p = json_object_get(args, "patch");
        _cleanup_free_ char *summary = NULL;
        if ((r = bridle_sandbox_patch(id, json_string_value(p), json_string_length(p), &summary,
                                      err)) < 0)
                return bridle__tools_sbfail(id, r, err);
        bridle__tbuf b;
        bridle__tbuf_init(&b, 0);
        bridle__tbuf_puts(&b, "Success. Updated the following files:\n");
        bridle__tbuf_puts(&b, summary ? summary : "");
        char *s = bridle__tbuf_take(&b);
        if (!s)
                return -ENOMEM;
        *ret_output = s;
        return 0;
}

bool bridle__skill_name_ok(const char *name)
{
        size_t n = name ? strlen(name) : 0;
        if (n == 0 || n > 64)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-",
                            name[i]))
                        return false;
        return true;
}

/* The end of the line at s (its '\n' or the end), and the next line's start. */
static const char *line_end(const char *s, const char *end, const char **next)
{
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        *next = nl ? nl + 1 : end;
        const char *e = nl ? nl : end;
        if (e > s && e[-1] == '\r')
                e--;
        return e;
}

static bool is_fence(const char *s, const char *e)
{
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
        return e - s == 3 && !memcmp(s, "---", 3);
}

static int skill_fields(const json_t *root, const char *where, char **ret_name, char **ret_desc,
                        bridle_error *err)
{
        const json_t *name = json_object_get(root, "name"),
                     *desc = json_object_get(root, "description");
        if (!json_is_object(root))
                return bridle__err(err, BRIDLE_E_INVALID, "%s: the front matter is not a mapping",
                                   where);
        if (!json_is_string(name) || !json_string_length(name))
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "%s: front matter: 'name' is missing or not a string", where);
        if (!json_is_string(desc) || !json_string_length(desc))
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "%s: front matter: 'description' is missing or not a string",
                                   where);
        size_t dl = json_string_length(desc);
        _cleanup_free_ char *n = bridle__strdup(json_string_value(name));
        char *d = bridle__tools_utf8(json_string_value(desc),
                                     dl > SKILL_DESC_MAX ? SKILL_DESC_MAX : dl, NULL);
        if (!n || !d) {
                free(d);
                return bridle__err(err, -ENOMEM, "%s", where);
        }
        /* One line in the index. */
        for (char *c = d; *c; c++)
                if (*c == '\n' || *c == '\r' || *c == '\t')
                        *c = ' ';
        *ret_name = TAKE_PTR(n);
        *ret_desc = d;
        return 0;
}

int bridle__skill_parse(const char *text, size_t len, const char *where, char **ret_name,
                        char **ret_desc, const char **ret_body, bridle_error *err)
{
        const char *end = text + len, *next = NULL;
        const char *e = line_end(text, end, &next);
        if (!is_fence(text, e))
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "%s: no front matter (a first line '---')", where);
        const char *fm = next, *s = next;
        const char *fm_end = NULL;
        for (int i = 0; s < end && i < 10000; i++) {
                const char *n2 = NULL;
                e = line_end(s, end, &n2);
                if (is_fence(s, e)) {
                        fm_end = s;
                        next = n2;
                        break;
                }
                s = n2;
        }
        if (!fm_end)
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "%s: the front matter has no closing '---'", where);
        bridle__doc *doc = NULL;
        int r = bridle__doc_load(fm, (size_t)(fm_end - fm), where, &doc, err);
        if (r < 0)
                return r;
        r = skill_fields(bridle__doc_root(doc), where, ret_name, ret_desc, err);
        bridle__doc_free(doc);
        if (r < 0)
                return r;
        if (ret_body)
                *ret_body = next;
        return 0;
}

int bridle__tool_load_skill(void *ud, const bridle__tool_env *env, const json_t *args,
                            char **ret_output, bridle_error *err)
{
        const char *name = bridle__arg_str(args, "name", "");
        if (!bridle__skill_name_ok(name))
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "arguments.name: '%.64s' is not a skill name ([A-Za-z0-9_-])",
                                   name);
        const char *id = NULL;
        int r = bridle__tools_sandbox(env, &id, err);
        if (r < 0)
                return r;
        char path[128];
        (void)snprintf(path, sizeof(path), ".agents/skills/%s/SKILL.md", name);
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        if ((r = bridle_sandbox_read(id, path, &data, &len, err)) < 0) {
                r = bridle__tools_sbfail(id, r, err);
                if (r == -ENOENT)
                        return bridle__err(err, r, "no skill '%s' (no %s)", name, path);
                return r;
        }
        if (len > SKILL_MAX_BYTES)
                return bridle__err(err, BRIDLE_E_LIMIT, "%s: larger than %u bytes", path,
                                   SKILL_MAX_BYTES);
        _cleanup_free_ char *sname = NULL, *desc = NULL;
        const char *body = NULL;
        if ((r = bridle__skill_parse(data, len, path, &sname, &desc, &body, err)) < 0)
                return r;
        bridle__tbuf b;
        bridle__tbuf_init(&b, 0);
        bridle__tbuf_printf(&b, "Skill '%s' (.agents/skills/%s/): %s\n\n", name, name, desc);
        bridle__tbuf_add(&b, body, (size_t)(data + len - body));
        char *s = bridle__tbuf_take(&b);
        if (!s)
                return -ENOMEM;
        *ret_output = s;
        return 0;
}
