/**
 * definePrompt: a prompt (prompts/list, prompts/get) as data. Arguments are strings (the
 * protocol's rule); `requires` names the tools the prompt drives, so a prompt is only offered
 * when they are (under --read-only or --tools it may not be).
 */
import type { GetPromptResult } from '@modelcontextprotocol/server';
import type * as z from 'zod';

export interface PromptDefinition {
  name: string;
  title: string;
  description: string;
  /** String arguments only; optional ones with `.optional()`. */
  args: z.ZodObject;
  /** Tool names the prompt's text tells the model to call. */
  requires: readonly string[];
  render(args: Record<string, string | undefined>): GetPromptResult;
}

export function definePrompt(def: PromptDefinition): PromptDefinition {
  if (!/^[a-z][a-z0-9_-]{0,63}$/.test(def.name)) throw new Error(`bad prompt name ${def.name}`);
  return def;
}

/** A user message prompt result. */
export const userMessage = (description: string, text: string): GetPromptResult => ({
  description,
  messages: [{ role: 'user', content: { type: 'text', text } }],
});
