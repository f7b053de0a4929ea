// Preloaded into a broker to watch its event loop: every 5 s, the delay percentiles of the last
// 5 s (perf_hooks.monitorEventLoopDelay, sampled every 1 ms) on stderr.
//
//   node --import ./bench/event-loop-probe.mjs --import tsx ts/cli/run.ts serve ...
import { monitorEventLoopDelay } from 'node:perf_hooks';

const histogram = monitorEventLoopDelay({ resolution: 1 });
histogram.enable();
const ms = (ns) => (ns / 1e6).toFixed(1);
setInterval(() => {
  if (histogram.count > 0) {
    process.stderr.write(`event loop delay (5 s): p50 ${ms(histogram.percentile(50))} ms, p99 ${ms(histogram.percentile(99))} ms, max ${ms(histogram.max)} ms\n`);
  }
  histogram.reset();
}, 5000).unref();
