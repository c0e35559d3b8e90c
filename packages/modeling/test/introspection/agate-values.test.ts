import { describe, expect, it } from 'vitest';
import { AgateTable } from '../../src/introspection/agate-table.js';
import { castFor, parseDateTime, parseInterval } from '../../src/introspection/agate-values.js';
import { PyDecimal } from '../../src/jinja/py-decimal.js';
import { JinjaEnvironment } from '../../src/jinja.js';

function render(template: string, context: Record<string, unknown> = {}): string {
  const jinja = new JinjaEnvironment({ schema: 'analytics' });
  return jinja.env.renderString(template, 't.sql', context);
}

// What the PostgreSQL introspector hands over: ints as numbers, numeric / dates / intervals as text.
const table = AgateTable.from({
  columns: [
    { name: 'd', type: 'date' },
    { name: 'ts', type: 'timestamp without time zone' },
    { name: 'tstz', type: 'timestamp with time zone' },
    { name: 'amount', type: 'numeric' },
    { name: 'ratio', type: 'double precision' },
    { name: 'n', type: 'integer' },
    { name: 'ok', type: 'boolean' },
    { name: 'span', type: 'interval' },
  ],
  rows: [
    [
      '2024-01-31',
      '2024-01-31 10:00:00',
      '2024-01-31 10:00:00.25+05:30',
      '2.50',
      2,
      7,
      true,
      '1 day 02:00:00',
    ],
    [null, 'infinity', null, '-0.05', 0.5, null, false, '3 mons -00:00:01'],
  ],
});

describe('agate table values (what dbt holds: date, datetime, Decimal, timedelta)', () => {
  it('gives dates and datetimes with attributes, strftime, arithmetic and comparison', () => {
    const t = { t: table };
    expect(render('{{ t.rows[0][0].year }}-{{ t.rows[0].d.month }}-{{ t.rows[0]["d"].day }}', t)).toBe(
      '2024-1-31',
    );
    expect(render("{{ t.rows[0].d.strftime('%Y-%m') }} {{ t.rows[0].ts.strftime('%H:%M') }}", t)).toBe(
      '2024-01 10:00',
    );
    expect(render('{{ t.rows[0].d + modules.datetime.timedelta(days=1) }}', t)).toBe('2024-02-01');
    expect(render('{{ t.rows[0].ts - modules.datetime.timedelta(hours=12) }}', t)).toBe(
      '2024-01-30 22:00:00',
    );
    expect(render('{{ t.rows[0].d }} | {{ t.rows[0].ts }} | {{ t.rows[0].tstz }}', t)).toBe(
      '2024-01-31 | 2024-01-31 10:00:00 | 2024-01-31 10:00:00.250000+05:30',
    );
    expect(
      render(
        '{{ t.rows[0].d > modules.datetime.date(2024, 1, 1) }} {{ t.rows[0].d == modules.datetime.date(2024, 1, 31) }} {{ t.rows[0].d.isoformat() }}',
        t,
      ),
    ).toBe('True True 2024-01-31');
    expect(render("{{ t.rows[0].tstz.astimezone(modules.pytz.timezone('UTC')) }}", t)).toBe(
      '2024-01-31 04:30:00.250000+00:00',
    );
    expect(render('{{ t.rows[1].d }} {{ t.rows[1].ts }}', t)).toBe('None infinity');
  });

  it('gives numerics as Decimals printed as written, exact in + - *, ints as ints, booleans as booleans', () => {
    const t = { t: table };
    expect(render('{{ t.rows[0].amount }} {{ t.rows[0].amount + 1 }} {{ t.rows[0].amount * 2 }}', t)).toBe(
      '2.50 3.50 5.00',
    );
    expect(
      render('{{ t.rows[1].amount }} {{ t.rows[0].amount - t.rows[1].amount }} {{ -t.rows[0].amount }}', t),
    ).toBe('-0.05 2.55 -2.50');
    expect(
      render('{{ t.rows[0].ratio }} {{ t.rows[1].ratio }} {{ t.rows[0].n }} {{ t.rows[0].n + 1 }}', t),
    ).toBe('2.0 0.5 7 8');
    expect(
      render('{{ t.rows[0].amount > 2 }} {{ t.rows[0].amount == 2.5 }} {{ t.rows[0].amount | int }}', t),
    ).toBe('True True 2');
    expect(
      render('{{ t.rows[0].ok }} {{ t.rows[1].ok }} {% if t.rows[1].ok %}x{% else %}y{% endif %}', t),
    ).toBe('True False y');
    expect(
      render('{{ t.columns[3].data_type }} {{ t.columns[5].data_type }} {{ t.columns[0].data_type }}', t),
    ).toBe('<agate.Number> <agate.Integer> <agate.Date>');
  });

  it('gives intervals as timedeltas (months as 30 days, as psycopg2 counts them)', () => {
    expect(render('{{ t.rows[0].span }} {{ t.rows[0].span.total_seconds() }}', { t: table })).toBe(
      '1 day, 2:00:00 93600.0',
    );
    expect(String(parseInterval('3 mons -00:00:01'))).toBe('89 days, 23:59:59');
    expect(String(parseInterval('-1 days +02:00:00'))).toBe('-1 day, 2:00:00');
    expect(parseInterval('P1D')).toBe('P1D');
  });

  it('values_distinct compares dates and Decimals by value, as Python does', () => {
    const days = AgateTable.from({
      columns: [
        { name: 'd', type: 'date' },
        { name: 'n', type: 'numeric' },
      ],
      rows: [
        ['2024-01-31', '1.50'],
        ['2024-01-31', '1.50'],
        ['2024-02-01', '1.5'],
      ],
    });
    expect(
      render(
        '{{ t.columns[0].values_distinct() | join(",") }} {{ t.columns[1].values_distinct() | length }}',
        {
          t: days,
        },
      ),
    ).toBe('2024-01-31,2024-02-01 1');
  });

  it('leaves text it does not recognise as PostgreSQL printed it, and None as None', () => {
    expect(parseDateTime('2024-01-31 10:00:00 BC')).toBe('2024-01-31 10:00:00 BC');
    expect(castFor('Date')('infinity')).toBe('infinity');
    expect(castFor('Date')(null)).toBeNull();
    expect(castFor('Number')('NaN')).toBe('NaN');
    expect(String(castFor('Date')('0044-03-15'))).toBe('0044-03-15');
    expect(String(castFor('Number')('12345678901234567890.5'))).toBe('12345678901234567890.5');
  });

  it('keeps Decimal arithmetic exact for big numbers and falls back to floats for division', () => {
    const big = PyDecimal.parse('12345678901234567890') as PyDecimal;
    expect(render('{{ x + 1 }} {{ x * x }} {{ y / 4 }}', { x: big, y: PyDecimal.parse('10') })).toBe(
      '12345678901234567891 152415787532388367501905199875019052100 2.5',
    );
  });
});
