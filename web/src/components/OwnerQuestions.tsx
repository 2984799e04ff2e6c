import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../lib/api';
import type { OwnerQuestionView } from '../lib/call-events';

/** One-tap answers; anything else goes in the box. */
const QUICK_REPLIES = ['Yes', 'No', "Don't agree to anything yet"];

/**
 * The agent's questions to the owner (ask_owner), shown first on the live call page: each with an
 * answer box and quick replies. The first answer on any channel (this page, SMS, webhook) wins; a
 * question closed meanwhile disappears when its event arrives.
 */
export function OwnerQuestions({ callId, questions }: { callId: string; questions: OwnerQuestionView[] }) {
  const open = questions.filter((q) => q.state === 'open');
  useQuestionNotifications(open);
  if (!open.length) return null;
  return (
    <div class="owner-questions" aria-live="assertive">
      {open.map((q) => (
        <QuestionCard key={q.id} callId={callId} q={q} />
      ))}
    </div>
  );
}

function QuestionCard({ callId, q }: { callId: string; q: OwnerQuestionView }) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const inputId = `answer-${q.id}`;
  const send = async (answer: string) => {
    if (!answer.trim()) {
      setError('Write an answer first, or pick one of the quick replies.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await api(`/api/calls/${encodeURIComponent(callId)}/questions/${encodeURIComponent(q.id)}/answer`, { method: 'POST', json: { answer, channel: 'ui' } });
      // The card goes when `owner.answered` arrives on the event stream.
    } catch (err) {
      setError(err instanceof ApiError && err.status === 409 ? 'This question is already closed.' : (err as Error).message);
      setBusy(false);
    }
  };
  return (
    <section class="card question-card" aria-labelledby={`q-${q.id}`}>
      <h2 id={`q-${q.id}`} class="question-title">
        The agent asks {q.ownerName}
      </h2>
      <p class="question-text">{q.question}</p>
      <div class="quick-replies" role="group" aria-label="Quick replies">
        {QUICK_REPLIES.map((r) => (
          <button key={r} type="button" class="btn" disabled={busy} onClick={() => send(r)}>
            {r}
          </button>
        ))}
      </div>
      <form
        class="answer-form"
        onSubmit={(e) => {
          e.preventDefault();
          void send(text);
        }}
      >
        <div class="field">
          <label for={inputId}>Your answer</label>
          <input id={inputId} type="text" maxLength={1000} value={text} autoComplete="off" onInput={(e) => setText((e.target as HTMLInputElement).value)} aria-invalid={error ? 'true' : undefined} aria-describedby={error ? `${inputId}-error` : undefined} />
        </div>
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {busy ? 'Sending…' : 'Send answer'}
        </button>
      </form>
      {q.timeoutMs !== undefined && <p class="muted question-hint">With no answer in {Math.round(q.timeoutMs / 1000)} s the agent says it will check with you and get back to them.</p>}
      {error && (
        <p class="field-error" id={`${inputId}-error`} role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

/**
 * A browser notification for each new question while this page is open (if the person allowed them),
 * so a question reaches them in another tab. Asking for permission needs a click: see NotifyToggle.
 */
function useQuestionNotifications(open: OwnerQuestionView[]): void {
  const shown = useRef(new Set<string>());
  useEffect(() => {
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    for (const q of open) {
      if (shown.current.has(q.id)) continue;
      shown.current.add(q.id);
      try {
        const n = new Notification(`Question from your call: ${q.ownerName}?`, { body: q.question, tag: q.id });
        n.onclick = () => window.focus();
      } catch {
        // Some browsers allow notifications only from a service worker: the card on the page remains.
      }
    }
  }, [open.map((q) => q.id).join(',')]);
}

/** Offers to turn on browser notifications for questions (the permission prompt needs a click). */
export function NotifyToggle() {
  const [permission, setPermission] = useState(typeof Notification === 'undefined' ? 'unsupported' : Notification.permission);
  if (permission !== 'default') return null;
  return (
    <button type="button" class="btn btn-ghost" onClick={() => Notification.requestPermission().then(setPermission)}>
      Notify me of questions
    </button>
  );
}
