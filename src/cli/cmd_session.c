/* SPDX-License-Identifier: MIT */
/*
 * Sessions from the command line:
 *   bridle sandbox shell ID [-- COMMAND [ARG...]]      an interactive pty, for people
 *   bridle sandbox exec-command ID [OPTIONS] -- CMD...  start a session (for scripts)
 *   bridle sandbox write-stdin ID SESSION [OPTIONS] [CHARS]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "bridle/bridle.h"
#include "commands.h"
#include "spec_opts.h"

static const char shell_prog[] = "bridle sandbox shell";
static const char xc_prog[] = "bridle sandbox exec-command";
static const char ws_prog[] = "bridle sandbox write-stdin";

static const char shell_help[] =
        "usage: bridle sandbox shell ID [--cwd PATH] [-- COMMAND [ARG...]]\n"
        "\n"
        "An interactive terminal in a living sandbox (default: /bin/bash -l). The local\n"
        "terminal is put in raw mode (and restored on exit); window size changes follow.\n"
        "stdin must be a terminal: for scripts use 'exec' or 'exec-command'.\n"
        "\n"
        "exit status: the shell's; 128+N if killed by signal N; 125 the sandbox could not\n"
        "be used; 2 usage (or stdin is not a terminal)\n";

static const char xc_help[] =
        "usage: bridle sandbox exec-command ID [OPTIONS] -- COMMAND [ARG...]\n"
        "\n"
        "Starts a session (exec_command): one argument is a shell command line (run as\n"
        "/bin/bash -lc CMD), several are the argv. Prints the output of the first\n"
        "--yield ms; the session keeps running: use write-stdin with its id.\n"
        "\n"
        "  --tty                 in a pseudo-terminal (default: pipes, stdout+stderr together)\n"
        "  --yield MS            how long to collect output (default 10000)\n"
        "  --max-tokens N        output cap, 4 bytes a token (default 10000), head and tail kept\n"
        "  --cwd PATH            working directory (default /workspace)\n"
        "  --env NAME=VALUE      add a variable (repeatable)\n"
        "  --json                print "
        "{\"session_id\",\"output\",\"truncated\",\"exited\",\"status\"}\n"
        "\n"
        "Without --json the output goes to stdout and '[session N running]' or\n"
        "'[exited S]' to stderr. exit status: 0 (still running), or the command's status;\n"
        "125 the sandbox could not be used; 2 usage\n";

static const char ws_help[] =
        "usage: bridle sandbox write-stdin ID SESSION [OPTIONS] [CHARS]\n"
        "\n"
        "Writes CHARS (C escapes: \\n \\r \\t \\\\ \\xHH; none: only read) to a session's\n"
        "input, then prints its output since the last read (write_stdin).\n"
        "\n"
        "  --yield MS            how long to collect output (default 250)\n"
        "  --max-tokens N        output cap, 4 bytes a token (default 10000)\n"
        "  --kill                kill the session instead\n"
        "  --json                as exec-command\n"
        "\n"
        "exit status: as exec-command; 1 no such session\n";

enum { OPT_TTY = 1000, OPT_YIELD, OPT_TOKENS, OPT_CWD, OPT_ENV, OPT_JSON, OPT_KILL, OPT_HELP };

static const struct option opts[] = {
        {"tty", no_argument, NULL, OPT_TTY},
        {"yield", required_argument, NULL, OPT_YIELD},
        {"max-tokens", required_argument, NULL, OPT_TOKENS},
        {"cwd", required_argument, NULL, OPT_CWD},
        {"env", required_argument, NULL, OPT_ENV},
        {"json", no_argument, NULL, OPT_JSON},
        {"kill", no_argument, NULL, OPT_KILL},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
};

struct args {
        const char *prog;
        bridle_command_opts o;
        const char *env[65];
        size_t n_env;
        bool json, kill, help;
};

static int number(const char *prog, const char *s, unsigned long long *ret)
{
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || end == s || *end || s[0] == '-')
                return cli_usage_error(prog, "not a number: '%s'", s);
        *ret = v;
        return 0;
}

static int apply_opt(struct args *a, int c, const char *arg)
{
        unsigned long long v = 0;
        int r;
        switch (c) {
        case OPT_HELP:
                a->help = true;
                return 0;
        case OPT_TTY:
                a->o.tty = true;
                return 0;
        case OPT_JSON:
                a->json = true;
                return 0;
        case OPT_KILL:
                a->kill = true;
                return 0;
        case OPT_CWD:
                a->o.workdir = arg;
                return 0;
        case OPT_ENV:
                if (a->n_env >= 64 || !strchr(arg, '='))
                        return cli_usage_error(a->prog, "--env wants NAME=VALUE (at most 64): '%s'",
                                               arg);
                a->env[a->n_env++] = arg;
                a->o.env = a->env;
                return 0;
        default:
                if ((r = number(a->prog, arg, &v)) != 0)
                        return r;
                if (c == OPT_YIELD)
                        a->o.yield_time_ms = v ? v : 1;
                else
                        a->o.max_output_tokens = (size_t)v;
                return 0;
        }
}

/* Options after the leading operands (skip of them: ID, SESSION); optind is then
 * an index into argv. permute: options may also follow later operands. */
static int parse(struct args *a, int argc, char **argv, int skip, bool permute)
{
        int c, r;
        for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
                if (strcmp(argv[i], "--help") == 0)
                        a->help = true;
        if (a->help)
                return 0;
        if (argc <= skip)
                return cli_usage_error(a->prog, "%s", skip == 1 ? "want ID" : "want ID SESSION");
        for (int i = 1; i <= skip; i++)
                if (argv[i][0] == '-')
                        return cli_usage_error(a->prog, "want ID%s first, not '%s'",
                                               skip == 1 ? "" : " SESSION", argv[i]);
        argc -= skip;
        argv += skip;
        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, permute ? "" : "+", opts, NULL)) != -1) {
                if (c == '?' || c == ':')
                        return cli_usage_error(a->prog, "unknown option or missing value: '%s'",
                                               argv[optind - 1]);
                if ((r = apply_opt(a, c, optarg)) != 0)
                        return r;
        }
        optind += skip;
        return 0;
}

static void print_result(const bridle_session_result *r, bool json)
{
        if (json) {
                printf("{\"session_id\":%d,\"output\":", r->session_id);
                cli_json_string(stdout, r->output, r->output_len);
                printf(",\"truncated\":%s,\"exited\":%s", r->output_truncated ? "true" : "false",
                       r->exited ? "true" : "false");
                if (r->exited)
                        printf(",\"status\":%d", r->status);
                printf(",\"wall_ms\":%llu}\n", (unsigned long long)r->wall_ms);
                return;
        }
        (void)fwrite(r->output, 1, r->output_len, stdout);
        (void)fflush(stdout);
        if (r->exited)
                (void)fprintf(stderr, "[exited %d]\n", r->status);
        else
                (void)fprintf(stderr, "[session %d running]\n", r->session_id);
}

static int fail(const char *id, const bridle_error *e, int code)
{
        (void)fprintf(stderr, "bridle: sandbox '%s': %s\n", id, e->msg);
        return code;
}

int bridle_cmd_sandbox_exec_command(int argc, char **argv)
{
        struct args a = {.prog = xc_prog};
        int r = parse(&a, argc, argv, 1, false);
        if (r != 0 || a.help) {
                if (a.help)
                        (void)fputs(xc_help, stdout);
                return r;
        }
        const char *id = argv[1];
        if (argc - optind < 1)
                return cli_usage_error(xc_prog, "%s", "want ID -- COMMAND");
        if (argc - optind == 1)
                a.o.cmd = argv[optind];
        else
                a.o.argv = (const char *const *)(argv + optind);
        bridle_session_result res;
        bridle_error e;
        bridle_error_clear(&e);
        if (bridle_sandbox_exec_command(id, &a.o, &res, &e) < 0)
                return fail(id, &e, e.code == -EAGAIN ? 1 : 125);
        print_result(&res, a.json);
        r = res.exited ? res.status : 0;
        bridle_session_result_release(&res);
        return r;
}

static int hexval(char c)
{
        return c >= '0' && c <= '9'   ? c - '0'
               : c >= 'a' && c <= 'f' ? c - 'a' + 10
               : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                      : -1;
}

static char escaped(char c)
{
        static const char from[] = "nrte", to[] = "\n\r\t\033";
        const char *p = c ? strchr(from, c) : NULL;
        if (p)
                return to[p - from];
        return c;
}

/* C escapes, in place; returns the length. */
static size_t unescape(char *s)
{
        size_t o = 0;
        for (size_t i = 0; s[i]; i++) {
                if (s[i] != '\\' || !s[i + 1]) {
                        s[o++] = s[i];
                        continue;
                }
                char c = s[++i];
                int hi = c == 'x' ? hexval(s[i + 1]) : -1, lo = hi >= 0 ? hexval(s[i + 2]) : -1;
                if (lo >= 0) {
                        s[o++] = (char)(unsigned char)(hi * 16 + lo);
                        i += 2;
                } else
                        s[o++] = escaped(c);
        }
        s[o] = '\0';
        return o;
}

int bridle_cmd_sandbox_write_stdin(int argc, char **argv)
{
        struct args a = {.prog = ws_prog};
        int r = parse(&a, argc, argv, 2, true);
        if (r != 0 || a.help) {
                if (a.help)
                        (void)fputs(ws_help, stdout);
                return r;
        }
        if (argc - optind > 1)
                return cli_usage_error(ws_prog, "%s", "want ID SESSION [CHARS]");
        const char *id = argv[1];
        unsigned long long sess = 0;
        if ((r = number(ws_prog, argv[2], &sess)) != 0)
                return r;
        char *chars = argc - optind == 1 ? argv[optind] : NULL;
        size_t len = chars ? unescape(chars) : 0;
        bridle_error e;
        bridle_error_clear(&e);
        if (a.kill) {
                if (bridle_sandbox_session_kill(id, (int)sess, &e) < 0)
                        return fail(id, &e, e.code == -ENOENT ? 1 : 125);
                return 0;
        }
        bridle_session_result res;
        if (bridle_sandbox_write_stdin(id, (int)sess, chars, len, a.o.yield_time_ms,
                                       a.o.max_output_tokens, &res, &e) < 0)
                return fail(id, &e, e.code == -ENOENT || e.code == -EINVAL ? 1 : 125);
        print_result(&res, a.json);
        r = res.exited ? res.status : 0;
        bridle_session_result_release(&res);
        return r;
}

/* ---- shell ------------------------------------------------------------------ */

static struct termios saved_tio;
static volatile sig_atomic_t tio_saved;

static void restore_tty(void)
{
        if (tio_saved)
                (void)tcsetattr(0, TCSAFLUSH, &saved_tio);
}

static void on_fatal(int sig)
{
        restore_tty();
        (void)signal(sig, SIG_DFL);
        (void)raise(sig);
}

static int raw_mode(void)
{
        if (tcgetattr(0, &saved_tio) < 0)
                return -errno;
        struct termios t = saved_tio;
        cfmakeraw(&t);
        tio_saved = 1;
        const int sigs[] = {SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGPIPE};
        for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
                struct sigaction sa = {.sa_handler = on_fatal, .sa_flags = SA_RESTART};
                (void)sigaction(sigs[i], &sa, NULL);
        }
        return tcsetattr(0, TCSAFLUSH, &t) < 0 ? -errno : 0;
}

struct relay {
        const char *id;
        int sess;
        int wake; /* write end: the reader is done */
        bool exited;
        int status;
        bridle_error err;
        int failed;
};

/* The reader: long polls, output to stdout, until the process exits. */
static void *reader(void *arg)
{
        struct relay *rl = arg;
        for (;;) {
                bridle_session_result res;
                if (bridle_sandbox_session_poll(rl->id, rl->sess, 1000, &res, &rl->err) < 0) {
                        rl->failed = 1;
                        break;
                }
                (void)!write(1, res.output, res.output_len);
                bool done = res.exited;
                rl->status = res.status;
                bridle_session_result_release(&res);
                if (done) {
                        rl->exited = true;
                        break;
                }
        }
        (void)!write(rl->wake, "x", 1);
        return NULL;
}

static void winsize(unsigned *rows, unsigned *cols)
{
        struct winsize ws;
        if (ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
                *rows = ws.ws_row;
                *cols = ws.ws_col;
        }
}

/* Main thread: keys to the session, window sizes, until the reader is done. */
static void pump_keys(struct relay *rl, int wake_r, int sfd)
{
        for (;;) {
                struct pollfd p[3] = {{0, POLLIN, 0}, {wake_r, POLLIN, 0}, {sfd, POLLIN, 0}};
                if (poll(p, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return;
                }
                if (p[1].revents)
                        return;
                if (p[2].revents) {
                        struct signalfd_siginfo si;
                        (void)!read(sfd, &si, sizeof(si));
                        unsigned rows = 0, cols = 0;
                        winsize(&rows, &cols);
                        (void)bridle_sandbox_session_resize(rl->id, rl->sess, rows, cols, NULL);
                }
                if (p[0].revents) {
                        char buf[4096];
                        ssize_t n = read(0, buf, sizeof(buf));
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (bridle_sandbox_session_send(rl->id, rl->sess, buf,
                                                        n > 0 ? (size_t)n : 0, n <= 0, NULL) < 0 ||
                            n <= 0)
                                return;
                }
        }
}

static int run_shell(const char *id, struct args *a, int sess)
{
        int wp[2];
        if (pipe2(wp, O_CLOEXEC) < 0)
                return 125;
        sigset_t ws;
        sigemptyset(&ws);
        sigaddset(&ws, SIGWINCH);
        pthread_sigmask(SIG_BLOCK, &ws, NULL);
        int sfd = signalfd(-1, &ws, SFD_CLOEXEC);
        struct relay rl = {.id = id, .sess = sess, .wake = wp[1]};
        pthread_t th;
        (void)a;
        if (raw_mode() < 0 || pthread_create(&th, NULL, reader, &rl) != 0) {
                restore_tty();
                (void)bridle_sandbox_session_kill(id, sess, NULL);
                (void)fputs("bridle: cannot set up the terminal\n", stderr);
                return 125;
        }
        pump_keys(&rl, wp[0], sfd);
        if (!rl.exited && !rl.failed)
                (void)bridle_sandbox_session_kill(id, sess, NULL); /* stdin went away: end it */
        pthread_join(th, NULL);
        restore_tty();
        close(wp[0]);
        close(wp[1]);
        if (sfd >= 0)
                close(sfd);
        if (rl.failed && !rl.exited)
                return fail(id, &rl.err, 125);
        return rl.exited ? rl.status : 125;
}

int bridle_cmd_sandbox_shell(int argc, char **argv)
{
        struct args a = {.prog = shell_prog};
        int r = parse(&a, argc, argv, 1, false);
        if (r != 0 || a.help) {
                if (a.help)
                        (void)fputs(shell_help, stdout);
                return r;
        }
        const char *id = argv[1];
        if (!isatty(0))
                return cli_usage_error(shell_prog, "%s",
                                       "stdin is not a terminal (for scripts: 'bridle sandbox "
                                       "exec' or 'exec-command')");
        static const char *const dflt[] = {"/bin/bash", "-l", NULL};
        a.o.argv = argc > optind ? (const char *const *)(argv + optind) : dflt;
        a.o.tty = true;
        a.o.yield_time_ms = 1;
        a.o.max_output_tokens = 1u << 20;
        char term[128];
        const char *t = getenv("TERM");
        (void)snprintf(term, sizeof(term), "TERM=%s", t && *t ? t : "xterm");
        if (a.n_env < 64)
                a.env[a.n_env++] = term;
        a.o.env = a.env;
        winsize(&a.o.rows, &a.o.cols);
        bridle_session_result res;
        bridle_error e;
        bridle_error_clear(&e);
        if (bridle_sandbox_exec_command(id, &a.o, &res, &e) < 0)
                return fail(id, &e, 125);
        (void)!write(1, res.output, res.output_len);
        int sess = res.session_id;
        bool exited = res.exited;
        int status = res.status;
        bridle_session_result_release(&res);
        return exited ? status : run_shell(id, &a, sess);
}
