// A workflow named on the command line: its id (digits) or its exact name. A name is looked up with
// GET /workflows?exactName= (indexed); no match is "not found" (exit 3), with up to 5 workflows whose
// names contain it as suggestions (a name glob), and several matches are listed and the command
// exits 2 (usage): the user picks one by id.

import { InvalidArgumentError } from 'commander';
import { NotFoundError, ValidationError, type ApiClient } from '@jobmon/core';

/** Commander's parser for a `<workflow>` argument: digits are an id, anything else a name. */
export function workflowRef(v: string): string {
  if (v.trim() === '') throw new InvalidArgumentError('a workflow is an id or a name, got an empty string.');
  if (/^\d+$/.test(v) && !(Number(v) >= 1 && Number.isSafeInteger(Number(v))))
    throw new InvalidArgumentError(`a workflow id is a positive whole number, got '${v}'.`);
  return v;
}

/** Most matches an ambiguous name lists. */
const MATCHES_SHOWN = 20;
/** Most near-miss names a name with no workflow suggests. */
const SUGGESTED = 5;

/** The workflow's id: `ref` itself when it is digits, else the one workflow with exactly that name. */
export async function resolveWorkflow(api: ApiClient, ref: string): Promise<number> {
  if (/^\d+$/.test(ref)) return Number(ref);
  const page = await api.listWorkflows({ query: { exactName: ref, limit: MATCHES_SHOWN + 1 } });
  const [only, ...rest] = page.workflows;
  if (!only) {
    // Names containing it, newest first: `flu_forecast` finds `flu_forecast_2026`.
    const near = await api.listWorkflows({ query: { name: `*${ref}*`, limit: SUGGESTED + 1 } });
    const names = [...new Set(near.workflows.map((w) => w.name))];
    const more = names.length > SUGGESTED ? ', …' : '';
    const hint = names.length > 0 ? `; did you mean ${names.slice(0, SUGGESTED).join(', ')}${more}?` : '';
    throw new NotFoundError(`no workflow is named '${ref}'${hint}`, { workflow: ref, suggestions: names });
  }
  if (rest.length === 0) return only.id;
  const lines = page.workflows
    .slice(0, MATCHES_SHOWN)
    .map((w) => `  ${w.id}  ${w.status}  tool ${w.tool}  created ${new Date(w.createdAt).toISOString()}`);
  const more = page.workflows.length > MATCHES_SHOWN ? `\n  … and more` : '';
  const count = page.workflows.length > MATCHES_SHOWN ? `more than ${MATCHES_SHOWN}` : String(page.workflows.length);
  // main.ts prints the message through printable().
  throw new ValidationError(`'${ref}' names ${count} workflows; give one by id:\n${lines.join('\n')}${more}`, {
    workflow: ref,
  });
}
