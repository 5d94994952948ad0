// Public API of @jobmon/client: declare tools, task templates, tasks and workflows; run them.
export { Tool, type ToolDefaults } from './tool.js';
export { TaskTemplate, placeholders, formatCommand, type TaskTemplateSpec } from './task-template.js';
export { Task, type TaskOptions } from './task.js';
export { Workflow, type WorkflowSpec, type RunOptions, type RunResult } from './workflow.js';
export { connect, type Connection, type ConnectOptions } from './connection.js';
export { bindWorkflow, prepare, type WorkflowDecl, type BoundWorkflow } from './bind.js';
export { resumeWorkflowById, type ResumeByIdOptions, type ResumeByIdResult } from './resume.js';
export type { SwarmProgress } from '@jobmon/runner';
export * from '@jobmon/core';
