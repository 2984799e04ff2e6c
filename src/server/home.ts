/** A minimal landing page until the web UI lands: no token in the HTML, no assets from anywhere. */
export function homePage(version: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Callwright</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b;background:#fff}
@media (prefers-color-scheme:dark){body{color:#eee;background:#161616}a{color:#8cf}}code{background:rgba(127,127,127,.15);padding:0 .2em}</style></head>
<body><h1>Callwright ${version}</h1>
<p>The server is running. Place calls with the REST API (<code>POST /api/calls</code>, bearer token), see the README.</p>
<p id="t"></p>
<script>
// The start-up URL carries the token in the fragment, which browsers never send to the server.
const m = /token=([^&]+)/.exec(location.hash);
if (m) { sessionStorage.setItem('callwright.token', decodeURIComponent(m[1])); history.replaceState(null, '', '/'); }
document.getElementById('t').textContent = sessionStorage.getItem('callwright.token') ? 'Signed in for this browser session.' : '';
</script></body></html>`;
}
