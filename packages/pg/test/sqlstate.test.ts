import { describe, expect, it } from 'vitest';
import {
  classifyPgError,
  isConnectionLost,
  isDataError,
  isRetryablePgError,
  sqlStateOf,
} from '../src/index.js';

const pgError = (code: string) => Object.assign(new Error(`server said ${code}`), { code });

describe('classifyPgError', () => {
  it.each([
    ['08006', 'connection', true, true],
    ['57P01', 'connection', true, true],
    ['57P03', 'connection', true, true],
    ['57014', 'canceled', true, false],
    ['55P03', 'lock', true, false],
    ['40001', 'conflict', true, false],
    ['40P01', 'conflict', true, false],
    ['53100', 'resources', true, false],
    ['53200', 'resources', true, false],
    ['53300', 'resources', true, false],
    ['28P01', 'authentication', false, false],
    ['3D000', 'authentication', false, false],
    ['22P02', 'data', false, false],
    ['23505', 'data', false, false],
    ['42P01', 'statement', false, false],
    ['XX000', 'other', false, false],
  ])('SQLSTATE %s is %s (retryable %s, connection lost %s)', (code, family, retryable, lost) => {
    expect(classifyPgError(pgError(code))).toEqual({
      family,
      retryable,
      connectionLost: lost,
      sqlState: code,
    });
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'])(
    'socket code %s is a lost, retryable connection',
    (code) => {
      expect(classifyPgError(pgError(code))).toEqual({
        family: 'connection',
        retryable: true,
        connectionLost: true,
      });
    },
  );

  it('recognises node-postgres connection-ended messages without a code', () => {
    expect(isConnectionLost(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(
      isConnectionLost(new Error('Client has encountered a connection error and is not queryable')),
    ).toBe(true);
  });

  it('an unknown error is neither retryable nor a lost connection', () => {
    expect(classifyPgError(new Error('boom'))).toEqual({
      family: 'other',
      retryable: false,
      connectionLost: false,
    });
    expect(classifyPgError(undefined)).toEqual({ family: 'other', retryable: false, connectionLost: false });
  });

  it('helpers agree with the table', () => {
    expect(isRetryablePgError(pgError('40P01'))).toBe(true);
    expect(isRetryablePgError(pgError('23505'))).toBe(false);
    expect(isDataError(pgError('22021'))).toBe(true);
    expect(isDataError(pgError('42601'))).toBe(false);
    expect(sqlStateOf(pgError('ECONNRESET'))).toBeUndefined();
    expect(sqlStateOf(pgError('23505'))).toBe('23505');
  });
});
