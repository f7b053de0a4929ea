// Summarises a V8 .cpuprofile (node --cpu-prof): self time by function, heaviest first, plus the
// share of idle, GC and program time.
//
//   node bench/cpuprofile-summary.mjs /tmp/prof/CPU.*.cpuprofile [--top 30]
import fs from 'node:fs';

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args[topAt + 1]) : 30;
const files = args.filter((a, i) => !a.startsWith('--') && (topAt < 0 || i !== topAt + 1));

for (const file of files) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const deltas = profile.timeDeltas;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const us = deltas[i + 1] ?? 0;
    total += us;
    const f = node.callFrame;
    const where = f.url ? `${f.url.replace(/^.*\/(ts|node_modules|node:)/, '$1')}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + us);
  }
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]);
  const idle = self.get('(idle)') ?? 0;
  const busy = total - idle;
  console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy (${(100 * busy / total).toFixed(1)}%)`);
  console.log('| self ms | % of busy | function |');
  console.log('| ---: | ---: | --- |');
  for (const [key, us] of rows.filter(([k]) => k !== '(idle)').slice(0, top)) {
    console.log(`| ${(us / 1000).toFixed(0)} | ${(100 * us / busy).toFixed(1)} | ${key} |`);
  }
}
