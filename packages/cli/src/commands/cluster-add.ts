// `jobmon cluster add <name> --type T [--option k=v …] [--queue name:cores=1-64,… …] [--file f]`:
// create a cluster or update it (PUT /clusters/{name}). --file holds {type, options, queues} as
// the API takes them; flags given with it override its type, add options and add or replace queues.

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { NotFoundError, ValidationError, type ClusterPutRequestT, type QueueSpec } from '@jobmon/core';
import { clusterLines, clusterName, parseOption, parseQueue } from '../cluster-text.js';
import { cliConnect } from '../connect.js';
import { jsonLine, printable } from '../text.js';

interface AddOptions {
  type?: string;
  option?: Record<string, string | number | boolean>;
  queue?: QueueSpec[];
  file?: string;
  json?: boolean;
}

function readDefinition(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new NotFoundError(`cannot read cluster file ${path}: ${(e as Error).message}`, { file: path });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ValidationError(`cluster file ${path} is not valid JSON: ${(e as Error).message}`, { file: path });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ValidationError(`cluster file ${path} must hold an object {type, options, queues}`, { file: path });
  }
  return parsed as Record<string, unknown>;
}

export function registerClusterAdd(cluster: Command): void {
  cluster
    .command('add')
    .description('add a cluster, or update one (its type only while no task is bound to it)')
    .argument('<name>', 'cluster name', clusterName)
    .option('--type <type>', 'sequential, local, dummy or slurm')
    .option('--option <key=value>', 'a cluster option, e.g. parallelism=4 (repeatable)', parseOption)
    .option(
      '--queue <spec>',
      'a queue and its limits, e.g. all.q:cores=1-64,memory=1G-512G,runtime=1m-7d (repeatable)',
      parseQueue,
    )
    .option('--file <path>', 'a JSON file holding {type, options, queues}')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Examples:
  jobmon cluster add hpc --type slurm --option partition=all --queue all:cores=1-64,memory=1G-512G,runtime=1m-7d
  jobmon cluster add big --type local --option parallelism=16 --queue main:cores=1-16
  jobmon cluster add hpc --file hpc.json --json`,
    )
    .action(async (name: string, opts: AddOptions) => {
      const base = opts.file ? readDefinition(opts.file) : {};
      const type = opts.type ?? base['type'];
      if (type === undefined)
        throw new ValidationError(`cluster '${name}': --type is required (or a type in --file)`, { field: 'type' });
      const fileQueues = Array.isArray(base['queues']) ? (base['queues'] as QueueSpec[]) : [];
      const flagQueues = opts.queue ?? [];
      const body = {
        ...base,
        type,
        options: { ...((base['options'] as Record<string, unknown> | undefined) ?? {}), ...(opts.option ?? {}) },
        queues: [...fileQueues.filter((q) => !flagQueues.some((f) => f.name === q?.name)), ...flagQueues],
      };
      const conn = await cliConnect();
      try {
        const r = await conn.api.putCluster({ name, body: body as ClusterPutRequestT }); // the server checks what a file held
        if (opts.json) {
          console.log(jsonLine(r, 2));
          return;
        }
        console.log(printable(`cluster '${r.cluster.name}' ${r.created ? 'added' : 'updated'}`));
        for (const line of clusterLines(r.cluster)) console.log(line);
      } finally {
        await conn.close();
      }
    });
}
