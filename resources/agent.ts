/** Resource: an agent session's transcript (the kit's replay ring, and with --redis what replicas kept), within budget, newest last. */
import type { Hoody } from '../src/core/hoody.js';
import { sessionId } from '../src/core/kits/agent.js';
import { defineResource } from '../src/mcp/define-resource.js';
import { eventLine } from '../tools/agent.js';

const MAX_CHARS = 32_000;

export const agentResources = [
  defineResource<Hoody>({
    name: 'agent-session',
    uri: 'hoody://containers/{container}/agent/{session}',
    title: 'Agent session transcript',
    description: "An agent session's recent events (text, tool calls, gates), newest last.",
    mimeType: 'text/plain',
    async read(uri, vars, { deps, signal }) {
      const c = await deps.containerId(vars.container, signal);
      const s = sessionId(decodeURIComponent(vars.session ?? ''));
      const { events, state } = await deps.agent.transcript(c, s, signal);
      const lines = events.map(eventLine).filter((l): l is string => !!l);
      // Newest last: keep the tail that fits, and say how much older text was left out.
      let text = lines.join('\n');
      if (text.length > MAX_CHARS) {
        const tail = text.slice(-MAX_CHARS + 200);
        text = `[${text.length - tail.length} older characters not shown]\n${tail.slice(tail.indexOf('\n') + 1)}`;
      }
      return { contents: [{ uri: uri.href, mimeType: 'text/plain', text: `session ${s} · ${state}\n${text}` }] };
    },
  }),
];
