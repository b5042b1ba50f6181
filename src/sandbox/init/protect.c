/* SPDX-License-Identifier: MIT */
/*
 * Path rules (BRIDLE__OP_PROTECT): globs over the workspace, enforced by the
 * kernel. Once the workspace is populated (before / goes read-only and long
 * before any command's nested namespace locks the mounts), what matches a
 * deny_write rule is bound over itself read-only, and what matches a
 * deny_read rule is covered: a directory by an empty read-only tmpfs, any
 * other file by /dev/null on a nodev mount (opening it fails). Only what
 * exists now is covered. The walk starts at each rule's literal prefix
 * (a rule under .git walks .git only), never follows symlinks, and is bounded: deeper
 * than INIT_PROTECT_MAX_DEPTH or more than INIT_PROTECT_MAX_ENTRIES entries
 * fails the sandbox rather than leave part of it unprotected.
 *
 * The file operations (builtins.c) also ask init_protect_denied() about the
 * kernel's path (symlinks resolved) so they refuse with the rule's name.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/init/init.h"
#include "util/glob.h"

#define INIT_PROTECT_MAX_RULES   256
#define INIT_PROTECT_MAX_DEPTH   32
#define INIT_PROTECT_MAX_ENTRIES 100000
#define PBUF                     (2 * BRIDLE__INIT_MAX_STR + 16)

struct prule {
        char *glob;
        bool deny_read;
};

static struct prule RULES[INIT_PROTECT_MAX_RULES];
static size_t N_RULES;
static bool ANY_READ;
static char ROOT[BRIDLE__INIT_MAX_STR];

int init_protect_collect(bridle__cursor *c)
{
        uint32_t rd;
        char root[BRIDLE__INIT_MAX_STR], glob[BRIDLE__INIT_MAX_STR];
        if (bridle__rec_u32(c, &rd) < 0 || bridle__rec_str(c, root, sizeof(root)) < 0 ||
            bridle__rec_str(c, glob, sizeof(glob)) < 0)
                return -EBADMSG;
        if (root[0] != '/' || !glob[0] || glob[0] == '/' || (ROOT[0] && strcmp(ROOT, root) != 0))
                return -EBADMSG;
        if (N_RULES >= INIT_PROTECT_MAX_RULES)
                return -E2BIG;
        if (!(RULES[N_RULES].glob = strdup(glob)))
                return -ENOMEM;
        RULES[N_RULES++].deny_read = rd != 0;
        ANY_READ |= rd != 0;
        (void)snprintf(ROOT, sizeof(ROOT), "%s", root);
        return 0;
}

/* The first rule of the kind that matches rel, or NULL. */
static const struct prule *match(const char *rel, bool deny_read)
{
        for (size_t i = 0; i < N_RULES; i++)
                if (RULES[i].deny_read == deny_read && bridle__glob_match(RULES[i].glob, rel))
                        return &RULES[i];
        return NULL;
}

/* ---- the mounts ------------------------------------------------------------ */

struct walk {
        struct init_state *st;
        size_t entries;
};

static int step(struct walk *w, const char *what, const struct prule *r, const char *rel)
{
        int e = -errno;
        (void)snprintf(w->st->step_buf, sizeof(w->st->step_buf), "path rule '%s': %s '%s'", r->glob,
                       what, rel);
        w->st->step = w->st->step_buf;
        return e;
}

static int make_readonly(struct walk *w, const struct prule *r, const char *abs, const char *rel)
{
        struct mount_attr a = {.attr_set =
                                       MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
        if (mount(abs, abs, NULL, MS_BIND | MS_REC, NULL) < 0 ||
            syscall(SYS_mount_setattr, AT_FDCWD, abs, AT_RECURSIVE | AT_SYMLINK_NOFOLLOW, &a,
                    sizeof(a)) < 0)
                return step(w, "bind read-only", r, rel);
        return 0;
}

static int hide(struct walk *w, const struct prule *r, const char *abs, const char *rel, bool dir)
{
        if (dir) {
                if (mount("tmpfs", abs, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                          "mode=0555,size=4k") < 0)
                        return step(w, "cover", r, rel);
                return 0;
        }
        struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
                                           MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC};
        if (mount("/dev/null", abs, NULL, MS_BIND, NULL) < 0 ||
            syscall(SYS_mount_setattr, AT_FDCWD, abs, AT_SYMLINK_NOFOLLOW, &a, sizeof(a)) < 0)
                return step(w, "cover", r, rel);
        return 0;
}

/* rel: "" for the workspace itself. only_read: under a read-only bind already. */
static int visit(struct walk *w, char *rel, size_t rlen, int depth, bool only_read)
{
        char abs[PBUF];
        (void)snprintf(abs, sizeof(abs), "%s%s%s", ROOT, rlen ? "/" : "", rel);
        struct stat st;
        if (lstat(abs, &st) < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
        if (S_ISLNK(st.st_mode)) /* its target is covered under its own name */
                return 0;
        if (++w->entries > INIT_PROTECT_MAX_ENTRIES) {
                (void)snprintf(w->st->step_buf, sizeof(w->st->step_buf),
                               "path rules: more than %d entries to walk in the workspace",
                               INIT_PROTECT_MAX_ENTRIES);
                w->st->step = w->st->step_buf;
                return -E2BIG;
        }
        bool dir = S_ISDIR(st.st_mode);
        const struct prule *r;
        int e;
        if (rlen && (r = match(rel, true)))
                return hide(w, r, abs, rel, dir);
        if (rlen && !only_read && (r = match(rel, false))) {
                if ((e = make_readonly(w, r, abs, rel)) < 0)
                        return e;
                only_read = true;
        }
        if (!dir || (only_read && !ANY_READ))
                return 0;
        if (depth >= INIT_PROTECT_MAX_DEPTH) {
                (void)snprintf(w->st->step_buf, sizeof(w->st->step_buf),
                               "path rules: '%.200s' is deeper than %d levels", rel,
                               INIT_PROTECT_MAX_DEPTH);
                w->st->step = w->st->step_buf;
                return -ELOOP;
        }
        DIR *d = opendir(abs);
        if (!d)
                return -errno;
        e = 0;
        for (struct dirent *de; e == 0 && (de = readdir(d));) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                size_t nl = strlen(de->d_name);
                if (rlen + 1 + nl >= BRIDLE__INIT_MAX_STR) {
                        e = -ENAMETOOLONG;
                        break;
                }
                size_t n = rlen;
                if (n)
                        rel[n++] = '/';
                memcpy(rel + n, de->d_name, nl + 1);
                e = visit(w, rel, n + nl, depth + 1, only_read);
                rel[rlen] = '\0';
        }
        closedir(d);
        return e;
}

/* The literal leading components of a glob (before the first with a wildcard). */
static size_t literal_prefix(const char *g)
{
        size_t keep = 0;
        for (size_t i = 0;; i++) {
                if (g[i] == '/' || !g[i])
                        keep = i;
                if (!g[i] || strchr("*?[\\", g[i]))
                        break;
        }
        /* keep ends at a component boundary before the first wildcard (or the whole glob) */
        return keep;
}

static bool is_under(const char *a, size_t al, const char *b, size_t bl)
{
        return al == 0 || (bl >= al && memcmp(a, b, al) == 0 && (bl == al || b[al] == '/'));
}

/* The workspace path rel resolves inside the workspace. */
static bool inside(const char *rel)
{
        char abs[PBUF], real[PATH_MAX], root[PATH_MAX];
        (void)snprintf(abs, sizeof(abs), "%s/%s", ROOT, rel);
        if (!realpath(abs, real) || !realpath(ROOT, root))
                return false;
        size_t rl = strlen(root);
        return strncmp(real, root, rl) == 0 && (real[rl] == '/' || !real[rl]);
}

int init_protect_apply(struct init_state *st)
{
        struct walk w = {st, 0};
        char rel[BRIDLE__INIT_MAX_STR];
        for (size_t i = 0; i < N_RULES; i++) {
                size_t pl = literal_prefix(RULES[i].glob);
                bool covered = false; /* by an earlier root, or a shorter one */
                for (size_t j = 0; j < N_RULES && !covered; j++) {
                        size_t ql = literal_prefix(RULES[j].glob);
                        if (j == i || !is_under(RULES[j].glob, ql, RULES[i].glob, pl))
                                continue;
                        covered = ql < pl || j < i;
                }
                if (covered)
                        continue;
                memcpy(rel, RULES[i].glob, pl);
                rel[pl] = '\0';
                if (pl && !inside(rel))
                        continue; /* through a symlink out of the workspace, or missing */
                int r = visit(&w, rel, pl, 0, false);
                if (r < 0) {
                        if (!st->step || strncmp(st->step, "path rule", 9) != 0) {
                                (void)snprintf(st->step_buf, sizeof(st->step_buf),
                                               "path rules: walk '%s'", rel);
                                st->step = st->step_buf;
                        }
                        return r;
                }
        }
        return 0;
}

/* ---- the file operations' check --------------------------------------------- */

/* path made absolute (relative to the cwd), as given. */
static int absolute(const char *path, char *out, size_t cap)
{
        if (path[0] == '/')
                return (size_t)snprintf(out, cap, "%s", path) >= cap ? -ENAMETOOLONG : 0;
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof(cwd)))
                return -errno;
        return (size_t)snprintf(out, cap, "%s/%s", cwd, path) >= cap ? -ENAMETOOLONG : 0;
}

/* An absolute path folded lexically: no ".", "..", or empty components. */
static void fold(const char *in, char *out, size_t cap)
{
        size_t o = 0;
        out[0] = '\0';
        for (const char *c = in; *c;) {
                size_t n = strcspn(c, "/");
                if (n == 0 || (n == 1 && c[0] == '.')) {
                } else if (n == 2 && c[0] == '.' && c[1] == '.') {
                        while (o > 0 && out[--o] != '/')
                                ;
                        out[o] = '\0';
                } else if (o + 1 + n < cap) {
                        out[o++] = '/';
                        memcpy(out + o, c, n);
                        o += n;
                        out[o] = '\0';
                }
                c += n + (c[n] == '/');
        }
        if (o == 0)
                (void)snprintf(out, cap, "/");
}

/* What the kernel would reach: the longest existing prefix of raw resolved
 * (symlinks and ".." as the kernel takes them), the rest folded onto it. */
static void resolve(const char *raw, char *out, size_t cap)
{
        char head[PBUF], joined[PBUF + PATH_MAX];
        (void)snprintf(head, sizeof(head), "%s", raw);
        for (int i = 0; i < 256; i++) {
                char real[PATH_MAX];
                if (realpath(head, real)) {
                        (void)snprintf(joined, sizeof(joined), "%s/%s", real, raw + strlen(head));
                        fold(joined, out, cap);
                        return;
                }
                char *slash = strrchr(head, '/');
                if (!slash || slash == head)
                        break;
                *slash = '\0';
        }
        fold(raw, out, cap);
}

static const struct prule *check_one(const char *abs, bool write)
{
        size_t rl = strlen(ROOT);
        if (strncmp(abs, ROOT, rl) != 0 || (abs[rl] && abs[rl] != '/'))
                return NULL;
        const char *rel = abs[rl] ? abs + rl + 1 : "";
        const struct prule *r = match(rel, true);
        return r || !write ? r : match(rel, false);
}

const char *init_protect_denied(const char *path, bool write, bool *ret_read_rule)
{
        if (!N_RULES || !path)
                return NULL;
        char raw[PBUF], norm[PBUF], real[PBUF];
        if (absolute(path, raw, sizeof(raw)) < 0)
                return NULL; /* too long to name: the mounts still hold */
        fold(raw, norm, sizeof(norm));
        resolve(raw, real, sizeof(real));
        const struct prule *r = check_one(real, write);
        if (!r)
                r = check_one(norm, write);
        if (r && ret_read_rule)
                *ret_read_rule = r->deny_read;
        return r ? r->glob : NULL;
}
