// The server's sample of a CSV's head and what it reads from it (workers/files/sample_rows.py,
// sample_values.py, blank_lines.py), and how its reader types a cell (readers.py
// `convert_options`), kept here so that the columns the job form offers for sum and mean are
// the ones the job will sum: a sample of other lines, or other rules, offered a column the job
// then refused as text (or withheld one it sums).

/** Delimiters the server tries, in its order of preference on a tie. */
export const DELIMITERS = [",", "\t", ";", "|"];

/** Lines the server samples (`sample_rows`): blank ones among them count but are no rows. */
export const SAMPLE_LINES = 51;

/** pandas' default `na_values` (workers/files/na_values.py): cells the job reads as missing,
 * compared as written (` NA` is text). */
export const NA_VALUES = new Set([
  "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
  "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
]);

// The spellings the server's reader takes as booleans, exactly (pyarrow's would take 0 and 1).
const BOOLEAN = /^(True|TRUE|true|False|FALSE|false)$/;
// Infinity and NaN in any case, which the reader takes as floats.
const SPECIAL = /^[+-]?(inf|infinity|nan)$/i;
// sniff_decimal's patterns (sample_values.py).
const DECIMAL_COMMA = /^[+-]?\d+,\d+$/;
const DECIMAL_POINT = /^[+-]?\d*\.\d+$/;
const THOUSANDS_DOTS = /^[+-]?[1-9]\d{0,2}(\.\d{3})+$/;

/** Whether a line is one pandas skips as blank: only spaces and tabs, but a tab is a value's end
 * when it is the delimiter (blank_lines.py). */
export function blankLine(line, delimiter) {
  return (delimiter === "\t" ? /^ *$/ : /^[ \t]*$/).test(line);
}

/** The sampled lines that are rows: the first SAMPLE_LINES, blank ones dropped, and the last
 * one dropped when the text is `truncated` (it may be cut), unless it is the only one. */
export function sampleRows(lines, delimiter, truncated) {
  const rows = lines.slice(0, SAMPLE_LINES).filter((l) => !blankLine(l, delimiter));
  return truncated && rows.length > 1 ? rows.slice(0, -1) : rows;
}

/** The delimiter that splits every sampled row into the same (largest) number of cells
 * (`sniff_delimiter`), from `candidates` split by `split`. */
export function sniffDelimiter(lines, truncated, candidates, split) {
  let best = candidates[0];
  let bestFields = 1;
  for (const delimiter of candidates) {
    const widths = new Set(sampleRows(lines, delimiter, truncated).map((l) => split(l, delimiter).length));
    const fields = widths.size ? Math.min(...widths) : 1;
    if (fields > bestFields && (widths.size === 1 || bestFields === 1)) {
      best = delimiter;
      bestFields = fields;
    }
  }
  return best;
}

/** "," when `;`-separated numbers are written `1,5` and none `1.5` other than as thousands
 * (`1.234`), over every sampled cell; else "." (`sniff_decimal`). */
export function sniffDecimal(cells, delimiter) {
  if (delimiter !== ";") return ".";
  const stripped = cells.map((c) => c.trim());
  const points = stripped.some((c) => DECIMAL_POINT.test(c) && !THOUSANDS_DOTS.test(c));
  return stripped.some((c) => DECIMAL_COMMA.test(c)) && !points ? "," : ".";
}

/** Whether the reader takes a cell as a number with `decimal` as its mark: digits, one mark,
 * an exponent, spaces or tabs around it; or infinity or NaN. Not `0x1F`, which pyarrow reads
 * as an integer: the server keeps a column with one in its sample as text. */
export function isNumber(cell, decimal) {
  const mark = decimal === "," ? "," : "\\.";
  const number = new RegExp(`^[+-]?(\\d+(${mark}\\d*)?|${mark}\\d+)([eE][+-]?\\d+)?$`);
  const value = cell.replace(/^[ \t]+|[ \t]+$/g, "");
  return number.test(value) || SPECIAL.test(value);
}

/** The columns (by index) whose sampled values, missing ones aside, are all numbers or all
 * true/false: what sum and mean apply to. */
export function summableColumns(width, rows, decimal) {
  const summable = new Set();
  for (let i = 0; i < width; i += 1) {
    const values = rows.map((r) => r[i]).filter((v) => v !== undefined && !NA_VALUES.has(v));
    const numbers = values.every((v) => isNumber(v, decimal));
    if (values.length && (numbers || values.every((v) => BOOLEAN.test(v)))) summable.add(i);
  }
  return summable;
}
