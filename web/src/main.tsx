import { render } from 'preact';
import { takeTokenFromUrl } from './lib/auth';
import './lib/theme';
import './styles.css';
import { App } from './app';

// First thing: take the token out of the address bar, so it is in no history entry or screenshot.
takeTokenFromUrl();
render(<App />, document.getElementById('app')!);
