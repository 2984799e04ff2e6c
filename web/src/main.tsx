import { render } from 'preact';
import { startSession } from './lib/auth';
import './lib/theme';
import './styles.css';
import { App } from './app';

// First thing: a token in the address bar is taken out (no history entry or screenshot keeps it) and
// exchanged for the session cookie; otherwise the server says whether this browser is signed in.
void startSession();
render(<App />, document.getElementById('app')!);
