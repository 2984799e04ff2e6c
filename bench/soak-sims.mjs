// Worker threads do not inherit the TypeScript loader: register it here, then load the simulator host.
import { register } from 'tsx/esm/api';

register();
await import('./soak-sims.ts');
