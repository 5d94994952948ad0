// Routes: tools, task templates (clusters: routes/clusters.ts).
import { wire } from '@jobmon/core';
import type { AppContext } from '../app.js';
import { bindTemplates, bindTool } from '../services/definitions.js';
import type { Api } from './types.js';

export async function definitionRoutes(api: Api, ctx: AppContext): Promise<void> {
  api.post('/tools', { schema: { body: wire.ToolRequest, response: { 200: wire.ToolResponse } } }, async (req) =>
    bindTool(ctx.db, req.body.name, req.body.newVersion ?? false),
  );
  api.post('/task-templates', { schema: { body: wire.TemplatesRequest, response: { 200: wire.TemplatesResponse } } }, async (req) => ({
    templates: await bindTemplates(ctx.db, req.body.toolVersionId, req.body.templates),
  }));
}
