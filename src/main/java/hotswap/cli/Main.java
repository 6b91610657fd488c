package hotswap.cli;

import hotswap.wire.Failures;
import hotswap.wire.Printable;
import hotswap.wire.Protocol;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The {@code hotswap} command line. Parses its arguments by hand, runs one command and returns
 * its exit status: 0 success, 1 failure, 2 usage error. Only {@link #main} exits the JVM.
 */
public final class Main {
    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;

    private Main() {
    }

    public static void main(String[] args) {
        OutputStream out = new FileOutputStream(FileDescriptor.out);
        PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
        Map<String, String> env = System.getenv();
        boolean progress = Progress.stderrIsTerminal() && !"dumb".equals(env.get("TERM"));
        String undecodable = TypedArguments.notAsTyped(args);
        if (undecodable != null) {
            err.println("ERROR: " + undecodable);
            System.exit(USAGE);
        }
        int status = run(System.in, out, err, env, Path.of("").toAbsolutePath(), progress, args);
        System.exit(status);
    }

    /**
     * Runs the command line {@code args} as if from directory {@code cwd}, with {@code env} as its
     * environment.
     *
     * @return the exit status
     */
    public static int run(InputStream in, OutputStream out, PrintStream err, Map<String, String> env, Path cwd, String... args) {
        return run(in, out, err, env, cwd, false, args);
    }

    /** As {@link #run(InputStream, OutputStream, PrintStream, Map, Path, String...)}; {@code terminal} says err is one. */
    static int run(InputStream in, OutputStream out, PrintStream err, Map<String, String> env, Path cwd,
                   boolean terminal, String... args) {
        Command command = null;
        try {
            String socket = null;
            boolean help = false;
            boolean endOfOptions = false;
            List<String> rest = new ArrayList<>();
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                if (endOfOptions) {
                    rest.add(arg);
                } else if (arg.equals("--")) {
                    endOfOptions = true;
                    if (command == Command.CP || command == Command.STATUS) {
                        rest.add(arg); // so that cp and status, too, take what follows for paths and hosts
                    }
                } else if (arg.equals("-h") || arg.equals("--help")) {
                    help = true;
                } else if (arg.equals("--socket")) {
                    if (i + 1 >= args.length) {
                        throw new UsageError(command, "no value given for --socket");
                    }
                    socket = CopyOptions.once(command, arg, socket, args[++i]);
                } else if (arg.startsWith("--socket=")) {
                    socket = CopyOptions.once(command, "--socket", socket, arg.substring("--socket=".length()));
                } else if (command == null && arg.startsWith("-") && !arg.equals("-")) {
                    throw new UsageError(null, "unknown option " + arg);
                } else if (command == null) {
                    command = Command.named(arg);
                    if (command == null) {
                        throw new UsageError(null, "unknown command " + arg);
                    }
                } else {
                    rest.add(arg);
                }
            }
            if (socket != null && socket.isEmpty()) {
                throw new UsageError(command, "--socket needs a path");
            }
            if (help || command == Command.HELP) {
                return help(command, rest, out, err);
            }
            if (command == null) {
                throw new UsageError(null, "no command given");
            }
            switch (command) {
                case VERSION -> {
                    if (!rest.isEmpty()) {
                        throw new UsageError(command, "version takes no arguments");
                    }
                    out.write(("hotswap " + Protocol.RELEASE + "\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    return OK;
                }
                case CP -> {
                    CopyOptions options = CopyOptions.parse(rest);
                    Path socketPath = socketPath(cwd, socket, env);
                    try (Progress progress = terminal && !options.quiet() ? Progress.start(err) : Progress.none(err)) {
                        return new CopyClient(options, cwd, socketPath, socket, env, in, out, err, progress).run();
                    }
                }
                case STATUS -> {
                    StatusClient.Options options = StatusClient.Options.parse(rest);
                    Path socketPath = socketPath(cwd, socket, env);
                    return new StatusClient(options, socketPath, socket, env, out, err).run();
                }
                case RELAY -> {
                    if (!rest.isEmpty()) {
                        throw new UsageError(command, "relay takes no arguments: the remote cp sends them on its input");
                    }
                    // As given, not resolved: the relay tells a socket named relative to its directory from one named outright.
                    return new Relay(in, out, cwd, Path.of(socketArgument(socket, env))).run();
                }
                default -> throw new IllegalStateException("unhandled command " + command);
            }
        } catch (UsageError e) {
            err.println("ERROR: " + e.getMessage());
            // A command's whole help would scroll the error off the screen: its usage line, and where the rest is.
            err.print(e.command == null ? "\n" + Command.overview()
                    : "Usage: " + e.command.usage + "\nRun 'hotswap help " + e.command.name + "' for its options and examples.\n");
            return USAGE;
        } catch (Failure e) {
            // A failure may quote the far side (a protocol error names what the app sent): no control sequences.
            err.println("ERROR: " + Printable.lines(e.getMessage()));
            return FAILED;
        } catch (java.io.IOException e) {
            err.println("ERROR: " + Printable.lines(Failures.describe(e)));
            return FAILED;
        } catch (RuntimeException e) {
            err.println("ERROR: unexpected internal error: " + Printable.lines(String.valueOf(e)) + "; please report it");
            return FAILED;
        }
    }

    /**
     * {@code --socket}, else {@code $HOTSWAP_SOCKET}, else the default, from {@code cwd}. An empty
     * variable ({@code export HOTSWAP_SOCKET=}) counts as unset, as for the shell's {@code ${VAR:-default}}:
     * resolved, it would name this directory.
     */
    private static Path socketPath(Path cwd, String socket, Map<String, String> env) {
        return cwd.resolve(socketArgument(socket, env));
    }

    /** The socket as named, before it is resolved from the working directory. */
    private static String socketArgument(String socket, Map<String, String> env) {
        String fromEnv = env.get(Protocol.SOCKET_ENV);
        return socket != null ? socket : fromEnv != null && !fromEnv.isEmpty() ? fromEnv : Protocol.DEFAULT_SOCKET;
    }

    private static int help(Command command, List<String> rest, OutputStream out, PrintStream err) throws UsageError, java.io.IOException {
        Command topic = command;
        if (command == Command.HELP && !rest.isEmpty()) {
            if (rest.size() > 1) {
                throw new UsageError(Command.HELP, "help takes one COMMAND, got " + rest.size() + ": " + String.join(" ", rest)
                        + "; ask for one at a time");
            }
            topic = Command.named(rest.get(0));
            if (topic == null) {
                throw new UsageError(Command.HELP, "unknown command " + rest.get(0));
            }
        }
        String text = topic == null || topic == Command.HELP && rest.isEmpty() ? Command.overview() : topic.help();
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
        return OK;
    }
}
