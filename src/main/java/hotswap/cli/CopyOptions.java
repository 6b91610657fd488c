package hotswap.cli;

import java.util.ArrayList;
import java.util.List;

/** The parsed arguments of {@code hotswap cp}. */
record CopyOptions(String source, String destination, boolean skipIntegrityCheck, boolean quickCheck,
                   boolean skipSchemaCheck, long timeoutMillis, boolean force, boolean keepPrevious, boolean quiet) {

    static CopyOptions parse(List<String> args) throws UsageError {
        List<String> paths = new ArrayList<>();
        boolean skipIntegrity = false;
        boolean quick = false;
        boolean skipSchema = false;
        long timeout = 0;
        boolean force = false;
        boolean keepPrevious = false;
        boolean quiet = false;
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            switch (arg) {
                case "--skip-integrity-check" -> skipIntegrity = true;
                case "--quick-check" -> quick = true;
                case "--skip-schema-check" -> skipSchema = true;
                case "--force" -> force = true;
                case "--keep-previous" -> keepPrevious = true;
                case "-q", "--quiet" -> quiet = true;
                case "--timeout" -> {
                    if (i + 1 >= args.size()) {
                        throw new UsageError(Command.CP, "no value given for --timeout");
                    }
                    timeout = milliseconds(args.get(++i));
                }
                default -> {
                    if (arg.startsWith("--timeout=")) {
                        timeout = milliseconds(arg.substring("--timeout=".length()));
                    } else if (arg.startsWith("-") && !arg.equals("-")) {
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
        return new CopyOptions(paths.get(0), paths.get(1), skipIntegrity, quick, skipSchema, timeout, force, keepPrevious, quiet);
    }

    private static long milliseconds(String value) throws UsageError {
        try {
            long ms = Long.parseLong(value);
            if (ms > 0) {
                return ms;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new UsageError(Command.CP, "--timeout takes a positive number of milliseconds, got " + value);
    }
}
