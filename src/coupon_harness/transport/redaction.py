"""The redactor: every secret the harness holds, in every form a target may echo it, becomes <redacted>.

A secret is recognised
- as it is, and with its spaces as `+` (form encoding);
- whole: base64 of its UTF-8 bytes (standard and URL-safe alphabets, padded or not); a hex digest (the md5 of
  the password) in any case;
- under any per-character escaping (backslash escapes, `%HH` and `%uXXXX`, HTML references; `_ESCAPE_AT`
  lists them), mixed with plain characters and nested up to `MAX_DEPTH` levels (`&amp;#39;`, `%255C`), every
  level searched; where one family's escape decodes to what starts another's (`&#92;` inside JSON's `\\\\`),
  the families are also decoded one at a time;
- when it holds what reads as an escape itself (`%41`, `\\n`, `&lt;`, a final backslash before a quote): each
  level is also searched for the secret decoded as the text around it was;
- cut: its start (at least `CUT_PREFIX` characters, in any form above, maybe half an escape) before a cut
  mark (… or ...);
- URL userinfo (`http://user:password@host`) is redacted whoever's it is.

A text with none of `\\ % &` costs one `str.find` per group of forms. Apply `text` to whole texts before
cutting them.
"""

from __future__ import annotations

import base64
import bisect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from html.entities import html5
from typing import Any, Protocol

from coupon_harness.transport.credentials import Credentials

__all__ = ["CUT_PREFIX", "MAX_DEPTH", "REDACTED", "TOKEN_HEADER", "Redactor", "TokenHolder"]

REDACTED = "<redacted>"
#: The header an OAuth token travels in (`auth.auth_headers` sends it, re-exported there): never shown.
TOKEN_HEADER = "X-CAP-API-OAUTH-TOKEN"
#: Levels of escaping decoded (JSON in JSON in a URL is three).
MAX_DEPTH = 3
#: The shortest start of a secret that counts as the secret when a cut mark follows it.
CUT_PREFIX = 4
#: Texts decoded one escape family at a time, at most, per text (see `_decoded_spans`).
_MAX_VIEWS = 16
#: Characters between a secret's start and a cut mark that may be left of an escape cut short.
_STRAY = 4
#: Secrets shorter than this are not redacted (they would match everywhere).
_MIN_SECRET = 3


class TokenHolder(Protocol):
    """What the redactor needs of a token source: every token it fetched so far (a list that only grows)."""

    fetched: list[str]


#: URL userinfo (`http://user:password@host`): whatever stands between the scheme and an @ before the path.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#@\s]*@")
#: A cut mark (a run of them counts once: a text of dots costs one check, not one per three dots).
_CUT_MARKS = re.compile(r"(?:…|\.\.\.)+")
#: An escape cut short just before a cut mark.
_PARTIAL = re.compile(r"(?:\\(?:u\{?[0-9a-fA-F]{0,5}|U[0-9a-fA-F]{0,7}|x[0-9a-fA-F]?)?"
                      r"|%(?:u[0-9a-fA-F]{0,3}|[0-9a-fA-F])?|&(?:#[xX]?[0-9a-fA-F]{0,15}|[A-Za-z][A-Za-z0-9]{0,30})?)\Z")
_HEX_DIGEST = re.compile(r"[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}")
_DIGEST_MIN = 32
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
#: Forms are grouped by their first characters.
_GROUP_PREFIX = 8
_DIGITS = re.compile(r"[0-9]+")

# --- decoding one level of escapes ---------------------------------------------------------------------

#: One escape, by the character that starts it (`re.match` at that character).
_ESCAPE_AT: dict[str, re.Pattern[str]] = {
    # A backslash before another character is an escape only where escapers write one: quotes, backslash,
    # slash, backtick, and the letters of control characters (`\\ ` or `\\&` is more likely a plain backslash).
    "\\": re.compile(r"\\(?:u\{[0-9a-fA-F]{1,6}\}|u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"
                      r"|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|x[0-9a-fA-F]{2}(?:\\x[0-9a-fA-F]{2})*|[0-7]{1,3}"
                      r"|[\\'\"/`ntrbfvaeuUx\n])"),
    "%": re.compile(r"%(?:u[0-9a-fA-F]{4}|[0-9a-fA-F]{2}(?:%[0-9a-fA-F]{2})*)"),
    # Named references need their ';' (`&lt` without one reads a secret's own `&lt%3B` wrongly); numeric ones not.
    "&": re.compile(r"&(?:#[0-9]{1,16};?|#[xX][0-9a-fA-F]{1,16};?|[A-Za-z][A-Za-z0-9]{0,31};)"),
}
_INTRODUCERS = ("\\", "%", "&")
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "a": "\a", "e": "\x1b"}


#: A decoded piece: (text, start, end) of the encoded text it came from.
_Piece = tuple[str, int, int]


def _code_point(number: int, raw: str, start: int, end: int) -> list[_Piece]:
    return [(chr(number), start, end)] if 0 <= number <= 0x10FFFF else [(raw, start, end)]


def _utf8(data: bytes, start: int, width: int) -> list[_Piece]:
    """Bytes written `width` characters each from `start` (`%C3%B6`: 3), as UTF-8 where they are, else Latin-1."""
    out: list[_Piece] = []
    for char in data.decode("utf-8", "surrogateescape"):
        escaped = "\udc80" <= char <= "\udcff"
        end = start + (1 if escaped else len(char.encode("utf-8"))) * width
        out.append((chr(ord(char) - 0xDC00) if escaped else char, start, end))
        start = end
    return out


# Complexity allowed: one return per escaping a text may carry.
def _decode(match: re.Match[str]) -> list[_Piece]:  # noqa: PLR0911
    raw, start, end = match.group(), match.start(), match.end()
    if raw[0] == "%":
        if raw[1] in "uU":
            return _code_point(int(raw[2:], 16), raw, start, end)
        return _utf8(bytes.fromhex(raw.replace("%", "")), start, 3)
    if raw[0] == "&":
        if raw[1] == "#":
            digits = raw[2:].rstrip(";")
            number = int(digits[1:], 16) if digits[:1] in "xX" else int(digits)
            return _code_point(number, raw, start, end) if number else [(raw, start, end)]
        decoded = html5.get(raw[1:])
        return [(decoded, start, end)] if decoded is not None else [(raw, start, end)]
    kind = raw[1]
    if len(raw) == 2:  # \n, \', \\, \0, or any other character after a backslash
        if kind in "uUx":  # an escape cut short (before a cut mark): kept, so the cut is recognised
            return [(raw, start, end)]
        return [(chr(int(kind)) if kind in "01234567" else _SIMPLE_ESCAPES.get(kind, kind), start, end)]
    if kind == "u" and raw[2] == "{":
        return _code_point(int(raw[3:-1], 16), raw, start, end)
    if kind == "u" and len(raw) == 12:  # a surrogate pair
        high, low = int(raw[2:6], 16), int(raw[8:12], 16)
        return [(chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)), start, end)]
    if kind in "uU":
        return _code_point(int(raw[2:], 16), raw, start, end)
    if kind == "x":
        return _utf8(bytes.fromhex(raw.replace("\\x", "")), start, 4)
    return _code_point(int(raw[1:], 8), raw, start, end)  # octal


def _escapes(text: str, introducers: tuple[str, ...] = _INTRODUCERS) -> Iterator[re.Match[str]]:
    """The escapes in `text` that start with one of `introducers`, left to right."""
    positions: list[int] = []
    for char in introducers:
        at = text.find(char)
        while at >= 0:
            positions.append(at)
            at = text.find(char, at + 1)
    done = 0
    for at in sorted(positions):
        if at >= done:
            match = _ESCAPE_AT[text[at]].match(text, at)
            if match is not None:
                done = match.end()
                yield match


def _unescape(text: str, introducers: tuple[str, ...] = _INTRODUCERS) -> tuple[str, bool]:
    """`text` with one level of escapes decoded, and whether one decoded to what starts another family's
    escape (`&#92;`, `%26`, `\\u0025`: an inner layer showing through)."""
    out: list[str] = []
    crossed = False
    done = 0
    for match in _escapes(text, introducers):
        out.append(text[done:match.start()])
        own = match.group()[0]
        for piece, _, _ in _decode(match):
            out.append(piece)
            if not crossed and any(char in piece for char in _INTRODUCERS if char != own):
                crossed = True
        done = match.end()
    if not out:
        return text, False
    out.append(text[done:])
    return "".join(out), crossed


class _Map:
    """Where each character of a decoded text came from in the encoded text."""

    def __init__(self, text: str, introducers: tuple[str, ...] = _INTRODUCERS) -> None:
        #: (start in the decoded text, start in the encoded text, end in the encoded text or -1 for a plain run)
        self.segments: list[tuple[int, int, int]] = []
        decoded = 0
        done = 0
        for match in _escapes(text, introducers):
            if match.start() > done:
                self.segments.append((decoded, done, -1))
                decoded += match.start() - done
            for piece, start, end in _decode(match):
                for char in piece:
                    self.segments.append((decoded, start, end))
                    decoded += len(char)
            done = match.end()
        self.segments.append((decoded, done, -1))
        self.starts = [segment[0] for segment in self.segments]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The encoded span of the decoded [start, end)."""
        return self._where(start)[0], self._where(end - 1)[1]

    def _where(self, index: int) -> tuple[int, int]:
        decoded, start, end = self.segments[bisect.bisect_right(self.starts, index) - 1]
        if end < 0:
            return start + index - decoded, start + index - decoded + 1
        return start, end


# --- what to look for ----------------------------------------------------------------------------------

def _base64_forms(secret: str) -> set[str]:
    """Base64 of the secret's UTF-8 bytes, unpadded, in the standard and the URL-safe alphabet."""
    encoded = base64.b64encode(secret.encode("utf-8", "surrogatepass")).decode("ascii").rstrip("=")
    return {encoded, encoded.replace("+", "-").replace("/", "_")}


def _decodings(secret: str) -> list[str]:
    """The secret, and the secret decoded as a text around it may be (up to MAX_DEPTH levels, all families at
    once or one); one ending with a backslash also without it (a quote after it makes an escape)."""
    found = [secret]
    if secret.endswith("\\") and len(secret) > _MIN_SECRET:
        found.append(secret[:-1])
    level = list(found)
    for _ in range(MAX_DEPTH):
        following = []
        for text in level:
            for introducers in (_INTRODUCERS, *((char,) for char in _INTRODUCERS if char in text)):
                decoded = _unescape(text, introducers)[0]
                if decoded not in found:
                    found.append(decoded)
                    following.append(decoded)
        level = following
    return found


def _common_start(texts: list[str]) -> str:
    first, last = min(texts), max(texts)
    size = 0
    while size < len(first) and first[size] == last[size]:
        size += 1
    return first[:size]


class _Table:
    """The forms of a set of secrets, ready to search."""

    def __init__(self, secrets: Iterable[str]) -> None:
        raw = sorted({s for s in secrets if len(s) >= _MIN_SECRET}, key=len, reverse=True)
        literals: set[str] = set()
        base64_forms: set[str] = set()
        cut: set[str] = set()
        digests_cut: set[str] = set()
        digests: list[tuple[str, re.Pattern[str], str | None]] = []
        for secret in raw:
            if _HEX_DIGEST.fullmatch(secret.lower()):  # the md5 of a password: in any case, never base64'd
                digests_cut.add(secret.lower())
                runs = sorted(_DIGITS.findall(secret), key=len)
                digests.append((secret.lower(), re.compile(re.escape(secret), re.IGNORECASE),
                                runs[-1] if runs and len(runs[-1]) >= 3 else None))
                continue
            for variant in _decodings(secret):
                if len(variant) >= _MIN_SECRET:
                    literals.add(variant)
                    cut.add(variant)
                    if " " in variant:
                        literals.add(variant.replace(" ", "+"))
            encoded = _base64_forms(secret)
            literals |= encoded
            base64_forms |= encoded
            cut |= encoded
        # Forms that start alike (one issuer's tokens) are looked for once while their start is absent.
        groups: dict[str, list[str]] = {}
        for form in sorted(literals, key=len, reverse=True):  # longest first: a longer form is found first
            groups.setdefault(form[:_GROUP_PREFIX], []).append(form)
        #: (the start the forms share, the length of the shortest, the forms), shortest group first.
        self.groups = tuple(sorted(((_common_start(forms), len(forms[-1]), tuple(forms)) for forms in groups.values()),
                                   key=lambda group: group[1]))
        self.base64 = frozenset(base64_forms)
        #: (form, whether it is matched in any case) for the cut-secret check.
        self.cut = tuple(sorted([(form, False) for form in cut] + [(form, True) for form in digests_cut],
                                key=lambda entry: len(entry[0]), reverse=True))
        #: Hex digests (lower case, a pattern of any case, a run of >= 3 digits any spelling holds, or None).
        self.digests = tuple(digests)
        self.empty = not raw

    def spans(self, text: str) -> list[tuple[int, int]]:
        """[start, end) of every form of a secret in `text` (not decoded)."""
        found: list[tuple[int, int]] = []
        size = len(text)
        for start, shortest, forms in self.groups:
            if shortest > size:
                break
            if start not in text:
                continue
            for form in forms:
                at = text.find(form)
                while at >= 0:
                    end = at + len(form)
                    if form in self.base64:
                        while end < size and end - at < len(form) + 2 and text[end] == "=":
                            end += 1
                    found.append((at, end))
                    at = text.find(form, at + 1)
        if size >= _DIGEST_MIN:
            for digest, pattern, anchor in self.digests:
                if anchor in text if anchor is not None else digest in text.lower():
                    found.extend(match.span() for match in pattern.finditer(text))
        if "…" in text or "..." in text:
            found.extend(self._cut_spans(text))
        return found

    def _cut_spans(self, text: str) -> list[tuple[int, int]]:
        found: list[tuple[int, int]] = []
        folded: str | None = None  # the text in lower case (ASCII), for hex digests
        for mark in _CUT_MARKS.finditer(text):
            end = mark.start()
            partial = _PARTIAL.search(text, max(end - 40, 0), end)
            first = end
            # The mark may follow an escape cut short: as written, or decoded into a few stray characters.
            stops = {max(edge - back, 0) for edge in {end, partial.start() if partial else end}
                     for back in range(_STRAY + 1)}
            for stop in stops:
                for secret, any_case in self.cut:
                    if any_case and folded is None:
                        folded = text.lower()
                        if len(folded) != len(text):  # a character whose lower case is longer: ASCII only
                            folded = text.translate(_ASCII_LOWER)
                    hay = folded if any_case and folded is not None else text
                    if hay[max(stop - CUT_PREFIX, 0):stop] not in secret:
                        continue
                    for length in range(min(len(secret) - 1, stop), CUT_PREFIX - 1, -1):
                        if stop - length < first and hay.startswith(secret[:length], stop - length):
                            first = stop - length
                            break
            if first < end:
                found.append((first, end))
        return found


# --- the redactor --------------------------------------------------------------------------------------

class Redactor:
    """Replaces every known secret, in every form a target may echo it, with <redacted>; and URL userinfo.

    Its secrets: `credentials.secrets()`, every token `tokens` fetched so far, and those of the redactors in
    `also` (diff's second target). Apply it to whole texts before cutting them.
    """

    SENSITIVE_HEADERS = frozenset({"authorization", TOKEN_HEADER.lower(), "cookie", "proxy-authorization"})

    def __init__(self, credentials: Credentials, tokens: TokenHolder | None = None, *,
                 also: Iterable[Redactor] = ()) -> None:
        self._sources: tuple[tuple[Credentials, TokenHolder | None], ...] = (
            (credentials, tokens), *(source for other in also for source in other._sources))
        self._holders = tuple(holder for _, holder in self._sources if holder is not None)
        #: The one token source, when there is one (the common case: its list's length is read on every call).
        self._one = self._holders[0] if len(self._holders) == 1 else None
        self._cache: tuple[int, _Table] | None = None

    def secrets(self) -> list[str]:
        """Every secret itself (not its forms), longest first."""
        found = {secret for credentials, tokens in self._sources
                 for secret in (*credentials.secrets(), *(tokens.fetched if tokens is not None else ()))}
        return sorted(found, key=len, reverse=True)

    def _fetched(self) -> int:
        """How many tokens were fetched so far (token lists only grow: their total length tells a new one)."""
        holders = self._holders
        if not holders:
            return 0
        return len(holders[0].fetched) if len(holders) == 1 else sum([len(holder.fetched) for holder in holders])

    def _table(self) -> _Table:
        """Rebuilt only when a new token was fetched."""
        key = self._fetched()
        cache = self._cache
        if cache is None or cache[0] != key:
            cache = self._cache = (key, _Table(self.secrets()))
        return cache[1]

    def text(self, value: str) -> str:
        cache, one = self._cache, self._one
        fresh = cache is not None and cache[0] == (len(one.fetched) if one is not None else self._fetched())
        table = cache[1] if fresh and cache is not None else self._table()
        if not table.empty:
            spans = table.spans(value)
            if "\\" in value or "%" in value or "&" in value:  # inline: the common case pays no call
                spans += _decoded_spans(value, table)
            if spans:
                value = _replace(value, spans)
        if "@" in value:
            value = _USERINFO.sub(rf"\1{REDACTED}@", value)
        return value

    def headers(self, headers: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
        out = []
        for name, value in headers.items():
            scheme = str(value).partition(" ")[0]
            if name.lower() == "authorization" and scheme.lower() == "basic":  # the scheme as sent: basic, BASIC
                out.append((name, scheme + " " + REDACTED))
            elif name.lower() in self.SENSITIVE_HEADERS:
                out.append((name, REDACTED))
            else:
                out.append((name, self.text(str(value))))
        return tuple(out)


#: (the text a level was decoded from, the escape families decoded: all of them, or one)
_Step = tuple[str, tuple[str, ...]]


def _decoded_spans(text: str, table: _Table) -> list[tuple[int, int]]:
    """The spans (in `text`) of secrets in its decoded levels: all families at once; and where two families'
    layers cross or stand side by side, one family at a time (at most `_MAX_VIEWS` texts), which keeps a secret's
    own backslash."""
    found: list[tuple[int, int]] = []
    maps: dict[tuple[str, tuple[str, ...]], _Map] = {}

    def search(path: list[_Step], decoded: str) -> None:
        spans = table.spans(decoded)
        if spans:
            levels = [maps.get(step) or maps.setdefault(step, _Map(*step)) for step in path]
            for span in spans:
                for level in reversed(levels):
                    span = level.span(*span)  # noqa: PLW2901 (down one level at a time)
                found.append(span)

    seen = {text}
    path: list[_Step] = []
    current = text
    crossed = False
    for _ in range(MAX_DEPTH):
        decoded, crossing = _unescape(current)
        crossed = crossed or crossing
        if decoded in seen:
            break
        seen.add(decoded)
        path = [*path, (current, _INTRODUCERS)]
        search(path, decoded)
        if not any(char in decoded for char in _INTRODUCERS):
            break
        current = decoded
    # One family at a time as well where decoding them all at once can misread the secret: an inner layer shows
    # through an outer one, or two families stand side by side (a secret's own `\0` before an `&#49;` that
    # escapes its `1`: decoded at once, the backslash becomes an octal escape).
    if not crossed and sum(char in text for char in _INTRODUCERS) < 2:
        return found
    _one_family_at_a_time(text, seen, search)
    return found


def _one_family_at_a_time(text: str, seen: set[str], search: Callable[[list[_Step], str], None]) -> None:
    """Breadth first, at most `_MAX_VIEWS` texts: `search` each new text that decoding one family of escapes gives.
    A text the all-at-once levels searched (`seen`) is not searched again but is still decoded further here."""
    level: list[tuple[list[_Step], str]] = [([], text)]
    budget = _MAX_VIEWS
    expanded = {text}
    for _ in range(MAX_DEPTH):
        following = []
        for steps, source in level:
            for char in _INTRODUCERS:
                if char not in source:
                    continue
                decoded = _unescape(source, (char,))[0]
                if decoded in expanded:
                    continue
                budget -= 1
                if budget < 0:
                    return
                expanded.add(decoded)
                step = [*steps, (source, (char,))]
                if decoded not in seen:
                    seen.add(decoded)
                    search(step, decoded)
                following.append((step, decoded))
        level = following


def _replace(text: str, spans: list[tuple[int, int]]) -> str:
    out: list[str] = []
    done = 0
    for start, end in sorted(spans):
        if end <= done:
            continue
        if start >= done:  # else it overlaps the one before, which now reaches `end`
            out.append(text[done:start])
            out.append(REDACTED)
        done = end
    out.append(text[done:])
    return "".join(out)
