// Captures request frames real clients send, for test/unit/protocol/captured-frames.test.ts: a TCP
// proxy in front of a broker records the first request of each (api key, version) a client sends
// and writes it to test/fixtures/frames/<client>/<Api>-v<version>.bin (the frame without its size
// prefix, so header + body). Produce frames are told apart by the compression of their first
// batch too: Produce-v7.bin (none), Produce-v7-gzip.bin, and so on.
//
// Usage: node --import tsx scripts/capture-frames.ts <client-name> [--set key=value …] -- <command …>
// It starts a broker of its own from source (temporary data directory, --set passed on) that
// advertises the proxy's address, so every connection a client opens goes through the proxy. The
// command runs with GODEL_CAPTURE_BOOTSTRAP=<proxy host:port> in its environment and must use it as
// bootstrap. The client's directory is emptied first: one command captures one client's frames.
// The drivers in scripts/capture/ are such commands; test/fixtures/frames/README.md lists the runs.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { apiName } from '../ts/protocol/api-keys.js';
import { API_CODECS } from '../ts/protocol/generated/index.js';
import { decodeRequestHeader } from '../ts/protocol/headers.js';
import { Reader } from '../ts/protocol/reader.js';

const CODECS = ['', '-gzip', '-snappy', '-lz4', '-zstd'];

/** The file name (without .bin) a request frame is saved under. */
function frameKey(frame: Buffer): string {
  const apiKey = frame.readInt16BE(0);
  const version = frame.readInt16BE(2);
  let key = `${apiName(apiKey)}-v${version}`;
  if (apiKey === 0) {
    try {
      const r = new Reader(frame);
      decodeRequestHeader(r);
      const body = API_CODECS[0].request.decode(r, version);
      const records = body.topicData[0]?.partitionData[0]?.records;
      if (records && records.length >= 23) key += CODECS[records.readInt16BE(21) & 0x07] ?? `-codec${records.readInt16BE(21) & 0x07}`;
    } catch {
      key += '-undecodable'; // kept all the same: the test will say why
    }
  }
  return key;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const client = args.shift();
  const set: string[] = [];
  while (args[0] === '--set' && args[1] !== undefined) set.push(args.shift()!, args.shift()!);
  const separator = args.shift();
  const command = args;
  if (client === undefined || !/^[\w.-]+$/.test(client) || separator !== '--' || command.length === 0) {
    throw new Error('usage: capture-frames.ts <client-name> [--set key=value …] -- <command …>');
  }
  const upstream = { host: '127.0.0.1', port: 0 };
  const outDir = path.join('test', 'fixtures', 'frames', client);
  await fs.mkdir(outDir, { recursive: true });
  for (const name of await fs.readdir(outDir)) {
    if (name.endsWith('.bin')) await fs.rm(path.join(outDir, name));
  }
  const seen = new Set<string>();
  const writes: Promise<void>[] = [];
  const server = net.createServer((downstream) => {
    const up = net.connect(upstream);
    let buffered = Buffer.alloc(0);
    downstream.on('data', (chunk: Buffer) => {
      up.write(chunk);
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
        const frame = Buffer.from(buffered.subarray(4, 4 + buffered.readInt32BE(0)));
        buffered = buffered.subarray(4 + frame.length);
        if (frame.length < 4) continue;
        const key = frameKey(frame);
        if (!seen.has(key)) {
          seen.add(key);
          writes.push(fs.writeFile(path.join(outDir, `${key}.bin`), frame));
        }
      }
    });
    up.on('data', (chunk: Buffer) => downstream.write(chunk));
    up.on('close', () => downstream.destroy());
    downstream.on('close', () => up.destroy());
    up.on('error', () => downstream.destroy());
    downstream.on('error', () => up.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'godel-capture-'));
  const broker = spawn(process.execPath, ['--import', 'tsx', 'ts/cli/run.ts', 'serve', '--listen', '127.0.0.1:0',
    '--advertise', `127.0.0.1:${port}`, '--data-dir', dataDir, ...set], { stdio: ['ignore', 'pipe', 'inherit'] });
  const brokerExited = new Promise<void>((resolve) => broker.on('exit', () => resolve()));
  upstream.port = await new Promise<number>((resolve, reject) => {
    let out = '';
    broker.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /"listen":"127\.0\.0\.1:(\d+)"/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    void brokerExited.then(() => reject(new Error('the broker exited before it started')));
  });
  broker.stdout.resume();
  const child = spawn(command[0]!, command.slice(1), {
    stdio: 'inherit', env: { ...process.env, GODEL_CAPTURE_BOOTSTRAP: `127.0.0.1:${port}` },
  });
  const code = await new Promise<number | null>((resolve) => {
    child.on('exit', resolve);
    child.on('error', (err) => {
      process.stderr.write(`capture-frames: ${command[0]}: ${err.message}\n`);
      resolve(null);
    });
  });
  server.close();
  broker.kill('SIGTERM');
  await brokerExited;
  await fs.rm(dataDir, { recursive: true, force: true });
  await Promise.all(writes);
  process.stdout.write(`captured ${seen.size} frames from ${client}: ${[...seen].sort().join(' ')}\n`);
  process.exitCode = code ?? 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`capture-frames: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
