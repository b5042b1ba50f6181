// SPDX-License-Identifier: MIT
// The named alternative for bench/mcp-call: the official MCP TypeScript SDK
// client (tests/mcp/node_modules) calling the same server over stdio on the
// host, no isolation. Prints the same JSON line as mcp-call-bench.
//   node sdk.mjs ROOT N ARGV...     (MCP_BENCH_TOOL, MCP_BENCH_ARGS)
import { pathToFileURL } from "node:url";
import { join } from "node:path";

const [root, nText, ...argv] = process.argv.slice(2);
const sdk = join(root, "tests/mcp/node_modules/@modelcontextprotocol/sdk/dist/esm/client");
const { Client } = await import(pathToFileURL(join(sdk, "index.js")));
const { StdioClientTransport } = await import(pathToFileURL(join(sdk, "stdio.js")));
const n = Number(nText);
const tool = process.env.MCP_BENCH_TOOL || "read_text_file";
const args = JSON.parse(process.env.MCP_BENCH_ARGS || "{}");
const us = () => Number(process.hrtime.bigint() / 1000n);

const t0 = us();
const client = new Client({ name: "bench", version: "1" });
await client.connect(new StdioClientTransport({ command: argv[0], args: argv.slice(1), stderr: "ignore" }));
const connectMs = (us() - t0) / 1000;
const v = [];
for (let i = 0; i < n; i++) {
  const s = us();
  const r = await client.callTool({ name: tool, arguments: args });
  v.push(us() - s);
  if (r.isError) throw new Error(JSON.stringify(r.content));
}
v.sort((a, b) => a - b);
console.log(JSON.stringify({ mode: "sdk", calls: n, connect_ms: Math.round(connectMs * 10) / 10,
                             median_us: v[Math.floor(n / 2)], p90_us: v[Math.floor((n * 9) / 10)] }));
await client.close();
