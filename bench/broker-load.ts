// Drives load at a running broker, for profiling it (node --cpu-prof, strace -c): `producers`
// Gödel producers (bench/client.ts trials, each in its own process) write to one fresh
// single-partition topic at once, then one consumer reads everything back. Prints records/s and the
// load average.
//
//   node --import tsx bench/broker-load.ts --brokers 127.0.0.1:9092 [--records 2000000]
//       [--producers 1] [--set flush.messages=1] [--skip-consume] [--topic T --skip-produce] [--keep] [--broker-pid PID (broker CPU per record)]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Godel } from '../ts/client/index.js';

const CLIENT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'client.ts');

interface Measurement { records: number; ms: number; perSecond: number; cpuMs: number }

function trial(args: string[]): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLIENT, '--child', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) reject(new Error(`trial ${args.join(' ')} exited with ${code}`));
      else resolve(JSON.parse(last) as Measurement);
    });
  });
}

/** CPU seconds (user + system, all threads) the process `pid` used so far, from /proc. */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function brokerCost(pid: number | undefined, cpu0: number, records: number): string {
  if (pid === undefined) return '';
  const cpu = cpuSeconds(pid) - cpu0;
  return `; broker CPU ${cpu.toFixed(2)} s = ${(cpu * 1e6 / records).toFixed(2)} us/record`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (flag: string, fallback: string): string => {
    const at = argv.indexOf(flag);
    return at >= 0 ? argv[at + 1]! : fallback;
  };
  const brokers = opt('--brokers', '127.0.0.1:9092');
  const records = Number(opt('--records', '2000000'));
  const warmup = Number(opt('--warmup', '200000'));
  const producers = Number(opt('--producers', '1'));
  const pid = argv.includes('--broker-pid') ? Number(opt('--broker-pid', '')) : undefined;
  const sets = argv.flatMap((a, i) => (a === '--set' ? [argv[i + 1]!] : []));
  const given = argv.includes('--topic') ? opt('--topic', '') : undefined;
  const topic = given ?? `load-${Date.now()}`;
  const admin = new Godel({ brokers: [brokers] }).admin();
  const configs = Object.fromEntries(sets.map((s) => s.split('=') as [string, string]));
  const existing = given !== undefined && (await admin.listTopics()).includes(given);
  if (!existing) await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: configs }] });
  console.log(`load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; ${producers} producer(s) x ${records} records of 100 B to ${topic} ${sets.join(' ')}`);
  let cpu0 = cpuSeconds(pid);
  if (!argv.includes('--skip-produce')) await produce();
  async function produce(): Promise<void> {
  const t0 = performance.now();
  const produced = await Promise.all(Array.from({ length: producers }, () =>
    trial(['produce', 'godel', brokers, topic, String(records), String(warmup), '1000', '8'])));
  const wall = (performance.now() - t0) / 1000;
  const each = produced.map((m) => Math.round(m.perSecond));
  const sum = each.reduce((a, b) => a + b, 0);
  console.log(`produce: ${sum.toLocaleString('en-US')} records/s (sum of ${each.join(', ')}; ${wall.toFixed(1)} s wall incl. start-up), load ${os.loadavg()[0]!.toFixed(2)}${brokerCost(pid, cpu0, producers * (records + warmup))}`);
  }
  if (!argv.includes('--skip-consume')) {
    const total = producers * (records + warmup);
    cpu0 = cpuSeconds(pid);
    const consumed = await trial(['consume', 'godel', brokers, topic, String(total), '0', '1000', '8']);
    console.log(`consume: ${Math.round(consumed.perSecond).toLocaleString('en-US')} records/s (client CPU ${(consumed.cpuMs / consumed.ms).toFixed(2)} s/s), load ${os.loadavg()[0]!.toFixed(2)}${brokerCost(pid, cpu0, total)}`);
  }
  if (!argv.includes('--keep')) await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
