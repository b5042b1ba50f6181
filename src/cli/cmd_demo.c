/* SPDX-License-Identifier: MIT */
/*
 * bridle demo: the main job on an embedded default, with no API key. Runs a
 * few commands in fresh sandboxes and shows what works and what is blocked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridle/bridle.h"
#include "commands.h"

struct demo_step {
        const char *title;
        const char *script;
        bool expect_ok; /* true: should succeed; false: should be blocked */
        uint64_t timeout_ms;
};

static const struct demo_step steps[] = {
        { "who and where am I", "id; hostname; pwd; ls /", true, 0 },
        { "write in the workspace", "echo hello > notes.txt && cat notes.txt", true, 0 },
        { "only a clean environment (the caller's OPENAI_API_KEY is not here)",
          "env | sort; test -z \"$OPENAI_API_KEY\"", true, 0 },
        { "only the sandbox's processes", "ls /proc | grep -E '^[0-9]+$' | tr '\\n' ' '", true, 0 },
        { "read /etc/shadow", "cat /etc/shadow", false, 0 },
        { "look into /root and /home", "ls /root /home", false, 0 },
        { "write to /usr", "echo x > /usr/bin/evil", false, 0 },
        { "reach the network", "exec 3<>/dev/tcp/127.0.0.1/22", false, 0 },
        { "make a user namespace", "unshare -Ur true", false, 0 },
        { "remount / read-write", "mount -o remount,rw /", false, 0 },
        { "run forever (1 s timeout)", "sleep 30", false, 1000 },
};

static int run_step(const struct demo_step *st, bool *ret_ok)
{
        bridle_sandbox_spec *spec = bridle_sandbox_spec_new();
        if (!spec)
                return -1;
        bridle_limits l = { .timeout_ms = st->timeout_ms ? st->timeout_ms : 10000, .pids = 128 };
        bridle_sandbox_spec_set_limits(spec, &l);
        const char *argv[] = { "/bin/bash", "-c", st->script, NULL };
        bridle_run_opts o = { .argv = argv, .capture = true, .max_output = 4096, .stdin_fd = -1 };
        bridle_run_result r;
        bridle_error err;
        bridle_error_clear(&err);
        int rc = bridle_sandbox_run(spec, &o, &r, &err);
        bridle_sandbox_spec_free(spec);
        if (rc < 0) {
                fprintf(stderr, "bridle demo: %s\n", err.msg);
                return -1;
        }
        bool ok = r.status == 0;
        printf("\n$ %s\n", st->script);
        if (r.stdout_len)
                printf("%s%s", r.stdout_buf, r.stdout_buf[r.stdout_len - 1] == '\n' ? "" : "\n");
        if (r.stderr_len)
                printf("%s%s", r.stderr_buf, r.stderr_buf[r.stderr_len - 1] == '\n' ? "" : "\n");
        if (r.timed_out)
                printf("(killed after %llu ms)\n", (unsigned long long)r.wall_ms);
        *ret_ok = ok == st->expect_ok;
        printf("=> %s: %s (exit %d, %llu ms)\n", st->title,
               st->expect_ok ? (ok ? "works" : "FAILED") : (ok ? "NOT BLOCKED" : "blocked"), r.status,
               (unsigned long long)r.wall_ms);
        bridle_run_result_release(&r);
        return 0;
}

int bridle_cmd_demo(int argc, char **argv)
{
        (void)argc;
        (void)argv;
        printf("bridle %s demo: each command runs in a fresh sandbox (user, mount, pid, net, ipc,\n"
               "uts and cgroup namespaces; seccomp; Landlock; no capabilities; read-only /usr)\n",
               bridle_version());
        /* A stand-in secret in the harness's environment, to show it stays out. */
        (void)setenv("OPENAI_API_KEY", "sk-demo-not-a-real-key", 1);
        size_t good = 0, n = sizeof(steps) / sizeof(steps[0]);
        for (size_t i = 0; i < n; i++) {
                bool ok = false;
                if (run_step(&steps[i], &ok) < 0) {
                        fputs("bridle demo: the sandbox could not be made here; try 'bridle doctor'\n", stderr);
                        return 1;
                }
                good += ok;
        }
        printf("\n%zu of %zu behaved as a sandbox should.\n", good, n);
        return good == n ? 0 : 1;
}
