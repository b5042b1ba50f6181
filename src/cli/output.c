/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

/* Length of a valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
        unsigned char c = s[0];
        size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (n == 0 || n > left)
                return 0;
        for (size_t i = 1; i < n; i++)
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
        if (n == 2 && c < 0xc2)
                return 0;
        return n;
}

/* A JSON string; bytes that are not UTF-8 become U+FFFD. */
void cli_json_string(FILE *f, const char *str, size_t len)
{
        const unsigned char *s = (const unsigned char *)str;
        fputc('"', f);
        for (size_t i = 0; i < len;) {
                unsigned char c = s[i];
                if (c == '"' || c == '\\') {
                        fprintf(f, "\\%c", c);
                        i++;
                } else if (c == '\n') {
                        fputs("\\n", f);
                        i++;
                } else if (c == '\t') {
                        fputs("\\t", f);
                        i++;
                } else if (c == '\r') {
                        fputs("\\r", f);
                        i++;
                } else if (c < 0x20 || c == 0x7f) {
                        fprintf(f, "\\u%04x", c);
                        i++;
                } else {
                        size_t n = utf8_len(s + i, len - i);
                        if (n == 0) {
                                fputs("\\ufffd", f);
                                i++;
                        } else {
                                fwrite(s + i, 1, n, f);
                                i += n;
                        }
                }
        }
        fputc('"', f);
}

void cli_log_to_stderr(int level, const char *msg, void *userdata)
{
        if (userdata)
                fprintf(stderr, "bridle: [%d] %s\n", level, msg);
        else if (level <= 4)
                fprintf(stderr, "bridle: %s%s\n", level <= 3 ? "error: " : "warning: ", msg);
}
