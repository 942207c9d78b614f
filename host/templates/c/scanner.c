// `{{name}}` scanner (C, built with zig cc): blocks text that carries a secret
// (a private key or a `password=` assignment). bindings/ is written by
// `kennel build` from the WIT (do not edit it).

#include <stdlib.h>
#include <string.h>

#include "scanner.h"

// What this scanner blocks: rule, needle.
static const char *NEEDLES[][2] = {
    {"private-key", "BEGIN PRIVATE KEY"},
    {"password", "password="},
};
#define N_NEEDLES (sizeof NEEDLES / sizeof NEEDLES[0])

static int contains(const uint8_t *text, size_t len, const char *needle) {
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(text + i, needle, n) == 0) return 1;
    return 0;
}

void exports_scanner_scan(scanner_string_t *text, scanner_scan_source_t source, scanner_verdict_t *ret) {
    (void)source;
    kennel_guest_types_finding_t *found = calloc(N_NEEDLES, sizeof *found);
    size_t n = 0;
    for (size_t i = 0; found && i < N_NEEDLES; i++) {
        if (!contains(text->ptr, text->len, NEEDLES[i][1])) continue;
        scanner_string_dup(&found[n].rule, NEEDLES[i][0]);
        found[n].score = 100;
        scanner_string_dup(&found[n].excerpt, NEEDLES[i][1]);
        n++;
    }
    scanner_string_free(text);
    if (n == 0) {
        free(found);
        ret->tag = KENNEL_GUEST_TYPES_VERDICT_ALLOW;
        return;
    }
    ret->tag = KENNEL_GUEST_TYPES_VERDICT_BLOCK;
    ret->val.block.ptr = found;
    ret->val.block.len = n;
}
