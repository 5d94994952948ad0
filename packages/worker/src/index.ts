// Public API of @jobmon/worker: process groups (shared with the local distributor), the
// launcher's path, and the jobmon-worker wrapper.
export { runWorker, type WorkerOptions } from './worker.js';
export { DEFAULT_LOG_CAP_BYTES } from './capped-log.js';
export { spawnGroup, groupSampler, type GroupHandle, type GroupResult, type SpawnGroupOptions } from './process-group.js';
/** Path of the launcher script used by the `local` distributor. */
export const LAUNCHER_PATH = new URL('../dist/launcher.js', import.meta.url).pathname; // from src/ (tests) or dist/
