// START_TIME formatting: Envoy's `%START_TIME(fmt)%` date format (strftime-like, with
// absl's `%E...` extensions and Envoy's `%s` / `%[1-9]f` / `%f` sub-second specifiers),
// compiled once at config time. Always UTC, as Envoy's START_TIME is.
//
// Envoy docs: "Access logging → Command operators → START_TIME". Per request the
// formatter recomputes only the sub-second pieces: everything that depends on whole
// seconds is cached for the current second (and the whole result for the current
// millisecond), so a busy proxy builds each date string about once a second instead
// of once per request.

import type { ConfigIssue } from '../../core/errors.js';

/** Formats an epoch-milliseconds timestamp. One instance per compiled operator (it caches). */
export interface TimeFormatter {
  format(epochMs: number): string;
}

/** Envoy's default START_TIME layout: ISO 8601 with milliseconds, UTC (`2024-01-01T00:00:00.000Z`). */
export const DEFAULT_START_TIME_FORMAT = '%Y-%m-%dT%H:%M:%E3SZ';

const DAY_SHORT = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const DAY_LONG = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTH_SHORT = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH_LONG = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

// Piece kinds. Whole-second kinds are < SUBSECOND; they are rendered once per second.
const K_LITERAL = 0;
const K_YEAR = 1; // %Y
const K_YEAR2 = 2; // %y
const K_MONTH = 3; // %m
const K_DAY = 4; // %d
const K_DAY_SPACE = 5; // %e
const K_HOUR = 6; // %H
const K_HOUR12 = 7; // %I
const K_MINUTE = 8; // %M
const K_SECOND = 9; // %S
const K_AMPM = 10; // %p
const K_YDAY = 11; // %j
const K_WDAY_SHORT = 12; // %a
const K_WDAY_LONG = 13; // %A
const K_MONTH_SHORT = 14; // %b %h
const K_MONTH_LONG = 15; // %B
const K_WDAY_MON1 = 16; // %u
const K_WDAY_SUN0 = 17; // %w
const K_EPOCH_SECONDS = 18; // %s
const SUBSECOND = 100;
const K_FRACTION = 101; // %f %[1-9]f %E[1-9]f: `digits` digits of the fraction
const K_FRACTION_ALL = 102; // %E*f: the fraction with trailing zeros trimmed ("0" when none)
const K_SECOND_FRACTION = 103; // %E[0-9]S: "SS.fff"
const K_SECOND_FRACTION_ALL = 104; // %E*S: "SS" or "SS.f..." with trailing zeros trimmed

interface Piece {
  readonly kind: number;
  /** Literal text for K_LITERAL; unused otherwise. */
  readonly text: string;
  /** Fraction digits for the fraction kinds. */
  readonly digits: number;
}

function lit(text: string): Piece {
  return { kind: K_LITERAL, text, digits: 0 };
}

function dir(kind: number, digits = 0): Piece {
  return { kind, text: '', digits };
}

const SIMPLE_DIRECTIVES: Readonly<Record<string, readonly Piece[]>> = {
  Y: [dir(K_YEAR)],
  y: [dir(K_YEAR2)],
  m: [dir(K_MONTH)],
  d: [dir(K_DAY)],
  e: [dir(K_DAY_SPACE)],
  H: [dir(K_HOUR)],
  I: [dir(K_HOUR12)],
  M: [dir(K_MINUTE)],
  S: [dir(K_SECOND)],
  p: [dir(K_AMPM)],
  j: [dir(K_YDAY)],
  a: [dir(K_WDAY_SHORT)],
  A: [dir(K_WDAY_LONG)],
  b: [dir(K_MONTH_SHORT)],
  h: [dir(K_MONTH_SHORT)],
  B: [dir(K_MONTH_LONG)],
  u: [dir(K_WDAY_MON1)],
  w: [dir(K_WDAY_SUN0)],
  s: [dir(K_EPOCH_SECONDS)],
  // Envoy: a bare %f is nanoseconds (same as %9f).
  f: [dir(K_FRACTION, 9)],
  // Always UTC.
  z: [lit('+0000')],
  Z: [lit('UTC')],
  F: [dir(K_YEAR), lit('-'), dir(K_MONTH), lit('-'), dir(K_DAY)],
  T: [dir(K_HOUR), lit(':'), dir(K_MINUTE), lit(':'), dir(K_SECOND)],
  R: [dir(K_HOUR), lit(':'), dir(K_MINUTE)],
  D: [dir(K_MONTH), lit('/'), dir(K_DAY), lit('/'), dir(K_YEAR2)],
  n: [lit('\n')],
  t: [lit('\t')],
  '%': [lit('%')],
};

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

/** Parses `fmt` into pieces; unsupported directives become issues at `path`. */
function parse(fmt: string, path: string, issues: ConfigIssue[]): Piece[] {
  const pieces: Piece[] = [];
  let text = '';
  const flush = (): void => {
    if (text !== '') pieces.push(lit(text));
    text = '';
  };
  let i = 0;
  while (i < fmt.length) {
    const c = fmt[i];
    if (c !== '%') {
      text += c;
      i++;
      continue;
    }
    const d = fmt[i + 1];
    if (d === undefined) {
      issues.push({ path, message: `START_TIME format "${fmt}" ends with a lone '%'` });
      break;
    }
    const simple = SIMPLE_DIRECTIVES[d];
    if (simple !== undefined) {
      for (const p of simple) {
        if (p.kind === K_LITERAL) text += p.text;
        else {
          flush();
          pieces.push(p);
        }
      }
      i += 2;
      continue;
    }
    // Envoy's %1f..%9f: that many fraction digits.
    if (isDigit(d) && d !== '0' && fmt[i + 2] === 'f') {
      flush();
      pieces.push(dir(K_FRACTION, Number(d)));
      i += 3;
      continue;
    }
    // absl extensions: %Ez, %E#S, %E*S, %E#f, %E*f.
    if (d === 'E') {
      const e1 = fmt[i + 2];
      const e2 = fmt[i + 3];
      if (e1 === 'z') {
        text += '+00:00';
        i += 3;
        continue;
      }
      if ((e1 === '*' || (e1 !== undefined && isDigit(e1))) && (e2 === 'S' || e2 === 'f')) {
        flush();
        if (e1 === '*') pieces.push(dir(e2 === 'S' ? K_SECOND_FRACTION_ALL : K_FRACTION_ALL));
        else if (e2 === 'S') pieces.push(dir(K_SECOND_FRACTION, Number(e1)));
        else if (e1 === '0') pieces.push(lit(''));
        else pieces.push(dir(K_FRACTION, Number(e1)));
        i += 4;
        continue;
      }
    }
    const shown = d === 'E' ? fmt.slice(i, i + 4) : fmt.slice(i, i + 2);
    issues.push({
      path,
      message:
        `START_TIME format directive "${shown}" is not supported; use %Y %y %m %d %e %H %I %M %S %p ` +
        '%j %a %A %b %B %u %w %s %z %Z %F %T %R %D %f %1f-%9f %E1f-%E9f %E*f %E0S-%E9S %E*S %Ez or %%',
    });
    i += 2;
  }
  flush();
  return pieces;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

function pad3(n: number): string {
  return n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`;
}

function pad4(n: number): string {
  return n >= 1000 ? `${n}` : n >= 0 ? `000${n}`.slice(-4) : `${n}`;
}

/** The first `digits` (1-9) digits of the fraction; the clock has millisecond resolution. */
function fractionDigits(ms: number, digits: number): string {
  const three = pad3(ms);
  if (digits === 3) return three;
  return digits < 3 ? three.slice(0, digits) : three + '000000'.slice(0, digits - 3);
}

function trimFraction(ms: number): string {
  if (ms === 0) return '';
  let s = pad3(ms);
  while (s.endsWith('0')) s = s.slice(0, -1);
  return s;
}

class CompiledTimeFormat implements TimeFormatter {
  private cachedSecond = Number.NaN;
  /** The sub-second pieces, in order. */
  private readonly subPieces: Piece[];
  /**
   * For the cached second: the whole-second text between sub-second pieces
   * (`runs.length === subPieces.length + 1`), so a call concatenates only a few strings.
   */
  private readonly runs: string[];
  /** "SS" of the cached second, for %E#S / %E*S. */
  private secondsText = '';
  // The last result, reused while requests share a millisecond.
  private lastMs = Number.NaN;
  private lastText = '';

  constructor(private readonly pieces: readonly Piece[]) {
    this.subPieces = pieces.filter((p) => p.kind >= SUBSECOND);
    this.runs = new Array<string>(this.subPieces.length + 1).fill('');
  }

  format(epochMs: number): string {
    if (epochMs === this.lastMs) return this.lastText;
    const second = Math.floor(epochMs / 1000);
    if (second !== this.cachedSecond) this.renderSecond(second);
    const runs = this.runs;
    let out = runs[0];
    if (runs.length > 1) {
      const ms = Math.floor(epochMs - second * 1000);
      const sub = this.subPieces;
      for (let i = 0; i < sub.length; i++) {
        out += renderSubsecond(sub[i], ms, this.secondsText);
        out += runs[i + 1];
      }
    }
    this.lastMs = epochMs;
    this.lastText = out;
    return out;
  }

  private renderSecond(second: number): void {
    this.cachedSecond = second;
    const date = new Date(second * 1000);
    this.secondsText = pad2(date.getUTCSeconds());
    let run = 0;
    let text = '';
    for (const p of this.pieces) {
      if (p.kind < SUBSECOND) {
        text += renderWhole(p, date, second);
      } else {
        this.runs[run++] = text;
        text = '';
      }
    }
    this.runs[run] = text;
  }
}

function renderWhole(p: Piece, date: Date, second: number): string {
  switch (p.kind) {
    case K_LITERAL:
      return p.text;
    case K_YEAR:
      return pad4(date.getUTCFullYear());
    case K_YEAR2:
      return pad2(((date.getUTCFullYear() % 100) + 100) % 100);
    case K_MONTH:
      return pad2(date.getUTCMonth() + 1);
    case K_DAY:
      return pad2(date.getUTCDate());
    case K_DAY_SPACE: {
      const d = date.getUTCDate();
      return d < 10 ? ` ${d}` : `${d}`;
    }
    case K_HOUR:
      return pad2(date.getUTCHours());
    case K_HOUR12: {
      const h = date.getUTCHours() % 12;
      return pad2(h === 0 ? 12 : h);
    }
    case K_MINUTE:
      return pad2(date.getUTCMinutes());
    case K_SECOND:
      return pad2(date.getUTCSeconds());
    case K_AMPM:
      return date.getUTCHours() < 12 ? 'AM' : 'PM';
    case K_YDAY: {
      const startOfYear = Date.UTC(date.getUTCFullYear(), 0, 1);
      return pad3(Math.floor((date.getTime() - startOfYear) / 86_400_000) + 1);
    }
    case K_WDAY_SHORT:
      return DAY_SHORT[date.getUTCDay()];
    case K_WDAY_LONG:
      return DAY_LONG[date.getUTCDay()];
    case K_MONTH_SHORT:
      return MONTH_SHORT[date.getUTCMonth()];
    case K_MONTH_LONG:
      return MONTH_LONG[date.getUTCMonth()];
    case K_WDAY_MON1: {
      const d = date.getUTCDay();
      return `${d === 0 ? 7 : d}`;
    }
    case K_WDAY_SUN0:
      return `${date.getUTCDay()}`;
    case K_EPOCH_SECONDS:
      return `${second}`;
    default:
      return '';
  }
}

/** `secondsText` is the cached "SS" for the current second. */
function renderSubsecond(p: Piece, ms: number, secondsText: string): string {
  switch (p.kind) {
    case K_FRACTION:
      return fractionDigits(ms, p.digits);
    case K_FRACTION_ALL: {
      const t = trimFraction(ms);
      return t === '' ? '0' : t;
    }
    case K_SECOND_FRACTION:
      return p.digits === 0 ? secondsText : `${secondsText}.${fractionDigits(ms, p.digits)}`;
    case K_SECOND_FRACTION_ALL: {
      const t = trimFraction(ms);
      return t === '' ? secondsText : `${secondsText}.${t}`;
    }
    default:
      return '';
  }
}

/**
 * Compiles a START_TIME format. Problems are appended to `issues` (at `path`); the
 * returned formatter is still usable (unsupported directives render as nothing).
 */
export function compileTimeFormat(fmt: string, path: string, issues: ConfigIssue[]): TimeFormatter {
  return new CompiledTimeFormat(parse(fmt, path, issues));
}
