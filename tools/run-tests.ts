// `npm test`: typecheck, unit tests (vitest), e2e (Playwright in Debian's Chromium), then one
// closing summary line "N passed, N failed, N skipped" over all stages.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const results = join(root, 'test-results');
mkdirSync(results, { recursive: true });
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

function run(label: string, args: string[], env: Record<string, string> = {}): boolean {
  console.log(`\n=== ${label}: ${args.join(' ')}`);
  const r = spawnSync(npx, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status === 0;
}

interface Counts { passed: number; failed: number; skipped: number }
const total: Counts = { passed: 0, failed: 0, skipped: 0 };

function readJson(path: string): unknown {
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined;
}

let ok = true;
ok = run('typecheck (main + shared)', ['tsc', '-p', 'tsconfig.node.json', '--noEmit']) && ok;
ok = run('typecheck (renderer)', ['svelte-check', '--tsconfig', './tsconfig.web.json', '--fail-on-warnings']) && ok;
if (!ok) total.failed += 1;

const vitestJson = join(results, 'vitest.json');
rmSync(vitestJson, { force: true });
const unitOk = run('unit tests', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${vitestJson}`]);
const v = readJson(vitestJson) as { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number } | undefined;
if (v) {
  total.passed += v.numPassedTests;
  total.failed += v.numFailedTests;
  total.skipped += v.numPendingTests + v.numTodoTests;
}
if (!unitOk && (!v || v.numFailedTests === 0)) total.failed += 1; // a crash outside any test
ok = unitOk && ok;

const pwJson = join(results, 'playwright.json');
rmSync(pwJson, { force: true });
const e2eOk = run('e2e tests', ['playwright', 'test', '--reporter=list,json'], { PLAYWRIGHT_JSON_OUTPUT_NAME: pwJson });
const p = readJson(pwJson) as { stats: { expected: number; unexpected: number; flaky: number; skipped: number } } | undefined;
if (p) {
  total.passed += p.stats.expected + p.stats.flaky;
  total.failed += p.stats.unexpected;
  total.skipped += p.stats.skipped;
}
if (!e2eOk && (!p || p.stats.unexpected === 0)) total.failed += 1;
ok = e2eOk && ok;

console.log(`\n${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(ok ? 0 : 1);
