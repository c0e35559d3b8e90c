import type { Redactor } from './redact.js';

/** The error columns of a run or job row: `error_class`, `error_code`, `error_message`. */
export interface StoredError {
  errorClass: string | null;
  errorCode: string | null;
  errorMessage: string | null;
}

const MAX_MESSAGE_CHARS = 4000;

/**
 * What is stored about an error: its class name, its `code` when it is a string, and its message
 * redacted and capped. Pure.
 *
 * @example
 * storedError(new Error('token abc1234 rejected'), createRedactor(['abc1234']));
 * // { errorClass: 'Error', errorCode: null, errorMessage: 'token *** rejected' }
 */
export function storedError(error: unknown, redactor: Redactor): StoredError {
  if (error === undefined || error === null) return { errorClass: null, errorCode: null, errorMessage: null };
  const e = error as { name?: unknown; code?: unknown; message?: unknown };
  return {
    errorClass: typeof e.name === 'string' ? e.name : 'Error',
    errorCode: typeof e.code === 'string' ? e.code : null,
    errorMessage: redactor
      .redact(typeof e.message === 'string' ? e.message : String(error))
      .slice(0, MAX_MESSAGE_CHARS),
  };
}
