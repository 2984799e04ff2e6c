/**
 * A module next to the caller, as this process runs: compiled (`dist/…/x.js`, what `npm start` runs) or
 * from source through tsx (`src/…/x.ts`: the tests, the dev loop). Worker threads and child processes
 * start from it, so they run the same way as the code that starts them.
 */
export function siblingModule(callerUrl: string, name: string): { url: URL; fromSource: boolean } {
  const fromSource = new URL(callerUrl).pathname.endsWith('.ts');
  return { url: new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, callerUrl), fromSource };
}
