// Apache Kafka's jars, fetched from Maven Central with Maven and cached between runs: the broker
// (org.apache.kafka:kafka_2.13), the perf tools (org.apache.kafka:kafka-tools, ProducerPerformance
// and ConsumerPerformance) and the log4j2 binding for SLF4J that Kafka's own distribution ships.
// A small pom in the cache directory lists them; `mvn dependency:copy-dependencies` copies every
// runtime jar into <cache>/kafka-<version>/jars, which becomes the class path 'jars/*'.
import fs from 'node:fs/promises';
import path from 'node:path';
import { exec, hasCommand } from './exec.js';

/** Kafka 4.x (KRaft only), run on the default Java 17. */
export const KAFKA_VERSION = '4.1.1';
const LOG4J_VERSION = '2.24.3';
const FETCH_TIMEOUT_MS = 15 * 60_000;

export interface KafkaDist {
  version: string;
  dir: string;
  /** The `-cp` argument: every jar of the distribution. */
  classpath: string;
  /** JVM options every Kafka process gets: the log4j2 configuration (warnings only). */
  jvmOptions: string[];
}

const POM = `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>godel.bench</groupId>
  <artifactId>kafka-dist</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>${LOG4J_VERSION}</version></dependency>
  </dependencies>
</project>
`;

const LOG4J2 = `status = warn
appender.console.type = Console
appender.console.name = STDERR
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = STDERR
`;

let pending: Promise<KafkaDist> | undefined;

/** Why Kafka cannot run here (no java or mvn), or null. */
export async function kafkaToolsMissing(): Promise<string | null> {
  for (const tool of ['java', 'mvn']) {
    if (!(await hasCommand(tool))) return `${tool} not found (bash scripts/install-bench-deps.sh)`;
  }
  return null;
}

/** The cached distribution, fetched on first use (once per process). */
export function kafkaDist(cacheDir: string, log: (line: string) => void): Promise<KafkaDist> {
  pending ??= fetchDist(cacheDir, log);
  return pending;
}

async function fetchDist(cacheDir: string, log: (line: string) => void): Promise<KafkaDist> {
  const dir = path.join(cacheDir, `kafka-${KAFKA_VERSION}`);
  const jars = path.join(dir, 'jars');
  const marker = path.join(dir, 'complete');
  const log4j = path.join(dir, 'log4j2.properties');
  const dist: KafkaDist = {
    version: KAFKA_VERSION, dir, classpath: `${jars}/*`,
    jvmOptions: [`-Dlog4j2.configurationFile=${log4j}`],
  };
  if (await fs.stat(marker).then(() => true, () => false)) return dist;
  log(`fetching Apache Kafka ${KAFKA_VERSION} jars from Maven Central into ${dir} (once)`);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'pom.xml'), POM);
  await fs.writeFile(log4j, LOG4J2);
  await fs.rm(jars, { recursive: true, force: true });
  const r = await exec('mvn', [
    '-q', '-B', '-Dstyle.color=never', 'dependency:copy-dependencies', `-DoutputDirectory=${jars}`, '-DincludeScope=runtime',
  ], { cwd: dir, timeoutMs: FETCH_TIMEOUT_MS });
  if (r.code !== 0) throw new Error(`mvn dependency:copy-dependencies failed (${r.code}):\n${(r.stdout + r.stderr).slice(-3000)}`);
  await fs.writeFile(marker, `${new Date().toISOString()}\n`);
  return dist;
}
