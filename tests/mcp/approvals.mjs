// SPDX-License-Identifier: MIT
// The approval checks shared by client.mjs (stdio) and client_http.mjs
// (streamable HTTP): a policy that asks about `touch`, answered through
// elicitation/create: b.txt approved, c.txt approve=false, d.txt declined.
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";

// Answer the server's elicitation requests; returns the list they are kept in.
export function answerApprovals(client) {
  const asked = [];
  client.setRequestHandler(ElicitRequestSchema, async (req) => {
    asked.push(req.params);
    const msg = req.params.message;
    if (msg.includes("touch b.txt")) return { action: "accept", content: { approve: true } };
    if (msg.includes("touch c.txt")) return { action: "accept", content: { approve: false } };
    return { action: "decline" };
  });
  return asked;
}

// The three calls and what must come of them (ok, text: the caller's helpers).
export async function checkApprovals(client, asked, ok, text, firstLabel) {
  let r = await client.callTool({ name: "exec_command", arguments: { cmd: "touch b.txt" } });
  ok(!r.isError, firstLabel, r);
  ok(asked.length === 1 && asked[0].requestedSchema?.properties?.approve?.type === "boolean",
    "elicitation/create with a boolean approve", asked);
  r = await client.callTool({ name: "exec_command", arguments: { cmd: "touch c.txt" } });
  ok(r.isError && /not approved/.test(text(r)), "elicitation: approve false refuses", r);
  r = await client.callTool({ name: "exec_command", arguments: { cmd: "touch d.txt" } });
  ok(r.isError && /decline/.test(text(r)), "elicitation: decline refuses", r);
  r = await client.callTool({ name: "list_dir", arguments: {} });
  ok(text(r).includes("b.txt") && !text(r).includes("c.txt") && !text(r).includes("d.txt"),
    "only the approved call ran", r);
  ok(asked.length === 3, "three approvals asked", asked.length);
}
