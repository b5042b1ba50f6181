/* SPDX-License-Identifier: MIT */
/*
 * Snapshots of living sandboxes: $BRIDLE_HOME/snapshots/<id>.tar.zst.
 * An overlay sandbox's snapshot is its upper layer read from the host
 * ($BRIDLE_HOME/sandboxes/<id>/fs/upper, whiteouts and opaque markers
 * included); without an overlay it is the whole workspace, read through
 * /proc/<init>/root. While the archive is written the sandbox is frozen: its
 * v1 freezer cgroup, or else SIGSTOP to every process under init (init only
 * reaps and relays, it writes nothing to the workspace). A sandbox restored
 * from snapshot P has P's chain as its lower layers and starts with an empty
 * upper layer, so its snapshots hold only what changed since: they name P in
 * <id>.parent. Restore builds a fresh sandbox on the chain's layers, each
 * extracted all or nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/living.h"
#include "sandbox/spec.h"
#include "snapshot/snapshot.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fd.h"

#define FREEZE_WAIT_MS 2000
#define MAX_STOPPED    4096
#define MAX_SNAPSHOTS  100000
#define MAX_CHAIN      32

static int snapdir(char *out, size_t cap, bridle_error *err)
{
        char home[3072];
        int r = bridle__home(home, sizeof(home), err);
        if (r < 0)
                return r;
        (void)snprintf(out, cap, "%s/snapshots", home);
        return 0;
}

static bool snapid_ok(const char *s)
{
        size_t n = s ? strlen(s) : 0;
        if (n == 0 || n > 64)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
                        return false;
        return true;
}

/* The parent recorded next to a snapshot: 1 and out, 0 none, or negative. */
static int parent_of(const char *dir, const char *sid, char out[65])
{
        char p[4200], *buf = NULL;
        (void)snprintf(p, sizeof(p), "%s/%s.parent", dir, sid);
        int r = bridle__read_file(AT_FDCWD, p, 128, &buf, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        buf[strcspn(buf, "\n")] = '\0';
        r = snapid_ok(buf) ? 1 : -EBADMSG;
        if (r > 0)
                (void)snprintf(out, 65, "%s", buf);
        free(buf);
        return r;
}

/* sid and its ancestors, topmost first: ids into chain[][65]. */
static int chain_of(const char *dir, const char *sid, char chain[MAX_CHAIN][65], size_t *ret_n,
                    bridle_error *err)
{
        size_t n = 0;
        (void)snprintf(chain[n++], 65, "%s", sid);
        for (;;) {
                char parent[65];
                int r = parent_of(dir, chain[n - 1], parent);
                if (r < 0)
                        return bridle__err(err, r, "snapshot '%s': unreadable parent",
                                           chain[n - 1]);
                if (r == 0)
                        break;
                if (n == MAX_CHAIN)
                        return bridle__err(err, -ELOOP, "snapshot '%s' sits on more than %d layers",
                                           sid, MAX_CHAIN);
                (void)snprintf(chain[n++], 65, "%s", parent);
        }
        *ret_n = n;
        return 0;
}

static int write_parent(const char *dir, const char *sid, const char *parent, bool sync,
                        bridle_error *err)
{
        char p[4200];
        (void)snprintf(p, sizeof(p), "%s/%s.parent", dir, sid);
        _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        char line[80];
        int n = snprintf(line, sizeof(line), "%s\n", parent);
        if (fd < 0 || bridle__write_full(fd, line, (size_t)n) < 0 || (sync && fsync(fd) < 0))
                return bridle__err(err, -errno, "write '%s'", p);
        return 0;
}

/* ---- quiescing -------------------------------------------------------------- */

struct quiet {
        const struct bridle__sb_state *st;
        bool frozen;
        pid_t stopped[MAX_STOPPED];
        size_t n_stopped;
};

static int freezer_set(const char *cg, const char *state)
{
        char p[700];
        (void)snprintf(p, sizeof(p), "%s/freezer.state", cg);
        _cleanup_close_ int fd = open(p, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || bridle__write_full(fd, state, strlen(state)) < 0)
                return -errno;
        return 0;
}

static bool freezer_is(const char *cg, const char *state)
{
        char p[700], *buf = NULL;
        (void)snprintf(p, sizeof(p), "%s/freezer.state", cg);
        if (bridle__read_file(AT_FDCWD, p, 64, &buf, NULL) < 0)
                return false;
        bool yes = strncmp(buf, state, strlen(state)) == 0;
        free(buf);
        return yes;
}

/* Every process under init (not init), read from the host's /proc. */
static size_t descendants(pid_t init, pid_t *out, size_t cap)
{
        size_t n = 0;
        pid_t queue[MAX_STOPPED];
        size_t q = 0, nq = 0;
        queue[nq++] = init;
        while (q < nq) {
                char path[64], *buf = NULL;
                pid_t p = queue[q++];
                (void)snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)p, (int)p);
                if (bridle__read_file(AT_FDCWD, path, 65536, &buf, NULL) < 0)
                        continue;
                for (char *save = NULL, *t = strtok_r(buf, " \n", &save); t;
                     t = strtok_r(NULL, " \n", &save)) {
                        pid_t c = (pid_t)atoi(t);
                        if (c > 0 && n < cap && nq < MAX_STOPPED) {
                                out[n++] = c;
                                queue[nq++] = c;
                        }
                }
                free(buf);
        }
        return n;
}

/* Is nothing running in the sandbox but bridle-init itself (its init, the
 * zygote, the egress bridge: they write nothing to the workspace)? Then
 * there is nothing to freeze, and freezing is not free: the first frozen
 * cgroup switches a kernel static key, a code patch on every CPU. Processes
 * are told by their executable (device and inode) against init's own. */
static bool only_init(const struct bridle__sb_state *st)
{
        char p[64];
        struct stat self, sb;
        pid_t v[64];
        (void)snprintf(p, sizeof(p), "/proc/%d/exe", (int)st->pid);
        if (stat(p, &self) < 0)
                return false;
        size_t n = descendants(st->pid, v, sizeof(v) / sizeof(v[0]));
        if (n >= sizeof(v) / sizeof(v[0]))
                return false;
        for (size_t i = 0; i < n; i++) {
                (void)snprintf(p, sizeof(p), "/proc/%d/exe", (int)v[i]);
                if (stat(p, &sb) < 0 || sb.st_dev != self.st_dev || sb.st_ino != self.st_ino)
                        return false;
        }
        return true;
}

static int quiesce(struct quiet *q, bridle_error *err)
{
        const char *cg = q->st->cg_freezer;
        if (cg[0] && freezer_set(cg, "FROZEN") == 0) {
                q->frozen = true;
                for (int i = 0; i < FREEZE_WAIT_MS / 2; i++) {
                        if (freezer_is(cg, "FROZEN"))
                                return 0;
                        (void)usleep(2000);
                }
                (void)freezer_set(cg, "THAWED");
                q->frozen = false;
                return bridle__err(err, -EBUSY, "the sandbox did not freeze within %d ms",
                                   FREEZE_WAIT_MS);
        }
        /* No freezer: stop the tree, twice, so what was forked meanwhile stops too. */
        for (int pass = 0; pass < 2; pass++) {
                q->n_stopped = descendants(q->st->pid, q->stopped, MAX_STOPPED);
                for (size_t i = 0; i < q->n_stopped; i++)
                        (void)kill(q->stopped[i], SIGSTOP);
        }
        return 0;
}

static void resume(struct quiet *q)
{
        if (q->frozen) {
                (void)freezer_set(q->st->cg_freezer, "THAWED");
                return;
        }
        q->n_stopped = descendants(q->st->pid, q->stopped, MAX_STOPPED);
        for (size_t i = 0; i < q->n_stopped; i++)
                (void)kill(q->stopped[i], SIGCONT);
}

/* While a sandbox is quiesced its directory holds "quiesced", locked (flock)
 * by the process that froze it: one killed meanwhile leaves it unlocked, and
 * whoever finds it so thaws the sandbox. The marker appears already locked
 * (made under another name, locked, renamed into place). */
static int quiet_mark(const char *id, bridle_error *err)
{
        char p[4200], tmp[4300];
        int r = bridle__sandbox_path(p, sizeof(p), id, "quiesced", err);
        if (r < 0)
                return r;
        (void)snprintf(tmp, sizeof(tmp), "%s.%d", p, (int)getpid());
        int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return bridle__err(err, -errno, "create '%s'", tmp);
        if (flock(fd, LOCK_EX) < 0 || rename(tmp, p) < 0) {
                r = bridle__err(err, -errno, "mark '%s'", p);
                (void)unlink(tmp);
                close(fd);
                return r;
        }
        return fd;
}

static void quiet_unmark(const char *id, int fd)
{
        char p[4200];
        if (bridle__sandbox_path(p, sizeof(p), id, "quiesced", NULL) == 0)
                (void)unlink(p);
        if (fd >= 0)
                close(fd);
}

void bridle__sandbox_thaw_stale(const char *id)
{
        char p[4200];
        if (bridle__sandbox_path(p, sizeof(p), id, "quiesced", NULL) < 0 || access(p, F_OK) < 0)
                return;
        _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
                return; /* gone, or a snapshot is being written: it thaws it */
        struct bridle__sb_state st;
        if (bridle__sandbox_state_read(id, &st, NULL) == 0) {
                struct quiet q = {.st = &st, .frozen = st.cg_freezer[0] != '\0'};
                resume(&q);
        }
        (void)unlink(p);
}

/* ---- snapshot ----------------------------------------------------------------- */

static int open_source(const char *id, const struct bridle__sb_state *st, bridle_error *err)
{
        char p[4200];
        int r;
        if (st->overlay) {
                if ((r = bridle__sandbox_path(p, sizeof(p), id, "fs/upper", err)) < 0)
                        return r;
        } else
                (void)snprintf(p, sizeof(p), "/proc/%d/root%s", (int)st->pid,
                               st->root[0] ? st->root : "/workspace");
        int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? bridle__err(err, -errno, "open the workspace at '%s'", p) : fd;
}

static int snapshot(const char *ref, const char *label, bool sync, char **ret_snapshot_id,
                    bridle_error *err)
{
        if (!ref || !ret_snapshot_id)
                return bridle__err(err, -EINVAL, "no sandbox");
        if (label && strlen(label) >= sizeof(((struct bridle__snapshot_meta *)0)->label))
                return bridle__err(err, -EINVAL, "the label is longer than 255 bytes");
        char id[16], dir[4096], path[4200];
        struct bridle__sb_state st;
        int r = bridle__sandbox_resolve(ref, id, err);
        if (r < 0 || (r = bridle__sandbox_state_read(id, &st, err)) < 0)
                return r;
        if (!bridle__sandbox_alive(&st))
                return bridle__err(err, -ECONNREFUSED,
                                   "sandbox '%s' is dead (destroy it to clean up)", id);
        if ((r = snapdir(dir, sizeof(dir), err)) < 0)
                return r;
        if ((r = bridle__mkdirs(dir, 0700)) < 0)
                return bridle__err(err, r, "make '%s'", dir);
        struct bridle__snapshot_meta meta;
        memset(&meta, 0, sizeof(meta));
        char sid[16];
        if ((r = bridle__make_id(sid)) < 0)
                return bridle__err(err, r, "make an id");
        (void)snprintf(meta.id, sizeof(meta.id), "%s", sid);
        (void)snprintf(meta.label, sizeof(meta.label), "%s", label ? label : "");
        meta.full = !st.overlay;
        meta.no_sync = !sync;
        /* What the sandbox was made from: restore rebuilds it from this. */
        if ((r = bridle__sandbox_spec_read(id, &meta.manifest_json, err)) < 0)
                return r;
        (void)snprintf(path, sizeof(path), "%s/%s.tar.zst", dir, sid);
        _cleanup_close_ int src = open_source(id, &st, err);
        struct quiet *q = src < 0 ? NULL : bridle__malloc(sizeof(*q));
        if (!q) {
                bridle__snapshot_meta_release(&meta);
                return src < 0 ? src : bridle__err(err, -ENOMEM, "snapshot");
        }
        memset(q, 0, sizeof(*q));
        q->st = &st;
        int mark = only_init(&st) ? -EALREADY : quiet_mark(id, err);
        if (mark == -EALREADY)
                r = bridle__snapshot_write(src, path, &meta, err); /* nothing runs: nothing to freeze */
        else if (mark < 0)
                r = mark;
        else if ((r = quiesce(q, err)) == 0) {
                r = bridle__snapshot_write(src, path, &meta, err);
                resume(q);
        }
        if (mark >= 0)
                quiet_unmark(id, mark);
        free(q);
        bridle__snapshot_meta_release(&meta);
        if (r < 0)
                return r;
        if (st.overlay && st.restored_from[0] &&
            (r = write_parent(dir, sid, st.restored_from, sync, err)) < 0) {
                (void)unlink(path);
                return r;
        }
        if (!(*ret_snapshot_id = bridle__strdup(sid))) {
                (void)unlink(path);
                return bridle__err(err, -ENOMEM, "snapshot id");
        }
        return 0;
}

int bridle_sandbox_snapshot(const char *ref, const char *label, char **ret_snapshot_id,
                            bridle_error *err)
{
        return snapshot(ref, label, true, ret_snapshot_id, err);
}

int bridle_sandbox_checkpoint(const char *ref, const char *label, char **ret_snapshot_id,
                              bridle_error *err)
{
        return snapshot(ref, label, false, ret_snapshot_id, err);
}

/* ---- restore ------------------------------------------------------------------ */

/* Every bind source the spec names must still be there: the sandbox would
 * otherwise fail half-made (after its layers were linked). */
static int check_inputs(const bridle_sandbox_spec *spec, const char *sid, bridle_error *err)
{
        for (size_t i = 0; i < spec->n_entries; i++) {
                const struct spec_entry *e = &spec->entries[i];
                struct stat sb;
                if (e->kind != SPEC_BIND || stat(e->host, &sb) == 0)
                        continue;
                int en = errno;
                return bridle__err(err, -en,
                                   "snapshot '%s': the sandbox's input '%s' (bound%s at '%s')", sid,
                                   e->host, e->flags & BRIDLE_BIND_RO ? " read-only" : "", e->path);
        }
        return 0;
}

/* The spec to restore with: the one the snapshot recorded, less what the
 * layers already hold (file, dir and local_file entries: applying them again
 * would undo the sandbox's own changes, deletions included). A snapshot
 * without one (older ones) gets the default spec. */
static int restore_spec(const char *sid, const char *json, bridle_sandbox_spec **ret,
                        bridle_error *err)
{
        bridle_sandbox_spec *spec = NULL;
        int r = 0;
        if (!json) {
                if (!(spec = bridle_sandbox_spec_new()))
                        return bridle__err(err, -ENOMEM, "spec");
        } else if ((r = bridle__spec_from_json(json, strlen(json), BRIDLE__SPEC_JSON_RESTORE, &spec,
                                               err)) < 0) {
                (void)bridle__err_prefix(err, "snapshot '%s'", sid);
                return r;
        }
        if ((r = check_inputs(spec, sid, err)) < 0) {
                bridle_sandbox_spec_free(spec);
                return r;
        }
        *ret = spec;
        return 0;
}

/* Each archive of the chain must exist and have readable metadata; the
 * topmost one's recorded spec goes to *ret_json (caller frees; may be NULL). */
static int check_chain(const char *sid, char (*ids)[65], char (*paths)[4200], size_t n,
                       const char *dir, char **ret_json, bridle_error *err)
{
        int r = 0;
        for (size_t i = 0; r == 0 && i < n; i++) {
                (void)snprintf(paths[i], 4200, "%s/%s.tar.zst", dir, ids[i]);
                struct bridle__snapshot_meta meta;
                if (access(paths[i], F_OK) < 0)
                        return i == 0 ? bridle__err(err, -ENOENT, "no snapshot '%s'", ids[i])
                                      : bridle__err(err, -ENOENT,
                                                    "snapshot '%s' builds on '%s', which is gone",
                                                    sid, ids[i]);
                if ((r = bridle__snapshot_read_meta(paths[i], &meta, err)) < 0)
                        return r;
                if (i == 0)
                        *ret_json = TAKE_PTR(meta.manifest_json);
                bridle__snapshot_meta_release(&meta);
        }
        return r;
}

/* The spec to restore with when the caller gives one: it, less what the
 * layers hold (as restore_spec does for the recorded one); the egress
 * socket is not part of the JSON. *ret_json is what the sandbox records. */
static int given_spec(const char *sid, const bridle_sandbox_spec *given, bridle_sandbox_spec **ret,
                      char **ret_json, bridle_error *err)
{
        bridle_sandbox_spec *use = NULL;
        int r = bridle__spec_to_json(given, ret_json, err);
        if (r == 0)
                r = bridle__spec_from_json(*ret_json, strlen(*ret_json), BRIDLE__SPEC_JSON_RESTORE,
                                           &use, err);
        if (r == 0 && given->egress_dir)
                r = bridle_sandbox_spec_set_egress(use, given->egress_dir, err);
        if (r == 0)
                r = check_inputs(use, sid, err);
        if (r < 0) {
                bridle_sandbox_spec_free(use);
                return r;
        }
        *ret = use;
        return 0;
}

/* A sandbox on the snapshot's chain of layers, made with the given spec, or
 * (given NULL) with the one the snapshot recorded. */
static int restore(const char *snapshot_id, const bridle_sandbox_spec *given, const char *name,
                   char **ret_id, bridle_error *err)
{
        if (!ret_id)
                return bridle__err(err, -EINVAL, "no result");
        if (!snapid_ok(snapshot_id))
                return bridle__err(err, -EINVAL, "'%s' is not a snapshot id",
                                   snapshot_id ? snapshot_id : "");
        char dir[4096];
        int r = snapdir(dir, sizeof(dir), err);
        if (r < 0)
                return r;
        char(*ids)[65] = bridle__malloc((size_t)MAX_CHAIN * 65);
        char(*paths)[4200] = bridle__malloc((size_t)MAX_CHAIN * 4200);
        const char *chain[MAX_CHAIN];
        char *recorded = NULL, *json = NULL;
        size_t n = 0;
        bridle_sandbox_spec *spec = NULL;
        if (!ids || !paths)
                r = bridle__err(err, -ENOMEM, "restore");
        else
                r = chain_of(dir, snapshot_id, ids, &n, err);
        if (r == 0)
                r = check_chain(snapshot_id, ids, paths, n, dir, &recorded, err);
        for (size_t i = 0; r == 0 && i < n; i++)
                chain[i] = paths[i];
        if (r == 0)
                r = given ? given_spec(snapshot_id, given, &spec, &json, err)
                          : restore_spec(snapshot_id, recorded, &spec, err);
        if (r == 0)
                r = bridle__sandbox_create_ex(spec, name, chain, n, snapshot_id,
                                              given ? json : recorded, ret_id, err);
        bridle_sandbox_spec_free(spec);
        free(recorded);
        free(json);
        free(ids);
        free(paths);
        return r;
}

int bridle_sandbox_restore(const char *snapshot_id, const char *name, char **ret_id,
                           bridle_error *err)
{
        return restore(snapshot_id, NULL, name, ret_id, err);
}

int bridle_sandbox_restore_with(const char *snapshot_id, const bridle_sandbox_spec *spec,
                                const char *name, char **ret_id, bridle_error *err)
{
        if (!spec)
                return bridle__err(err, -EINVAL, "no spec");
        return restore(snapshot_id, spec, name, ret_id, err);
}

/* ---- list and prune ----------------------------------------------------------- */

/* Does an existing sandbox build on this snapshot (restored from it or
 * from a snapshot on top of it)? */
static bool sandbox_needs(const char *dir, const char *snapshot_id)
{
        char home[3072], p[4096];
        if (bridle__home(home, sizeof(home), NULL) < 0)
                return true; /* when unsure, keep */
        (void)snprintf(p, sizeof(p), "%s/sandboxes", home);
        DIR *d = opendir(p);
        bool used = false;
        char(*chain)[65] = bridle__malloc((size_t)MAX_CHAIN * 65);
        if (!chain) {
                if (d)
                        closedir(d);
                return true;
        }
        for (struct dirent *e; d && !used && (e = readdir(d));) {
                struct bridle__sb_state st;
                size_t n = 0;
                if (strlen(e->d_name) != 12 ||
                    bridle__sandbox_state_read(e->d_name, &st, NULL) < 0 || !st.restored_from[0])
                        continue;
                if (chain_of(dir, st.restored_from, chain, &n, NULL) < 0) {
                        used |= strcmp(st.restored_from, snapshot_id) == 0;
                        continue;
                }
                for (size_t i = 0; i < n; i++)
                        used |= strcmp(chain[i], snapshot_id) == 0;
        }
        if (d)
                closedir(d);
        free(chain);
        return used;
}

static int snap_cmp(const void *a, const void *b)
{
        const bridle_snapshot_info *x = a, *y = b;
        return x->created < y->created ? -1 : x->created > y->created;
}

int bridle_sandbox_snapshots(bridle_snapshot_info **ret, size_t *ret_n, bridle_error *err)
{
        if (!ret || !ret_n)
                return bridle__err(err, -EINVAL, "no result");
        char dir[4096], path[4400];
        int r = snapdir(dir, sizeof(dir), err);
        if (r < 0)
                return r;
        bridle_snapshot_info *v = NULL;
        size_t n = 0;
        DIR *d = opendir(dir);
        for (struct dirent *e; d && n < MAX_SNAPSHOTS && (e = readdir(d));) {
                size_t len = strlen(e->d_name);
                if (len <= 8 || strcmp(e->d_name + len - 8, ".tar.zst") != 0)
                        continue;
                char sid[72];
                (void)snprintf(sid, sizeof(sid), "%.*s", (int)(len - 8), e->d_name);
                if (!snapid_ok(sid))
                        continue;
                (void)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
                struct stat sb;
                struct bridle__snapshot_meta meta;
                if (stat(path, &sb) < 0 || bridle__snapshot_read_meta(path, &meta, NULL) < 0)
                        continue; /* unreadable: not listed (and never pruned) */
                bridle_snapshot_info *nv = bridle__realloc(v, (n + 1) * sizeof(*v));
                if (!nv) {
                        bridle__snapshot_meta_release(&meta);
                        free(v);
                        closedir(d);
                        return bridle__err(err, -ENOMEM, "list");
                }
                v = nv;
                memset(&v[n], 0, sizeof(v[n]));
                (void)snprintf(v[n].id, sizeof(v[n].id), "%.64s", sid);
                (void)snprintf(v[n].label, sizeof(v[n].label), "%s", meta.label);
                v[n].created = meta.created;
                v[n].size = (uint64_t)sb.st_size;
                v[n].full = meta.full;
                v[n].in_use = sandbox_needs(dir, sid);
                (void)parent_of(dir, sid, v[n].parent);
                bridle__snapshot_meta_release(&meta);
                n++;
        }
        if (d)
                closedir(d);
        /* A snapshot another one builds on is in use too. */
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n && !v[i].in_use; j++)
                        v[i].in_use = strcmp(v[j].parent, v[i].id) == 0;
        if (n)
                qsort(v, n, sizeof(*v), snap_cmp);
        *ret = v;
        *ret_n = n;
        return (int)(n > 0x7fffffff ? 0x7fffffff : n);
}

/* The snapshot's cached extraction ($BRIDLE_HOME/layers/<id>), if any. */
static void drop_layer(const char *sid)
{
        char home[3072], p[3200];
        if (bridle__home(home, sizeof(home), NULL) < 0)
                return;
        (void)snprintf(p, sizeof(p), "%s/layers", home);
        int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return;
        bridle__rm_tree(fd, sid);
        close(fd);
}

int bridle_sandbox_snapshots_prune(unsigned days, size_t *ret_removed, bridle_error *err)
{
        char dir[4096], path[4400];
        int r = snapdir(dir, sizeof(dir), err);
        if (r < 0)
                return r;
        int64_t cutoff = (int64_t)time(NULL) - (int64_t)days * 86400;
        size_t removed = 0;
        /* Pruning a snapshot may free its parent: a few passes, bounded by the chain length. */
        for (int pass = 0; pass <= MAX_CHAIN; pass++) {
                bridle_snapshot_info *v = NULL;
                size_t n = 0, before = removed;
                if ((r = bridle_sandbox_snapshots(&v, &n, err)) < 0)
                        return r;
                for (size_t i = 0; i < n; i++) {
                        if (v[i].created > cutoff || v[i].in_use)
                                continue;
                        (void)snprintf(path, sizeof(path), "%s/%s.tar.zst", dir, v[i].id);
                        if (unlink(path) < 0 && errno != ENOENT) {
                                r = bridle__err(err, -errno, "remove '%s'", path);
                                break;
                        }
                        (void)snprintf(path, sizeof(path), "%s/%s.parent", dir, v[i].id);
                        (void)unlink(path);
                        drop_layer(v[i].id);
                        removed++;
                }
                free(v);
                if (r < 0 || removed == before)
                        break;
        }
        if (ret_removed)
                *ret_removed = removed;
        return r < 0 ? r : 0;
}

/* ---- delete one --------------------------------------------------------------- */

/* A snapshot whose <id>.parent names sid and whose archive is there: 1 and
 * its id in out, 0 none, or -errno reading the directory. */
static int child_of(const char *dir, const char *sid, char out[65])
{
        DIR *d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        int found = 0;
        size_t seen = 0;
        for (struct dirent *e; !found && seen < 4 * (size_t)MAX_SNAPSHOTS && (e = readdir(d));
             seen++) {
                size_t len = strlen(e->d_name);
                if (len <= 7 || strcmp(e->d_name + len - 7, ".parent") != 0)
                        continue;
                char cid[72], parent[65], p[4200];
                (void)snprintf(cid, sizeof(cid), "%.*s", (int)(len - 7), e->d_name);
                if (!snapid_ok(cid) || parent_of(dir, cid, parent) <= 0 || strcmp(parent, sid) != 0)
                        continue;
                (void)snprintf(p, sizeof(p), "%s/%s.tar.zst", dir, cid);
                if (access(p, F_OK) < 0)
                        continue; /* a stale marker: its archive is gone */
                (void)snprintf(out, 65, "%s", cid);
                found = 1;
        }
        closedir(d);
        return found;
}

int bridle_sandbox_snapshot_delete(const char *snapshot_id, bridle_error *err)
{
        if (!snapid_ok(snapshot_id))
                return bridle__err(err, -EINVAL, "'%s' is not a snapshot id",
                                   snapshot_id ? snapshot_id : "");
        char dir[4096], path[4200], child[65];
        int r = snapdir(dir, sizeof(dir), err);
        if (r < 0)
                return r;
        (void)snprintf(path, sizeof(path), "%s/%s.tar.zst", dir, snapshot_id);
        if (access(path, F_OK) < 0)
                return errno == ENOENT ? bridle__err(err, -ENOENT, "no snapshot '%s'", snapshot_id)
                                       : bridle__err(err, -errno, "snapshot '%s'", path);
        if ((r = child_of(dir, snapshot_id, child)) < 0)
                return bridle__err(err, r, "read '%s'", dir);
        if (r > 0)
                return bridle__err(err, -EBUSY,
                                   "snapshot '%s' is in use: snapshot '%s' builds on it",
                                   snapshot_id, child);
        if (sandbox_needs(dir, snapshot_id))
                return bridle__err(
                        err, -EBUSY,
                        "snapshot '%s' is in use: a sandbox was restored from it or from a "
                        "snapshot on top of it",
                        snapshot_id);
        if (unlink(path) < 0 && errno != ENOENT)
                return bridle__err(err, -errno, "remove '%s'", path);
        (void)snprintf(path, sizeof(path), "%s/%s.parent", dir, snapshot_id);
        if (unlink(path) < 0 && errno != ENOENT)
                return bridle__err(err, -errno, "remove '%s'", path);
        drop_layer(snapshot_id);
        return 0;
}
