/* SPDX-License-Identifier: MIT */
/*
 * The splitter's second half: the lexer's words become commands; well-known
 * wrappers (env, time, nice, timeout, nohup, stdbuf, ionice, command,
 * builtin) are looked through; commands that run strings (eval, source,
 * bash -c, ...) make the whole not simple.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/shell.h"
#include "gateway/shell_internal.h"
#include "util/alloc.h"
#include "util/cleanup.h"

/* ---- words ------------------------------------------------------------------------ */

static bool is(const bridle__shword *w, const char *s)
{
        return !w->flags && strcmp(w->text, s) == 0;
}

static bool has_prefix(const bridle__shword *w, const char *p)
{
        return !w->flags && strncmp(w->text, p, strlen(p)) == 0;
}

/* A literal option word ("-x", "--xy"). */
static bool is_opt(const bridle__shword *w)
{
        return !w->flags && w->text[0] == '-' && w->text[1] != '\0';
}

static bool is_any(const bridle__shword *w, const char *const *list)
{
        for (; *list; list++)
                if (is(w, *list))
                        return true;
        return false;
}

static bool prefix_any(const bridle__shword *w, const char *const *list)
{
        for (; *list; list++)
                if (has_prefix(w, *list) && strlen(w->text) > strlen(*list))
                        return true;
        return false;
}

/* ---- wrappers ---------------------------------------------------------------------- */

/* Options of one wrapper: flags alone, options with a separate value, and
 * prefixes of options with their value attached. */
struct wrapper {
        const char *name;
        const char *const *alone;
        const char *const *with_value;
        const char *const *attached;
        bool duration; /* a duration comes before the command (timeout) */
};

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

static const struct wrapper wrappers[] = {
        {"time", L("-p"), L(NULL), L(NULL), false},
        {"nice", L(NULL), L("-n", "--adjustment"), L("--adjustment=", "-n"), false},
        {"timeout", L("--preserve-status", "--foreground", "-v", "--verbose"),
         L("-s", "--signal", "-k", "--kill-after"), L("--signal=", "--kill-after=", "-s", "-k"),
         true},
        {"nohup", L(NULL), L(NULL), L(NULL), false},
        {"env", L("-i", "--ignore-environment", "-", "-v", "--debug"),
         L("-u", "--unset", "-C", "--chdir"), L("--unset=", "--chdir=", "-u", "-C"), false},
        {"stdbuf", L(NULL), L("-i", "-o", "-e", "--input", "--output", "--error"),
         L("--input=", "--output=", "--error=", "-i", "-o", "-e"), false},
        {"ionice", L("-t", "--ignore"), L("-c", "-n", "--class", "--classdata"),
         L("--class=", "--classdata=", "-c", "-n"), false},
        {"command", L("-p"), L(NULL), L(NULL), false},
        {"builtin", L(NULL), L(NULL), L(NULL), false},
};

static bool is_duration(const bridle__shword *w)
{
        if (w->flags || !*w->text)
                return false;
        const char *s = w->text;
        size_t n = strspn(s, "0123456789.");
        return n > 0 && (s[n] == '\0' || (strchr("smhd", s[n]) && s[n + 1] == '\0'));
}

/* nice -5, nice -n10 */
static bool is_nice_number(const bridle__shword *w)
{
        return !w->flags && w->text[0] == '-' && w->text[1] &&
               strspn(w->text + 1, "0123456789") == strlen(w->text + 1);
}

static bool add_env_assign(bridle__shcmd *c, const bridle__shword *w)
{
        const char *eq = strchr(w->text, '=');
        if (!eq || eq == w->text || w->text[0] == '-')
                return false;
        for (const char *p = w->text; p < eq; p++)
                if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (p > w->text && *p >= '0' && *p <= '9')))
                        return false;
        c->assigns[c->n_assigns++] = w->text;
        return true;
}

/* Skip wrapper wr at argv[k]; returns the wrapped command's index, or 0 if the
 * wrapper cannot be looked through (then it counts as the command). */
static size_t skip_wrapper(struct sh *st, bridle__shcmd *c, const struct wrapper *wr, size_t k)
{
        size_t j = k + 1, n = c->argc;
        bool is_env = strcmp(wr->name, "env") == 0;
        while (j < n && is_opt(&c->argv[j])) {
                const bridle__shword *w = &c->argv[j];
                if (is(w, "--")) {
                        j++;
                        break;
                }
                if (is_any(w, wr->alone) || prefix_any(w, wr->attached) ||
                    (strcmp(wr->name, "nice") == 0 && is_nice_number(w)))
                        j++;
                else if (is_any(w, wr->with_value))
                        j += 2;
                else if (is_env && (has_prefix(w, "-S") || has_prefix(w, "--split-string"))) {
                        bridle__sh_flag(st, "'env -S' splits a string into a command");
                        return 0;
                } else
                        return 0;
        }
        if (wr->duration) {
                if (j >= n || !is_duration(&c->argv[j]))
                        return 0;
                j++;
        }
        while (is_env && j < n && add_env_assign(c, &c->argv[j]))
                j++;
        return j < n ? j : 0;
}

static void unwrap(struct sh *st, bridle__shcmd *c)
{
        size_t k = 0;
        for (int depth = 0; depth < BRIDLE__SHELL_MAX_WRAP && k < c->argc; depth++) {
                const struct wrapper *wr = NULL;
                for (size_t i = 0; i < ELEMENTSOF(wrappers); i++)
                        if (is(&c->argv[k], wrappers[i].name))
                                wr = &wrappers[i];
                if (!wr)
                        break;
                size_t next = skip_wrapper(st, c, wr, k);
                if (next == 0)
                        break;
                k = next;
        }
        c->start = k;
}

/* ---- commands that run strings ------------------------------------------------------ */

static const char *base_name(const char *s)
{
        const char *b = strrchr(s, '/');
        return b ? b + 1 : s;
}

static const char *const shells[] = {"bash", "sh",   "dash",  "zsh",  "ksh",  "mksh",
                                     "ash",  "fish", "rbash", "yash", "posh", NULL};
static const char *const setters[] = {"read",      "declare",  "typeset", "local",
                                      "export",    "readonly", "let",     "mapfile",
                                      "readarray", "getopts",  NULL};

static bool in_list(const char *s, const char *const *list)
{
        for (; *list; list++)
                if (strcmp(s, *list) == 0)
                        return true;
        return false;
}

/* Does an option among argv[from..] (before the first operand) contain letter? */
static bool has_short(const bridle__shcmd *c, size_t from, char letter, const char *long_opt)
{
        for (size_t j = from; j < c->argc; j++) {
                const bridle__shword *w = &c->argv[j];
                if (w->flags)
                        return true; /* could be anything */
                if (w->text[0] != '-' || w->text[1] == '\0' || strcmp(w->text, "--") == 0)
                        return false;
                if (long_opt && strcmp(w->text, long_opt) == 0)
                        return true;
                if (w->text[1] != '-' && strchr(w->text + 1, letter))
                        return true;
        }
        return false;
}

static bool any_arg(const bridle__shcmd *c, size_t from, const char *opt)
{
        for (size_t j = from; j < c->argc; j++)
                if (c->argv[j].flags || strncmp(c->argv[j].text, opt, strlen(opt)) == 0)
                        return true;
        return false;
}

static void check_command(struct sh *st, const bridle__shcmd *c)
{
        if (c->argc == 0)
                return;
        const bridle__shword *w = &c->argv[c->start];
        if (c->argv[0].flags || w->flags) {
                bridle__sh_flag(st, "expansion in the command name");
                return;
        }
        const char *name = base_name(w->text);
        size_t a = c->start + 1;
        if (in_list(name, L("eval", "source", ".", "fc")))
                bridle__sh_flag(st, "'%s' runs a string as commands", name);
        else if (strcmp(name, "exec") == 0)
                bridle__sh_flag(st, "'exec' replaces the shell");
        else if (strcmp(name, "trap") == 0)
                bridle__sh_flag(st, "'trap' sets a command to run later");
        else if (strcmp(name, "alias") == 0 || strcmp(name, "enable") == 0)
                bridle__sh_flag(st, "'%s' changes what commands mean", name);
        else if (strcmp(name, "hash") == 0 && any_arg(c, a, "-p"))
                bridle__sh_flag(st, "'hash -p' changes what commands mean");
        else if ((strcmp(name, "mapfile") == 0 || strcmp(name, "readarray") == 0) &&
                 any_arg(c, a, "-C"))
                bridle__sh_flag(st, "'%s -C' runs a callback", name);
        else if (in_list(name, shells) && has_short(c, a, 'c', "--command"))
                bridle__sh_flag(st, "'%s -c' runs a string as commands", name);
        else if (strcmp(name, "busybox") == 0 && a < c->argc &&
                 in_list(base_name(c->argv[a].text), shells) && has_short(c, a + 1, 'c', NULL))
                bridle__sh_flag(st, "'busybox sh -c' runs a string as commands");
        if (in_list(name, setters) || (strcmp(name, "printf") == 0 && any_arg(c, a, "-v")))
                st->assigns_any = true;
}

/* ---- the final arrays ------------------------------------------------------------------ */

static void free_counts(size_t **p)
{
        free(*p);
}

/* Place words into per-command argv arrays and assignment lists. */
static int build(struct sh *st, bridle__shsplit *r)
{
        size_t nc = st->ncmds;
        __attribute__((cleanup(free_counts))) size_t *cnt =
                bridle__calloc(nc + 1, sizeof(size_t) * 2);
        if (!cnt)
                return -ENOMEM;
        size_t *nargv = cnt, *nasg = cnt + nc + 1;
        for (size_t i = 0; i < st->nw; i++) {
                if (st->w[i].assign)
                        nasg[st->w[i].cmd]++;
                else
                        nargv[st->w[i].cmd]++;
        }
        r->words = bridle__calloc(st->nw + 1, sizeof(*r->words));
        r->names = bridle__calloc(st->nw + 1, sizeof(*r->names));
        r->cmds = bridle__calloc(nc + 1, sizeof(*r->cmds));
        if (!r->words || !r->names || !r->cmds)
                return -ENOMEM;
        size_t wo = 0, no = 0;
        for (size_t k = 0; k < nc; k++) {
                r->cmds[k].argv = r->words + wo;
                r->cmds[k].assigns = r->names + no;
                wo += nargv[k];
                no += nargv[k] + nasg[k]; /* room for env's NAME=x too */
        }
        for (size_t i = 0; i < st->nw; i++) {
                bridle__shcmd *c = &r->cmds[st->w[i].cmd];
                const char *text = st->arena + st->w[i].off;
                if (st->w[i].assign)
                        c->assigns[c->n_assigns++] = text;
                else
                        c->argv[c->argc++] =
                                (bridle__shword){.text = text, .flags = st->w[i].flags};
        }
        /* Drop commands with nothing in them (a lone redirection). */
        size_t n = 0;
        for (size_t k = 0; k < nc; k++)
                if (r->cmds[k].argc > 0 || r->cmds[k].n_assigns > 0)
                        r->cmds[n++] = r->cmds[k];
        r->n = n;
        return 0;
}

int bridle__sh_finish(struct sh *st, bridle__shsplit *ret)
{
        bridle__shsplit r = {.simple = st->simple};
        int k = build(st, &r);
        if (k < 0) {
                r.arena = st->arena;
                free(st->w);
                bridle__shell_free(&r);
                return k;
        }
        for (size_t i = 0; i < r.n; i++) {
                r.cmds[i].n_prefix = r.cmds[i].n_assigns;
                unwrap(st, &r.cmds[i]);
                check_command(st, &r.cmds[i]);
                if (r.cmds[i].n_assigns > 0)
                        st->assigns_any = true;
        }
        if (st->var_sensitive && st->assigns_any)
                bridle__sh_flag(st, "arithmetic or indirection on variables the command sets");
        r.simple = st->simple;
        memcpy(r.reason, st->reason, sizeof(r.reason));
        memcpy(r.writes, st->writes, sizeof(r.writes));
        r.n_writes = st->n_writes;
        r.arena = st->arena;
        r.cap_cmds = r.n;
        free(st->w);
        *ret = r;
        return 0;
}

void bridle__shell_free(bridle__shsplit *s)
{
        if (!s)
                return;
        free(s->arena);
        free(s->words);
        free(s->names);
        free(s->cmds);
        *s = (bridle__shsplit){0};
}

/* ---- describing ---------------------------------------------------------------------- */

struct sbuf {
        char *b;
        size_t n, cap;
        bool bad;
};

static void sput(struct sbuf *s, const char *p, size_t n)
{
        if (s->bad)
                return;
        if (s->n + n + 1 > s->cap) {
                size_t cap = s->cap ? s->cap : 64;
                while (cap < s->n + n + 1)
                        cap *= 2;
                char *b = bridle__realloc(s->b, cap);
                if (!b) {
                        s->bad = true;
                        return;
                }
                s->b = b;
                s->cap = cap;
        }
        memcpy(s->b + s->n, p, n);
        s->n += n;
        s->b[s->n] = '\0';
}

static void sputs(struct sbuf *s, const char *p)
{
        sput(s, p, strlen(p));
}

static void describe_word(struct sbuf *s, const bridle__shword *w)
{
        if (w->flags) {
                sputs(s, w->flags & BRIDLE__SHW_SPLITS ? "<" : "<\"");
                sputs(s, w->text);
                sputs(s, w->flags & BRIDLE__SHW_SPLITS ? ">" : "\">");
                return;
        }
        const char *t = w->text;
        if (*t && strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                            "_-./:=@%+,~^") == strlen(t)) {
                sputs(s, t);
                return;
        }
        sputs(s, "'");
        for (; *t; t++) {
                if (*t == '\'')
                        sputs(s, "'\\''");
                else
                        sput(s, t, 1);
        }
        sputs(s, "'");
}

char *bridle__shell_describe(const bridle__shsplit *sp)
{
        struct sbuf s = {0};
        sputs(&s, "");
        for (size_t i = 0; i < sp->n; i++) {
                const bridle__shcmd *c = &sp->cmds[i];
                if (i > 0)
                        sputs(&s, " ; ");
                for (size_t k = 0; k < c->n_prefix + c->argc; k++) {
                        if (k > 0)
                                sputs(&s, " ");
                        if (k < c->n_prefix)
                                describe_word(&s, &(bridle__shword){.text = c->assigns[k]});
                        else
                                describe_word(&s, &c->argv[k - c->n_prefix]);
                }
        }
        if (s.bad) {
                free(s.b);
                return NULL;
        }
        return s.b;
}

bool bridle__shell_harmless_var(const char *name)
{
        size_t n = strcspn(name, "=+");
        static const char *const known[] = {"LANG",     "LANGUAGE",       "TZ",          "NO_COLOR",
                                            "CLICOLOR", "CLICOLOR_FORCE", "FORCE_COLOR", "COLUMNS",
                                            "LINES",    "TERM",           NULL};
        for (const char *const *k = known; *k; k++)
                if (strlen(*k) == n && strncmp(name, *k, n) == 0)
                        return true;
        if (n > 3 && strncmp(name, "LC_", 3) == 0)
                return true;
        /* Lower-case names are the script's own variables, except the proxies
         * and bash's few lower-case specials. */
        bool lower = false;
        for (size_t i = 0; i < n; i++) {
                char c = name[i];
                if (c >= 'a' && c <= 'z')
                        lower = true;
                else if (!(c == '_' || (c >= '0' && c <= '9')))
                        return false;
        }
        if (!lower)
                return false;
        if (n >= 6 && strncmp(name + n - 6, "_proxy", 6) == 0)
                return false;
        return !(n == 9 && strncmp(name, "histchars", 9) == 0) &&
               !(n == 11 && strncmp(name, "auto_resume", 11) == 0);
}
