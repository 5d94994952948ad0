// A task: one command of a template with its args, its upstream tasks and how to run it.

import {
  argsHash,
  nodeHash,
  normaliseResourceScales,
  taskHash,
  InvalidResourcesError,
  ValidationError,
  type ArgValues,
  type ResourceInput,
  type ResourceScales,
  type TaskStatus,
} from '@jobmon/core';
import type { TaskTemplate } from './task-template.js';

export interface TaskOptions {
  name?: string;
  upstream?: Task[];
  maxAttempts?: number;
  /** Infrastructure failures tolerated (lost workers, nodes, submissions) before it is fatal; default 5. */
  maxInfraFailures?: number;
  cluster?: string;
  /** cores, memory ("4G" or MiB), runtime ("1h", seconds), queue. */
  computeResources?: ResourceInput;
  /**
   * How resources grow after a resource error (memory or runtime exceeded), per resource: a factor
   * (0.5 = +50 %) or the successive values to try ({ runtime: ['1h', '2h', '6h'] }). Merged over
   * the template's; memory and runtime not named grow by 50 %; 0 keeps a resource fixed.
   */
  resourceScales?: ResourceScalesInput;
  /** Queues of the task's cluster to move to, in order, when scaled resources exceed its queue's limits. */
  fallbackQueues?: string[];
  attributes?: Record<string, string | number | boolean>;
}

/** Resource scales as a user writes them: lists may use units ("4G", "2h"). */
export type ResourceScalesInput = Record<string, number | readonly (number | string)[]>;

/** Check fallback queue names (that they exist in the cluster is checked at bind). */
export function checkFallbackQueues(queues: unknown, where: string): string[] | undefined {
  if (queues === undefined) return undefined;
  if (!Array.isArray(queues) || queues.some((q) => typeof q !== 'string' || q === '' || q.length > 255)) {
    throw new InvalidResourcesError(`${where}: fallbackQueues must be a list of queue names`, {
      field: 'fallbackQueues',
      value: queues,
    });
  }
  return [...(queues as string[])];
}

export class Task {
  readonly name: string;
  readonly upstream: Task[] = [];
  maxAttempts: number | undefined;
  maxInfraFailures: number | undefined;
  cluster: string | undefined;
  computeResources: ResourceInput | undefined;
  /** Normalised (MiB, seconds); undefined when the task sets none. */
  readonly resourceScales: ResourceScales | undefined;
  readonly fallbackQueues: string[] | undefined;
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
      throw new ValidationError(`task name '${this.name.slice(0, 40)}…' must have 1 to 255 characters`, {
        field: 'name',
      });
    }
    this.maxAttempts = options.maxAttempts;
    this.maxInfraFailures = options.maxInfraFailures;
    this.cluster = options.cluster;
    this.computeResources = options.computeResources;
    const where = `task '${this.name}'`;
    this.resourceScales =
      options.resourceScales === undefined ? undefined : normaliseResourceScales(options.resourceScales, where);
    this.fallbackQueues = checkFallbackQueues(options.fallbackQueues, where);
    this.attributes = Object.fromEntries(Object.entries(options.attributes ?? {}).map(([k, v]) => [k, String(v)]));
    for (const u of options.upstream ?? []) this.addUpstream(u);
    if (this.maxAttempts !== undefined && (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1)) {
      throw new ValidationError(`task '${this.name}': maxAttempts must be a whole number ≥ 1`, {
        field: 'maxAttempts',
      });
    }
    if (
      this.maxInfraFailures !== undefined &&
      (!Number.isInteger(this.maxInfraFailures) || this.maxInfraFailures < 1)
    ) {
      throw new ValidationError(`task '${this.name}': maxInfraFailures must be a whole number ≥ 1`, {
        field: 'maxInfraFailures',
      });
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
  return [template, ...parts]
    .join('_')
    .replace(/[\s/\\'"]/g, '_')
    .slice(0, 249);
}
