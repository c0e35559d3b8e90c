import { describe, expect, it } from 'vitest';
import { createDiagnosticSink } from '../../src/compile/diagnostics.js';

describe('createDiagnosticSink', () => {
  it('collects errors and warnings with their location; a node sink names its node and file', () => {
    const sink = createDiagnosticSink();
    sink.error('CYCLE', 'a -> b -> a', { node: 'a' });
    sink.at('orders', 'models/orders.sql').error('TEMPLATE_ERROR', 'unexpected }', 3);
    sink.at('stg').warning('CONFIG_ERROR', 'no .sql file');
    expect(sink.list).toEqual([
      { severity: 'error', code: 'CYCLE', message: 'a -> b -> a', node: 'a' },
      {
        severity: 'error',
        code: 'TEMPLATE_ERROR',
        message: 'unexpected }',
        node: 'orders',
        file: 'models/orders.sql',
        line: 3,
      },
      { severity: 'warning', code: 'CONFIG_ERROR', message: 'no .sql file', node: 'stg' },
    ]);
  });
});
