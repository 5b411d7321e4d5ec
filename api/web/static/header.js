// The column names of a CSV/TSV file, read in the browser from its first bytes, so the
// aggregate form can offer them before anything is uploaded.

const DELIMITERS = [",", "\t", ";", "|"];

/** Split one CSV line, honouring double quotes. */
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
  return cells.map((s) => s.trim());
}

/** {columns, numeric: Set of names whose sample values all parse as numbers} or null. */
export async function readHeader(file) {
  const head = new Uint8Array(await file.slice(0, 2).arrayBuffer());
  if (head[0] === 0x1f && head[1] === 0x8b) return null; // gzip: the server reads it
  const text = await file.slice(0, 64 * 1024).text();
  if (text.startsWith("PAR1") || text.trimStart().startsWith("{")) return null; // parquet, JSONL
  const lines = text.split(/\r?\n/).filter((l) => l.length).slice(0, 21);
  if (!lines.length) return null;
  const delimiter = DELIMITERS.reduce((best, d) =>
    splitLine(lines[0], d).length > splitLine(lines[0], best).length ? d : best);
  const columns = splitLine(lines[0], delimiter);
  const rows = lines.slice(1, -1).map((l) => splitLine(l, delimiter));
  const numeric = new Set(columns.filter((_, i) =>
    rows.length && rows.every((r) => r[i] === "" || r[i] === undefined || Number.isFinite(Number(r[i])))));
  return { columns, numeric };
}
