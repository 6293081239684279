/**
 * The `agent` kit: the hoody-agent-d gateway at `{P}-{C}-agent-{n}`, routes under `/api/v1/agent`
 * (seed-agent.md §3): sessions, `POST …/messages` (202 {job_id}), the SSE `…/stream` with
 * `since` / `Last-Event-ID` replay (a cursor older than the 1024-event ring gets `event: lagged`
 * `{code:"replay_gap"}` first), `…/replay`, `…/confirm`, `…/answer`, `…/cancel`, and the
 * documented 409s (`turn_in_flight`, `gate_parked`, `no_pending_gate`, `stale_gate`,
 * `gate_type_mismatch`).
 *
 * Every route, health included, sits behind the proxy's claim check [S:931]: the
 * `X-Hoody-Container-Claim` (Ed25519 signature, expiry, this container) and an `X-Hoody-Token`
 * owned by the claim's subject. Claim refusals are flat `{code, message}` (the proxy's [S:1042]);
 * gateway errors `{error:{code,message}}` (undocumented shape, seed-agent §3.10).
 */
import type { ServerResponse } from 'node:http';
import { parseClaimHeader, verifyContainerClaim, type ContainerClaimPayload } from '../../claims.js';
import type { Params, Route } from '../../router.js';
import type { ClaimRule, SimCore } from '../../state.js';
import { sendJson } from '../../util.js';
import { createKit, KitError, type KitRequest } from '../base.js';
import type { KitRuntime } from '../types.js';
import { agentError, AgentState, sseFrame, type AgentSession, type AgentStep } from './state.js';

type Req = KitRequest<AgentState>;

/** What tests reach through `sim.agent`. */
export interface SimAgent {
  /** Run these steps whenever a turn's text is exactly `prompt`. */
  script(prompt: string, steps: AgentStep[]): void;
  /** The payload of the last claim the kit accepted. */
  lastClaim?: ContainerClaimPayload;
  /** Seconds a newly minted claim lives (the control plane's `expires_in`). */
  setClaimTtl(seconds: number): void;
  /** Claims minted with `token` (a secret; default: any) are signed with a key the kits do not trust (same `kid`). */
  forgeClaims(on: boolean, token?: string): void;
  /** Every claim minted so far with `token` is past its expiry from now on (the kit refuses it as expired; new ones are good). */
  expireClaims(token: string): void;
  /** Whether the deployment can sign claims; off, the control plane answers 503 `SIGNING_NOT_CONFIGURED`. */
  setSigning(on: boolean): void;
  /** The gateway loses a session (a restart): its replay ring and record are gone, the id is unknown (404). */
  forget(session: string): void;
}

function verifyClaim(req: Req, agent: SimAgent): void {
  const claim = parseClaimHeader(req.req.headers['x-hoody-container-claim'] as string | undefined);
  const token = req.req.headers['x-hoody-token'];
  if (claim === 'CLAIM_REQUIRED') throw new KitError(401, 'Container claim required', { code: 'CLAIM_REQUIRED' });
  if (typeof token !== 'string' || !token) throw new KitError(401, 'X-Hoody-Token required with the claim', { code: 'TOKEN_REQUIRED' });
  const owner = req.core.findTokenBySecret(token);
  if (!owner || !owner.is_enabled) throw new KitError(401, 'Token rejected', { code: 'TOKEN_INVALID' });
  const keys = { [req.core.signer.kid]: req.core.signer.publicKey };
  const v = verifyContainerClaim(claim, keys, { containerId: req.container.id, subject: owner.user_id });
  if (v.ok && typeof claim === 'object' && req.core.expiredClaims.has(claim.payload_b64)) throw new KitError(403, 'Container claim expired', { code: 'CLAIM_INVALID' });
  if (!v.ok) throw new KitError(v.status, v.message, { code: v.code });
  agent.lastClaim = v.payload;
}

function openStream(req: Req, s: AgentSession): void {
  const raw = req.query.get('since') ?? (req.req.headers['last-event-id'] as string | undefined);
  if (raw !== undefined && raw !== null && !/^\d+$/.test(raw)) throw agentError(400, 'invalid_since', 'since must be an integer seq');
  const since = raw === undefined || raw === null ? 0 : Number(raw);
  const res: ServerResponse = req.res;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.write('retry: 200\n\n');
  const oldest = s.ring[0]?.seq ?? s.seq + 1;
  if (since < oldest - 1) res.write(`event: lagged\ndata: ${JSON.stringify({ code: 'replay_gap' })}\n\n`);
  for (const f of s.ring) if (f.seq > since) res.write(sseFrame(f));
  s.live.add(res);
  const beat = setInterval(() => res.write(': keepalive\n\n'), 10_000);
  beat.unref();
  res.on('close', () => {
    clearInterval(beat);
    s.live.delete(res);
  });
}

const session = (req: Req, p: Params) => req.state.get(String(p.id));

function routes(agent: SimAgent): Route<Req>[] {
  const guarded = (h: (req: Req, p: Params) => unknown | Promise<unknown>) => async (req: Req, p: Params) => {
    verifyClaim(req, agent);
    await h(req, p);
  };
  const r = (method: string, pattern: string, h: (req: Req, p: Params) => unknown | Promise<unknown>): Route<Req> => ({ method, pattern: `/api/v1/agent${pattern}`, handler: guarded(h) });
  return [
    r('POST', '/sessions', async (req) => sendJson(req.res, 201, req.state.create(await req.json()).summary())),
    r('GET', '/sessions', (req) => {
      const items = [...req.state.sessions.values()].map((s) => s.summary());
      sendJson(req.res, 200, { items, meta: { page: 1, limit: items.length, total: items.length, pages: 1 } });
    }),
    r('GET', '/sessions/:id', (req, p) => sendJson(req.res, 200, session(req, p).summary())),
    r('DELETE', '/sessions/:id', (req, p) => (req.state.remove(String(p.id)), sendJson(req.res, 200, { ok: true }))),
    r('POST', '/sessions/:id/messages', async (req, p) => {
      const s = session(req, p);
      const body = await req.json();
      if (typeof body.text !== 'string' || !body.text.trim()) throw agentError(400, 'invalid_text', 'text is required');
      sendJson(req.res, 202, { job_id: req.state.dispatch(s, body.text), session_id: s.id });
    }),
    r('GET', '/sessions/:id/stream', (req, p) => openStream(req, session(req, p))),
    r('GET', '/sessions/:id/replay', (req, p) => {
      const s = session(req, p);
      sendJson(req.res, 200, { events: s.ring.map((f) => ({ seq: f.seq, event: f.event, data: f.data })), min_seq: s.ring[0]?.seq ?? 0, max_seq: s.seq });
    }),
    r('POST', '/sessions/:id/confirm', async (req, p) => (req.state.reply(session(req, p), 'confirm', await req.json()), sendJson(req.res, 200, { ok: true }))),
    r('POST', '/sessions/:id/answer', async (req, p) => (req.state.reply(session(req, p), 'question', await req.json()), sendJson(req.res, 200, { ok: true }))),
    r('POST', '/sessions/:id/cancel', (req, p) => sendJson(req.res, 200, { cancelled: req.state.cancel(session(req, p)) })),
  ];
}

export function createAgentKit(core: SimCore): KitRuntime & { agent: SimAgent } {
  const scripts = new Map<string, AgentStep[]>();
  const states = new Set<AgentState>();
  const rule = (token: string, r: ClaimRule) => void core.claimRules.set(token, { ...core.claimRules.get(token), ...r });
  const agent: SimAgent = {
    script: (prompt, steps) => void scripts.set(prompt, steps),
    setClaimTtl: (s) => void (core.opts.claimTtlS = s),
    forgeClaims: (on, token = '*') => rule(token, { forge: on }),
    setSigning: (on) => void (core.opts.signing = on),
    expireClaims: (token) => core.mintedClaims.forEach((t, b64) => t === token && core.expiredClaims.add(b64)),
    forget: (session) => states.forEach((st) => (st.sessions.get(session)?.dropStreams(), st.sessions.delete(session))),
  };
  const kit = createKit(core, {
    slug: 'agent',
    service: 'hoody-agent-d',
    state: (c) => {
      const st = new AgentState(core, c, scripts);
      states.add(st);
      return st;
    },
    routes: routes(agent),
    errors: {
      // The proxy's claim refusals are flat {code}; the gateway's own errors nest {error:{code,message}}.
      body: (e) => (/^(CLAIM_|TOKEN_|BINDING_)/.test(String(e.fields.code)) ? { code: e.fields.code, message: e.message } : { error: { code: e.fields.code ?? `http_${e.status}`, message: e.message } }),
    },
  });
  return { ...kit, agent };
}
