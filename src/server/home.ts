/** Shown at `/` when web/dist is missing: says how to build the UI. No token in the HTML, no assets from anywhere. */
export function uiNotBuiltPage(version: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Callwright</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b;background:#fff}
@media (prefers-color-scheme:dark){body{color:#eee;background:#161616}}code{background:rgba(127,127,127,.15);padding:0 .2em}</style></head>
<body><main><h1>Callwright ${version}</h1>
<p>The server is running, but the web UI has not been built.</p>
<p>Build it with <code>npm run build:web</code> (or start the server with <code>npm start</code>, which builds it when needed), then reload this page.</p>
<p>The REST API works without it: <code>POST /api/calls</code> with the bearer token, see the README.</p>
</main></body></html>`;
}
