// The column names of a CSV/TSV or JSON Lines file, read in the browser from its first bytes,
// so the aggregate form can offer them before anything is uploaded. Which metrics fit a column
// follows the server's rules: sum and mean of numbers or true/false values, count, min and max
// of anything (the server says so if a column holds lists).

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

const BOOLEAN = /^(true|false)$/i;
// "1,5" where ";" separates cells: a decimal comma, as the server detects it.
const DECIMAL_COMMA = /^-?\d+(,\d+)?$/;

/** {columns, summable: Set of names whose sample values are all numbers or all true/false}, or
 * null when the columns cannot be read here (gzip, Parquet, a spreadsheet). */
export async function readHeader(file) {
  const head = new Uint8Array(await file.slice(0, 4).arrayBuffer());
  if (head[0] === 0x1f && head[1] === 0x8b) return null; // gzip: the server reads it
  if (head[0] === 0x50 && head[1] === 0x4b) return null; // a zip: .xlsx or .ods
  const text = await file.slice(0, 64 * 1024).text();
  if (text.startsWith("PAR1")) return null;
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length).slice(0, 21);
  if (!lines.length) return null;
  // The last line may be cut off by the 64 KiB slice: only whole lines are sampled.
  const whole = text.length < file.size ? lines.slice(0, -1) : lines;
  return text.trimStart().startsWith("{") ? jsonLinesHeader(whole) : csvHeader(lines, whole);
}

function csvHeader(lines, whole) {
  const delimiter = DELIMITERS.reduce((best, d) =>
    splitLine(lines[0], d).length > splitLine(lines[0], best).length ? d : best);
  const columns = splitLine(lines[0], delimiter);
  const rows = whole.slice(1).map((l) => splitLine(l, delimiter));
  const isNumber = (v) => Number.isFinite(Number(v)) || (delimiter === ";" && DECIMAL_COMMA.test(v));
  const summable = new Set(columns.filter((_, i) => {
    const values = rows.map((r) => r[i]).filter((v) => v !== "" && v !== undefined);
    return values.length > 0 && (values.every(isNumber) || values.every((v) => BOOLEAN.test(v)));
  }));
  return { columns, summable };
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
