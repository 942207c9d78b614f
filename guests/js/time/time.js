// `time` tool (JavaScript, built with componentize-js).
//
// Formats a given instant in a time zone. It never reads the clock: the caller
// passes the instant (ms since the epoch or ISO 8601), so results are
// reproducible and the guest needs no ambient authority.
//
// The StarlingMonkey engine ships no time-zone database (Intl rejects zone
// names), so this tool carries a small table of common IANA zones with their
// daylight-saving rules (EU, US, AU) and also accepts fixed offsets ("+05:30").

const RULE_NONE = 0, RULE_EU = 1, RULE_US = 2, RULE_AU = 3;
// name: [standard offset in minutes, DST rule]
const ZONES = {
  "UTC": [0, RULE_NONE], "Etc/UTC": [0, RULE_NONE], "GMT": [0, RULE_NONE],
  "Europe/London": [0, RULE_EU], "Europe/Dublin": [0, RULE_EU], "Europe/Lisbon": [0, RULE_EU],
  "Europe/Berlin": [60, RULE_EU], "Europe/Paris": [60, RULE_EU], "Europe/Madrid": [60, RULE_EU],
  "Europe/Rome": [60, RULE_EU], "Europe/Amsterdam": [60, RULE_EU], "Europe/Brussels": [60, RULE_EU],
  "Europe/Vienna": [60, RULE_EU], "Europe/Zurich": [60, RULE_EU], "Europe/Stockholm": [60, RULE_EU],
  "Europe/Oslo": [60, RULE_EU], "Europe/Copenhagen": [60, RULE_EU], "Europe/Warsaw": [60, RULE_EU],
  "Europe/Prague": [60, RULE_EU], "Europe/Budapest": [60, RULE_EU],
  "Europe/Helsinki": [120, RULE_EU], "Europe/Athens": [120, RULE_EU], "Europe/Kyiv": [120, RULE_EU],
  "Europe/Bucharest": [120, RULE_EU], "Europe/Istanbul": [180, RULE_NONE], "Europe/Moscow": [180, RULE_NONE],
  "America/New_York": [-300, RULE_US], "America/Toronto": [-300, RULE_US], "America/Chicago": [-360, RULE_US],
  "America/Denver": [-420, RULE_US], "America/Phoenix": [-420, RULE_NONE], "America/Los_Angeles": [-480, RULE_US],
  "America/Vancouver": [-480, RULE_US], "America/Anchorage": [-540, RULE_US], "Pacific/Honolulu": [-600, RULE_NONE],
  "America/Sao_Paulo": [-180, RULE_NONE], "America/Mexico_City": [-360, RULE_NONE],
  "Asia/Tokyo": [540, RULE_NONE], "Asia/Seoul": [540, RULE_NONE], "Asia/Shanghai": [480, RULE_NONE],
  "Asia/Hong_Kong": [480, RULE_NONE], "Asia/Singapore": [480, RULE_NONE], "Asia/Kolkata": [330, RULE_NONE],
  "Asia/Dubai": [240, RULE_NONE], "Asia/Jakarta": [420, RULE_NONE], "Asia/Kathmandu": [345, RULE_NONE],
  "Australia/Sydney": [600, RULE_AU], "Australia/Melbourne": [600, RULE_AU], "Australia/Brisbane": [600, RULE_NONE],
  "Australia/Perth": [480, RULE_NONE], "Pacific/Auckland": [720, RULE_NONE], "Africa/Johannesburg": [120, RULE_NONE],
  "Africa/Lagos": [60, RULE_NONE], "Africa/Cairo": [120, RULE_NONE],
};
const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

// UTC ms of the n-th (1-based; -1 = last) Sunday of month m (0-based) in year y, at hh:00 UTC.
function nthSunday(y, m, n, hhUtc) {
  if (n > 0) {
    const first = new Date(Date.UTC(y, m, 1)).getUTCDay();
    const day = 1 + ((7 - first) % 7) + 7 * (n - 1);
    return Date.UTC(y, m, day, hhUtc);
  }
  const lastDate = new Date(Date.UTC(y, m + 1, 0));
  const day = lastDate.getUTCDate() - lastDate.getUTCDay();
  return Date.UTC(y, m, day, hhUtc);
}

function isDst(ms, std, rule) {
  const y = new Date(ms).getUTCFullYear();
  const stdH = std / 60;
  switch (rule) {
    case RULE_EU: // last Sunday of March 01:00 UTC → last Sunday of October 01:00 UTC
      return ms >= nthSunday(y, 2, -1, 1) && ms < nthSunday(y, 9, -1, 1);
    case RULE_US: // second Sunday of March 02:00 local → first Sunday of November 02:00 local (DST)
      return ms >= nthSunday(y, 2, 2, 2 - stdH) && ms < nthSunday(y, 10, 1, 2 - stdH - 1);
    case RULE_AU: // DST from first Sunday of October 02:00 local to first Sunday of April 03:00 local (DST)
      return ms < nthSunday(y, 3, 1, 3 - stdH - 1) || ms >= nthSunday(y, 9, 1, 2 - stdH);
    default:
      return false;
  }
}

function offsetMinutes(ms, zone) {
  const fixed = /^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$/.exec(zone);
  if (fixed) {
    const v = Number(fixed[2]) * 60 + Number(fixed[3] || 0);
    if (v > 14 * 60) return null;
    return fixed[1] === "-" ? -v : v;
  }
  const z = ZONES[zone];
  if (!z) return null;
  return z[0] + (isDst(ms, z[0], z[1]) ? 60 : 0);
}

const pad = (n) => String(n).padStart(2, "0");

export function describe() {
  return {
    name: "time",
    description:
      "Format an instant (epoch milliseconds or ISO 8601) in a time zone (common IANA names such as Europe/Berlin, or an offset like +05:30). Returns date, time, weekday and UTC offset.",
    parameters: JSON.stringify({
      type: "object",
      properties: {
        timestamp: { description: "epoch milliseconds (number) or ISO 8601 string" },
        timezone: { type: "string", description: "IANA zone name or UTC offset, default UTC" },
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
  const ms = typeof ts === "number" ? ts : typeof ts === "string" ? Date.parse(ts) : NaN;
  if (!Number.isFinite(ms)) throw "`timestamp` must be epoch milliseconds or an ISO 8601 string";
  const zone = typeof args.timezone === "string" && args.timezone !== "" ? args.timezone : "UTC";
  const off = offsetMinutes(ms, zone);
  if (off === null) throw `unknown time zone \`${zone}\` (use a common IANA name or an offset like +05:30)`;
  const d = new Date(ms + off * 60000);
  const sign = off < 0 ? "-" : "+";
  const a = Math.abs(off);
  return JSON.stringify({
    timezone: zone,
    date: `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`,
    time: `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`,
    weekday: WEEKDAYS[d.getUTCDay()],
    offset: `UTC${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`,
  });
}
