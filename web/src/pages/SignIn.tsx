import { useState } from 'preact/hooks';
import { signIn, SignInError, signOutReason } from '../lib/auth';
import { useStore } from '../lib/store';
import { Logo } from '../components/icons';
import { Alert } from '../components/ui';
import { markNavigated } from '../lib/router';

export function SignIn() {
  const reason = useStore(signOutReason);
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const t = value.trim();
    if (!t) return setError('Enter the API token.');
    setBusy(true);
    setError(null);
    try {
      markNavigated();
      await signIn(t);
    } catch (err) {
      setError(err instanceof SignInError && err.status === 401 ? 'That token was not accepted. Check it and try again.' : (err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" class="signin">
      <form class="signin-card card" onSubmit={submit} noValidate aria-labelledby="signin-title">
        <div class="signin-brand">
          <Logo />
          <span>Callwright</span>
        </div>
        <h1 id="signin-title">Sign in</h1>
        <p class="muted">
          Use the sign-in link <code>npm start</code> printed, or paste the API token (<code>API_TOKEN</code>, or the file <code>data/api-token</code>).
        </p>
        {reason && !error && <Alert tone="warn">{reason}</Alert>}
        <div class="field">
          <label for="token">API token</label>
          <input
            id="token"
            type="password"
            autoComplete="current-password"
            value={value}
            onInput={(e) => setValue((e.target as HTMLInputElement).value)}
            aria-invalid={error ? 'true' : undefined}
            aria-describedby={error ? 'token-error' : 'token-hint'}
            required
          />
          {error ? (
            <p id="token-error" class="field-error">
              {error}
            </p>
          ) : (
            <p id="token-hint" class="hint">
              Exchanged for a sign-in that every tab of this browser shares, until you sign out (the token itself is not kept).
            </p>
          )}
        </div>
        <button class="btn btn-primary btn-block" type="submit" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
