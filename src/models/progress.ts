import type { DownloadProgress } from './download.js';

export const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/**
 * Download progress as one line per quarter (0%, 25%, 50%, 75%, 100%): what a log or a pipe can hold,
 * used by `callwright models pull` off a terminal and by the server's pull on start.
 */
export function quarterProgress(name: string, write: (line: string, p: DownloadProgress & { percent: number }) => void): (p: DownloadProgress) => void {
  let lastQuarter = -1;
  return (p) => {
    const percent = p.total ? Math.floor((p.received / p.total) * 100) : 0;
    const quarter = Math.floor(percent / 25);
    if (quarter === lastQuarter) return;
    lastQuarter = quarter;
    write(`${name}: ${percent}% (${mb(p.received)} of ${mb(p.total)})`, { ...p, percent });
  };
}
