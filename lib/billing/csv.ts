// CSV cells, RFC 4180 style: a cell with a comma, quote, CR or LF is quoted, quotes doubled.
// Spreadsheet formula injection: a TEXT cell starting with = + - @ (or tab / CR, which some
// spreadsheets skip before reading a formula) is prefixed with a single quote so it is shown as
// text, never run (OWASP's advice). Numbers we produce ourselves are written as numbers, so a
// debit stays "-100" and sums still work.
export function csvText(value: string | null | undefined): string {
  let v = value ?? "";
  if (/^[=+\-@\t\r]/.test(v)) v = `'${v}`;
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function csvNumber(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError("not a finite number");
  return String(n);
}

export function csvRow(cells: string[]): string {
  return `${cells.join(",")}\r\n`;
}
