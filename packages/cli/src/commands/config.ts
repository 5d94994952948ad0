// `jobmon config show|set|unset`: the settings every part reads (core's config.ts), each with where
// its value came from (default, the config file, an environment variable), and writing one setting
// to the config file, checked first, so a typo never leaves a file that stops every command.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { ValidationError, configFile, describeConfig, loadConfig, withSetting } from '@jobmon/core';
import { tableLines } from '../table.js';
import { jsonLine, printable } from '../text.js';

/** A password in a URL (postgres://user:secret@host) shown as `***`. */
export function masked(value: string | number): string | number {
  return typeof value === 'string' ? value.replace(/(\/\/[^/:@]*:)[^/@]*@/, '$1***@') : value;
}

function readFileObject(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ValidationError(`config file ${file} cannot be read: ${(e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ValidationError(`config file ${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ValidationError(`config file ${file} must hold a JSON object`);
  return parsed as Record<string, unknown>;
}

/** Write the file whole or not at all (a temporary file renamed over it), readable by its owner only. */
function writeFileObject(file: string, o: Record<string, unknown>): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(o, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

export function registerConfig(program: Command): void {
  const config = program.command('config').description('show the settings and where each comes from; set one');
  config
    .command('show')
    .description('show every setting, its value and its source: default, config file or environment')
    .option('--json', 'print JSON: {file, settings: [{key, value, source, envName}], clusters: [names]}')
    .addHelpText(
      'after',
      `
Passwords in URLs are shown as ***.

Examples:
  jobmon config show
  jobmon config show --json | jq '.settings[] | select(.source != "default")'`,
    )
    .action((opts: { json?: boolean }) => {
      const file = configFile();
      const settings = describeConfig().map((s) => ({ ...s, value: masked(s.value) }));
      const clusters = Object.keys(loadConfig().clusters);
      if (opts.json) {
        console.log(jsonLine({ file, settings, clusters }, 2));
        return;
      }
      console.log(printable(`config file: ${file}`));
      const rows = settings.map((s) => [
        s.key,
        s.key === 'url' && s.value === '' ? '(none: an embedded server)' : String(s.value),
        s.source === 'env' ? `env ${s.envName}` : s.source,
      ]);
      for (const line of tableLines(['SETTING', 'VALUE', 'SOURCE'], rows)) console.log(line);
      if (clusters.length > 0) console.log(printable(`clusters in the config file: ${clusters.join(', ')}`));
    });
  config
    .command('set')
    .description('write one setting to the config file (checked before it is written)')
    .argument('<key>', 'the setting, dotted: logDir, http.timeoutMs (see `jobmon config show`)')
    .argument('<value>', 'its value; numbers for intervals (milliseconds) and sizes (bytes)')
    .addHelpText(
      'after',
      `
An environment variable (JOBMON_URL, …) still wins over the file; \`config show\` says which applies.

Examples:
  jobmon config set url http://jobmon.example.org:8070
  jobmon config set http.timeoutMs 60000`,
    )
    .action((key: string, value: string) => {
      const file = configFile();
      writeFileObject(file, withSetting(readFileObject(file), key, value));
      console.log(printable(`${key} = ${String(masked(value))} (in ${file})`));
      const now = describeConfig().find((s) => s.key === key);
      if (now?.source === 'env') console.log(printable(`note: ${now.envName} is set and wins over the file`));
    });
  config
    .command('unset')
    .description('remove one setting from the config file: back to its default')
    .argument('<key>', 'the setting, dotted')
    .addHelpText(
      'after',
      `
Examples:
  jobmon config unset http.timeoutMs`,
    )
    .action((key: string) => {
      const file = configFile();
      writeFileObject(file, withSetting(readFileObject(file), key, undefined));
      const now = describeConfig().find((s) => s.key === key)!;
      console.log(printable(`${key} removed from ${file}; now ${String(masked(now.value))} (${now.source})`));
    });
}
