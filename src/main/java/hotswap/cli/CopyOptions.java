package hotswap.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * The parsed arguments of {@code cp}.
 *
 * @param remote        the remote side, or null for a copy on this machine
 * @param rsh           {@code --rsh}: the transport command for a remote copy, or null for the default
 * @param remoteDir     {@code --remote-dir}: the remote directory, or null for the login directory
 * @param remoteHotswap {@code --remote-hotswap}: the hotswap to run there, or null for the default
 * @param delta         {@code --delta} or {@code --no-delta}: move only changed pages; default on for a remote copy
 * @param deltaGiven    {@code --delta} was given: a remote push compares every page even where a
 *                      {@link ReuseSample} finds little to reuse
 * @param compress      {@code --compress} or {@code --no-compress}: deflate those pages, and a remote copy's whole file; default on for a remote copy
 */
record CopyOptions(String source, String destination, boolean skipIntegrityCheck, boolean quickCheck,
                   boolean skipSchemaCheck, long timeoutMillis, boolean force, boolean keepPrevious, boolean quiet,
                   RemoteTarget remote, String rsh, String remoteDir, String remoteHotswap, boolean delta, boolean deltaGiven, boolean compress) {

    static CopyOptions parse(List<String> args) throws UsageError {
        List<String> paths = new ArrayList<>();
        boolean skipIntegrity = false;
        boolean quick = false;
        boolean skipSchema = false;
        long timeout = 0;
        boolean force = false;
        boolean keepPrevious = false;
        boolean quiet = false;
        String rsh = null;
        String remoteDir = null;
        String remoteHotswap = null;
        Boolean delta = null;
        Boolean compress = null;
        boolean onlyPaths = false;
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (onlyPaths) {
                paths.add(arg);
                continue;
            }
            // --NAME=VALUE is --NAME VALUE, for each option that takes a value.
            int eq = arg.indexOf('=');
            String name = eq > 0 && VALUED.contains(arg.substring(0, eq)) ? arg.substring(0, eq) : arg;
            String value = !VALUED.contains(name) ? null : name.length() < arg.length() ? arg.substring(eq + 1) : value(args, i++);
            switch (name) {
                case "--" -> onlyPaths = true;
                case "--skip-integrity-check" -> skipIntegrity = true;
                case "--quick-check" -> quick = true;
                case "--skip-schema-check" -> skipSchema = true;
                case "--force" -> force = true;
                case "--keep-previous" -> keepPrevious = true;
                case "-q", "--quiet" -> quiet = true;
                case "--delta", "--no-delta" -> delta = once(delta, arg, arg.equals("--delta"));
                case "--compress", "--no-compress" -> compress = once(compress, arg, arg.equals("--compress"));
                case "--timeout" -> timeout = milliseconds(timeout, value);
                case "--rsh" -> rsh = once(Command.CP, name, rsh, nonEmpty(name, value));
                case "--remote-dir" -> remoteDir = once(Command.CP, name, remoteDir, nonEmpty(name, value));
                case "--remote-hotswap" -> remoteHotswap = once(Command.CP, name, remoteHotswap, nonEmpty(name, value));
                default -> {
                    if (arg.startsWith("-") && !arg.equals("-")) {
                        throw new UsageError(Command.CP, "unknown option " + arg + " for cp");
                    } else {
                        paths.add(arg);
                    }
                }
            }
        }
        if (skipIntegrity && quick) {
            throw new UsageError(Command.CP, "--skip-integrity-check and --quick-check contradict each other; pick one");
        }
        if (paths.size() != 2) {
            throw new UsageError(Command.CP, "cp needs exactly two paths, SRC and DST; got " + paths.size());
        }
        if (paths.get(0).equals("-") && paths.get(1).equals("-")) {
            throw new UsageError(Command.CP, "SRC and DST cannot both be -; one of them must be the app's database");
        }
        if (paths.get(0).isEmpty() || paths.get(1).isEmpty()) {
            throw new UsageError(Command.CP, "empty path");
        }
        RemoteTarget remoteSource = RemoteTarget.parse(paths.get(0));
        RemoteTarget remoteDestination = RemoteTarget.parse(paths.get(1));
        if (remoteSource != null && remoteDestination != null) {
            throw new UsageError(Command.CP, "SRC and DST are both remote; one of them must be on this machine, a file or -");
        }
        RemoteTarget remote = remoteSource != null ? remoteSource : remoteDestination;
        if (remote == null && (rsh != null || remoteDir != null || remoteHotswap != null)) {
            throw new UsageError(Command.CP, (rsh != null ? "--rsh" : remoteDir != null ? "--remote-dir" : "--remote-hotswap")
                    + " applies only to a remote copy, and neither SRC nor DST is HOST:PATH"
                    + " (a local file with a colon in its name is written ./NAME)");
        }
        boolean deltaOn = delta != null ? delta : remote != null;
        boolean compressOn = compress != null ? compress : remote != null;
        if (compress != null && compress && !deltaOn && remote == null) {
            throw new UsageError(Command.CP, "--compress applies to the pages of a delta transfer and to a copy to or from a remote app;"
                    + " add --delta");
        }
        if (delta != null && delta && paths.contains("-")) {
            throw new UsageError(Command.CP, paths.get(0).equals("-")
                    ? "--delta compares a file page by page, and standard input can be read only once; push from a file, or drop --delta"
                    : "--delta patches an existing copy, and standard output has none; pull to a file, or drop --delta");
        }
        return new CopyOptions(paths.get(0), paths.get(1), skipIntegrity, quick, skipSchema, timeout, force, keepPrevious,
                quiet, remote, rsh, remoteDir, remoteHotswap, deltaOn, delta != null && delta, compressOn);
    }

    /** The options that take a value, as --NAME VALUE or --NAME=VALUE. */
    private static final java.util.Set<String> VALUED = java.util.Set.of("--timeout", "--rsh", "--remote-dir", "--remote-hotswap");

    /** A yes/no option given once, or twice the same way; both ways is a mistake worth stopping for. */
    private static Boolean once(Boolean before, String arg, boolean value) throws UsageError {
        if (before != null && before != value) {
            throw new UsageError(Command.CP, "--" + arg.replaceFirst("^--(no-)?", "") + " and --no-"
                    + arg.replaceFirst("^--(no-)?", "") + " contradict each other; pick one");
        }
        return value;
    }

    /**
     * An option with a value given once, or twice alike; two values are refused rather than one
     * silently dropped: which one the user meant is theirs to say.
     */
    static String once(Command command, String option, String before, String value) throws UsageError {
        if (before != null && !before.equals(value)) {
            throw new UsageError(command, option + " is given twice, as " + before + " and as " + value + "; give it once");
        }
        return value;
    }

    /** True when the remote side is the destination: a push to a remote app. */
    boolean remotePush() {
        return remote != null && destination.equals(remote.toString());
    }

    private static String value(List<String> args, int i) throws UsageError {
        if (i + 1 >= args.size()) {
            throw new UsageError(Command.CP, "no value given for " + args.get(i));
        }
        return args.get(i + 1);
    }

    private static String nonEmpty(String option, String value) throws UsageError {
        if (value.isEmpty()) {
            throw new UsageError(Command.CP, option + " needs a value");
        }
        if (value.indexOf('\0') >= 0) {
            throw new UsageError(Command.CP, option + " contains a NUL byte");
        }
        return value;
    }

    /** @param before the value of an earlier --timeout, 0 for none */
    private static long milliseconds(long before, String value) throws UsageError {
        try {
            long ms = Long.parseLong(value);
            if (ms > 0) {
                once(Command.CP, "--timeout", before == 0 ? null : Long.toString(before), Long.toString(ms));
                return ms;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new UsageError(Command.CP, "--timeout takes a positive number of milliseconds, got " + (value.isEmpty() ? "nothing" : value));
    }
}
