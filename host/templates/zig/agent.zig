//! `{{name}}` agent (Zig, built with `zig build-exe` on the C bindings):
//! answers every message with what it heard. The host's llm, tools and memory
//! imports are declared in bindings/agent.h (written by `kennel build` from
//! the WIT; do not edit it).

const std = @import("std");
const c = @cImport(@cInclude("agent.h"));

const gpa = std.heap.c_allocator;

/// The reply to `text` after `history` earlier turns (caller frees).
pub fn answer(alloc: std.mem.Allocator, text: []const u8, history: usize) ![]u8 {
    return std.fmt.allocPrint(alloc, "You said: {s} ({d} earlier turns)", .{ text, history });
}

fn exports_agent_handle(ctx: *c.agent_context_t, msg: *c.agent_message_t, ret: *c.agent_reply_t, err: *c.agent_string_t) callconv(.c) bool {
    defer c.agent_context_free(ctx);
    defer c.agent_message_free(msg);
    const text = answer(gpa, msg.text.ptr[0..msg.text.len], ctx.history.len) catch {
        c.agent_string_dup(err, "out of memory");
        return false;
    };
    defer gpa.free(text);
    c.agent_string_dup_n(&ret.text, text.ptr, text.len);
    ret.files.ptr = null;
    ret.files.len = 0;
    return true;
}

// The component's exports; left out of `zig test` builds, which run natively
// without the host's imports.
comptime {
    if (!@import("builtin").is_test) {
        @export(&exports_agent_handle, .{ .name = "exports_agent_handle" });
    }
}

test "answers with the text" {
    const a = try answer(std.testing.allocator, "hi", 2);
    defer std.testing.allocator.free(a);
    try std.testing.expectEqualStrings("You said: hi (2 earlier turns)", a);
}
