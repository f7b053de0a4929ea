// Kafka's offset checkpoint files (`recovery-point-offset-checkpoint`, `log-start-offset-checkpoint`):
//   line 1: version (0) · line 2: entry count · then `topic partition offset` per line.
// Written atomically (temp file, fsync, rename, fsync directory) so a crash leaves the old or the
// new file, never a torn one.
import fs from 'node:fs/promises';
import { GodelError } from '../errors.js';
import { topicPartitionKey, type TopicPartition } from './log-file-utils.js';
import { writeFileAtomic } from './fs-utils.js';

const VERSION = 0;

export type OffsetMap = Map<string, { tp: TopicPartition; offset: bigint }>;

export async function writeCheckpoint(file: string, entries: Iterable<{ tp: TopicPartition; offset: bigint }>): Promise<void> {
  const lines: string[] = [];
  for (const { tp, offset } of entries) lines.push(`${tp.topic} ${tp.partition} ${offset}`);
  const text = `${VERSION}\n${lines.length}\n${lines.join('\n')}${lines.length > 0 ? '\n' : ''}`;
  await writeFileAtomic(file, text);
}

/** Reads a checkpoint; a missing file is empty, a malformed one is an error naming the line. */
export async function readCheckpoint(file: string): Promise<OffsetMap> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err;
  }
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const bad = (why: string): GodelError => new GodelError('STORAGE_ERROR', `malformed checkpoint ${file}: ${why}`);
  if (lines[0] !== String(VERSION)) throw bad(`unknown version "${lines[0] ?? ''}"`);
  const count = Number(lines[1]);
  if (!Number.isInteger(count) || count < 0 || count !== lines.length - 2) throw bad(`count "${lines[1] ?? ''}" does not match ${lines.length - 2} entries`);
  const result: OffsetMap = new Map();
  for (let i = 2; i < lines.length; i++) {
    const match = /^(\S+) (\d+) (-?\d+)$/.exec(lines[i]!);
    if (!match) throw bad(`line ${i + 1} is not "topic partition offset"`);
    const tp = { topic: match[1]!, partition: Number(match[2]) };
    result.set(topicPartitionKey(tp), { tp, offset: BigInt(match[3]!) });
  }
  return result;
}
