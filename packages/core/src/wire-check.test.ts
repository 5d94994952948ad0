import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors.js';
import * as wire from './wire.js';
import { assertWire } from './wire-check.js';

const task = {
  nodeHash: 'n'.repeat(16),
  taskArgsHash: 't'.repeat(16),
  templateVersionId: 1,
  nodeArgs: { loc: 1 },
  taskArgs: {},
  name: 'task_1',
  command: 'echo 1',
  maxAttempts: 3,
  cluster: 'local',
  resources: { memory: '4G', runtime: 3600 },
};

describe('assertWire', () => {
  it('accepts a body the server accepts', () => {
    expect(() => assertWire(wire.BindTask, task, "task 'task_1'")).not.toThrow();
  });

  it.each([
    ['a NUL in a name', { ...task, name: 'a\u0000' }, '/name must not contain NUL'],
    [
      'an unpaired surrogate in a node arg value',
      { ...task, nodeArgs: { loc: 'x\uD800' } },
      '/nodeArgs/loc must not contain NUL',
    ],
    ['a NUL in a node arg key', { ...task, nodeArgs: { 'l\u0000': 1 } }, '/nodeArgs key "l\\u0000"'],
    ['attempts out of range', { ...task, maxAttempts: 1001 }, '/maxAttempts'],
    ['an id past 2^53', { ...task, templateVersionId: 2 ** 53 }, '/templateVersionId'],
    ['nested resources', { ...task, resources: { memory: [[1]] } }, '/resources/memory'],
  ])('refuses %s, naming the field', (_label, body, field) => {
    expect(() => assertWire(wire.BindTask, body, "task 'task_1'")).toThrow(ValidationError);
    expect(() => assertWire(wire.BindTask, body, "task 'task_1'")).toThrow(field);
  });
});
