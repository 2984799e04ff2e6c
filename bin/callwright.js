#!/usr/bin/env node
// The `callwright` command. It runs the TypeScript source through tsx, as `npm start` runs the server;
// this shim is the one place to change once production code is compiled.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
