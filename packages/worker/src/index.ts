// Public API of @jobmon/worker: process groups (shared with the local distributor), the
// launcher's path, and the jobmon-worker wrapper.
import { fileURLToPath } from 'node:url';

export { runWorker, type WorkerOptions } from './worker.js';
export { DEFAULT_LOG_CAP_BYTES } from './capped-log.js';
export {
  spawnGroup,
  groupSampler,
  type GroupHandle,
  type GroupResult,
  type SpawnGroupOptions,
} from './process-group.js';
/** Path of the launcher script used by the `local` distributor, from src/ (tests) or dist/. A file
 *  path, not a URL's pathname: a user's folder may have a space in its name. */
export const LAUNCHER_PATH = fileURLToPath(new URL('../dist/launcher.js', import.meta.url));
