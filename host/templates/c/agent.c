// `{{name}}` agent (C, built with zig cc): answers every message with what it
// heard. The host's llm, tools and memory imports are declared in
// bindings/agent.h (written by `kennel build` from the WIT; do not edit it).

#include <stdio.h>
#include <stdlib.h>

#include "agent.h"

bool exports_agent_handle(agent_context_t *ctx, agent_message_t *msg, agent_reply_t *ret, agent_string_t *err) {
    (void)err;
    const char *fmt = "You said: %.*s (%zu earlier turns)";
    int n = snprintf(NULL, 0, fmt, (int)msg->text.len, (const char *)msg->text.ptr, ctx->history.len);
    char *text = malloc((size_t)n + 1);
    snprintf(text, (size_t)n + 1, fmt, (int)msg->text.len, (const char *)msg->text.ptr, ctx->history.len);
    ret->text.ptr = (uint8_t *)text;
    ret->text.len = (size_t)n;
    ret->files.ptr = NULL;
    ret->files.len = 0;
    agent_context_free(ctx);
    agent_message_free(msg);
    return true;
}
