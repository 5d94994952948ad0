// A DAG's template graph: the distinct (upstream template, downstream template) pairs of its edges,
// which the estimate of completion walks (services/progress.ts). Written once per DAG, when its
// first run reaches BOUND (its edges are fixed from then on), into dag_template_edge (migration
// 0012, which fills it the same way for DAGs bound before it); read live while a DAG is binding.

import { sql } from 'kysely';
import type { Q } from '../conn.js';

/** The statement that fills dag_template_edge for the DAGs whose ids `dags` (SQL) selects. */
export const TEMPLATE_EDGES_FILL = (dags: string) => `
  insert into dag_template_edge (dag_id, upstream_template_id, downstream_template_id)
  select distinct e.dag_id, un.task_template_id, dn.task_template_id
  from edge e join node un on un.id = e.upstream_node_id join node dn on dn.id = e.downstream_node_id
  where e.dag_id in (${dags})
  on conflict (dag_id, upstream_template_id, downstream_template_id) do nothing`;

/** Write a bound DAG's template graph (its first LINKING → BOUND). */
export async function fillTemplateEdges(q: Q, dagId: number): Promise<void> {
  await sql.raw(TEMPLATE_EDGES_FILL(String(Math.trunc(dagId)))).execute(q.db);
}

/** The template graph of a DAG: written at bind when it is bound, else computed from its edges. */
export async function templateEdges(q: Q, dagId: number): Promise<[number, number][]> {
  const dag = await q.db.selectFrom('dag').select('bound_at').where('id', '=', dagId).executeTakeFirst();
  const r =
    dag?.bound_at != null
      ? await sql<{ u: number; d: number }>`
          select upstream_template_id as u, downstream_template_id as d from dag_template_edge
          where dag_id = ${dagId}`.execute(q.db)
      : await sql<{ u: number; d: number }>`
          select distinct un.task_template_id as u, dn.task_template_id as d
          from edge e
          join node un on un.id = e.upstream_node_id
          join node dn on dn.id = e.downstream_node_id
          where e.dag_id = ${dagId}`.execute(q.db);
  return r.rows.map((x) => [Number(x.u), Number(x.d)]);
}
