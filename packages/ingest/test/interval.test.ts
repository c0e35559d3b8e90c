import { describe, expect, it } from 'vitest';
import { dailyInterval, IngestError, partitionPrefix, renderLocation } from '../src/index.js';

describe('dailyInterval', () => {
  it('is [ds, ds+1) across month, year and leap-day boundaries', () => {
    expect(dailyInterval('2024-01-31')).toEqual({ start: '2024-01-31', end: '2024-02-01' });
    expect(dailyInterval('2024-02-28')).toEqual({ start: '2024-02-28', end: '2024-02-29' });
    expect(dailyInterval('2023-12-31')).toEqual({ start: '2023-12-31', end: '2024-01-01' });
  });

  it('rejects dates that do not exist or are not YYYY-MM-DD', () => {
    for (const bad of ['2023-02-29', '2024-13-01', '2024-1-1', '20240101', '']) {
      expect(() => dailyInterval(bad)).toThrow(expect.objectContaining({ code: 'INVALID_INTERVAL' }));
    }
  });
});

describe('renderLocation', () => {
  const interval = dailyInterval('2024-03-09');
  it('fills every known placeholder, with or without spaces', () => {
    expect(
      renderLocation(
        'x/{{ ds }}/{{ds_nodash}}/{{  data_interval_start }}/{{ data_interval_end }}/{{ next_ds }}.csv',
        interval,
      ),
    ).toBe('x/2024-03-09/20240309/2024-03-09/2024-03-10/2024-03-10.csv');
  });

  it('an unknown placeholder → TEMPLATE naming it', () => {
    const error = (() => {
      try {
        renderLocation('x_{{ prev_ds }}.csv', interval);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(IngestError);
    expect(error).toMatchObject({ code: 'TEMPLATE' });
    expect((error as Error).message).toContain('prev_ds');
  });

  it('an unbalanced placeholder → TEMPLATE', () => {
    expect(() => renderLocation('x_{{ ds.csv', interval)).toThrow(
      expect.objectContaining({ code: 'TEMPLATE' }),
    );
  });

  it('leaves a template without placeholders unchanged', () => {
    expect(renderLocation('s3://b/k.csv', interval)).toBe('s3://b/k.csv');
  });
});

describe('partitionPrefix', () => {
  it('is <source>/dt=<ds>/', () => {
    expect(partitionPrefix('orders', dailyInterval('2024-01-02'))).toBe('orders/dt=2024-01-02/');
  });
  it('rejects source names that are not one safe path segment', () => {
    for (const bad of ['', '../x', 'a/b', 'a b']) {
      expect(() => partitionPrefix(bad, dailyInterval('2024-01-02'))).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTIONS' }),
      );
    }
  });
});
