// The declarative workflow file that `jobmon run` reads (JSON or YAML), checked field by field (all
// mistakes reported at once), and turned into client declarations. Format: docs/workflow-file.md. Each task's command is an
// op arg, so fixing a command and running again resumes the same workflow; identity comes from
// the workflow name (or explicit workflow_args) and each task's template, name and args.

import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { normaliseResources } from '@jobmon/core';
import {
  DuplicateTaskError,
  NotFoundError,
  ValidationError,
  Tool,
  type Task,
  type TaskTemplate,
  type Workflow,
} from '@jobmon/client';

type ArgValue = string | number | boolean;

export interface FileTask {
  name: string;
  template?: string;
  command: string;
  upstream?: string[];
  args?: Record<string, ArgValue>;
  max_attempts?: number;
  compute_resources?: Record<string, unknown>;
  cluster?: string;
  attributes?: Record<string, ArgValue>;
}

export interface WorkflowFile {
  name: string;
  tool: string;
  workflowArgs: Record<string, ArgValue> | undefined;
  description: string;
  maxConcurrentlyRunning: number | undefined;
  defaults: {
    cluster?: string;
    max_attempts?: number;
    compute_resources?: Record<string, unknown>;
    template_concurrency?: Record<string, number>;
    /** Compute resources per template name (what `jobmon resources suggest` writes); a task's own win. */
    template_resources?: Record<string, Record<string, unknown>>;
  };
  tasks: FileTask[];
  ignoredKeys: string[];
}

const TOP_KEYS = [
  'name',
  'workflow',
  'tool',
  'workflow_args',
  'description',
  'max_concurrently_running',
  'defaults',
  'tasks',
];
const INFO_KEYS = ['shape', 'mode', 'comment', 'version'];
const TASK_KEYS = [
  'name',
  'template',
  'command',
  'upstream',
  'args',
  'max_attempts',
  'compute_resources',
  'cluster',
  'attributes',
];
const DEFAULT_KEYS = ['cluster', 'max_attempts', 'compute_resources', 'template_concurrency', 'template_resources'];

/** How many mistakes one error lists; the rest are counted. */
const MAX_REPORTED = 20;
const FORMATS: Record<string, 'JSON' | 'YAML'> = { '.json': 'JSON', '.yaml': 'YAML', '.yml': 'YAML' };

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isArg = (v: unknown): v is ArgValue => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** Reads and checks a workflow file, reporting every mistake at once (up to 20) with the task and field at fault. */
export function parseWorkflowFile(path: string): WorkflowFile {
  const file = basename(path);
  const ext = extname(path).toLowerCase();
  // No extension (a pipe such as `jobmon run <(gen)`): read as YAML, which JSON is a subset of.
  const format = ext === '' ? 'JSON or YAML' : FORMATS[ext];
  if (!format) {
    throw new ValidationError(`${file}: unsupported file extension '${ext}'; use a .json, .yaml or .yml file`, {
      file,
      field: 'extension',
    });
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = `cannot read workflow file ${path}: ${(e as Error).message}`;
    // Missing or unreadable is "not found or no access" (exit 3); a directory and such are bad input.
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM') throw new NotFoundError(why, { file: path });
    throw new ValidationError(why, { file: path });
  }
  let doc: unknown;
  try {
    doc = format === 'JSON' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new ValidationError(`${file} is not valid ${format}: ${(e as Error).message}`, { file });
  }
  const problems: { field: string; message: string }[] = [];
  const wf = check(doc, (field, message) => void problems.push({ field, message }));
  if (problems.length === 0) return wf!;
  const shown = problems.slice(0, MAX_REPORTED);
  const message =
    problems.length === 1
      ? `${file}: ${shown[0]!.field}: ${shown[0]!.message}`
      : `${file}: ${problems.length} mistakes:\n${shown.map((p) => `  ${p.field}: ${p.message}`).join('\n')}` +
        (problems.length > shown.length ? `\n  … and ${problems.length - shown.length} more` : '');
  throw new ValidationError(message, { file, field: shown[0]!.field, errors: shown, count: problems.length });
}

/** Checks the parsed document, calling `bad` for each mistake; returns the file only when there were none. */
function check(doc: unknown, bad: (field: string, message: string) => void): WorkflowFile | undefined {
  if (!isObj(doc)) {
    bad('top level', 'must be an object with a "tasks" list');
    return undefined;
  }
  let ok = true;
  const fail = (field: string, message: string) => {
    ok = false;
    bad(field, message);
  };
  for (const k of Object.keys(doc)) {
    if (!TOP_KEYS.includes(k) && !INFO_KEYS.includes(k)) fail(k, `unknown key (known: ${TOP_KEYS.join(', ')})`);
  }
  const name = doc['name'] ?? doc['workflow'];
  if (typeof name !== 'string' || name === '') fail('name', 'the workflow needs a "name" (or "workflow") string');
  const tool = doc['tool'] ?? 'jobmon-run';
  if (typeof tool !== 'string' || !/^[A-Za-z0-9_.-]{1,255}$/.test(tool))
    fail('tool', 'must be 1–255 letters, digits, _ . or -');
  const wa = doc['workflow_args'];
  if (wa !== undefined && (!isObj(wa) || !Object.values(wa).every(isArg)))
    fail('workflow_args', 'must be an object of strings, numbers or booleans');
  const description = doc['description'] ?? '';
  if (typeof description !== 'string') fail('description', 'must be a string');
  const mcr = doc['max_concurrently_running'];
  if (mcr !== undefined && (typeof mcr !== 'number' || !Number.isInteger(mcr) || mcr < 0))
    fail('max_concurrently_running', 'must be a whole number ≥ 0');
  const defaults = doc['defaults'] ?? {};
  if (!isObj(defaults)) fail('defaults', 'must be an object');
  else
    for (const k of Object.keys(defaults))
      if (!DEFAULT_KEYS.includes(k)) fail(`defaults.${k}`, `unknown key (known: ${DEFAULT_KEYS.join(', ')})`);
  const tasks = doc['tasks'];
  if (!Array.isArray(tasks) || tasks.length === 0) {
    fail('tasks', 'must be a non-empty list');
    return undefined;
  }
  const seen = new Set<string>();
  const argKeysByTemplate = new Map<string, string>();
  tasks.forEach((t: unknown, i: number) => {
    const where = `tasks[${i}]`;
    if (!isObj(t)) return fail(where, 'must be an object');
    const tname = t['name'];
    const label = typeof tname === 'string' && tname !== '' ? `task '${tname}'` : where;
    for (const k of Object.keys(t))
      if (!TASK_KEYS.includes(k)) fail(label, `unknown key '${k}' (known: ${TASK_KEYS.join(', ')})`);
    if (typeof tname !== 'string' || tname === '') fail(where, 'needs a "name" string');
    else if (seen.has(tname)) fail(where, `task name '${tname}' appears twice`);
    else seen.add(tname);
    if (typeof t['command'] !== 'string' || t['command'] === '') fail(label, 'needs a "command" string');
    if (t['template'] !== undefined && typeof t['template'] !== 'string') fail(label, '"template" must be a string');
    if (t['cluster'] !== undefined && typeof t['cluster'] !== 'string') fail(label, '"cluster" must be a string');
    if (
      t['upstream'] !== undefined &&
      (!Array.isArray(t['upstream']) || !t['upstream'].every((u) => typeof u === 'string'))
    ) {
      fail(label, '"upstream" must be a list of task names');
    }
    const args = t['args'];
    if (args !== undefined && (!isObj(args) || !Object.values(args).every(isArg)))
      fail(label, '"args" must be an object of strings, numbers or booleans');
    else if (args !== undefined && 'name' in args)
      fail(label, '"args" may not contain "name" (the task name is already part of its identity)');
    else if (t['template'] === undefined || typeof t['template'] === 'string') {
      // One template, one set of args: its tasks differ by values, not by keys.
      const template = typeof t['template'] === 'string' ? t['template'] : 'task';
      const keys = Object.keys(args ?? {})
        .sort()
        .join(',');
      const expected = argKeysByTemplate.get(template);
      if (expected === undefined) argKeysByTemplate.set(template, keys);
      else if (expected !== keys)
        fail(label, `template '${template}' tasks must all have the same args (expected [${expected}], got [${keys}])`);
    }
    const ma = t['max_attempts'];
    if (ma !== undefined && (typeof ma !== 'number' || !Number.isInteger(ma) || ma < 1))
      fail(label, '"max_attempts" must be a whole number ≥ 1');
    if (t['compute_resources'] !== undefined && !isObj(t['compute_resources']))
      fail(label, '"compute_resources" must be an object');
  });
  const templateResources = isObj(defaults) ? defaults['template_resources'] : undefined;
  if (templateResources !== undefined) {
    if (!isObj(templateResources))
      fail('defaults.template_resources', 'must be an object: template name → compute resources');
    else {
      const used = new Set(
        (tasks as unknown[]).map((t) => (isObj(t) && typeof t['template'] === 'string' ? t['template'] : 'task')),
      );
      for (const [name, r] of Object.entries(templateResources)) {
        if (!isObj(r)) fail(`defaults.template_resources.${name}`, 'must be an object of compute resources');
        else if (!used.has(name))
          fail(`defaults.template_resources.${name}`, 'names no template of a task in the file');
        else {
          try {
            normaliseResources(r, `defaults.template_resources.${name}`);
          } catch (e) {
            fail(`defaults.template_resources.${name}`, (e as Error).message.replace(/^[^:]*: /, ''));
          }
        }
      }
    }
  }
  for (const t of tasks as unknown[]) {
    if (!isObj(t) || typeof t['name'] !== 'string' || !Array.isArray(t['upstream'])) continue;
    for (const u of t['upstream']) {
      if (typeof u === 'string' && !seen.has(u))
        fail(`task '${t['name']}'`, `lists upstream '${u}', which is not a task in the file`);
    }
  }
  if (!ok) return undefined;
  return {
    name: name as string,
    tool: tool as string,
    workflowArgs: wa as Record<string, ArgValue> | undefined,
    description: description as string,
    maxConcurrentlyRunning: mcr as number | undefined,
    defaults: defaults as WorkflowFile['defaults'],
    tasks: tasks as FileTask[],
    ignoredKeys: [],
  };
}

/** Build the client declaration: one template per distinct "template" (default "task"). */
export function toWorkflow(file: string, wf: WorkflowFile): Workflow {
  const tool = new Tool(wf.tool);
  const workflow = tool.createWorkflow({
    name: wf.name,
    workflowArgs: wf.workflowArgs ?? { name: wf.name },
    description: wf.description,
    ...(wf.maxConcurrentlyRunning === undefined ? {} : { maxConcurrentlyRunning: wf.maxConcurrentlyRunning }),
    ...(wf.defaults.cluster ? { defaultCluster: wf.defaults.cluster } : {}),
    ...(wf.defaults.max_attempts ? { maxAttempts: wf.defaults.max_attempts } : {}),
    ...(wf.defaults.compute_resources
      ? { defaultResources: { [wf.defaults.cluster ?? 'local']: wf.defaults.compute_resources } }
      : {}),
  });
  const templates = new Map<string, { template: TaskTemplate; argKeys: string }>();
  const byName = new Map<string, Task>();
  for (const t of wf.tasks) {
    const templateName = t.template ?? 'task';
    const args = t.args ?? {};
    const argKeys = Object.keys(args).sort().join(',');
    let entry = templates.get(templateName);
    if (!entry) {
      const own = wf.defaults.template_resources?.[templateName];
      const template = tool.getTaskTemplate({
        name: templateName,
        commandTemplate: '{command}',
        nodeArgs: ['name', ...Object.keys(args).sort()],
        opArgs: ['command'],
        // Per cluster in the client: every cluster this template's tasks may run on.
        ...(own
          ? {
              defaultResources: Object.fromEntries(
                [
                  ...new Set([
                    wf.defaults.cluster ?? 'local',
                    ...wf.tasks.filter((x) => (x.template ?? 'task') === templateName).map((x) => x.cluster),
                  ]),
                ]
                  .filter((c): c is string => c !== undefined)
                  .map((c) => [c, own]),
              ),
            }
          : {}),
      });
      templates.set(templateName, (entry = { template, argKeys }));
    } else if (entry.argKeys !== argKeys) {
      throw new ValidationError(
        `${file}: task '${t.name}': template '${templateName}' tasks must all have the same args (expected [${entry.argKeys}], got [${argKeys}])`,
        { task: t.name, template: templateName },
      );
    }
    if (byName.has(t.name))
      throw new DuplicateTaskError(`${file}: task name '${t.name}' appears twice`, { task: t.name });
    const task = entry.template.createTask(
      { name: t.name, command: t.command, ...args },
      {
        name: t.name,
        ...(t.max_attempts ? { maxAttempts: t.max_attempts } : {}),
        ...(t.cluster ? { cluster: t.cluster } : {}),
        ...(t.compute_resources ? { computeResources: t.compute_resources } : {}),
        ...(t.attributes ? { attributes: t.attributes } : {}),
      },
    );
    byName.set(t.name, task);
  }
  for (const t of wf.tasks) {
    const task = byName.get(t.name)!;
    for (const u of t.upstream ?? []) {
      const up = byName.get(u);
      if (!up)
        throw new ValidationError(`${file}: task '${t.name}' lists upstream '${u}', which is not a task in the file`, {
          task: t.name,
          upstream: u,
        });
      task.addUpstream(up);
    }
  }
  workflow.addTasks(byName.values());
  for (const [template, limit] of Object.entries(wf.defaults.template_concurrency ?? {}))
    workflow.setTemplateConcurrency(template, limit);
  return workflow;
}
