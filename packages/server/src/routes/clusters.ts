// Routes: clusters and their queues (services/clusters.ts). GET lists or reads one; PUT creates
// or updates one, so applying the same definition twice changes nothing.
import { ROUTES } from '@jobmon/core';
import type { AppContext } from '../app.js';
import { getCluster, listClusters, putCluster } from '../services/clusters.js';
import { route, type Api } from './types.js';

export async function clusterRoutes(api: Api, ctx: AppContext): Promise<void> {
  route(api, ROUTES.listClusters, async () => ({ clusters: await listClusters(ctx.db.kysely) }));
  route(api, ROUTES.getCluster, async (req) => getCluster(ctx.db.kysely, req.params.name));
  route(api, ROUTES.putCluster, async (req) => putCluster(ctx.db, req.params.name, req.body));
}
