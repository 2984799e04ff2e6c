import type { Step } from '../lib/call-events';
import { formatDuration } from '../lib/format';
import { Icon } from './icons';

export function StatusSteps({ steps, createdAt }: { steps: Step[]; createdAt?: string }) {
  return (
    <ol class="steps" aria-label="Call progress">
      {steps.map((s) => (
        <li key={s.key} class={`step step-${s.state}`} aria-current={s.state === 'current' ? 'step' : undefined}>
          <span class="step-dot" aria-hidden="true">
            {s.state === 'done' ? <Icon name="check" size={12} /> : null}
          </span>
          <div class="step-body">
            <span class="step-label">
              {s.label}
              <span class="visually-hidden">{s.state === 'done' ? ' (done)' : s.state === 'current' ? ' (now)' : s.state === 'skipped' ? ' (skipped)' : ' (not yet)'}</span>
            </span>
            {s.detail && <span class="step-detail">{s.detail}</span>}
          </div>
          {s.at && createdAt && <time class="muted step-time">{formatDuration((Date.parse(s.at) - Date.parse(createdAt)) / 1000)}</time>}
        </li>
      ))}
    </ol>
  );
}
