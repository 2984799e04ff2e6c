import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { ConversationItem } from '../lib/call-events';
import { formatDuration } from '../lib/format';
import { Icon } from './icons';

/** The transcript with tool calls, lookups and notable moments inline, in the order the callee lived them. */
/**
 * `onSeek`: the recording is there, and each line's time (seconds from `startedAt`, where the recording
 * starts) becomes a button that plays the recording from that moment.
 */
export function Conversation({ items, startedAt, live, onSeek }: { items: ConversationItem[]; startedAt?: string; live: boolean; onSeek?: (sec: number) => void }) {
  const box = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  useEffect(() => {
    const el = box.current;
    if (el && live && stick.current) el.scrollTop = el.scrollHeight;
  }, [items.length, live]);
  const at = (iso: string) => {
    if (!startedAt) return '';
    const sec = Math.max(0, (Date.parse(iso) - Date.parse(startedAt)) / 1000);
    const label = formatDuration(sec);
    if (!onSeek) return label;
    return (
      <button type="button" class="seek-time" onClick={() => onSeek(Math.floor(sec))} aria-label={`Play the recording from ${label}`}>
        {label}
      </button>
    );
  };

  if (items.length === 0) {
    return <p class="muted conversation-empty">{live ? 'The conversation appears here as it is spoken.' : 'Nothing was said on this call.'}</p>;
  }
  return (
    <div
      ref={box}
      class={`conversation-scroll${live ? ' live' : ''}`}
      role="log"
      aria-live={live ? 'polite' : 'off'}
      aria-relevant="additions"
      aria-label="Transcript"
      tabIndex={0}
      onScroll={(e) => {
        const el = e.currentTarget;
        stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
      }}
    >
      <ol class="conversation">
        {items.map((it) => (
          <li key={it.seq} class={`item item-${it.kind}${it.kind === 'turn' ? ` turn-${it.speaker}` : ''}${it.kind === 'note' ? ` note-${it.tone}` : ''}`}>
            <ItemBody item={it} time={at(it.at)} />
          </li>
        ))}
      </ol>
    </div>
  );
}

function ItemBody({ item: it, time }: { item: ConversationItem; time: ComponentChildren }) {
  switch (it.kind) {
    case 'turn': {
      const heard = it.interrupted ? it.interrupted.heardText : it.text;
      const unheard = it.interrupted ? it.text.slice(it.interrupted.heardText.length).trim() : '';
      return (
        <div class="bubble">
          <div class="bubble-head">
            <span class="speaker">{it.speaker === 'agent' ? 'Agent' : 'Callee'}</span>
            <time class="muted">{time}</time>
          </div>
          <p class="bubble-text">
            {heard}
            {it.interrupted && (
              <>
                {heard ? '— ' : ''}
                {unheard && (
                  <span class="unheard">
                    <span class="visually-hidden">Not heard: </span>
                    {unheard}
                  </span>
                )}
              </>
            )}
          </p>
          {it.interrupted && (
            <p class="interrupted-tag">
              <Icon name="x" size={12} /> Interrupted: the callee heard {(it.interrupted.heardMs / 1000).toFixed(1)} s of {(it.interrupted.totalMs / 1000).toFixed(1)} s
            </p>
          )}
        </div>
      );
    }
    case 'tool':
      return (
        <div class="inline-event">
          <Icon name="tool" size={14} />
          <span>
            <strong>{it.name}</strong> <code class="args">{formatArgs(it.args)}</code>
            {it.result ? <span class={it.result.ok ? 'tool-ok' : 'tool-failed'}> → {it.result.ok ? 'done' : 'failed'}{it.result.output ? `: ${truncate(it.result.output, 160)}` : ''}</span> : <span class="muted"> → running…</span>}
          </span>
          <time class="muted">{time}</time>
        </div>
      );
    case 'lookup':
      return (
        <div class="inline-event lookup">
          <Icon name="book" size={14} />
          <div>
            <span>
              Looked up <strong>“{it.query}”</strong>: {it.results.length} passage{it.results.length === 1 ? '' : 's'}
            </span>
            {it.results.length > 0 && (
              <ul class="sources">
                {it.results.map((r, i) => (
                  <li key={i}>
                    {r.file}
                    {r.page ? `, p. ${r.page}` : ''}
                    {r.score !== undefined ? <span class="muted"> ({r.score.toFixed(2)})</span> : null}
                  </li>
                ))}
              </ul>
            )}
          </div>
          <time class="muted">{time}</time>
        </div>
      );
    case 'sources':
      return (
        <div class="inline-event lookup">
          <Icon name="book" size={14} />
          <div>
            <span>The agent was briefed with {it.sources.length} passage{it.sources.length === 1 ? '' : 's'} from the client's documents</span>
            {it.sources.length > 0 && (
              <ul class="sources">
                {it.sources.map((r, i) => (
                  <li key={i}>
                    {r.file}
                    {r.page ? `, p. ${r.page}` : ''}
                  </li>
                ))}
              </ul>
            )}
          </div>
          <time class="muted">{time}</time>
        </div>
      );
    case 'note':
      return (
        <div class="inline-event">
          <Icon name={it.tone === 'info' ? 'info' : 'alert'} size={14} />
          <span>{it.text}</span>
          <time class="muted">{time}</time>
        </div>
      );
  }
}

function formatArgs(args: unknown): string {
  if (args && typeof args === 'object') {
    const entries = Object.entries(args as Record<string, unknown>);
    return `(${entries.map(([k, v]) => `${k}: ${typeof v === 'string' ? `“${v}”` : JSON.stringify(v)}`).join(', ')})`;
  }
  return args === undefined ? '()' : `(${JSON.stringify(args)})`;
}

const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…` : s);
