import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** The 7 text columns of the load benchmarks' orders CSV. */
export const COLUMNS = ['order_id', 'customer', 'status', 'city', 'sku', 'amount', 'ordered_at'];
const STATUSES = ['completed', 'shipped', 'placed', 'returned', 'pending'];
const CITIES = ['Lyon', 'Porto', 'Oslo', 'Riga', 'Turin', 'Ghent', 'Cork'];

/** 7 text columns, ~50 bytes a row (2 M rows ≈ 100 MB), streamed to disk. */
export async function generateCsv(path: string, rows: number): Promise<void> {
  async function* lines() {
    yield `${COLUMNS.join(',')}\n`;
    let batch = '';
    for (let i = 1; i <= rows; i++) {
      const ts = `2024-01-${String((i % 28) + 1).padStart(2, '0')}`;
      batch += `${i},c${(i * 7919) % 100_000},${STATUSES[i % 5]},${CITIES[i % 7]},s${i % 997},${((i * 31) % 10_000) / 100},${ts}\n`;
      if (batch.length > 1 << 16) {
        yield batch;
        batch = '';
      }
    }
    yield batch;
  }
  await pipeline(Readable.from(lines()), createWriteStream(path));
}
