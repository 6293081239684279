/**
 * A minimal stand-in of the workspaces kit (Hoody OS, [S:892-2035]): its claim gate [S:931] in
 * front of the workspace list, enough to drive claimed requests end to end. Every route but health
 * wants `X-Hoody-Container-Claim` (signed by the control plane, for this container) and
 * `X-Hoody-Token` of the claim's owner; failures are `{code, message}` with 401/403.
 */
import type { Route } from '../../router.js';
import { verifyContainerClaim } from '../../claims.js';
import type { SimCore } from '../../state.js';
import { sendJson } from '../../util.js';
import { createKit, KitError, type KitRequest, type KitState } from '../base.js';

type Req = KitRequest<KitState>;

/** The owner of an `X-Hoody-Token` (an hdy_ token or a login JWT), if valid. */
function tokenOwner(core: SimCore, token: string): string | undefined {
  if (token.startsWith('hdy_')) {
    const t = core.findTokenBySecret(token);
    return t && t.is_enabled ? t.user_id : undefined;
  }
  return core.verifyJwt(token, 'access')?.id;
}

function gate(req: Req): void {
  const claim = req.req.headers['x-hoody-container-claim'];
  const token = req.req.headers['x-hoody-token'];
  if (typeof claim !== 'string' || !claim) throw new KitError(401, 'Container claim required', { code: 'CLAIM_REQUIRED' });
  if (typeof token !== 'string' || !token) throw new KitError(401, 'X-Hoody-Token required beside the claim', { code: 'TOKEN_REQUIRED' });
  const owner = tokenOwner(req.core, token);
  if (!owner) throw new KitError(401, 'X-Hoody-Token is not valid', { code: 'TOKEN_INVALID' });
  const v = verifyContainerClaim(claim, { [req.core.signer.kid]: req.core.signer.publicKey }, { containerId: req.container.id, subject: owner });
  if (!v.ok) throw new KitError(v.status, v.message, { code: v.code });
}

const routes: Route<Req>[] = [
  {
    method: 'GET', pattern: '/api/v1/workspaces',
    handler: (req) => {
      gate(req);
      sendJson(req.res, 200, [{ id: 'home', name: 'home', directory: '/home/user', container_id: req.container.id }]);
    },
  },
];

export const createWorkspacesKit = (core: SimCore) =>
  createKit<KitState>(core, {
    slug: 'workspaces',
    service: 'hoody-workspaces',
    state: () => ({ stop: () => undefined }),
    routes,
    errors: { body: (e: KitError) => ({ code: e.fields.code ?? (e.status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST'), message: e.message }) },
  });
