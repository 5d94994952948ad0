import { describe, expect, it } from 'vitest';
import {
  ERROR_CLASSES_BY_CODE,
  IllegalTransitionError,
  JobmonError,
  ValidationError,
  errorFromBody,
  isErrorBody,
} from './errors.js';

describe('errorFromBody', () => {
  const classes = [...ERROR_CLASSES_BY_CODE.entries()];

  it('knows every error class under a distinct JM_ code', () => {
    expect(classes.length).toBeGreaterThanOrEqual(14);
    for (const [code, Ctor] of classes) {
      expect(code).toMatch(/^JM_[A-Z_]+$/);
      expect(Ctor.code).toBe(code);
      expect(Ctor.status).toBeGreaterThanOrEqual(400);
    }
  });

  it.each(classes)('rebuilds %s as its own class with message, status and details', (code, Ctor) => {
    const original = new Ctor(`something about ${code}`, { id: 7, name: 'task_a' });
    const err = errorFromBody(original.toBody(), Ctor.status);
    expect(err).toBeInstanceOf(Ctor);
    expect(err).toBeInstanceOf(JobmonError);
    expect(err.constructor).toBe(Ctor);
    expect(err.name).toBe(Ctor.name);
    expect(err).toMatchObject({ code, status: Ctor.status, message: `something about ${code}` });
    expect(err.details).toEqual({ id: 7, name: 'task_a' });
  });

  it('defaults missing details to {}', () => {
    expect(errorFromBody({ code: 'JM_VALIDATION', message: 'm' }, 400).details).toEqual({});
  });

  it('turns an unknown code into a JobmonError carrying that code and the HTTP status', () => {
    const err = errorFromBody({ code: 'JM_FROM_THE_FUTURE', message: 'new server', details: { x: 1 } }, 418);
    expect(err.constructor).toBe(JobmonError);
    expect(err).toMatchObject({ code: 'JM_FROM_THE_FUTURE', status: 418, message: 'new server', details: { x: 1 } });
    expect(err.toBody()).toEqual({ code: 'JM_FROM_THE_FUTURE', message: 'new server', details: { x: 1 } });
  });
});

describe('error classes', () => {
  it('carry code, status, details and cause', () => {
    const cause = new Error('root');
    const err = new IllegalTransitionError('task 3 cannot move', { entity: 'task', id: 3 }, { cause });
    expect(err).toMatchObject({ name: 'IllegalTransitionError', code: 'JM_ILLEGAL_TRANSITION', status: 409 });
    expect(err.cause).toBe(cause);
    expect(err.toBody()).toEqual({
      code: 'JM_ILLEGAL_TRANSITION',
      message: 'task 3 cannot move',
      details: { entity: 'task', id: 3 },
    });
    expect(new ValidationError('bad')).toMatchObject({ code: 'JM_VALIDATION', status: 400, details: {} });
  });

  it('isErrorBody recognises {code, message} only', () => {
    expect(isErrorBody({ code: 'JM_X', message: 'm' })).toBe(true);
    expect(isErrorBody({ code: 'JM_X', message: 'm', details: {} })).toBe(true);
    for (const v of [null, undefined, 'JM_X', {}, { code: 'JM_X' }, { message: 'm' }, { code: 1, message: 'm' }]) {
      expect(isErrorBody(v), JSON.stringify(v)).toBe(false);
    }
  });
});
