// Worker threads do not inherit the TypeScript loader: register it here, then load the encoder.
import { register } from 'tsx/esm/api';

register();
await import('./soak-mp3.ts');
