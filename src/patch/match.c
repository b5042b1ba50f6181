/* SPDX-License-Identifier: MIT */
/* The lenient matching ladder: exact, trailing whitespace, both ends, Unicode punctuation. */
#include <string.h>
#include <sys/types.h>

#include "patch/patch.h"

/* Unicode White_Space code points above ASCII, as their UTF-8 bytes. */
static const char *const unicode_spaces[] = {
        "\xc2\x85",     "\xc2\xa0",     "\xe1\x9a\x80", "\xe2\x80\x80", "\xe2\x80\x81",
        "\xe2\x80\x82", "\xe2\x80\x83", "\xe2\x80\x84", "\xe2\x80\x85", "\xe2\x80\x86",
        "\xe2\x80\x87", "\xe2\x80\x88", "\xe2\x80\x89", "\xe2\x80\x8a", "\xe2\x80\xa8",
        "\xe2\x80\xa9", "\xe2\x80\xaf", "\xe2\x81\x9f", "\xe3\x80\x80",
};

size_t bridle__patch_space_len(const char *s, size_t n)
{
        if (n == 0)
                return 0;
        unsigned char c = (unsigned char)s[0];
        if (c == ' ' || (c >= '\t' && c <= '\r'))
                return 1;
        if (c < 0xc2 || c > 0xe3)
                return 0;
        for (size_t i = 0; i < sizeof(unicode_spaces) / sizeof(unicode_spaces[0]); i++) {
                size_t l = strlen(unicode_spaces[i]);
                if (l <= n && memcmp(s, unicode_spaces[i], l) == 0)
                        return l;
        }
        return 0;
}

struct bridle__span bridle__patch_rtrim(struct bridle__span x)
{
        /* Scan forward: the end is the end of the last non-space character. */
        size_t i = 0, keep = 0;
        while (i < x.len) {
                size_t w = bridle__patch_space_len(x.s + i, x.len - i);
                if (w) {
                        i += w;
                } else {
                        i++;
                        keep = i;
                }
        }
        x.len = keep;
        return x;
}

struct bridle__span bridle__patch_trim(struct bridle__span x)
{
        size_t w;
        while ((w = bridle__patch_space_len(x.s, x.len)) > 0) {
                x.s += w;
                x.len -= w;
        }
        return bridle__patch_rtrim(x);
}

bool bridle__patch_span_eq(struct bridle__span a, const char *lit)
{
        size_t l = strlen(lit);
        return a.len == l && memcmp(a.s, lit, l) == 0;
}

/* Decode one code point; invalid bytes decode to values above U+10FFFF (never folded). */
static unsigned decode(const unsigned char *s, size_t n, size_t *adv)
{
        unsigned c = s[0];
        size_t need = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 1;
        if (c < 0x80 || need == 1 || need > n) {
                *adv = 1;
                return c < 0x80 ? c : 0x110000u + c;
        }
        unsigned cp = c & (0x7fu >> need);
        for (size_t i = 1; i < need; i++) {
                if ((s[i] & 0xc0) != 0x80) {
                        *adv = 1;
                        return 0x110000u + c;
                }
                cp = (cp << 6) | (s[i] & 0x3fu);
        }
        *adv = need;
        return cp;
}

static unsigned fold(unsigned cp)
{
        if ((cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212)
                return '-';
        if (cp >= 0x2018 && cp <= 0x201b)
                return '\'';
        if (cp >= 0x201c && cp <= 0x201f)
                return '"';
        if (cp == 0xa0 || (cp >= 0x2002 && cp <= 0x200a) || cp == 0x202f || cp == 0x205f ||
            cp == 0x3000)
                return ' ';
        return cp;
}

static bool fold_eq(struct bridle__span a, struct bridle__span b)
{
        a = bridle__patch_trim(a);
        b = bridle__patch_trim(b);
        size_t i = 0, j = 0;
        while (i < a.len && j < b.len) {
                size_t da, db;
                unsigned ca = decode((const unsigned char *)a.s + i, a.len - i, &da);
                unsigned cb = decode((const unsigned char *)b.s + j, b.len - j, &db);
                if (fold(ca) != fold(cb))
                        return false;
                i += da;
                j += db;
        }
        return i == a.len && j == b.len;
}

static bool same(struct bridle__span a, struct bridle__span b)
{
        return a.len == b.len && (a.len == 0 || memcmp(a.s, b.s, a.len) == 0);
}

bool bridle__patch_line_eq(struct bridle__span a, struct bridle__span b, int level)
{
        switch (level) {
        case 0:
                return same(a, b);
        case 1:
                return same(bridle__patch_rtrim(a), bridle__patch_rtrim(b));
        case 2:
                return same(bridle__patch_trim(a), bridle__patch_trim(b));
        default:
                return fold_eq(a, b);
        }
}

static long seek_level(const struct bridle__span *lines, size_t n, const struct bridle__span *pat,
                       size_t m, size_t from, size_t to, int level)
{
        for (size_t i = from; i <= to && i + m <= n; i++) {
                size_t k = 0;
                while (k < m && bridle__patch_line_eq(lines[i + k], pat[k], level))
                        k++;
                if (k == m)
                        return (long)i;
        }
        return -1;
}

long bridle__patch_seek(const struct bridle__span *lines, size_t n, const struct bridle__span *pat,
                        size_t m, size_t start, bool eof)
{
        if (m == 0)
                return (long)start;
        if (m > n)
                return -1;
        size_t last = n - m;
        if (eof) {
                /* The end of the file first, then anywhere after start (as Codex documents). */
                for (int level = 0; level < 4; level++) {
                        long r = seek_level(lines, n, pat, m, last, last, level);
                        if (r >= 0)
                                return r;
                }
        }
        for (int level = 0; level < 4; level++) {
                long r = seek_level(lines, n, pat, m, start, last, level);
                if (r >= 0)
                        return r;
        }
        return -1;
}
