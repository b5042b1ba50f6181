/* SPDX-License-Identifier: MIT */
/*
 * The built-in safe list: read-only commands allowed when no policy rule
 * matches (docs/gateway.md, "The safe list"). Each entry either takes any
 * arguments (the command has no option that writes or runs anything) or
 * checks them; a checked command with an unquoted expansion or glob among its
 * arguments is not safe (the words it would become are not known).
 */
#include <stdio.h>
#include <string.h>

#include "gateway/policy_internal.h"
#include "gateway/shell.h"
#include "util/cleanup.h"

struct args {
        const bridle__shword *w; /* the arguments after the command name */
        size_t n;
};

static bool literal(const struct args *a)
{
        for (size_t i = 0; i < a->n; i++)
                if (a->w[i].flags)
                        return false;
        return true;
}

/* Some argument starts with one of these. */
static bool any_prefix(const struct args *a, const char *const *p)
{
        for (size_t i = 0; i < a->n; i++)
                for (const char *const *q = p; *q; q++)
                        if (strncmp(a->w[i].text, *q, strlen(*q)) == 0)
                                return true;
        return false;
}

/* Some argument is an exact one of these. */
static bool any_exact(const struct args *a, const char *const *p)
{
        for (size_t i = 0; i < a->n; i++)
                for (const char *const *q = p; *q; q++)
                        if (strcmp(a->w[i].text, *q) == 0)
                                return true;
        return false;
}

/* Some short-option cluster ("-xyz", not "--") holds one of letters. */
static bool any_short(const struct args *a, const char *letters)
{
        for (size_t i = 0; i < a->n; i++) {
                const char *t = a->w[i].text;
                if (t[0] == '-' && t[1] && t[1] != '-' && strpbrk(t + 1, letters))
                        return true;
        }
        return false;
}

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

static bool check_printf(const struct args *a)
{
        return literal(a) && !any_prefix(a, L("-v"));
}

static bool check_date(const struct args *a)
{
        return literal(a) && !any_short(a, "s") && !any_prefix(a, L("--set"));
}

static bool check_sort(const struct args *a)
{
        return literal(a) && !any_short(a, "o") &&
               !any_prefix(a, L("--output", "--compress-program"));
}

static bool check_tree(const struct args *a)
{
        return literal(a) && !any_short(a, "oR") && !any_prefix(a, L("--output"));
}

static bool check_file(const struct args *a)
{
        return literal(a) && !any_short(a, "C") && !any_prefix(a, L("--compile"));
}

static bool check_rg(const struct args *a)
{
        return literal(a) && !any_short(a, "z") &&
               !any_prefix(a, L("--pre", "--search-zip", "--hostname-bin"));
}

static bool check_find(const struct args *a)
{
        return literal(a) && !any_exact(a, L("-exec", "-execdir", "-ok", "-okdir", "-delete",
                                             "-fprint", "-fprint0", "-fprintf", "-fls"));
}

static bool check_env(const struct args *a)
{
        return a->n == 0; /* with arguments env is a wrapper, unwrapped before this */
}

static bool check_command_v(const struct args *a)
{
        return literal(a) && a->n >= 1 &&
               (strcmp(a->w[0].text, "-v") == 0 || strcmp(a->w[0].text, "-V") == 0);
}

/* ---- sed -n with a script of printing commands only ----------------------------- */

static const char *sed_number(const char *s)
{
        while (*s >= '0' && *s <= '9')
                s++;
        return s;
}

/* A regex address /re/ or \cREc; NULL if malformed. */
static const char *sed_regex(const char *s)
{
        char d = '/';
        if (*s == '\\') {
                d = s[1];
                if (!d || d == '\n' || d == '\\')
                        return NULL;
                s++;
        }
        for (s++; *s && *s != d; s++)
                if (*s == '\\' && !*++s)
                        return NULL;
        if (*s != d)
                return NULL;
        s++;
        while (*s == 'I' || *s == 'M')
                s++;
        return s;
}

static const char *sed_address(const char *s)
{
        if (*s >= '0' && *s <= '9') {
                s = sed_number(s);
                if (*s == '~')
                        s = sed_number(s + 1);
                return s;
        }
        if (*s == '$')
                return s + 1;
        if (*s == '/' || *s == '\\')
                return sed_regex(s);
        return s;
}

/* One "address[,address][!]command" at s; NULL if it is not a printing one. */
static const char *sed_one(const char *s)
{
        s = sed_address(s);
        if (s && *s == ',') {
                s++;
                s = (*s == '+' || *s == '~') ? sed_number(s + 1) : sed_address(s);
        }
        if (!s)
                return NULL;
        while (*s == ' ' || *s == '!')
                s++;
        if (*s == '{' || *s == '}')
                return s;
        if (!*s || !strchr("pPl=dDnNgGhHxzqQ", *s))
                return NULL;
        char cmd = *s++;
        if (cmd == 'q' || cmd == 'Q' || cmd == 'l') {
                while (*s == ' ')
                        s++;
                s = sed_number(s);
        }
        while (*s == ' ' || *s == '\t')
                s++;
        return (*s && !strchr(";\n}", *s)) ? NULL : s;
}

/* Only addresses, blocks and commands that print or move lines around. */
static bool sed_script_ok(const char *s)
{
        for (int guard = 0; s && *s && guard < 4096; guard++)
                s = strchr(" \t\n;{}", *s) ? s + 1 : sed_one(s);
        return s && !*s;
}

struct sed_state {
        bool quiet, script;
};

/* The script in the next argument (after -e). */
static bool sed_next_script(const struct args *a, size_t *i, struct sed_state *st)
{
        if (*i + 1 >= a->n || !sed_script_ok(a->w[++*i].text))
                return false;
        st->script = true;
        return true;
}

/* A cluster of flags (-nE), maybe ending in e SCRIPT (-ne '5p'). */
static bool sed_cluster(const struct args *a, size_t *i, struct sed_state *st)
{
        const char *t = a->w[*i].text;
        size_t len = strlen(t + 1);
        bool e = t[len] == 'e';
        if (strspn(t + 1, "nErsuz") != len - (e ? 1 : 0))
                return false;
        st->quiet |= memchr(t + 1, 'n', len) != NULL;
        return !e || sed_next_script(a, i, st);
}

static bool sed_arg(const struct args *a, size_t *i, struct sed_state *st)
{
        const char *t = a->w[*i].text;
        if (strcmp(t, "-e") == 0 || strcmp(t, "--expression") == 0)
                return sed_next_script(a, i, st);
        if (strncmp(t, "--expression=", 13) == 0)
                return (st->script = sed_script_ok(t + 13));
        if (strcmp(t, "-n") == 0 || strcmp(t, "--quiet") == 0 || strcmp(t, "--silent") == 0)
                return (st->quiet = true);
        if (t[0] == '-' && t[1] && t[1] != '-')
                return sed_cluster(a, i, st);
        if (t[0] == '-' && t[1] == '-')
                return any_exact(&(struct args){&a->w[*i], 1},
                                 L("--regexp-extended", "--separate", "--unbuffered", "--null-data",
                                   "--posix", "--sandbox", "--debug"));
        if (st->script)
                return true; /* a file */
        return (st->script = sed_script_ok(t));
}

/* sed -n with printing scripts only. */
static bool check_sed(const struct args *a)
{
        if (!literal(a) || any_prefix(a, L("-i", "--in-place", "-f", "--file")))
                return false;
        struct sed_state st = {false, false};
        for (size_t i = 0; i < a->n; i++)
                if (!sed_arg(a, &i, &st))
                        return false;
        return st.quiet && st.script;
}

/* ---- git status|diff|log|show ------------------------------------------------------ */

static bool check_git(const struct args *a, char *name, size_t size)
{
        if (!literal(a))
                return false;
        size_t i = 0;
        while (i < a->n &&
               (strcmp(a->w[i].text, "--no-pager") == 0 || strcmp(a->w[i].text, "-P") == 0))
                i++;
        if (i >= a->n)
                return false;
        const char *sub = a->w[i].text;
        if (strcmp(sub, "status") != 0 && strcmp(sub, "diff") != 0 && strcmp(sub, "log") != 0 &&
            strcmp(sub, "show") != 0)
                return false;
        struct args rest = {a->w + i + 1, a->n - i - 1};
        if (any_prefix(&rest, L("--output", "--ext-diff", "--exec", "--upload-pack")))
                return false;
        (void)snprintf(name, size, "git %s", sub);
        return true;
}

/* ---- the table ----------------------------------------------------------------------- */

static const char *const any_args[] = {
        "ls",       "cat",    "head",  "tail",   "wc",       "pwd",       "echo",
        "true",     "false",  "test",  "[",      ":",        "stat",      "which",
        "type",     "du",     "df",    "cd",     "basename", "dirname",   "realpath",
        "readlink", "whoami", "id",    "uname",  "printenv", "nl",        "cut",
        "tr",       "cmp",    "diff",  "md5sum", "sha1sum",  "sha256sum", "sha512sum",
        "grep",     "egrep",  "fgrep", "column", "od",       "nproc",     "uptime",
        "free",     "ps",     "sleep", "locale", "whereis",  "jq",        NULL,
};

struct checked {
        const char *name;
        bool (*ok)(const struct args *a);
};

static const struct checked checked[] = {
        {"printf", check_printf},     {"date", check_date}, {"sort", check_sort},
        {"tree", check_tree},         {"file", check_file}, {"rg", check_rg},
        {"find", check_find},         {"sed", check_sed},   {"env", check_env},
        {"command", check_command_v},
};

bool bridle__safe_command(const bridle__shcmd *c, char *name, size_t size)
{
        if (c->start >= c->argc)
                return false;
        const bridle__shword *w = &c->argv[c->start];
        /* A path (./ls) is whatever file that is, not the safe command. */
        if (w->flags || strchr(w->text, '/'))
                return false;
        struct args a = {c->argv + c->start + 1, c->argc - c->start - 1};
        (void)snprintf(name, size, "%s", w->text);
        for (const char *const *p = any_args; *p; p++)
                if (strcmp(w->text, *p) == 0)
                        return true;
        for (size_t i = 0; i < ELEMENTSOF(checked); i++)
                if (strcmp(w->text, checked[i].name) == 0) {
                        if (!checked[i].ok(&a))
                                return false;
                        if (strcmp(w->text, "sed") == 0)
                                (void)snprintf(name, size, "sed -n");
                        return true;
                }
        if (strcmp(w->text, "git") == 0)
                return check_git(&a, name, size);
        return false;
}
