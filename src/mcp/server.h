/* SPDX-License-Identifier: MIT */
/*
 * The MCP server (include/bridle/mcp.h, docs/mcp.md): one client over a pair
 * of file descriptors, stdio framing (jsonrpc.h). Internal limits here.
 */
#pragma once

#include "bridle/mcp.h"

/* Requests that arrive while an approval is asked for wait here; more are
 * answered with an internal error. */
#define BRIDLE__MCP_QUEUE_MAX 32
/* Default time for a client to answer an elicitation. */
#define BRIDLE__MCP_ELICIT_MS (10u * 60u * 1000u)
/* Time for one message to be written to the client. */
#define BRIDLE__MCP_WRITE_MS 30000

/* The protocol versions spoken, newest first. */
extern const char *const bridle__mcp_versions[3];
