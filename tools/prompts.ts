/** Prompts users reach for (offered when the tools they drive are): delegate a task to a container's agent. */
import * as z from 'zod';
import { definePrompt, userMessage } from '../src/mcp/define-prompt.js';

export const allPrompts = [
  definePrompt({
    name: 'delegate_to_agent',
    title: "Delegate a task to the container's agent",
    description: "Hand a task to the AI agent inside a container and see it through: its questions, confirmations and answer.",
    args: z.object({
      task: z.string().describe('What the agent should do'),
      container: z.string().optional().describe('Container id or name (default: --container)'),
    }),
    requires: ['agent_run', 'agent_reply', 'agent_status'],
    render: ({ task, container }) =>
      userMessage(
        "Delegate a task to the container's agent",
        [
          `Delegate this task to the AI agent inside ${container ? `container "${container}"` : 'the default container'}:`,
          '',
          task ?? '',
          '',
          `Call agent_run with this task as prompt${container ? ` and container "${container}"` : ''}. If it returns awaiting_answer or awaiting_confirm, ask me (quote the question or command) and pass my answer to agent_reply; never approve a destructive command without asking me. If it returns running, call agent_status with wait_s until it is done. Then summarise what the agent did and its answer.`,
        ].join('\n'),
      ),
  }),
];
