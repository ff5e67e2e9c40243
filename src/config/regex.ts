// Checks that an RE2 regex from Envoy config means the same under JavaScript's RegExp.
//
// Envoy's `safe_regex` is RE2 syntax. Weft runs regexes with RegExp in `u` mode, which
// rejects most RE2-only escapes (\A, \z, \C, \Q...\E, \pN, \x{...}) by itself. What this
// module adds is a scan for constructs that RegExp accepts but RE2 does not (lookaround,
// backreferences — Envoy would reject them) or that mean something else in RegExp
// (POSIX classes like [[:alpha:]], which RegExp reads as a plain character set).

/** Returns null when `regex` is usable, else a message saying why not. */
export function checkRegexCompatibility(regex: string): string | null {
  const feature = findIncompatibleFeature(regex);
  if (feature !== null) return feature;
  try {
    new RegExp(regex, 'u');
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return `regex does not compile as a JavaScript RegExp with the same meaning as RE2 (${why})`;
  }
  return null;
}

function findIncompatibleFeature(regex: string): string | null {
  let inClass = false;
  for (let i = 0; i < regex.length; i++) {
    const c = regex[i];
    if (c === '\\') {
      const next = regex[i + 1];
      if (!inClass && next !== undefined && /[1-9]/.test(next))
        return 'backreferences (\\1...) are not supported by RE2';
      if (!inClass && next === 'k') return 'named backreferences (\\k<...>) are not supported by RE2';
      i++;
      continue;
    }
    if (inClass) {
      if (c === '[' && regex[i + 1] === ':')
        return 'POSIX character classes ([[:alpha:]]) are not supported by Weft';
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      // A ']' right after '[' or '[^' is literal in RE2 but ends an empty class in RegExp.
      if (regex[i + 1] === ']' || (regex[i + 1] === '^' && regex[i + 2] === ']')) {
        return "a ']' first in a character class means different things in RE2 and JavaScript; escape it as '\\]'";
      }
      continue;
    }
    if (c === '(' && regex[i + 1] === '?') {
      const rest = regex.slice(i + 2, i + 4);
      if (rest.startsWith('=') || rest.startsWith('!') || rest === '<=' || rest === '<!') {
        return 'lookahead/lookbehind assertions are not supported by RE2';
      }
      if (rest.startsWith('P')) return "named groups use '(?<name>...)' in Weft, not '(?P<name>...)'";
      if (rest[0] !== ':' && rest[0] !== '<') return 'inline flags such as (?i) are not supported by Weft';
    }
  }
  return null;
}
