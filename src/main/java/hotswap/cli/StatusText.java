package hotswap.cli;

import hotswap.wire.Printable;
import hotswap.wire.StatusReport;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

/** The app's status as people read it (a short table) and as scripts read it (one JSON object). */
final class StatusText {
    private static final DateTimeFormatter WHEN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC);

    private StatusText() {
    }

    /** The short table; {@code nowMillis} is the client's clock, for "ago". */
    static String plain(StatusReport.Server s, List<StatusReport.Database> dbs, long nowMillis) {
        StringBuilder b = new StringBuilder();
        b.append("hotswap ").append(Printable.of(s.version())).append(", up ").append(duration(s.uptimeMillis()))
                .append(", socket ").append(Printable.of(s.socket())).append('\n');
        b.append(row("sessions", s.sessions() + " of " + s.maxSessions() + " in use (this one included)"));
        b.append(row("requests", s.inFlight() + " in flight, " + s.waiting() + " waiting at the gate"));
        for (StatusReport.Database d : dbs) {
            b.append('\n').append(Printable.of(d.name())).append("  ").append(Printable.of(d.path())).append('\n');
            String shape = d.problem().isEmpty()
                    ? " (" + d.pageCount() + " pages of " + d.pageSize() + " bytes), journal " + Printable.of(d.journalMode())
                    : " (" + Printable.of(d.problem()) + ")";
            b.append(row("size", bytes(d.size()) + shape + ", -wal " + bytes(d.walSize())));
            StatusReport.Swap w = d.lastSwap();
            b.append(row("swaps", d.swaps() + (w == null ? "" : ", last " + when(w.atMillis(), nowMillis) + ": " + bytes(w.bytes())
                    + " from " + Printable.of(w.source()) + ", requests paused " + String.format(Locale.ROOT, "%.1f ms", w.pauseMillis()))));
            StatusReport.Pull p = d.lastPull();
            b.append(row("pulls", d.pulls() + (p == null ? "" : ", last " + when(p.atMillis(), nowMillis) + ": "
                    + bytes(p.bytes()) + " in " + p.durationMillis() + " ms")));
        }
        return b.toString();
    }

    /** One JSON object, on one line. */
    static String json(StatusReport.Server s, List<StatusReport.Database> dbs) {
        StringBuilder b = new StringBuilder("{");
        b.append("\"version\":").append(string(s.version()));
        b.append(",\"startedAt\":").append(string(Instant.ofEpochMilli(s.startedMillis()).toString()));
        b.append(",\"uptimeMillis\":").append(s.uptimeMillis());
        b.append(",\"socket\":").append(string(s.socket()));
        b.append(",\"sessions\":{\"inUse\":").append(s.sessions()).append(",\"limit\":").append(s.maxSessions()).append('}');
        b.append(",\"requests\":{\"inFlight\":").append(s.inFlight()).append(",\"waiting\":").append(s.waiting()).append('}');
        b.append(",\"databases\":[");
        for (int i = 0; i < dbs.size(); i++) {
            StatusReport.Database d = dbs.get(i);
            boolean known = d.problem().isEmpty();
            b.append(i == 0 ? "" : ",").append('{');
            b.append("\"name\":").append(string(d.name()));
            b.append(",\"path\":").append(string(d.path()));
            b.append(",\"sizeBytes\":").append(d.size());
            b.append(",\"pageSize\":").append(known ? Long.toString(d.pageSize()) : "null");
            b.append(",\"pageCount\":").append(known ? Long.toString(d.pageCount()) : "null");
            b.append(",\"journalMode\":").append(known ? string(d.journalMode()) : "null");
            b.append(",\"walSizeBytes\":").append(d.walSize());
            b.append(",\"problem\":").append(known ? "null" : string(d.problem()));
            b.append(",\"swapCount\":").append(d.swaps());
            StatusReport.Swap w = d.lastSwap();
            b.append(",\"lastSwap\":").append(w == null ? "null" : "{\"at\":" + string(Instant.ofEpochMilli(w.atMillis()).toString())
                    + ",\"bytes\":" + w.bytes() + ",\"pauseMillis\":" + String.format(Locale.ROOT, "%.3f", w.pauseMillis())
                    + ",\"source\":" + string(w.source()) + "}");
            b.append(",\"pullCount\":").append(d.pulls());
            StatusReport.Pull p = d.lastPull();
            b.append(",\"lastPull\":").append(p == null ? "null" : "{\"at\":" + string(Instant.ofEpochMilli(p.atMillis()).toString())
                    + ",\"bytes\":" + p.bytes() + ",\"durationMillis\":" + p.durationMillis() + "}");
            b.append('}');
        }
        return b.append("]}\n").toString();
    }

    /** {@code s} as a JSON string: quotes, backslashes and control characters escaped. */
    static String string(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20 || c >= 0x7f && c <= 0x9f) { // C1 too: U+009B is CSI to a terminal
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    private static String row(String label, String value) {
        return String.format(Locale.ROOT, "  %-9s %s%n", label, value);
    }

    private static String when(long atMillis, long nowMillis) {
        return WHEN.format(Instant.ofEpochMilli(atMillis)) + " (" + duration(Math.max(0, nowMillis - atMillis)) + " ago)";
    }

    /** A duration as people say it: 42 s, 5 min 3 s, 2 h 10 min, 3 d 4 h. */
    static String duration(long millis) {
        Duration d = Duration.ofMillis(millis);
        if (d.toMinutes() < 1) {
            return d.toSeconds() + " s";
        } else if (d.toHours() < 1) {
            return d.toMinutes() + " min " + d.toSecondsPart() + " s";
        } else if (d.toDays() < 1) {
            return d.toHours() + " h " + d.toMinutesPart() + " min";
        }
        return d.toDays() + " d " + d.toHoursPart() + " h";
    }

    /** A size as people read it, in binary units. */
    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
