/* SPDX-License-Identifier: MIT */
/* Bytes shown as text: UTF-8 checks and names printed so that they cannot be misread. */
#include <string.h>

#include "commands.h"

int fdkit_utf8_char(const uint8_t *s, size_t n) {
  uint8_t c = s[0];
  int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (!len) return 0;
  uint32_t cp = len == 1 ? c : c & (0x7f >> len);
  for (int k = 1; k < len; k++) {
    if ((size_t)k >= n) return -1;
    if ((s[k] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (s[k] & 0x3f);
  }
  /* overlong forms, surrogates and values past U+10FFFF are not UTF-8 */
  if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
      (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
    return 0;
  return len;
}

/* Characters a shell would read specially, which put the name in quotes. */
static int shell_special(uint8_t c) { return c == ' ' || strchr("!\"#$&'()*;<=>?[\\]^`{|}~", c) != NULL; }

void fdkit_print_name(FILE *out, const char *name) {
  const uint8_t *s = (const uint8_t *)name;
  size_t n = strlen(name);
  int plain = 1;
  for (size_t i = 0; i < n && plain; i++) plain = s[i] >= 0x20 && s[i] != 0x7f && !shell_special(s[i]);
  for (size_t i = 0; i < n && plain;) {
    int len = fdkit_utf8_char(s + i, n - i);
    plain = len > 0;
    i += len > 0 ? (size_t)len : 1;
  }
  if (plain) {
    fputs(name, out);
    return;
  }
  /* 'quoted text' pieces and $'\ooo' pieces side by side, as GNU ls writes them */
  int quoted = 0;
  for (size_t i = 0; i < n;) {
    int len = s[i] < 0x20 || s[i] == 0x7f ? 0 : fdkit_utf8_char(s + i, n - i);
    if (len > 0) {
      if (!quoted) fputc('\'', out);
      quoted = 1;
      if (s[i] == '\'') fputs("'\\''", out);
      else fwrite(s + i, 1, (size_t)len, out);
      i += (size_t)len;
      continue;
    }
    if (quoted) fputc('\'', out);
    quoted = 0;
    fputs("$'", out);
    for (; i < n && (s[i] < 0x20 || s[i] == 0x7f || fdkit_utf8_char(s + i, n - i) <= 0); i++) {
      const char *named = s[i] == '\n' ? "\\n" : s[i] == '\t' ? "\\t" : s[i] == '\r' ? "\\r" : NULL;
      if (named) fputs(named, out);
      else fprintf(out, "\\%03o", s[i]);
    }
    fputc('\'', out);
  }
  if (quoted) fputc('\'', out);
}
