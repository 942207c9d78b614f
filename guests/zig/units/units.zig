//! `units` tool (Zig): converts a value between units of length, mass,
//! volume, time, data, speed and temperature.
//! Arguments {"value": 3.5, "from": "km", "to": "mi"};
//! answer {"value": 2.1748, "from": "km", "to": "mi"} (6 significant digits).
//! Built by `kennel build` (zig + the C bindings kennel writes into bindings/).
//! `zig test units.zig -lc -Ibindings` runs the tests below.

const std = @import("std");
const c = @cImport(@cInclude("tool.h"));

const gpa = std.heap.c_allocator;

const Dimension = enum { length, mass, volume, time, data, speed, temperature };

/// A unit: `value_in_base = value * factor + offset` (offset for temperatures).
const Unit = struct { names: []const []const u8, dim: Dimension, factor: f64, offset: f64 = 0 };

const units = [_]Unit{
    .{ .names = &.{ "m", "meter", "meters", "metre", "metres" }, .dim = .length, .factor = 1 },
    .{ .names = &.{ "km", "kilometer", "kilometers" }, .dim = .length, .factor = 1000 },
    .{ .names = &.{ "cm", "centimeter", "centimeters" }, .dim = .length, .factor = 0.01 },
    .{ .names = &.{ "mm", "millimeter", "millimeters" }, .dim = .length, .factor = 0.001 },
    .{ .names = &.{ "mi", "mile", "miles" }, .dim = .length, .factor = 1609.344 },
    .{ .names = &.{ "yd", "yard", "yards" }, .dim = .length, .factor = 0.9144 },
    .{ .names = &.{ "ft", "foot", "feet" }, .dim = .length, .factor = 0.3048 },
    .{ .names = &.{ "in", "inch", "inches" }, .dim = .length, .factor = 0.0254 },
    .{ .names = &.{ "nmi", "nautical mile" }, .dim = .length, .factor = 1852 },
    .{ .names = &.{ "kg", "kilogram", "kilograms" }, .dim = .mass, .factor = 1 },
    .{ .names = &.{ "g", "gram", "grams" }, .dim = .mass, .factor = 0.001 },
    .{ .names = &.{ "mg", "milligram", "milligrams" }, .dim = .mass, .factor = 1e-6 },
    .{ .names = &.{ "t", "tonne", "tonnes" }, .dim = .mass, .factor = 1000 },
    .{ .names = &.{ "lb", "lbs", "pound", "pounds" }, .dim = .mass, .factor = 0.45359237 },
    .{ .names = &.{ "oz", "ounce", "ounces" }, .dim = .mass, .factor = 0.028349523125 },
    .{ .names = &.{ "l", "liter", "liters", "litre", "litres" }, .dim = .volume, .factor = 1 },
    .{ .names = &.{ "ml", "milliliter", "milliliters" }, .dim = .volume, .factor = 0.001 },
    .{ .names = &.{ "m3", "cubic meter" }, .dim = .volume, .factor = 1000 },
    .{ .names = &.{ "gal", "gallon", "gallons" }, .dim = .volume, .factor = 3.785411784 },
    .{ .names = &.{ "qt", "quart", "quarts" }, .dim = .volume, .factor = 0.946352946 },
    .{ .names = &.{ "cup", "cups" }, .dim = .volume, .factor = 0.2365882365 },
    .{ .names = &.{ "floz", "fl oz" }, .dim = .volume, .factor = 0.0295735295625 },
    .{ .names = &.{ "s", "sec", "second", "seconds" }, .dim = .time, .factor = 1 },
    .{ .names = &.{ "ms", "millisecond", "milliseconds" }, .dim = .time, .factor = 0.001 },
    .{ .names = &.{ "min", "minute", "minutes" }, .dim = .time, .factor = 60 },
    .{ .names = &.{ "h", "hour", "hours" }, .dim = .time, .factor = 3600 },
    .{ .names = &.{ "d", "day", "days" }, .dim = .time, .factor = 86400 },
    .{ .names = &.{ "wk", "week", "weeks" }, .dim = .time, .factor = 604800 },
    .{ .names = &.{ "b", "byte", "bytes" }, .dim = .data, .factor = 1 },
    .{ .names = &.{ "kb", "kilobyte" }, .dim = .data, .factor = 1e3 },
    .{ .names = &.{ "mb", "megabyte" }, .dim = .data, .factor = 1e6 },
    .{ .names = &.{ "gb", "gigabyte" }, .dim = .data, .factor = 1e9 },
    .{ .names = &.{ "kib", "kibibyte" }, .dim = .data, .factor = 1024 },
    .{ .names = &.{ "mib", "mebibyte" }, .dim = .data, .factor = 1048576 },
    .{ .names = &.{ "gib", "gibibyte" }, .dim = .data, .factor = 1073741824 },
    .{ .names = &.{ "m/s", "mps" }, .dim = .speed, .factor = 1 },
    .{ .names = &.{ "km/h", "kph", "kmh" }, .dim = .speed, .factor = 1.0 / 3.6 },
    .{ .names = &.{ "mph", "mi/h" }, .dim = .speed, .factor = 0.44704 },
    .{ .names = &.{ "kn", "knot", "knots" }, .dim = .speed, .factor = 0.514444444444 },
    .{ .names = &.{ "c", "celsius", "°c" }, .dim = .temperature, .factor = 1, .offset = 273.15 },
    .{ .names = &.{ "f", "fahrenheit", "°f" }, .dim = .temperature, .factor = 5.0 / 9.0, .offset = 273.15 - 32.0 * 5.0 / 9.0 },
    .{ .names = &.{ "k", "kelvin" }, .dim = .temperature, .factor = 1 },
};

pub const ConvertError = error{ UnknownUnit, Incompatible };

fn lookup(name: []const u8) ?Unit {
    var buf: [32]u8 = undefined;
    if (name.len > buf.len) return null;
    const lower = std.ascii.lowerString(&buf, std.mem.trim(u8, name, " "));
    for (units) |u| {
        for (u.names) |n| if (std.mem.eql(u8, n, lower)) return u;
    }
    return null;
}

/// `value` in unit `from`, expressed in unit `to`.
pub fn convert(value: f64, from: []const u8, to: []const u8) ConvertError!f64 {
    const a = lookup(from) orelse return error.UnknownUnit;
    const b = lookup(to) orelse return error.UnknownUnit;
    if (a.dim != b.dim) return error.Incompatible;
    return (value * a.factor + a.offset - b.offset) / b.factor;
}

/// Rounds to 6 significant digits' worth of decimals for display.
fn round(x: f64) f64 {
    if (x == 0 or !std.math.isFinite(x)) return x;
    const digits = 6 - @as(i32, @intFromFloat(@floor(std.math.log10(@abs(x))))) - 1;
    const p = std.math.pow(f64, 10, @floatFromInt(std.math.clamp(digits, -300, 300)));
    return @round(x * p) / p;
}

fn setString(s: *c.tool_string_t, text: []const u8) void {
    c.tool_string_dup_n(s, text.ptr, text.len);
}

fn describe(ret: *c.tool_tool_spec_t) callconv(.c) void {
    c.tool_string_dup(&ret.name, "units");
    c.tool_string_dup(&ret.description, "Convert a value between units: length (m km cm mm mi yd ft in nmi), mass (kg g mg t lb oz), volume (l ml m3 gal qt cup floz), time (s ms min h d wk), data (b kb mb gb kib mib gib), speed (m/s km/h mph kn), temperature (c f k).");
    c.tool_string_dup(&ret.parameters, "{\"type\":\"object\",\"properties\":{\"value\":{\"type\":\"number\"},\"from\":{\"type\":\"string\",\"description\":\"unit of value, e.g. km\"},\"to\":{\"type\":\"string\",\"description\":\"wanted unit, e.g. mi\"}},\"required\":[\"value\",\"from\",\"to\"]}");
}

fn invoke(arguments: *c.tool_string_t, ret: *c.tool_string_t, err: *c.tool_string_t) callconv(.c) bool {
    defer c.tool_string_free(arguments);
    const Args = struct { value: f64, from: []const u8, to: []const u8 };
    const parsed = std.json.parseFromSlice(Args, gpa, arguments.ptr[0..arguments.len], .{ .ignore_unknown_fields = true }) catch {
        setString(err, "arguments must be {\"value\": number, \"from\": unit, \"to\": unit}");
        return false;
    };
    defer parsed.deinit();
    const a = parsed.value;
    const result = convert(a.value, a.from, a.to) catch |e| {
        setString(err, switch (e) {
            error.UnknownUnit => "unknown unit (see the tool description for the list)",
            error.Incompatible => "these units measure different things (e.g. length and mass)",
        });
        return false;
    };
    const out = std.json.Stringify.valueAlloc(gpa, .{
        .value = round(result),
        .from = a.from,
        .to = a.to,
    }, .{}) catch {
        setString(err, "out of memory");
        return false;
    };
    defer gpa.free(out);
    setString(ret, out);
    return true;
}

// The component's exports; left out of `zig test` builds, which run natively
// without the host's imports.
comptime {
    if (!@import("builtin").is_test) {
        @export(&describe, .{ .name = "exports_tool_describe" });
        @export(&invoke, .{ .name = "exports_tool_invoke" });
    }
}

test "converts within a dimension" {
    try std.testing.expectApproxEqAbs(@as(f64, 2.174799), try convert(3.5, "km", "mi"), 1e-6);
    try std.testing.expectApproxEqAbs(@as(f64, 212), try convert(100, "C", "F"), 1e-9);
    try std.testing.expectApproxEqAbs(@as(f64, -40), try convert(-40, "f", "celsius"), 1e-9);
    try std.testing.expectApproxEqAbs(@as(f64, 1024), try convert(1, "MiB", "KiB"), 1e-9);
}

test "refuses unknown and mixed units" {
    try std.testing.expectError(error.UnknownUnit, convert(1, "parsec", "m"));
    try std.testing.expectError(error.Incompatible, convert(1, "kg", "m"));
}
