// Plain aligned text tables for the up commands' terminal output (summary, `weft status`).

/** Rows of cells; the first row is the header. Columns are padded to their widest cell. */
export function formatTable(rows: readonly (readonly string[])[], indent = ''): string {
  const widths: number[] = [];
  for (const row of rows)
    for (let i = 0; i < row.length; i++) widths[i] = Math.max(widths[i] ?? 0, row[i]!.length);
  return rows
    .map(
      (row) =>
        indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]! + 2))).join(''),
    )
    .join('\n');
}
