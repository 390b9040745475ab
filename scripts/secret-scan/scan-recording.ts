/** Searches a secret-scan recording (test/helpers/scan-recording.ts) for the markers the run handed out. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findNeedles, needlesFor } from './needles.ts';

export const KINDS = ['logs', 'jobs', 'kube', 'metrics', 'traces'] as const;

export interface Leak {
  /** The recorded file, relative to the recording. */
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly what: string;
}

export interface ScanResult {
  /** Markers handed out, by kind (`CLIENT-SECRET`, …). */
  readonly markers: Record<string, number>;
  /** Files and non-empty lines searched, by kind of output. */
  readonly scanned: Record<(typeof KINDS)[number], { files: number; lines: number }>;
  readonly leaks: readonly Leak[];
}

function filesIn(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

function readMarkers(dir: string): string[] {
  const folder = join(dir, 'markers');
  const lines = filesIn(folder).flatMap((file) => readFileSync(join(folder, file), 'utf8').split('\n'));
  return [...new Set(lines.filter((line) => line.length > 0))];
}

export function scanRecording(dir: string): ScanResult {
  const markerList = readMarkers(dir);
  const markers: Record<string, number> = {};
  for (const marker of markerList) {
    const kind = /^MARKER-(.+)-[0-9a-f]+$/.exec(marker)?.[1] ?? marker;
    markers[kind] = (markers[kind] ?? 0) + 1;
  }
  const needles = needlesFor(markerList);
  const leaks: Leak[] = [];
  const scanned = Object.fromEntries(KINDS.map((kind) => [kind, { files: 0, lines: 0 }])) as ScanResult['scanned'];
  for (const kind of KINDS) {
    for (const file of filesIn(join(dir, kind))) {
      const text = readFileSync(join(dir, kind, file), 'utf8');
      scanned[kind].files += 1;
      scanned[kind].lines += text.split('\n').filter((line) => line.length > 0).length;
      for (const finding of findNeedles(text, needles)) leaks.push({ file: join(kind, file), ...finding });
    }
  }
  return { markers, scanned, leaks };
}
