// The device platform Conditional Access matches on, read from the User-Agent header. A hint, not proof (anyone can
// send any User-Agent), which is also how Entra treats it; unrecognised agents are `unknown`.
import type { DevicePlatform } from '../policy/types.ts';

export type DetectedPlatform = Exclude<DevicePlatform, 'all'> | 'unknown';

/** Checked in order: the first pattern that matches wins (Android says "Linux", iPadOS may say "Macintosh"). */
const RULES: readonly (readonly [RegExp, DetectedPlatform])[] = [
  [/Windows Phone/i, 'windowsPhone'],
  [/Android/i, 'android'],
  [/iPhone|iPad|iPod|\biOS\b|CFNetwork|Darwin.*Mobile/i, 'iOS'],
  // iPadOS 13+ sends a desktop Safari User-Agent; a touch-capable "Macintosh" cannot be told apart here.
  [/Macintosh|Mac OS X|macOS/i, 'macOS'],
  [/Windows|Win64|Win32|WOW64/i, 'windows'],
  [/CrOS|Linux|X11|Ubuntu|Fedora/i, 'linux'],
];

const MAX_USER_AGENT = 1024;

export function devicePlatformOf(userAgent: string | undefined): DetectedPlatform {
  if (typeof userAgent !== 'string' || userAgent.length === 0) return 'unknown';
  const text = userAgent.length > MAX_USER_AGENT ? userAgent.slice(0, MAX_USER_AGENT) : userAgent;
  for (const [pattern, platform] of RULES) if (pattern.test(text)) return platform;
  return 'unknown';
}

/** Graph's `deviceDetail.browser` for the sign-in log: the browser family and major version, or `Other`. */
export function browserOf(userAgent: string | undefined): string {
  if (typeof userAgent !== 'string') return 'Other';
  const text = userAgent.slice(0, MAX_USER_AGENT);
  const match =
    /\b(Edg)\/(\d+)/.exec(text) ??
    /\b(Firefox)\/(\d+)/.exec(text) ??
    /\b(Chrome|Chromium|HeadlessChrome)\/(\d+)/.exec(text) ??
    /Version\/(\d+).*\b(Safari)\//.exec(text);
  if (!match) return 'Other';
  if (match[2] === 'Safari') return `Safari ${match[1]}`;
  const name = match[1] === 'Edg' ? 'Edge' : match[1] === 'HeadlessChrome' ? 'Chrome' : match[1];
  return `${name} ${match[2]}`;
}
