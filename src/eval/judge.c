/* SPDX-License-Identifier: MIT */
/*
 * Judges: a command on the host (the run's final output on stdin, RUN_ID and
 * EVAL_TASK in its environment, exit 0 = pass, bounded by a timeout), or a
 * model asked to answer PASS or FAIL against a rubric.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "eval/eval.h"
#include "model/model.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/fd.h"

#define JUDGE_OUT_MAX 4096

static int64_t mono_ms(void)
{
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *final_output(const json_t *events)
{
        const char *out = NULL;
        size_t i;
        const json_t *e;
        json_array_foreach(events, i, e) {
                const char *t = json_string_value(json_object_get(e, "type"));
                const char *f = json_string_value(json_object_get(json_object_get(e, "data"), "final_output"));
                if (t && !strcmp(t, "run.status") && f)
                        out = f;
        }
        return out;
}

/* A temporary file in dir with data, opened for reading; or for writing when data is NULL. */
static int tmp_file(const char *dir, const char *data, char *path, size_t size)
{
        int n = snprintf(path, size, "%s/.judge-XXXXXX", dir);
        if (n < 0 || (size_t)n >= size)
                return -ENAMETOOLONG;
        _cleanup_close_ int fd = mkostemp(path, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        (void)unlink(path);
        if (data) {
                int r = bridle__write_full(fd, data, strlen(data));
                if (r < 0 && strlen(data) > 0)
                        return r;
                if (lseek(fd, 0, SEEK_SET) < 0)
                        return -errno;
        }
        return TAKE_FD(fd);
}

extern char **environ;

/* The environment of the judge: ours, with RUN_ID and EVAL_TASK set (made before fork). */
static char **judge_env(const char *task, const char *run_id)
{
        size_t n = 0;
        while (environ && environ[n] && n < 100000)
                n++;
        char **env = bridle__calloc(n + 3, sizeof(char *));
        if (!env)
                return NULL;
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                if (strncmp(environ[i], "RUN_ID=", 7) != 0 && strncmp(environ[i], "EVAL_TASK=", 10) != 0)
                        env[k++] = environ[i];
        size_t l1 = strlen(run_id) + 8, l2 = strlen(task) + 11;
        env[k] = bridle__malloc(l1);
        env[k + 1] = bridle__malloc(l2);
        if (!env[k] || !env[k + 1]) {
                free(env[k]);
                free(env[k + 1]);
                free(env);
                return NULL;
        }
        (void)snprintf(env[k], l1, "RUN_ID=%s", run_id);
        (void)snprintf(env[k + 1], l2, "EVAL_TASK=%s", task);
        return env;
}

static void judge_env_free(char **env)
{
        size_t n = 0;
        while (env[n] && n < 200000)
                n++;
        /* The last two are ours. */
        if (n >= 2) {
                free(env[n - 1]);
                free(env[n - 2]);
        }
        free(env);
}

/* Between fork and exec: async-signal-safe calls only. */
static void child(const eval_judge *j, const char *dir, int in, int out, char **env)
{
        if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
                _exit(126);
        if (dir && chdir(dir) < 0)
                _exit(126);
        /* The CLI ignores SIGPIPE; a judge gets the default. */
        (void)signal(SIGPIPE, SIG_DFL);
        execvpe(j->argv[0], j->argv, env);
        _exit(127);
}

/* Wait for pid at most timeout_s; kill it past that. */
static int wait_bounded(pid_t pid, unsigned timeout_s, bool *timed_out)
{
        int64_t end = mono_ms() + (int64_t)timeout_s * 1000;
        int st = 0;
        for (unsigned i = 0; i < 10u * 3600 * 100; i++) {
                pid_t w = waitpid(pid, &st, WNOHANG);
                if (w == pid)
                        return st;
                if (w < 0 && errno != EINTR)
                        return -errno;
                if (mono_ms() > end) {
                        *timed_out = true;
                        (void)kill(pid, SIGKILL);
                        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                                ;
                        return st;
                }
                struct timespec ts = {0, 10L * 1000 * 1000};
                (void)nanosleep(&ts, NULL);
        }
        return -ETIMEDOUT;
}

static int judge_command(const eval_judge *j, const char *task, const char *run_id, const char *suite_dir,
                         const char *out_dir, const json_t *events, eval_grade *g)
{
        char pin[PATH_MAX], pout[PATH_MAX];
        const char *fo = final_output(events);
        _cleanup_close_ int in = tmp_file(out_dir, fo ? fo : "", pin, sizeof(pin));
        if (in < 0)
                return bridle__eval_grade_add(g, "judge", false, "exit 0", "the judge's input could not be written");
        _cleanup_close_ int out = tmp_file(out_dir, NULL, pout, sizeof(pout));
        if (out < 0)
                return bridle__eval_grade_add(g, "judge", false, "exit 0", "the judge's output file could not be made");
        char **env = judge_env(task, run_id);
        if (!env)
                return -ENOMEM;
        pid_t pid = fork();
        if (pid == 0)
                child(j, suite_dir, in, out, env);
        int fork_errno = errno;
        judge_env_free(env);
        if (pid < 0)
                return bridle__eval_grade_add(g, "judge", false, "exit 0", strerror(fork_errno));
        bool timed_out = false;
        int st = wait_bounded(pid, j->timeout_s, &timed_out);
        char text[JUDGE_OUT_MAX + 1] = "";
        ssize_t n = lseek(out, 0, SEEK_SET) == 0 ? bridle__read_full(out, text, JUDGE_OUT_MAX) : 0;
        text[n > 0 ? n : 0] = '\0';
        bool ok = st >= 0 && !timed_out && WIFEXITED(st) && WEXITSTATUS(st) == 0;
        char got[JUDGE_OUT_MAX + 64];
        if (timed_out)
                (void)snprintf(got, sizeof(got), "timed out after %u s", j->timeout_s);
        else if (st >= 0 && WIFEXITED(st))
                (void)snprintf(got, sizeof(got), "exit %d%s%s", WEXITSTATUS(st), text[0] ? ": " : "", text);
        else
                (void)snprintf(got, sizeof(got), "killed by signal %d", st >= 0 && WIFSIGNALED(st) ? WTERMSIG(st) : 0);
        return bridle__eval_grade_add(g, "judge", ok, "exit 0", got);
}

/* The entry agent's provider, base URL and key variable from run.started. */
static const json_t *entry_agent(const json_t *events)
{
        const json_t *e0 = json_array_get(events, 0);
        const json_t *d = json_object_get(e0, "data");
        const json_t *agents = json_object_get(json_object_get(d, "agents"), "agents");
        const char *name = json_string_value(json_object_get(d, "agent"));
        return name ? json_object_get(agents, name) : NULL;
}

static const char *pick(const char *a, const char *b, const char *c)
{
        return a ? a : b ? b : c;
}

static char *reply_text(const json_t *output)
{
        size_t i, k;
        const json_t *it, *part;
        json_array_foreach(output, i, it) {
                const char *t = json_string_value(json_object_get(it, "type"));
                if (!t || strcmp(t, "message") != 0)
                        continue;
                json_array_foreach(json_object_get(it, "content"), k, part) {
                        const char *s = json_string_value(json_object_get(part, "text"));
                        if (s)
                                return bridle__strdup(s);
                }
        }
        return bridle__strdup("");
}

static int judge_model(const eval_judge *j, const char *task_text, const json_t *events, const bridle_eval_opts *o,
                       eval_grade *g)
{
        const json_t *ag = entry_agent(events);
        const char *provider = pick(j->provider, o->provider, json_string_value(json_object_get(ag, "provider")));
        const char *base_url = pick(j->base_url, o->base_url, json_string_value(json_object_get(ag, "base_url")));
        const char *key_env = pick(j->api_key_env, json_string_value(json_object_get(ag, "api_key_env")), "OPENAI_API_KEY");
        if (!provider || !strcmp(provider, "scripted"))
                provider = "openai-responses";
        const char *fo = final_output(events);
        size_t n = strlen(j->rubric) + strlen(task_text) + (fo ? strlen(fo) : 0) + 256;
        _cleanup_free_ char *prompt = bridle__malloc(n);
        if (!prompt)
                return -ENOMEM;
        (void)snprintf(prompt, n, "Rubric:\n%s\n\nTask given to the agent:\n%s\n\nThe agent's final answer:\n%s\n",
                       j->rubric, task_text, fo ? fo : "(none)");
        _cleanup_evjson_ json_t *input = json_pack("[{s:s,s:s,s:[{s:s,s:s}]}]", "type", "message", "role", "user",
                                                   "content", "type", "input_text", "text", prompt);
        if (!input)
                return -ENOMEM;
        const char *bo = getenv("BRIDLE_MODEL_BACKOFF_MS");
        bridle__model_cfg cfg = {.provider = provider, .model = j->model, .base_url = base_url,
                                 .api_key = getenv(key_env), .max_retries = 2, .timeout_ms = j->timeout_s * 1000,
                                 .backoff_ms = bo ? (unsigned)strtoul(bo, NULL, 10) : 0, .cancel = o->interrupt};
        bridle__model *m = NULL;
        bridle_error e = {0};
        bridle__model_resp resp = {0};
        bridle__model_req req = {
                .instructions = "You grade an AI agent's work against a rubric. Answer PASS or FAIL as the first "
                                "word, then one short line saying why.",
                .input = input};
        int r = bridle__model_new(&cfg, &m, &e);
        if (r >= 0)
                r = bridle__model_call(m, &req, NULL, &resp, &e);
        bridle__model_free(m);
        if (r == -ENOMEM) {
                bridle__model_resp_clear(&resp);
                return r;
        }
        _cleanup_free_ char *text = r < 0 ? NULL : reply_text(resp.output);
        bridle__model_resp_clear(&resp);
        if (r < 0)
                return bridle__eval_grade_add(g, "judge", false, "PASS", e.msg);
        if (!text)
                return -ENOMEM;
        const char *p = text;
        while (*p == ' ' || *p == '\n' || *p == '*' || *p == '"')
                p++;
        bool ok = !strncasecmp(p, "PASS", 4);
        return bridle__eval_grade_add(g, "judge", ok, "PASS", text);
}

int bridle__eval_judge(const eval_judge *j, const char *task_name, const char *run_id, const char *suite_dir,
                       const char *out_dir, const json_t *events, const bridle_eval_opts *o, eval_grade *g)
{
        if (!j)
                return 0;
        if (j->argv)
                return judge_command(j, task_name, run_id, suite_dir, out_dir, events, g);
        const json_t *e0 = json_object_get(json_array_get(events, 0), "data");
        const char *task_text = json_string_value(json_object_get(e0, "task"));
        return judge_model(j, task_text ? task_text : "", events, o, g);
}
