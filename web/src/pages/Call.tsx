import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError, download } from '../lib/api';
import { buildCallView, describeEvent } from '../lib/call-events';
import { followCall } from '../lib/event-stream';
import { useAsync } from '../lib/use-async';
import type { CallDetail, CostBreakdown, TimelineEvent } from '../lib/types';
import { END_REASON_LABEL, ENGINE_LABEL, formatDate, formatDuration, formatMoney, formatPhone } from '../lib/format';
import { answeredByLabel, voicemailPlanText } from '../lib/call-events';
import { Alert, Card, Link, PageHeader, Spinner, StatusBadge } from '../components/ui';
import { callAgainHref } from '../lib/call-again';
import { Icon } from '../components/icons';
import { Conversation } from '../components/Conversation';
import { StatusSteps } from '../components/StatusSteps';
import { CostTable } from '../components/CostTable';
import { RecordingPlayer } from '../components/RecordingPlayer';
import { OutcomeCard } from '../components/OutcomeCard';
import { NotifyToggle, OwnerQuestions } from '../components/OwnerQuestions';

/** Events after which the stored call (status, cost, recording) has changed. */
const REFRESH_ON = new Set(['status', 'amd', 'usage', 'recording', 'carrier.price', 'records.complete', 'carrier.status', 'outcome', 'webhook']);

export function CallPage({ id }: { id: string }) {
  const detail = useAsync((signal) => api<CallDetail>(`/api/calls/${encodeURIComponent(id)}`, { signal }), [id]);
  const [events, setEvents] = useState<TimelineEvent[]>([]);
  const [connection, setConnection] = useState<'connecting' | 'open' | 'retrying' | 'closed'>('connecting');
  const refreshTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const player = useRef<HTMLAudioElement>(null);

  useEffect(() => {
    setEvents([]);
    const stop = followCall(id, {
      onEvent(ev) {
        setEvents((list) => [...list, ev]);
        if (REFRESH_ON.has(ev.type)) {
          // Several events arrive together (usage after every response): one reload for the burst.
          clearTimeout(refreshTimer.current);
          refreshTimer.current = setTimeout(detail.reload, ev.type === 'usage' ? 600 : 50);
        }
      },
      onEnd: () => setConnection('closed'),
      onConnection: setConnection,
    });
    return () => {
      stop();
      clearTimeout(refreshTimer.current);
    };
  }, [id]);

  const view = useMemo(() => buildCallView(events), [events]);
  const call = detail.data;
  const status = view.status !== 'queued' ? view.status : call?.status ?? 'queued';
  const live = status !== 'ended';
  const answeredAt = call?.answeredAt ?? view.answeredAt;
  const endedAt = call?.endedAt ?? view.endedAt;
  const now = useNow(live && Boolean(answeredAt));
  const talkSec = answeredAt ? ((endedAt ? Date.parse(endedAt) : now) - Date.parse(answeredAt)) / 1000 : null;

  if (detail.error && !call) {
    return (
      <>
        <PageHeader title="Call" back={{ href: '/calls', label: 'All calls' }} />
        <Alert title={detail.error instanceof ApiError && detail.error.status === 404 ? 'No such call' : 'Could not load the call'}>{detail.error.message}</Alert>
      </>
    );
  }
  if (!call) return <Spinner label="Loading the call" />;

  const endReason = view.endReason ?? call.endReason ?? undefined;
  const cost = live ? runningCost(call.cost, talkSec) : call.cost;
  return (
    <>
      <PageHeader
        back={{ href: '/calls', label: 'All calls' }}
        title={call.direction === 'inbound' ? `Incoming from ${formatPhone(call.from ?? 'unknown')}` : formatPhone(call.to)}
        subtitle={
          <>
            {call.clientName ? `For ${call.clientName} · ` : ''}
            {ENGINE_LABEL[call.provider] ?? call.provider} · {formatDate(call.createdAt)}
          </>
        }
        actions={
          live ? (
            <>
              <NotifyToggle />
              <Transfer id={id} />
              <HangUp id={id} />
            </>
          ) : (
            <>
              {call.direction === 'outbound' && (
                <Link class="btn" href={callAgainHref(id)}>
                  <Icon name="phone" /> Call again
                </Link>
              )}
              <DownloadTranscript id={id} />
            </>
          )
        }
      />

      {/* What came of the call comes first, once it has ended. */}
      {!live && call.outcome && <OutcomeCard outcome={call.outcome} />}
      {live && <OwnerQuestions callId={id} questions={view.questions} />}

      <div class="stats" aria-label="Call summary">
        <div class="stat">
          <span class="stat-label">Status</span>
          <span class="stat-value" aria-live="polite">
            <StatusBadge status={status} endReason={endReason} />
          </span>
          {/* Outside the live region: a clock ticking every second is not news to a screen reader. */}
          {live && view.mode === 'on-hold' && view.modeSince && (
            <span class="muted mono" data-testid="on-hold">
              on hold {formatDuration((now - Date.parse(view.modeSince)) / 1000)}
            </span>
          )}
        </div>
        <div class="stat">
          <span class="stat-label">{live ? 'Elapsed' : 'Duration'}</span>
          <span class="stat-value mono" data-testid="elapsed">
            {formatDuration(live ? talkSec : call.durationSec ?? talkSec)}
          </span>
        </div>
        <div class="stat">
          <span class="stat-label">{live ? 'Running cost' : 'Cost'}</span>
          <span class="stat-value mono" data-testid="cost">
            {formatMoney(cost.total, cost.currency)}
          </span>
        </div>
        <div class="stat">
          <span class="stat-label">Answered by</span>
          <span class="stat-value">{answeredByLabel(view.answeredBy ?? call.answeredBy) ?? '—'}</span>
        </div>
      </div>
      {connection === 'retrying' && live && <Alert tone="warn">Reconnecting to the live call…</Alert>}

      <div class="grid-call">
        <Card title={live ? 'Live transcript' : 'Transcript'} id="transcript" class="transcript-card">
          <Conversation items={view.items} startedAt={answeredAt ?? call.createdAt} live={live} onSeek={!live && call.recording ? (sec) => seek(player.current, sec) : undefined} />
        </Card>

        <div class="side">
          <Card title="Progress" id="progress">
            <StatusSteps steps={view.steps} createdAt={call.createdAt} />
            {endReason && call.error && (
              <p class="end-reason">
                <span class="visually-hidden">{END_REASON_LABEL[endReason] ?? endReason}: </span>
                {call.error}
              </p>
            )}
          </Card>

          {!live && (
            <Card title="Recording" id="recording">
              {call.recording ? (
                <RecordingPlayer audioRef={player} url={call.recording.url} label={call.direction === 'inbound' ? `Recording of the call from ${formatPhone(call.from ?? 'unknown')}` : `Recording of the call to ${formatPhone(call.to)}`} />
              ) : (
                <p class="muted">{view.complete || !answeredAt ? 'No recording for this call.' : 'The recording arrives from the carrier in a moment…'}</p>
              )}
            </Card>
          )}

          <Card title="Instructions" id="instructions">
            <p class="instructions">{call.instructions}</p>
            {view.voicemail && (
              <p class="muted" data-testid="voicemail-plan">
                <strong>If voicemail answers:</strong> {voicemailPlanText(view.voicemail)}
              </p>
            )}
          </Card>

          <Card title="Cost" id="cost">
            <CostTable cost={cost} />
          </Card>
        </div>
      </div>

      <details class="card event-log">
        <summary>
          Event log <span class="muted">({events.length} events)</span>
        </summary>
        <ol tabIndex={0} aria-label="Every event of this call">
          {events.map((ev) => (
            <li key={ev.seq}>
              <time class="mono muted">{new Date(ev.at).toLocaleTimeString()}</time> <code>{ev.type}</code> {describeEvent(ev)}
            </li>
          ))}
        </ol>
      </details>
    </>
  );
}

/** Plays the recording from `sec` (the recording starts when the call is answered). */
function seek(audio: HTMLAudioElement | null, sec: number): void {
  if (!audio) return;
  audio.currentTime = sec;
  audio.scrollIntoView({ block: 'nearest' });
  void audio.play().catch(() => undefined);
}

/** While live, the carrier estimate grows with the started minutes; the AI usage lines come from the server. */
function runningCost(cost: CostBreakdown, talkSec: number | null): CostBreakdown {
  const estimate = cost.lines.find((l) => l.source === 'estimate');
  if (!estimate || estimate.unitPrice === null || talkSec === null) return cost;
  const minutes = Math.max(1, Math.ceil(talkSec / 60));
  const lines = cost.lines.map((l) => (l === estimate ? { ...l, quantity: minutes, amount: minutes * (l.unitPrice ?? 0) } : l));
  return { ...cost, lines, total: lines.reduce((a, l) => a + l.amount, 0) };
}

function useNow(ticking: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!ticking) return;
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [ticking]);
  return now;
}

function HangUp({ id }: { id: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  return (
    <div class="hangup">
      <button
        class="btn btn-danger btn-lg"
        type="button"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          setError(undefined);
          try {
            await api(`/api/calls/${encodeURIComponent(id)}/hangup`, { method: 'POST' });
          } catch (err) {
            // 409: it ended meanwhile; the event stream shows how.
            if (!(err instanceof ApiError && err.status === 409)) setError((err as Error).message);
            setBusy(false);
          }
        }}
      >
        <Icon name="phoneOff" /> {busy ? 'Hanging up…' : 'Hang up'}
      </button>
      <ActionError message={error} />
    </div>
  );
}

/**
 * Hand the call over: to the owner (OWNER_PHONE) or a destination set on the call. Warm: the owner is
 * called and briefed first, and the agent comes back if they do not answer; cold: connected at once.
 */
function Transfer({ id }: { id: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [note, setNote] = useState<string>();
  const go = async (mode: 'warm' | 'cold') => {
    setBusy(true);
    setError(undefined);
    setNote(undefined);
    try {
      await api(`/api/calls/${encodeURIComponent(id)}/transfer`, { method: 'POST', json: { mode } });
      if (mode === 'warm') setNote('Calling the owner: the progress shows in the transcript.');
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="transfer">
      <button class="btn btn-lg" type="button" disabled={busy} onClick={() => void go('warm')} title="Call the owner, brief them, then join them to the callee">
        <Icon name="phone" /> {busy ? 'Transferring…' : 'Transfer (warm)'}
      </button>
      <button class="btn btn-lg" type="button" disabled={busy} onClick={() => void go('cold')} title="Connect the callee to the owner at once; the agent leaves">
        Transfer now
      </button>
      <ActionError message={error} />
      {note && (
        <p class="muted" role="status">
          {note}
        </p>
      )}
    </div>
  );
}

function DownloadTranscript({ id }: { id: string }) {
  const [error, setError] = useState<string>();
  return (
    <div>
      <button class="btn" type="button" onClick={() => download(`/api/calls/${encodeURIComponent(id)}/transcript.txt`, `call-${id}.txt`).catch((e: Error) => setError(e.message))}>
        <Icon name="download" /> Transcript (.txt)
      </button>{' '}
      <button class="btn" type="button" onClick={() => download(`/api/calls/${encodeURIComponent(id)}/export.json`, `call-${id}.json`).catch((e: Error) => setError(e.message))}>
        <Icon name="download" /> Export (.json)
      </button>
      <ActionError message={error} />
    </div>
  );
}

function ActionError({ message }: { message?: string }) {
  return message ? (
    <p class="field-error" role="alert">
      {message}
    </p>
  ) : null;
}
