/* SPDX-License-Identifier: MIT */
/* Applying a parsed patch: operations in order, each file read, changed and written in place. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patch/patch.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"

struct repl {
        size_t start, oldlen, order;
        const struct bridle__span *new_lines;
        size_t nnew;
};

/* A file cut into lines (CR of CRLF dropped when the file is CRLF). */
struct text {
        char *buf;
        size_t len;
        struct bridle__span *lines;
        size_t n;
        bool crlf;
        dev_t dev;
        ino_t ino;
};

static void text_release(struct text *t)
{
        free(t->buf);
        free(t->lines);
}

static const char *verb(enum bridle_patch_kind k)
{
        return k == BRIDLE_PATCH_ADD ? "add" : k == BRIDLE_PATCH_DELETE ? "delete" : "update";
}

/* "patch line N: update of 'p': what", mapping escapes to a clear message. */
__attribute__((format(printf, 5, 6))) static int operr(bridle_error *err, int code,
                                                       const struct bridle__pop *op,
                                                       const char *path, const char *fmt, ...)
{
        char buf[300];
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (code == -EXDEV)
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "patch line %u: %s of '%s': '%s' leaves the directory "
                                   "(a symlink points outside)",
                                   op->lineno, verb(op->kind), op->path, path);
        return bridle__err(err, code, "patch line %u: %s of '%s': %s", op->lineno, verb(op->kind),
                           op->path, buf);
}

static int apply_add(int rootfd, const bridle_patch *p, const struct bridle__pop *op,
                     bridle_error *err)
{
        size_t size = 0;
        for (size_t i = op->first; i < op->end; i++)
                size += p->lines[i].len; /* '+' dropped, '\n' added */
        _cleanup_free_ char *buf = bridle__malloc(size + 1);
        if (!buf)
                return bridle__err(err, -ENOMEM, "patch");
        size_t o = 0;
        for (size_t i = op->first; i < op->end; i++) {
                memcpy(buf + o, p->lines[i].s + 1, p->lines[i].len - 1);
                o += p->lines[i].len - 1;
                buf[o++] = '\n';
        }
        int r = bridle__patch_mkdir_parents(rootfd, op->path);
        if (r < 0)
                return operr(err, r, op, op->path, "cannot create its directory");
        dev_t dev;
        ino_t ino;
        r = bridle__patch_write(rootfd, op->path, true, buf, o, &dev, &ino);
        if (r < 0)
                return operr(err, r, op, op->path, "cannot write the file");
        return 0;
}

static int apply_delete(int rootfd, const struct bridle__pop *op, bridle_error *err)
{
        int r = bridle__patch_unlink(rootfd, op->path);
        if (r == -EISDIR || r == -EPERM)
                return operr(err, BRIDLE_E_INVALID, op, op->path, "it is a directory");
        if (r < 0)
                return operr(err, r, op, op->path, "cannot delete the file");
        return 0;
}

static int split_text(struct text *t)
{
        size_t nl = 0, crlf = 0;
        for (const char *s = t->buf; (s = memchr(s, '\n', (size_t)(t->buf + t->len - s))); s++) {
                nl++;
                crlf += s > t->buf && s[-1] == '\r';
        }
        t->crlf = crlf > 0 && crlf >= nl - crlf;
        size_t n = nl + (t->len > 0 && t->buf[t->len - 1] != '\n');
        if (n > BRIDLE__PATCH_MAX_LINES)
                return BRIDLE_E_LIMIT;
        t->lines = bridle__calloc(n ? n : 1, sizeof(*t->lines));
        if (!t->lines)
                return -ENOMEM;
        const char *s = t->buf, *end = t->buf + t->len;
        for (size_t i = 0; i < n; i++) {
                const char *e = memchr(s, '\n', (size_t)(end - s));
                size_t l = e ? (size_t)(e - s) : (size_t)(end - s);
                t->lines[i] = (struct bridle__span){s, l};
                if (t->crlf && l > 0 && s[l - 1] == '\r')
                        t->lines[i].len--;
                s += l + 1;
        }
        t->n = n;
        return 0;
}

static int load(int rootfd, const struct bridle__pop *op, struct text *t, bridle_error *err)
{
        int r = bridle__patch_read(rootfd, op->path, &t->buf, &t->len, &t->dev, &t->ino);
        if (r == -EFBIG)
                return operr(err, BRIDLE_E_LIMIT, op, op->path, "the file is larger than %zu MiB",
                             BRIDLE_PATCH_MAX_FILE >> 20);
        if (r == -EINVAL)
                return operr(err, BRIDLE_E_INVALID, op, op->path, "not a regular file");
        if (r < 0)
                return operr(err, r, op, op->path, "cannot read the file");
        if (memchr(t->buf, '\0', t->len))
                return operr(err, BRIDLE_E_INVALID, op, op->path,
                             "the file is binary (it contains NUL bytes)");
        r = split_text(t);
        if (r == BRIDLE_E_LIMIT)
                return operr(err, r, op, op->path, "the file has more than %zu lines",
                             BRIDLE__PATCH_MAX_LINES);
        if (r < 0)
                return operr(err, r, op, op->path, "cannot read the file");
        return 0;
}

/* The chunk's old and new lines, as spans of the patch text without their prefix. */
static void chunk_lines(const bridle_patch *p, const struct bridle__pchunk *c,
                        struct bridle__span *old, size_t *nold, struct bridle__span *nw,
                        size_t *nnew)
{
        *nold = *nnew = 0;
        for (size_t i = c->first; i < c->end; i++) {
                const struct bridle__pline *l = &p->lines[i];
                struct bridle__span body = {l->len ? l->s + 1 : l->s, l->len ? l->len - 1 : 0};
                if (l->len == 0 || l->s[0] == ' ' || l->s[0] == '-')
                        old[(*nold)++] = body;
                if (l->len == 0 || l->s[0] == ' ' || l->s[0] == '+')
                        nw[(*nnew)++] = body;
        }
}

static int locate(const struct text *t, const struct bridle__pchunk *c, size_t *idx,
                  const struct bridle__span *old, size_t nold, size_t nnew, struct repl *rp)
{
        if (c->has_ctx) {
                long r = bridle__patch_seek(t->lines, t->n, &c->ctx, 1, *idx, false);
                if (r < 0)
                        return -ESRCH;
                *idx = (size_t)r + 1;
        }
        rp->nnew = nnew;
        if (nold == 0) { /* pure addition: at the end, before a final blank line */
                rp->start = t->n > 0 && t->lines[t->n - 1].len == 0 ? t->n - 1 : t->n;
                rp->oldlen = 0;
                return 0;
        }
        long r = bridle__patch_seek(t->lines, t->n, old, nold, *idx, c->eof);
        if (r < 0 && old[nold - 1].len == 0) {
                /* A trailing empty line may stand for the file's final newline. */
                nold--;
                if (nnew > 0 && rp->new_lines[nnew - 1].len == 0)
                        rp->nnew--;
                r = bridle__patch_seek(t->lines, t->n, old, nold, *idx, c->eof);
        }
        if (r < 0)
                return -ENOENT;
        rp->start = (size_t)r;
        rp->oldlen = nold;
        *idx = (size_t)r + nold;
        return 0;
}

static int chunk_fail(int r, const struct bridle__pop *op, const struct bridle__pchunk *c,
                      const struct bridle__span *old, size_t nold, bridle_error *err)
{
        const char *what = r == -ESRCH ? "the context line" : "the lines to replace, starting";
        struct bridle__span s = r == -ESRCH ? c->ctx : nold ? old[0] : (struct bridle__span){"", 0};
        return bridle__err(err, BRIDLE_E_INVALID,
                           "patch line %u: update of '%s': could not find %s '%.*s'", c->lineno,
                           op->path, what, (int)(s.len > 120 ? 120 : s.len), s.s);
}

static int repl_cmp(const void *a, const void *b)
{
        const struct repl *x = a, *y = b;
        if (x->start != y->start)
                return x->start < y->start ? -1 : 1;
        return x->order < y->order ? -1 : x->order > y->order;
}

/* Locate every chunk; spans has room for two spans per chunk line. */
static int compute(const bridle_patch *p, const struct bridle__pop *op, const struct text *t,
                   struct bridle__span *spans, struct repl *reps, bridle_error *err)
{
        size_t idx = 0;
        for (size_t k = 0; k < op->nchunks; k++) {
                const struct bridle__pchunk *c = &op->chunks[k];
                size_t body = c->end - c->first, nold, nnew;
                struct bridle__span *old = spans, *nw = spans + body;
                spans += 2 * body;
                chunk_lines(p, c, old, &nold, nw, &nnew);
                reps[k] = (struct repl){.order = k, .new_lines = nw};
                int r = locate(t, c, &idx, old, nold, nnew, &reps[k]);
                if (r < 0)
                        return chunk_fail(r, op, c, old, nold, err);
        }
        qsort(reps, op->nchunks, sizeof(*reps), repl_cmp);
        return 0;
}

static size_t emit(char *out, struct bridle__span l, bool crlf)
{
        if (out) {
                memcpy(out, l.s, l.len);
                if (crlf)
                        out[l.len] = '\r';
                out[l.len + crlf] = '\n';
        }
        return l.len + crlf + 1;
}

/* Build the new contents; with out == NULL only the size is counted. */
static size_t build(const struct text *t, const struct repl *reps, size_t nreps, char *out)
{
        size_t o = 0, cur = 0;
        for (size_t k = 0; k <= nreps; k++) {
                size_t start = k < nreps ? reps[k].start : t->n;
                for (; cur < start && cur < t->n; cur++)
                        o += emit(out ? out + o : NULL, t->lines[cur], t->crlf);
                if (k == nreps)
                        break;
                for (size_t j = 0; j < reps[k].nnew; j++)
                        o += emit(out ? out + o : NULL, reps[k].new_lines[j], t->crlf);
                if (start + reps[k].oldlen > cur)
                        cur = start + reps[k].oldlen;
        }
        return o;
}

static int write_result(int rootfd, const struct bridle__pop *op, const struct text *t,
                        const char *buf, size_t len, bridle_error *err)
{
        const char *dest = op->move_to ? op->move_to : op->path;
        int r = op->move_to ? bridle__patch_mkdir_parents(rootfd, dest) : 0;
        if (r < 0)
                return operr(err, r, op, dest, "cannot create the directory of '%s'", dest);
        dev_t dev;
        ino_t ino;
        r = bridle__patch_write(rootfd, dest, op->move_to != NULL, buf, len, &dev, &ino);
        if (r < 0)
                return operr(err, r, op, dest, "cannot write '%s'", dest);
        if (!op->move_to || (dev == t->dev && ino == t->ino)) /* moved onto itself */
                return 0;
        r = bridle__patch_unlink(rootfd, op->path);
        if (r < 0)
                return operr(err, r, op, op->path, "cannot remove the original");
        return 0;
}

static int apply_update(int rootfd, const bridle_patch *p, const struct bridle__pop *op,
                        bridle_error *err)
{
        _cleanup_(text_release) struct text t = {0};
        int r = load(rootfd, op, &t, err);
        if (r < 0)
                return r;
        size_t body = 0;
        for (size_t k = 0; k < op->nchunks; k++)
                body += op->chunks[k].end - op->chunks[k].first;
        _cleanup_free_ struct bridle__span *spans = bridle__calloc(2 * body + 1, sizeof(*spans));
        _cleanup_free_ struct repl *reps = bridle__calloc(op->nchunks, sizeof(*reps));
        if (!spans || !reps)
                return bridle__err(err, -ENOMEM, "patch");
        r = compute(p, op, &t, spans, reps, err);
        if (r < 0)
                return r;
        size_t size = build(&t, reps, op->nchunks, NULL);
        _cleanup_free_ char *out = bridle__malloc(size + 1);
        if (!out)
                return bridle__err(err, -ENOMEM, "patch");
        build(&t, reps, op->nchunks, out);
        return write_result(rootfd, op, &t, out, size, err);
}

static int summary(const bridle_patch *p, char **ret)
{
        size_t size = 1;
        for (size_t i = 0; i < p->nops; i++)
                size += strlen(p->ops[i].move_to ? p->ops[i].move_to : p->ops[i].path) + 3;
        char *s = bridle__malloc(size), *o = s;
        if (!s)
                return -ENOMEM;
        static const struct {
                enum bridle_patch_kind kind;
                char letter;
        } order[] = {
                {BRIDLE_PATCH_ADD, 'A'}, {BRIDLE_PATCH_UPDATE, 'M'}, {BRIDLE_PATCH_DELETE, 'D'}};
        for (size_t g = 0; g < 3; g++)
                for (size_t i = 0; i < p->nops; i++) {
                        const struct bridle__pop *op = &p->ops[i];
                        if (op->kind == order[g].kind)
                                o += sprintf(o, "%c %s\n", order[g].letter,
                                             op->move_to ? op->move_to : op->path);
                }
        *o = '\0';
        *ret = s;
        return 0;
}

int bridle_patch_apply_parsed(int dirfd, const bridle_patch *p, char **ret_summary,
                              bridle_error *err)
{
        if (!p || (dirfd < 0 && dirfd != AT_FDCWD))
                return bridle__err(err, -EINVAL, "patch: invalid argument");
        if (p->nops == 0)
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "no files were modified (the patch has no operations)");
        _cleanup_free_ char *sum = NULL;
        if (ret_summary && summary(p, &sum) < 0)
                return bridle__err(err, -ENOMEM, "patch");
        for (size_t i = 0; i < p->nops; i++) {
                const struct bridle__pop *op = &p->ops[i];
                int r = op->kind == BRIDLE_PATCH_ADD      ? apply_add(dirfd, p, op, err)
                        : op->kind == BRIDLE_PATCH_DELETE ? apply_delete(dirfd, op, err)
                                                          : apply_update(dirfd, p, op, err);
                if (r < 0)
                        return r;
        }
        if (ret_summary)
                *ret_summary = TAKE_PTR(sum);
        return 0;
}

int bridle_patch_apply(int dirfd, const char *text, size_t len, char **ret_summary,
                       bridle_error *err)
{
        _cleanup_(bridle__patch_freep) bridle_patch *p = NULL;
        int r = bridle_patch_parse(text, len, &p, err);
        if (r < 0)
                return r;
        return bridle_patch_apply_parsed(dirfd, p, ret_summary, err);
}
