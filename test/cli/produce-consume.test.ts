// `godel produce` and `godel consume` against a real broker process: lines in (stdin or a file) with
// keys, headers, partitions, acks and compression; records out as values, key+value or JSON, from
// the beginning, an offset or a time; a group member that commits what it printed; follow mode
// until Ctrl-C; --max-messages and --timeout for scripts.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Godel, partitionForKey } from '../../ts/client/index.js';
import { startBroker, waitFor, type BrokerProcess } from '../helpers/broker.js';
import { Background, expectOneLineError, expectSuccess, godel, parseTable } from './godel.js';

interface JsonRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string | null | Array<string | null>>;
}

function jsonLines(stdout: string): JsonRecord[] {
  return stdout.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as JsonRecord);
}

describe('godel produce and consume', { timeout: 180_000 }, () => {
  let broker: BrokerProcess;
  let b: string[];
  let dir: string;

  beforeAll(async () => {
    broker = await startBroker({ set: { 'group.initial.rebalance.delay.ms': '0' } });
    b = ['-b', broker.address];
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'godel-cli-produce-'));
    const created = await Promise.all([
      godel(['topics', 'create', 'lines', '-p', '3', ...b]),
      godel(['topics', 'create', 'file', '-p', '1', ...b]),
      godel(['topics', 'create', 'follow', '-p', '2', ...b]),
    ]);
    created.forEach(expectSuccess);
  }, 120_000);

  afterAll(async () => {
    await broker?.stop();
    if (dir !== undefined) await fs.rm(dir, { recursive: true, force: true });
  });

  it('produces stdin lines with keys and headers (keys pick partitions as Kafka does), then reads them back as JSON', async () => {
    const input = ['alice:1', 'bob:2', 'carol:3', 'alice:4', 'dave:has:colons', 'erin:'].join('\n') + '\n';
    const produced = await godel(['produce', 'lines', '--key-separator', ':', '--header', 'source=cli', '-H', 'trace=', '--acks', '1', '--compression', 'gzip', ...b], { input });
    expectSuccess(produced);
    expect(produced.stderr).toBe('');
    expect(produced.stdout).toMatch(/^produced 6 records to "lines"\n/);
    const rows = parseTable(produced.stdout);
    expect(rows.reduce((n, r) => n + Number(r.RECORDS), 0)).toBe(6);
    for (const r of rows) expect(Number(r['LAST-OFFSET']) - Number(r['FIRST-OFFSET'])).toBe(Number(r.RECORDS) - 1);

    const consumed = await godel(['consume', 'lines', '--from-beginning', '--max-messages', '6', '--format', 'json', ...b]);
    expectSuccess(consumed);
    const records = jsonLines(consumed.stdout);
    expect(records).toHaveLength(6);
    const byValue = new Map(records.map((r) => [r.value, r]));
    expect(byValue.get('has:colons')).toMatchObject({ topic: 'lines', key: 'dave', headers: { source: 'cli', trace: '' } });
    expect(byValue.get('')?.key).toBe('erin');
    // The same key, the same partition (murmur2), in order.
    expect(byValue.get('1')!.partition).toBe(byValue.get('4')!.partition);
    expect(byValue.get('4')!.offset).toBeGreaterThan(byValue.get('1')!.offset);
    for (const r of records) expect(Math.abs(r.timestamp - Date.now())).toBeLessThan(600_000);
    // Kafka's partition for each key (murmur2), as the client computes it.
    for (const r of records) expect(r.partition).toBe(partitionForKey(Buffer.from(r.key!), 3));
  });

  it('produces a file to one partition (JSON summary, no progress bar off a terminal) and reads it as kv, from an offset and from a time', async () => {
    const file = path.join(dir, 'records.txt');
    const lines = Array.from({ length: 500 }, (_, i) => `k${i}=value ${i}`);
    await fs.writeFile(file, lines.join('\n') + '\n');
    const before = Date.now();
    const produced = await godel(['produce', 'file', '--file', file, '-k', '=', '--partition', '0', '--json', ...b]);
    expectSuccess(produced);
    expect(produced.stderr).toBe('');
    expect(JSON.parse(produced.stdout)).toEqual({ topic: 'file', records: 500, partitions: [{ partition: 0, records: 500, firstOffset: 0, lastOffset: 499 }] });

    const later = Date.now() + 1;
    await godel(['produce', 'file', '-p', '0', ...b], { input: 'late one\nlate two\n' }).then(expectSuccess);
    const [kv, fromOffset, fromTime, fromIso] = await Promise.all([
      godel(['consume', 'file', '--from-beginning', '-n', '3', '--format', 'kv', '--key-separator', ' => ', ...b]),
      godel(['consume', 'file', '--offset', '498', '--partition', '0', '--max-messages', '3', ...b]),
      godel(['consume', 'file', '--from-time', String(later), '--max-messages', '2', '--json', ...b]),
      godel(['consume', 'file', '--from-time', new Date(before - 60_000).toISOString(), '--max-messages', '1', ...b]),
    ]);
    expectSuccess(kv);
    expect(kv.stdout).toBe('k0 => value 0\nk1 => value 1\nk2 => value 2\n');
    expectSuccess(fromOffset);
    expect(fromOffset.stdout).toBe('value 498\nvalue 499\nlate one\n');
    expectSuccess(fromTime);
    expect(jsonLines(fromTime.stdout).map((r) => [r.offset, r.key, r.value])).toEqual([[500, null, 'late one'], [501, null, 'late two']]);
    expectSuccess(fromIso);
    expect(fromIso.stdout).toBe('value 0\n');
  });

  it('consumes as a group member: starts at the committed offsets and commits exactly what it printed', async () => {
    const first = await godel(['consume', 'file', '--group', 'readers', '--from-beginning', '--max-messages', '200', ...b]);
    expectSuccess(first);
    expect(first.stdout.split('\n').filter((l) => l !== '')).toEqual(Array.from({ length: 200 }, (_, i) => `value ${i}`));
    const second = await godel(['consume', 'file', '--group', 'readers', '--max-messages', '2', '--format', 'json', ...b]);
    expectSuccess(second);
    expect(jsonLines(second.stdout).map((r) => r.offset)).toEqual([200, 201]);
    const admin = new Godel({ brokers: [broker.address] }).admin();
    try {
      expect(await admin.fetchOffsets({ groupId: 'readers' })).toEqual([expect.objectContaining({ topic: 'file', partition: 0, offset: 202n })]);
      expect((await admin.describeGroups(['readers']))[0]!.members).toEqual([]);
    } finally {
      await admin.disconnect();
    }
  });

  it('follows a topic until Ctrl-C, printing records produced meanwhile, and exits 0', async () => {
    // --from-beginning: the records produced below are read even if they beat the member's first offset lookup.
    const follower = new Background(['consume', 'follow', '--group', 'followers', '--from-beginning', '--format', 'kv', ...b]);
    const admin = new Godel({ brokers: [broker.address] }).admin();
    try {
      // The member has joined once the group is Stable with both partitions assigned.
      await waitFor(async () => {
        const [g] = await admin.describeGroups(['followers']);
        return g!.state === 'Stable' && g!.members.length === 1 && g!.members[0]!.assignment.length === 2;
      }, 'the follower to join its group', 90_000, 200);
      await godel(['produce', 'follow', '-k', ',', ...b], { input: 'a,1\nb,2\nc,3\n' }).then(expectSuccess);
      await follower.waitForOutput((out) => out.split('\n').filter((l) => l !== '').length >= 3, 'three records');
      const run = await follower.interrupt();
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toBe('');
      expect(run.stdout.trim().split('\n').sort()).toEqual(['a\t1', 'b\t2', 'c\t3']);
      // It left the group and committed what it printed: no lag.
      const [g] = await admin.describeGroups(['followers']);
      expect(g).toMatchObject({ state: 'Empty', members: [] });
      expect((await admin.groupLag({ groupId: 'followers', topic: 'follow' })).map((l) => l.lag)).toEqual([0n, 0n]);
    } finally {
      follower.kill();
      await admin.disconnect();
    }
  });

  it('stops after --timeout without records: success in follow mode, an error when --max-messages is not reached', async () => {
    const [idle, short] = await Promise.all([
      godel(['consume', 'follow', '--timeout', '1500ms', ...b]),
      godel(['consume', 'file', '--offset', '500', '--max-messages', '5', '--timeout', '4s', ...b]),
    ]);
    expectSuccess(idle);
    expect(idle.stdout).toBe('');
    expect(short.stdout).toBe('late one\nlate two\n');
    expect(short.code).toBe(1);
    expect(short.stderr).toBe('godel: timed out: no record for 4s after 2 records of the 5 asked for\n');
  });

  it('refuses bad arguments and unknown topics or partitions in one line', async () => {
    const runs = await Promise.all([
      godel(['produce', 'lines', '--partition', 'one', ...b], { input: 'x\n' }),
      godel(['produce', 'lines', '--compression', 'brotli', ...b], { input: 'x\n' }),
      godel(['produce', 'lines', '--header', 'novalue', ...b], { input: 'x\n' }),
      godel(['produce', 'lines', '-k', ':', ...b], { input: 'a:1\nno separator\n' }),
      godel(['produce', 'nope', ...b], { input: 'x\n' }),
      godel(['produce', 'lines', '-p', '7', ...b], { input: 'x\n' }),
      godel(['consume', 'lines', '--offset', '3', '--from-beginning', ...b]),
      godel(['consume', 'file', '--offset', '9999', ...b]),
    ]);
    expectOneLineError(runs[0]!, /--partition must be an integer >= 0, got "one"/);
    expectOneLineError(runs[1]!, /--compression must be one of none, gzip, snappy, lz4, zstd, got "brotli"/);
    expectOneLineError(runs[2]!, /--header expects KEY=VALUE, got "novalue"/);
    expectOneLineError(runs[3]!, /line 2 has no key separator ":"/);
    expectOneLineError(runs[4]!, /topic "nope" does not exist/);
    expectOneLineError(runs[5]!, /partition 7 of topic "lines" does not exist \(it has 3 partitions: 0-2\)/);
    expectOneLineError(runs[6]!, /--from-beginning and --offset cannot be used together/);
    expectOneLineError(runs[7]!, /--offset 9999 is outside partition 0 of "file" \(offsets 0 to 502\)/);
  });
});
