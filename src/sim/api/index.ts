/** Control plane dispatcher: `api.<domain>` and `{realmId}.api.<domain>` (seed-api.md). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Router } from '../router.js';
import type { SimCore } from '../state.js';
import { HEX24 } from '../util.js';
import { authRoutes, publicRoutes } from './auth.js';
import { containerRoutes, lifecycleRoutes } from './containers.js';
import { ApiError, authenticate, enforceRealm, sendApiError, type ApiContext } from './context.js';
import { projectRoutes } from './projects.js';
import { snapshotRoutes } from './snapshots.js';

const publicRouter = new Router<ApiContext>(publicRoutes);
const privateRouter = new Router<ApiContext>([...authRoutes, ...projectRoutes, ...snapshotRoutes, ...containerRoutes, ...lifecycleRoutes]);

export async function handleApi(core: SimCore, req: IncomingMessage, res: ServerResponse, hostRealm: string | undefined, path: string, query: URLSearchParams): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  const queryRealm = query.get('realm_id') ?? undefined;
  const ctx: ApiContext = {
    core, req, res, method, path, query,
    realm: hostRealm ?? (queryRealm && HEX24.test(queryRealm) ? queryRealm : undefined),
  };
  try {
    const pub = publicRouter.match(method, ctx.path);
    if (pub.kind === 'ok') {
      await pub.handler(ctx, pub.params);
      return;
    }
    const priv = privateRouter.match(method, ctx.path);
    if (priv.kind !== 'ok') throw new ApiError(404, `Route ${method}:${ctx.path} not found`);
    enforceRealm(ctx, authenticate(ctx));
    await priv.handler(ctx, priv.params);
  } catch (e) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (e instanceof ApiError) sendApiError(res, e);
    else sendApiError(res, new ApiError(500, 'Internal server error'));
  }
}
