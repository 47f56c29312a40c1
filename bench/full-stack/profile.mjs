// Self time of a V8 .cpuprofile (node --cpu-prof) by function and by package, `(idle)` left out:
// `node bench/full-stack/profile.mjs <file.cpuprofile> [top]`. Packages: node_modules/<name>,
// libs/<name> (ours, as @infrastructure/<name>), the sample (dist/apps), node:internal/<module>,
// else the V8 entry ((garbage collector), (program)).
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile.mjs <file.cpuprofile> [top]');
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8'));

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}

/** The package of a script URL. */
function packageOf(url) {
  if (!url) return '';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const lib = /\/libs\/([^/]+)\//.exec(url);
  if (lib) return `@infrastructure/${lib[1]}`;
  if (url.includes('/dist/apps/')) return 'sample-api';
  if (url.startsWith('node:')) return url.split('/').slice(0, 3).join('/');
  return url;
}

const fns = new Map();
const pkgs = new Map();
let total = 0;
for (const [id, us] of selfUs) {
  const { callFrame } = byId.get(id);
  if (callFrame.functionName === '(idle)') continue;
  total += us;
  const pkg = packageOf(callFrame.url) || callFrame.functionName;
  const where = callFrame.url
    ? `${callFrame.url.replace(/^.*\/(node_modules|libs|dist)\//, '$1/')}:${callFrame.lineNumber + 1}`
    : '';
  const fn = `${callFrame.functionName || '(anonymous)'} ${where}`;
  fns.set(fn, (fns.get(fn) ?? 0) + us);
  pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + us);
}

// Inclusive: a node's self time plus its subtree's, summed per function (a function on the
// stack twice, e.g. recursion, counts once per path: only its outermost frame adds).
const inclusive = new Map();
const keyOf = (callFrame) =>
  `${callFrame.functionName || '(anonymous)'} ${callFrame.url ? `${callFrame.url.replace(/^.*\/(node_modules|libs|dist)\//, '$1/')}:${callFrame.lineNumber + 1}` : ''}`;
function walk(node, onStack) {
  let us = node.callFrame.functionName === '(idle)' ? 0 : (selfUs.get(node.id) ?? 0);
  const key = keyOf(node.callFrame);
  const outer = !onStack.has(key);
  if (outer) onStack.add(key);
  for (const child of node.children ?? []) us += walk(byId.get(child), onStack);
  if (outer) {
    onStack.delete(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + us);
  }
  return us;
}
walk(profile.nodes[0], new Set());

const pct = (us) => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
const show = (title, map, n) => {
  console.log(title);
  for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    console.log(`  ${pct(us)}  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`);
  }
};
console.log(`${file}: ${(total / 1000).toFixed(0)} ms of CPU (idle left out)`);
show('self time by package:', pkgs, top);
show('self time by function:', fns, top);
if (process.env.PROFILE_INCLUSIVE) {
  const re = new RegExp(process.env.PROFILE_INCLUSIVE);
  show(
    `inclusive time of functions matching /${re.source}/:`,
    new Map([...inclusive].filter(([k]) => re.test(k))),
    top,
  );
}
