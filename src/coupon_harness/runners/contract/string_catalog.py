"""The strings the `strings` pass puts in every string field: the Big List of Naughty Strings plus generated classes.

Each string belongs to one class (`CLASSES`, the name a finding carries); the list's sections map onto the same
classes (`SECTION_CLASS`), so a quote that breaks a server is one finding per class whatever its source. Generated
classes cover what the list leaves thin (Unicode spaces, integer widths, injection metacharacters, controls...).
Every string is sendable (valid UTF-8 in JSON); strings harmful if an injection worked are left out.

A string is sent as it is (`bare`), after a customer id (`after`, so each run's customers are new) or around one
(`around`: whitespace a server may trim). `core` strings are sent on every run; the seed draws the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

__all__ = ["BLANK_CHARS", "CLASSES", "SECTION_CLASS", "SPACES", "Form", "Naughty", "blns_sections", "catalog",
           "sendable"]

Form = Literal["bare", "after", "around"]

#: Every class, in the order the pass sends them, with what it tries.
CLASSES: dict[str, str] = {
    "reserved": "words code gives a meaning: null, undefined, None, true, __proto__",
    "numeric": "numbers spelt out at and past every integer width and float range, NaN, Infinity, leading zeros",
    "blank": "only whitespace or invisible characters: every Unicode space, tabs, line breaks, zero widths",
    "whitespace": "a customer id with whitespace around it, for each space character",
    "special": "ASCII punctuation and quotation marks",
    "unicode": "accents, CJK, combining marks, case and normalisation changes, fancy fonts, Zalgo",
    "emoji": "emoji, ZWJ sequences, flags, skin tones, keycaps, variation selectors",
    "bidi": "right-to-left text and bidi controls (U+202E and its kin)",
    "control": "control characters, NUL, terminal escapes, noncharacters",
    "sql": "SQL metacharacters and injections",
    "nosql": "NoSQL operators ($where, $ne) and query objects",
    "ldap": "LDAP filter metacharacters",
    "shell": "shell metacharacters and command injections",
    "template": "template and expression-language syntax ({{7*7}}, ${7*7}, <%= %>, ${jndi:...})",
    "format": "format strings and interpolation (%s%n, {0}, $HOME)",
    "path": "path traversal and special file names",
    "url": "URL-like values and URL metacharacters",
    "crlf": "CR/LF and header injection",
    "markup": "HTML, XML and JSON markup, script injection",
    "words": "innocent words that profanity filters and humans misread",
}

#: Each section of blns.txt, by its title, and the class its strings join.
SECTION_CLASS: dict[str, str] = {
    "Reserved Strings": "reserved",
    "Numeric Strings": "numeric",
    "Special Characters": "special",
    "Unicode Symbols": "unicode",
    "Unicode Subscript/Superscript": "unicode",
    "Quotation Marks": "special",
    "Two-Byte Characters": "unicode",
    "Japanese Emoticons": "unicode",
    "Emoji": "emoji",
    "Regional Indicator Symbols": "emoji",
    "Unicode Numbers": "unicode",
    "Right-To-Left Strings": "bidi",
    "Unicode Spaces": "whitespace",
    "Trick Unicode": "bidi",
    "Zalgo Text": "unicode",
    "Unicode Upsidedown": "unicode",
    "Unicode font": "unicode",
    "Script Injection": "markup",
    "SQL Injection": "sql",
    "Server Code Injection": "shell",
    "Command Injection (Ruby)": "shell",
    "XXE Injection (XML)": "markup",
    "Unwanted Interpolation": "format",
    "File Inclusion": "path",
    "Known CVEs and Vulnerabilities": "shell",
    "MSDOS/Windows Special Filenames": "path",
    "IRC specific strings": "words",
    "Scunthorpe Problem": "words",
    "Human injection": "words",
    "Terminal escape codes": "control",
    "iOS Vulnerability": "unicode",
}
#: A section a later list adds joins this class until it is mapped.
_OTHER_SECTION = "special"
#: Left out of the list: harmful if the injection works (a dropped table, an exited server).
_HARMFUL = ("drop table", "kernel.exit")

#: Every character str.isspace() calls whitespace (a test checks it against every code point; scanning them at
#: import would cost 0.1 s a start).
SPACES: tuple[str, ...] = ("\t", "\n", "\x0b", "\x0c", "\r", "\x1c", "\x1d", "\x1e", "\x1f", " ", "\x85", "\xa0",
                           "\u1680", *(chr(code) for code in range(0x2000, 0x200B)), "\u2028", "\u2029", "\u202f",
                           "\u205f", "\u3000")
#: Characters that show nothing but are not whitespace: some trims take them, most do not.
_INVISIBLE = ("\u180e", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u3164", "\u2800", "\u115f", "\x00")
BLANK_CHARS: frozenset[str] = frozenset(SPACES) | frozenset(_INVISIBLE)


@dataclass(frozen=True, slots=True)
class Naughty:
    """One string of the catalog: its class, its text, how it is sent, and whether every run sends it."""

    cls: str
    text: str
    form: Form = "bare"
    core: bool = False
    #: "blns" (the Big List of Naughty Strings) or "generated".
    origin: str = "generated"

    def value(self, customer: str) -> str:
        """The field's value: the text as it is, after `customer`, or around it."""
        if self.form == "after":
            return customer + self.text
        if self.form == "around":
            return self.text + customer + self.text
        return self.text


def sendable(text: str) -> bool:
    """Valid UTF-8 in a JSON string: no lone surrogate."""
    return not any(0xD800 <= ord(char) <= 0xDFFF for char in text)


def _blank() -> list[Naughty]:
    core = {" ", "   ", "\t", "\n", "\u00a0", "\u3000", "\u200b", "".join(SPACES)}
    out = [Naughty("blank", char, core=char in core) for char in (*SPACES, *_INVISIBLE)]
    out += [Naughty("blank", char * 3, core=char * 3 in core) for char in (*SPACES, *_INVISIBLE)]
    # The empty string breaks the schema's minLength: the pass classifies it as malformed (400 only).
    out += [Naughty("blank", "".join(SPACES), core=True), Naughty("blank", " \t\r\n"),
            Naughty("blank", "".join(_INVISIBLE)), Naughty("blank", "", core=True)]
    return out


def _whitespace() -> list[Naughty]:
    out = [Naughty("whitespace", char, "around", core=char in (" ", "\t", "\u00a0")) for char in SPACES]
    out += [Naughty("whitespace", char, "around") for char in _INVISIBLE]
    return out


#: Numbers at and just past each integer width (signed and unsigned 8, 16, 32, 64 and 128 bits; 2^53, a
#: double's exact-integer limit), and one past a double's range written out in full.
def _integers() -> list[int]:
    values: list[int] = []
    for bits in (8, 16, 32, 64, 128):
        half = 2 ** (bits - 1)
        values += [half - 1, half, 2**bits - 1, 2**bits, -half, -half - 1]
    values += [2**53 - 1, 2**53, 2**53 + 1, -(2**53) - 1, 10**30, 10**309]
    return values


_NUMERIC_CORE = {"2147483648", "-2147483649", "9007199254740993", "9223372036854775808", "-9223372036854775809",
                 "18446744073709551616", "1e309", "NaN", "Infinity", "007"}
_NUMERIC_SPELT = (
    "0", "00", "-0", "+0", "-0.0", "007", "08", "09", "0002147483648", "+2147483648", "-02147483649",
    "0x7FFFFFFF", "0xFFFFFFFFFFFFFFFF", "0b1", "0o777", "1_000", "1,000", "1e3", "1E+02", "1e-7", "2.5", ".5",
    "5.", "1.7976931348623157e308", "1.7976931348623159e308", "1e309", "-1e309", "4.9e-324", "1e-400",
    "2.2250738585072011e-308", "0.30000000000000004", "9007199254740993.0", "9.223372036854775808e18",
    "NaN", "nan", "-NaN", "Infinity", "-Infinity", "+Infinity", "inf", "-inf", "INF", "1e1000000",
)


def _numeric() -> list[Naughty]:
    texts = [str(number) for number in _integers()] + list(_NUMERIC_SPELT)
    return [Naughty("numeric", text, core=text in _NUMERIC_CORE) for text in dict.fromkeys(texts)]


def _after(cls: str, core: tuple[str, ...], rest: tuple[str, ...], form: Form = "after") -> list[Naughty]:
    return [Naughty(cls, text, form, core=True) for text in core] + [Naughty(cls, text, form) for text in rest]


def _generated() -> list[Naughty]:
    return [
        *_after("reserved", ("null", "undefined", "__proto__"),
                ("None", "nil", "true", "false", "NULL", "(null)", "constructor", "prototype", "toString",
                 "hasOwnProperty", "[object Object]", "__class__", "${null}", "nullptr", "N/A", "-"), "bare"),
        *_numeric(),
        *_blank(),
        *_whitespace(),
        *_after("special", ("'\"`", "\\"), ("\\\\", ",./;'[]\\-=", "<>?:\"{}|_+", "!@#$%^&*()`~", "\\0", "\\n")),
        *_after("unicode", ("-Jos\u00e9-M\u00fcller", "-\u9867\u5ba2\u756a\u53f7", "-e\u0301a\u0308", "-\u0130",
                            "-\u023a"),
                ("-caf\u00e9", "-cafe\u0301", "-\ufb01", "-\u00df", "-\u01c5", "-\u2126", "-\u212a",
                 "-\uff21\uff22\uff23", "-\u0430dmin", "-\u0131", "-\u0149", "-\u0390", "-\u0345",
                 "-\u200b\u200d", "-\u0915\u094d\u200d\u0937", "-\U00020b9f")),
        *_after("emoji", ("-\U0001f600\U0001f39f", "-\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
                          "-\U0001f1fa\U0001f1f8", "-\U0001f44d\U0001f3ff"),
                ("-\U0001f469\U0001f3fd\u200d\U0001f4bb", "-\U0001f3f3\ufe0f\u200d\U0001f308",
                 "-\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", "-\U0001f44b\U0001f3fb",
                 "-1\ufe0f\u20e3", "-#\ufe0f\u20e3", "-\u2764\ufe0f", "-\u2764\ufe0e", "-\U0001f1e6",
                 "-\U0001f3ff", "-\u200d", "-\U0001f9d1\u200d\U0001f91d\u200d\U0001f9d1",
                 "-\U0001f1fa\U0001f1f8\U0001f1f7\U0001f1fa")),
        *_after("bidi", ("\u202e", "-\u05e2\u05d1\u05e8\u05d9\u05ea", "\u2067-x"),
                ("\u202egnp.exe", "\u202d", "\u202a", "\u202b", "\u202c", "\u2066", "\u2068", "\u2069", "\u200e",
                 "\u200f", "\u061c", "\u202eabc\u202c", "-\u0645\u0631\u062d\u0628\u0627", "-abc\u05e2\u05d1123",
                 "\u2067\u2067\u2067")),
        *_after("control", ("\x00", "\x1b[31m", "\uffff"),
                ("\x00\x00\x00", "\x01", "\x07", "\x08", "\x7f", "\x80", "\x9f", "\x1b]0;title\x07", "\x1b[2J",
                 "\ufffd", "\ufffe", "\U0010ffff", "\U000e0001", "\ue000", "\uf8ff", "\U0001fffe")),
        *_after("sql", ("'", "' OR '1'='1"),
                ("''", "\"", "\" OR \"\"=\"", "' OR 1=1--", "') OR ('1'='1", "'; SELECT 1--",
                 "' UNION SELECT NULL--", "\\'", "%' --", "'||'", "`", "; --", "/*", "*/", "' AND 1=0 --",
                 "1' ORDER BY 1--")),
        *_after("nosql", ("{\"$ne\": null}", "$where"),
                ("{\"$gt\": \"\"}", "{\"$where\": \"this.a == this.a\"}", "{\"$regex\": \".*\"}", "[$ne]=1",
                 "$ne", "'; return true; var x='", "\"; return true; var x=\"", "this.constructor",
                 "db.getCollectionNames()", "{\"$exists\": true}", "$gt", "a.b.c", "$")),
        *_after("ldap", ("*", "*)(uid=*))(|(uid=*"),
                ("*)(|(objectClass=*)", ")(cn=*)", "admin*)((|userPassword=*)", "\\2a", "(&)", "|", "\\00",
                 "*()|&'", ",cn=x")),
        *_after("shell", ("; id", "$(id)", "`id`"),
                ("| id", "|| id", "&& id", "& id &", "${IFS}id", "; echo coupon-harness", "$((7*7))",
                 "> /dev/null", "< /dev/null", "~root", "\nid", "$HOME", "%COMSPEC%", "^", "!!")),
        *_after("template", ("{{7*7}}", "${7*7}", "<%= 7*7 %>", "${jndi:ldap://127.0.0.1:1/x}"),
                ("#{7*7}", "*{7*7}", "@(7*7)", "{{=7*7}}", "[[7*7]]", "${{7*7}}", "{{7*'7'}}",
                 "{% if 1 %}x{% endif %}", "{{", "}}", "{#", "#set($x=7*7)${x}", "<#assign x=7*7>${x}",
                 "{{constructor.constructor('return 7*7')()}}", "${T(java.lang.Math).abs(-7)}")),
        *_after("format", ("%s%n", "{0}"),
                ("%s%s%s%s%s", "%x%x%x%x", "%n", "%d", "%p", "%@", "%%", "%1$s", "%*.*s", "%(x)s", "{}",
                 "{0!r}", "{customer}", "{0:{1}}", "%s", "$1", "\\1")),
        *_after("path", ("../../etc/passwd", "/etc/passwd", "..\\..\\windows\\win.ini"),
                ("../../../../../../../../etc/passwd", "....//....//etc/passwd", "..%2f..%2fetc%2fpasswd",
                 "%2e%2e%2f%2e%2e%2f", "..%c0%af", "x%00.json", "/dev/null", "/proc/self/environ",
                 "C:\\Windows\\win.ini", "\\\\127.0.0.1\\c$", "~/.ssh/id_rsa", ".", "..", "/", "\\"), "bare"),
        *_after("url", ("http://127.0.0.1/", "file:///etc/passwd", "a/b"),
                ("http://127.0.0.1:1/x?y=1#z", "https://localhost/", "http://[::1]/", "//127.0.0.1/", "file://",
                 "javascript:alert(1)", "data:text/plain,x", "gopher://127.0.0.1:1/_x", "dict://127.0.0.1:1/",
                 "ftp://127.0.0.1/", "mailto:x@127.0.0.1", "x@127.0.0.1", "?a=1&b=2", "#frag", "a%20b", "%",
                 "%zz", "%2F", "+", "a+b", "a?b", "a#b", "a;b", "a&b=c"), "bare"),
        *_after("crlf", ("\r\n", "\n", "\r\nX-Injected: 1"),
                ("\r", "\r\nSet-Cookie: a=b", "\r\n\r\n<html>", "\nX-Injected: 1", "%0d%0aX-Injected: 1",
                 "\u560d\u560aX-Injected: 1", "\r\n.\r\n", "\n\n\n")),
        *_after("markup", ("<script>alert(1)</script>", "\",\"x\":\"", "\\u0000", "]]>"),
                ("\"><img src=x onerror=alert(1)>", "</customer>", "<![CDATA[x]]>", "<!--", "-->", "&amp;",
                 "&#0;", "&lt;", "<?xml version=\"1.0\"?>",
                 "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>", "\"}", "{\"a\":1}",
                 "\\\"", "<%", "%>", "<x>", "</")),
    ]


def blns_sections() -> list[tuple[str, str]]:
    """(section title, string) for every string of blns.txt, in the file's order, as the list ships them."""
    text = resources.files(__package__).joinpath("data", "blns.txt").read_bytes().decode("utf-8")
    out: list[tuple[str, str]] = []
    section = ""
    in_comment = False
    for line in text.split("\n"):
        if line.startswith("#"):
            if not in_comment:  # the first comment line of a block is the section's title
                section = line.lstrip("#").strip()
            in_comment = True
            continue
        in_comment = False
        if line:
            out.append((section, line))
    return out


def _blns() -> list[Naughty]:
    out = []
    for section, text in blns_sections():
        if any(harm in text.lower() for harm in _HARMFUL) or not sendable(text):
            continue
        cls = "blank" if all(char in BLANK_CHARS for char in text) else SECTION_CLASS.get(section, _OTHER_SECTION)
        out.append(Naughty(cls, text, origin="blns"))
    return out


@cache
def catalog() -> tuple[Naughty, ...]:
    """Every string, each (form, text) once (a generated string before the list's copy of it), grouped by class
    in `CLASSES` order."""
    seen: set[tuple[str, str]] = set()
    unique: list[Naughty] = []
    for item in (*_generated(), *_blns()):
        if (item.form, item.text) not in seen and sendable(item.text):
            seen.add((item.form, item.text))
            unique.append(item)
    order = {name: position for position, name in enumerate(CLASSES)}
    return tuple(sorted(unique, key=lambda item: order[item.cls]))
