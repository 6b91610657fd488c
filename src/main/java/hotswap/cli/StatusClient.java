package hotswap.cli;

import hotswap.wire.Channel;
import hotswap.wire.Failures;
import hotswap.wire.Frames;
import hotswap.wire.Printable;
import hotswap.wire.Protocol;
import hotswap.wire.ProtocolException;
import hotswap.wire.StatusReport;
import hotswap.wire.Strings;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs {@code hotswap status}: asks the app (here through its socket, or on another machine
 * through the transport and {@code hotswap relay}, as a remote cp does) for its figures and prints
 * them as a table or, with {@code --json}, as one JSON object. It changes nothing anywhere.
 */
final class StatusClient {
    /**
     * The parsed arguments.
     *
     * @param host the remote host ({@code HOST:} on the command line), or null for the app here
     */
    record Options(boolean json, String host, String rsh, String remoteDir, String remoteHotswap) {
        static Options parse(List<String> args) throws UsageError {
            boolean json = false;
            String host = null;
            String rsh = null;
            String remoteDir = null;
            String remoteHotswap = null;
            boolean onlyHosts = false;
            for (int i = 0; i < args.size(); i++) {
                String arg = args.get(i);
                if (onlyHosts && host == null) {
                    host = host(arg);
                    continue;
                } else if (onlyHosts) {
                    throw new UsageError(Command.STATUS, "status takes at most one HOST:, got " + host + ": and " + arg);
                }
                // --NAME=VALUE is --NAME VALUE, for each option that takes a value.
                int eq = arg.indexOf('=');
                String name = eq > 0 && VALUED.contains(arg.substring(0, eq)) ? arg.substring(0, eq) : arg;
                String value = !VALUED.contains(name) ? null
                        : name.length() < arg.length() ? nonEmpty(name, arg.substring(eq + 1)) : value(args, i++);
                switch (name) {
                    case "--" -> onlyHosts = true;
                    case "--json" -> json = true;
                    case "--rsh" -> rsh = CopyOptions.once(Command.STATUS, name, rsh, value);
                    case "--remote-dir" -> remoteDir = CopyOptions.once(Command.STATUS, name, remoteDir, value);
                    case "--remote-hotswap" -> remoteHotswap = CopyOptions.once(Command.STATUS, name, remoteHotswap, value);
                    default -> {
                        if (arg.startsWith("-")) {
                            throw new UsageError(Command.STATUS, "unknown option " + arg + " for status");
                        } else if (host != null) {
                            throw new UsageError(Command.STATUS, "status takes at most one HOST:, got " + host + ": and " + arg);
                        } else {
                            host = host(arg);
                        }
                    }
                }
            }
            if (host == null && (rsh != null || remoteDir != null || remoteHotswap != null)) {
                throw new UsageError(Command.STATUS, (rsh != null ? "--rsh" : remoteDir != null ? "--remote-dir" : "--remote-hotswap")
                        + " applies only to a remote app, named HOST:");
            }
            return new Options(json, host, rsh, remoteDir, remoteHotswap);
        }

        private static String host(String arg) throws UsageError {
            int colon = RemoteTarget.hostEnd(arg);
            if (colon <= 0 || colon != arg.length() - 1) {
                throw new UsageError(Command.STATUS, "status takes a remote app as HOST: (a colon and nothing after it), got " + arg
                        + "; the app there is found by its socket (--remote-dir, --socket)");
            }
            if (arg.indexOf('\0') >= 0) {
                throw new UsageError(Command.STATUS, "host " + arg.replace("\0", "\\0") + " holds a NUL byte");
            }
            String host = arg.substring(0, colon);
            RemoteTarget.refuseHost(Command.STATUS, host, "");
            return host;
        }

        /** The options that take a value, as --NAME VALUE or --NAME=VALUE. */
        private static final java.util.Set<String> VALUED = java.util.Set.of("--rsh", "--remote-dir", "--remote-hotswap");

        private static String value(List<String> args, int i) throws UsageError {
            if (i + 1 >= args.size()) {
                throw new UsageError(Command.STATUS, "no value given for " + args.get(i));
            }
            return nonEmpty(args.get(i), args.get(i + 1));
        }

        private static String nonEmpty(String option, String value) throws UsageError {
            if (value.isEmpty() || value.indexOf('\0') >= 0) {
                throw new UsageError(Command.STATUS, option + " needs a value without NUL bytes");
            }
            return value;
        }
    }

    private final Options options;
    private final Path socketPath;
    private final String socketArg;
    private final Map<String, String> env;
    private final OutputStream stdout;
    private final PrintStream stderr;
    private Transport transport;

    /**
     * @param socketPath the app's socket here
     * @param socketArg  {@code --socket} as given, or null: for a remote app, it names the socket there
     */
    StatusClient(Options options, Path socketPath, String socketArg, Map<String, String> env, OutputStream stdout, PrintStream stderr) {
        this.options = options;
        this.socketPath = socketPath;
        this.socketArg = socketArg;
        this.env = env;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    int run() throws Failure, UsageError, IOException {
        if (options.host() == null) {
            try (SocketChannel socket = AppSocket.connect(socketPath)) {
                Frames frames = new Frames(socket);
                handshake(frames, List.of(StatusReport.REQUEST), null);
                return answer(frames);
            }
        }
        List<String> argv;
        try {
            argv = RemoteCommand.argv(CopyClient.rsh(options.rsh(), env), RemoteTarget.address(options.host()), RemoteCommand.LINE);
        } catch (UsageError e) {
            throw new UsageError(Command.STATUS, e.getMessage()); // with status's usage, not cp's
        }
        RemoteTarget.refuseTooLong(Command.STATUS, "--socket", socketArg);
        transport = Transport.start(argv, String.join(" ", argv.subList(0, argv.size() - 1)),
                RemoteCommand.preamble(options.remoteDir(), options.remoteHotswap()));
        try (Transport t = transport) {
            Frames frames = t.frames();
            handshake(frames, new RelayRequest(RelayRequest.Side.STATUS, null, socketArg, null).encode(), List.of(StatusReport.REQUEST));
            return answer(frames);
        }
    }

    /** Says hello, sends the request (one or two messages), and checks the peer's protocol version. */
    private void handshake(Frames frames, List<String> first, List<String> second) throws Failure {
        Handshake.perform(frames, first, second, transport, options.host());
    }

    /** Reads the app's answer up to its exit status, then prints the figures. */
    private int answer(Frames frames) throws Failure, IOException {
        StatusReport.Server server = null;
        List<StatusReport.Database> databases = new ArrayList<>();
        try {
            while (true) {
                Frames.Frame frame = frames.read();
                if (frame == null) {
                    throw new Failure(transport != null
                            ? "the connection to " + options.host() + " ended before the status came. " + ending()
                            : "the app closed the connection before the status came; see the app's log");
                }
                switch (frame.channel()) {
                    case STDERR -> {
                        String text = Printable.lines(frame.text());
                        stderr.print(transport != null && text.startsWith("ERROR: ")
                                ? "ERROR: on " + options.host() + ": " + text.substring(7) : text);
                    }
                    case CONTROL -> {
                        List<String> message = Strings.decode(frame.payload());
                        if (StatusReport.isServer(message) && server == null) {
                            server = StatusReport.Server.decode(message);
                        } else if (server != null) {
                            databases.add(StatusReport.Database.decode(message));
                        } else {
                            throw new ProtocolException("a database's status before the server's");
                        }
                    }
                    case EXIT -> {
                        int status = Protocol.exitStatus(frame);
                        if (status == 0) {
                            if (server == null || databases.size() != server.databases()) {
                                throw new ProtocolException("the app ended the status without all of it");
                            }
                            String text = options.json() ? StatusText.json(server, databases)
                                    : StatusText.plain(server, databases, System.currentTimeMillis());
                            stdout.write(text.getBytes(StandardCharsets.UTF_8));
                            stdout.flush();
                        }
                        return status;
                    }
                    default -> throw new ProtocolException("unexpected " + frame.channel() + " frame from the app");
                }
            }
        } catch (ProtocolException e) {
            throw new Failure("protocol error: " + e.getMessage() + "; use the same hotswap version for the command and the app");
        }
    }

    private String ending() {
        return transport.endingSentence();
    }
}
