// The end-to-end benchmark suite (npm run bench) must not rot unnoticed: its smoke mode runs
// every part of it against both Gödel engines — the broker compiled and started by the suite,
// Kafka's perf tools (jars from the suite's cache, fetched by scripts/install-interop-deps.sh),
// Gödel's client for throughput and fixed-rate latency, kcat — and must write the JSON, the
// markdown table and an SVG chart per workload, with positive throughputs for every pair.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import type { ResultRow } from '../../bench/suite/types.js';
import { REPO_ROOT } from './helpers.js';

const DEADLINE_MS = 300_000;
let outDir: string | undefined;

afterAll(async () => {
  if (outDir) await fs.rm(outDir, { recursive: true, force: true });
});

function runSuite(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/suite/run.ts', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    for (const stream of [child.stdout, child.stderr]) stream.setEncoding('utf8').on('data', (s: string) => (output += s));
    const timer = setTimeout(() => child.kill('SIGTERM'), DEADLINE_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

test('npm run bench -- --smoke writes a table, JSON and SVG charts with positive numbers for both engines', async () => {
  outDir = await fs.mkdtemp(path.join(os.tmpdir(), 'godel-bench-smoke-'));
  const { code, output } = await runSuite(['--smoke', '--only', 'godel-native,godel-ts', '--out', outDir]);
  expect(code, output).toBe(0);
  expect(output, output).not.toMatch(/FAILED|not run|failed to start/);

  const report = JSON.parse(await fs.readFile(path.join(outDir, 'suite.json'), 'utf8')) as {
    rows: ResultRow[]; systems: Array<{ id: string; startupMs: number[]; errors: string[] }>;
  };
  for (const system of ['godel-native', 'godel-ts']) {
    const summary = report.systems.find((s) => s.id === system);
    expect(summary?.errors, system).toEqual([]);
    expect(summary?.startupMs.length, system).toBeGreaterThan(0);
    const rows = report.rows.filter((r) => r.system === system);
    const pairs = rows.map((r) => `${r.workload} ${r.generator}`).sort();
    expect(pairs, system).toEqual([
      'consume-100B-p1 godel-client', 'consume-100B-p1 kafka-perf', 'consume-100B-p1 kcat',
      'latency-1KiB-p1-10MBps godel-client',
      'produce-100B-p1-acks1 godel-client', 'produce-100B-p1-acks1 kafka-perf', 'produce-100B-p1-acks1 kcat',
    ]);
    for (const row of rows) {
      expect(row.median.recordsPerSecond, `${system} ${row.workload} ${row.generator}`).toBeGreaterThan(0);
      expect(row.brokerCpuSeconds).toBeGreaterThanOrEqual(0);
      expect(row.brokerPeakRssBytes).toBeGreaterThan(10 * 2 ** 20);
      if (row.workload.startsWith('latency')) {
        expect(row.median.latency?.p50Ms).toBeGreaterThan(0);
        expect(row.median.latency!.p999Ms).toBeGreaterThanOrEqual(row.median.latency!.p99Ms);
      }
    }
  }
  for (const workload of ['produce-100B-p1-acks1', 'consume-100B-p1', 'latency-1KiB-p1-10MBps']) {
    const svg = await fs.readFile(path.join(outDir, `suite-${workload}.svg`), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain(workload);
    expect(svg).toContain('godel-native');
  }
  const table = await fs.readFile(path.join(outDir, 'suite.md'), 'utf8');
  expect(table).toContain('| produce-100B-p1-acks1 | godel-native | kafka-perf |');
  expect(table).toContain('| target | result | measured |');
});
