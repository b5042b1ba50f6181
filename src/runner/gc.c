/* SPDX-License-Identifier: MIT */
/*
 * bridle gc: retention (docs/durability.md, "Retention"; include/bridle/run.h).
 *
 * Two phases. First the sandboxes and egress directories of old completed
 * and failed runs (a sandbox may hold a snapshot in use, so it goes first).
 * Then the snapshots: each labelled "bridle-run:<id>" of a run in this
 * journal is a checkpoint (a `checkpoint` event names it) or an orphan (none
 * does: a crash between the snapshot and its event). Those chosen (by age,
 * then by --max-size, oldest first) are removed children first; one another
 * kept snapshot or a living sandbox builds on stays, reported as kept.
 *
 * Everything read from the journal that becomes a path (run, sandbox and
 * snapshot ids) is checked to be a plain id first.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bridle/run.h"
#include "bridle/sandbox.h"
#include "journal/journal.h"
#include "runner/runner.h"
#include "runner/state.h"
#include "sandbox/living.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/rmtree.h"
#include "util/yaml.h"

#define DAY_S          86400
#define ORPHAN_AGE_S   3600 /* a checkpoint's event follows its snapshot within this */
#define MAX_ITEMS      200000
#define MAX_RETENTION  ((size_t)64 * 1024)
#define DU_MAX_ENTRIES ((size_t)1000000)
#define DU_MAX_DEPTH   128
#define DEFAULT_DAYS   7
#define DEFAULT_KEEP   20
#define LABEL_PREFIX   "bridle-run:"

struct gc_run {
        char id[33];
        enum bridle_run_status status;
        bool known;         /* its events folded: a run gc cannot read keeps everything */
        int64_t updated_at; /* unix seconds */
        size_t rank;        /* 0: the newest run */
        json_t *keep;       /* snapshot id -> true: what a resumable run needs */
        json_t *sandboxes;  /* sandbox id -> true: made and not destroyed */
};

struct snap_plan {
        long run;             /* index into runs, -1: not a run's */
        bool named;           /* a checkpoint event names it (else an orphan) */
        bool protect;         /* never chosen */
        bool pick, gone;      /* chosen; removable once what builds on it is gone */
        bool pinned;          /* a living sandbox builds on it */
        long parent;          /* index, -1 none */
        size_t live_children; /* snapshots building on it that stay */
        bool by_size;         /* chosen to get under max_size */
};

struct gc {
        const bridle_gc_opts *o;
        int64_t now;
        char home[3072];
        struct gc_run *runs;
        size_t n_runs;
        json_t *named;    /* snapshot id -> run index */
        json_t *by_id;    /* run id -> run index */
        json_t *doomed;   /* sandbox id -> true: this gc destroys it (dry run: would) */
        json_t *snap_ids; /* snapshot id -> index into snaps */
        bridle_snapshot_info *snaps;
        size_t n_snaps;
        struct snap_plan *plan;
        size_t *order; /* snapshots in the order they go */
        size_t n_order;
        size_t cap_items;
        char max_text[32];
        bridle_gc_report rep;
};

static bool hex_id(const char *s, size_t len)
{
        if (!s || strlen(s) != len)
                return false;
        for (; *s; s++)
                if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
                        return false;
        return true;
}

static bool snap_id_ok(const char *s)
{
        size_t n = s ? strlen(s) : 0;
        if (n == 0 || n > 64)
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == n;
}

static bool terminal(enum bridle_run_status s)
{
        return s == BRIDLE_RUN_COMPLETED || s == BRIDLE_RUN_FAILED;
}

static void human(uint64_t b, char *out, size_t cap)
{
        if (b >= (uint64_t)1 << 30)
                (void)snprintf(out, cap, "%.1f GiB", (double)b / (double)(1u << 30));
        else if (b >= (uint64_t)1 << 20)
                (void)snprintf(out, cap, "%.1f MiB", (double)b / (double)(1u << 20));
        else if (b >= 1024)
                (void)snprintf(out, cap, "%.1f KiB", (double)b / 1024.0);
        else
                (void)snprintf(out, cap, "%llu B", (unsigned long long)b);
}

/* ---- settings: options over $BRIDLE_HOME/retention.yaml over defaults ---------- */

static int retention_int(const bridle__doc *doc, const json_t *root, const char *key,
                         const json_t *v, json_int_t max, json_int_t *ret, bridle_error *err)
{
        if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= max) {
                *ret = json_integer_value(v);
                return 0;
        }
        const bridle__docpos *p = bridle__doc_slot(doc, root, key, 0);
        return bridle__doc_err(doc, p ? p->line : 0, p ? p->col : 0, err, BRIDLE_E_INVALID,
                               "'%s' must be an integer from 0 to %lld", key, (long long)max);
}

static int retention_size(const bridle__doc *doc, const json_t *root, const json_t *v,
                          uint64_t *ret, bridle_error *err)
{
        bridle_error e = {0};
        if (json_is_integer(v) && json_integer_value(v) >= 0) {
                *ret = (uint64_t)json_integer_value(v);
                return 0;
        }
        if (json_is_string(v) && bridle_parse_size(json_string_value(v), ret, &e) == 0)
                return 0;
        const bridle__docpos *p = bridle__doc_slot(doc, root, "max_size", 0);
        return bridle__doc_err(doc, p ? p->line : 0, p ? p->col : 0, err, BRIDLE_E_INVALID,
                               "'max_size' must be a size (bytes, or like 10G)%s%s",
                               e.msg[0] ? ": " : "", e.msg);
}

static int retention_apply(const bridle__doc *doc, bridle_gc_report *s, bridle_error *err)
{
        const json_t *root = bridle__doc_root(doc), *v;
        const char *key;
        if (json_is_null(root))
                return 0;
        if (!json_is_object(root))
                return bridle__doc_err(doc, 1, 1, err, BRIDLE_E_INVALID,
                                       "retention settings must be a mapping");
        json_object_foreach((json_t *)root, key, v)
        {
                json_int_t x = 0;
                int r = 0;
                if (strcmp(key, "older_than_days") == 0) {
                        if ((r = retention_int(doc, root, key, v, 36500, &x, err)) == 0)
                                s->older_than_days = (int)x;
                } else if (strcmp(key, "keep_last") == 0) {
                        if ((r = retention_int(doc, root, key, v, 1000000, &x, err)) == 0)
                                s->keep_last = (int)x;
                } else if (strcmp(key, "max_size") == 0) {
                        r = retention_size(doc, root, v, &s->max_size, err);
                } else {
                        const bridle__docpos *p = bridle__doc_slot(doc, root, key, 0);
                        char q[80];
                        r = bridle__doc_err(
                                doc, p ? p->key_line : 0, p ? p->key_col : 0, err, BRIDLE_E_INVALID,
                                "unknown key '%s' (older_than_days, keep_last, max_size)",
                                bridle__doc_quote(key, strlen(key), q, sizeof(q)));
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

static int settings(struct gc *g, bridle_error *err)
{
        bridle_gc_report *s = &g->rep;
        s->older_than_days = DEFAULT_DAYS;
        s->keep_last = DEFAULT_KEEP;
        s->max_size = 0;
        char path[3200];
        (void)snprintf(path, sizeof(path), "%s/retention.yaml", g->home);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = bridle__read_file(AT_FDCWD, path, MAX_RETENTION, &buf, &len);
        if (r < 0 && r != -ENOENT)
                return bridle__err(err, r, "read '%s'", path);
        if (r >= 0) {
                bridle__doc *doc = NULL;
                if ((r = bridle__doc_load(buf, len, path, &doc, err)) < 0)
                        return r;
                r = retention_apply(doc, s, err);
                bridle__doc_free(doc);
                if (r < 0)
                        return r;
        }
        if (g->o->older_than_days >= 0)
                s->older_than_days = g->o->older_than_days;
        if (g->o->keep_last >= 0)
                s->keep_last = g->o->keep_last;
        if (g->o->max_size)
                s->max_size = g->o->max_size == UINT64_MAX ? 0 : g->o->max_size;
        if (s->max_size)
                human(s->max_size, g->max_text, sizeof(g->max_text));
        return 0;
}

/* ---- the runs, from their events ------------------------------------------------ */

static int set_true(json_t *o, const char *key, bridle_error *err)
{
        return json_object_set_new(o, key, json_true()) < 0
                       ? bridle__err(err, -ENOMEM, "out of memory")
                       : 0;
}

static const char *data_str(const json_t *ev, const char *key)
{
        return json_string_value(json_object_get(json_object_get(ev, "data"), key));
}

/* One event: a checkpoint names its snapshot (kept when its call is
 * pending); sandboxes made and destroyed; what the workspace is built on. */
static int scan_one(struct gc *g, size_t idx, const json_t *ev, const json_t *pending,
                    const char **latest, const char **base, bridle_error *err)
{
        struct gc_run *run = &g->runs[idx];
        const char *type = json_string_value(json_object_get(ev, "type"));
        const char *sid = NULL;
        if (!type)
                return 0;
        if (strcmp(type, "checkpoint") == 0 && snap_id_ok(sid = data_str(ev, "snapshot_id"))) {
                const char *call = data_str(ev, "call_id");
                *latest = *base = sid;
                if (json_object_set_new(g->named, sid, json_integer((json_int_t)idx)) < 0)
                        return bridle__err(err, -ENOMEM, "out of memory");
                return call && json_object_get(pending, call) ? set_true(run->keep, sid, err) : 0;
        }
        if (strcmp(type, "sandbox.created") == 0) {
                const char *from = data_str(ev, "restored_from");
                *base = snap_id_ok(from) ? from : NULL;
                sid = data_str(ev, "sandbox_id");
                return hex_id(sid, 12) ? set_true(run->sandboxes, sid, err) : 0;
        }
        if (strcmp(type, "sandbox.destroyed") == 0 && (sid = data_str(ev, "sandbox_id")))
                (void)json_object_del(run->sandboxes, sid);
        else if (strcmp(type, "run.rewound") == 0 && snap_id_ok(data_str(ev, "checkpoint")))
                *base = data_str(ev, "checkpoint");
        return 0;
}

/* What a resumable run must keep: its latest checkpoint, the snapshot its
 * workspace is built on now (the last checkpoint, or what its sandbox was
 * restored or rewound to since), the checkpoints of its pending calls. Also
 * the sandboxes still made, and which snapshots it names. */
static int scan_events(struct gc *g, size_t idx, const json_t *events, const json_t *pending,
                       bridle_error *err)
{
        struct gc_run *run = &g->runs[idx];
        const char *latest = NULL, *base = NULL;
        size_t i;
        const json_t *ev;
        int r = 0;
        json_array_foreach(events, i, ev)
        {
                if ((r = scan_one(g, idx, ev, pending, &latest, &base, err)) < 0)
                        return r;
        }
        if (terminal(run->status) && run->known)
                return 0;
        if (latest && (r = set_true(run->keep, latest, err)) < 0)
                return r;
        return base ? set_true(run->keep, base, err) : 0;
}

/* call_id -> true for the fold's pending calls. */
static json_t *pending_set(const bridle__run_state *st)
{
        json_t *set = json_object();
        size_t i;
        const json_t *it;
        json_array_foreach(st->pending, i, it)
        {
                const char *c = json_string_value(json_object_get(it, "call_id"));
                if (set && c && json_object_set_new(set, c, json_true()) < 0) {
                        json_decref(set);
                        return NULL;
                }
        }
        return set;
}

static int load_run(struct gc *g, bridle__journal *j, const json_t *row, size_t idx,
                    bridle_error *err)
{
        struct gc_run *run = &g->runs[idx];
        const char *id = json_string_value(json_object_get(row, "id"));
        json_auto_t *events = NULL;
        (void)snprintf(run->id, sizeof(run->id), "%s", id ? id : "");
        run->rank = idx;
        run->keep = json_object();
        run->sandboxes = json_object();
        if (!run->keep || !run->sandboxes)
                return bridle__err(err, -ENOMEM, "out of memory");
        if (!hex_id(run->id, 32))
                return 0; /* not a run id gc can name paths after: left alone */
        int r = bridle__journal_events(j, run->id, NULL, &events, err);
        if (r < 0)
                return r;
        bridle__run_state st;
        bridle_error ferr = {0};
        r = bridle__run_state_fold(events, &st, &ferr);
        if (r == -ENOMEM) {
                bridle__run_state_clear(&st);
                return bridle__err(err, r, "out of memory");
        }
        if (r < 0)
                bridle__log(4, "gc: run '%s' is kept whole: %s", run->id, ferr.msg);
        run->known = r == 0;
        run->status = st.status;
        run->updated_at = st.updated_at
                                  ? st.updated_at
                                  : json_integer_value(json_object_get(row, "created_at")) / 1000;
        json_t *pending = pending_set(&st);
        bridle__run_state_clear(&st);
        if (!pending)
                return bridle__err(err, -ENOMEM, "out of memory");
        if (json_object_set_new(g->by_id, run->id, json_integer((json_int_t)idx)) < 0)
                r = bridle__err(err, -ENOMEM, "out of memory");
        else
                r = scan_events(g, idx, events, pending, err);
        json_decref(pending);
        return r;
}

static int load_runs(struct gc *g, bridle_error *err)
{
        bridle__journal *j = NULL;
        int r = bridle__journal_open_existing(g->o->journal_path, &j, err);
        if (r < 0 || !j)
                return r;
        json_auto_t *rows = NULL;
        if ((r = bridle__journal_runs(j, 0, &rows, err)) < 0) {
                bridle__journal_close(j);
                return r;
        }
        size_t n = json_array_size(rows);
        g->runs = bridle__calloc(n ? n : 1, sizeof(*g->runs));
        if (!g->runs) {
                bridle__journal_close(j);
                return bridle__err(err, -ENOMEM, "out of memory");
        }
        for (size_t i = 0; r == 0 && i < n; i++) {
                g->n_runs = i + 1;
                r = load_run(g, j, json_array_get(rows, i), i, err);
        }
        bridle__journal_close(j);
        return r;
}

/* ---- items ---------------------------------------------------------------------- */

static bridle_gc_item *add_item(struct gc *g, const char *kind, const char *id,
                                const struct gc_run *run, uint64_t bytes, int64_t age,
                                const char *why, bridle_error *err)
{
        bridle_gc_report *rep = &g->rep;
        if (rep->n_items == g->cap_items) {
                size_t cap = g->cap_items ? 2 * g->cap_items : 16;
                if (rep->n_items >= MAX_ITEMS) {
                        (void)bridle__err(err, BRIDLE_E_LIMIT, "more than %d items to collect",
                                          MAX_ITEMS);
                        return NULL;
                }
                bridle_gc_item *v = bridle__realloc(rep->items, cap * sizeof(*v));
                if (!v) {
                        (void)bridle__err(err, -ENOMEM, "out of memory");
                        return NULL;
                }
                rep->items = v;
                g->cap_items = cap;
        }
        bridle_gc_item *it = &rep->items[rep->n_items++];
        memset(it, 0, sizeof(*it));
        (void)snprintf(it->kind, sizeof(it->kind), "%s", kind);
        (void)snprintf(it->id, sizeof(it->id), "%s", id);
        if (run) {
                (void)snprintf(it->run_id, sizeof(it->run_id), "%s", run->id);
                (void)snprintf(it->run_status, sizeof(it->run_status), "%s",
                               run->known ? bridle_run_status_name(run->status) : "unknown");
        }
        it->bytes = bytes;
        it->age_s = age < 0 ? 0 : age;
        (void)snprintf(it->why, sizeof(it->why), "%s", why);
        return it;
}

/* The outcome of removing it (r: 0, -EBUSY kept, else failed with e's message). */
static void settle_item(struct gc *g, bridle_gc_item *it, int r, const bridle_error *e)
{
        if (r == -EBUSY) {
                /* The reason without the errno text bridle__err() added. */
                const char *tail = bridle_strerror(-EBUSY);
                size_t n = strlen(e->msg), t = strlen(tail);
                if (n > t + 2 && strcmp(e->msg + n - t, tail) == 0 && e->msg[n - t - 2] == ':')
                        n -= t + 2;
                it->kept = true;
                (void)snprintf(it->why, sizeof(it->why), "%.*s", (int)n, e->msg);
        } else if (r < 0) {
                it->error = r;
                (void)snprintf(it->why, sizeof(it->why), "%s",
                               e->msg[0] ? e->msg : bridle_strerror(r));
                g->rep.failed++;
        } else {
                g->rep.count++;
                g->rep.bytes += it->bytes;
        }
}

/* ---- sandboxes and egress directories -------------------------------------------- */

/* Bytes on disk under dirfd/name, on its file system, bounded. */
static uint64_t du_at(int at, const char *name, dev_t dev, unsigned depth, size_t *budget)
{
        struct stat sb;
        if (*budget == 0 || fstatat(at, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        (*budget)--;
        uint64_t total = (uint64_t)sb.st_blocks * 512;
        if (!S_ISDIR(sb.st_mode) || sb.st_dev != dev || depth >= DU_MAX_DEPTH)
                return total;
        int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d = fd < 0 ? NULL : fdopendir(fd);
        if (!d) {
                if (fd >= 0)
                        (void)close(fd);
                return total;
        }
        for (struct dirent *e; *budget && (e = readdir(d));) {
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                        total += du_at(dirfd(d), e->d_name, dev, depth + 1, budget);
        }
        closedir(d);
        return total;
}

/* 1 and its size when path is a directory, 0 when there is none. */
static int dir_size(const char *path, uint64_t *ret)
{
        struct stat sb;
        if (lstat(path, &sb) < 0 || !S_ISDIR(sb.st_mode))
                return 0;
        size_t budget = DU_MAX_ENTRIES;
        *ret = du_at(AT_FDCWD, path, sb.st_dev, 0, &budget);
        return 1;
}

static int collect_sandbox(struct gc *g, const struct gc_run *run, const char *sid, const char *why,
                           bridle_error *err)
{
        char path[3300];
        uint64_t bytes = 0;
        (void)snprintf(path, sizeof(path), "%s/sandboxes/%s", g->home, sid);
        if (!dir_size(path, &bytes))
                return 0;
        bridle_gc_item *it =
                add_item(g, "sandbox", sid, run, bytes, g->now - run->updated_at, why, err);
        if (!it)
                return err ? err->code : -ENOMEM;
        bridle_error e = {0};
        settle_item(g, it, g->o->dry_run ? 0 : bridle_sandbox_destroy(sid, &e), &e);
        if (!it->error && json_object_set_new(g->doomed, sid, json_true()) < 0)
                return bridle__err(err, -ENOMEM, "out of memory");
        return 0;
}

static int remove_egress(const char *home, const char *run_id, bridle_error *e)
{
        char dir[3200];
        (void)snprintf(dir, sizeof(dir), "%s/egress", home);
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return bridle__err(e, -errno, "open '%s'", dir);
        bridle__rm_tree(fd, run_id);
        struct stat sb;
        if (fstatat(fd, run_id, &sb, AT_SYMLINK_NOFOLLOW) == 0)
                return bridle__err(e, -ENOTEMPTY, "remove '%s/%s': some of it stays", dir, run_id);
        return 0;
}

static int collect_egress(struct gc *g, const struct gc_run *run, const char *why,
                          bridle_error *err)
{
        char path[3300];
        uint64_t bytes = 0;
        (void)snprintf(path, sizeof(path), "%s/egress/%s", g->home, run->id);
        if (!dir_size(path, &bytes))
                return 0;
        bridle_gc_item *it =
                add_item(g, "egress_dir", run->id, run, bytes, g->now - run->updated_at, why, err);
        if (!it)
                return err ? err->code : -ENOMEM;
        bridle_error e = {0};
        settle_item(g, it, g->o->dry_run ? 0 : remove_egress(g->home, run->id, &e), &e);
        return 0;
}

static int collect_dirs(struct gc *g, bridle_error *err)
{
        int64_t limit = (int64_t)g->rep.older_than_days * DAY_S;
        for (size_t i = 0; i < g->n_runs; i++) {
                const struct gc_run *run = &g->runs[i];
                if (!run->known || !terminal(run->status) || run->rank < (size_t)g->rep.keep_last ||
                    g->now - run->updated_at <= limit)
                        continue;
                char why[96];
                (void)snprintf(why, sizeof(why), "the run ended more than %d days ago",
                               g->rep.older_than_days);
                const char *sid;
                const json_t *v;
                int r = 0;
                json_object_foreach(run->sandboxes, sid, v)
                {
                        if ((r = collect_sandbox(g, run, sid, why, err)) < 0)
                                return r;
                }
                if ((r = collect_egress(g, run, why, err)) < 0)
                        return r;
        }
        return 0;
}

/* ---- snapshots -------------------------------------------------------------------- */

static long index_of(const json_t *map, const char *key)
{
        const json_t *v = key ? json_object_get(map, key) : NULL;
        return v ? (long)json_integer_value(v) : -1;
}

/* The run a snapshot belongs to, and whether it may be chosen at all. */
static void classify(struct gc *g, size_t i)
{
        const bridle_snapshot_info *s = &g->snaps[i];
        struct snap_plan *p = &g->plan[i];
        p->run = -1;
        p->protect = true;
        if (strncmp(s->label, LABEL_PREFIX, strlen(LABEL_PREFIX)) != 0)
                return;
        long named = index_of(g->named, s->id);
        p->named = named >= 0;
        p->run = p->named ? named : index_of(g->by_id, s->label + strlen(LABEL_PREFIX));
        if (p->run < 0)
                return; /* a run this journal does not hold */
        const struct gc_run *run = &g->runs[p->run];
        int64_t age = g->now - s->created;
        if (!p->named) {
                p->protect = age <= ORPHAN_AGE_S;
                p->pick = !p->protect;
                return;
        }
        p->protect = !run->known || json_object_get(run->keep, s->id) != NULL;
        p->pick = !p->protect && run->rank >= (size_t)g->rep.keep_last &&
                  age > (int64_t)g->rep.older_than_days * DAY_S;
}

/* Mark the snapshots a living sandbox builds on (it was restored from one,
 * which builds on its parents). A sandbox this gc destroys pins nothing: in
 * a dry run it is still there, and the report must match the real run's. */
static void pin_sandboxes(struct gc *g)
{
        char p[3200];
        (void)snprintf(p, sizeof(p), "%s/sandboxes", g->home);
        DIR *d = opendir(p);
        size_t seen = 0;
        for (struct dirent *e; d && seen < (size_t)MAX_ITEMS && (e = readdir(d)); seen++) {
                struct bridle__sb_state st;
                if (!hex_id(e->d_name, 12) || json_object_get(g->doomed, e->d_name) ||
                    bridle__sandbox_state_read(e->d_name, &st, NULL) < 0 || !st.restored_from[0])
                        continue;
                long k = index_of(g->snap_ids, st.restored_from);
                for (size_t steps = 0; k >= 0 && steps <= g->n_snaps; steps++) {
                        g->plan[k].pinned = true;
                        k = g->plan[k].parent;
                }
        }
        if (d)
                closedir(d);
}

static int plan_snapshots(struct gc *g, bridle_error *err)
{
        json_t *ids = g->snap_ids = json_object();
        g->plan = bridle__calloc(g->n_snaps ? g->n_snaps : 1, sizeof(*g->plan));
        g->order = bridle__calloc(g->n_snaps ? g->n_snaps : 1, sizeof(*g->order));
        if (!ids || !g->plan || !g->order)
                return bridle__err(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < g->n_snaps; i++)
                if (json_object_set_new(ids, g->snaps[i].id, json_integer((json_int_t)i)) < 0)
                        return bridle__err(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < g->n_snaps; i++) {
                long parent = g->snaps[i].parent[0] ? index_of(ids, g->snaps[i].parent) : -1;
                g->plan[i].parent = parent;
                if (parent >= 0)
                        g->plan[parent].live_children++;
                classify(g, i);
        }
        pin_sandboxes(g);
        return 0;
}

/* Mark what is chosen and free of dependents as gone, newest first so a
 * chain goes in one pass; returns the bytes it frees. */
static uint64_t settle(struct gc *g)
{
        uint64_t freed = 0;
        for (size_t pass = 0; pass <= g->n_snaps; pass++) {
                bool changed = false;
                for (size_t k = g->n_snaps; k-- > 0;) {
                        struct snap_plan *p = &g->plan[k];
                        if (!p->pick || p->gone || p->pinned || p->live_children)
                                continue;
                        p->gone = changed = true;
                        g->order[g->n_order++] = k;
                        freed += g->snaps[k].size;
                        if (p->parent >= 0)
                                g->plan[p->parent].live_children--;
                }
                if (!changed)
                        break;
        }
        return freed;
}

/* With max_size: more of the oldest collectable snapshots until the rest fit. */
static void over_size(struct gc *g, uint64_t total, uint64_t freed)
{
        for (size_t i = 0; g->rep.max_size && i < g->n_snaps && total - freed > g->rep.max_size;
             i++) {
                struct snap_plan *p = &g->plan[i];
                if (p->protect || p->pick || p->run < 0)
                        continue;
                p->pick = p->by_size = true;
                freed += settle(g);
        }
}

/* Why a chosen snapshot stays: -EBUSY, in the words of
 * bridle_sandbox_snapshot_delete(). */
static int kept_why(const struct gc *g, size_t k, bridle_error *e)
{
        const char *sid = g->snaps[k].id;
        if (g->plan[k].pinned)
                return bridle__err(
                        e, -EBUSY,
                        "snapshot '%s' is in use: a sandbox was restored from it or from a "
                        "snapshot on top of it",
                        sid);
        for (size_t j = 0; j < g->n_snaps; j++)
                if (g->plan[j].parent == (long)k && !g->plan[j].gone)
                        return bridle__err(e, -EBUSY,
                                           "snapshot '%s' is in use: snapshot '%s' builds on it",
                                           sid, g->snaps[j].id);
        return bridle__err(e, -EBUSY, "snapshot '%s' is in use", sid);
}

static int snapshot_item(struct gc *g, size_t k, bool gone, bridle_error *err)
{
        const bridle_snapshot_info *s = &g->snaps[k];
        const struct snap_plan *p = &g->plan[k];
        char why[320];
        if (p->by_size)
                (void)snprintf(why, sizeof(why), "the snapshots are over max_size %s", g->max_text);
        else if (p->named)
                (void)snprintf(why, sizeof(why), "older than %d days", g->rep.older_than_days);
        else
                (void)snprintf(why, sizeof(why),
                               "no event of its run names it (older than %d minutes)",
                               ORPHAN_AGE_S / 60);
        bridle_gc_item *it = add_item(g, p->named ? "checkpoint" : "orphan_snapshot", s->id,
                                      &g->runs[p->run], s->size, g->now - s->created, why, err);
        if (!it)
                return err ? err->code : -ENOMEM;
        bridle_error e = {0};
        int r = 0;
        if (!gone)
                r = kept_why(g, k, &e);
        else if (!g->o->dry_run)
                r = bridle_sandbox_snapshot_delete(s->id, &e);
        settle_item(g, it, r, &e);
        if (it->kept || it->error)
                return 0;
        g->rep.snapshots_bytes -= s->size;
        return 0;
}

static int collect_snapshots(struct gc *g, bridle_error *err)
{
        int r = bridle_sandbox_snapshots(&g->snaps, &g->n_snaps, err);
        if (r < 0)
                return r;
        if ((r = plan_snapshots(g, err)) < 0)
                return r;
        uint64_t total = 0;
        for (size_t i = 0; i < g->n_snaps; i++)
                total += g->snaps[i].size;
        g->rep.snapshots_bytes = total;
        over_size(g, total, settle(g));
        for (size_t n = 0; n < g->n_order; n++)
                if ((r = snapshot_item(g, g->order[n], true, err)) < 0)
                        return r;
        for (size_t k = 0; k < g->n_snaps; k++)
                if (g->plan[k].pick && !g->plan[k].gone &&
                    (r = snapshot_item(g, k, false, err)) < 0)
                        return r;
        return 0;
}

/* ---- the entry point ---------------------------------------------------------------- */

static void gc_release(struct gc *g)
{
        for (size_t i = 0; i < g->n_runs; i++) {
                json_decref(g->runs[i].keep);
                json_decref(g->runs[i].sandboxes);
        }
        free(g->runs);
        json_decref(g->named);
        json_decref(g->by_id);
        json_decref(g->doomed);
        json_decref(g->snap_ids);
        free(g->snaps);
        free(g->plan);
        free(g->order);
}

/* Archives a snapshot left half-written (its writer killed: "<id>.tar.zst.tmp",
 * older than an hour: none is being written). */
static int collect_partial(struct gc *g, bridle_error *err)
{
        char dir[3200];
        (void)snprintf(dir, sizeof(dir), "%s/snapshots", g->home);
        DIR *d = opendir(dir);
        if (!d)
                return 0;
        int r = 0;
        size_t seen = 0;
        for (struct dirent *e; r == 0 && seen < MAX_ITEMS && (e = readdir(d)); seen++) {
                size_t n = strlen(e->d_name);
                struct stat sb;
                if (n < 9 || strcmp(e->d_name + n - 8, ".zst.tmp") != 0 ||
                    fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(sb.st_mode) ||
                    g->now - (int64_t)sb.st_mtime < ORPHAN_AGE_S)
                        continue;
                bridle_gc_item *it = add_item(g, "partial", e->d_name, NULL, (uint64_t)sb.st_size,
                                              g->now - (int64_t)sb.st_mtime,
                                              "a snapshot whose writer stopped half-way", err);
                if (!it) {
                        r = err && err->code ? err->code : -ENOMEM;
                        break;
                }
                bridle_error e2 = {0};
                int rr = 0;
                if (!g->o->dry_run && unlinkat(dirfd(d), e->d_name, 0) < 0)
                        rr = bridle__err(&e2, -errno, "remove '%s/%s'", dir, e->d_name);
                settle_item(g, it, rr, &e2);
        }
        closedir(d);
        return r;
}

int bridle_gc(const bridle_gc_opts *opts, bridle_gc_report *ret, bridle_error *err)
{
        if (!opts || !ret)
                return bridle__err(err, -EINVAL, "gc: no options or no place for the report");
        if (opts->older_than_days < -1 || opts->keep_last < -1 || opts->older_than_days > 36500)
                return bridle__err(err, -EINVAL,
                                   "gc: older_than_days and keep_last must be -1 or more");
        struct gc g;
        memset(&g, 0, sizeof(g));
        g.o = opts;
        g.now = opts->now ? opts->now : (int64_t)time(NULL);
        g.named = json_object();
        g.by_id = json_object();
        g.doomed = json_object();
        int r = bridle__home(g.home, sizeof(g.home), err);
        if (r == 0 && (!g.named || !g.by_id || !g.doomed))
                r = bridle__err(err, -ENOMEM, "out of memory");
        if (r == 0)
                r = settings(&g, err);
        if (r == 0)
                r = load_runs(&g, err);
        if (r == 0)
                r = collect_dirs(&g, err);
        if (r == 0)
                r = collect_snapshots(&g, err);
        if (r == 0)
                r = collect_partial(&g, err);
        gc_release(&g);
        if (r < 0) {
                bridle_gc_report_release(&g.rep);
                return r;
        }
        *ret = g.rep;
        return 0;
}

void bridle_gc_report_release(bridle_gc_report *ret)
{
        if (!ret)
                return;
        free(ret->items);
        memset(ret, 0, sizeof(*ret));
}
