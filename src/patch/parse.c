/* SPDX-License-Identifier: MIT */
/* apply_patch grammar: markers, operations, chunks. Lenient where Codex is lenient. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "patch/patch.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"

#define M_BEGIN  "*** Begin Patch"
#define M_END    "*** End Patch"
#define M_ADD    "*** Add File: "
#define M_DELETE "*** Delete File: "
#define M_UPDATE "*** Update File: "
#define M_MOVE   "*** Move to: "
#define M_EOF    "*** End of File"

/* "patch line N: ..." (fmt is always a literal). */
#define perr(err, code, lineno, fmt, ...)                                                          \
        bridle__err(err, code, "patch line %u: " fmt, lineno, ##__VA_ARGS__)

static struct bridle__span span_of(const struct bridle__pline *l)
{
        return (struct bridle__span){l->s, l->len};
}

static struct bridle__span tline(const struct bridle__pline *l)
{
        return bridle__patch_trim(span_of(l));
}

static bool blank(const struct bridle__pline *l)
{
        return tline(l).len == 0;
}

/* Text after prefix on the trimmed line, or NULL. */
static const char *after(const struct bridle__pline *l, const char *prefix, size_t *ret_len)
{
        struct bridle__span t = tline(l);
        size_t pl = strlen(prefix);
        if (t.len < pl || memcmp(t.s, prefix, pl) != 0)
                return NULL;
        *ret_len = t.len - pl;
        return t.s + pl;
}

/* Copy the text and cut it into lines (CR before LF dropped, NUL-terminated). */
static int split_lines(bridle_patch *p, const char *text, size_t len)
{
        p->text = bridle__malloc(len + 1);
        if (!p->text)
                return -ENOMEM;
        memcpy(p->text, text, len);
        p->text[len] = '\0';
        size_t n = 1;
        for (size_t i = 0; i < len; i++)
                n += p->text[i] == '\n';
        p->lines = bridle__calloc(n, sizeof(*p->lines));
        if (!p->lines)
                return -ENOMEM;
        size_t pos = 0;
        for (size_t i = 0; i < n; i++) {
                char *s = p->text + pos;
                char *nl = memchr(s, '\n', len - pos);
                size_t l = nl ? (size_t)(nl - s) : len - pos;
                pos += l + 1;
                s[l] = '\0';
                if (l > 0 && s[l - 1] == '\r')
                        s[--l] = '\0';
                p->lines[i] = (struct bridle__pline){s, l, (unsigned)(i + 1)};
        }
        p->nlines = n;
        return 0;
}

/* Find the body between the markers; a heredoc wrapper (<<EOF ... EOF) is peeled off once. */
static int find_body(const bridle_patch *p, size_t lo, size_t hi, bool heredoc, size_t *ret_lo,
                     size_t *ret_hi, bridle_error *err)
{
        while (lo < hi && blank(&p->lines[lo]))
                lo++;
        while (hi > lo && blank(&p->lines[hi - 1]))
                hi--;
        if (lo == hi)
                return perr(err, BRIDLE_E_INVALID, 1, "the patch is empty (no '" M_BEGIN "' line)");
        struct bridle__span first = tline(&p->lines[lo]), last = tline(&p->lines[hi - 1]);
        bool begin = bridle__patch_span_eq(first, M_BEGIN);
        if (begin && hi - lo >= 2 && bridle__patch_span_eq(last, M_END)) {
                *ret_lo = lo + 1;
                *ret_hi = hi - 1;
                return 0;
        }
        if (heredoc && hi - lo >= 4 &&
            (bridle__patch_span_eq(first, "<<EOF") || bridle__patch_span_eq(first, "<<'EOF'") ||
             bridle__patch_span_eq(first, "<<\"EOF\"")) &&
            last.len >= 3 && memcmp(last.s + last.len - 3, "EOF", 3) == 0)
                return find_body(p, lo + 1, hi - 1, false, ret_lo, ret_hi, err);
        if (!begin)
                return perr(err, BRIDLE_E_INVALID, p->lines[lo].lineno,
                            "the first line of the patch must be '" M_BEGIN "'");
        return perr(err, BRIDLE_E_INVALID, p->lines[hi - 1].lineno,
                    "the last line of the patch must be '" M_END "'");
}

static int set_path(char **dst, const char *s, size_t len, unsigned lineno, bridle_error *err)
{
        if (len > BRIDLE__PATCH_MAX_PATH)
                return perr(err, BRIDLE_E_LIMIT, lineno, "path is longer than %u bytes",
                            BRIDLE__PATCH_MAX_PATH);
        _cleanup_free_ char *path = bridle__strndup(s, len);
        if (!path)
                return bridle__err(err, -ENOMEM, "patch");
        const char *why = bridle__patch_path_check(path);
        if (why)
                return perr(err, BRIDLE_E_INVALID, lineno, "path '%s' %s", path, why);
        *dst = TAKE_PTR(path);
        return 0;
}

/* The chunk's first line: "@@", "@@ context", or (first chunk only) a diff line. */
static int chunk_header(const bridle_patch *p, const struct bridle__pop *op, size_t i,
                        struct bridle__pchunk *c, size_t *ret_body, bridle_error *err)
{
        const struct bridle__pline *l = &p->lines[i];
        struct bridle__span t = tline(l);
        if (bridle__patch_span_eq(t, "@@")) {
                *ret_body = i + 1;
                return 0;
        }
        if (t.len >= 3 && memcmp(t.s, "@@ ", 3) == 0) {
                c->has_ctx = true;
                c->ctx = (struct bridle__span){t.s + 3, t.len - 3};
                *ret_body = i + 1;
                return 0;
        }
        if (op->nchunks > 0)
                return perr(err, BRIDLE_E_INVALID, l->lineno,
                            "update of '%s': expected a '@@' line, got '%.80s'", op->path, l->s);
        *ret_body = i;
        return 0;
}

static bool diff_line(const struct bridle__pline *l)
{
        return l->len == 0 || l->s[0] == ' ' || l->s[0] == '+' || l->s[0] == '-';
}

static int parse_chunk(const bridle_patch *p, const struct bridle__pop *op, size_t i, size_t e,
                       struct bridle__pchunk *c, size_t *ret_next, bridle_error *err)
{
        size_t j = i;
        *c = (struct bridle__pchunk){.lineno = p->lines[i].lineno};
        int r = chunk_header(p, op, i, c, &j, err);
        if (r < 0)
                return r;
        c->first = j;
        for (; j < e; j++) {
                const struct bridle__pline *l = &p->lines[j];
                if (bridle__patch_span_eq(tline(l), M_EOF) && l->s[0] != ' ' && l->s[0] != '+' &&
                    l->s[0] != '-') {
                        c->end = j;
                        c->eof = true;
                        j++;
                        break;
                }
                if (!diff_line(l))
                        break;
        }
        if (!c->eof)
                c->end = j;
        if (c->end == c->first) {
                unsigned ln = j < e ? p->lines[j].lineno : p->lines[i].lineno;
                if (j < e && !c->eof)
                        return perr(err, BRIDLE_E_INVALID, ln,
                                    "update of '%s': unexpected line '%.80s' (each line of a "
                                    "chunk starts with ' ', '-' or '+')",
                                    op->path, p->lines[j].s);
                return perr(err, BRIDLE_E_INVALID, ln, "update of '%s': a chunk with no lines",
                            op->path);
        }
        *ret_next = j;
        return 0;
}

static int push_chunk(struct bridle__pop *op, const struct bridle__pchunk *c, size_t *cap)
{
        if (op->nchunks == *cap) {
                size_t ncap = *cap ? *cap * 2 : 4;
                struct bridle__pchunk *n = bridle__realloc(op->chunks, ncap * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                op->chunks = n;
                *cap = ncap;
        }
        op->chunks[op->nchunks++] = *c;
        return 0;
}

static int parse_update(const bridle_patch *p, struct bridle__pop *op, size_t i, size_t e,
                        size_t *ret_next, bridle_error *err)
{
        size_t ml, cap = 0;
        const char *mv = i < e ? after(&p->lines[i], M_MOVE, &ml) : NULL;
        if (mv) {
                int r = set_path(&op->move_to, mv, ml, p->lines[i].lineno, err);
                if (r < 0)
                        return r;
                i++;
        }
        while (i < e) {
                struct bridle__span t = tline(&p->lines[i]);
                if (t.len == 0) {
                        i++;
                        continue;
                }
                if (t.len >= 3 && memcmp(t.s, "***", 3) == 0)
                        break;
                struct bridle__pchunk c;
                int r = parse_chunk(p, op, i, e, &c, &i, err);
                if (r < 0)
                        return r;
                if (push_chunk(op, &c, &cap) < 0)
                        return bridle__err(err, -ENOMEM, "patch");
        }
        if (op->nchunks == 0)
                return perr(err, BRIDLE_E_INVALID, op->lineno, "update of '%s' has no changes",
                            op->path);
        *ret_next = i;
        return 0;
}

static int parse_op(const bridle_patch *p, struct bridle__pop *op, size_t i, size_t e,
                    size_t *ret_next, bridle_error *err)
{
        const struct bridle__pline *l = &p->lines[i];
        size_t len;
        const char *path;
        int r;
        op->lineno = l->lineno;
        if ((path = after(l, M_ADD, &len))) {
                op->kind = BRIDLE_PATCH_ADD;
                if ((r = set_path(&op->path, path, len, l->lineno, err)) < 0)
                        return r;
                size_t j = i + 1;
                while (j < e && p->lines[j].s[0] == '+')
                        j++;
                op->first = i + 1;
                op->end = j;
                *ret_next = j;
                return 0;
        }
        if ((path = after(l, M_DELETE, &len))) {
                op->kind = BRIDLE_PATCH_DELETE;
                *ret_next = i + 1;
                return set_path(&op->path, path, len, l->lineno, err);
        }
        if ((path = after(l, M_UPDATE, &len))) {
                op->kind = BRIDLE_PATCH_UPDATE;
                if ((r = set_path(&op->path, path, len, l->lineno, err)) < 0)
                        return r;
                return parse_update(p, op, i + 1, e, ret_next, err);
        }
        return perr(err, BRIDLE_E_INVALID, l->lineno,
                    "'%.80s' is not a valid operation (expected '" M_ADD "PATH', '" M_DELETE
                    "PATH' or '" M_UPDATE "PATH')",
                    tline(l).s);
}

static int parse_ops(bridle_patch *p, size_t lo, size_t hi, bridle_error *err)
{
        size_t cap = 0;
        for (size_t i = lo; i < hi;) {
                if (p->nops == BRIDLE_PATCH_MAX_OPS)
                        return perr(err, BRIDLE_E_LIMIT, p->lines[i].lineno,
                                    "more than %u operations", BRIDLE_PATCH_MAX_OPS);
                if (p->nops == cap) {
                        size_t ncap = cap ? cap * 2 : 8;
                        struct bridle__pop *n = bridle__realloc(p->ops, ncap * sizeof(*n));
                        if (!n)
                                return bridle__err(err, -ENOMEM, "patch");
                        p->ops = n;
                        cap = ncap;
                }
                struct bridle__pop *op = &p->ops[p->nops++];
                *op = (struct bridle__pop){0};
                int r = parse_op(p, op, i, hi, &i, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int bridle_patch_parse(const char *text, size_t len, bridle_patch **ret, bridle_error *err)
{
        if ((!text && len > 0) || !ret)
                return bridle__err(err, -EINVAL, "patch: invalid argument");
        if (len > BRIDLE_PATCH_MAX_TEXT)
                return bridle__err(err, BRIDLE_E_LIMIT, "patch: the text is larger than %zu MiB",
                                   BRIDLE_PATCH_MAX_TEXT >> 20);
        if (len > 0 && memchr(text, '\0', len))
                return bridle__err(err, BRIDLE_E_INVALID, "patch: the text contains a NUL byte");
        _cleanup_(bridle__patch_freep) bridle_patch *p = bridle__calloc(1, sizeof(*p));
        if (!p || split_lines(p, text ? text : "", len) < 0)
                return bridle__err(err, -ENOMEM, "patch");
        size_t lo = 0, hi = 0;
        int r = find_body(p, 0, p->nlines, true, &lo, &hi, err);
        if (r < 0)
                return r;
        r = parse_ops(p, lo, hi, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

bridle_patch *bridle_patch_free(bridle_patch *p)
{
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->nops; i++) {
                free(p->ops[i].path);
                free(p->ops[i].move_to);
                free(p->ops[i].chunks);
        }
        free(p->ops);
        free(p->lines);
        free(p->text);
        free(p);
        return NULL;
}

void bridle__patch_freep(bridle_patch **p)
{
        *p = bridle_patch_free(*p);
}

size_t bridle_patch_count(const bridle_patch *p)
{
        return p ? p->nops : 0;
}

int bridle_patch_op(const bridle_patch *p, size_t i, enum bridle_patch_kind *ret_kind,
                    const char **ret_path, const char **ret_move_to)
{
        if (!p || i >= p->nops)
                return -EINVAL;
        if (ret_kind)
                *ret_kind = p->ops[i].kind;
        if (ret_path)
                *ret_path = p->ops[i].path;
        if (ret_move_to)
                *ret_move_to = p->ops[i].move_to;
        return 0;
}
