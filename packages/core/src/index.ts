// Public API of @jobmon/core: state tables, wire schemas, errors, hashing, resources, config and
// the HTTP requester. No I/O beyond HTTP.

export * from './states.js';
export * from './errors.js';
export * from './hashing.js';
export * from './resources.js';
export * from './clusters.js';
export * from './config.js';
export * from './requester.js';
export * from './api.js';
export * as wire from './wire.js';
export type * from './wire.js';
export const JOBMON_VERSION = '0.1.0';
export * from './dag.js';
export * from './text.js';
export * from './error-groups.js';
