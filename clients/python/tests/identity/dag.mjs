// The DAG of test_identity.py, declared with the TypeScript client: run it (resuming what Python
// started) and print {workflowId, status, resumed, done, total}, or with --hashes print its hashes.
import { Tool, connect, prepare } from '@jobmon/client';

const [toolName, name] = process.argv.slice(2);
const tool = new Tool(toolName);
const prep = tool.getTaskTemplate({ name: 'prep', commandTemplate: 'echo prep {year} >> ran.txt', taskArgs: ['year'] });
const model = tool.getTaskTemplate({
  name: 'model',
  commandTemplate: 'test -f ok_{location_id} && echo model {location_id} {sex} {year} >> ran.txt',
  nodeArgs: ['location_id', 'sex'],
  taskArgs: ['year'],
  opArgs: ['verbose'],
});
const wf = tool.createWorkflow({ name, workflowArgs: { workflow_args: name } });
const p = prep.createTask({ year: 2020 });
const models = model.createTasks(
  { location_id: [1, 2], sex: ['male', 'female'], year: 2020, verbose: true },
  { upstream: [p], maxAttempts: 1 },
);
wf.addTasks([p, ...models]);
if (process.argv.includes('--hashes')) {
  const d = prepare({
    toolName,
    toolDefaults: { resources: {} },
    workflowArgs: wf.workflowArgs,
    name,
    description: '',
    attributes: {},
    maxConcurrentlyRunning: undefined,
    templateConcurrency: {},
    defaultCluster: undefined,
    defaultResources: {},
    maxAttempts: undefined,
    maxInfraFailures: undefined,
    tasks: wf.tasks,
  });
  console.log(JSON.stringify({ taskHash: d.taskHash, dagHash: d.dagHash, argsHash: d.argsHash }));
} else {
  const connection = await connect({ url: process.env.JOBMON_URL });
  const r = await wf.run({ connection, handleSignals: false });
  await connection.close();
  console.log(
    JSON.stringify({ workflowId: r.workflowId, status: r.status, resumed: r.resumed, done: r.done, total: r.total }),
  );
}
