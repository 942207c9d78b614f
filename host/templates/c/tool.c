// `{{name}}` tool (C, built with zig cc): counts the words and characters of a
// text. Arguments {"text": "..."}; answer {"words": W, "characters": C}.
// bindings/ is written by `kennel build` from the WIT (do not edit it).

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

// Reads the string value of `key` from a flat JSON object into a new
// NUL-terminated buffer (caller frees). Returns NULL when absent or not a string.
static char *json_string_field(const char *json, size_t len, const char *key) {
    size_t klen = strlen(key);
    for (size_t i = 0; i + klen + 2 <= len; i++) {
        if (json[i] != '"' || strncmp(json + i + 1, key, klen) != 0 || json[i + 1 + klen] != '"') continue;
        size_t j = i + klen + 2;
        while (j < len && (json[j] == ' ' || json[j] == ':' || json[j] == '\t' || json[j] == '\n' || json[j] == '\r')) j++;
        if (j >= len || json[j] != '"') return NULL;
        char *out = malloc(len - j);
        if (!out) return NULL;
        size_t n = 0;
        for (j++; j < len && json[j] != '"'; j++) {
            char c = json[j];
            if (c == '\\' && j + 1 < len) {
                c = json[++j];
                if (c == 'n') c = '\n';
                else if (c == 't') c = '\t';
                else if (c == 'r') c = '\r';
                else if (c == 'u') { c = '?'; j += 4; } // \uXXXX: counted as one character
            }
            out[n++] = c;
        }
        if (j >= len) { free(out); return NULL; }
        out[n] = 0;
        return out;
    }
    return NULL;
}

// Words (separated by whitespace) and characters (UTF-8 code points).
static void count(const char *text, size_t *words, size_t *characters) {
    int in_word = 0;
    *words = *characters = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if ((*p & 0xC0) != 0x80) (*characters)++;
        int space = *p == ' ' || *p == '\n' || *p == '\t' || *p == '\r';
        if (!space && !in_word) (*words)++;
        in_word = !space;
    }
}

void exports_tool_describe(tool_tool_spec_t *ret) {
    tool_string_dup(&ret->name, "{{name}}");
    tool_string_dup(&ret->description, "Count the words and characters of a text.");
    tool_string_dup(&ret->parameters,
        "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\",\"description\":\"the text to count\"}},\"required\":[\"text\"]}");
}

bool exports_tool_invoke(tool_string_t *arguments, tool_string_t *ret, tool_string_t *err) {
    char *text = json_string_field((const char *)arguments->ptr, arguments->len, "text");
    tool_string_free(arguments);
    if (!text) {
        tool_string_dup(err, "missing string field `text`");
        return false;
    }
    size_t words, characters;
    count(text, &words, &characters);
    free(text);
    char out[64];
    snprintf(out, sizeof out, "{\"words\":%zu,\"characters\":%zu}", words, characters);
    tool_string_dup(ret, out);
    return true;
}
