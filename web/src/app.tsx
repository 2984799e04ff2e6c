import { useEffect } from 'preact/hooks';
import { session, signOut } from './lib/auth';
import { loadStatus, status as statusStore } from './lib/app-data';
import { useRoute, type Route } from './lib/router';
import { useStore } from './lib/store';
import { effectiveTheme, setTheme, systemDark, theme } from './lib/theme';
import { Icon, Logo, type IconName } from './components/icons';
import { Link, PageHeader } from './components/ui';
import { SignIn } from './pages/SignIn';
import { NewCall } from './pages/NewCall';
import { CallPage } from './pages/Call';
import { History } from './pages/History';
import { Refusals } from './pages/Refusals';
import { Clients } from './pages/Clients';
import { ClientPage } from './pages/Client';
import { Settings } from './pages/Settings';
import { Campaigns } from './pages/Campaigns';
import { CampaignPage } from './pages/Campaign';

const NAV: Array<{ href: string; label: string; icon: IconName; active: (r: Route) => boolean }> = [
  { href: '/', label: 'New call', icon: 'phone', active: (r) => r.name === 'new-call' },
  { href: '/calls', label: 'Calls', icon: 'list', active: (r) => r.name === 'calls' || r.name === 'call' || r.name === 'refusals' },
  { href: '/campaigns', label: 'Campaigns', icon: 'upload', active: (r) => r.name === 'campaigns' || r.name === 'campaign' },
  { href: '/clients', label: 'Clients', icon: 'users', active: (r) => r.name === 'clients' || r.name === 'client' },
  { href: '/settings', label: 'Settings', icon: 'settings', active: (r) => r.name === 'settings' },
];

const TITLES: Record<Route['name'], string> = { 'new-call': 'New call', calls: 'Calls', call: 'Call', clients: 'Clients', client: 'Client', settings: 'Settings', refusals: 'Refused calls', campaigns: 'Campaigns', campaign: 'Campaign', 'not-found': 'Not found' };

export function App() {
  const state = useStore(session);
  const t = state === 'signed-in';
  const route = useRoute();
  const choice = useStore(theme);
  const st = useStore(statusStore);
  useStore(systemDark);

  useEffect(() => {
    if (state !== 'checking') document.title = t ? `${TITLES[route.name]} · Callwright` : 'Sign in · Callwright';
  }, [route.name, state]);
  useEffect(() => {
    if (t) loadStatus().catch(() => undefined);
  }, [t]);

  // While the server is asked whether this browser is signed in: nothing, rather than a flash of the sign-in form.
  if (state === 'checking') return null;
  if (!t) return <SignIn />;
  const dark = effectiveTheme(choice) === 'dark';

  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="sidebar">
        <Link href="/" class="brand" aria-label="Callwright, new call">
          <Logo />
          <span>Callwright</span>
        </Link>
        {st?.simulated && (
          <span class="badge badge-simulated" role="status" title="The carrier is a simulator on this machine: no call reaches a real phone.">
            Simulated
          </span>
        )}
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.href}>
                <Link href={n.href} class={`nav-link${n.active(route) ? ' active' : ''}`} aria-current={n.active(route) ? 'page' : undefined}>
                  <Icon name={n.icon} />
                  <span>{n.label}</span>
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div class="sidebar-actions">
          <button class="btn btn-icon btn-ghost" type="button" onClick={() => setTheme(dark ? 'light' : 'dark')} aria-label={dark ? 'Switch to light theme' : 'Switch to dark theme'} title={dark ? 'Light theme' : 'Dark theme'}>
            <Icon name={dark ? 'sun' : 'moon'} />
          </button>
          <button class="btn btn-icon btn-ghost" type="button" onClick={() => void signOut()} aria-label="Sign out" title="Sign out everywhere">
            <Icon name="logout" />
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1} key={route.name + ('id' in route ? route.id : '')}>
        <Page route={route} />
      </main>
    </div>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.name) {
    case 'new-call':
      return <NewCall />;
    case 'calls':
      return <History />;
    case 'call':
      return <CallPage id={route.id} />;
    case 'clients':
      return <Clients />;
    case 'client':
      return <ClientPage id={route.id} />;
    case 'settings':
      return <Settings />;
    case 'refusals':
      return <Refusals />;
    case 'campaigns':
      return <Campaigns />;
    case 'campaign':
      return <CampaignPage id={route.id} />;
    default:
      return (
        <>
          <PageHeader title="Page not found" />
          <p>
            <Link href="/">Place a call</Link> or see <Link href="/calls">all calls</Link>.
          </p>
        </>
      );
  }
}
