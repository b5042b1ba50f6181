/* SPDX-License-Identifier: MIT */
/* The CLI's subcommands: each returns the process exit status. */
#pragma once

int bridle_cmd_sandbox(int argc, char **argv);
int bridle_cmd_doctor(int argc, char **argv);
int bridle_cmd_demo(int argc, char **argv);
int bridle_cmd_patch(int argc, char **argv);
int bridle_cmd_run(int argc, char **argv);
int bridle_cmd_resume(int argc, char **argv);
int bridle_cmd_approvals(int argc, char **argv);
int bridle_cmd_approve(int argc, char **argv);
int bridle_cmd_runs(int argc, char **argv);
int bridle_cmd_gc(int argc, char **argv);
int bridle_cmd_eval(int argc, char **argv);
int bridle_cmd_trace(int argc, char **argv);
int bridle_cmd_prices(int argc, char **argv);
int bridle_cmd_test(int argc, char **argv);
int bridle_cmd_mcp(int argc, char **argv);
/* Living sandboxes (cmd_living.c); argv[0] is the subcommand's name. */
int bridle_cmd_sandbox_create(int argc, char **argv);
int bridle_cmd_sandbox_exec(int argc, char **argv);
int bridle_cmd_sandbox_list(int argc, char **argv);
int bridle_cmd_sandbox_destroy(int argc, char **argv);

int bridle_cmd_sandbox_read(int argc, char **argv);
int bridle_cmd_sandbox_write(int argc, char **argv);
int bridle_cmd_sandbox_list_dir(int argc, char **argv);
int bridle_cmd_sandbox_patch(int argc, char **argv);
int bridle_cmd_sandbox_search(int argc, char **argv);
/* Snapshots (cmd_snapshot.c). */
int bridle_cmd_sandbox_snapshot(int argc, char **argv);
int bridle_cmd_sandbox_restore(int argc, char **argv);
int bridle_cmd_sandbox_snapshots(int argc, char **argv);

/* Sessions (cmd_session.c). */
int bridle_cmd_sandbox_shell(int argc, char **argv);
int bridle_cmd_sandbox_exec_command(int argc, char **argv);
int bridle_cmd_sandbox_write_stdin(int argc, char **argv);

/* Shared output helpers (output.c). */
#include <stdio.h>
#include <stddef.h>
void cli_json_string(FILE *f, const char *s, size_t len);
void cli_log_to_stderr(int level, const char *msg, void *userdata);
