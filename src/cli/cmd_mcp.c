/* SPDX-License-Identifier: MIT */
/*
 * bridle mcp serve [--manifest FILE] [--policy FILE] [--http ADDR [--token-file FILE]
 *                  [--max-sessions N] [--session-idle SECONDS]]:
 * a sandbox as an MCP server on stdin/stdout, or over streamable HTTP
 * (include/bridle/mcp.h, docs/mcp.md).
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "bridle/bridle.h"
#include "bridle/mcp.h"
#include "commands.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
        (void)sig;
        stop_flag = 1;
}

static int usage(FILE *f, int status)
{
        (void)fputs("usage: bridle mcp serve [--manifest FILE] [--policy FILE]\n"
                    "                        [--http ADDR [--token-file FILE] [--max-sessions N] [--session-idle S]]\n"
                    "\n"
                    "Serve a sandbox to an MCP client over stdin/stdout (newline-delimited JSON-RPC):\n"
                    "exec_command, write_stdin, read_file, write_file, list_dir, search, apply_patch,\n"
                    "snapshot and restore, each call decided by the policy first. Calls the policy asks\n"
                    "about are sent to the client as elicitation requests, or refused when it cannot\n"
                    "be asked. The sandbox is made on the first call and destroyed at the end.\n"
                    "With --http, MCP's streamable HTTP instead: each session has its own sandbox.\n"
                    "\n"
                    "  --manifest FILE   the workspace's manifest (default: an empty workspace)\n"
                    "  --policy FILE     the gateway policy (default: the built-in one)\n"
                    "  --http ADDR       serve MCP's streamable HTTP on ADDR instead (PORT, HOST:PORT or\n"
                    "                    [V6]:PORT; port 0: any free one) at http://ADDR/mcp, one sandbox\n"
                    "                    per session. HOST defaults to 127.0.0.1; others must be named.\n"
                    "                    The URL is printed on stderr once listening.\n"
                    "  --token-file FILE the bearer token every request must carry (its first line);\n"
                    "                    else $BRIDLE_MCP_TOKEN, else a random one printed on stderr\n"
                    "  --max-sessions N  sessions at a time (default 8; more are answered 503)\n"
                    "  --session-idle S  a session with nothing going on for S seconds ends and its\n"
                    "                    sandbox is destroyed (default 3600; 0: never)\n",
                    f);
        return status;
}

static bool token_printed_by_us;
static const char *shown_token;

static void on_listening(const char *url, bool loopback, void *ud)
{
        (void)ud;
        if (!loopback)
                (void)fprintf(stderr, "bridle mcp: warning: listening on a non-loopback address, reachable "
                                      "from other hosts (the bearer token is the only guard)\n");
        (void)fprintf(stderr, "bridle mcp: listening on %s\n", url);
        if (token_printed_by_us)
                (void)fprintf(stderr, "bridle mcp: token %s\n", shown_token);
        (void)fflush(stderr);
}

/* The first line of FILE, without its newline (malloc'd), or NULL (message printed). */
static char *read_token_file(const char *path)
{
        FILE *f = fopen(path, "re");
        if (!f) {
                (void)fprintf(stderr, "bridle mcp serve: --token-file '%s': %s\n", path, strerror(errno));
                return NULL;
        }
        char *line = NULL;
        size_t cap = 0;
        ssize_t n = getline(&line, &cap, f);
        (void)fclose(f);
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
                line[--n] = '\0';
        if (n <= 0) {
                free(line);
                (void)fprintf(stderr, "bridle mcp serve: --token-file '%s': no token on its first line\n", path);
                return NULL;
        }
        return line;
}

static char *random_token(void)
{
        unsigned char b[32];
        for (size_t got = 0; got < sizeof(b);) {
                ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
                if (n < 0 && errno != EINTR)
                        return NULL;
                if (n > 0)
                        got += (size_t)n;
        }
        char *t = malloc(2 * sizeof(b) + 1);
        for (size_t i = 0; t && i < sizeof(b); i++)
                (void)snprintf(t + 2 * i, 3, "%02x", b[i]);
        return t;
}

static int serve_http(const bridle_mcp_serve_opts *so, const char *addr, const char *token_file, unsigned max,
                      unsigned idle)
{
        char *token = NULL;
        const char *env = getenv("BRIDLE_MCP_TOKEN");
        if (token_file) {
                if (!(token = read_token_file(token_file)))
                        return 1;
        } else if (env && env[0]) {
                token = strdup(env);
        } else {
                token = random_token();
                token_printed_by_us = true;
        }
        if (!token) {
                (void)fprintf(stderr, "bridle mcp serve: no token: %s\n", strerror(errno ?: ENOMEM));
                return 1;
        }
        shown_token = token;
        bridle_mcp_http_opts ho = {.serve = *so, .addr = addr, .token = token, .on_listening = on_listening,
                                   .max_sessions = max, .session_idle_s = idle};
        bridle_error err = {0};
        int r = bridle_mcp_serve_http(&ho, &err);
        free(token);
        if (r < 0) {
                (void)fprintf(stderr, "bridle mcp serve: %s\n", err.msg);
                return 1;
        }
        return 0;
}

int bridle_cmd_mcp(int argc, char **argv)
{
        if (argc < 2)
                return usage(stderr, 2);
        if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
                return usage(stdout, 0);
        if (strcmp(argv[1], "serve") != 0) {
                (void)fprintf(stderr, "bridle mcp: unknown subcommand '%s'\n", argv[1]);
                return usage(stderr, 2);
        }
        bridle_mcp_serve_opts o = {.in_fd = STDIN_FILENO, .out_fd = STDOUT_FILENO};
        const char *http = NULL, *token_file = NULL, *http_only = NULL;
        unsigned max_sessions = 0, idle = 0;
        for (int i = 2; i < argc; i++) {
                if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
                        return usage(stdout, 0);
                if (!strcmp(argv[i], "--manifest") && i + 1 < argc)
                        o.manifest_path = argv[++i];
                else if (!strcmp(argv[i], "--policy") && i + 1 < argc)
                        o.policy_path = argv[++i];
                else if (!strcmp(argv[i], "--http") && i + 1 < argc)
                        http = argv[++i];
                else if (!strcmp(argv[i], "--token-file") && i + 1 < argc)
                        token_file = argv[++i];
                else if ((!strcmp(argv[i], "--max-sessions") || !strcmp(argv[i], "--session-idle")) && i + 1 < argc) {
                        const char *opt = argv[i], *v = argv[++i];
                        char *end = NULL;
                        errno = 0;
                        unsigned long n = strtoul(v, &end, 10);
                        bool sessions = !strcmp(opt, "--max-sessions");
                        if (errno || !end || *end || !v[0] || v[0] == '-' ||
                            (sessions ? n < 1 || n > 1024 : n > 30ul * 86400)) {
                                (void)fprintf(stderr, "bridle mcp serve: %s '%s': expected %s\n", opt, v,
                                              sessions ? "1 to 1024" : "seconds, 0 to 2592000");
                                return usage(stderr, 2);
                        }
                        if (sessions)
                                max_sessions = (unsigned)n;
                        else
                                idle = n ? (unsigned)n : BRIDLE_MCP_IDLE_NEVER;
                        http_only = opt;
                }
                else {
                        (void)fprintf(stderr, "bridle mcp serve: bad option '%s'\n", argv[i]);
                        return usage(stderr, 2);
                }
        }
        /* TERM, INT, HUP: stop between messages and destroy the sandbox. */
        struct sigaction sa = {.sa_handler = on_signal};
        (void)sigemptyset(&sa.sa_mask);
        (void)sigaction(SIGTERM, &sa, NULL);
        (void)sigaction(SIGINT, &sa, NULL);
        (void)sigaction(SIGHUP, &sa, NULL);
        o.stop = (const volatile int *)&stop_flag;
        if ((token_file || http_only) && !http) {
                (void)fprintf(stderr, "bridle mcp serve: %s goes with --http\n", token_file ? "--token-file" : http_only);
                return usage(stderr, 2);
        }
        if (http)
                return serve_http(&o, http, token_file, max_sessions, idle);
        /* stdout is the protocol's: nothing else may be written there. */
        (void)fflush(stdout);
        bridle_error err = {0};
        if (bridle_mcp_serve(&o, &err) < 0) {
                (void)fprintf(stderr, "bridle mcp serve: %s\n", err.msg);
                return 1;
        }
        return 0;
}
