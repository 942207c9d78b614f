// `checksum` tool (C): digests of a text, for checking downloads, comparing
// files pasted into chat or making stable ids.
// Arguments {"text": "...", "algorithm": "sha256" | "crc32" | "fnv1a64"}
// (default sha256); answer {"algorithm": A, "bytes": N, "hex": "..."}.
// Built by `kennel build` (zig cc + the C bindings kennel writes into bindings/).

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"
#include "tool.h"

// Decodes one \uXXXX escape (with a following low surrogate when needed) as
// UTF-8 into out; returns the bytes written, 0 on a bad escape.
static size_t utf8_escape(const char *s, size_t avail, size_t *used, char *out) {
    unsigned cp = 0;
    if (avail < 4 || sscanf(s, "%4x", &cp) != 1) return 0;
    *used = 4;
    if (cp >= 0xD800 && cp < 0xDC00 && avail >= 10 && s[4] == '\\' && s[5] == 'u') {
        unsigned lo = 0;
        if (sscanf(s + 6, "%4x", &lo) == 1 && lo >= 0xDC00 && lo < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            *used = 10;
        }
    }
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) { out[0] = (char)(0xC0 | cp >> 6); out[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12); out[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18); out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

// The string value of `key` in a flat JSON object, unescaped into a new
// buffer (caller frees; *out_len its length). NULL when absent, not a string
// or malformed.
static char *json_string(const char *json, size_t len, const char *key, size_t *out_len) {
    size_t klen = strlen(key);
    for (size_t i = 0; i + klen + 2 <= len; i++) {
        if (json[i] != '"' || strncmp(json + i + 1, key, klen) != 0 || json[i + 1 + klen] != '"') continue;
        size_t j = i + klen + 2;
        while (j < len && (json[j] == ' ' || json[j] == '\t' || json[j] == '\n' || json[j] == '\r')) j++;
        if (j >= len || json[j] != ':') continue;
        for (j++; j < len && (json[j] == ' ' || json[j] == '\t' || json[j] == '\n' || json[j] == '\r'); j++) {}
        if (j >= len || json[j] != '"') return NULL;
        char *out = malloc(len - j + 1);
        if (!out) return NULL;
        size_t n = 0;
        for (j++; j < len && json[j] != '"'; j++) {
            char c = json[j];
            if (c != '\\') { out[n++] = c; continue; }
            if (++j >= len) break;
            switch (json[j]) {
            case 'n': out[n++] = '\n'; break;
            case 't': out[n++] = '\t'; break;
            case 'r': out[n++] = '\r'; break;
            case 'b': out[n++] = '\b'; break;
            case 'f': out[n++] = '\f'; break;
            case 'u': {
                size_t used = 0, w = utf8_escape(json + j + 1, len - j - 1, &used, out + n);
                if (!w) { free(out); return NULL; }
                n += w;
                j += used;
                break;
            }
            default: out[n++] = json[j];
            }
        }
        if (j >= len) { free(out); return NULL; }
        *out_len = n;
        return out;
    }
    return NULL;
}

static uint32_t crc32(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return ~c;
}

static uint64_t fnv1a64(const uint8_t *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 0x100000001b3ull; }
    return h;
}

void exports_tool_describe(tool_tool_spec_t *ret) {
    tool_string_dup(&ret->name, "checksum");
    tool_string_dup(&ret->description,
        "Compute a checksum of a text: sha256 (default), crc32 or fnv1a64, as lowercase hex.");
    tool_string_dup(&ret->parameters,
        "{\"type\":\"object\",\"properties\":{"
        "\"text\":{\"type\":\"string\",\"description\":\"the text (its UTF-8 bytes are hashed)\"},"
        "\"algorithm\":{\"type\":\"string\",\"enum\":[\"sha256\",\"crc32\",\"fnv1a64\"]}},"
        "\"required\":[\"text\"]}");
}

bool exports_tool_invoke(tool_string_t *arguments, tool_string_t *ret, tool_string_t *err) {
    const char *json = (const char *)arguments->ptr;
    size_t text_len = 0, alg_len = 0;
    char *text = json_string(json, arguments->len, "text", &text_len);
    char *alg = json_string(json, arguments->len, "algorithm", &alg_len);
    tool_string_free(arguments);
    const char *name = alg ? alg : "sha256";
    char hex[65] = {0};
    if (!text) {
        tool_string_dup(err, "missing string field `text`");
    } else if (strcmp(name, "sha256") == 0) {
        uint8_t d[32];
        sha256((const uint8_t *)text, text_len, d);
        for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
    } else if (strcmp(name, "crc32") == 0) {
        snprintf(hex, sizeof hex, "%08x", crc32((const uint8_t *)text, text_len));
    } else if (strcmp(name, "fnv1a64") == 0) {
        snprintf(hex, sizeof hex, "%016llx", (unsigned long long)fnv1a64((const uint8_t *)text, text_len));
    } else {
        tool_string_dup(err, "unknown algorithm (use sha256, crc32 or fnv1a64)");
    }
    bool ok = hex[0] != 0;
    if (ok) {
        char out[160];
        snprintf(out, sizeof out, "{\"algorithm\":\"%s\",\"bytes\":%zu,\"hex\":\"%s\"}", name, text_len, hex);
        tool_string_dup(ret, out);
    }
    free(text);
    free(alg);
    return ok;
}
