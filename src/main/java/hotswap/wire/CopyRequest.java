package hotswap.wire;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@code cp} command as it travels from the client to the server: the two paths (absolute, or
 * {@code -} for the client's stdin/stdout) and the options. Local paths are resolved by the client
 * against its own working directory; the server only compares them with its managed databases.
 *
 * @param source        absolute path or {@code -}
 * @param destination   absolute path or {@code -}
 * @param integrity     how the pushed file is checked before it is swapped in
 * @param checkSchema   whether the pushed schema must equal the live one
 * @param timeoutMillis how long a swap waits for in-flight requests; 0 means the server's default
 * @param sourceSize    size of the local source in bytes, or -1 when unknown (a pipe)
 * @param force         swap even when connections the server does not manage are open on the database
 * @param keepPrevious  keep the replaced database beside the new one as {@code <db>.previous}
 * @param deltaSource   for a delta push, the pages of the client's source; null for a whole-file push
 * @param deltaDestination for a delta pull, the pages of the client's existing destination; null
 *                      for a whole-file pull. The client may not know which side the app manages:
 *                      it gives both it can, and the app uses the one on the client's side
 * @param compress      deflate the pages of a delta transfer, and the chunks of a whole push or
 *                      streamed pull ({@link Channel#DATA_IN_DEFLATED}, {@link Channel#DATA_OUT_DEFLATED}), where that pays
 * @param sourceName    the source as typed when it may name a managed database (a word without
 *                      {@code /} with nothing at its path), else null; the app decides
 * @param destinationName the same for the destination, which may also be a new local file
 * @param origin        where the client's source is, for the app's figures: a request without
 *                      it (an older client) is taken as {@link Origin#of its source}
 */
public record CopyRequest(String source, String destination, Integrity integrity, boolean checkSchema,
                          long timeoutMillis, long sourceSize, boolean force, boolean keepPrevious,
                          Pages deltaSource, Pages deltaDestination, boolean compress,
                          String sourceName, String destinationName, Origin origin) {

    /** A whole-file transfer. */
    public CopyRequest(String source, String destination, Integrity integrity, boolean checkSchema,
                       long timeoutMillis, long sourceSize, boolean force, boolean keepPrevious) {
        this(source, destination, integrity, checkSchema, timeoutMillis, sourceSize, force, keepPrevious, null, null, false);
    }

    /** A transfer whose origin follows from its source. */
    public CopyRequest(String source, String destination, Integrity integrity, boolean checkSchema,
                       long timeoutMillis, long sourceSize, boolean force, boolean keepPrevious,
                       Pages deltaSource, Pages deltaDestination, boolean compress) {
        this(source, destination, integrity, checkSchema, timeoutMillis, sourceSize, force, keepPrevious, deltaSource,
                deltaDestination, compress, null, null, Origin.of(source));
    }

    /** Where the client's source is: a file, its stdin, or another machine (the request came through a relay). */
    public enum Origin {
        FILE, STDIN, REMOTE;

        /** The origin a local client's request has: stdin for {@code -}, else a file. */
        public static Origin of(String source) {
            return STDIO.equals(source) ? STDIN : FILE;
        }

        /** As the wire, the status and the logs name it. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** The shape of a database file in pages. */
    public record Pages(int pageSize, int count) {
        String encode() {
            return pageSize + ":" + count;
        }

        static Pages decode(String text) throws ProtocolException {
            int colon = text.indexOf(':');
            try {
                Pages p = new Pages(Integer.parseInt(text.substring(0, Math.max(colon, 0))), Integer.parseInt(text.substring(colon + 1)));
                if (p.pageSize >= 512 && p.pageSize <= 65536 && Integer.bitCount(p.pageSize) == 1 && p.count >= 0
                        && p.count <= PageHashes.MAX_PAGES) {
                    return p;
                }
            } catch (NumberFormatException e) {
                // refused below
            }
            throw new ProtocolException("malformed delta option: " + text);
        }
    }

    public static final String COMMAND = "cp";
    public static final String STDIO = "-";

    /** What the server runs on a pushed file before it may replace the live one. */
    public enum Integrity {
        /** {@code PRAGMA integrity_check}: reads every page and checks every index. */
        FULL,
        /** {@code PRAGMA quick_check}: the same but without checking index contents; faster. */
        QUICK,
        /** No check. */
        SKIP
    }

    public List<String> encode() {
        List<String> out = new ArrayList<>();
        out.add(COMMAND);
        out.add(source);
        out.add(destination);
        out.add("integrity=" + integrity.name().toLowerCase());
        out.add("schema=" + (checkSchema ? "check" : "skip"));
        out.add("timeout=" + timeoutMillis);
        out.add("source-size=" + sourceSize);
        out.add("force=" + force);
        out.add("keep-previous=" + keepPrevious);
        if (deltaSource != null) {
            out.add("delta-source=" + deltaSource.encode());
        }
        if (deltaDestination != null) {
            out.add("delta-destination=" + deltaDestination.encode());
        }
        out.add("compress=" + compress);
        if (sourceName != null) {
            out.add("source-name=" + sourceName);
        }
        if (destinationName != null) {
            out.add("destination-name=" + destinationName);
        }
        out.add("origin=" + origin.label());
        return out;
    }

    /** Decodes what {@link #encode} produced, refusing anything else. */
    public static CopyRequest decode(List<String> strings) throws ProtocolException {
        if (strings.size() < 3 || !COMMAND.equals(strings.get(0))) {
            throw new ProtocolException("expected a cp request");
        }
        String source = path(strings.get(1), "source");
        String destination = path(strings.get(2), "destination");
        Map<String, String> options = new HashMap<>();
        for (String option : strings.subList(3, strings.size())) {
            int eq = option.indexOf('=');
            if (eq < 1 || options.put(option.substring(0, eq), option.substring(eq + 1)) != null) {
                throw new ProtocolException("malformed option: " + option);
            }
        }
        Integrity integrity = switch (options.getOrDefault("integrity", "full")) {
            case "full" -> Integrity.FULL;
            case "quick" -> Integrity.QUICK;
            case "skip" -> Integrity.SKIP;
            default -> throw new ProtocolException("unknown integrity option: " + options.get("integrity"));
        };
        boolean checkSchema = switch (options.getOrDefault("schema", "check")) {
            case "check" -> true;
            case "skip" -> false;
            default -> throw new ProtocolException("unknown schema option: " + options.get("schema"));
        };
        long timeout = number(options, "timeout", 0);
        long size = number(options, "source-size", -1);
        boolean force = bool(options, "force");
        boolean keepPrevious = bool(options, "keep-previous");
        Pages deltaSource = options.containsKey("delta-source") ? Pages.decode(options.get("delta-source")) : null;
        Pages deltaDestination = options.containsKey("delta-destination") ? Pages.decode(options.get("delta-destination")) : null;
        boolean compress = bool(options, "compress");
        String sourceName = name(options.get("source-name"), "source-name");
        String destinationName = name(options.get("destination-name"), "destination-name");
        Origin origin = switch (options.getOrDefault("origin", Origin.of(source).label())) {
            case "file" -> Origin.FILE;
            case "stdin" -> Origin.STDIN;
            case "remote" -> Origin.REMOTE;
            default -> throw new ProtocolException("unknown origin: " + options.get("origin"));
        };
        options.keySet().removeAll(List.of("integrity", "schema", "timeout", "source-size", "force", "keep-previous", "delta-source",
                "delta-destination", "compress", "source-name", "destination-name", "origin"));
        if (!options.isEmpty()) {
            throw new ProtocolException("unknown option: " + options.keySet().iterator().next()
                    + " (the client is newer than this server; use the same hotswap jar on both sides)");
        }
        if (timeout < 0 || size < -1) {
            throw new ProtocolException("negative number in options");
        }
        if (deltaSource != null && (long) deltaSource.pageSize() * deltaSource.count() != size) {
            throw new ProtocolException("delta-source " + deltaSource.encode() + " does not match source-size " + size);
        }
        return new CopyRequest(source, destination, integrity, checkSchema, timeout, size, force, keepPrevious, deltaSource, deltaDestination,
                compress, sourceName, destinationName, origin);
    }

    /** This request as the relay forwards it: with the remote path it resolved, from another machine. */
    public CopyRequest relayed(String source, String destination) {
        return new CopyRequest(source, destination, integrity, checkSchema, timeoutMillis, sourceSize, force, keepPrevious,
                deltaSource, deltaDestination, compress, sourceName, destinationName, Origin.REMOTE);
    }

    /** This request as a whole-file push: the client sends the whole file when the app asks for it. */
    public CopyRequest withoutDelta() {
        return new CopyRequest(source, destination, integrity, checkSchema, timeoutMillis, sourceSize, force, keepPrevious,
                null, deltaDestination, compress, sourceName, destinationName, origin);
    }

    /** This request with the words that may name a managed database (null where none may). */
    public CopyRequest withNames(String sourceName, String destinationName) {
        return new CopyRequest(source, destination, integrity, checkSchema, timeoutMillis, sourceSize, force, keepPrevious,
                deltaSource, deltaDestination, compress, sourceName, destinationName, origin);
    }

    /**
     * Why a copy between two names of one file (a hard link, as {@code cp -al} or rsnapshot leave,
     * or a path through a bind mount) is refused, on whichever side sees both: pushed onto itself, a
     * live database would lose the transactions its -wal holds; a pull onto it would replace only a name.
     */
    public static String sameFileRefusal(String one, String other) {
        return one + " and " + other + " are the same file (hard links, or one path through a bind mount); nothing changed. "
                + "Pushed onto itself, a live database would lose the transactions its -wal holds, and a pull onto it would "
                + "replace only a name: copy to or from a file of its own (a pull makes one)";
    }

    /**
     * Whether {@code word} may name a managed database on the command line: not empty, not
     * {@code -}, {@code .} or {@code ..}, without {@code /} (that is a path), {@code :} (that is a
     * remote target) or NUL, and not starting with {@code -} (that is an option).
     */
    public static boolean isName(String word) {
        return !word.isEmpty() && !word.equals(".") && !word.equals("..") && !word.startsWith("-")
                && word.indexOf('/') < 0 && word.indexOf(':') < 0 && word.indexOf('\0') < 0;
    }

    private static String name(String value, String what) throws ProtocolException {
        if (value != null && !isName(value)) {
            throw new ProtocolException(what + " is not a database name: " + value);
        }
        return value;
    }

    private static String path(String value, String what) throws ProtocolException {
        if (!value.equals(STDIO) && !value.startsWith("/")) {
            throw new ProtocolException(what + " must be an absolute path or -");
        }
        if (value.indexOf('\0') >= 0) {
            throw new ProtocolException(what + " contains a NUL byte");
        }
        return value;
    }

    private static boolean bool(Map<String, String> options, String key) throws ProtocolException {
        String value = options.getOrDefault(key, "false");
        return switch (value) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new ProtocolException("option " + key + " must be true or false: " + value);
        };
    }

    private static long number(Map<String, String> options, String key, long fallback) throws ProtocolException {
        String value = options.get(key);
        if (value == null) {
            return fallback;
        }
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new ProtocolException("option " + key + " is not a number: " + value);
        }
    }
}
