#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// bench/harness/agents.mjs: the @openai/agents side of the harness benchmark.
// The same work as harness_bench.c: N runs in sequence, each 3 model turns
// (add {a:1,b:2}, add {a:3,b:4}, a final message), the tool `add` defined with
// tool(). Prints one line:
//   agents-js MODE runs=N secs=S runs_per_s=R peak_rss_kib=K
//
//   node agents.mjs inproc [N]             a Model in this process returns the turns
//   node agents.mjs http PORT [N]          streaming Responses API to tests/server/fake-openai.mjs
//
// Tracing is disabled (its exporter would try to reach api.openai.com).
import fs from 'node:fs';
import OpenAI from 'openai';
import {
  Agent,
  Runner,
  OpenAIResponsesModel,
  Usage,
  setDefaultOpenAIClient,
  setOpenAIAPI,
  setTracingDisabled,
  tool,
} from '@openai/agents';
import { z } from 'zod';

const TASK = 'Add 1 and 2, then 3 and 4, with the add tool.';
const INSTRUCTIONS = 'You add numbers with the add tool and say the results.';

let toolCalls = 0;
const add = tool({
  name: 'add',
  description: 'Add two integers.',
  parameters: z.object({ a: z.number().int(), b: z.number().int() }),
  execute: async ({ a, b }) => {
    toolCalls++;
    return String(a + b);
  },
});

// The scripted turns, as the model adapter's output items. The turn is the
// number of tool results in the request's input, so the model keeps no state.
class ScriptModel {
  constructor() {
    this.n = 0;
  }
  turnOutput(request) {
    let results = 0;
    if (Array.isArray(request.input))
      for (const it of request.input) if (it.type === 'function_call_result') results++;
    const id = ++this.n;
    if (results === 0)
      return [{ type: 'function_call', id: `fc_${id}`, callId: `call_${id}`, name: 'add', status: 'completed', arguments: '{"a":1,"b":2}' }];
    if (results === 1)
      return [{ type: 'function_call', id: `fc_${id}`, callId: `call_${id}`, name: 'add', status: 'completed', arguments: '{"a":3,"b":4}' }];
    return [
      {
        type: 'message',
        id: `msg_${id}`,
        role: 'assistant',
        status: 'completed',
        content: [{ type: 'output_text', text: '1+2 is 3 and 3+4 is 7.' }],
      },
    ];
  }
  async getResponse(request) {
    return {
      usage: new Usage({ requests: 1, inputTokens: 10, outputTokens: 10, totalTokens: 20 }),
      output: this.turnOutput(request),
      responseId: `resp_${this.n}`,
    };
  }
  async *getStreamedResponse(request) {
    const r = await this.getResponse(request);
    yield {
      type: 'response_done',
      response: {
        id: r.responseId,
        usage: { requests: 1, inputTokens: 10, outputTokens: 10, totalTokens: 20 },
        output: r.output,
      },
    };
  }
}

function peakRssKiB() {
  const m = /VmHWM:\s+(\d+)\s+kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : -1;
}

function usage() {
  process.stderr.write('usage: agents.mjs inproc [N] | agents.mjs http PORT [N]\n');
  process.exit(2);
}

async function main() {
  const [mode, ...rest] = process.argv.slice(2);
  let n = 1000;
  let runner;
  let agent;
  let stream = false;
  setTracingDisabled(true);
  if (mode === 'inproc') {
    if (rest[0] !== undefined) n = Number(rest[0]);
    agent = new Agent({ name: 'bench', instructions: INSTRUCTIONS, tools: [add], model: new ScriptModel() });
    runner = new Runner({ tracingDisabled: true });
  } else if (mode === 'http') {
    const port = Number(rest[0]);
    if (!Number.isInteger(port) || port <= 0) usage();
    if (rest[1] !== undefined) n = Number(rest[1]);
    const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'sk-bench-not-a-key', maxRetries: 0 });
    setDefaultOpenAIClient(client);
    setOpenAIAPI('responses');
    agent = new Agent({
      name: 'bench',
      instructions: INSTRUCTIONS,
      tools: [add],
      model: new OpenAIResponsesModel(client, 'gpt-4.1-mini'),
    });
    runner = new Runner({ tracingDisabled: true });
    stream = true;
  } else usage();
  if (!Number.isInteger(n) || n <= 0) usage();

  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    let out;
    if (stream) {
      const res = await runner.run(agent, TASK, { stream: true, maxTurns: 10 });
      for await (const _ev of res) {
        // consume every event, as a streaming caller does
      }
      await res.completed;
      out = res.finalOutput;
    } else {
      const res = await runner.run(agent, TASK, { maxTurns: 10 });
      out = res.finalOutput;
    }
    if (out !== '1+2 is 3 and 3+4 is 7.') throw new Error(`run ${i}: unexpected final output ${JSON.stringify(out)}`);
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (toolCalls !== 2 * n) throw new Error(`the tool ran ${toolCalls} times, not ${2 * n}`);
  console.log(
    `agents-js ${mode} runs=${n} secs=${secs.toFixed(3)} runs_per_s=${(n / secs).toFixed(1)} peak_rss_kib=${peakRssKiB()}`,
  );
}

main().catch((e) => {
  process.stderr.write(`agents.mjs: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
