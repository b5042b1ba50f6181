/* SPDX-License-Identifier: MIT */
/* bridle run / bridle resume: start or continue an agent run and show it. */
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bridle/bridle.h"
#include "commands.h"

static volatile int interrupted;

static void on_sigint(int sig)
{
        if (interrupted) {
                signal(sig, SIG_DFL);
                raise(sig);
        }
        interrupted = 1;
        static const char m[] = "\nbridle: stopping after this step (Ctrl-C again to quit now)\n";
        ssize_t n = write(STDERR_FILENO, m, sizeof(m) - 1);
        (void)n;
}

/* ---- rendering ---------------------------------------------------------------- */

struct view {
        bool json, tty;
        bool in_text;        /* the model's text is streaming on the current line */
        pthread_mutex_t mu;
        pthread_cond_t cv;
        bool spinning, quit, drawn;
        pthread_t th;
};

static void spin_clear(struct view *v)
{
        if (v->drawn) {
                fputs("\r\033[K", stderr);
                v->drawn = false;
        }
}

static void *spinner(void *arg)
{
        struct view *v = arg;
        static const char *const frames[] = { "|", "/", "-", "\\" };
        unsigned i = 0;
        pthread_mutex_lock(&v->mu);
        for (;;) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += 120 * 1000000L;
                if (ts.tv_nsec >= 1000000000L) {
                        ts.tv_sec++;
                        ts.tv_nsec -= 1000000000L;
                }
                (void)pthread_cond_timedwait(&v->cv, &v->mu, &ts);
                if (v->quit)
                        break;
                if (v->spinning) {
                        fprintf(stderr, "\r\033[K\033[2m%s waiting for the model\033[0m", frames[i++ % 4]);
                        fflush(stderr);
                        v->drawn = true;
                }
        }
        pthread_mutex_unlock(&v->mu);
        return NULL;
}

static void line_end(struct view *v)
{
        if (v->in_text) {
                fputc('\n', stderr);
                v->in_text = false;
        }
}

/* A one-line summary of a string: first line, at most n bytes. */
static void oneline(const char *s, char *out, size_t n)
{
        size_t k = 0;
        for (; s && *s && k + 4 < n; s++)
                out[k++] = (*s == '\n' || *s == '\r' || *s == '\t') ? ' ' : *s;
        if (s && *s)
                out[k++] = '.', out[k++] = '.', out[k++] = '.';
        out[k] = '\0';
}

static void show(struct view *v, const char *type, json_t *d)
{
        char buf[200];
        if (!strcmp(type, "model.request")) {
                v->spinning = true;
                return;
        }
        v->spinning = false;
        spin_clear(v);
        if (!strcmp(type, "model.delta")) {
                const char *t = json_string_value(json_object_get(d, "text"));
                fputs(t ? t : "", stderr);
                v->in_text = true;
        } else if (!strcmp(type, "tool.started")) {
                line_end(v);
                json_t *a = json_object_get(d, "arguments");
                char *args = json_is_string(a) ? strdup(json_string_value(a)) : json_dumps(a, JSON_COMPACT);
                oneline(args, buf, 120);
                free(args);
                fprintf(stderr, "\033[36m> %s\033[0m %s  \033[2m[allowed]\033[0m\n",
                        json_string_value(json_object_get(d, "name")), buf);
        } else if (!strcmp(type, "tool.finished")) {
                json_t *it = json_object_get(d, "output_item"), *o = json_object_get(it, "output");
                char *text = json_is_string(o) ? strdup(json_string_value(o)) : json_dumps(o, JSON_COMPACT);
                oneline(text, buf, 100);
                free(text);
                bool ok = json_is_true(json_object_get(d, "ok"));
                fprintf(stderr, "  %s %s \033[2m(%lld ms)\033[0m\n", ok ? "\033[32mok\033[0m" : "\033[31merror\033[0m", buf,
                        (long long)json_integer_value(json_object_get(d, "duration_ms")));
        } else if (!strcmp(type, "handoff")) {
                line_end(v);
                fprintf(stderr, "\033[35m~ handoff: %s -> %s\033[0m\n", json_string_value(json_object_get(d, "from")),
                        json_string_value(json_object_get(d, "to")));
        } else if (!strcmp(type, "model.retry")) {
                line_end(v);
                fprintf(stderr, "\033[33m! model: %s, retry %lld in %lld ms\033[0m\n",
                        json_string_value(json_object_get(d, "class")),
                        (long long)json_integer_value(json_object_get(d, "attempt")),
                        (long long)json_integer_value(json_object_get(d, "delay_ms")));
        } else if (!strcmp(type, "sandbox.created")) {
                line_end(v);
                fprintf(stderr, "\033[2m# sandbox %s\033[0m\n", json_string_value(json_object_get(d, "sandbox_id")));
        } else if (!strcmp(type, "model.response")) {
                line_end(v);
        }
        fflush(stderr);
}

static void on_event(const char *line, void *ud)
{
        struct view *v = ud;
        if (v->json) {
                fputs(line, stdout);
                fputc('\n', stdout);
                fflush(stdout);
                return;
        }
        /* Warnings (a policy rule no agent can use...) go to stderr, terminal or not. */
        if (!v->tty && !strstr(line, "\"type\":\"run.warning\""))
                return;
        json_t *ev = json_loads(line, 0, NULL);
        if (!ev)
                return;
        pthread_mutex_lock(&v->mu);
        const char *type = json_string_value(json_object_get(ev, "type"));
        if (type && !strcmp(type, "run.warning")) {
                line_end(v);
                fprintf(stderr, "bridle: warning: %s\n",
                        json_string_value(json_object_get(json_object_get(ev, "data"), "message")) ?: "");
        } else if (v->tty) {
                show(v, type, json_object_get(ev, "data"));
        }
        pthread_mutex_unlock(&v->mu);
        json_decref(ev);
}

/* ---- approvals on the terminal ---------------------------------------------------- */

static struct view *approve_view;

/* Ask the person at the terminal (/dev/tty): y approve, a approve always for
 * this rule in this run, n deny (then a reason). */
static enum bridle_approval_decision approve_on_tty(const bridle_approval_request *req, char *reason, size_t cap,
                                                    void *ud)
{
        (void)ud;
        FILE *tty = fopen("/dev/tty", "r+e");
        if (!tty)
                return BRIDLE_DEFER; /* no terminal: nobody to ask now */
        struct view *v = approve_view;
        if (v) {
                pthread_mutex_lock(&v->mu);
                v->spinning = false;
                spin_clear(v);
                line_end(v);
        }
        fprintf(tty, "\n\033[1;33m? approval needed\033[0m  %s %s\n  rule: %s%s%s\n", req->tool, req->arguments,
                req->rule, req->reason[0] ? " - " : "", req->reason);
        enum bridle_approval_decision d = BRIDLE_DENY;
        for (int tries = 0; tries < 5; tries++) {
                fputs("  [y] approve  [a] approve always (this rule, this run)  [n] deny: ", tty);
                fflush(tty);
                char line[512];
                if (!fgets(line, sizeof(line), tty))
                        break;
                if (line[0] == 'y' || line[0] == 'Y') {
                        d = BRIDLE_APPROVE;
                        break;
                }
                if (line[0] == 'a' || line[0] == 'A') {
                        d = BRIDLE_APPROVE_ALWAYS;
                        break;
                }
                if (line[0] == 'n' || line[0] == 'N') {
                        fputs("  reason (sent to the model, may be empty): ", tty);
                        fflush(tty);
                        if (fgets(line, sizeof(line), tty)) {
                                line[strcspn(line, "\r\n")] = '\0';
                                (void)snprintf(reason, cap, "%s", line);
                        }
                        break;
                }
        }
        fclose(tty);
        if (v)
                pthread_mutex_unlock(&v->mu);
        return d;
}

static int parse_approvals(const char *s, enum bridle_approvals *ret)
{
        if (!strcmp(s, "ask"))
                *ret = BRIDLE_APPROVALS_ASK;
        else if (!strcmp(s, "defer"))
                *ret = BRIDLE_APPROVALS_DEFER;
        else if (!strcmp(s, "deny"))
                *ret = BRIDLE_APPROVALS_DENY;
        else
                return -1;
        return 0;
}

/* --approvals: ask when stdin is a terminal, else defer. */
static void set_approvals(bridle_agent_opts *o, struct view *v, bool given)
{
        if (!given)
                o->approvals = isatty(STDIN_FILENO) ? BRIDLE_APPROVALS_ASK : BRIDLE_APPROVALS_DEFER;
        if (o->approvals == BRIDLE_APPROVALS_ASK) {
                approve_view = v;
                o->approve = approve_on_tty;
        }
}

/* ---- running ------------------------------------------------------------------ */

static int exit_status(const bridle_agent_result *res)
{
        switch (res->status) {
        case BRIDLE_RUN_COMPLETED:
                return 0;
        case BRIDLE_RUN_STOPPED:
                return 3;
        case BRIDLE_RUN_WAITING:
                return 4;
        case BRIDLE_RUN_INTERRUPTED:
                return 130;
        case BRIDLE_RUN_FAILED:
        case BRIDLE_RUN_RUNNING:
                return 1;
        }
        return 1;
}

static int finish(struct view *v, int r, bridle_agent_result *res, const bridle_error *err)
{
        if (v->tty && !v->json) {
                pthread_mutex_lock(&v->mu);
                v->quit = true;
                v->spinning = false;
                spin_clear(v);
                line_end(v);
                pthread_cond_signal(&v->cv);
                pthread_mutex_unlock(&v->mu);
                pthread_join(v->th, NULL);
        }
        if (r < 0) {
                fprintf(stderr, "bridle: %s\n", err->msg);
                return err->code == BRIDLE_E_INVALID ? 2 : 1;
        }
        int code = exit_status(res);
        if (res->status == BRIDLE_RUN_COMPLETED && !v->json && res->final_output) {
                fputs(res->final_output, stdout);
                if (res->final_output[0] && res->final_output[strlen(res->final_output) - 1] != '\n')
                        fputc('\n', stdout);
        } else if (res->status == BRIDLE_RUN_FAILED)
                fprintf(stderr, "bridle: run %s failed (%s): %s\n", res->run_id, res->where[0] ? res->where : "internal",
                        res->message);
        else if (res->status == BRIDLE_RUN_STOPPED)
                fprintf(stderr, "bridle: run %s stopped: %s (continue with 'bridle resume %s')\n", res->run_id,
                        res->message, res->run_id);
        else if (res->status == BRIDLE_RUN_WAITING)
                fprintf(stderr, "bridle: run %s is awaiting approval: see 'bridle approvals %s', answer with "
                                "'bridle approve|deny %s ...', then 'bridle resume %s'\n",
                        res->run_id, res->run_id, res->run_id, res->run_id);
        else if (res->status == BRIDLE_RUN_INTERRUPTED)
                fprintf(stderr, "bridle: run %s interrupted (continue with 'bridle resume %s')\n", res->run_id,
                        res->run_id);
        bridle_agent_result_release(res);
        return code;
}

static void view_start(struct view *v, bool json)
{
        memset(v, 0, sizeof(*v));
        v->json = json;
        v->tty = isatty(STDERR_FILENO);
        pthread_mutex_init(&v->mu, NULL);
        pthread_cond_init(&v->cv, NULL);
        if (v->tty && !json && pthread_create(&v->th, NULL, spinner, v) != 0)
                v->tty = false;
        signal(SIGINT, on_sigint);
        signal(SIGTERM, on_sigint);
        signal(SIGHUP, on_sigint); /* a closed terminal stops the run, resumable */
}

/* The run id goes to stderr as soon as it exists: the first event carries it. */
struct idwatch {
        struct view *v;
        bool said;
};

static void on_event_first(const char *line, void *ud)
{
        struct idwatch *w = ud;
        if (!w->said) {
                const char *p = strstr(line, "\"run_id\":\"");
                if (p) {
                        fprintf(stderr, "run %.32s\n", p + 10);
                        w->said = true;
                }
        }
        on_event(line, w->v);
}

static void run_usage(FILE *f)
{
        fputs("usage: bridle run [--agent FILE] [--provider P] [--model M] [--base-url URL] [--script FILE]\n"
              "                  [--manifest FILE] [--policy FILE] [--approvals ask|defer|deny] [--output DIR]\n"
              "                  [--max-turns N] [--keep-sandbox] [--checkpoint-every N | --no-checkpoints]\n"
              "                  [--json] TASK...\n"
              "       bridle resume RUN [--from-checkpoint ID] [--max-turns N] [--budget-tokens N]\n"
              "                  [--budget-cost USD] [--budget-wall SECONDS] [--approvals ask|defer|deny] [--json]\n",
              f);
}

/* Options run and resume share: 1 handled, 0 not one of them, -1 a usage error. */
static int common_opt(const char *cmd, int c, bridle_agent_opts *o, bool *json, bool *approvals_given)
{
        switch (c) {
        case 'j':
                *json = true;
                return 1;
        case 'J':
                o->journal_path = optarg;
                return 1;
        case 'A':
                if (parse_approvals(optarg, &o->approvals) < 0) {
                        fprintf(stderr, "bridle %s: --approvals '%s' is not ask, defer or deny\n", cmd, optarg);
                        return -1;
                }
                *approvals_given = true;
                return 1;
        case 't': {
                char *end;
                long n = strtol(optarg, &end, 10);
                if (*end || n < 1 || n > 100000) {
                        fprintf(stderr, "bridle %s: --max-turns '%s' is not a number from 1 to 100000\n", cmd, optarg);
                        return -1;
                }
                o->max_turns = (unsigned)n;
                return 1;
        }
        default:
                return 0;
        }
}

/* A positive number option: 0 and *ret set, or -1 after saying why. */
static int positive(const char *cmd, const char *opt, const char *arg, double max, bool integer, double *ret)
{
        char *end;
        double v = strtod(arg, &end);
        if (*end || end == arg || !(v > 0) || v > max || (integer && v != (double)(long long)v)) {
                fprintf(stderr, "bridle %s: %s '%s' is not a positive %s up to %g\n", cmd, opt, arg,
                        integer ? "integer" : "number", max);
                return -1;
        }
        *ret = v;
        return 0;
}

/* Run (task) or resume (run_ref) with the terminal view, and exit like run. */
static int go(bridle_agent_opts *o, bool json, bool approvals_given, const char *task, const char *run_ref)
{
        struct view v;
        view_start(&v, json);
        set_approvals(o, &v, approvals_given);
        struct idwatch w = { .v = &v };
        o->on_event = on_event_first;
        o->userdata = &w;
        o->interrupt = &interrupted;
        bridle_agent_result res;
        bridle_error err = { 0 };
        int r = task ? bridle_agent_run(o, task, &res, &err) : bridle_agent_resume(run_ref, o, &res, &err);
        return finish(&v, r, &res, &err);
}

int bridle_cmd_run(int argc, char **argv)
{
        static const struct option lo[] = {
                { "agent", required_argument, NULL, 'a' },    { "provider", required_argument, NULL, 'p' },
                { "model", required_argument, NULL, 'm' },    { "base-url", required_argument, NULL, 'u' },
                { "script", required_argument, NULL, 's' },   { "manifest", required_argument, NULL, 'f' },
                { "max-turns", required_argument, NULL, 't' }, { "keep-sandbox", no_argument, NULL, 'k' },
                { "json", no_argument, NULL, 'j' },           { "journal", required_argument, NULL, 'J' },
                { "policy", required_argument, NULL, 'P' },   { "approvals", required_argument, NULL, 'A' },
                { "output", required_argument, NULL, 'O' },   { "help", no_argument, NULL, 'h' },
                { "checkpoint-every", required_argument, NULL, 'E' }, { "no-checkpoints", no_argument, NULL, 'N' },
                { NULL, 0, NULL, 0 },
        };
        bridle_agent_opts o = { 0 };
        bool json = false, approvals_given = false;
        optind = 1;
        for (int c; (c = getopt_long(argc, argv, "+h", lo, NULL)) != -1;) {
                int k = common_opt("run", c, &o, &json, &approvals_given);
                if (k < 0)
                        return 2;
                if (k > 0)
                        continue;
                switch (c) {
                case 'a': o.agent_file = optarg; break;
                case 'p': o.provider = optarg; break;
                case 'm': o.model = optarg; break;
                case 'u': o.base_url = optarg; break;
                case 's': o.script_file = optarg; break;
                case 'f': o.manifest_file = optarg; break;
                case 'k': o.keep_sandbox = true; break;
                case 'P': o.policy_file = optarg; break;
                case 'O': o.output_dir = optarg; break;
                case 'N': o.no_checkpoints = true; break;
                case 'E': {
                        double v;
                        if (positive("run", "--checkpoint-every", optarg, 1000000, true, &v) < 0)
                                return 2;
                        o.checkpoint_every = (unsigned)v;
                        break;
                }
                case 'h': run_usage(stdout); return 0;
                default: run_usage(stderr); return 2;
                }
        }
        if (optind >= argc) {
                fputs("bridle run: no task given\n", stderr);
                run_usage(stderr);
                return 2;
        }
        size_t len = 1;
        for (int i = optind; i < argc; i++)
                len += strlen(argv[i]) + 1;
        char *task = calloc(1, len);
        if (!task)
                return 1;
        for (int i = optind; i < argc; i++) {
                if (i > optind)
                        strcat(task, " ");
                strcat(task, argv[i]);
        }
        int code = go(&o, json, approvals_given, task, NULL);
        free(task);
        return code;
}

int bridle_cmd_resume(int argc, char **argv)
{
        static const struct option lo[] = {
                { "max-turns", required_argument, NULL, 't' }, { "json", no_argument, NULL, 'j' },
                { "journal", required_argument, NULL, 'J' },   { "approvals", required_argument, NULL, 'A' },
                { "help", no_argument, NULL, 'h' },
                { "from-checkpoint", required_argument, NULL, 'C' }, { "budget-tokens", required_argument, NULL, 'T' },
                { "budget-cost", required_argument, NULL, 'D' },     { "budget-wall", required_argument, NULL, 'W' },
                { NULL, 0, NULL, 0 },
        };
        bridle_agent_opts o = { 0 };
        bool json = false, approvals_given = false;
        optind = 1;
        for (int c; (c = getopt_long(argc, argv, "h", lo, NULL)) != -1;) {
                int k = common_opt("resume", c, &o, &json, &approvals_given);
                if (k < 0)
                        return 2;
                if (k > 0)
                        continue;
                double v;
                if (c == 'C') {
                        o.from_checkpoint = optarg;
                        continue;
                }
                if (c == 'T' || c == 'D' || c == 'W') {
                        const char *name = c == 'T' ? "--budget-tokens" : c == 'D' ? "--budget-cost" : "--budget-wall";
                        if (positive("resume", name, optarg, 1e15, c == 'T', &v) < 0)
                                return 2;
                        if (c == 'T')
                                o.budget_tokens = (int64_t)v;
                        else if (c == 'D')
                                o.budget_cost_usd = v;
                        else
                                o.budget_wall_s = v;
                        continue;
                }
                if (c == 'h') {
                        run_usage(stdout);
                        return 0;
                }
                run_usage(stderr);
                return 2;
        }
        if (optind + 1 != argc) {
                run_usage(stderr);
                return 2;
        }
        return go(&o, json, approvals_given, NULL, argv[optind]);
}
