/* SPDX-License-Identifier: MIT */
/*
 * The shell splitter's lexer: bash's quoting, operators and expansions, enough
 * to list the simple commands a string runs and to notice everything that
 * makes the list uncertain. It never executes or expands anything. After a
 * problem it keeps going where it safely can (substitutions, subshells and
 * compound commands are parsed for the commands inside them), so a deny rule
 * still sees `rm` in `echo $(rm -rf /)`.
 */
#include "gateway/shell.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/shell_internal.h"
#include "util/alloc.h"

#define MAX_DEPTH 16

struct lex {
        struct sh *st;
        const char *s;
        size_t len, i;
        int depth;
};

/* The word being read: its own buffer, so nested substitutions can add whole
 * words to the arena meanwhile. */
struct word {
        char *buf;
        size_t n, cap;
        unsigned flags;
        bool quoted;    /* some part was quoted or escaped */
        bool bad;       /* allocation failed */
        int brace;      /* unquoted { depth */
        bool brace_sep; /* , or .. inside it */
        bool bracket;   /* unquoted [ seen */
};

static void parse_list(struct lex *lx, bool in_subst);

void bridle__sh_flag(struct sh *st, const char *fmt, ...)
{
        if (!st->simple)
                return;
        st->simple = false;
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(st->reason, sizeof(st->reason), fmt, ap);
        va_end(ap);
}

static void stop(struct sh *st)
{
        st->stop = true;
}

static bool done(const struct lex *lx)
{
        return lx->st->stop || lx->i >= lx->len;
}

static char peek(const struct lex *lx, size_t k)
{
        if (lx->i + k < lx->len)
                return lx->s[lx->i + k];
        return 0;
}

/* ---- buffers -------------------------------------------------------------------- */

static void wadd(struct word *w, char c)
{
        if (w->bad)
                return;
        if (w->n + 1 >= w->cap) {
                size_t cap = w->cap ? w->cap * 2 : 64;
                char *b = bridle__realloc(w->buf, cap);
                if (!b) {
                        w->bad = true;
                        return;
                }
                w->buf = b;
                w->cap = cap;
        }
        w->buf[w->n++] = c;
}

static void wadds(struct word *w, const char *s, size_t n)
{
        for (size_t k = 0; k < n; k++)
                wadd(w, s[k]);
}

static int arena_put(struct sh *st, const char *s, size_t n, size_t *ret_off)
{
        if (!st->arena || st->ao + n + 1 > st->acap) {
                size_t cap = st->acap ? st->acap : 256;
                while (cap < st->ao + n + 1)
                        cap *= 2;
                char *a = bridle__realloc(st->arena, cap);
                if (!a)
                        return -ENOMEM;
                st->arena = a;
                st->acap = cap;
        }
        if (n > 0)
                memcpy(st->arena + st->ao, s, n);
        st->arena[st->ao + n] = '\0';
        *ret_off = st->ao;
        st->ao += n + 1;
        return 0;
}

static void add_word(struct sh *st, const char *s, size_t n, unsigned flags, size_t cmd,
                     bool assign)
{
        if (st->stop)
                return;
        if (st->nw >= BRIDLE__SHELL_MAX_WORDS) {
                bridle__sh_flag(st, "too many words (more than %d)", BRIDLE__SHELL_MAX_WORDS);
                stop(st);
                return;
        }
        if (st->nw == st->capw) {
                size_t cap = st->capw ? st->capw * 2 : 16;
                struct wrec *w = bridle__realloc(st->w, cap * sizeof(*w));
                if (!w) {
                        st->oom = true;
                        stop(st);
                        return;
                }
                st->w = w;
                st->capw = cap;
        }
        size_t off;
        if (arena_put(st, s, n, &off) < 0) {
                st->oom = true;
                stop(st);
                return;
        }
        st->w[st->nw++] = (struct wrec){.off = off, .flags = flags, .cmd = cmd, .assign = assign};
}

/* ---- the current command ------------------------------------------------------------- */

struct cur {
        bool open;      /* has words, assignments or redirections */
        size_t id;      /* its command id, when open */
        size_t argc;    /* words that are not assignments */
        bool need;      /* an operator asked for a command that has not come */
        const char *op; /* that operator */
};

static size_t cur_id(struct lex *lx, struct cur *c)
{
        if (!c->open) {
                c->open = true;
                c->id = lx->st->ncmds++;
                c->argc = 0;
                c->need = false;
        }
        return c->id;
}

/* End the current command at operator op; needs_next: |, &&, || want another. */
static void end_cmd(struct lex *lx, struct cur *c, const char *op, bool needs_next)
{
        if (!c->open && (needs_next || strcmp(op, ";") == 0 || strcmp(op, "&") == 0))
                bridle__sh_flag(lx->st, "syntax error near '%s'", op);
        c->open = false;
        c->argc = 0;
        c->need = needs_next;
        c->op = op;
}

/* ---- expansions ------------------------------------------------------------------------- */

static void set_expansion(struct word *w, bool quoted)
{
        w->flags |= quoted ? BRIDLE__SHW_UNKNOWN : BRIDLE__SHW_SPLITS;
}

/* $( ... ): the commands inside are split as well. lx->i is at '$'. */
static void command_subst(struct lex *lx, struct word *w, bool quoted)
{
        bridle__sh_flag(lx->st, "command substitution");
        lx->i += 2;
        if (lx->depth >= MAX_DEPTH) {
                bridle__sh_flag(lx->st, "nested too deeply");
                stop(lx->st);
                return;
        }
        lx->depth++;
        parse_list(lx, true);
        lx->depth--;
        wadds(w, "$(...)", 6);
        set_expansion(w, quoted);
}

/* Backticks: the text between them (with \` \\ \$ unescaped) is split on its own. */
static void backticks(struct lex *lx, struct word *w, bool quoted)
{
        bridle__sh_flag(lx->st, "command substitution (backticks)");
        lx->i++;
        struct word inner = {0};
        bool closed = false;
        while (lx->i < lx->len) {
                char c = lx->s[lx->i++];
                if (c == '`') {
                        closed = true;
                        break;
                }
                if (c == '\\' && lx->i < lx->len && strchr("`\\$", lx->s[lx->i]))
                        c = lx->s[lx->i++];
                wadd(&inner, c);
        }
        if (!closed) {
                bridle__sh_flag(lx->st, "unbalanced backtick");
                stop(lx->st);
        } else if (inner.bad) {
                lx->st->oom = true;
                stop(lx->st);
        } else if (lx->depth < MAX_DEPTH) {
                struct lex sub = {.st = lx->st,
                                  .s = inner.buf ? inner.buf : "",
                                  .len = inner.n,
                                  .depth = lx->depth + 1};
                parse_list(&sub, false);
        }
        free(inner.buf);
        wadds(w, "`...`", 5);
        set_expansion(w, quoted);
}

/* $(( ... )): arithmetic runs no command, but names in it are evaluated
 * (their values too), and $( or ` inside it do run commands. */
static void arithmetic(struct lex *lx, struct word *w, bool quoted)
{
        size_t j = lx->i + 3;
        int depth = 0;
        for (; j < lx->len; j++) {
                char c = lx->s[j];
                if (c == '(') {
                        depth++;
                } else if (c == ')') {
                        if (depth > 0) {
                                depth--;
                                continue;
                        }
                        if (j + 1 < lx->len && lx->s[j + 1] == ')')
                                break;
                        /* "$((a) (b))" is a command substitution of a subshell. */
                        command_subst(lx, w, quoted);
                        return;
                } else if (c == '$' && j + 1 < lx->len && lx->s[j + 1] == '(') {
                        bridle__sh_flag(lx->st, "command substitution");
                } else if (c == '`') {
                        bridle__sh_flag(lx->st, "command substitution (backticks)");
                } else if (c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           c == '$') {
                        lx->st->var_sensitive = true;
                } else if (c == '\'' || c == '"' || c == ';' || c == '\\' || c == '{' || c == '}') {
                        bridle__sh_flag(lx->st, "unknown syntax in arithmetic expansion");
                }
        }
        if (j >= lx->len) {
                bridle__sh_flag(lx->st, "unbalanced '$(('");
                stop(lx->st);
                return;
        }
        wadds(w, lx->s + lx->i, j + 2 - lx->i);
        lx->i = j + 2;
        set_expansion(w, quoted);
}

/* Check the inside of ${...}. */
static void param_body(struct sh *st, const char *b, size_t n)
{
        if (n > 0 && b[0] == '!')
                st->var_sensitive = true;
        size_t name = 0;
        while (name < n &&
               (b[name] == '_' || (b[name] >= 'a' && b[name] <= 'z') ||
                (b[name] >= 'A' && b[name] <= 'Z') || (b[name] >= '0' && b[name] <= '9')))
                name++;
        if (name > 0 && name < n &&
            (b[name] == '=' || (b[name] == ':' && name + 1 < n && b[name + 1] == '=')))
                st->assigns_any = true;
        for (size_t k = 1; k < n; k++) {
                if (b[k] == '@' && b[k - 1] != '[' && !(k == 1 && b[0] == '!'))
                        bridle__sh_flag(st, "parameter transformation '${...@...}'");
                if (b[k] == '`' || (b[k] == '$' && k + 1 < n && b[k + 1] == '('))
                        bridle__sh_flag(st, "command substitution");
        }
}

/* ${ ... } with nested braces and quotes inside. */
static void braced_param(struct lex *lx, struct word *w, bool quoted)
{
        size_t j = lx->i + 2;
        int depth = 0;
        char q = 0;
        for (; j < lx->len; j++) {
                char c = lx->s[j];
                if (q) {
                        if (c == '\\' && q == '"')
                                j++;
                        else if (c == q)
                                q = 0;
                        continue;
                }
                if (c == '\\')
                        j++;
                else if (c == '\'' || c == '"')
                        q = c;
                else if (c == '{')
                        depth++;
                else if (c == '}' && depth-- == 0)
                        break;
        }
        if (j >= lx->len) {
                bridle__sh_flag(lx->st, "unbalanced '${'");
                stop(lx->st);
                return;
        }
        if (j == lx->i + 2)
                bridle__sh_flag(lx->st, "bad substitution '${}'");
        param_body(lx->st, lx->s + lx->i + 2, j - lx->i - 2);
        wadds(w, lx->s + lx->i, j + 1 - lx->i);
        lx->i = j + 1;
        set_expansion(w, quoted);
}

static bool is_name_start(char c)
{
        return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_name_char(char c)
{
        return is_name_start(c) || (c >= '0' && c <= '9');
}

/* At '$' (not $' or $"). */
static void dollar(struct lex *lx, struct word *w, bool quoted)
{
        char n1 = peek(lx, 1), n2 = peek(lx, 2);
        if (n1 == '(' && n2 == '(') {
                arithmetic(lx, w, quoted);
        } else if (n1 == '(') {
                command_subst(lx, w, quoted);
        } else if (n1 == '{') {
                braced_param(lx, w, quoted);
        } else if (n1 == '[') {
                bridle__sh_flag(lx->st, "obsolete arithmetic '$['");
                lx->i += 2;
                while (lx->i < lx->len && lx->s[lx->i] != ']')
                        lx->i++;
                if (lx->i < lx->len)
                        lx->i++;
                wadds(w, "$[...]", 6);
                set_expansion(w, quoted);
        } else if (is_name_start(n1)) {
                size_t j = lx->i + 1;
                while (j < lx->len && is_name_char(lx->s[j]))
                        j++;
                wadds(w, lx->s + lx->i, j - lx->i);
                lx->i = j;
                set_expansion(w, quoted);
        } else if ((n1 >= '0' && n1 <= '9') || (n1 && strchr("@*#?-$!", n1))) {
                wadds(w, lx->s + lx->i, 2);
                lx->i += 2;
                set_expansion(w, quoted);
        } else {
                wadd(w, '$');
                lx->i++;
        }
}

/* ---- quotes ---------------------------------------------------------------------------- */

static void single_quote(struct lex *lx, struct word *w)
{
        const char *end = memchr(lx->s + lx->i + 1, '\'', lx->len - lx->i - 1);
        if (!end) {
                bridle__sh_flag(lx->st, "unbalanced single quote");
                stop(lx->st);
                return;
        }
        size_t start = lx->i + 1;
        wadds(w, lx->s + start, (size_t)(end - lx->s) - start);
        lx->i = (size_t)(end - lx->s) + 1;
        w->quoted = true;
}

static void double_quote(struct lex *lx, struct word *w)
{
        lx->i++;
        w->quoted = true;
        while (!lx->st->stop) {
                if (lx->i >= lx->len) {
                        bridle__sh_flag(lx->st, "unbalanced double quote");
                        stop(lx->st);
                        return;
                }
                char c = lx->s[lx->i];
                if (c == '"') {
                        lx->i++;
                        return;
                }
                if (c == '\\' && lx->i + 1 < lx->len && strchr("$`\"\\\n", lx->s[lx->i + 1])) {
                        if (lx->s[lx->i + 1] != '\n')
                                wadd(w, lx->s[lx->i + 1]);
                        lx->i += 2;
                } else if (c == '$') {
                        dollar(lx, w, true);
                } else if (c == '`') {
                        backticks(lx, w, true);
                } else {
                        wadd(w, c);
                        lx->i++;
                }
        }
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

static void put_utf8(struct word *w, unsigned long cp)
{
        if (cp == 0)
                return; /* bash ends the string at a NUL; dropping it is as safe */
        if (cp < 0x80) {
                wadd(w, (char)cp);
        } else if (cp < 0x800) {
                wadd(w, (char)(0xC0 | (cp >> 6)));
                wadd(w, (char)(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
                wadd(w, (char)(0xE0 | (cp >> 12)));
                wadd(w, (char)(0x80 | ((cp >> 6) & 0x3F)));
                wadd(w, (char)(0x80 | (cp & 0x3F)));
        } else if (cp < 0x110000) {
                wadd(w, (char)(0xF0 | (cp >> 18)));
                wadd(w, (char)(0x80 | ((cp >> 12) & 0x3F)));
                wadd(w, (char)(0x80 | ((cp >> 6) & 0x3F)));
                wadd(w, (char)(0x80 | (cp & 0x3F)));
        }
}

/* Up to max digits of base (8 or 16) at s[*j]. */
static unsigned long digits(const struct lex *lx, size_t *j, int base, int max)
{
        unsigned long v = 0;
        for (int k = 0; k < max && *j < lx->len; k++) {
                int d = hexval(lx->s[*j]);
                if (d < 0 || d >= base)
                        break;
                v = v * (unsigned long)base + (unsigned long)d;
                (*j)++;
        }
        return v;
}

static const char ansi_from[] = "abeEfnrtv\\'\"?";
static const char ansi_to[] = "\a\b\033\033\f\n\r\t\v\\'\"?";

/* One escape of $'...' at s[j] (after the backslash); returns the next index. */
static size_t ansi_escape(const struct lex *lx, struct word *w, size_t j)
{
        char c = lx->s[j];
        const char *p = strchr(ansi_from, c);
        if (c && p) {
                wadd(w, ansi_to[p - ansi_from]);
                return j + 1;
        }
        size_t k = j + 1;
        if (c >= '0' && c <= '7') {
                k = j;
                put_utf8(w, digits(lx, &k, 8, 3) & 0xFF);
        } else if (c == 'x') {
                size_t k0 = k;
                unsigned long v = digits(lx, &k, 16, 2);
                if (k == k0)
                        wadds(w, "\\x", 2);
                else if (v)
                        wadd(w, (char)v);
        } else if (c == 'u' || c == 'U') {
                size_t k0 = k;
                unsigned long v = digits(lx, &k, 16, c == 'u' ? 4 : 8);
                if (k == k0) {
                        wadd(w, '\\');
                        wadd(w, c);
                } else {
                        put_utf8(w, v);
                }
        } else if (c == 'c' && k < lx->len) {
                put_utf8(w, (unsigned long)(lx->s[k] & 0x1F));
                k++;
        } else {
                wadd(w, '\\');
                wadd(w, c);
        }
        return k;
}

static void ansi_quote(struct lex *lx, struct word *w)
{
        size_t j = lx->i + 2;
        w->quoted = true;
        while (j < lx->len && lx->s[j] != '\'') {
                if (lx->s[j] == '\\' && j + 1 < lx->len) {
                        j = ansi_escape(lx, w, j + 1);
                } else {
                        wadd(w, lx->s[j]);
                        j++;
                }
        }
        if (j >= lx->len) {
                bridle__sh_flag(lx->st, "unbalanced $'...' quote");
                stop(lx->st);
                return;
        }
        lx->i = j + 1;
}

/* ---- words ------------------------------------------------------------------------------- */

static bool is_meta(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' || c == '|' || c == '<' ||
               c == '>' || c == '(' || c == ')';
}

/* Unquoted characters that are not quoting or expansions. */
static void plain_char(struct lex *lx, struct word *w, char c)
{
        if (c == '*' || c == '?' || (c == ']' && w->bracket))
                w->flags |= BRIDLE__SHW_SPLITS;
        else if (c == '[')
                w->bracket = true;
        else if (c == '{')
                w->brace++;
        else if (w->brace > 0 && (c == ',' || (c == '.' && peek(lx, 1) == '.')))
                w->brace_sep = true;
        else if (c == '}' && w->brace > 0) {
                if (w->brace_sep)
                        bridle__sh_flag(lx->st, "brace expansion");
                w->brace--;
        }
        wadd(w, c);
        lx->i++;
}

/* Read one word at lx->i (not at a metacharacter). */
static void read_word(struct lex *lx, struct word *w)
{
        while (!done(lx)) {
                char c = lx->s[lx->i];
                if (is_meta(c))
                        return;
                if (c == '\\') {
                        if (lx->i + 1 >= lx->len) {
                                wadd(w, '\\');
                                lx->i++;
                        } else {
                                if (lx->s[lx->i + 1] != '\n')
                                        wadd(w, lx->s[lx->i + 1]);
                                w->quoted = true;
                                lx->i += 2;
                        }
                } else if (c == '\'') {
                        single_quote(lx, w);
                } else if (c == '"' || (c == '$' && peek(lx, 1) == '"')) {
                        lx->i += c == '$';
                        double_quote(lx, w);
                } else if (c == '$' && peek(lx, 1) == '\'') {
                        ansi_quote(lx, w);
                } else if (c == '$') {
                        dollar(lx, w, false);
                } else if (c == '`') {
                        backticks(lx, w, false);
                } else {
                        plain_char(lx, w, c);
                }
        }
}

/* Length of NAME at s (0 if it is not a name). */
static size_t name_len(const char *s, size_t n)
{
        if (n == 0 || !is_name_start(s[0]))
                return 0;
        size_t k = 1;
        while (k < n && is_name_char(s[k]))
                k++;
        return k;
}

/* Is the word at lx->i an assignment (NAME= or NAME+=)? Array assignments
 * (NAME[...]=, NAME=(...)) are flagged. */
static bool at_assignment(struct lex *lx)
{
        const char *s = lx->s + lx->i;
        size_t n = lx->len - lx->i, k = name_len(s, n);
        if (k == 0 || k >= n)
                return false;
        if (s[k] == '[') {
                for (size_t j = k; j + 1 < n && !is_meta(s[j]); j++)
                        if (s[j] == ']' && (s[j + 1] == '=' || s[j + 1] == '+')) {
                                bridle__sh_flag(lx->st, "array assignment");
                                return true;
                        }
                return false;
        }
        size_t eq = s[k] == '+' ? k + 1 : k;
        if (eq >= n || s[eq] != '=')
                return false;
        if (eq + 1 < n && s[eq + 1] == '(')
                bridle__sh_flag(lx->st, "array assignment");
        return true;
}

static const char *const reserved[] = {
        "if",    "then", "else",   "elif",     "fi",     "do", "done", "case", "esac", "while",
        "until", "for",  "select", "function", "coproc", "[[", "]]",   "in",   NULL};

static bool is_reserved(const char *s)
{
        for (const char *const *r = reserved; *r; r++)
                if (strcmp(s, *r) == 0)
                        return true;
        return false;
}

/* A word at command position that is a keyword; returns true if consumed. */
static bool keyword(struct lex *lx, struct cur *c, const struct word *w)
{
        if (w->quoted || w->flags || c->argc > 0)
                return false;
        if (strcmp(w->buf, "!") == 0)
                return true; /* negation: the pipeline after it is what runs */
        if (strcmp(w->buf, "{") == 0 || strcmp(w->buf, "}") == 0) {
                bridle__sh_flag(lx->st, "brace group '{ ... }'");
                return true;
        }
        if (is_reserved(w->buf)) {
                bridle__sh_flag(lx->st, "compound command '%s'", w->buf);
                return true;
        }
        return false;
}

static void word_token(struct lex *lx, struct cur *c)
{
        bool assign = c->argc == 0 && at_assignment(lx);
        struct word w = {0};
        read_word(lx, &w);
        wadd(&w, '\0');
        if (w.bad) {
                lx->st->oom = true;
                stop(lx->st);
        } else if (!lx->st->stop && !keyword(lx, c, &w)) {
                size_t id = cur_id(lx, c);
                add_word(lx->st, w.buf, w.n - 1, w.flags, id, assign);
                if (assign)
                        lx->st->assigns_any = true;
                else
                        c->argc++;
        }
        free(w.buf);
}

/* ---- redirections ------------------------------------------------------------------------- */

/* The word after a redirection operator; false if there is none. */
static bool redir_target(struct lex *lx, struct word *w)
{
        while (lx->i < lx->len && (lx->s[lx->i] == ' ' || lx->s[lx->i] == '\t'))
                lx->i++;
        if (done(lx) || is_meta(lx->s[lx->i])) {
                bridle__sh_flag(lx->st, "redirection without a target");
                return false;
        }
        read_word(lx, w);
        wadd(w, '\0');
        if (w->bad) {
                lx->st->oom = true;
                stop(lx->st);
                return false;
        }
        return !lx->st->stop;
}

static bool is_fd(const char *s)
{
        if (strcmp(s, "-") == 0)
                return true;
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

/* A file written by a redirection: recorded for the caller to judge (a
 * protected path forces ask); an expanded or unrecordable name is not simple. */
static void record_write(struct lex *lx, const struct word *t)
{
        struct sh *st = lx->st;
        if (st->n_writes >= BRIDLE__SHELL_MAX_WRITES || strlen(t->buf) >= sizeof(st->writes[0]))
                bridle__sh_flag(st, "redirection to a file '%.60s' (too many or too long to check)", t->buf);
        else
                memcpy(st->writes[st->n_writes++], t->buf, strlen(t->buf) + 1);
}

/* Output to target: the null device and the standard streams are fine; a file
 * is recorded; an expanded name is not simple. */
static void output_to(struct lex *lx, const struct word *t)
{
        if (t->flags)
                bridle__sh_flag(lx->st, "redirection to an expanded name '%.60s'", t->buf);
        else if (strcmp(t->buf, "/dev/null") != 0 && strcmp(t->buf, "/dev/stdout") != 0 &&
                 strcmp(t->buf, "/dev/stderr") != 0)
                record_write(lx, t);
}

static void input_from(struct lex *lx, const struct word *t)
{
        if (strncmp(t->buf, "/dev/tcp/", 9) == 0 || strncmp(t->buf, "/dev/udp/", 9) == 0)
                bridle__sh_flag(lx->st, "redirection from a network path '%.60s'", t->buf);
}

/* <<<, <<, <( and >( at lx->i; true if it was one of them. */
static bool special_redirection(struct lex *lx)
{
        const char *s = lx->s + lx->i;
        size_t n = lx->len - lx->i;
        if (n >= 3 && strncmp(s, "<<<", 3) == 0) {
                bridle__sh_flag(lx->st, "here-string '<<<'");
                lx->i += 3; /* its word is read as a target below */
                return false;
        }
        if (n >= 2 && strncmp(s, "<<", 2) == 0) {
                bridle__sh_flag(lx->st, "here-document '<<'");
                stop(lx->st);
                return true;
        }
        if (n < 2 || s[1] != '(')
                return false;
        bridle__sh_flag(lx->st, "process substitution '%c(...)'", s[0]);
        lx->i += 2;
        if (lx->depth >= MAX_DEPTH) {
                stop(lx->st);
                return true;
        }
        lx->depth++;
        parse_list(lx, true);
        lx->depth--;
        return true;
}

enum redir_kind { R_IN, R_OUT, R_DUP_IN, R_DUP_OUT, R_RW };

static void check_target(struct lex *lx, enum redir_kind k, const struct word *t)
{
        bool fd = !t->flags && is_fd(t->buf);
        switch (k) {
        case R_DUP_IN:
                if (!fd)
                        bridle__sh_flag(lx->st, "input duplication from '%.60s'", t->buf);
                break;
        case R_DUP_OUT:
                if (!fd)
                        output_to(lx, t);
                break;
        case R_RW:
                if (t->flags)
                        bridle__sh_flag(lx->st, "redirection to an expanded name '%.60s'", t->buf);
                else
                        record_write(lx, t);
                break;
        case R_OUT:
                output_to(lx, t);
                break;
        case R_IN:
                input_from(lx, t);
                break;
        }
}

/* lx->i is at the operator; both is &> or &>> (already consumed). */
static void redirection(struct lex *lx, struct cur *c, bool both)
{
        (void)cur_id(lx, c);
        enum redir_kind k = R_OUT;
        if (!both) {
                bool in_here = lx->i + 2 < lx->len && strncmp(lx->s + lx->i, "<<<", 3) == 0;
                if (special_redirection(lx))
                        return;
                char op0 = '<';
                if (!in_here)
                        op0 = lx->s[lx->i++];
                char n1 = peek(lx, 0);
                k = op0 == '>' ? R_OUT : R_IN;
                if (in_here)
                        k = R_IN;
                else if (op0 == '>' && (n1 == '>' || n1 == '|'))
                        lx->i++;
                else if (n1 == '&')
                        k = (lx->i++, op0 == '>' ? R_DUP_OUT : R_DUP_IN);
                else if (op0 == '<' && n1 == '>')
                        k = (lx->i++, R_RW);
        }
        struct word t = {0};
        if (redir_target(lx, &t))
                check_target(lx, k, &t);
        free(t.buf);
}

/* ---- the list of commands ----------------------------------------------------------------- */

static void open_paren(struct lex *lx, struct cur *c, int *parens)
{
        if (c->open && c->argc == 1)
                bridle__sh_flag(lx->st, "function definition");
        else if (c->open)
                bridle__sh_flag(lx->st, "unexpected '('");
        else
                bridle__sh_flag(lx->st, "subshell '( ... )'");
        c->open = false;
        c->argc = 0;
        (*parens)++;
        lx->i++;
}

/* ')' that does not close a substitution. */
static void close_paren(struct lex *lx, struct cur *c, int *parens)
{
        if (*parens == 0)
                bridle__sh_flag(lx->st, "unexpected ')'");
        else
                (*parens)--;
        c->open = false;
        c->argc = 0;
        lx->i++;
}

static void ampersand(struct lex *lx, struct cur *c, char n1)
{
        if (n1 == '>') {
                lx->i += peek(lx, 2) == '>' ? 3 : 2;
                redirection(lx, c, true);
        } else if (n1 == '&') {
                end_cmd(lx, c, "&&", true);
                lx->i += 2;
        } else {
                end_cmd(lx, c, "&", false);
                lx->i++;
        }
}

/* Operators; returns true if one was consumed. */
static bool operator(struct lex *lx, struct cur *c, int *parens, bool in_subst)
{
        char ch = lx->s[lx->i], n1 = peek(lx, 1);
        bool two = n1 == ';' || n1 == '&';
        switch (ch) {
        case '\n':
                if (c->open)
                        end_cmd(lx, c, ";", false);
                lx->i++;
                return true;
        case ';':
                if (two)
                        bridle__sh_flag(lx->st, "case syntax ';%c'", n1);
                end_cmd(lx, c, ";", false);
                lx->i += two ? 2 : 1;
                return true;
        case '&':
                ampersand(lx, c, n1);
                return true;
        case '|':
                end_cmd(lx, c, n1 == '|' ? "||" : "|", true);
                lx->i += (n1 == '|' || n1 == '&') ? 2 : 1;
                return true;
        case '(':
                open_paren(lx, c, parens);
                return true;
        case ')':
                if (*parens == 0 && in_subst)
                        return false;
                close_paren(lx, c, parens);
                return true;
        case '<':
        case '>':
                redirection(lx, c, false);
                return true;
        default:
                return false;
        }
}

/* An IO number: digits right before < or >. */
static bool io_number(const struct lex *lx)
{
        size_t j = lx->i;
        while (j < lx->len && lx->s[j] >= '0' && lx->s[j] <= '9')
                j++;
        return j > lx->i && j < lx->len && (lx->s[j] == '<' || lx->s[j] == '>');
}

/* Commands until the end (or, in a substitution, its closing ')'). */
/* Blanks, line continuations and comments; true if something was skipped. */
static bool skip_blank(struct lex *lx)
{
        char ch = lx->s[lx->i];
        if (ch == ' ' || ch == '\t') {
                lx->i++;
        } else if (ch == '\\' && peek(lx, 1) == '\n') {
                lx->i += 2;
        } else if (ch == '#') {
                while (lx->i < lx->len && lx->s[lx->i] != '\n')
                        lx->i++;
        } else {
                return false;
        }
        return true;
}

static void end_list(struct lex *lx, const struct cur *c, int parens, bool in_subst)
{
        if (lx->st->stop)
                return;
        if (in_subst) {
                bridle__sh_flag(lx->st, "unbalanced '('");
                stop(lx->st);
        } else if (c->need) {
                bridle__sh_flag(lx->st, "missing command after '%s'", c->op);
        } else if (parens > 0) {
                bridle__sh_flag(lx->st, "unbalanced '('");
        }
}

static void parse_list(struct lex *lx, bool in_subst)
{
        struct cur c = {0};
        int parens = 0;
        while (!done(lx)) {
                if (skip_blank(lx))
                        continue;
                if (lx->s[lx->i] == ')' && in_subst && parens == 0) {
                        lx->i++;
                        if (c.need)
                                bridle__sh_flag(lx->st, "missing command after '%s'", c.op);
                        return;
                }
                if (io_number(lx)) {
                        while (lx->s[lx->i] >= '0' && lx->s[lx->i] <= '9')
                                lx->i++;
                        redirection(lx, &c, false);
                } else if (!operator(lx, &c, &parens, in_subst)) {
                        word_token(lx, &c);
                }
        }
        end_list(lx, &c, parens, in_subst);
}

/* ---- entry point ------------------------------------------------------------------------ */

int bridle__shell_split(const char *cmd, bridle__shsplit *ret)
{
        struct sh st = {.simple = true};
        size_t len = cmd ? strlen(cmd) : 0;
        if (len > BRIDLE__SHELL_MAX_LEN) {
                bridle__sh_flag(&st, "too long (more than %zu bytes)", BRIDLE__SHELL_MAX_LEN);
        } else {
                struct lex lx = {.st = &st, .s = cmd ? cmd : "", .len = len};
                parse_list(&lx, false);
        }
        if (st.oom) {
                free(st.arena);
                free(st.w);
                return -ENOMEM;
        }
        return bridle__sh_finish(&st, ret);
}
