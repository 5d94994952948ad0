// The distributor contract (distributor-contract.ts) for every distributor this package ships.
// `local` runs with 4 lanes so that several commands run at once even on a 2-core machine;
// `dummy` starts one Node worker process per instance, so its "many items" case hands over fewer.

import { createDummyDistributor } from '../src/distributors/dummy.js';
import { createLocalDistributor, createSequentialDistributor } from '../src/distributors/local.js';
import { describeDistributorContract } from './distributor-contract.js';

describeDistributorContract('local', (opts) => createLocalDistributor({ ...opts, parallelism: 4 }));
describeDistributorContract('sequential', createSequentialDistributor);
describeDistributorContract('dummy', createDummyDistributor, { manyItems: 8 });
