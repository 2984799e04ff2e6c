/**
 * Tables become readable lines, one per row. With a header row each cell is labelled by its column
 * ("Medication: Lisinopril | Dose: 10 mg"), so a row still makes sense when it lands in a chunk
 * without the header.
 */
export function tableToText(header: string[] | undefined, rows: string[][]): string {
  const clean = (c: string) => c.replace(/\s+/g, ' ').trim();
  const lines: string[] = [];
  if (header && header.some((h) => clean(h))) {
    for (const row of rows) {
      const cells = row.map((c, i) => ({ label: clean(header[i] ?? ''), value: clean(c) })).filter((c) => c.value);
      if (cells.length) lines.push(cells.map((c) => (c.label ? `${c.label}: ${c.value}` : c.value)).join(' | '));
    }
    if (!lines.length) lines.push(header.map(clean).filter(Boolean).join(' | '));
  } else {
    for (const row of rows) {
      const cells = row.map(clean).filter(Boolean);
      if (cells.length) lines.push(cells.join(' | '));
    }
  }
  return lines.join('\n');
}
