// Public API of @jobmon/worker: process groups (shared with the local distributor).
export { spawnGroup, readTail, groupSampler, type GroupHandle, type GroupResult, type SpawnGroupOptions } from './process-group.js';
