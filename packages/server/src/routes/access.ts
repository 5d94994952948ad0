// Routes: share links of a workflow, personal access tokens through the API (admins), and the audit
// log (docs/auth.md).
import { ROUTES } from '@jobmon/core';
import type { AppContext } from '../app.js';
import { principalOf } from '../authz.js';
import { listTokens, mintToken, revokeToken, revokeTokensOf } from '../auth/tokens.js';
import { readAudit } from '../auth/audit.js';
import { workflowDetail } from '../services/reports.js';
import { route, type Api } from './types.js';

export async function accessRoutes(api: Api, ctx: AppContext): Promise<void> {
  route(api, ROUTES.shareWorkflow, async (req) => {
    await workflowDetail(ctx.db, req.params.id);
    const p = principalOf(req);
    const t = await mintToken(ctx.db, {
      kind: 'share',
      user: null,
      scope: 'read',
      workflowId: req.params.id,
      expiresInMs: req.body.expiresInHours * 3_600_000,
      createdBy: p.user ?? 'anonymous',
    });
    return { workflowId: req.params.id, tokenId: t.id, token: t.token, expiresAt: t.expiresAt };
  });
  route(api, ROUTES.unshareWorkflow, async (req) => {
    await workflowDetail(ctx.db, req.params.id);
    return {
      workflowId: req.params.id,
      revoked: await revokeTokensOf(ctx.db, { kind: 'share', workflowId: req.params.id }),
    };
  });
  route(api, ROUTES.createToken, async (req) => {
    const p = principalOf(req);
    const t = await mintToken(ctx.db, {
      kind: 'personal',
      user: req.body.user,
      scope: req.body.scope,
      expiresInMs: req.body.expiresInHours * 3_600_000,
      createdBy: p.user ?? 'anonymous',
      ...(req.body.note ? { note: req.body.note } : {}),
    });
    return t;
  });
  route(api, ROUTES.listTokens, async (req) => ({
    tokens: await listTokens(ctx.db, req.query.user ? { user: req.query.user } : {}),
  }));
  route(api, ROUTES.revokeToken, async (req) => {
    await revokeToken(ctx.db, req.params.tokenId);
    return { id: req.params.tokenId, revoked: true };
  });
  route(api, ROUTES.getAudit, async (req) => readAudit(ctx.db, req.query));
}
