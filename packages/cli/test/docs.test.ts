// The CLI's documentation renders as written: every code fence in README.md, CHANGELOG.md and
// docs/*.md is closed, no heading sits inside a fence (a lost closing fence turns the rest of the
// page into code, as it once did to docs/cli.md from "Infrastructure failures per node" on), and
// every link to a heading (`file.md#anchor`, `#anchor`) names a heading that exists.

import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './cli.js';

const FILES = [
  join(ROOT, 'README.md'),
  join(ROOT, 'CHANGELOG.md'),
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(ROOT, 'docs', f)),
];

interface Page {
  /** Problems with the page's fences, each naming its line. */
  problems: string[];
  /** GitHub's anchors of the page's headings (outside fences). */
  anchors: Set<string>;
  /** Links to headings, outside fences: [target file or '', anchor, line]. */
  links: [string, string, number][];
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to dashes. */
export function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** CommonMark's fences: an opening run of 3+ backticks or tildes; a bare run as long closes it. */
export function readPage(text: string): Page {
  const problems: string[] = [];
  const anchors = new Set<string>();
  const links: [string, string, number][] = [];
  let open: { fence: string; line: number } | null = null;
  text.split('\n').forEach((line, i) => {
    const n = i + 1;
    const fence = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(line);
    if (open) {
      if (fence && fence[1]![0] === open.fence[0] && fence[1]!.length >= open.fence.length && fence[2]!.trim() === '')
        open = null;
      else if (/^#{2,6} \S/.test(line))
        problems.push(`line ${n}: heading inside the code block opened on line ${open.line}: ${line}`);
      return;
    }
    if (fence) {
      open = { fence: fence[1]!, line: n };
      return;
    }
    const h = /^#{1,6} (.*)$/.exec(line);
    if (h) anchors.add(anchorOf(h[1]!));
    for (const m of line.matchAll(/\]\(([^)#\s]*)#([^)\s]+)\)/g)) links.push([m[1]!, m[2]!, n]);
  });
  if (open !== null) problems.push(`line ${(open as { line: number }).line}: code block never closed`);
  return { problems, anchors, links };
}

describe('documentation', () => {
  it('finds an unclosed fence and a heading swallowed by one', () => {
    const broken = readPage('# A\n\n```\n$ jobmon nodes\n## Exit codes\n\ntext\n```\n\n## B\n\n```bash\nx\n');
    expect(broken.problems).toEqual([
      'line 5: heading inside the code block opened on line 3: ## Exit codes',
      'line 12: code block never closed',
    ]);
    expect([...broken.anchors]).toEqual(['a', 'b']);
    expect(anchorOf('GET /workflows/{id}/progress: counts')).toBe('get-workflowsidprogress-counts');
  });

  it('every page closes its code fences and every link to a heading finds it', () => {
    const pages = new Map(FILES.map((f) => [f, readPage(readFileSync(f, 'utf8'))]));
    const problems: string[] = [];
    for (const [file, page] of pages) {
      const name = relative(ROOT, file);
      for (const p of page.problems) problems.push(`${name} ${p}`);
      for (const [target, anchor, line] of page.links) {
        if (/^[a-z]+:/.test(target)) continue; // another site's page
        const path = target === '' ? file : join(dirname(file), target);
        const other = pages.get(path) ?? readPage(readFileSync(path, 'utf8'));
        if (!other.anchors.has(anchor)) problems.push(`${name} line ${line}: no heading for ${target}#${anchor}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
