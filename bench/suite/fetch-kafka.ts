// Fetches Apache Kafka's jars into the suite's cache ahead of time (install scripts run this, so
// the first `npm run bench` or the interop smoke test does not wait for Maven Central):
//   node --import tsx bench/suite/fetch-kafka.ts
import os from 'node:os';
import path from 'node:path';
import { kafkaDist } from './kafka-dist.js';

const cacheDir = process.env.GODEL_BENCH_CACHE ?? path.join(os.homedir(), '.cache', 'godel-bench');
const dist = await kafkaDist(cacheDir, (line) => console.log(line));
console.log(`Apache Kafka ${dist.version} jars in ${dist.dir}`);
