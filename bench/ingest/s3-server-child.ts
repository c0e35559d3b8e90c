/**
 * Runs s3rver (via @dataflow/testkit) in its own process for ingest-bench.ts, so the benchmark's
 * RSS measures the ingest pipeline and not the server. Prints the handle as one JSON line and
 * stops when stdin closes.
 */
import { startS3Server } from '@dataflow/testkit';

const server = await startS3Server({ bucket: 'bench' });
process.stdout.write(`${JSON.stringify({ ...server, stop: undefined })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void server.stop().finally(() => process.exit(0));
});
