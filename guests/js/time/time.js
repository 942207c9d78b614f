// `time` tool (JavaScript, built with componentize-js).
//
// Formats a given timestamp in a given IANA time zone. It never reads the
// clock: the caller passes the instant (ms since the epoch or ISO 8601), so the
// result is reproducible and the guest needs no ambient authority.

export function describe() {
  return {
    name: "time",
    description:
      "Format an instant (epoch milliseconds or ISO 8601) in an IANA time zone, e.g. Europe/Berlin. Returns date, time, weekday and UTC offset.",
    parameters: JSON.stringify({
      type: "object",
      properties: {
        timestamp: { description: "epoch milliseconds (number) or ISO 8601 string" },
        timezone: { type: "string", description: "IANA zone name, default UTC" },
      },
      required: ["timestamp"],
    }),
  };
}

export function invoke(argumentsJson) {
  let args;
  try {
    args = JSON.parse(argumentsJson);
  } catch (e) {
    throw `arguments are not JSON: ${e.message}`;
  }
  if (args === null || typeof args !== "object") throw "arguments must be an object";
  const ts = args.timestamp;
  const date = typeof ts === "number" ? new Date(ts) : typeof ts === "string" ? new Date(ts) : null;
  if (date === null || Number.isNaN(date.getTime())) throw "`timestamp` must be epoch milliseconds or an ISO 8601 string";
  const timeZone = typeof args.timezone === "string" && args.timezone !== "" ? args.timezone : "UTC";
  let parts;
  try {
    parts = new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
      weekday: "long", hour12: false, timeZoneName: "shortOffset",
    }).formatToParts(date);
  } catch (e) {
    throw `unknown time zone \`${timeZone}\``;
  }
  const get = (t) => (parts.find((p) => p.type === t) || {}).value || "";
  const hour = get("hour") === "24" ? "00" : get("hour");
  return JSON.stringify({
    timezone: timeZone,
    date: `${get("year")}-${get("month")}-${get("day")}`,
    time: `${hour}:${get("minute")}:${get("second")}`,
    weekday: get("weekday"),
    offset: get("timeZoneName"),
  });
}
