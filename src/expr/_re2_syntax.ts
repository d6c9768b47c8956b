/**
 * A JavaScript regular expression's text (as `new RegExp(source, flags)`
 * reads it without the `u` flag, Annex B included) rewritten in RE2's
 * syntax with the same meaning, or the feature RE2 cannot match in linear
 * time (backreferences, lookaround). What is rewritten and why:
 *
 * - `.` and `\s`/`\S` become explicit classes: RE2's `.` stops only at
 *   `\n` and its `\s` is ASCII, JavaScript's `.` also stops at `\r`,
 *   U+2028 and U+2029 and its `\s` holds the Unicode spaces;
 * - every literal that is not a letter, digit or `_` becomes `\x{...}`, so
 *   JavaScript's lenient forms (`]`, `}`, `{` that starts no quantifier,
 *   `\a` meaning `a`, legacy octal `\12`, `\cJ`, `\u2028`) cannot be read
 *   as something else by RE2;
 * - a named group becomes a plain capture group (JSONata reads groups by
 *   number, and RE2's names are narrower than JavaScript's);
 * - a surrogate pair (written, or as two `\u` escapes) becomes its code
 *   point, since RE2 reads text as code points.
 *
 * @module
 */

/** RE2JS's flag bits (`RE2JS.CASE_INSENSITIVE`, `RE2JS.MULTILINE`). */
const _CASE_INSENSITIVE = 1;
const _MULTILINE = 4;

/** The largest repetition count RE2 accepts (`a{1000}`). */
const _MAX_REPEAT = 1000;

/**
 * The most choices (alternatives times repetition counts) a pattern
 * without unbounded repetition may offer one start position and still
 * run on JavaScript's engine (see {@linkcode _Reader.linear}).
 */
const _MAX_CHOICES = 256;

/** JavaScript's `\s`: these code point ranges. */
const _SPACE: readonly [number, number][] = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
];

/** The complement of {@linkcode _SPACE} (`\S` inside a class). */
const _NOT_SPACE: readonly [number, number][] = (() => {
  const out: [number, number][] = [];
  let next = 0;
  for (const [lo, hi] of _SPACE) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  out.push([next, 0x10ffff]);
  return out;
})();

function _hex(cp: number): string {
  return `\\x{${cp.toString(16)}}`;
}

function _ranges(ranges: readonly [number, number][]): string {
  let s = "";
  for (const [lo, hi] of ranges) {
    s += lo === hi ? _hex(lo) : `${_hex(lo)}-${_hex(hi)}`;
  }
  return s;
}

/** One literal code point in RE2's syntax, outside or inside a class. */
function _literal(cp: number): string {
  if (
    (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) ||
    (cp >= 0x61 && cp <= 0x7a) || cp === 0x5f
  ) return String.fromCharCode(cp);
  return _hex(cp);
}

/** The rewritten pattern and RE2JS flags, or the feature RE2 lacks. */
export type _Re2Syntax =
  | {
    pattern: string;
    flags: number;
    linear: boolean;
    /** Choices one start position offers (see `_Reader.linear`). */
    choices: number;
    feature?: undefined;
  }
  | {
    feature: string;
    pattern?: undefined;
    flags?: undefined;
    linear?: undefined;
    choices?: undefined;
  };

/** A group being read: whether it holds a choice. */
interface _Group {
  /** It holds a quantifier with a range (`?`, `*`, `{1,3}`). */
  varies: boolean;
  /** How many `|` it holds directly. */
  pipes: number;
}

/** The quantifier starting at `i` (with its lazy `?`), if one does. */
function _quantifier(
  s: string,
  i: number,
): { text: string; min: number; max: number } | undefined {
  const c = s[i];
  let q: { text: string; min: number; max: number } | undefined;
  if (c === "*") q = { text: c, min: 0, max: Infinity };
  else if (c === "+") q = { text: c, min: 1, max: Infinity };
  else if (c === "?") q = { text: c, min: 0, max: 1 };
  else if (c === "{") {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(s.slice(i, i + 40));
    if (m === null) return undefined;
    const min = Number(m[1]);
    const max = m[2] === undefined
      ? min
      : m[3] === ""
      ? Infinity
      : Number(m[3]);
    q = { text: m[0], min, max };
  } else return undefined;
  if (s[i + q.text.length] === "?") q.text += "?";
  return q;
}

/** A feature RE2 lacks, thrown inside the rewriting and caught at its top. */
class _Lacks {
  constructor(readonly feature: string) {}
}

/** Reads a pattern once, left to right. */
class _Reader {
  i = 0;
  readonly groups: number;
  readonly named: boolean;
  readonly dotAll: boolean;

  constructor(readonly s: string, dotAll: boolean) {
    this.dotAll = dotAll;
    const { groups, named } = _countGroups(s);
    this.groups = groups;
    this.named = named;
  }

  /** The code point at `i` (a surrogate pair is one), and its length. */
  codePoint(at: number): [number, number] {
    const cp = this.s.codePointAt(at)!;
    return [cp, cp > 0xffff ? 2 : 1];
  }

  /**
   * The pattern in RE2's syntax; meanwhile {@linkcode _Reader.linear}
   * learns whether a backtracking engine runs it in linear time.
   */
  pattern(): string {
    const s = this.s;
    let out = "";
    const stack: _Group[] = [{ varies: false, pipes: 0 }];
    // What a quantifier here would repeat: a group just closed, a single
    // character or class ("atom"), or nothing (after an assertion).
    let last: _Group | "atom" | undefined;
    while (this.i < s.length) {
      const c = s[this.i];
      const q = _quantifier(s, this.i);
      if (q !== undefined) {
        if (
          (q.max !== Infinity && q.max > _MAX_REPEAT) || q.min > _MAX_REPEAT
        ) {
          throw new _Lacks(
            `a repetition count above ${_MAX_REPEAT} "${q.text}"`,
          );
        }
        if (q.max === Infinity) this.unbounded = true;
        else this.choices *= q.max - q.min + 1;
        if (
          q.max > 1 && last !== undefined && last !== "atom" &&
          (last.varies || last.pipes > 0)
        ) this.nested = true;
        if (q.max !== q.min) stack[stack.length - 1].varies = true;
        out += q.text;
        this.i += q.text.length;
        last = undefined;
        continue;
      }
      switch (c) {
        case "\\": {
          const e = this.escape();
          last = e === "\\b" || e === "\\B" ? undefined : "atom";
          out += e;
          break;
        }
        case "[":
          out += this.charClass();
          last = "atom";
          break;
        case "(":
          out += this.groupOpen();
          stack.push({ varies: false, pipes: 0 });
          last = undefined;
          break;
        case ")": {
          const group = stack.pop()!;
          const outer = stack[stack.length - 1];
          this.choices *= group.pipes + 1;
          outer.varies ||= group.varies || group.pipes > 0;
          out += ")";
          this.i++;
          last = group;
          break;
        }
        case "|":
          stack[stack.length - 1].pipes++;
          out += "|";
          this.i++;
          last = undefined;
          break;
        case ".":
          out += this.dotAll
            ? "[\\x{0}-\\x{10ffff}]"
            : "[^\\x{a}\\x{d}\\x{2028}\\x{2029}]";
          this.i++;
          last = "atom";
          break;
        case "^":
        case "$":
          out += c;
          this.i++;
          last = undefined;
          break;
        default: {
          // `{` that starts no quantifier, `}` and `]` are literals too.
          const [cp, n] = this.codePoint(this.i);
          out += _literal(cp);
          this.i += n;
          last = "atom";
        }
      }
    }
    this.choices *= stack[0].pipes + 1;
    return out;
  }

  /**
   * Whether a backtracking engine (JavaScript's) matches this pattern in
   * time linear in the text: nothing repeats without bound, no repeated
   * group holds a choice, and the choices one start position can try
   * (alternatives times repetition counts) are few, so each start costs
   * at most a constant.
   */
  get linear(): boolean {
    return !this.unbounded && !this.nested && this.choices <= _MAX_CHOICES;
  }

  unbounded = false;
  nested = false;
  choices = 1;

  groupOpen(): string {
    const s = this.s;
    if (s[this.i + 1] !== "?") {
      this.i++;
      return "(";
    }
    const kind = s.slice(this.i + 2, this.i + 4);
    if (kind[0] === ":") {
      this.i += 3;
      return "(?:";
    }
    if (kind[0] === "=" || kind[0] === "!") {
      throw new _Lacks(`a lookahead "${s.slice(this.i, this.i + 3)}"`);
    }
    if (kind === "<=" || kind === "<!") {
      throw new _Lacks(`a lookbehind "${s.slice(this.i, this.i + 4)}"`);
    }
    if (kind[0] === "<") {
      // A named group: JSONata reads groups by number.
      this.i = s.indexOf(">", this.i) + 1;
      return "(";
    }
    throw new _Lacks(
      `an inline modifier group "${s.slice(this.i, this.i + 4)}"`,
    );
  }

  /** An escape outside a class. */
  escape(): string {
    const s = this.s;
    const c = s[this.i + 1];
    switch (c) {
      case "d":
      case "D":
      case "w":
      case "W":
      case "b":
      case "B":
        this.i += 2;
        return "\\" + c;
      case "s":
        this.i += 2;
        return `[${_ranges(_SPACE)}]`;
      case "S":
        this.i += 2;
        return `[^${_ranges(_SPACE)}]`;
      case "k":
        if (this.named) {
          const end = s.indexOf(">", this.i);
          throw new _Lacks(
            `a backreference "${s.slice(this.i, end + 1 || this.i + 2)}"`,
          );
        }
        break;
      default:
        if (c !== undefined && c >= "1" && c <= "9") {
          const digits = /^\d+/.exec(s.slice(this.i + 1))![0];
          if (Number(digits) <= this.groups) {
            throw new _Lacks(`a backreference "\\${digits}"`);
          }
        }
    }
    return _literal(this.characterEscape(false));
  }

  /**
   * A character escape at `i` (`\` included), as Annex B reads it; moves
   * past it and returns its code point.
   */
  characterEscape(inClass: boolean): number {
    const s = this.s;
    const c = s[this.i + 1];
    const at = this.i + 2;
    switch (c) {
      case "t":
        this.i = at;
        return 0x09;
      case "n":
        this.i = at;
        return 0x0a;
      case "v":
        this.i = at;
        return 0x0b;
      case "f":
        this.i = at;
        return 0x0c;
      case "r":
        this.i = at;
        return 0x0d;
      case "b":
        if (inClass) {
          this.i = at;
          return 0x08;
        }
        break;
      case "c": {
        const x = s[at] ?? "";
        if (/[A-Za-z]/.test(x) || (inClass && /[0-9_]/.test(x))) {
          this.i = at + 1;
          return x.charCodeAt(0) % 32;
        }
        // `\c` without a letter is a backslash, then `c` read as itself.
        this.i += 1;
        return 0x5c;
      }
      case "x": {
        const m = /^[0-9A-Fa-f]{2}/.exec(s.slice(at, at + 2));
        if (m !== null) {
          this.i = at + 2;
          return parseInt(m[0], 16);
        }
        break;
      }
      case "u": {
        const m = /^[0-9A-Fa-f]{4}/.exec(s.slice(at, at + 4));
        if (m !== null) {
          this.i = at + 4;
          const cp = parseInt(m[0], 16);
          const low = /^\\u([Dd][C-Fc-f][0-9A-Fa-f]{2})/.exec(
            s.slice(this.i, this.i + 6),
          );
          if (cp >= 0xd800 && cp <= 0xdbff && low !== null) {
            this.i += 6;
            return (cp - 0xd800) * 0x400 + parseInt(low[1], 16) - 0xdc00 +
              0x10000;
          }
          return cp;
        }
        break;
      }
      default:
        if (c !== undefined && c >= "0" && c <= "7") {
          // Legacy octal: up to three digits, at most \377.
          const m = /^[0-7]{1,3}/.exec(s.slice(this.i + 1, this.i + 4))![0];
          const digits = parseInt(m, 8) > 0o377 ? m.slice(0, 2) : m;
          this.i += 1 + digits.length;
          return parseInt(digits, 8);
        }
    }
    // An identity escape (`\/`, `\.`, `\a` meaning `a`, `\8`).
    const [cp, n] = this.codePoint(this.i + 1);
    this.i += 1 + n;
    return cp;
  }

  /** A class `[...]`, its items rewritten one by one. */
  charClass(): string {
    const s = this.s;
    this.i++;
    let negated = false;
    if (s[this.i] === "^") {
      negated = true;
      this.i++;
    }
    let body = "";
    let empty = true;
    while (this.i < s.length && s[this.i] !== "]") {
      const first = this.classAtom();
      if (
        typeof first === "number" && s[this.i] === "-" &&
        s[this.i + 1] !== "]" && this.i + 1 < s.length
      ) {
        const save = this.i;
        this.i++;
        const second = this.classAtom();
        if (typeof second === "number") {
          body += `${_hex(first)}-${_hex(second)}`;
        } else {
          // `[\w-z]`: with a class escape on one side, `-` is itself.
          this.i = save + 1;
          body += _hex(first) + _hex(0x2d);
        }
      } else {
        body += typeof first === "number" ? _hex(first) : first;
      }
      empty = false;
    }
    this.i++;
    if (empty) {
      // `[]` matches nothing, `[^]` any character.
      return negated ? "[\\x{0}-\\x{10ffff}]" : "[^\\x{0}-\\x{10ffff}]";
    }
    return `[${negated ? "^" : ""}${body}]`;
  }

  /** A class item: a code point, or a class escape's text for RE2. */
  classAtom(): number | string {
    const s = this.s;
    if (s[this.i] !== "\\") {
      const [cp, n] = this.codePoint(this.i);
      this.i += n;
      return cp;
    }
    const c = s[this.i + 1];
    if (c === "d" || c === "D" || c === "w" || c === "W") {
      this.i += 2;
      return "\\" + c;
    }
    if (c === "s" || c === "S") {
      this.i += 2;
      return _ranges(c === "s" ? _SPACE : _NOT_SPACE);
    }
    return this.characterEscape(true);
  }
}

/** How many capture groups `s` has, and whether any is named. */
function _countGroups(s: string): { groups: number; named: boolean } {
  let groups = 0;
  let named = false;
  let inClass = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "\\") {
      i++;
    } else if (inClass) {
      if (c === "]") inClass = false;
    } else if (c === "[") {
      inClass = true;
    } else if (c === "(") {
      if (s[i + 1] !== "?") {
        groups++;
      } else if (s[i + 2] === "<" && s[i + 3] !== "=" && s[i + 3] !== "!") {
        groups++;
        named = true;
      }
    }
  }
  return { groups, named };
}

/**
 * `source` (valid for `new RegExp(source, flags)`) in RE2's syntax with
 * RE2JS flag bits, or the feature RE2 cannot match (named for a problem
 * message). Flags `g` (the caller's business), `i`, `m` and `s` are
 * understood; `u`, `v`, `y` and `d` are refused (none can come from
 * JSONata, which allows `i` and `m`).
 */
export function _toRe2(source: string, flags: string): _Re2Syntax {
  let bits = 0;
  for (const f of flags) {
    if (f === "i") bits |= _CASE_INSENSITIVE;
    else if (f === "m") bits |= _MULTILINE;
    else if (f !== "g" && f !== "s") return { feature: `the ${f} flag` };
  }
  try {
    // `.` is rewritten as a class, so RE2's own DOTALL is not needed.
    const reader = new _Reader(source, flags.includes("s"));
    const pattern = reader.pattern();
    return {
      pattern,
      flags: bits,
      linear: reader.linear,
      choices: reader.choices,
    };
  } catch (e) {
    if (e instanceof _Lacks) return { feature: e.feature };
    throw e;
  }
}
