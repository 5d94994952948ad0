// A tool: the project a set of task templates and workflows belong to. Workflow identity is
// scoped to the tool (and its version), so two tools never clash.

import { ValidationError, type ResourceInput } from '@jobmon/core';
import { TaskTemplate, type TaskTemplateSpec } from './task-template.js';
import { Workflow, type WorkflowSpec } from './workflow.js';

export interface ToolDefaults {
  cluster?: string;
  resources: Record<string, ResourceInput>;
  maxAttempts?: number;
  maxInfraFailures?: number;
}

export class Tool {
  readonly defaults: ToolDefaults = { resources: {} };
  private readonly templates = new Map<string, TaskTemplate>();

  constructor(readonly name: string) {
    if (!/^[A-Za-z0-9_.-]{1,255}$/.test(name)) {
      throw new ValidationError(`tool name '${name}' must be 1–255 letters, digits, _ . or -`, { field: 'name' });
    }
  }

  setDefaultCluster(cluster: string): this {
    this.defaults.cluster = cluster;
    return this;
  }

  setDefaultResources(cluster: string, resources: ResourceInput): this {
    this.defaults.resources[cluster] = resources;
    return this;
  }

  setDefaultMaxAttempts(n: number): this {
    this.defaults.maxAttempts = n;
    return this;
  }

  /** Infrastructure failures a task of this tool tolerates (task, template and workflow settings win). */
  setDefaultMaxInfraFailures(n: number): this {
    this.defaults.maxInfraFailures = n;
    return this;
  }

  /** Define (or get back, if identical) a task template of this tool. */
  getTaskTemplate(spec: TaskTemplateSpec): TaskTemplate {
    const existing = this.templates.get(spec.name);
    const fresh = new TaskTemplate(this.name, spec);
    if (existing) {
      const same =
        existing.commandTemplate === fresh.commandTemplate &&
        existing.nodeArgs.join() === fresh.nodeArgs.join() &&
        existing.taskArgs.join() === fresh.taskArgs.join() &&
        existing.opArgs.join() === fresh.opArgs.join();
      if (!same)
        throw new ValidationError(`tool '${this.name}' already has a different task template named '${spec.name}'`, {
          template: spec.name,
        });
      return existing;
    }
    this.templates.set(spec.name, fresh);
    return fresh;
  }

  createWorkflow(spec: WorkflowSpec = {}): Workflow {
    return new Workflow(this, spec);
  }
}
