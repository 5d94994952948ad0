// The one authorisation check: every route that changes something (every method but GET) passes
// through authorize() before its body is read, registered by route() (routes/types.ts), so no
// mutating route can leave it out. Today the policy admits everyone; the authentication issue fills
// in who is asking (`Principal`) and a policy that refuses with ForbiddenError (403, exit 3 in the CLI).

import type { FastifyRequest } from 'fastify';
import { ForbiddenError, type RouteSpec } from '@jobmon/core';

/** Who asks. Nothing authenticates requests yet: the user is unknown (null). */
export interface Principal {
  user: string | null;
  /** The address the request came from. */
  address: string;
}

export interface Action {
  method: string;
  /** The route's path as in ROUTES (`/workflows/:id/resume`). */
  route: string;
  params: Record<string, unknown>;
}

/** Throws ForbiddenError (or answers false) to refuse; anything else admits. */
export type Policy = (principal: Principal, action: Action) => boolean | void | Promise<boolean | void>;

/** The policy until authentication exists: everyone may do everything. */
export const admitEveryone: Policy = () => true;

const POLICY = Symbol('jobmon.policy');

/** Install `policy` on the app (buildApp does, from AppOptions.authorize). */
export function setPolicy(app: object, policy: Policy): void {
  (app as Record<symbol, Policy>)[POLICY] = policy;
}

/** The check every mutating route runs first. */
export async function authorize(req: FastifyRequest, spec: RouteSpec): Promise<void> {
  const policy = (req.server as unknown as Record<symbol, Policy | undefined>)[POLICY] ?? admitEveryone;
  const principal: Principal = { user: null, address: req.ip };
  const action: Action = {
    method: spec.method,
    route: spec.path,
    params: (req.params ?? {}) as Record<string, unknown>,
  };
  if ((await policy(principal, action)) === false)
    throw new ForbiddenError(`not allowed: ${spec.method} ${spec.path}`, { route: spec.path, method: spec.method });
}
