// A task: one command of a template with its args, its upstream tasks and how to run it.

import { argsHash, nodeHash, taskHash, ValidationError, type ArgValues, type ResourceInput, type TaskStatus } from '@jobmon/core';
import type { TaskTemplate } from './task-template.js';

export interface TaskOptions {
  name?: string;
  upstream?: Task[];
  maxAttempts?: number;
  cluster?: string;
  /** cores, memory ("4G" or MiB), runtime ("1h", seconds), queue. */
  computeResources?: ResourceInput;
  attributes?: Record<string, string | number | boolean>;
}

export class Task {
  readonly name: string;
  readonly upstream: Task[] = [];
  maxAttempts: number | undefined;
  cluster: string | undefined;
  computeResources: ResourceInput | undefined;
  readonly attributes: Record<string, string>;
  /** Set by bind. */
  id: number | undefined;
  /** Set by bind (the status it was bound with) and by run (the final status). */
  status: TaskStatus | undefined;
  private cachedHashes: { node: string; taskArgs: string; task: string } | undefined;

  constructor(
    readonly template: TaskTemplate,
    readonly nodeArgs: ArgValues,
    readonly taskArgs: ArgValues,
    readonly command: string,
    options: TaskOptions,
  ) {
    this.name = options.name ?? defaultName(template.name, nodeArgs);
    if (this.name.length === 0 || this.name.length > 255) {
      throw new ValidationError(`task name '${this.name.slice(0, 40)}…' must have 1 to 255 characters`, { field: 'name' });
    }
    this.maxAttempts = options.maxAttempts;
    this.cluster = options.cluster;
    this.computeResources = options.computeResources;
    this.attributes = Object.fromEntries(Object.entries(options.attributes ?? {}).map(([k, v]) => [k, String(v)]));
    for (const u of options.upstream ?? []) this.addUpstream(u);
    if (this.maxAttempts !== undefined && (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1)) {
      throw new ValidationError(`task '${this.name}': maxAttempts must be a whole number ≥ 1`, { field: 'maxAttempts' });
    }
  }

  addUpstream(task: Task): this {
    if (task === this) throw new ValidationError(`task '${this.name}' cannot depend on itself`, { field: 'upstream' });
    if (!this.upstream.includes(task)) this.upstream.push(task);
    return this;
  }

  addDownstream(task: Task): this {
    task.addUpstream(this);
    return this;
  }

  /** Identity hashes (DESIGN.md §4): template + node args + task args, never op args. */
  get hashes(): { node: string; taskArgs: string; task: string } {
    if (!this.cachedHashes) {
      const node = nodeHash(this.template.toolName, this.template.name, this.nodeArgs);
      const ta = argsHash(this.taskArgs);
      this.cachedHashes = { node, taskArgs: ta, task: taskHash(node, ta) };
    }
    return this.cachedHashes;
  }
}

function defaultName(template: string, nodeArgs: ArgValues): string {
  const parts = Object.keys(nodeArgs)
    .sort()
    .map((k) => `${k}-${String(nodeArgs[k])}`);
  return [template, ...parts].join('_').replace(/[\s/\\'"]/g, '_').slice(0, 249);
}
