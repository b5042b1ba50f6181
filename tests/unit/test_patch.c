/* SPDX-License-Identifier: MIT */
/* apply_patch: grammar, matching ladder, line ends, hostile paths, caps, allocation failures. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bridle/patch.h"
#include "testutil.h"
#include "util/alloc.h"

struct fx {
        char *dir;
        int fd;
};

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        f->dir = bridle_test_tmpdir();
        assert_non_null(f->dir);
        f->fd = open(f->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(f->fd >= 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        close(f->fd);
        bridle_test_rmrf(f->dir);
        free(f->dir);
        free(f);
        return 0;
}

static void put(struct fx *f, const char *name, const char *data, size_t len)
{
        int fd = openat(f->fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, len), (ssize_t)len);
        close(fd);
}

static void puts_(struct fx *f, const char *name, const char *s)
{
        put(f, name, s, strlen(s));
}

/* The file's bytes (NUL-terminated), or NULL when it does not exist. */
static char *get(struct fx *f, const char *name, size_t *len)
{
        int fd = openat(f->fd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        struct stat st;
        assert_int_equal(fstat(fd, &st), 0);
        char *b = malloc((size_t)st.st_size + 1);
        assert_non_null(b);
        assert_int_equal(read(fd, b, (size_t)st.st_size), st.st_size);
        b[st.st_size] = '\0';
        if (len)
                *len = (size_t)st.st_size;
        close(fd);
        return b;
}

static void assert_file(struct fx *f, const char *name, const char *want)
{
        char *got = get(f, name, NULL);
        assert_non_null(got);
        assert_string_equal(got, want);
        free(got);
}

static int apply(struct fx *f, const char *text, char **sum, bridle_error *err)
{
        return bridle_patch_apply(f->fd, text, strlen(text), sum, err);
}

static void add_creates_parents_and_summary(void **state)
{
        struct fx *f = *state;
        puts_(f, "m.txt", "one\n");
        puts_(f, "gone.txt", "x\n");
        char *sum = NULL;
        bridle_error err = {0};
        assert_int_equal(
                apply(f,
                      "*** Begin Patch\n*** Delete File: gone.txt\n*** Update File: m.txt\n"
                      "@@\n-one\n+two\n*** Add File: a/b/c.txt\n+hello\n+world\n"
                      "*** Add File: empty.txt\n*** End Patch\n",
                      &sum, &err),
                0);
        assert_string_equal(sum, "A a/b/c.txt\nA empty.txt\nM m.txt\nD gone.txt\n");
        free(sum);
        assert_file(f, "a/b/c.txt", "hello\nworld\n");
        assert_file(f, "empty.txt", "");
        assert_file(f, "m.txt", "two\n");
        assert_null(get(f, "gone.txt", NULL));
}

static void crlf_file_stays_crlf(void **state)
{
        struct fx *f = *state;
        puts_(f, "w.txt", "a\r\nb\r\nc\r\n");
        bridle_error err = {0};
        /* The patch itself has CRLF line ends too. */
        assert_int_equal(apply(f,
                               "*** Begin Patch\r\n*** Update File: w.txt\r\n@@\r\n a\r\n-b\r\n"
                               "+B\r\n+B2\r\n*** End Patch\r\n",
                               NULL, &err),
                         0);
        assert_file(f, "w.txt", "a\r\nB\r\nB2\r\nc\r\n");
}

static void no_trailing_newline_gets_one(void **state)
{
        struct fx *f = *state;
        puts_(f, "n.txt", "x\ny");
        bridle_error err = {0};
        assert_int_equal(apply(f,
                               "*** Begin Patch\n*** Update File: n.txt\n@@\n x\n-y\n+z\n"
                               "*** End Patch",
                               NULL, &err),
                         0);
        assert_file(f, "n.txt", "x\nz\n");
}

static void move_onto_existing_file(void **state)
{
        struct fx *f = *state;
        puts_(f, "src.txt", "from\n");
        puts_(f, "dst.txt", "existing\n");
        char *sum = NULL;
        bridle_error err = {0};
        assert_int_equal(apply(f,
                               "*** Begin Patch\n*** Update File: src.txt\n*** Move to: dst.txt\n"
                               "@@\n-from\n+to\n*** End Patch",
                               &sum, &err),
                         0);
        assert_string_equal(sum, "M dst.txt\n");
        free(sum);
        assert_file(f, "dst.txt", "to\n");
        assert_null(get(f, "src.txt", NULL));
        /* A move onto itself keeps the file. */
        assert_int_equal(apply(f,
                               "*** Begin Patch\n*** Update File: dst.txt\n*** Move to: ./dst.txt\n"
                               "@@\n-to\n+again\n*** End Patch",
                               NULL, &err),
                         0);
        assert_file(f, "dst.txt", "again\n");
}

static void binary_file_refused(void **state)
{
        struct fx *f = *state;
        put(f, "bin", "a\n\0b\n", 5);
        bridle_error err = {0};
        int r = apply(f, "*** Begin Patch\n*** Update File: bin\n@@\n-a\n+c\n*** End Patch", NULL,
                      &err);
        assert_int_equal(r, BRIDLE_E_INVALID);
        assert_non_null(strstr(err.msg, "binary"));
        size_t len = 0;
        char *b = get(f, "bin", &len);
        assert_int_equal(len, 5);
        assert_memory_equal(b, "a\n\0b\n", 5);
        free(b);
}

static void huge_files(void **state)
{
        struct fx *f = *state;
        /* 20 MiB of lines, changed near the end. */
        size_t n = 20u << 20, lines = n / 8;
        char *big = malloc(n + 1);
        assert_non_null(big);
        for (size_t i = 0; i < lines; i++)
                snprintf(big + i * 8, 9, "%07zu\n", i);
        put(f, "big.txt", big, lines * 8);
        char patch[256];
        snprintf(patch, sizeof(patch),
                 "*** Begin Patch\n*** Update File: big.txt\n@@\n %07zu\n-%07zu\n"
                 "+changed\n*** End Patch",
                 lines - 3, lines - 2);
        bridle_error err = {0};
        assert_int_equal(apply(f, patch, NULL, &err), 0);
        size_t len = 0;
        char *got = get(f, "big.txt", &len);
        assert_int_equal(len, lines * 8 - 8 + 8);
        assert_memory_equal(got + (lines - 2) * 8, "changed\n", 8);
        assert_memory_equal(got, big, (lines - 2) * 8);
        free(got);
        free(big);
        /* Over the 64 MiB cap (sparse): refused before it is read. */
        int fd = openat(f->fd, "huge", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, (off_t)(65u << 20)), 0);
        close(fd);
        assert_int_equal(apply(f, "*** Begin Patch\n*** Update File: huge\n@@\n+x\n*** End Patch",
                               NULL, &err),
                         BRIDLE_E_LIMIT);
        assert_non_null(strstr(err.msg, "'huge'"));
}

static void hostile_paths_refused(void **state)
{
        struct fx *f = *state;
        static const char *const bad[] = {
                "*** Begin Patch\n*** Add File: /tmp/bridle-patch-abs\n+x\n*** End Patch",
                "*** Begin Patch\n*** Add File: ../escape\n+x\n*** End Patch",
                "*** Begin Patch\n*** Add File: a/../../escape\n+x\n*** End Patch",
                "*** Begin Patch\n*** Delete File: ..\n*** End Patch",
                "*** Begin Patch\n*** Update File: ok.txt\n*** Move to: ../x\n@@\n-a\n+b\n*** End "
                "Patch",
                "*** Begin Patch\n*** Add File: a/\n+x\n*** End Patch",
        };
        puts_(f, "ok.txt", "a\n");
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                bridle_error err = {0};
                /* An earlier good operation proves nothing is applied: paths fail at parse. */
                char text[256];
                snprintf(text, sizeof(text), "*** Begin Patch\n*** Add File: first.txt\n+1\n%s",
                         bad[i] + strlen("*** Begin Patch\n"));
                assert_int_equal(apply(f, text, NULL, &err), BRIDLE_E_INVALID);
                assert_non_null(strstr(err.msg, "patch line"));
                assert_null(get(f, "first.txt", NULL));
        }
        assert_int_equal(access("/tmp/bridle-patch-abs", F_OK), -1);
        assert_file(f, "ok.txt", "a\n");
}

static void symlink_escape_refused(void **state)
{
        struct fx *f = *state;
        char *out = bridle_test_tmpdir();
        assert_non_null(out);
        assert_int_equal(symlinkat(out, f->fd, "out"), 0);
        char target[512];
        snprintf(target, sizeof(target), "%s/victim", out);
        assert_int_equal(symlinkat(target, f->fd, "victim-link"), 0);
        assert_int_equal(symlinkat("../../../../../../../../etc/hostname", f->fd, "rel"), 0);
        static const char *const bad[] = {
                "*** Begin Patch\n*** Add File: out/new.txt\n+x\n*** End Patch",
                "*** Begin Patch\n*** Add File: victim-link\n+x\n*** End Patch",
                "*** Begin Patch\n*** Add File: out/sub/deep.txt\n+x\n*** End Patch",
                "*** Begin Patch\n*** Update File: rel\n@@\n+x\n*** End Patch",
                "*** Begin Patch\n*** Delete File: out/anything\n*** End Patch",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                bridle_error err = {0};
                assert_true(apply(f, bad[i], NULL, &err) < 0);
                assert_non_null(strstr(err.msg, "leaves the directory"));
        }
        assert_int_equal(access(target, F_OK), -1);
        snprintf(target, sizeof(target), "%s/new.txt", out);
        assert_int_equal(access(target, F_OK), -1);
        bridle_test_rmrf(out);
        free(out);
}

static void symlink_inside_followed(void **state)
{
        struct fx *f = *state;
        assert_int_equal(mkdirat(f->fd, "real", 0755), 0);
        puts_(f, "real/t.txt", "old\n");
        assert_int_equal(symlinkat("real/t.txt", f->fd, "link.txt"), 0);
        assert_int_equal(symlinkat("../real", f->fd, "real/self"), 0);
        bridle_error err = {0};
        assert_int_equal(apply(f,
                               "*** Begin Patch\n*** Update File: link.txt\n@@\n-old\n+new\n"
                               "*** Add File: real/self/added.txt\n+via link\n*** End Patch",
                               NULL, &err),
                         0);
        assert_file(f, "real/t.txt", "new\n");
        assert_file(f, "real/added.txt", "via link\n");
        struct stat st;
        assert_int_equal(fstatat(f->fd, "link.txt", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISLNK(st.st_mode));
}

static void ladder_levels(void **state)
{
        struct fx *f = *state;
        /* trailing whitespace, leading whitespace, Unicode punctuation (en dash, quotes, nbsp) */
        puts_(f, "l.txt",
              "alpha   \n    beta\t\nsay \xe2\x80\x9chi\xe2\x80\x9d \xe2\x80\x93 it\xe2\x80\x99s"
              "\xc2\xa0ok\nomega\n");
        bridle_error err = {0};
        assert_int_equal(apply(f,
                               "*** Begin Patch\n*** Update File: l.txt\n@@\n-alpha\n+ALPHA\n@@\n"
                               "-beta\n+BETA\n@@\n-say \"hi\" - it's ok\n+SAID\n*** End Patch",
                               NULL, &err),
                         0);
        assert_file(f, "l.txt", "ALPHA\nBETA\nSAID\nomega\n");
        /* Exact wins over a looser match earlier in the file. */
        puts_(f, "e.txt", "x \nx\n");
        assert_int_equal(apply(f,
                               "*** Begin Patch\n*** Update File: e.txt\n@@\n-x\n+y\n*** End Patch",
                               NULL, &err),
                         0);
        assert_file(f, "e.txt", "x \ny\n");
}

static void context_and_end_of_file(void **state)
{
        struct fx *f = *state;
        puts_(f, "c.py", "def a():\n    pass\ndef b():\n    pass\nx\nx\n");
        bridle_error err = {0};
        assert_int_equal(apply(f,
                               "*** Begin Patch\n*** Update File: c.py\n@@ def b():\n-    pass\n"
                               "+    return 2\n@@\n-x\n+last\n*** End of File\n*** End Patch",
                               NULL, &err),
                         0);
        assert_file(f, "c.py", "def a():\n    pass\ndef b():\n    return 2\nx\nlast\n");
        assert_int_equal(apply(f,
                               "*** Begin Patch\n*** Update File: c.py\n@@ def zzz():\n-x\n+y\n"
                               "*** End Patch",
                               NULL, &err),
                         BRIDLE_E_INVALID);
        assert_string_equal(err.msg,
                            "patch line 3: update of 'c.py': could not find the context line "
                            "'def zzz():'");
}

static void bad_grammar(void **state)
{
        struct fx *f = *state;
        puts_(f, "g.txt", "a\n");
        static const struct {
                const char *text, *msg;
        } cases[] = {
                {"*** Update File: g.txt\n@@\n-a\n+b\n*** End Patch",
                 "patch line 1: the first line"},
                {"*** Begin Patch\n*** Update File: g.txt\n@@\n-a\n+b\n", "the last line"},
                {"*** Begin Patch\n*** Frobnicate File: g.txt\n*** End Patch",
                 "patch line 2: '*** Frob"},
                {"*** Begin Patch\n*** Update File: g.txt\n*** End Patch", "has no changes"},
                {"*** Begin Patch\n*** Update File: g.txt\n@@\n-a\n@@\nbad\n*** End Patch",
                 "patch line 6: update of 'g.txt': unexpected line 'bad'"},
                {"*** Begin Patch\n*** Update File: g.txt\n@@\n*** End of File\n*** End Patch",
                 "a chunk with no lines"},
                {"*** Begin Patch\n*** Add File: n.txt\n+x\n\n*** End Patch", "patch line 4"},
                {"", "the patch is empty"},
                {"   \n\n", "the patch is empty"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                bridle_error err = {0};
                assert_int_equal(apply(f, cases[i].text, NULL, &err), BRIDLE_E_INVALID);
                if (!strstr(err.msg, cases[i].msg))
                        fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].msg);
        }
        assert_file(f, "g.txt", "a\n");
        assert_null(get(f, "n.txt", NULL));
        bridle_error err = {0};
        assert_int_equal(bridle_patch_apply(f->fd, "*** Begin Patch\0x", 17, NULL, &err),
                         BRIDLE_E_INVALID);
}

static void empty_patch_modifies_nothing(void **state)
{
        struct fx *f = *state;
        bridle_patch *p = NULL;
        bridle_error err = {0};
        assert_int_equal(bridle_patch_parse(" *** Begin Patch \n *** End Patch\n", 33, &p, &err),
                         0);
        assert_int_equal(bridle_patch_count(p), 0);
        char *sum = NULL;
        assert_int_equal(bridle_patch_apply_parsed(f->fd, p, &sum, &err), BRIDLE_E_INVALID);
        assert_null(sum);
        assert_non_null(strstr(err.msg, "no files were modified"));
        bridle_patch_free(p);
}

static void partial_failure_keeps_earlier(void **state)
{
        struct fx *f = *state;
        puts_(f, "keep.txt", "k\n");
        bridle_error err = {0};
        char *sum = NULL;
        assert_true(apply(f,
                          "*** Begin Patch\n*** Add File: made.txt\n+m\n*** Delete File: keep.txt\n"
                          "*** Update File: keep.txt\n@@\n-k\n+K\n*** End Patch",
                          &sum, &err) < 0);
        assert_null(sum);
        assert_non_null(strstr(err.msg, "patch line 5: update of 'keep.txt'"));
        assert_file(f, "made.txt", "m\n");
        assert_null(get(f, "keep.txt", NULL));
        /* Delete of a directory and of a missing file fail. */
        assert_int_equal(mkdirat(f->fd, "d", 0755), 0);
        assert_true(apply(f, "*** Begin Patch\n*** Delete File: d\n*** End Patch", NULL, &err) < 0);
        assert_non_null(strstr(err.msg, "directory"));
        assert_int_equal(
                apply(f, "*** Begin Patch\n*** Delete File: nope\n*** End Patch", NULL, &err),
                -ENOENT);
}

static void heredoc_and_ops_api(void **state)
{
        struct fx *f = *state;
        const char *t = "<<'EOF'\n*** Begin Patch\n*** Update File: a\n*** Move to: b/c\n"
                        " ctx\n+added\n*** End Patch\nEOF\n";
        bridle_patch *p = NULL;
        bridle_error err = {0};
        assert_int_equal(bridle_patch_parse(t, strlen(t), &p, &err), 0);
        assert_int_equal(bridle_patch_count(p), 1);
        enum bridle_patch_kind k = 0;
        const char *path = NULL, *mv = NULL;
        assert_int_equal(bridle_patch_op(p, 0, &k, &path, &mv), 0);
        assert_int_equal(k, BRIDLE_PATCH_UPDATE);
        assert_string_equal(path, "a");
        assert_string_equal(mv, "b/c");
        assert_int_equal(bridle_patch_op(p, 1, &k, &path, &mv), -EINVAL);
        puts_(f, "a", "ctx\nrest\n");
        assert_int_equal(bridle_patch_apply_parsed(f->fd, p, NULL, &err), 0);
        assert_file(f, "b/c", "ctx\nadded\nrest\n");
        bridle_patch_free(p);
}

static void fifo_not_written(void **state)
{
        struct fx *f = *state;
        assert_int_equal(mkfifoat(f->fd, "fifo", 0644), 0);
        bridle_error err = {0};
        assert_true(apply(f, "*** Begin Patch\n*** Update File: fifo\n@@\n+x\n*** End Patch", NULL,
                          &err) < 0);
        assert_true(apply(f, "*** Begin Patch\n*** Add File: fifo\n+x\n*** End Patch", NULL, &err) <
                    0);
}

static void caps(void **state)
{
        struct fx *f = *state;
        size_t n = 10001, cap = 64 + n * 32;
        char *t = malloc(cap), *o = t;
        assert_non_null(t);
        o += sprintf(o, "*** Begin Patch\n");
        for (size_t i = 0; i < n; i++)
                o += sprintf(o, "*** Delete File: f%zu\n", i);
        o += sprintf(o, "*** End Patch\n");
        bridle_error err = {0};
        assert_int_equal(bridle_patch_apply(f->fd, t, (size_t)(o - t), NULL, &err), BRIDLE_E_LIMIT);
        free(t);
        size_t big = BRIDLE_PATCH_MAX_TEXT + 1;
        t = calloc(1, big);
        assert_non_null(t);
        memset(t, '\n', big);
        assert_int_equal(bridle_patch_apply(f->fd, t, big, NULL, &err), BRIDLE_E_LIMIT);
        free(t);
}

static void alloc_failures(void **state)
{
        struct fx *f = *state;
        const char *t = "*** Begin Patch\n*** Add File: x/y.txt\n+1\n*** Update File: u.txt\n"
                        "*** Move to: v/w.txt\n@@ a\n-b\n+c\n@@\n+d\n*** End Patch";
        int r = -ENOMEM;
        unsigned long n;
        for (n = 1; n < 200 && r == -ENOMEM; n++) {
                puts_(f, "u.txt", "a\nb\n");
                bridle_error err = {0};
                char *sum = NULL;
                bridle__alloc_fail_at(n);
                r = apply(f, t, &sum, &err);
                bridle__alloc_fail_at(0);
                if (r == 0) {
                        assert_string_equal(sum, "A x/y.txt\nM v/w.txt\n");
                        free(sum);
                } else {
                        assert_int_equal(r, -ENOMEM);
                        assert_null(sum);
                }
        }
        assert_int_equal(r, 0);
        assert_true(n > 2);
        assert_file(f, "v/w.txt", "a\nc\nd\n");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(add_creates_parents_and_summary, setup, teardown),
                cmocka_unit_test_setup_teardown(crlf_file_stays_crlf, setup, teardown),
                cmocka_unit_test_setup_teardown(no_trailing_newline_gets_one, setup, teardown),
                cmocka_unit_test_setup_teardown(move_onto_existing_file, setup, teardown),
                cmocka_unit_test_setup_teardown(binary_file_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(huge_files, setup, teardown),
                cmocka_unit_test_setup_teardown(hostile_paths_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(symlink_escape_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(symlink_inside_followed, setup, teardown),
                cmocka_unit_test_setup_teardown(ladder_levels, setup, teardown),
                cmocka_unit_test_setup_teardown(context_and_end_of_file, setup, teardown),
                cmocka_unit_test_setup_teardown(bad_grammar, setup, teardown),
                cmocka_unit_test_setup_teardown(empty_patch_modifies_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(partial_failure_keeps_earlier, setup, teardown),
                cmocka_unit_test_setup_teardown(heredoc_and_ops_api, setup, teardown),
                cmocka_unit_test_setup_teardown(fifo_not_written, setup, teardown),
                cmocka_unit_test_setup_teardown(caps, setup, teardown),
                cmocka_unit_test_setup_teardown(alloc_failures, setup, teardown),
        };
        return cmocka_run_group_tests_name("patch", tests, NULL, NULL);
}
