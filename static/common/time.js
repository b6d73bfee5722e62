// Times as console/templatetags/local_time.py writes them on the server, in the hub's time zone
// (pages pass it in a data attribute or their snapshot): a 24-hour clock, "10:00", in tables of one
// day whose heading names the zone, and "Mon 30 Nov 2026, 10:00 EET" wherever a time stands alone.
// A browser's own locale would write "10:00 AM" or "30/11" depending on the machine.
const formats = new Map();

function formatter(timeZone, withDate) {
  const key = `${timeZone || ""}|${withDate}`;
  if (!formats.has(key)) {
    const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: timeZone || undefined };
    if (withDate) Object.assign(options, { weekday: "short", day: "numeric", month: "short", year: "numeric", timeZoneName: "short" });
    formats.set(key, new Intl.DateTimeFormat("en-GB", options));
  }
  return formats.get(key);
}

export function formatClock(iso, timeZone) {
  return iso ? formatter(timeZone, false).format(new Date(iso)) : "–";
}

export function formatDateTime(iso, timeZone) {
  if (!iso) return "–";
  const part = Object.fromEntries(formatter(timeZone, true).formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  return `${part.weekday} ${part.day} ${part.month} ${part.year}, ${part.hour}:${part.minute} ${part.timeZoneName}`;
}
