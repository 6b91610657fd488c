package hotswap.wire;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code status} command's messages. The client sends {@link #REQUEST} alone; the app answers
 * on the control channel with one {@link Server} message, one {@link Database} message per managed
 * database, then exit status 0. Each message is a tag followed by {@code key=value} strings, so a
 * value may hold any character but NUL. Internal to hotswap.
 */
public final class StatusReport {
    /** The command, and the whole request. */
    public static final String REQUEST = "status";

    private StatusReport() {
    }

    /**
     * The app as a whole. The gate is shared by every database, so its figures are here.
     *
     * @param version        the app's hotswap release
     * @param startedMillis  when the control server started, in epoch milliseconds
     * @param uptimeMillis   how long it has run
     * @param socket         the socket's absolute path
     * @param sessions       control sessions running, the one answering included
     * @param maxSessions    the limit on them
     * @param inFlight       requests inside the gate
     * @param waiting        requests waiting at the closed gate
     * @param databases      how many {@link Database} messages follow
     */
    public record Server(String version, long startedMillis, long uptimeMillis, String socket, int sessions, int maxSessions,
                         int inFlight, int waiting, int databases) {
        static final String TAG = "server";

        public List<String> encode() {
            return List.of(TAG, "version=" + version, "started=" + startedMillis, "uptime=" + uptimeMillis, "socket=" + socket,
                    "sessions=" + sessions, "max-sessions=" + maxSessions, "in-flight=" + inFlight, "waiting=" + waiting,
                    "databases=" + databases);
        }

        public static Server decode(List<String> message) throws ProtocolException {
            Map<String, String> m = fields(message, TAG);
            return new Server(text(m, "version"), number(m, "started"), number(m, "uptime"), text(m, "socket"),
                    (int) number(m, "sessions"), (int) number(m, "max-sessions"), (int) number(m, "in-flight"),
                    (int) number(m, "waiting"), (int) number(m, "databases"));
        }
    }

    /** The last swap of a database: when (epoch ms), the new file's bytes, the pause requests saw, where the bytes came from. */
    public record Swap(long atMillis, long bytes, double pauseMillis, String source) {
    }

    /** The last pull of a database: when it ended (epoch ms), the snapshot's bytes, how long it took. */
    public record Pull(long atMillis, long bytes, long durationMillis) {
    }

    /**
     * One managed database.
     *
     * @param size        the file's size in bytes (a stat), 0 when it does not exist
     * @param pageSize    from SQLite; 0 when unknown
     * @param pageCount   from SQLite; 0 when unknown
     * @param journalMode from SQLite; empty when unknown
     * @param walSize     the {@code -wal} file's size, 0 when there is none
     * @param lastSwap    null when none since the app started
     * @param lastPull    null when none since the app started
     * @param problem     why SQLite's figures are missing (the file does not exist, it could not be read); empty when they are there
     */
    public record Database(String name, String path, long size, int pageSize, long pageCount, String journalMode, long walSize,
                           long swaps, Swap lastSwap, long pulls, Pull lastPull, String problem) {
        static final String TAG = "database";

        public List<String> encode() {
            List<String> out = new ArrayList<>(List.of(TAG, "name=" + name, "path=" + path, "size=" + size, "page-size=" + pageSize,
                    "page-count=" + pageCount, "journal-mode=" + journalMode, "wal-size=" + walSize, "swaps=" + swaps,
                    "pulls=" + pulls, "problem=" + problem));
            if (lastSwap != null) {
                out.addAll(List.of("swap-at=" + lastSwap.atMillis(), "swap-bytes=" + lastSwap.bytes(),
                        "swap-pause=" + lastSwap.pauseMillis(), "swap-source=" + lastSwap.source()));
            }
            if (lastPull != null) {
                out.addAll(List.of("pull-at=" + lastPull.atMillis(), "pull-bytes=" + lastPull.bytes(),
                        "pull-duration=" + lastPull.durationMillis()));
            }
            return out;
        }

        public static Database decode(List<String> message) throws ProtocolException {
            Map<String, String> m = fields(message, TAG);
            Swap swap = m.containsKey("swap-at") ? new Swap(number(m, "swap-at"), number(m, "swap-bytes"),
                    decimal(m, "swap-pause"), text(m, "swap-source")) : null;
            Pull pull = m.containsKey("pull-at") ? new Pull(number(m, "pull-at"), number(m, "pull-bytes"),
                    number(m, "pull-duration")) : null;
            return new Database(text(m, "name"), text(m, "path"), number(m, "size"), (int) number(m, "page-size"),
                    number(m, "page-count"), text(m, "journal-mode"), number(m, "wal-size"), number(m, "swaps"), swap,
                    number(m, "pulls"), pull, text(m, "problem"));
        }
    }

    /** Whether {@code message} is a {@link Server} message; else it must be a {@link Database} one. */
    public static boolean isServer(List<String> message) {
        return !message.isEmpty() && message.get(0).equals(Server.TAG);
    }

    private static Map<String, String> fields(List<String> message, String tag) throws ProtocolException {
        if (message.isEmpty() || !message.get(0).equals(tag)) {
            throw new ProtocolException("expected a " + tag + " status message, got " + (message.isEmpty() ? "nothing" : message.get(0)));
        }
        Map<String, String> m = new HashMap<>();
        for (String field : message.subList(1, message.size())) {
            int eq = field.indexOf('=');
            if (eq < 1 || m.put(field.substring(0, eq), field.substring(eq + 1)) != null) {
                throw new ProtocolException("malformed status field: " + field);
            }
        }
        return m;
    }

    private static String text(Map<String, String> m, String key) throws ProtocolException {
        String v = m.get(key);
        if (v == null) {
            throw new ProtocolException("status message without " + key);
        }
        return v;
    }

    private static long number(Map<String, String> m, String key) throws ProtocolException {
        try {
            return Long.parseLong(text(m, key));
        } catch (NumberFormatException e) {
            throw new ProtocolException("status field " + key + " is not a number: " + m.get(key));
        }
    }

    private static double decimal(Map<String, String> m, String key) throws ProtocolException {
        try {
            return Double.parseDouble(text(m, key));
        } catch (NumberFormatException e) {
            throw new ProtocolException("status field " + key + " is not a number: " + m.get(key));
        }
    }
}
