// Preloaded into a broker to find what it promotes to the old generation: V8's sampling heap
// profiler, keeping the samples of objects a full GC collected but dropping those a scavenge
// collected, so what remains is what survived the young generation (live now, or promoted and
// died later — the objects that make full GCs run). On SIGUSR2 it writes the profile and prints
// the heaviest allocation sites (self bytes, with their call path) on stderr.
//
//   node --import ./bench/heap-sampling.mjs bin/godel.js serve ...   # then: kill -USR2 <pid>
//   GODEL_HEAP_PROFILE=/tmp/x.heapprofile (where the profile goes; default in the cwd)
import { Session } from 'node:inspector/promises';
import { writeFile } from 'node:fs/promises';

const session = new Session();
session.connect();
await session.post('HeapProfiler.startSampling', {
  samplingInterval: 1024,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: false,
});
process.stderr.write('heap-sampling: started (SIGUSR2 to write)\n');

process.on('SIGUSR2', () => {
  void (async () => {
    const { profile } = await session.post('HeapProfiler.stopSampling');
    const out = process.env.GODEL_HEAP_PROFILE ?? `promoted-${process.pid}.heapprofile`;
    await writeFile(out, JSON.stringify(profile));
    const sites = [];
    const walk = (node, path) => {
      const frame = `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.split('/').slice(-2).join('/')}:${node.callFrame.lineNumber + 1}`;
      const here = [...path, frame];
      if (node.selfSize > 0) sites.push({ bytes: node.selfSize, path: here });
      for (const child of node.children) walk(child, here);
    };
    walk(profile.head, []);
    sites.sort((a, b) => b.bytes - a.bytes);
    const total = sites.reduce((s, x) => s + x.bytes, 0);
    process.stderr.write(`heap-sampling: ${(total / 1e6).toFixed(1)} MB sampled, written to ${out}\n`);
    for (const s of sites.slice(0, Number(process.env.GODEL_HEAP_TOP ?? 25))) {
      process.stderr.write(`${(s.bytes / 1e3).toFixed(0).padStart(8)} kB  ${s.path.slice(-6).join(' < ')}\n`);
    }
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: false,
    });
  })();
});
