/* SPDX-License-Identifier: MIT */
/*
 * approvals: {mode: end}. During the run, calls the policy asks about run
 * without asking: their writes stay in the sandbox's workspace layer. When the
 * run is about to complete, the changes of that layer (files written,
 * deleted) are shown to a person once, as the pending call "export"
 * (approval.requested) and the run waits; approved, the written files are
 * copied (read through the sandbox) into the run's output folder and deleted
 * ones removed there (text through the secret scanner's redaction; a binary
 * file holding a secret is left out); denied, nothing leaves the sandbox.
 * Either way the run then completes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "runner/runner.h"
#include "sandbox/living.h"
#include "util/error.h"
#include "util/fd.h"

#define REVIEW_MAX 10000

bool bridle__run_review_at_end(const bridle__run *R)
{
        return R->policy && bridle__policy_settings_get(R->policy)->approvals == BRIDLE__APPROVALS_END;
}

/* The workspace layer's entries: written regular files and symlinks, and
 * whiteouts (deleted), relative paths. */
static int walk(int dfd, const char *rel, json_t *out, int depth)
{
        if (depth > 64)
                return -ELOOP;
        int fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
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
                if (json_array_size(out) >= REVIEW_MAX)
                        break;
                char path[4096];
                (void)snprintf(path, sizeof(path), "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
                struct stat st;
                if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        int c = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (c >= 0) {
                                r = walk(c, path, out, depth + 1);
                                close(c);
                        }
                        continue;
                }
                const char *change = S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0) ? "deleted"
                                     : S_ISREG(st.st_mode)                              ? "written"
                                     : S_ISLNK(st.st_mode)                              ? "symlink"
                                                                                        : NULL;
                if (change)
                        (void)json_array_append_new(out, json_pack("{s:s,s:s,s:I}", "path", path, "change", change,
                                                                   "bytes", (json_int_t)(S_ISREG(st.st_mode) ? st.st_size : 0)));
        }
        closedir(d);
        return r;
}

static json_t *changes_of(const bridle__run *R)
{
        char p[4200];
        if (bridle__sandbox_path(p, sizeof(p), R->st.sandbox_id, "fs/upper", NULL) < 0)
                return NULL;
        int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        json_t *out = json_array();
        if (out)
                (void)walk(fd, "", out, 0);
        close(fd);
        return out;
}

#define DIFF_FILE_MAX ((size_t)64 << 10)
#define DIFF_MAX ((size_t)1 << 20)

/* A file of the layer directory dfd (relative rel), at most cap bytes; NULL if none. */
static char *read_at(int dfd, const char *rel, size_t cap, size_t *len)
{
        char *data = NULL;
        int fd = openat(dfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size <= cap &&
            (data = malloc((size_t)st.st_size + 1))) {
                ssize_t n = read(fd, data, (size_t)st.st_size);
                if (n < 0) {
                        free(data);
                        data = NULL;
                } else {
                        data[n] = '\0';
                        *len = (size_t)n;
                }
        }
        close(fd);
        return data;
}

static void append_lines(char **buf, size_t *len, char sign, const char *text, size_t n)
{
        for (size_t i = 0; i < n && *len < DIFF_MAX;) {
                const char *nl = memchr(text + i, '\n', n - i);
                size_t l = nl ? (size_t)(nl - (text + i)) : n - i;
                char *b = realloc(*buf, *len + l + 3);
                if (!b)
                        return;
                *buf = b;
                b[(*len)++] = sign;
                memcpy(b + *len, text + i, l);
                *len += l;
                b[(*len)++] = '\n';
                b[*len] = '\0';
                i += l + 1;
        }
}

static void append_str(char **buf, size_t *len, const char *s)
{
        size_t l = strlen(s);
        char *b = realloc(*buf, *len + l + 1);
        if (!b)
                return;
        *buf = b;
        memcpy(b + *len, s, l + 1);
        *len += l;
}

/* The whole diff of the layer, for a person: each written file against its
 * lower version (all of the old as '-', all of the new as '+'), deletions,
 * binary and large files named only. */
static char *diff_of(const bridle__run *R, const json_t *changes)
{
        char up[4200], low[4200];
        if (bridle__sandbox_path(up, sizeof(up), R->st.sandbox_id, "fs/upper", NULL) < 0 ||
            bridle__sandbox_path(low, sizeof(low), R->st.sandbox_id, "fs", NULL) < 0)
                return NULL;
        int ufd = open(up, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ffd = open(low, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char *buf = NULL;
        size_t len = 0, i;
        json_t *c;
        append_str(&buf, &len, "");
        json_array_foreach(changes, i, c) {
                const char *rel = json_string_value(json_object_get(c, "path"));
                const char *change = json_string_value(json_object_get(c, "change"));
                char line[4400];
                if (len >= DIFF_MAX) {
                        append_str(&buf, &len, "[... the diff is cut at 1 MiB ...]\n");
                        break;
                }
                /* the lower version: the first lower layer (l0, l1, ...) that has it */
                size_t olen = 0, nlen = 0;
                char *old = NULL;
                for (int l = 0; l < 32 && !old && ffd >= 0; l++) {
                        char lp[4300];
                        (void)snprintf(lp, sizeof(lp), "l%d/%s", l, rel);
                        old = read_at(ffd, lp, DIFF_FILE_MAX, &olen);
                }
                if (!strcmp(change, "deleted")) {
                        (void)snprintf(line, sizeof(line), "--- a/%s\n+++ /dev/null\n", rel);
                        append_str(&buf, &len, line);
                        if (old)
                                append_lines(&buf, &len, '-', old, olen);
                        free(old);
                        continue;
                }
                char *new = ufd >= 0 && !strcmp(change, "written") ? read_at(ufd, rel, DIFF_FILE_MAX, &nlen) : NULL;
                (void)snprintf(line, sizeof(line), "--- %s%s\n+++ b/%s\n", old ? "a/" : "/dev/null", old ? rel : "", rel);
                append_str(&buf, &len, line);
                if (!new || memchr(new, 0, nlen) || (old && memchr(old, 0, olen))) {
                        (void)snprintf(line, sizeof(line), "[%s: binary, a symlink or over 64 KiB: not shown]\n", rel);
                        append_str(&buf, &len, line);
                } else {
                        if (old)
                                append_lines(&buf, &len, '-', old, olen);
                        append_lines(&buf, &len, '+', new, nlen);
                }
                free(old);
                free(new);
        }
        if (ufd >= 0)
                close(ufd);
        if (ffd >= 0)
                close(ffd);
        return buf;
}

/* mkdir -p the parents of rel under dir. */
static int parents(const char *dir, const char *rel)
{
        char p[4400];
        (void)snprintf(p, sizeof(p), "%s/%s", dir, rel);
        for (char *s = p + strlen(dir) + 1; (s = strchr(s, '/')); s++) {
                *s = '\0';
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        return 0;
}

/* Copy the written files out (read through the sandbox), remove deleted ones. */
static int export_changes(const bridle__run *R, const json_t *changes, const char *outdir, unsigned *ret_n,
                          bridle_error *err)
{
        size_t i;
        json_t *c;
        unsigned n = 0;
        json_array_foreach(changes, i, c) {
                const char *rel = json_string_value(json_object_get(c, "path"));
                const char *change = json_string_value(json_object_get(c, "change"));
                char dst[4400];
                (void)snprintf(dst, sizeof(dst), "%s/%s", outdir, rel);
                if (!strcmp(change, "deleted")) {
                        if (unlink(dst) == 0)
                                n++;
                        continue;
                }
                if (strcmp(change, "written") != 0)
                        continue; /* symlinks are not exported */
                char *data = NULL;
                size_t len = 0;
                int r = bridle_sandbox_read(R->st.sandbox_id, rel, &data, &len, err);
                if (r < 0)
                        return r;
                /* What leaves the sandbox goes through the secret scanner: text is
                 * redacted; a binary file holding a secret is not exported. */
                char *clean = NULL;
                size_t clen = 0;
                if (memchr(data, 0, len)) {
                        long hits = bridle__secrets_scan(R->secrets, data, len, NULL, 0, NULL);
                        if (hits != 0) {
                                free(data);
                                continue;
                        }
                } else if ((r = bridle__secrets_redact(R->secrets, data, len, &clean, &clen, NULL, err)) < 0) {
                        free(data);
                        return r;
                }
                if (clean) {
                        free(data);
                        data = clean;
                        len = clen;
                }
                int fd = -1;
                if ((r = parents(outdir, rel)) == 0 &&
                    (fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0)
                        r = -errno;
                if (r == 0 && bridle__write_full(fd, data, len) < 0)
                        r = -errno;
                if (fd >= 0)
                        close(fd);
                free(data);
                if (r < 0)
                        return bridle__err(err, r, "export '%s' to '%s'", rel, dst);
                n++;
        }
        *ret_n = n;
        return 0;
}

int bridle__run_review(bridle__run *R, bool *ret_waiting, char *note, size_t cap, bridle_error *err)
{
        *ret_waiting = false;
        note[0] = '\0';
        if (!bridle__run_review_at_end(R) || !R->st.sandbox_id[0])
                return 0;
        json_t *given = json_object_get(R->st.approvals, "export");
        json_t *asked = json_object_get(R->st.requested, "export");
        if (given) {
                const char *d = json_string_value(json_object_get(given, "decision"));
                const char *outdir = R->output_dir[0] ? R->output_dir : NULL;
                if (!d || strcmp(d, "approve") != 0) {
                        (void)snprintf(note, cap, "the workspace's changes were not exported (denied)");
                        return 0;
                }
                json_t *changes = changes_of(R);
                unsigned n = 0;
                int r = 0;
                if (!outdir)
                        (void)snprintf(note, cap, "changes approved; no output folder (--output): they stay in the sandbox");
                else if ((r = export_changes(R, changes, outdir, &n, err)) == 0)
                        (void)snprintf(note, cap, "%u change(s) exported to '%s'", n, outdir);
                json_decref(changes);
                if (r == 0)
                        r = bridle__run_emit_sync(R, "workspace.exported",
                                                  json_pack("{s:s?,s:I}", "output_dir", outdir, "changes", (json_int_t)n),
                                                  false, err);
                return r;
        }
        if (asked) {
                *ret_waiting = true;
                return 0;
        }
        json_t *changes = changes_of(R);
        if (!changes || json_array_size(changes) == 0) {
                json_decref(changes);
                return 0;
        }
        *ret_waiting = true;
        char *diff = diff_of(R, changes), *clean = NULL;
        /* The diff is shown to a person and journaled: redacted like any output. */
        if (diff && bridle__secrets_redact(R->secrets, diff, strlen(diff), &clean, NULL, NULL, NULL) < 0)
                clean = NULL;
        free(diff);
        json_t *d = json_string(clean ? clean : "[the diff could not be made]");
        free(clean);
        return bridle__run_emit_sync(
                R, "approval.requested",
                json_pack("{s:s,s:s,s:{s:o,s:s?,s:o},s:s,s:s,s:s,s:I}", "call_id", "export", "name", "export", "arguments",
                          "changes", changes, "output_dir", R->output_dir[0] ? R->output_dir : NULL, "diff", d,
                          "rule", "approvals.mode end", "reason", "export the workspace's changes", "command", "",
                          "asked_at", (json_int_t)(bridle__now_ms() / 1000)),
                true, err);
}
