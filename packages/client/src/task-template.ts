// Task templates: a command with {placeholders}, each declared as a node arg (what makes a task
// unique within a workflow), a task arg (data that makes it unique across workflows) or an op
// arg (operational; may change between runs without changing identity). Every argument is checked.

import {
  TemplateArgumentError,
  ValidationError,
  normaliseResourceScales,
  type ArgValues,
  type ResourceInput,
  type ResourceScales,
} from '@jobmon/core';
import { Task, checkFallbackQueues, type ResourceScalesInput, type TaskOptions } from './task.js';

export interface TaskTemplateSpec {
  name: string;
  commandTemplate: string;
  nodeArgs?: string[];
  taskArgs?: string[];
  opArgs?: string[];
  defaultCluster?: string;
  /** Per cluster name. */
  defaultResources?: Record<string, ResourceInput>;
  maxAttempts?: number;
  maxInfraFailures?: number;
  /** Default resource scales of its tasks (see TaskOptions.resourceScales); a task's own win per resource. */
  resourceScales?: ResourceScalesInput;
  /** Default fallback queues of its tasks (names in each task's cluster); a task's own list replaces them. */
  fallbackQueues?: string[];
}

type ArgValue = string | number | boolean;

/** The {placeholders} of a command template; `{{` and `}}` are literal braces. */
export function placeholders(commandTemplate: string): string[] {
  const out: string[] = [];
  const re = /\{\{|\}\}|\{([^{}]*)\}/g;
  for (const m of commandTemplate.matchAll(re)) if (m[1] !== undefined) out.push(m[1]);
  return out;
}

export function formatCommand(commandTemplate: string, values: Record<string, ArgValue>): string {
  return commandTemplate.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (m, name: string | undefined) =>
    name === undefined ? m[0]! : String(values[name]),
  );
}

export class TaskTemplate {
  readonly name: string;
  readonly commandTemplate: string;
  readonly nodeArgs: readonly string[];
  readonly taskArgs: readonly string[];
  readonly opArgs: readonly string[];
  readonly defaultCluster: string | undefined;
  readonly defaultResources: Record<string, ResourceInput>;
  readonly maxAttempts: number | undefined;
  readonly maxInfraFailures: number | undefined;
  readonly resourceScales: ResourceScales;
  readonly fallbackQueues: string[] | undefined;
  private readonly allArgs: Set<string>;

  constructor(
    readonly toolName: string,
    spec: TaskTemplateSpec,
  ) {
    if (!/^[A-Za-z_][A-Za-z0-9_.-]{0,254}$/.test(spec.name)) {
      throw new ValidationError(
        `task template name '${spec.name}' must start with a letter or _ and use letters, digits, _ . -`,
        { field: 'name' },
      );
    }
    this.name = spec.name;
    this.commandTemplate = spec.commandTemplate;
    this.nodeArgs = spec.nodeArgs ?? [];
    this.taskArgs = spec.taskArgs ?? [];
    this.opArgs = spec.opArgs ?? [];
    this.defaultCluster = spec.defaultCluster;
    this.defaultResources = spec.defaultResources ?? {};
    this.maxAttempts = spec.maxAttempts;
    this.maxInfraFailures = spec.maxInfraFailures;
    this.resourceScales = normaliseResourceScales(spec.resourceScales, `task template '${spec.name}'`);
    this.fallbackQueues = checkFallbackQueues(spec.fallbackQueues, `task template '${spec.name}'`);
    const declared = [...this.nodeArgs, ...this.taskArgs, ...this.opArgs];
    this.allArgs = new Set(declared);
    const twice = declared.find((a, i) => declared.indexOf(a) !== i);
    if (twice)
      throw new TemplateArgumentError(`task template '${this.name}': argument '${twice}' is declared more than once`, {
        template: this.name,
        arg: twice,
      });
    const used = new Set(placeholders(spec.commandTemplate));
    for (const p of used) {
      if (!this.allArgs.has(p)) {
        throw new TemplateArgumentError(
          `task template '${this.name}': command template uses {${p}} but '${p}' is not declared as a node, task or op arg`,
          { template: this.name, arg: p },
        );
      }
    }
    // A declared arg need not appear in the command: it may only shape identity (e.g. a version tag).
  }

  private checkArgs(args: Record<string, unknown>, where: string): void {
    for (const a of this.allArgs) {
      if (!(a in args))
        throw new TemplateArgumentError(`${where}: command template needs argument '${a}'`, {
          template: this.name,
          arg: a,
        });
    }
    for (const [k, v] of Object.entries(args)) {
      if (!this.allArgs.has(k))
        throw new TemplateArgumentError(`${where}: task template '${this.name}' has no argument '${k}'`, {
          template: this.name,
          arg: k,
        });
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        throw new TemplateArgumentError(`${where}: argument '${k}' must be a string, number or boolean`, {
          template: this.name,
          arg: k,
        });
      }
    }
  }

  /** One task. `args` must name every node, task and op arg of the template, and nothing else. */
  createTask(args: Record<string, ArgValue>, options: TaskOptions = {}): Task {
    this.checkArgs(args, options.name ? `task '${options.name}'` : `task template '${this.name}'`);
    const pick = (names: readonly string[]): ArgValues => Object.fromEntries(names.map((n) => [n, args[n]!]));
    return new Task(this, pick(this.nodeArgs), pick(this.taskArgs), formatCommand(this.commandTemplate, args), options);
  }

  /**
   * Many tasks: node args given as arrays are expanded as a cross product; task and op args are
   * shared by all. Returns the tasks in the order of the expansion.
   */
  createTasks(args: Record<string, ArgValue | readonly ArgValue[]>, options: Omit<TaskOptions, 'name'> = {}): Task[] {
    let combos: Record<string, ArgValue>[] = [{}];
    for (const [k, v] of Object.entries(args)) {
      const values = Array.isArray(v) ? (v as readonly ArgValue[]) : [v as ArgValue];
      if (Array.isArray(v) && !this.nodeArgs.includes(k)) {
        throw new TemplateArgumentError(
          `task template '${this.name}': only node args may be given as lists; '${k}' is not a node arg`,
          {
            template: this.name,
            arg: k,
          },
        );
      }
      combos = combos.flatMap((c) => values.map((x) => ({ ...c, [k]: x })));
    }
    return combos.map((c) => this.createTask(c, options));
  }
}
