// Kafka's LogManager: every partition log under one data directory (`topic-partition/`), their
// recovery at start, and the background work on them: retention, time-based flushes, the
// recovery-point / log-start-offset checkpoints and the log cleaner (compaction, log-cleaner.ts). A
// clean shutdown writes `.kafka_cleanshutdown`, which lets the next start skip recovery.
import fs from 'node:fs/promises';
import path from 'node:path';
import { systemClock, type Clock } from '../clock.js';
import type { LogEngine } from '../engine/types.js';
import { GodelError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { readCheckpoint, writeCheckpoint, type OffsetMap } from './checkpoint.js';
import { fsyncDir, writeFileAtomic } from './fs-utils.js';
import { cleanerConfigFrom, LogCleaner, type CleanerStats } from './log-cleaner.js';
import { LogCleanerManager } from './log-cleaner-manager.js';
import { buildLogConfig, type LogConfig } from './log-config.js';
import {
  CLEAN_SHUTDOWN_FILE,
  LOG_START_OFFSET_CHECKPOINT_FILE,
  logDirName,
  parseLogDirName,
  RECOVERY_POINT_CHECKPOINT_FILE,
  topicPartitionKey,
  type TopicPartition,
} from './log-file-utils.js';
import { loadLog, type LoadReport } from './log-loader.js';
import type { PartitionLog } from './partition-log.js';

const LOCK_FILE = '.lock';

export interface LogManagerOptions {
  dataDir: string;
  engine: LogEngine;
  clock?: Clock;
  logger?: Logger;
  /** Broker config (Kafka names: `log.retention.ms`, `log.segment.bytes` …) supplying log defaults. */
  brokerConfig?: Readonly<Record<string, string>>;
  /** Topic-level overrides for a topic's logs found on disk at start. */
  topicConfig?: (topic: string) => Readonly<Record<string, string>>;
}

interface Intervals {
  retentionCheckMs: number;
  flushCheckMs: number;
  checkpointMs: number;
}

export class LogManager {
  readonly dataDir: string;
  private readonly engine: LogEngine;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private brokerConfig: Readonly<Record<string, string>>;
  private readonly logs = new Map<string, PartitionLog>();
  private readonly creating = new Map<string, Promise<PartitionLog>>();
  private timers: NodeJS.Timeout[] = [];
  private shuttingDown = false;
  private readonly intervals: Intervals;
  /** Compaction of the logs whose cleanup.policy has `compact`; set up by open(). */
  private cleaner!: LogCleaner;
  /** What recovery did at start, per log (for logs and tests). */
  readonly loadReports = new Map<string, LoadReport>();
  hadCleanShutdown = false;

  private constructor(options: LogManagerOptions) {
    this.dataDir = options.dataDir;
    this.engine = options.engine;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.brokerConfig = options.brokerConfig ?? {};
    this.intervals = {
      retentionCheckMs: positiveMs(this.brokerConfig['log.retention.check.interval.ms'], 300_000, 'log.retention.check.interval.ms'),
      flushCheckMs: positiveMs(this.brokerConfig['log.flush.scheduler.interval.ms'], 1_000, 'log.flush.scheduler.interval.ms'),
      checkpointMs: positiveMs(this.brokerConfig['log.flush.offset.checkpoint.interval.ms'], 60_000, 'log.flush.offset.checkpoint.interval.ms'),
    };
  }

  /** Opens the data directory, recovering every log in it as needed. */
  static async open(options: LogManagerOptions): Promise<LogManager> {
    const manager = new LogManager(options);
    buildLogConfig({}, manager.brokerConfig); // bad broker log settings fail here, before any file is touched
    const cleanerConfig = cleanerConfigFrom(manager.brokerConfig);
    await fs.mkdir(manager.dataDir, { recursive: true });
    await manager.lock();
    try {
      await manager.loadLogs(options.topicConfig ?? (() => ({})));
      manager.cleaner = new LogCleaner({
        engine: manager.engine, clock: manager.clock, logger: manager.logger, config: cleanerConfig,
        manager: await LogCleanerManager.open(manager.dataDir, manager.logger), logs: () => manager.logs.values(),
      });
    } catch (err) {
      await manager.unlock();
      throw err;
    }
    return manager;
  }

  private async lock(): Promise<void> {
    const file = path.join(this.dataDir, LOCK_FILE);
    try {
      const pid = Number((await fs.readFile(file, 'utf8')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
        throw new GodelError('STORAGE_ERROR', `data directory ${this.dataDir} is in use by process ${pid}`);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await writeFileAtomic(file, `${process.pid}\n`);
  }

  private async unlock(): Promise<void> {
    await fs.rm(path.join(this.dataDir, LOCK_FILE), { force: true });
  }

  private async loadLogs(topicConfig: (topic: string) => Readonly<Record<string, string>>): Promise<void> {
    const marker = path.join(this.dataDir, CLEAN_SHUTDOWN_FILE);
    this.hadCleanShutdown = await exists(marker);
    const recoveryPoints = await this.readCheckpointOrEmpty(RECOVERY_POINT_CHECKPOINT_FILE);
    const logStartOffsets = await this.readCheckpointOrEmpty(LOG_START_OFFSET_CHECKPOINT_FILE);
    const entries = await fs.readdir(this.dataDir, { withFileTypes: true });
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      if (entry.name.endsWith('-delete')) {
        // A topic deletion that a crash interrupted: finish it.
        await fs.rm(path.join(this.dataDir, entry.name), { recursive: true, force: true });
        continue;
      }
      const tp = parseLogDirName(entry.name);
      if (tp === null) continue;
      const key = topicPartitionKey(tp);
      const { log, report } = await loadLog({
        engine: this.engine,
        dir: path.join(this.dataDir, entry.name),
        topicPartition: tp,
        config: this.configFor(topicConfig(tp.topic)),
        clock: this.clock,
        logger: this.logger,
        recoveryPoint: recoveryPoints.get(key)?.offset ?? 0n,
        logStartOffset: logStartOffsets.get(key)?.offset ?? 0n,
        hadCleanShutdown: this.hadCleanShutdown,
      });
      this.logs.set(key, log);
      this.loadReports.set(key, report);
    }
    this.logger.info({ logs: this.logs.size, cleanShutdown: this.hadCleanShutdown, engine: this.engine.name }, 'loaded logs');
    // From here on a crash must be detected: the marker goes before any write.
    if (this.hadCleanShutdown) {
      await fs.rm(marker, { force: true });
      await fsyncDir(this.dataDir);
    }
  }

  private async readCheckpointOrEmpty(name: string): Promise<OffsetMap> {
    try {
      return await readCheckpoint(path.join(this.dataDir, name));
    } catch (err) {
      // A damaged checkpoint only costs a longer recovery: recover everything from the start.
      this.logger.warn({ file: name, err: String(err) }, 'ignoring an unreadable checkpoint');
      return new Map();
    }
  }

  configFor(topicOverrides: Readonly<Record<string, string>>): LogConfig {
    return buildLogConfig(topicOverrides, this.brokerConfig);
  }

  /** Broker-level defaults changed at runtime; callers then update each log's config. */
  setBrokerConfig(config: Readonly<Record<string, string>>): void {
    buildLogConfig({}, config);
    const cleanerConfig = cleanerConfigFrom(config);
    this.brokerConfig = config;
    this.cleaner.updateConfig(cleanerConfig);
  }

  getLog(tp: TopicPartition): PartitionLog | undefined {
    return this.logs.get(topicPartitionKey(tp));
  }

  allLogs(): PartitionLog[] {
    return [...this.logs.values()];
  }

  /** The log of `tp`, created empty with `topicOverrides` when it does not exist. */
  async getOrCreateLog(tp: TopicPartition, topicOverrides: Readonly<Record<string, string>> = {}): Promise<PartitionLog> {
    if (this.shuttingDown) throw new GodelError('CLOSED', 'the log manager is shutting down');
    const key = topicPartitionKey(tp);
    const existing = this.logs.get(key);
    if (existing !== undefined) return existing;
    const pending = this.creating.get(key);
    if (pending !== undefined) return pending;
    const config = this.configFor(topicOverrides);
    const creation = (async () => {
      const dir = path.join(this.dataDir, logDirName(tp));
      const { log } = await loadLog({
        engine: this.engine, dir, topicPartition: tp, config, clock: this.clock, logger: this.logger,
        recoveryPoint: 0n, logStartOffset: 0n, hadCleanShutdown: true,
      });
      await fsyncDir(this.dataDir);
      this.logs.set(key, log);
      return log;
    })();
    this.creating.set(key, creation);
    try {
      return await creation;
    } finally {
      this.creating.delete(key);
    }
  }

  /**
   * Removes a log: it leaves the map at once (no new reads or appends find it), then its directory
   * is renamed aside and removed in the background.
   */
  async deleteLog(tp: TopicPartition): Promise<void> {
    const key = topicPartitionKey(tp);
    const log = this.logs.get(key);
    if (log === undefined) return;
    this.logs.delete(key);
    await this.cleaner.abortCleaning(log);
    await this.cleaner.manager.removeLog(tp).catch((err: unknown) => this.logger.warn({ err: String(err) }, 'could not update the cleaner checkpoint'));
    const doomed = path.join(this.dataDir, `${logDirName(tp)}.${Date.now()}-delete`);
    await fs.rename(log.dir, doomed);
    await fsyncDir(this.dataDir);
    await log.delete();
    await fs.rm(doomed, { recursive: true, force: true });
  }

  /** One retention pass over every log; returns the number of segments deleted. */
  async runRetention(): Promise<number> {
    let deleted = 0;
    for (const log of this.logs.values()) deleted += await log.deleteOldSegments();
    if (deleted > 0) await this.checkpointLogStartOffsets();
    return deleted;
  }

  /**
   * One cleaner pass (compaction) over every compacted log due for it now, as the background
   * cleaner would do them; returns what each cleaning did. For tests and tools.
   */
  runCleanerOnce(): Promise<CleanerStats[]> {
    return this.cleaner.runOnce();
  }

  /** The cleaner's checkpointed first dirty offset of a log (where its next cleaning starts). */
  cleanerCheckpoint(tp: TopicPartition): bigint | undefined {
    return this.cleaner.manager.checkpointOf(tp);
  }

  /** Flushes the logs whose `flush.ms` has passed. */
  async flushDueLogs(): Promise<void> {
    for (const log of this.logs.values()) {
      if (log.flushDue()) await log.flush().catch((err: unknown) => this.logger.error({ log: log.describe(), err: String(err) }, 'scheduled flush failed'));
    }
  }

  async checkpointRecoveryPoints(): Promise<void> {
    await writeCheckpoint(
      path.join(this.dataDir, RECOVERY_POINT_CHECKPOINT_FILE),
      [...this.logs.values()].map((log) => ({ tp: log.topicPartition, offset: log.recoveryPoint })),
    );
  }

  async checkpointLogStartOffsets(): Promise<void> {
    await writeCheckpoint(
      path.join(this.dataDir, LOG_START_OFFSET_CHECKPOINT_FILE),
      [...this.logs.values()].map((log) => ({ tp: log.topicPartition, offset: log.logStartOffset })),
    );
  }

  /** Starts the periodic retention, flush and checkpoint tasks, and the log cleaner. */
  startBackgroundTasks(): void {
    const every = (ms: number, task: () => Promise<unknown>, what: string): void => {
      let running = false;
      const timer = setInterval(() => {
        if (running || this.shuttingDown) return;
        running = true;
        task().catch((err: unknown) => this.logger.error({ err: String(err) }, `${what} failed`)).finally(() => {
          running = false;
        });
      }, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.intervals.retentionCheckMs, () => this.runRetention(), 'retention');
    every(this.intervals.flushCheckMs, () => this.flushDueLogs(), 'flush');
    every(this.intervals.checkpointMs, async () => {
      await this.checkpointRecoveryPoints();
      await this.checkpointLogStartOffsets();
    }, 'checkpoint');
    this.cleaner.start();
  }

  /**
   * Clean shutdown: waits for queued appends, flushes and closes every log, writes both
   * checkpoints, then the clean-shutdown marker (only if every log closed cleanly).
   */
  async shutdown(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.cleaner.stop();
    await Promise.allSettled([...this.creating.values()]);
    const logs = [...this.logs.values()];
    await Promise.all(logs.map((log) => log.close()));
    const clean = logs.every((log) => !log.isOffline);
    await this.checkpointRecoveryPoints();
    await this.checkpointLogStartOffsets();
    if (clean) {
      await writeFileAtomic(path.join(this.dataDir, CLEAN_SHUTDOWN_FILE), '');
    } else {
      this.logger.error('some logs are offline: not marking the shutdown clean, so the next start recovers');
    }
    await this.unlock();
    this.logger.info({ logs: logs.length, clean }, 'log manager shut down');
  }
}

function positiveMs(raw: string | undefined, fallback: number, key: string): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new GodelError('CONFIG_INVALID', `invalid value "${raw}" for ${key}: must be a positive integer`);
  return Math.min(value, 0x7fffffff);
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
