/** How the profile readers (profile-summary.ts, heap-summary.ts) name a V8 call frame and tell product code from the rest. */
export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

/** Where a frame's code lives: the product's own file (`calls/call-ending.js`), a package, or node itself. */
export function place(url: string): string {
  const product = /\/dist\/(.+)$/.exec(url) ?? /\/src\/(.+)$/.exec(url);
  if (product && !url.includes('node_modules')) return product[1]!;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `[${pkg[1]}]`;
  if (url.startsWith('node:')) return `[${url}]`;
  return url ? `[${url.split('/').pop()}]` : '';
}

/** The product's compiled (dist/) or, under tsx, source (src/) code; not a package's. */
export const isProductFrame = (f: CallFrame) => !f.url.includes('node_modules') && /\/(dist|src)\//.test(f.url);

export const frameLabel = (f: CallFrame) => `${f.functionName || '(anonymous)'} ${place(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
