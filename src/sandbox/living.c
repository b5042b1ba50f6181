/* SPDX-License-Identifier: MIT */
/*
 * Living sandboxes: create, exec, destroy, list. State lives under
 * $BRIDLE_HOME/sandboxes/<id>/ (mode 0700): `sock`, the socket init serves
 * on, and `state`, a few "key=value" lines (pid, start time, name, created,
 * cgroup directories). A name is a symlink $BRIDLE_HOME/names/<name> -> <id>.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/capture.h"
#include "sandbox/living.h"
#include "sandbox/spawn.h"
#include "sandbox/spec.h"
#include "snapshot/snapshot.h"
#include "sandbox/wire.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/rmtree.h"
#include "util/fd.h"

int bridle__home(char *out, size_t cap, bridle_error *err)
{
        const char *h = getenv("BRIDLE_HOME");
        int n;
        if (h && *h)
                n = snprintf(out, cap, "%s", h);
        else {
                const char *home = getenv("HOME");
                if (!home || !*home)
                        return bridle__err(err, -ENOENT, "neither BRIDLE_HOME nor HOME is set");
                n = snprintf(out, cap, "%s/.local/share/bridle", home);
        }
        return n < 0 || (size_t)n >= cap ? bridle__err(err, -ENAMETOOLONG, "BRIDLE_HOME is too long") : 0;
}

int bridle__mkdirs(const char *path, mode_t mode)
{
        char buf[4096];
        if (strlen(path) >= sizeof(buf))
                return -ENAMETOOLONG;
        strcpy(buf, path);
        for (char *p = buf + 1; *p; p++)
                if (*p == '/') {
                        *p = '\0';
                        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        *p = '/';
                }
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* $BRIDLE_HOME/sandboxes/<id>[/leaf] */
int bridle__sandbox_path(char *out, size_t cap, const char *id, const char *leaf, bridle_error *err)
{
        char home[3072];
        int r = bridle__home(home, sizeof(home), err);
        if (r < 0)
                return r;
        int n = snprintf(out, cap, "%s/sandboxes/%s%s%s", home, id, leaf ? "/" : "", leaf ? leaf : "");
        return n < 0 || (size_t)n >= cap ? bridle__err(err, -ENAMETOOLONG, "sandbox path too long") : 0;
}

static bool id_ok(const char *s)
{
        size_t n = strlen(s);
        if (n == 0 || n > 63)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                      *s == '-' || *s == '_' || *s == '.'))
                        return false;
        return true;
}

/* An id or a name -> the id. */
int bridle__sandbox_resolve(const char *ref, char out[16], bridle_error *err)
{
        if (!ref || !id_ok(ref) || ref[0] == '.')
                return bridle__err(err, -EINVAL, "'%s' is not a sandbox id or name", ref ? ref : "");
        char home[3072], p[4096], target[64];
        int r = bridle__home(home, sizeof(home), err);
        if (r < 0)
                return r;
        (void)snprintf(p, sizeof(p), "%s/names/%s", home, ref);
        ssize_t n = readlink(p, target, sizeof(target) - 1);
        if (n > 0 && n < 16) {
                target[n] = '\0';
                memcpy(out, target, (size_t)n + 1);
                return 0;
        }
        if (strlen(ref) != 12)
                return bridle__err(err, -ENOENT, "no sandbox '%s'", ref);
        memcpy(out, ref, 13);
        (void)snprintf(p, sizeof(p), "%s/sandboxes/%s", home, ref);
        if (access(p, F_OK) < 0)
                return bridle__err(err, -ENOENT, "no sandbox '%s'", ref);
        return 0;
}

/* Field 22 of /proc/<pid>/stat: tells a pid from a later process that reused it.
 * A zombie (field 3 'Z' or 'X') counts as gone: 0. */
static unsigned long long start_time(pid_t pid)
{
        char p[64], *buf = NULL;
        (void)snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
        if (bridle__read_file(AT_FDCWD, p, 4096, &buf, NULL) < 0)
                return 0;
        char *s = strrchr(buf, ')');
        if (s && s[1] == ' ' && (s[2] == 'Z' || s[2] == 'X')) {
                free(buf);
                return 0;
        }
        unsigned long long v = 0;
        for (int field = 2; s && *s; s++)
                if (*s == ' ' && ++field == 22) {
                        v = strtoull(s + 1, NULL, 10);
                        break;
                }
        free(buf);
        return v;
}

int bridle__sandbox_state_write(const char *id, const struct bridle__sb_state *st, bridle_error *err)
{
        char p[4096], tmp[4200], buf[1536];
        int r = bridle__sandbox_path(p, sizeof(p), id, "state", err);
        if (r < 0)
                return r;
        int n = snprintf(buf, sizeof(buf),
                         "pid=%d\nstart=%llu\ncreated=%lld\nname=%s\ncg_mem=%s\ncg_pids=%s\n"
                         "overlay=%d\ncg_freezer=%s\nrestored_from=%s\nroot=%s\n",
                         (int)st->pid, st->start, (long long)st->created, st->name, st->cg_mem, st->cg_pids,
                         st->overlay, st->cg_freezer, st->restored_from, st->root);
        (void)snprintf(tmp, sizeof(tmp), "%s.tmp", p);
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || bridle__write_full(fd, buf, (size_t)n) < 0 || rename(tmp, p) < 0)
                return bridle__err(err, -errno, "write '%s'", p);
        return 0;
}

static void state_field(struct bridle__sb_state *st, const char *k, const char *v)
{
        if (!strcmp(k, "pid"))
                st->pid = (pid_t)atoi(v);
        else if (!strcmp(k, "start"))
                st->start = strtoull(v, NULL, 10);
        else if (!strcmp(k, "created"))
                st->created = strtoll(v, NULL, 10);
        else if (!strcmp(k, "name"))
                (void)snprintf(st->name, sizeof(st->name), "%s", v);
        else if (!strcmp(k, "cg_mem"))
                (void)snprintf(st->cg_mem, sizeof(st->cg_mem), "%s", v);
        else if (!strcmp(k, "cg_pids"))
                (void)snprintf(st->cg_pids, sizeof(st->cg_pids), "%s", v);
        else if (!strcmp(k, "overlay"))
                st->overlay = atoi(v);
        else if (!strcmp(k, "cg_freezer"))
                (void)snprintf(st->cg_freezer, sizeof(st->cg_freezer), "%s", v);
        else if (!strcmp(k, "root"))
                (void)snprintf(st->root, sizeof(st->root), "%s", v);
        else if (!strcmp(k, "restored_from"))
                (void)snprintf(st->restored_from, sizeof(st->restored_from), "%s", v);
}

int bridle__sandbox_state_read(const char *id, struct bridle__sb_state *st, bridle_error *err)
{
        char p[4096], *buf = NULL;
        int r = bridle__sandbox_path(p, sizeof(p), id, "state", err);
        if (r < 0)
                return r;
        if ((r = bridle__read_file(AT_FDCWD, p, 8192, &buf, NULL)) < 0)
                return bridle__err(err, r == -ENOENT ? -ENOENT : r, "no sandbox '%s'", id);
        memset(st, 0, sizeof(*st));
        for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *eq = strchr(line, '=');
                if (eq) {
                        *eq = '\0';
                        state_field(st, line, eq + 1);
                }
        }
        free(buf);
        return 0;
}

bool bridle__sandbox_alive(const struct bridle__sb_state *st)
{
        return st->pid > 0 && start_time(st->pid) == st->start && kill(st->pid, 0) == 0;
}

int bridle__make_id(char out[16])
{
        uint8_t b[6];
        if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
                return -errno;
        for (int i = 0; i < 6; i++)
                (void)snprintf(out + 2 * i, 3, "%02x", b[i]);
        return 0;
}

static int listen_at(const char *path, bridle_error *err)
{
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof(a.sun_path))
                return bridle__err(err, -ENAMETOOLONG, "socket path '%s' is too long (set BRIDLE_HOME shorter)", path);
        strcpy(a.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return bridle__err(err, -errno, "socket");
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || chmod(path, 0600) < 0 || listen(fd, 64) < 0) {
                int e = -errno;
                close(fd);
                return bridle__err(err, e, "listen on '%s'", path);
        }
        return fd;
}

static int link_name(const char *name, const char *id, bridle_error *err)
{
        char home[3072], p[4096];
        int r = bridle__home(home, sizeof(home), err);
        if (r < 0)
                return r;
        (void)snprintf(p, sizeof(p), "%s/names", home);
        if ((r = bridle__mkdirs(p, 0700)) < 0)
                return bridle__err(err, r, "make '%s'", p);
        (void)snprintf(p, sizeof(p), "%s/names/%s", home, name);
        if (symlink(id, p) < 0)
                return bridle__err(err, -errno, errno == EEXIST ? "a sandbox is already named '%s'"
                                                                : "name the sandbox '%s'", name);
        return 0;
}

static int lchown_tree(int at, uid_t uid, gid_t gid, int depth)
{
        if (depth > 512)
                return -ELOOP;
        int fd = fcntl(at, F_DUPFD_CLOEXEC, 3);
        DIR *d = fd < 0 ? NULL : fdopendir(fd);
        if (!d) {
                if (fd >= 0)
                        close(fd);
                return -errno;
        }
        int r = 0;
        for (struct dirent *e; r == 0 && (e = readdir(d));) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                        continue;
                if (fchownat(dirfd(d), e->d_name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = -errno;
                        break;
                }
                if (e->d_type != DT_DIR)
                        continue;
                int c = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                r = c < 0 ? -errno : lchown_tree(c, uid, gid, depth + 1);
                if (c >= 0)
                        close(c);
        }
        closedir(d);
        return r;
}

/* Copy the opaque marker (the only xattr a layer holds) from one dir to another. */
static int copy_opaque(int src, int dst)
{
        static const char *const names[] = { "user.overlay.opaque", "trusted.overlay.opaque" };
        for (size_t i = 0; i < 2; i++) {
                char v[8];
                ssize_t n = fgetxattr(src, names[i], v, sizeof(v));
                if (n > 0 && fsetxattr(dst, names[i], v, (size_t)n, 0) < 0)
                        return -errno;
        }
        return 0;
}

static int link_tree(int src, int dst, int depth);

/* A directory of a layer: made anew (opaque marker, mode), its entries linked. */
static int link_dir(int src, int dst, const char *nm, mode_t mode, int depth)
{
        int r = 0, cs = -1, cd = -1;
        if (mkdirat(dst, nm, 0700) < 0 || (cs = openat(src, nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
            (cd = openat(dst, nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
                r = -errno;
        if (r == 0)
                r = copy_opaque(cs, cd);
        if (r == 0)
                r = link_tree(cs, cd, depth + 1);
        if (r == 0 && fchmod(cd, mode & 07777) < 0)
                r = -errno;
        if (cs >= 0)
                close(cs);
        if (cd >= 0)
                close(cd);
        return r;
}

/* One entry of a layer: a regular file hard-linked, anything else made anew
 * with the same owner and mtime. */
static int link_entry(int src, int dst, const char *nm, int depth)
{
        struct stat st;
        if (fstatat(src, nm, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (S_ISREG(st.st_mode))
                return linkat(src, nm, dst, nm, 0) < 0 ? -errno : 0;
        int r = 0;
        if (S_ISLNK(st.st_mode)) {
                char target[4097];
                ssize_t n = readlinkat(src, nm, target, sizeof(target) - 1);
                if (n < 0 || (target[n] = '\0', symlinkat(target, dst, nm) < 0))
                        r = -errno;
        } else if (S_ISCHR(st.st_mode) && st.st_rdev == 0)
                r = mknodat(dst, nm, S_IFCHR | (st.st_mode & 0777), 0) < 0 ? -errno : 0;
        else if (S_ISDIR(st.st_mode))
                r = link_dir(src, dst, nm, st.st_mode, depth);
        else
                r = -EINVAL;
        if (r == 0 && fchownat(dst, nm, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                r = -errno;
        struct timespec t[2] = { st.st_atim, st.st_mtim };
        if (r == 0)
                (void)utimensat(dst, nm, t, AT_SYMLINK_NOFOLLOW);
        return r;
}

/* Rebuild the tree at src under dst: directories, symlinks and whiteouts made
 * anew, regular files hard-linked (lower layers are never written, so a
 * cached layer can back any number of sandboxes). */
static int link_tree(int src, int dst, int depth)
{
        if (depth > 512)
                return -ELOOP;
        int fd = fcntl(src, F_DUPFD_CLOEXEC, 3);
        DIR *d = fd < 0 ? NULL : fdopendir(fd);
        if (!d) {
                if (fd >= 0)
                        close(fd);
                return -errno;
        }
        int r = 0;
        for (struct dirent *e; r == 0 && (e = readdir(d));)
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                        r = link_entry(src, dst, e->d_name, depth);
        closedir(d);
        return r;
}

/* $BRIDLE_HOME/layers/<snapshot id>: the archive extracted once (all or
 * nothing, into a temporary name, then renamed), owned by the sandbox's root.
 * Returns an fd on it. */
static int cached_layer(const char *archive, uid_t uid, gid_t gid, bridle_error *err)
{
        char home[3072], dir[3200], sid[72], tmp[100];
        const char *base = strrchr(archive, '/');
        base = base ? base + 1 : archive;
        size_t bl = strcspn(base, ".");
        if (bl == 0 || bl >= sizeof(sid))
                return bridle__err(err, -EINVAL, "'%s' is not a snapshot archive's name", archive);
        (void)snprintf(sid, sizeof(sid), "%.*s", (int)bl, base);
        int r = bridle__home(home, sizeof(home), err);
        if (r < 0)
                return r;
        (void)snprintf(dir, sizeof(dir), "%s/layers", home);
        if ((r = bridle__mkdirs(dir, 0700)) < 0)
                return bridle__err(err, r, "make '%s'", dir);
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return bridle__err(err, -errno, "open '%s'", dir);
        int fd = openat(dfd, sid, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0)
                return fd;
        char rnd[16];
        if ((r = bridle__make_id(rnd)) < 0)
                return bridle__err(err, r, "make an id");
        (void)snprintf(tmp, sizeof(tmp), ".tmp-%s", rnd);
        if (mkdirat(dfd, tmp, 0755) < 0)
                return bridle__err(err, -errno, "make '%s/%s'", dir, tmp);
        _cleanup_close_ int tfd = openat(dfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        r = tfd < 0 ? bridle__err(err, -errno, "open '%s/%s'", dir, tmp) : bridle__snapshot_extract(archive, tfd, err);
        if (r == 0 && ((r = lchown_tree(tfd, uid, gid, 0)) < 0 || (r = fchown(tfd, uid, gid) < 0 ? -errno : 0) < 0))
                (void)bridle__err(err, r, "hand the restored files to the sandbox's user");
        if (r == 0 && renameat(dfd, tmp, dfd, sid) < 0 && errno != ENOTEMPTY && errno != EEXIST)
                r = bridle__err(err, -errno, "rename '%s/%s'", dir, tmp);
        bridle__rm_tree(dfd, tmp); /* a concurrent restore cached it first, or a failure */
        if (r < 0)
                return r;
        fd = openat(dfd, sid, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? bridle__err(err, -errno, "open '%s/%s'", dir, sid) : fd;
}

/* dir/fs/ with upper/, work/ and the lower layers l0/ .. l<n-1>/ (topmost
 * first): each one a snapshot of the chain (its cached extraction, linked
 * in), or one empty l0/; all owned by the sandbox's root. */
static int make_layers(const char *dir, const char *const *chain, size_t n, bridle_error *err)
{
        static const char *const leaves[] = { "fs", "fs/upper", "fs/work" };
        uid_t uid;
        gid_t gid;
        bridle__spawn_host_ids(&uid, &gid);
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return bridle__err(err, -errno, "open '%s'", dir);
        for (size_t i = 0; i < 3; i++)
                if (mkdirat(dfd, leaves[i], i == 0 ? 0700 : 0755) < 0 ||
                    fchownat(dfd, leaves[i], uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                        return bridle__err(err, -errno, "make '%s/%s'", dir, leaves[i]);
        for (size_t i = 0; i < (n ? n : 1); i++) {
                char leaf[32];
                (void)snprintf(leaf, sizeof(leaf), "fs/l%zu", i);
                if (mkdirat(dfd, leaf, 0755) < 0 || fchownat(dfd, leaf, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                        return bridle__err(err, -errno, "make '%s/%s'", dir, leaf);
                if (!n)
                        break;
                _cleanup_close_ int lfd = openat(dfd, leaf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (lfd < 0)
                        return bridle__err(err, -errno, "open '%s/%s'", dir, leaf);
                _cleanup_close_ int cfd = cached_layer(chain[i], uid, gid, err);
                if (cfd < 0)
                        return cfd;
                int r = link_tree(cfd, lfd, 0);
                if (r == 0)
                        r = copy_opaque(cfd, lfd);
                if (r < 0)
                        return bridle__err(err, r, "link the layer of '%s' into '%s/%s'", chain[i], dir, leaf);
        }
        return 0;
}

/* A v1 freezer cgroup holding init (and so every command): how snapshots
 * quiesce the sandbox. Best effort: empty when there is none. */
static void make_freezer(const char *id, pid_t pid, char *out, size_t cap)
{
        char p[128], v[32];
        out[0] = '\0';
        (void)snprintf(p, sizeof(p), "/sys/fs/cgroup/freezer/bridle-%.16s", id);
        if (mkdir(p, 0755) < 0)
                return;
        (void)snprintf(v, sizeof(v), "%d\n", (int)pid);
        char procs[160];
        (void)snprintf(procs, sizeof(procs), "%s/cgroup.procs", p);
        int fd = open(procs, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || bridle__write_full(fd, v, strlen(v)) < 0) {
                if (fd >= 0)
                        close(fd);
                (void)rmdir(p);
                return;
        }
        close(fd);
        (void)snprintf(out, cap, "%s", p);
}

static bool is_overlay(pid_t pid, const char *root)
{
        char p[4200];
        struct statfs sf;
        (void)snprintf(p, sizeof(p), "/proc/%d/root%s", (int)pid, root);
        return statfs(p, &sf) == 0 && sf.f_type == OVERLAYFS_SUPER_MAGIC;
}

static bool name_ok(const char *name)
{
        return !name || (id_ok(name) && name[0] != '.' && strlen(name) != 12);
}

/* The state of a sandbox that just started, written to its state file. */
static int record_state(const char *id, const char *name, const struct bridle_sandbox_spec *ospec,
                        const struct bridle__served *sv, const char *snapshot_id, struct bridle__sb_state *st,
                        bridle_error *err)
{
        st->start = start_time(sv->pid);
        (void)snprintf(st->name, sizeof(st->name), "%s", name ? name : "");
        memcpy(st->cg_mem, sv->cgroup.mem, sizeof(st->cg_mem));
        memcpy(st->cg_pids, sv->cgroup.pids, sizeof(st->cg_pids));
        st->overlay = ospec->overlay && is_overlay(sv->pid, ospec->root);
        (void)snprintf(st->root, sizeof(st->root), "%s", ospec->root);
        (void)snprintf(st->restored_from, sizeof(st->restored_from), "%s", snapshot_id ? snapshot_id : "");
        make_freezer(id, sv->pid, st->cg_freezer, sizeof(st->cg_freezer));
        return bridle__sandbox_state_write(id, st, err);
}

int bridle_sandbox_create(const bridle_sandbox_spec *spec, const char *name, char **ret_id,
                          bridle_error *err)
{
        return bridle__sandbox_create_ex(spec, name, NULL, 0, NULL, NULL, ret_id, err);
}

/* sandboxes/<id>/spec.json: what the sandbox was made from (spec_json.c), so
 * that its snapshots carry it and restore can rebuild it. json: recorded as
 * given (restore keeps the original's), or NULL to serialise spec. */
static int record_spec(const char *id, const bridle_sandbox_spec *spec, const char *json, bridle_error *err)
{
        _cleanup_free_ char *own = NULL;
        int r;
        if (!json) {
                if ((r = bridle__spec_to_json(spec, &own, err)) < 0)
                        return r;
                json = own;
        }
        char p[4096];
        if ((r = bridle__sandbox_path(p, sizeof(p), id, "spec.json", err)) < 0)
                return r;
        _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 || (r = bridle__write_full(fd, json, strlen(json))) < 0)
                return bridle__err(err, fd < 0 ? -errno : r, "write '%s'", p);
        return 0;
}

int bridle__sandbox_spec_read(const char *id, char **ret_json, bridle_error *err)
{
        char p[4096];
        char *buf = NULL;
        int r = bridle__sandbox_path(p, sizeof(p), id, "spec.json", err);
        if (r < 0)
                return r;
        r = bridle__read_file(AT_FDCWD, p, BRIDLE__SPEC_JSON_MAX, &buf, NULL);
        if (r == -ENOENT) {
                *ret_json = NULL;
                return 0;
        }
        if (r < 0)
                return bridle__err(err, r, "read '%s'", p);
        *ret_json = buf;
        return 0;
}

int bridle__sandbox_create_ex(const bridle_sandbox_spec *spec, const char *name, const char *const *chain,
                              size_t n_chain, const char *snapshot_id, const char *spec_json, char **ret_id,
                              bridle_error *err)
{
        if (!spec || !ret_id)
                return bridle__err(err, -EINVAL, "no spec");
        if (!name_ok(name))
                return bridle__err(err, BRIDLE_E_INVALID, "'%s' is not a usable name (letters, digits, '-', '_', '.'; not 12 characters)", name);
        char id[16], dir[4096], sock[4096];
        int r = bridle__make_id(id);
        if (r < 0)
                return bridle__err(err, r, "make an id");
        if ((r = bridle__sandbox_path(dir, sizeof(dir), id, NULL, err)) < 0 || (r = bridle__sandbox_path(sock, sizeof(sock), id, "sock", err)) < 0)
                return r;
        if ((r = bridle__mkdirs(dir, 0700)) < 0)
                return bridle__err(err, r, "make '%s'", dir);
        if (name && (r = link_name(name, id, err)) < 0) {
                (void)rmdir(dir);
                return r;
        }
        struct bridle_sandbox_spec ospec = *spec; /* shallow: only .overlay differs */
        char fsdir[4200];
        if ((r = record_spec(id, spec, spec_json, err)) < 0 ||
            (!spec->workspace && (r = make_layers(dir, chain, n_chain, err)) < 0)) {
                (void)bridle_sandbox_destroy(id, NULL);
                return r;
        }
        if (!spec->workspace) {
                (void)snprintf(fsdir, sizeof(fsdir), "%s/fs", dir);
                ospec.overlay = fsdir;
                ospec.overlay_lowers = n_chain ? (unsigned)n_chain : 1u;
        }
        _cleanup_close_ int lfd = listen_at(sock, err);
        struct bridle__served sv;
        memset(&sv, 0, sizeof(sv));
        r = lfd < 0 ? lfd : bridle__sandbox_serve(&ospec, lfd, &sv, err);
        struct bridle__sb_state st = { .pid = sv.pid, .created = (int64_t)time(NULL) };
        if (r >= 0)
                r = record_state(id, name, &ospec, &sv, snapshot_id, &st, err);
        if (r >= 0 && n_chain && !st.overlay)
                r = bridle__err(err, -EOPNOTSUPP, "no overlay workspace here: a snapshot cannot be restored");
        if (r < 0) {
                if (sv.pid > 0)
                        (void)kill(sv.pid, SIGKILL);
                bridle__cgroup_destroy(&sv.cgroup);
                (void)bridle_sandbox_destroy(id, NULL);
                return r;
        }
        if (!(*ret_id = bridle__strdup(id)))
                return bridle__err(err, -ENOMEM, "id");
        return 0;
}

int bridle__sandbox_connect(const char *id, bridle_error *err)
{
        struct bridle__sb_state st;
        char p[4096];
        int r = bridle__sandbox_state_read(id, &st, err);
        if (r < 0)
                return r;
        if (!bridle__sandbox_alive(&st))
                return bridle__err(err, -ECONNREFUSED, "sandbox '%s' is dead (destroy it to clean up)", id);
        bridle__sandbox_thaw_stale(id);
        if ((r = bridle__sandbox_path(p, sizeof(p), id, "sock", err)) < 0)
                return r;
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        if (strlen(p) >= sizeof(a.sun_path))
                return bridle__err(err, -ENAMETOOLONG, "socket path '%s' is too long", p);
        strcpy(a.sun_path, p);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return bridle__err(err, -errno, "socket");
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                int e = -errno;
                close(fd);
                return bridle__err(err, e, "sandbox '%s' does not answer", id);
        }
        return fd;
}

static void unlink_names(const char *id)
{
        char home[3072], p[4096], t[64];
        if (bridle__home(home, sizeof(home), NULL) < 0)
                return;
        (void)snprintf(p, sizeof(p), "%s/names", home);
        DIR *d = opendir(p);
        if (!d)
                return;
        for (struct dirent *e; (e = readdir(d));) {
                ssize_t n = readlinkat(dirfd(d), e->d_name, t, sizeof(t) - 1);
                if (n > 0 && (size_t)n == strlen(id) && memcmp(t, id, (size_t)n) == 0)
                        (void)unlinkat(dirfd(d), e->d_name, 0);
        }
        closedir(d);
}

/* A frozen task does not die of SIGKILL until thawed. */
static void thaw(const struct bridle__sb_state *st)
{
        char p[512];
        if (!st->cg_freezer[0])
                return;
        (void)snprintf(p, sizeof(p), "%s/freezer.state", st->cg_freezer);
        int fd = open(p, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
                (void)bridle__write_full(fd, "THAWED", 6);
                close(fd);
        }
}

/* Kill init (its pid namespace goes with it) and wait, bounded, until it is gone. */
static void kill_init(const struct bridle__sb_state *st)
{
        if (!bridle__sandbox_alive(st))
                return;
        int pfd = (int)syscall(SYS_pidfd_open, st->pid, 0);
        if (pfd < 0)
                return;
        if (start_time(st->pid) == st->start)
                (void)syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
        struct pollfd p = { pfd, POLLIN, 0 };
        (void)poll(&p, 1, 5000);
        close(pfd);
        (void)waitpid(st->pid, NULL, WNOHANG); /* if it was our child */
}

int bridle_sandbox_destroy(const char *ref, bridle_error *err)
{
        char id[16], p[4096];
        int r = bridle__sandbox_resolve(ref, id, err);
        if (r < 0)
                return r;
        struct bridle__sb_state st;
        if (bridle__sandbox_state_read(id, &st, NULL) == 0) {
                thaw(&st);
                kill_init(&st);
                if (st.cg_freezer[0])
                        (void)rmdir(st.cg_freezer);
                struct bridle__cgroup cg;
                memset(&cg, 0, sizeof(cg));
                memcpy(cg.mem, st.cg_mem, sizeof(cg.mem));
                memcpy(cg.pids, st.cg_pids, sizeof(cg.pids));
                bridle__cgroup_destroy(&cg);
        }
        unlink_names(id);
        const char *leaves[] = { "sock", "state", "state.tmp", "spec.json" };
        for (size_t i = 0; i < ELEMENTSOF(leaves); i++)
                if (bridle__sandbox_path(p, sizeof(p), id, leaves[i], NULL) == 0)
                        (void)unlink(p);
        if ((r = bridle__sandbox_path(p, sizeof(p), id, NULL, err)) < 0)
                return r;
        int dfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
                bridle__rm_tree(dfd, "fs");
                close(dfd);
        }
        if (rmdir(p) < 0 && errno != ENOENT)
                return bridle__err(err, -errno, "remove '%s'", p);
        return 0;
}

static int info_cmp(const void *a, const void *b)
{
        const bridle_sandbox_info *x = a, *y = b;
        return x->created < y->created ? -1 : x->created > y->created;
}

int bridle_sandbox_list_all(bridle_sandbox_info **ret, size_t *ret_n, bridle_error *err)
{
        char home[3072], p[4096];
        int r = bridle__home(home, sizeof(home), err);
        if (r < 0)
                return r;
        (void)snprintf(p, sizeof(p), "%s/sandboxes", home);
        bridle_sandbox_info *v = NULL;
        size_t n = 0;
        DIR *d = opendir(p);
        for (struct dirent *e; d && (e = readdir(d));) {
                struct bridle__sb_state st;
                if (strlen(e->d_name) != 12 || bridle__sandbox_state_read(e->d_name, &st, NULL) < 0)
                        continue;
                bridle_sandbox_info *nv = bridle__realloc(v, (n + 1) * sizeof(*v));
                if (!nv) {
                        free(v);
                        closedir(d);
                        return bridle__err(err, -ENOMEM, "list");
                }
                v = nv;
                memset(&v[n], 0, sizeof(v[n]));
                memcpy(v[n].id, e->d_name, 13);
                memcpy(v[n].name, st.name, sizeof(v[n].name));
                v[n].created = st.created;
                v[n].alive = bridle__sandbox_alive(&st);
                n++;
        }
        if (d)
                closedir(d);
        if (n)
                qsort(v, n, sizeof(*v), info_cmp);
        *ret = v;
        *ret_n = n;
        return (int)n;
}
