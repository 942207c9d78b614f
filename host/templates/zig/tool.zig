//! `{{name}}` tool (Zig, built with `zig build-exe` on the C bindings):
//! counts the words and characters of a text. Arguments {"text": "..."};
//! answer {"words": W, "characters": C}. bindings/ is written by
//! `kennel build` from the WIT (do not edit it).

const std = @import("std");
const c = @cImport(@cInclude("tool.h"));

const gpa = std.heap.c_allocator;

/// Words (separated by whitespace) and characters (code points).
pub fn count(text: []const u8) struct { words: usize, characters: usize } {
    var words: usize = 0;
    var it = std.mem.tokenizeAny(u8, text, " \t\r\n");
    while (it.next()) |_| words += 1;
    const characters = std.unicode.utf8CountCodepoints(text) catch text.len;
    return .{ .words = words, .characters = characters };
}

fn setString(s: *c.tool_string_t, text: []const u8) void {
    c.tool_string_dup_n(s, text.ptr, text.len);
}

fn exports_tool_describe(ret: *c.tool_tool_spec_t) callconv(.c) void {
    c.tool_string_dup(&ret.name, "{{name}}");
    c.tool_string_dup(&ret.description, "Count the words and characters of a text.");
    c.tool_string_dup(&ret.parameters, "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\",\"description\":\"the text to count\"}},\"required\":[\"text\"]}");
}

fn exports_tool_invoke(arguments: *c.tool_string_t, ret: *c.tool_string_t, err: *c.tool_string_t) callconv(.c) bool {
    defer c.tool_string_free(arguments);
    const Args = struct { text: []const u8 };
    const parsed = std.json.parseFromSlice(Args, gpa, arguments.ptr[0..arguments.len], .{ .ignore_unknown_fields = true }) catch {
        setString(err, "arguments must be a JSON object with a string field `text`");
        return false;
    };
    defer parsed.deinit();
    const n = count(parsed.value.text);
    var buf: [64]u8 = undefined;
    const out = std.fmt.bufPrint(&buf, "{{\"words\":{d},\"characters\":{d}}}", .{ n.words, n.characters }) catch unreachable;
    setString(ret, out);
    return true;
}

// The component's exports; left out of `zig test` builds, which run natively
// without the host's imports.
comptime {
    if (!@import("builtin").is_test) {
        @export(&exports_tool_describe, .{ .name = "exports_tool_describe" });
        @export(&exports_tool_invoke, .{ .name = "exports_tool_invoke" });
    }
}

test "counts words and characters" {
    const n = count("hello wide  world");
    try std.testing.expectEqual(@as(usize, 3), n.words);
    try std.testing.expectEqual(@as(usize, 17), n.characters);
    try std.testing.expectEqual(@as(usize, 5), count("grüße").characters);
}
