// Routes: clusters and their queues (services/clusters.ts). GET lists or reads one; PUT creates
// or updates one, so applying the same definition twice changes nothing.
import { wire } from '@jobmon/core';
import type { AppContext } from '../app.js';
import { getCluster, listClusters, putCluster } from '../services/clusters.js';
import type { Api } from './types.js';

export async function clusterRoutes(api: Api, ctx: AppContext): Promise<void> {
  api.get('/clusters', { schema: { response: { 200: wire.ClustersResponse } } }, async () => ({ clusters: await listClusters(ctx.db.kysely) }));
  api.get('/clusters/:name', { schema: { params: wire.ClusterParams, response: { 200: wire.ClusterInfo } } }, async (req) =>
    getCluster(ctx.db.kysely, req.params.name),
  );
  api.put(
    '/clusters/:name',
    { schema: { params: wire.ClusterParams, body: wire.ClusterPutRequest, response: { 200: wire.ClusterPutResponse } } },
    async (req) => putCluster(ctx.db, req.params.name, req.body),
  );
}
