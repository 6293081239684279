/**
 * The words for a core error's next step. The core says what to do as data (`HoodyError.next`);
 * this is where that becomes advice naming this server's tools and arguments.
 */
import type { NextStep } from '../src/core/errors.js';

const WORDS: { [C in NextStep['code']]: (n: Extract<NextStep, { code: C }>) => string } = {
  pass_container: () => 'pass `container` (an id or name from container_list), or start the server with --container',
  list_containers: () => 'call container_list to see the containers',
  pass_container_id: () => 'pass the container id instead',
  start_container: (n) => `call container_action with action "${n.action}" first`,
  wait_container: () => 'wait a few seconds and retry (container_get shows its status)',
  retry_later: (n) => (n.afterS ? `retry in ${Math.ceil(n.afterS)} s` : 'retry in a moment'),
  list_dir: () => 'file_list shows what is there',
  read_file: () => 'use file_read to read it',
  list_instead: () => 'use file_list',
  reread_file: () => 'file_read it again, then edit',
  copy_exact: () => 'file_read the file and copy the exact text, whitespace included',
  widen_match: () => 'add surrounding lines to make it unique, or pass replace_all=true',
  pass_job: () => 'pass the job value exec_run returned',
  pass_cursor: () => 'since takes the cursor a previous file_watch returned (this is not a file_watch cursor); or omit since',
  drop_cursor: () => 'events since this cursor are lost; call file_watch again without since (then re-read what you watch)',
  list_projects: () => 'project_list shows the project ids',
  create_project: () => 'create a project in Hoody first',
  choose_project: (n) => `pass project (one of: ${n.choices.map((p) => `${p.id} ${p.name}`).join(', ')})`,
  rent_server: () => 'rent a server in Hoody, or pass server_id',
  new_frame: (n) => `call display_screenshot (display ${n.display}) and use its frame`,
  snapshot_again: () => 'call browser_snapshot and use its refs',
  list_tabs: () => 'browser_tabs lists the tabs',
  wait_turn: () => 'a turn is running: agent_status follows it, agent_cancel stops it',
  answer_gate: () => 'the agent is waiting on a question or confirmation: agent_reply answers it',
  reread_gate: () => 'agent_status shows what the session is waiting on now',
  list_sessions: () => 'agent_sessions lists the sessions',
  list_services: () => 'service_list shows the services',
  create_db: () => 'check db, or pass create=true to make it',
};

/** Words for a next step. */
export function describeNext(next: NextStep): string {
  return (WORDS[next.code] as (n: NextStep) => string)(next);
}

/**
 * An error as a caller can act on it: `what happened — what to do`. The next step's words come
 * from here; a core hint (tool-neutral) is added when there is no next step, or after it.
 */
export function describeError(err: unknown): string {
  const e = err as { message?: unknown; hint?: unknown; next?: NextStep };
  const message = typeof e?.message === 'string' && e.message ? e.message : 'unexpected failure';
  const next = e?.next && Object.hasOwn(WORDS, e.next.code) ? describeNext(e.next) : undefined;
  const hint = typeof e?.hint === 'string' && e.hint ? e.hint : undefined;
  const advice = [hint, next].filter(Boolean).join(': ');
  return advice ? `${message} — ${advice}` : message;
}
