/**
 * Synthetic captures kept under .cache/, keyed by every parameter that changes their bytes
 * (generator version, seed, packets, flows), with the generator's summary beside each file. A
 * 1 M-packet file takes seconds to write and is identical every time, so it is made once.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  GENERATOR_VERSION,
  SyntheticCaptureOptions,
  SyntheticCaptureSummary,
  writeSyntheticCaptureFile,
} from './synthetic-capture';

export interface CachedCapture {
  path: string;
  summary: SyntheticCaptureSummary;
  /** Seconds spent generating; undefined when the cached file was reused. */
  generatedSeconds: number | undefined;
}

export function cachedSyntheticCapture(dir: string, options: SyntheticCaptureOptions): CachedCapture {
  const name = `synthetic-v${GENERATOR_VERSION}-seed${options.seed}-p${options.packets}-f${options.flows}`;
  const path = join(dir, `${name}.pcapng`);
  const summaryPath = join(dir, `${name}.json`);
  const cached = readSummary(summaryPath);
  // Trust the file only if its summary was written after it and the sizes agree.
  if (cached && existsSync(path) && statSync(path).size === cached.fileBytes) {
    return { path, summary: cached, generatedSeconds: undefined };
  }
  mkdirSync(dir, { recursive: true });
  const started = process.hrtime.bigint();
  const summary = writeSyntheticCaptureFile(path, options);
  const generatedSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const temporary = `${summaryPath}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(summary, null, 2)}\n`);
  renameSync(temporary, summaryPath);
  return { path, summary, generatedSeconds };
}

function readSummary(path: string): SyntheticCaptureSummary | undefined {
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof value === 'object' && value !== null && 'fileBytes' in value && 'packets' in value && 'flows' in value) {
      return value as SyntheticCaptureSummary;
    }
    return undefined;
  } catch {
    return undefined;
  }
}
