/** A plain-text table with right-aligned numbers, for the terminal and bench/results/latest.txt. */
export function formatTable(title: string, headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((row) => row.map(formatCell))];
  const widths = headers.map((_, column) =>
    Math.max(...cells.map((row) => (row[column] ?? '').length)),
  );
  const line = (row: string[]) =>
    `| ${row
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        return /^-?[\d.,]+( ms| MiB| ×)?$/.test(cell) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join(' | ')} |`;
  const rule = `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`;
  return [title, line(cells[0] ?? []), rule, ...cells.slice(1).map(line)].join('\n');
}

function formatCell(value: string | number): string {
  if (typeof value === 'string') return value;
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return value.toLocaleString('en-US', { maximumFractionDigits: 3 });
}
