/** Types for build-web.mjs (plain JS so `npm start` can run it before tsx is involved). */
export function webBuildStale(): boolean;
export function ensureWebBuilt(o?: { force?: boolean; quiet?: boolean }): Promise<boolean>;
