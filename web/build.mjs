// Builds the admin console into web/dist: npm's `prepare` script (so `npm install` on a fresh checkout builds it) and
// `npm run build:console`. Plain JavaScript, so it also runs on the system's Node. When Vite is not installed
// (`npm install --omit=dev`), it says so and leaves the console unbuilt: the server still starts, and the console's
// URL explains how to build it. A failing build fails.
import { fileURLToPath } from 'node:url';

let vite;
try {
  vite = await import('vite');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
  console.warn('portcullis: Vite is not installed (dev dependencies omitted), so the admin console is not built.');
  process.exit(0);
}
await vite.build({ configFile: fileURLToPath(new URL('./vite.config.ts', import.meta.url)) });
console.log('portcullis: admin console built into web/dist');
