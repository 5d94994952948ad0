// The declarative workflow file that `jobmon run` reads (JSON or YAML), checked field by field,
// and turned into client declarations. Format: docs/workflow-file.md. Each task's command is an
// op arg, so fixing a command and running again resumes the same workflow; identity comes from
// the workflow name (or explicit workflow_args) and each task's template, name and args.

import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DuplicateTaskError, ValidationError, Tool, type Task, type TaskTemplate, type Workflow } from '@jobmon/client';

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
  };
  tasks: FileTask[];
  ignoredKeys: string[];
}

const TOP_KEYS = ['name', 'workflow', 'tool', 'workflow_args', 'description', 'max_concurrently_running', 'defaults', 'tasks'];
const INFO_KEYS = ['shape', 'mode', 'comment', 'version'];
const TASK_KEYS = ['name', 'template', 'command', 'upstream', 'args', 'max_attempts', 'compute_resources', 'cluster', 'attributes'];
const DEFAULT_KEYS = ['cluster', 'max_attempts', 'compute_resources', 'template_concurrency'];

function fail(file: string, where: string, msg: string): never {
  throw new ValidationError(`${file}: ${where}: ${msg}`, { file, field: where });
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isArg = (v: unknown): v is ArgValue => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

export function parseWorkflowFile(path: string): WorkflowFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ValidationError(`cannot read workflow file ${path}: ${(e as Error).message}`, { file: path });
  }
  const file = basename(path);
  let doc: unknown;
  try {
    doc = ['.yaml', '.yml'].includes(extname(path).toLowerCase()) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new ValidationError(`${file} is not valid ${extname(path).toLowerCase().startsWith('.y') ? 'YAML' : 'JSON'}: ${(e as Error).message}`, { file });
  }
  if (!isObj(doc)) fail(file, 'top level', 'must be an object with a "tasks" list');
  const ignoredKeys: string[] = [];
  for (const k of Object.keys(doc)) {
    if (!TOP_KEYS.includes(k)) {
      if (INFO_KEYS.includes(k)) continue;
      fail(file, k, `unknown key (known: ${TOP_KEYS.join(', ')})`);
    }
  }
  const name = doc['name'] ?? doc['workflow'];
  if (typeof name !== 'string' || name === '') fail(file, 'name', 'the workflow needs a "name" (or "workflow") string');
  const tool = doc['tool'] ?? 'jobmon-run';
  if (typeof tool !== 'string' || !/^[A-Za-z0-9_.-]{1,255}$/.test(tool)) fail(file, 'tool', 'must be 1–255 letters, digits, _ . or -');
  const wa = doc['workflow_args'];
  if (wa !== undefined && (!isObj(wa) || !Object.values(wa).every(isArg))) fail(file, 'workflow_args', 'must be an object of strings, numbers or booleans');
  const description = doc['description'] ?? '';
  if (typeof description !== 'string') fail(file, 'description', 'must be a string');
  const mcr = doc['max_concurrently_running'];
  if (mcr !== undefined && (typeof mcr !== 'number' || !Number.isInteger(mcr) || mcr < 0)) fail(file, 'max_concurrently_running', 'must be a whole number ≥ 0');
  const defaults = doc['defaults'] ?? {};
  if (!isObj(defaults)) fail(file, 'defaults', 'must be an object');
  for (const k of Object.keys(defaults)) if (!DEFAULT_KEYS.includes(k)) fail(file, `defaults.${k}`, `unknown key (known: ${DEFAULT_KEYS.join(', ')})`);
  const tasks = doc['tasks'];
  if (!Array.isArray(tasks) || tasks.length === 0) fail(file, 'tasks', 'must be a non-empty list');
  tasks.forEach((t: unknown, i: number) => {
    const where = `tasks[${i}]`;
    if (!isObj(t)) fail(file, where, 'must be an object');
    const label = typeof t['name'] === 'string' ? `task '${t['name']}'` : where;
    for (const k of Object.keys(t)) if (!TASK_KEYS.includes(k)) fail(file, label, `unknown key '${k}' (known: ${TASK_KEYS.join(', ')})`);
    if (typeof t['name'] !== 'string' || t['name'] === '') fail(file, where, 'needs a "name" string');
    if (typeof t['command'] !== 'string' || t['command'] === '') fail(file, label, 'needs a "command" string');
    if (t['template'] !== undefined && typeof t['template'] !== 'string') fail(file, label, '"template" must be a string');
    if (t['cluster'] !== undefined && typeof t['cluster'] !== 'string') fail(file, label, '"cluster" must be a string');
    if (t['upstream'] !== undefined && (!Array.isArray(t['upstream']) || !t['upstream'].every((u) => typeof u === 'string'))) {
      fail(file, label, '"upstream" must be a list of task names');
    }
    if (t['args'] !== undefined && (!isObj(t['args']) || !Object.values(t['args']).every(isArg))) fail(file, label, '"args" must be an object of strings, numbers or booleans');
    if (t['args'] !== undefined && 'name' in (t['args'] as object)) fail(file, label, '"args" may not contain "name" (the task name is already part of its identity)');
    const ma = t['max_attempts'];
    if (ma !== undefined && (typeof ma !== 'number' || !Number.isInteger(ma) || ma < 1)) fail(file, label, '"max_attempts" must be a whole number ≥ 1');
    if (t['compute_resources'] !== undefined && !isObj(t['compute_resources'])) fail(file, label, '"compute_resources" must be an object');
  });
  return {
    name,
    tool,
    workflowArgs: wa as Record<string, ArgValue> | undefined,
    description,
    maxConcurrentlyRunning: mcr as number | undefined,
    defaults: defaults as WorkflowFile['defaults'],
    tasks: tasks as FileTask[],
    ignoredKeys,
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
      const template = tool.getTaskTemplate({
        name: templateName,
        commandTemplate: '{command}',
        nodeArgs: ['name', ...Object.keys(args).sort()],
        opArgs: ['command'],
      });
      templates.set(templateName, (entry = { template, argKeys }));
    } else if (entry.argKeys !== argKeys) {
      throw new ValidationError(
        `${file}: task '${t.name}': template '${templateName}' tasks must all have the same args (expected [${entry.argKeys}], got [${argKeys}])`,
        { task: t.name, template: templateName },
      );
    }
    if (byName.has(t.name)) throw new DuplicateTaskError(`${file}: task name '${t.name}' appears twice`, { task: t.name });
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
      if (!up) throw new ValidationError(`${file}: task '${t.name}' lists upstream '${u}', which is not a task in the file`, { task: t.name, upstream: u });
      task.addUpstream(up);
    }
  }
  workflow.addTasks(byName.values());
  for (const [template, limit] of Object.entries(wf.defaults.template_concurrency ?? {})) workflow.setTemplateConcurrency(template, limit);
  return workflow;
}
