import type { AnchorHTMLAttributes, ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { navigated, onLinkClick } from '../lib/router';
import { Icon } from './icons';
import { STATUS_LABEL, END_REASON_LABEL } from '../lib/format';

export function Link({ href, children, class: cls, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  return (
    <a href={href} class={cls} onClick={onLinkClick} {...rest}>
      {children}
    </a>
  );
}

/** Page heading that takes focus after navigation, so screen readers announce the new page. */
export function PageHeader({ title, subtitle, actions, back }: { title: ComponentChildren; subtitle?: ComponentChildren; actions?: ComponentChildren; back?: { href: string; label: string } }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (navigated) ref.current?.focus({ preventScroll: true });
  }, []);
  return (
    <div class="page-header">
      <div class="page-header-text">
        {back && (
          <Link class="back-link" href={back.href}>
            <Icon name="arrowLeft" size={16} /> {back.label}
          </Link>
        )}
        <h1 ref={ref} tabIndex={-1}>
          {title}
        </h1>
        {subtitle && <p class="subtitle">{subtitle}</p>}
      </div>
      {actions && <div class="page-actions">{actions}</div>}
    </div>
  );
}

export function Card({ title, children, class: cls, actions, id }: { title?: ComponentChildren; children: ComponentChildren; class?: string; actions?: ComponentChildren; id?: string }) {
  const headingId = id ? `${id}-title` : undefined;
  return (
    <section class={`card${cls ? ` ${cls}` : ''}`} aria-labelledby={title ? headingId : undefined} id={id}>
      {(title || actions) && (
        <div class="card-header">
          {title && <h2 id={headingId}>{title}</h2>}
          {actions}
        </div>
      )}
      {children}
    </section>
  );
}

export function Alert({ tone = 'error', title, children }: { tone?: 'error' | 'warn' | 'info' | 'success'; title?: string; children?: ComponentChildren }) {
  return (
    <div class={`alert alert-${tone}`} role={tone === 'error' ? 'alert' : 'status'}>
      <Icon name={tone === 'success' ? 'check' : tone === 'info' ? 'info' : 'alert'} />
      <div>
        {title && <strong>{title}</strong>}
        {children && <div>{children}</div>}
      </div>
    </div>
  );
}

export function StatusBadge({ status, endReason }: { status: string; endReason?: string | null }) {
  const live = status !== 'ended';
  const tone = live ? 'live' : endReason && ['agent-hangup', 'callee-hangup', 'user-hangup'].includes(endReason) ? 'ok' : endReason === 'voicemail' || endReason === 'voicemail-left' || endReason === 'no-answer' || endReason === 'busy' || endReason === 'canceled' ? 'neutral' : 'bad';
  return (
    <span class={`badge badge-${tone}`} title={endReason ? END_REASON_LABEL[endReason] ?? endReason : undefined}>
      {live && <span class="pulse" aria-hidden="true" />}
      {live ? STATUS_LABEL[status] ?? status : endReason ? shortReason(endReason) : 'Ended'}
    </span>
  );
}

function shortReason(r: string): string {
  const m: Record<string, string> = { 'agent-hangup': 'Completed', 'callee-hangup': 'Callee hung up', 'user-hangup': 'Hung up', voicemail: 'Voicemail', 'voicemail-left': 'Message left', 'no-answer': 'No answer', busy: 'Busy', failed: 'Failed', canceled: 'Canceled', 'max-duration': 'Time limit', 'provider-error': 'AI error', 'media-error': 'Audio error', 'dial-error': 'Dial error', interrupted: 'Interrupted', 'node-lost': 'Node lost' };
  return m[r] ?? r;
}

export function Spinner({ label = 'Loading' }: { label?: string }) {
  return (
    <span class="spinner-wrap" role="status">
      <span class="spinner" aria-hidden="true" />
      <span class="visually-hidden">{label}</span>
    </span>
  );
}

export function Empty({ icon, title, children }: { icon: Parameters<typeof Icon>[0]['name']; title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <Icon name={icon} size={28} />
      <p class="empty-title">{title}</p>
      {children && <div class="empty-body">{children}</div>}
    </div>
  );
}

/** A table's footer that fetches and appends the next page; says so if that fails, and can be tried again. */
export function LoadMore({ load }: { load: () => Promise<void> }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const onClick = async () => {
    setBusy(true);
    setError(null);
    try {
      await load();
    } catch (e) {
      setError(`Could not load more: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="table-footer">
      {error && (
        <p class="field-error" role="alert">
          {error}
        </p>
      )}
      <button class="btn" type="button" disabled={busy} onClick={onClick}>
        {busy ? 'Loading…' : 'Load more'}
      </button>
    </div>
  );
}
