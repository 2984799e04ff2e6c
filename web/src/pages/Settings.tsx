import type { ComponentChildren } from 'preact';
import { loadStatus } from '../lib/app-data';
import { signOut } from '../lib/auth';
import { useStore } from '../lib/store';
import { setTheme, theme, type ThemeChoice } from '../lib/theme';
import { useAsync } from '../lib/use-async';
import { ENGINE_LABEL } from '../lib/format';
import { countryName } from '../lib/phone';
import { Alert, Card, PageHeader, Spinner } from '../components/ui';
import { Icon } from '../components/icons';

function Row({ label, children, ok }: { label: string; children: ComponentChildren; ok?: boolean }) {
  return (
    <div class="kv">
      <dt>{label}</dt>
      <dd>
        {ok !== undefined && <span class={`dot ${ok ? 'dot-ok' : 'dot-bad'}`} aria-hidden="true" />}
        {children}
      </dd>
    </div>
  );
}

const usd = (n: number) => `$${n.toFixed(2)}`;
const limit = (n: number, show: (n: number) => string = String) => (n === 0 ? 'No limit' : show(n));
const minutes = (sec: number) => (sec % 60 === 0 ? `${sec / 60} min` : `${Math.floor(sec / 60)} min ${sec % 60} s`);

export function Settings() {
  const st = useAsync((signal) => loadStatus(signal), []);
  const choice = useStore(theme);
  const s = st.data;
  return (
    <>
      <PageHeader title="Settings" subtitle="What this server is configured with. Secrets are never shown; change them in .env and restart." />
      {st.error && <Alert title="Could not load the server status">{st.error.message}</Alert>}
      {!s ? (
        st.loading && <Spinner label="Loading status" />
      ) : (
        <div class="grid-2">
          <Card title="Calling" id="calling">
            {s.readyToCall ? <Alert tone="success" title="Ready to place calls" /> : <Alert tone="warn" title="Not ready to place calls">Missing: {s.missing.join('; ')}</Alert>}
            <dl class="kv-list">
              <Row label="Carrier" ok={s.carrier.configured}>
                {s.carrier.name === 'twilio' ? 'Twilio' : s.carrier.name} {s.carrier.configured ? 'configured' : 'not configured'}
              </Row>
              <Row label="Public URL" ok={s.publicUrl}>
                {s.publicUrl ? 'Set (PUBLIC_URL)' : 'Not set: Twilio cannot reach this server'}
              </Row>
              <Row label="Default engine">{ENGINE_LABEL[s.provider] ?? s.provider}</Row>
              {s.engines &&
                (Object.keys(s.engines) as Array<keyof typeof s.engines>).map((k) => (
                  <Row key={k} label={ENGINE_LABEL[k] ?? k} ok={s.engines![k].configured}>
                    {k === 'cascade' ? 'STT, LLM and TTS servers' : s.engines![k].configured ? 'API key set' : 'No API key'} <span class="muted">· {s.engines![k].model}</span>
                  </Row>
                ))}
              {s.recordCalls !== undefined && <Row label="Recording">{s.recordCalls ? 'On (the agent announces it)' : 'Off'}</Row>}
              {s.defaultCountry && (
                <Row label="Default country">
                  {countryName(s.defaultCountry)} ({s.defaultCountry})
                </Row>
              )}
              <Row label="Live calls">{s.liveCalls}</Row>
              <Row label="Version">{s.version}</Row>
            </dl>
          </Card>
          <div class="stack">
            <Card title="Safety" id="safety">
              <dl class="kv-list">
                <Row label="Calling hours">{s.safety.callingHours === 'off' ? 'Off: calls at any hour' : `${s.safety.callingHours}, the callee's local time`}</Row>
                <Row label="Destinations">{s.safety.allowListEntries ? `Allow list: ${s.safety.allowListEntries} ${s.safety.allowListEntries === 1 ? 'entry' : 'entries'}` : 'Any, except emergency and premium-rate numbers'}</Row>
                <Row label="Do-not-call list">{s.safety.doNotCallList ? 'On (DNC_FILE)' : 'None'}</Row>
                <Row label="Calls at once">{limit(s.safety.maxConcurrentCalls)}</Row>
                <Row label="Calls a day">{limit(s.safety.maxCallsPerDay)}</Row>
                <Row label="Cost per call">{limit(s.safety.maxCostPerCallUsd, usd)}</Row>
                <Row label="Cost per day">{limit(s.safety.maxCostPerDayUsd, usd)}</Row>
                <Row label="Longest call">{minutes(s.safety.maxCallSeconds)}</Row>
                <Row label="AI disclosure">{s.safety.discloseAi ? 'The agent says it is an AI assistant' : 'Off'}</Row>
                {s.recordCalls && <Row label="Recording notice">{s.safety.announceRecording ? 'The agent says the call is recorded' : 'Off'}</Row>}
              </dl>
            </Card>
            <Card title="Documents" id="documents">
              <dl class="kv-list">
                <Row label="Search">{s.knowledge.embeddings === 'none' ? 'Keywords' : `Keywords and meaning (${s.knowledge.embeddings === 'openai' ? 'OpenAI' : 'Gemini'} embeddings)`}</Row>
                <Row label="Excerpts per call">{s.knowledge.topK}</Row>
                <Row label="Folder changes">{s.knowledge.watch ? 'Picked up as they happen' : 'Picked up at start-up and on upload'}</Row>
              </dl>
            </Card>
            <Card title="Appearance" id="appearance">
              <fieldset class="field">
                <legend>Theme</legend>
                <div class="segmented">
                  {(['system', 'light', 'dark'] as ThemeChoice[]).map((t) => (
                    <label key={t} class={`segment${choice === t ? ' selected' : ''}`}>
                      <input type="radio" name="theme" value={t} checked={choice === t} onChange={() => setTheme(t)} />
                      <span>{t === 'system' ? 'System' : t === 'light' ? 'Light' : 'Dark'}</span>
                    </label>
                  ))}
                </div>
              </fieldset>
            </Card>
            <Card title="Session" id="session">
              <p class="muted">The API token is kept in this browser tab only. Signing out forgets it here; it stays valid on the server.</p>
              <button class="btn" type="button" onClick={() => signOut()}>
                <Icon name="logout" /> Sign out
              </button>
            </Card>
          </div>
        </div>
      )}
    </>
  );
}
