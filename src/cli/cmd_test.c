/* SPDX-License-Identifier: MIT */
/*
 * bridle test FILE|DIR... [--junit FILE] [--journal PATH] [--record]
 *             [--provider P] [--base-url URL] [--model M]
 * The model-native test harness (docs/scenarios.md): each scenario runs in a
 * real sandbox through the real harness and gateway with its scripted model,
 * and every expectation is checked. One line per case, a diff per failed
 * expectation, "N passed, N failed" on stdout. Exit 0 all passed, 1 any
 * failed, 2 usage or a bad scenario file (FILE:LINE:COL on stderr).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bridle/bridle.h"
#include "bridle/scenario.h"
#include "commands.h"

#define MAX_DEPTH 16      /* folders below a DIR argument */
#define MAX_SCENARIOS 10000

struct test_cli {
        const char *junit;
        const char *journal;
        bool record;
        bool keep_journal; /* --journal: runs can be looked at afterwards */
        bridle_scenario_opts o;
        char **files;
        size_t n_files;
        bool bad;
};

static volatile int interrupted;

static void on_sigint(int sig)
{
        (void)sig;
        interrupted = 1;
}

static int usage(FILE *f, int status)
{
        (void)fputs("usage: bridle test FILE|DIR... [--junit FILE] [--journal PATH] [--record]\n"
                    "                   [--provider P] [--base-url URL] [--model M]\n"
                    "\n"
                    "Runs scenarios (docs/scenarios.md): each in a real sandbox through the harness\n"
                    "and the gateway, with its scripted model, then checks its expectations. A DIR\n"
                    "runs every *.yaml under it, sorted.\n"
                    "\n"
                    "  --junit FILE     also write the results as JUnit XML\n"
                    "  --journal PATH   keep the runs in this journal (default: a temporary one)\n"
                    "  --record         scenarios with 'record: true' run against the real model\n"
                    "                   (the agent's, or --provider/--base-url/--model) and its turns\n"
                    "                   are written to NAME.recorded.yaml beside the scenario\n"
                    "\n"
                    "Exit: 0 all passed, 1 a scenario failed, 2 usage or a bad scenario file.\n",
                    f);
        return status;
}

/* ---- the files ---------------------------------------------------------------- */

static int add_file(struct test_cli *t, const char *path)
{
        if (t->n_files >= MAX_SCENARIOS) {
                (void)fprintf(stderr, "bridle test: more than %d scenarios\n", MAX_SCENARIOS);
                return -1;
        }
        char **v = realloc(t->files, (t->n_files + 1) * sizeof(*v));
        if (!v)
                return -1;
        t->files = v;
        if (!(v[t->n_files] = strdup(path)))
                return -1;
        t->n_files++;
        return 0;
}

static bool is_yaml(const char *name)
{
        size_t n = strlen(name);
        return n > 5 && !strcmp(name + n - 5, ".yaml") && name[0] != '.';
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
        return strcmp((*a)->d_name, (*b)->d_name);
}

/* Every *.yaml under dir, sorted by name at each level, files and folders together. */
static int add_dir(struct test_cli *t, const char *dir, int depth)
{
        if (depth > MAX_DEPTH) {
                (void)fprintf(stderr, "bridle test: '%s': folders nested deeper than %d\n", dir, MAX_DEPTH);
                return -1;
        }
        struct dirent **names = NULL;
        int n = scandir(dir, &names, NULL, by_name);
        if (n < 0) {
                (void)fprintf(stderr, "bridle test: '%s': %s\n", dir, strerror(errno));
                return -1;
        }
        int r = 0;
        for (int i = 0; i < n; i++) {
                const char *nm = names[i]->d_name;
                char *p = NULL;
                struct stat st;
                if (r == 0 && nm[0] != '.' && asprintf(&p, "%s/%s", dir, nm) >= 0 && stat(p, &st) == 0) {
                        if (S_ISDIR(st.st_mode))
                                r = add_dir(t, p, depth + 1);
                        else if (S_ISREG(st.st_mode) && is_yaml(nm))
                                r = add_file(t, p);
                }
                free(p);
                free(names[i]);
        }
        free(names);
        return r;
}

static int add_arg(struct test_cli *t, const char *arg)
{
        struct stat st;
        if (stat(arg, &st) < 0) {
                (void)fprintf(stderr, "bridle test: '%s': %s\n", arg, strerror(errno));
                return -1;
        }
        if (S_ISDIR(st.st_mode)) {
                size_t n = strlen(arg);
                char *d = strndup(arg, n > 1 && arg[n - 1] == '/' ? n - 1 : n);
                int r = d ? add_dir(t, d, 0) : -1;
                free(d);
                return r;
        }
        return add_file(t, arg);
}

/* ---- a temporary journal -------------------------------------------------------- */

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)ftw;
        if (flag == FTW_DP)
                (void)rmdir(p);
        else
                (void)unlink(p);
        return 0;
}

/* ---- output --------------------------------------------------------------------- */

static void put_indented(FILE *f, const char *label, const char *text)
{
        (void)fprintf(f, "      %s", label);
        for (const char *p = text; *p; p++) {
                (void)fputc(*p, f);
                if (*p == '\n' && p[1])
                        (void)fprintf(f, "      %*s", (int)strlen(label), "");
        }
        (void)fputc('\n', f);
}

/* The diff of a failed case: each expectation that did not hold. */
static void put_diff(FILE *f, const bridle_scenario_result *r, bool show_run)
{
        if (r->error)
                (void)fprintf(f, "    error: %s\n", r->error);
        for (size_t i = 0; i < r->n_checks; i++) {
                const bridle_scenario_check *c = &r->checks[i];
                if (c->ok)
                        continue;
                (void)fprintf(f, "    %s\n", c->what);
                put_indented(f, "expected: ", c->expected);
                put_indented(f, "got:      ", c->got);
        }
        if (show_run && r->run_id[0])
                (void)fprintf(f, "    run %s (%s)\n", r->run_id, r->status[0] ? r->status : "?");
}

/* XML text: markup escaped, control bytes and invalid UTF-8 as '?'. */
static void xml_text(FILE *f, const char *s)
{
        const unsigned char *p = (const unsigned char *)s;
        while (*p) {
                unsigned c = *p;
                size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
                bool valid = n > 0 && (n != 2 || c >= 0xC2) && (n != 4 || c <= 0xF4);
                for (size_t k = 1; valid && k < n; k++)
                        valid = (p[k] & 0xC0) == 0x80;
                if (valid && n == 3)
                        valid = !(c == 0xE0 && p[1] < 0xA0) && !(c == 0xED && p[1] >= 0xA0) &&
                                !(c == 0xEF && p[1] == 0xBF && p[2] >= 0xBE);
                if (valid && n == 4)
                        valid = !(c == 0xF0 && p[1] < 0x90) && !(c == 0xF4 && p[1] >= 0x90);
                if (!valid) {
                        (void)fputc('?', f);
                        p++;
                        continue;
                }
                if (n > 1) {
                        (void)fwrite(p, 1, n, f);
                        p += n;
                        continue;
                }
                switch (c) {
                case '&': (void)fputs("&amp;", f); break;
                case '<': (void)fputs("&lt;", f); break;
                case '>': (void)fputs("&gt;", f); break;
                case '"': (void)fputs("&quot;", f); break;
                case '\'': (void)fputs("&apos;", f); break;
                default:
                        (void)fputc(c < 0x20 && c != '\t' && c != '\n' && c != '\r' ? '?' : (int)c, f);
                }
                p++;
        }
}

struct outcome {
        const char *file;
        bool passed;
        int64_t ms;
        char *diff; /* failed: the diff text */
};

static int write_junit(const char *path, const struct outcome *v, size_t n, size_t failed)
{
        char tmp[4096];
        (void)snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        FILE *f = fopen(tmp, "we");
        if (!f) {
                (void)fprintf(stderr, "bridle test: --junit '%s': %s\n", path, strerror(errno));
                return -1;
        }
        int64_t total = 0;
        for (size_t i = 0; i < n; i++)
                total += v[i].ms;
        (void)fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        (void)fprintf(f, "<testsuites tests=\"%zu\" failures=\"%zu\" time=\"%.3f\">\n", n, failed, (double)total / 1000);
        (void)fprintf(f, "  <testsuite name=\"bridle test\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\" time=\"%.3f\">\n",
                      n, failed, (double)total / 1000);
        for (size_t i = 0; i < n; i++) {
                (void)fputs("    <testcase classname=\"bridle.scenario\" name=\"", f);
                xml_text(f, v[i].file);
                (void)fprintf(f, "\" time=\"%.3f\"", (double)v[i].ms / 1000);
                if (v[i].passed) {
                        (void)fputs("/>\n", f);
                        continue;
                }
                (void)fputs(">\n      <failure message=\"expectations not met\" type=\"scenario\">", f);
                xml_text(f, v[i].diff ? v[i].diff : "");
                (void)fputs("</failure>\n    </testcase>\n", f);
        }
        (void)fputs("  </testsuite>\n</testsuites>\n", f);
        if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) < 0) {
                (void)fprintf(stderr, "bridle test: --junit '%s': %s\n", path, strerror(errno));
                (void)fclose(f);
                (void)unlink(tmp);
                return -1;
        }
        (void)fclose(f);
        if (rename(tmp, path) < 0) {
                (void)fprintf(stderr, "bridle test: --junit '%s': %s\n", path, strerror(errno));
                (void)unlink(tmp);
                return -1;
        }
        return 0;
}

static int write_recording(const char *scenario, const char *text)
{
        char *out = bridle_scenario_recorded_path(scenario);
        char *tmp = NULL;
        int r = -1;
        if (out && asprintf(&tmp, "%s.tmp", out) >= 0) {
                FILE *f = fopen(tmp, "we");
                if (f && fputs(text, f) >= 0 && fflush(f) == 0 && !ferror(f)) {
                        r = 0;
                }
                if (f)
                        (void)fclose(f);
                if (r == 0 && rename(tmp, out) < 0)
                        r = -1;
                if (r < 0) {
                        (void)fprintf(stderr, "bridle test: '%s': %s\n", out, strerror(errno));
                        (void)unlink(tmp);
                } else {
                        (void)fprintf(stderr, "recorded %s\n", out);
                }
        }
        free(tmp);
        free(out);
        return r;
}

/* ---- running -------------------------------------------------------------------- */

static int load_all(const struct test_cli *t, bridle_scenario **v)
{
        int bad = 0;
        for (size_t i = 0; i < t->n_files; i++) {
                bridle_error err = {0};
                if (bridle_scenario_load(t->files[i], &v[i], &err) < 0) {
                        (void)fprintf(stderr, "%s\n", err.msg);
                        bad++;
                }
        }
        return bad;
}

static void run_one(const struct test_cli *t, const bridle_scenario *s, struct outcome *out, bool *fatal)
{
        bridle_scenario_opts o = t->o;
        o.record = t->record && bridle_scenario_wants_record(s);
        bridle_scenario_result res = {0};
        bridle_error err = {0};
        int r = bridle_scenario_run(s, &o, &res, &err);
        if (r < 0) {
                (void)fprintf(stderr, "bridle test: %s: %s\n", out->file, err.msg);
                out->passed = false;
                if (asprintf(&out->diff, "    error: %s\n", err.msg) < 0)
                        out->diff = NULL;
                *fatal = r == -ENOMEM;
                (void)printf("FAIL %s\n", out->file);
                return;
        }
        out->passed = res.passed;
        out->ms = res.duration_ms;
        (void)printf("%s %s (%lld ms)%s\n", res.passed ? "ok  " : "FAIL", out->file, (long long)res.duration_ms,
                     o.record ? " [recorded]" : "");
        if (!res.passed) {
                size_t len = 0;
                FILE *m = open_memstream(&out->diff, &len);
                if (m) {
                        put_diff(m, &res, t->keep_journal);
                        (void)fclose(m);
                }
                if (out->diff)
                        (void)fputs(out->diff, stdout);
        }
        if (o.record && res.recorded_yaml && write_recording(out->file, res.recorded_yaml) < 0)
                out->passed = false;
        (void)fflush(stdout);
        bridle_scenario_result_release(&res);
}

static int run_all(struct test_cli *t)
{
        bridle_scenario **v = calloc(t->n_files, sizeof(*v));
        struct outcome *outs = calloc(t->n_files, sizeof(*outs));
        int status = 0;
        if (!v || !outs) {
                (void)fprintf(stderr, "bridle test: out of memory\n");
                status = 1;
        } else if (load_all(t, v) > 0) {
                status = 2;
        }
        size_t passed = 0, failed = 0, ran = 0;
        bool fatal = false;
        for (size_t i = 0; status == 0 && i < t->n_files && !interrupted && !fatal; i++) {
                outs[i].file = t->files[i];
                run_one(t, v[i], &outs[i], &fatal);
                ran++;
                if (outs[i].passed)
                        passed++;
                else
                        failed++;
        }
        if (status == 0) {
                (void)printf("%zu passed, %zu failed\n", passed, failed);
                if (interrupted)
                        (void)fprintf(stderr, "bridle test: interrupted after %zu of %zu scenarios\n", ran,
                                      t->n_files);
                status = failed || interrupted ? 1 : 0;
                if (t->junit && write_junit(t->junit, outs, ran, failed) < 0)
                        status = 1;
        }
        for (size_t i = 0; v && i < t->n_files; i++)
                bridle_scenario_free(v[i]);
        for (size_t i = 0; outs && i < t->n_files; i++)
                free(outs[i].diff);
        free(v);
        free(outs);
        return status;
}

/* 1: parsed, 0: --help, -1: usage error. */
static int parse(struct test_cli *t, int argc, char **argv)
{
        static const struct option lo[] = {
                {"junit", required_argument, NULL, 'j'},   {"journal", required_argument, NULL, 'J'},
                {"record", no_argument, NULL, 'r'},        {"provider", required_argument, NULL, 'p'},
                {"base-url", required_argument, NULL, 'b'}, {"model", required_argument, NULL, 'm'},
                {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
        };
        for (int c; (c = getopt_long(argc, argv, "h", lo, NULL)) != -1;) {
                switch (c) {
                case 'j': t->junit = optarg; break;
                case 'J': t->journal = optarg; t->keep_journal = true; break;
                case 'r': t->record = true; break;
                case 'p': t->o.provider = optarg; break;
                case 'b': t->o.base_url = optarg; break;
                case 'm': t->o.model = optarg; break;
                case 'h': return 0;
                default: return -1;
                }
        }
        if (optind >= argc) {
                (void)fputs("bridle test: name at least one scenario file or folder\n", stderr);
                return -1;
        }
        for (int i = optind; i < argc; i++)
                if (add_arg(t, argv[i]) < 0)
                        return -1;
        if (t->n_files == 0) {
                (void)fputs("bridle test: no *.yaml scenario found\n", stderr);
                return -1;
        }
        return 1;
}

int bridle_cmd_test(int argc, char **argv)
{
        struct test_cli t = {0};
        int p = parse(&t, argc, argv);
        int status = p == 0 ? usage(stdout, 0) : p < 0 ? usage(stderr, 2) : -1;
        char tmpdir[4096] = "", journal[4200] = "";
        if (status < 0 && !t.journal) {
                const char *tmp = getenv("TMPDIR");
                (void)snprintf(tmpdir, sizeof(tmpdir), "%s/bridle-tests-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
                if (!mkdtemp(tmpdir)) {
                        (void)fprintf(stderr, "bridle test: a temporary journal: %s\n", strerror(errno));
                        tmpdir[0] = '\0';
                        status = 1;
                } else {
                        (void)snprintf(journal, sizeof(journal), "%s/journal.db", tmpdir);
                        t.journal = journal;
                }
        }
        if (status < 0) {
                t.o.journal_path = t.journal;
                t.o.interrupt = &interrupted;
                struct sigaction sa = {.sa_handler = on_sigint, .sa_flags = SA_RESTART};
                (void)sigemptyset(&sa.sa_mask);
                (void)sigaction(SIGINT, &sa, NULL);
                status = run_all(&t);
        }
        if (tmpdir[0])
                (void)nftw(tmpdir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
        for (size_t i = 0; i < t.n_files; i++)
                free(t.files[i]);
        free(t.files);
        return status;
}
