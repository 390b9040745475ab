/**
 * The forms in which a secret could leave the product: as it is, URL-encoded,
 * and base64 or base64url encoded (inside a longer encoded string too, e.g. a
 * Basic credential or a JWT). Pure.
 */

export interface Needle {
  /** The text searched for. */
  readonly text: string;
  /** What it is: the marker (or marker prefix) and the encoding. */
  readonly what: string;
}

/** Every marker starts with this, then the kind (test/helpers/test-secrets.ts). */
export const MARKER_PREFIX = 'MARKER-';

/**
 * The base64 characters that encode `value` whatever its byte offset in the
 * encoded text: for each of the three alignments, only the groups made of the
 * value's bytes alone (the first group may mix in the bytes before it).
 */
export function base64Forms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const forms: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const padded = Buffer.concat([Buffer.alloc(shift), bytes]);
    const groups = Math.floor(padded.length / 3);
    const encoded = padded.subarray(0, groups * 3).toString('base64');
    const form = encoded.slice(shift === 0 ? 0 : 4);
    if (form.length >= 8) forms.push(form);
  }
  return forms;
}

function encodings(value: string, name: string): Needle[] {
  const base64 = base64Forms(value);
  const all = [
    { text: value, what: name },
    { text: encodeURIComponent(value), what: `${name}, URL-encoded` },
    ...base64.map((text) => ({ text, what: `${name}, base64` })),
    ...base64.map((text) => ({ text: text.replace(/\+/g, '-').replace(/\//g, '_'), what: `${name}, base64url` })),
  ];
  const seen = new Set<string>();
  return all.filter((needle) => !seen.has(needle.text) && seen.add(needle.text));
}

/**
 * Needles for the markers handed out and for the marker prefix of each kind:
 * a marker that was never written down (made where the recording could not
 * reach) is still found by its prefix.
 */
export function needlesFor(markers: readonly string[]): Needle[] {
  const prefixes = new Set([MARKER_PREFIX, ...markers.map((marker) => marker.replace(/[0-9a-f]+$/, ''))]);
  // Longest first: a finding names the marker itself where it can, its kind or the bare prefix otherwise.
  return [
    ...markers.flatMap((marker) => encodings(marker, marker)),
    ...[...prefixes].flatMap((prefix) => encodings(prefix, `a ${prefix}… marker`)),
  ].sort((a, b) => b.text.length - a.text.length);
}

export interface Finding {
  readonly line: number;
  readonly column: number;
  readonly what: string;
}

/** Where the needles occur in the text: 1-based line and column, first needle found per line. */
export function findNeedles(text: string, needles: readonly Needle[]): Finding[] {
  const findings: Finding[] = [];
  text.split('\n').forEach((line, index) => {
    for (const needle of needles) {
      const column = line.indexOf(needle.text);
      if (column < 0) continue;
      findings.push({ line: index + 1, column: column + 1, what: needle.what });
      return;
    }
  });
  return findings;
}
