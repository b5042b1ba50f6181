/* SPDX-License-Identifier: MIT */
/*
 * bridle mcp serve [--manifest FILE] [--policy FILE]: a sandbox as an MCP
 * server on stdin/stdout (include/bridle/mcp.h, docs/mcp.md).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
                    "\n"
                    "Serve a sandbox to an MCP client over stdin/stdout (newline-delimited JSON-RPC):\n"
                    "exec_command, write_stdin, read_file, write_file, list_dir, search, apply_patch,\n"
                    "snapshot and restore, each call decided by the policy first. Calls the policy asks\n"
                    "about are sent to the client as elicitation requests, or refused when it cannot\n"
                    "be asked. The sandbox is made on the first call and destroyed at the end.\n"
                    "\n"
                    "  --manifest FILE   the workspace's manifest (default: an empty workspace)\n"
                    "  --policy FILE     the gateway policy (default: the built-in one)\n",
                    f);
        return status;
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
        for (int i = 2; i < argc; i++) {
                if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
                        return usage(stdout, 0);
                if (!strcmp(argv[i], "--manifest") && i + 1 < argc)
                        o.manifest_path = argv[++i];
                else if (!strcmp(argv[i], "--policy") && i + 1 < argc)
                        o.policy_path = argv[++i];
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
        /* stdout is the protocol's: nothing else may be written there. */
        (void)fflush(stdout);
        bridle_error err = {0};
        if (bridle_mcp_serve(&o, &err) < 0) {
                (void)fprintf(stderr, "bridle mcp serve: %s\n", err.msg);
                return 1;
        }
        return 0;
}
