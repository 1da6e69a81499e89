// Child process of take-store-crash.test.ts: writes takes as fast as it can and reports each one
// on stdout only after putTake() returned (the transaction committed), until it is SIGKILLed.
// Usage: node crash-writer.ts <cache dir> <first seed>
import { writeSync } from 'node:fs';
import { floatToPcm24, pcmSha256 } from './pcm.ts';
import { openTakeStore } from './take-store.ts';
import { sampleLine, sampleTake, seededRandom } from './testing.ts';

const [dir, firstSeedArg] = process.argv.slice(2);
const firstSeed = Number(firstSeedArg);
if (!dir || !Number.isSafeInteger(firstSeed)) {
  process.stderr.write('usage: crash-writer.ts <cache dir> <first seed>\n');
  process.exit(2);
}

// writeSync, so a report is in the pipe before the next write starts; it follows putTake(), so it
// is never sent for a transaction that has not committed.
const report = (line: string): void => void writeSync(1, `${line}\n`);

const store = await openTakeStore(dir);
report('ready');
const rand = seededRandom(firstSeed);
for (let seed = firstSeed; ; seed++) {
  const line = sampleLine({ lineId: `line-${seed % 7}`, text: `Line ${seed % 7}.` });
  const take = sampleTake(seed, 0.2 + rand() * 1.2, line);
  const record = store.putTake(take);
  report(`committed ${record.key} ${pcmSha256(floatToPcm24(take.audio))}`);
  if (seed % 3 === 0) store.chooseTake(line, record.id);
  if (seed % 5 === 0) store.touch(record.id);
}
