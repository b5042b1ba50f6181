/* SPDX-License-Identifier: MIT */
/*
 * An agent's instructions: its own text, then the workspace's AGENTS.md files
 * from the root down to workdir (AGENTS.override.md wins in its directory;
 * 32 KiB in all), then the skills index from .agents/skills/ * /SKILL.md.
 * Everything is read through the sandbox; a file that cannot be read or a bad
 * SKILL.md is skipped with a note in the log, never fatal. Only a dead
 * sandbox fails the call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridle/sandbox.h"
#include "tools/internal.h"
#include "util/cleanup.h"
#include "util/error.h"

#define AGENTS_MAX_BYTES  (32u << 10)
#define AGENTS_MAX_LEVELS 32
#define SKILLS_MAX        100

struct ictx {
        const char *id;
        bridle__tbuf b;
        size_t agents_used;
        bool agents_header, agents_cut;
};

/* Read a file through the sandbox: 1 read, 0 absent or unreadable (logged),
 * BRIDLE_E_SANDBOX if the sandbox is gone. */
static int read_opt(const char *id, const char *path, char **ret, size_t *ret_len,
                    bridle_error *err)
{
        bridle_error e = {0};
        int r = bridle_sandbox_read(id, path, ret, ret_len, &e);
        if (r >= 0)
                return 1;
        r = bridle__tools_sbfail(id, r, &e);
        if (r == BRIDLE_E_SANDBOX || r == -ENOMEM) {
                *err = e;
                return r;
        }
        if (r != -ENOENT && r != -ENOTDIR)
                bridle__log(4, "instructions: skipped '%s': %s", path, e.msg);
        return 0;
}

static void add_agents_file(struct ictx *c, const char *path, const char *data, size_t len)
{
        if (c->agents_cut)
                return;
        if (!c->agents_header) {
                bridle__tbuf_puts(&c->b, c->b.len ? "\n\n" : "");
                bridle__tbuf_puts(
                        &c->b, "# Instructions from AGENTS.md files (the deeper directory wins)\n");
                c->agents_header = true;
        }
        size_t room = AGENTS_MAX_BYTES - c->agents_used;
        size_t take = len;
        if (take > room) {
                take = bridle__utf8_floor(data, room);
                c->agents_cut = true;
        }
        bridle__tbuf_printf(&c->b, "\n## %s\n\n", path);
        bridle__tbuf_add(&c->b, data, take);
        c->agents_used += take;
        if (c->agents_cut)
                bridle__tbuf_printf(
                        &c->b,
                        "\n\n[AGENTS.md instructions cut here: they are limited to %u bytes]\n",
                        AGENTS_MAX_BYTES);
}

/* AGENTS.override.md, else AGENTS.md, in dir ("" is the root). */
static int agents_in(struct ictx *c, const char *dir, bridle_error *err)
{
        static const char *const names[] = {"AGENTS.override.md", "AGENTS.md"};
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                char path[4200];
                (void)snprintf(path, sizeof(path), "%s%s%s", dir, *dir ? "/" : "", names[i]);
                _cleanup_free_ char *data = NULL;
                size_t len = 0;
                int r = read_opt(c->id, path, &data, &len, err);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                _cleanup_free_ char *clean = bridle__tools_utf8(data, len, &len);
                if (!clean)
                        return bridle__err(err, -ENOMEM, "instructions");
                add_agents_file(c, path, clean, len);
                return 0;
        }
        return 0;
}

/* workdir relative to the workspace root, without '.' parts; false if it
 * leaves the workspace. */
static bool relative_workdir(const char *id, const char *workdir, char *out, size_t size)
{
        out[0] = '\0';
        if (!workdir || !*workdir)
                return true;
        const char *p = workdir;
        if (*p == '/') {
                char root[256];
                bridle__tools_sandbox_root(id, root, sizeof(root));
                size_t rl = strlen(root);
                if (strncmp(p, root, rl) != 0 || (p[rl] != '/' && p[rl] != '\0'))
                        return false;
                p += rl;
        }
        size_t l = 0;
        while (*p) {
                while (*p == '/')
                        p++;
                size_t n = strcspn(p, "/");
                if (n == 0)
                        break;
                if (n == 2 && !strncmp(p, "..", 2))
                        return false;
                if (!(n == 1 && *p == '.')) {
                        if (l + n + 2 >= size)
                                return false;
                        if (l)
                                out[l++] = '/';
                        memcpy(out + l, p, n);
                        out[l += n] = '\0';
                }
                p += n;
        }
        return true;
}

static int agents_files(struct ictx *c, const char *workdir, bridle_error *err)
{
        char rel[4096];
        if (!relative_workdir(c->id, workdir, rel, sizeof(rel))) {
                bridle__log(4,
                            "instructions: workdir '%s' is outside the workspace: only the root's "
                            "AGENTS.md",
                            workdir);
                rel[0] = '\0';
        }
        int r = agents_in(c, "", err);
        int levels = 0;
        for (char *s = rel; r >= 0 && *s && levels < AGENTS_MAX_LEVELS; levels++) {
                char *slash = strchr(s, '/');
                if (slash)
                        *slash = '\0';
                r = agents_in(c, rel, err);
                if (!slash)
                        break;
                *slash = '/';
                s = slash + 1;
        }
        return r;
}

static int skill_line(struct ictx *c, const char *dir, bool *header, bridle_error *err)
{
        char path[400];
        (void)snprintf(path, sizeof(path), ".agents/skills/%s/SKILL.md", dir);
        if (!bridle__skill_name_ok(dir)) {
                bridle__log(4, "instructions: skipped skill directory '%s': not a skill name", dir);
                return 0;
        }
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r = read_opt(c->id, path, &data, &len, err);
        if (r <= 0)
                return r;
        _cleanup_free_ char *name = NULL, *desc = NULL;
        bridle_error e = {0};
        if (bridle__skill_parse(data, len, path, &name, &desc, NULL, &e) < 0) {
                bridle__log(4, "instructions: skipped skill: %s", e.msg);
                return e.code == -ENOMEM ? bridle__err(err, -ENOMEM, "skills") : 0;
        }
        if (strcmp(name, dir) != 0) {
                bridle__log(4, "instructions: skipped skill '%s': its front matter names it '%s'",
                            dir, name);
                return 0;
        }
        if (!*header) {
                bridle__tbuf_puts(&c->b, c->b.len ? "\n\n" : "");
                bridle__tbuf_puts(
                        &c->b,
                        "## Skills\n\nSkills are instructions for particular tasks, in "
                        ".agents/skills/NAME/. When one fits the task, read it with load_skill "
                        "before you start.\n\n");
                *header = true;
        }
        bridle__tbuf_printf(&c->b, "- %s: %s\n", name, desc);
        return 0;
}

static int skills_index(struct ictx *c, bridle_error *err)
{
        bridle_dir_entry *v = NULL;
        size_t n = 0;
        bridle_error e = {0};
        int r = bridle_sandbox_list_dir(c->id, ".agents/skills", &v, &n, &e);
        if (r < 0) {
                r = bridle__tools_sbfail(c->id, r, &e);
                if (r == BRIDLE_E_SANDBOX || r == -ENOMEM) {
                        *err = e;
                        return r;
                }
                return 0;
        }
        bool header = false;
        r = 0;
        for (size_t i = 0, used = 0; i < n && r >= 0; i++) {
                if (v[i].type != 'd')
                        continue;
                if (used++ >= SKILLS_MAX) {
                        bridle__log(4, "instructions: more than %d skills: the rest are left out",
                                    SKILLS_MAX);
                        break;
                }
                r = skill_line(c, v[i].name, &header, err);
        }
        free(v);
        return r;
}

int bridle__instructions_build(const bridle__tool_env *env, const char *agent_text,
                               const char *workdir, char **ret, bridle_error *err)
{
        if (!ret)
                return bridle__err(err, -EINVAL, "instructions: no result");
        struct ictx c = {0};
        int r = bridle__tools_sandbox(env, &c.id, err);
        if (r < 0)
                return r;
        bridle__tbuf_init(&c.b, 0);
        bridle__tbuf_puts(&c.b, agent_text ? agent_text : "");
        if ((r = agents_files(&c, workdir, err)) >= 0)
                r = skills_index(&c, err);
        if (r < 0) {
                bridle__tbuf_release(&c.b);
                return r;
        }
        char *s = bridle__tbuf_take(&c.b);
        if (!s)
                return bridle__err(err, -ENOMEM, "instructions");
        *ret = s;
        return 0;
}
