// Public API of @jobmon/runner: run a bound workflow run with the swarm and its distributors.
export { runWorkflowRun, registerDistributor, DISTRIBUTORS, type RunOptions, type RunOutcome } from './run.js';
export type { SwarmProgress, SwarmTasks } from './swarm/swarm.js';
export type {
  ClusterConfig,
  Distributor,
  DistributorHost,
  DistributorFactory,
  DistributorFactoryOptions,
  LaunchItem,
} from './distributors/contract.js';
export { safeName } from './distributors/contract.js';
