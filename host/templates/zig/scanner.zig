//! `{{name}}` scanner (Zig, built with `zig build-exe` on the C bindings):
//! blocks text that carries a secret (a private key or a `password=`
//! assignment). bindings/ is written by `kennel build` from the WIT.

const std = @import("std");
const c = @cImport(@cInclude("scanner.h"));

/// What this scanner blocks: rule, needle.
const needles = [_][2][]const u8{
    .{ "private-key", "BEGIN PRIVATE KEY" },
    .{ "password", "password=" },
};

/// Whether the needle at `i` occurs in `text`.
pub fn matches(text: []const u8, i: usize) bool {
    return std.mem.indexOf(u8, text, needles[i][1]) != null;
}

fn exports_scanner_scan(text: *c.scanner_string_t, source: c.scanner_scan_source_t, ret: *c.scanner_verdict_t) callconv(.c) void {
    _ = source;
    defer c.scanner_string_free(text);
    const body = text.ptr[0..text.len];
    const found: [*]c.kennel_guest_types_finding_t = @ptrCast(@alignCast(std.c.calloc(needles.len, @sizeOf(c.kennel_guest_types_finding_t)) orelse {
        ret.tag = c.KENNEL_GUEST_TYPES_VERDICT_ALLOW;
        return;
    }));
    var n: usize = 0;
    for (needles, 0..) |needle, i| {
        if (!matches(body, i)) continue;
        c.scanner_string_dup_n(&found[n].rule, needle[0].ptr, needle[0].len);
        found[n].score = 100;
        c.scanner_string_dup_n(&found[n].excerpt, needle[1].ptr, needle[1].len);
        n += 1;
    }
    if (n == 0) {
        std.c.free(found);
        ret.tag = c.KENNEL_GUEST_TYPES_VERDICT_ALLOW;
        return;
    }
    ret.tag = c.KENNEL_GUEST_TYPES_VERDICT_BLOCK;
    ret.val.block.ptr = found;
    ret.val.block.len = n;
}

// The component's exports; left out of `zig test` builds, which run natively
// without the host's imports.
comptime {
    if (!@import("builtin").is_test) {
        @export(&exports_scanner_scan, .{ .name = "exports_scanner_scan" });
    }
}

test "finds secrets only" {
    try std.testing.expect(matches("db password=hunter2", 1));
    try std.testing.expect(!matches("what is a password?", 1));
}
