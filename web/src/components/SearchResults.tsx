import type { SearchResult } from '../lib/types';
import { Icon } from './icons';

/** Retrieved passages: file, page, score and the ranks that produced it (lexical, vector). */
export function SearchResults({ results, compact, emptyText }: { results: SearchResult[]; compact?: boolean; emptyText: string }) {
  if (results.length === 0) return <p class="muted">{emptyText}</p>;
  return (
    <ol class={`results${compact ? ' compact' : ''}`}>
      {results.map((r) => (
        <li key={r.chunkId} class="result">
          <div class="result-head">
            <span class="result-source">
              <Icon name="file" size={14} /> {r.file}
              {r.page ? <span class="muted"> · page {r.page}</span> : null}
            </span>
            <span class="score" title={ranksTitle(r)}>
              score {r.score.toFixed(3)}
            </span>
          </div>
          {r.share ? <ShareNote r={r} /> : null}
          <p class="result-text">{clip(r.text.replace(/\n{2,}/g, '\n'), compact ? 240 : Infinity)}</p>
          {!compact && (r.ranks.lexical || r.ranks.vector) ? <p class="hint">{ranksTitle(r)}</p> : null}
        </li>
      ))}
    </ol>
  );
}

/** Whether the agent could share the passage, and why (the document's sharing rule). */
function ShareNote({ r }: { r: SearchResult }) {
  const text =
    r.share === 'never'
      ? 'The agent never shares this (sharing: never)'
      : r.agentCanShare
        ? r.share === 'always'
          ? 'The agent can share this (sharing: always)'
          : 'The agent can share this when asked (sharing: when asked and relevant)'
        : 'The agent would not share this for this question: not relevant enough (sharing: when asked and relevant)';
  return (
    <p class={`share-note ${r.agentCanShare ? 'share-yes' : 'share-no'}`} data-share={r.share}>
      <Icon name={r.agentCanShare ? 'check' : 'lock'} size={14} /> {text}
    </p>
  );
}

function ranksTitle(r: SearchResult): string {
  const parts: string[] = [];
  if (r.ranks.lexical) parts.push(`keyword rank ${r.ranks.lexical}`);
  if (r.ranks.vector) parts.push(`meaning rank ${r.ranks.vector}`);
  return parts.join(' · ') || 'score';
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…` : s);
