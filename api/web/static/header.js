// The column names of a CSV/TSV or JSON Lines file, read in the browser from its first bytes,
// so the aggregate form can offer them before anything is uploaded. Which metrics fit a column
// follows the server's rules, from the lines it samples (sample.js): sum and mean of numbers or
// true/false values, count, min and max of anything (the server says so if a column holds lists).

import { DELIMITERS, SAMPLE_LINES, sampleRows, sniffDecimal, sniffDelimiter, summableColumns } from "./sample.js";

/** Split one CSV line, honouring double quotes. Cells are kept as written: a header name with
 * spaces around it is that name to the server too. */
export function splitLine(line, delimiter) {
  const cells = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === delimiter) {
      cells.push(cell);
      cell = "";
    } else cell += c;
  }
  cells.push(cell);
  return cells;
}

// Old Excel (.xls): an OLE2 compound file.
const OLE2 = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];

/** {columns, summable: Set of names whose sample values are all numbers or all true/false};
 * {unread: why} when the columns cannot be read here: "format" (gzip, Parquet, a spreadsheet:
 * the server reads them), "empty", "binary" (NUL bytes: not a text table, whatever it is); or
 * null. `reading` is how the job will read the file (its params): `header` false numbers the
 * columns from 0 as the server does, `decimal` "," or "." overrules the detection, `encoding`
 * names the text's. Text that is not UTF-8, with no encoding named, is read as the server most
 * often reads it, and `assumed` names that encoding (the user may need to correct it). */
export async function readHeader(file, reading = {}) {
  if (file.size === 0) return { unread: "empty" };
  const head = new Uint8Array(await file.slice(0, 8).arrayBuffer());
  if (head[0] === 0x1f && head[1] === 0x8b) return { unread: "format" }; // gzip
  if (head[0] === 0x50 && head[1] === 0x4b) return { unread: "format" }; // a zip: .xlsx or .ods
  if (OLE2.every((b, i) => head[i] === b)) return { unread: "format" };
  const bytes = await file.slice(0, 64 * 1024).arrayBuffer();
  const { text, assumed } = decode(bytes, reading.encoding);
  if (text.startsWith("PAR1")) return { unread: "format" };
  // UTF-16 text has NUL bytes too, but decoded in its encoding it has none.
  if (text.includes("\u0000")) return { unread: "binary" };
  // Any line end the server reads: CRLF, LF, and a bare CR (Excel for Mac, classic Mac).
  const lines = text.split(/\r\n|\r|\n/);
  // The last line may be cut off by the 64 KiB slice: only whole lines are sampled. Bytes are
  // compared with bytes: the text's characters are fewer (a BOM, an accent), and a tiny file
  // taken for a cut one lost its one row, so no column was offered as summable.
  const truncated = bytes.byteLength < file.size;
  if (!lines.some((l) => l.trim().length)) return { unread: "empty" };
  const found = text.trimStart().startsWith("{")
    ? jsonLinesHeader(sampleRows(lines.filter((l) => l.trim().length), null, truncated))
    : csvHeader(lines, truncated, reading);
  return found && assumed ? { ...found, assumed } : found;
}

/** The code page the server reads text that is not UTF-8 in, unless another reads the sample
 * clearly better (workers/files/code_pages.py): Western Windows, what Excel's "CSV" is in. */
const FALLBACK = { label: "windows-1252", name: "cp1252" };

/** {text, assumed}: the bytes as text in `encoding` when the browser knows the name (cp1252,
 * latin1, ...); else as the server detects it (workers/files/encodings.py): UTF-16 by its BOM,
 * UTF-8, or, when that fails, the fallback code page, named in `assumed`. A character cut at
 * the slice's end is not an error (`stream`), and becomes U+FFFD on a line not sampled. */
function decode(bytes, encoding) {
  const bom = new Uint8Array(bytes, 0, Math.min(2, bytes.byteLength));
  const utf16 = bom[0] === 0xff && bom[1] === 0xfe ? "utf-16le" : bom[0] === 0xfe && bom[1] === 0xff ? "utf-16be" : null;
  // Python's spellings of a name the browser knows otherwise: latin-1 is latin1, utf_16 utf-16.
  const names = encoding ? [encoding, encoding.replace(/_/g, "-"), encoding.replace(/[-_]/g, "")] : [utf16];
  for (const name of names.filter(Boolean)) {
    try {
      return { text: new TextDecoder(name).decode(bytes) };
    } catch {
      // a name the browser does not know (the server may): read as if none were named
    }
  }
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes, { stream: true }) };
  } catch {
    return { text: new TextDecoder(FALLBACK.label).decode(bytes), assumed: FALLBACK.name };
  }
}

/** Excel's first line `sep=;`: it names the delimiter and is no row, as the server reads it
 * (workers/files/delimiter_hint.py); any other character after `sep=` fails the job there. */
const SEP_LINE = /^\ufeff?sep=(.)$/;
const SEP_USABLE = /^[!#-/:-@[-`{-~ \t]$/;

function csvHeader(lines, truncated, reading = {}) {
  const hint = SEP_LINE.exec(lines[0]);
  if (!hint) return sniffedHeader(lines, truncated, null, reading);
  const usable = SEP_USABLE.test(hint[1]) && hint[1] !== reading.decimal && lines.slice(1).some((l) => l.trim());
  return usable ? sniffedHeader(lines.slice(1), truncated, hint[1], reading) : null;
}

function sniffedHeader(lines, truncated, named, { header = true, decimal = null } = {}) {
  // A decimal comma is never the delimiter (as the server sniffs it).
  const candidates = decimal === "," ? DELIMITERS.filter((d) => d !== ",") : DELIMITERS;
  const delimiter = named ?? sniffDelimiter(lines, truncated, candidates, splitLine);
  const sampled = sampleRows(lines, delimiter, truncated).map((l) => splitLine(l, delimiter));
  if (!sampled.length) return null; // only blank lines sampled: the server says what it makes of it
  const columns = header ? sampled[0] : sampled[0].map((_, i) => String(i));
  const rows = header ? sampled.slice(1) : sampled;
  const mark = decimal ?? sniffDecimal(rows.flat(), delimiter);
  const summable = summableColumns(columns.length, rows, mark);
  return { columns, summable: new Set(columns.filter((_, i) => summable.has(i))) };
}

function jsonLinesHeader(lines) {
  const records = [];
  for (const line of lines) {
    try {
      const value = JSON.parse(line);
      if (value && typeof value === "object" && !Array.isArray(value)) records.push(value);
    } catch {
      return null; // not JSON Lines after all: the server says what it is
    }
  }
  if (!records.length) return null;
  const columns = [...new Set(records.flatMap((r) => Object.keys(r)))];
  const summable = new Set(columns.filter((name) => {
    const values = records.map((r) => r[name]).filter((v) => v !== null && v !== undefined);
    return values.length > 0 &&
      (values.every((v) => typeof v === "number") || values.every((v) => typeof v === "boolean"));
  }));
  return { columns, summable };
}
