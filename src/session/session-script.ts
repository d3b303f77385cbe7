// The drop-in expiry-warning script for applications, served at /assets/session.js. Its source is
// assets/session.js: plain browser JavaScript, sent as it is (no build step), read once at start-up.
import { readFileSync } from 'node:fs';

export const SESSION_SCRIPT_PATH = '/assets/session.js';

export const SESSION_SCRIPT: string = readFileSync(new URL('./assets/session.js', import.meta.url), 'utf8');
