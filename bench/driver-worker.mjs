// Worker threads do not inherit the TypeScript loader: register it here, then load the driver.
import { register } from 'tsx/esm/api';

register();
await import('./driver-worker.ts');
