package hotswap.cli;

import hotswap.wire.Channel;
import hotswap.wire.CopyRequest;
import hotswap.wire.Failures;
import hotswap.wire.Frames;
import hotswap.wire.Protocol;
import hotswap.wire.ProtocolException;
import hotswap.wire.Strings;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipal;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import jdk.net.ExtendedSocketOptions;

/**
 * Runs {@code hotswap cp} against the app: resolves the local paths ({@link LocalPaths}), connects
 * and checks that the app runs as this user before sending anything, sends the request, then
 * either streams the local source to the server (a push) or takes the snapshot the server offers
 * or streams into the local destination (a pull: {@link PullSink}, {@link OfferedSnapshot}),
 * printing the server's messages on the matching local stream, and returns the server's exit
 * status.
 */
final class CopyClient {
    /** The longest path a Unix socket address holds on Linux (sun_path less its terminating NUL). */
    private static final int MAX_SOCKET_PATH_BYTES = 107;

    private final CopyOptions options;
    private final Path cwd;
    private final Path socketPath;
    private final InputStream stdin;
    private final OutputStream stdout;
    private final PrintStream stderr;
    private final Progress progress;
    private volatile String localFailure;
    /** Removes a pull's partial output should the JVM be stopped; null until a pull has one. */
    private Thread discardOnExit;

    CopyClient(CopyOptions options, Path cwd, Path socketPath, InputStream stdin, OutputStream stdout, PrintStream stderr,
               Progress progress) {
        this.options = options;
        this.cwd = cwd;
        this.socketPath = socketPath;
        this.stdin = stdin;
        this.stdout = stdout;
        this.stderr = stderr;
        this.progress = progress;
    }

    int run() throws Failure, IOException {
        String source = LocalPaths.source(cwd, options.source());
        String destination = LocalPaths.destination(cwd, options.destination(), source);
        long sourceSize = source.equals(CopyRequest.STDIO) ? -1 : sizeOf(source);
        CopyRequest request = new CopyRequest(source, destination,
                options.skipIntegrityCheck() ? CopyRequest.Integrity.SKIP
                        : options.quickCheck() ? CopyRequest.Integrity.QUICK : CopyRequest.Integrity.FULL,
                !options.skipSchemaCheck(), options.timeoutMillis(), sourceSize, options.force(), options.keepPrevious());
        try (SocketChannel socket = connect()) {
            Frames frames = new Frames(socket);
            try {
                Protocol.sayHello(frames);
                frames.writeStrings(Channel.CONTROL, request.encode());
            } catch (IOException e) {
                // A server that turns us away (busy, wrong user) has already replied and hung up: read why.
                localFailure = "the app closed the connection: " + Failures.describe(e);
            }
            int serverVersion;
            try {
                serverVersion = Protocol.readHello(frames);
            } catch (IOException e) {
                throw new Failure(localFailure != null ? localFailure
                        : "the app closed the connection during the handshake (" + Failures.describe(e) + "); see the app's log");
            }
            if (serverVersion != Protocol.VERSION) {
                throw new Failure("the app's hotswap speaks protocol version " + serverVersion + ", this client "
                        + Protocol.VERSION + "; use the same hotswap jar for the command and the app");
            }
            return converse(socket, frames, request);
        }
    }

    private long sizeOf(String source) throws Failure {
        try {
            return Files.size(Path.of(source));
        } catch (IOException e) {
            throw new Failure("cannot read " + options.source() + ": " + Failures.describe(e));
        }
    }

    /**
     * Connects to the app and makes sure it runs as this client's user before a single byte is
     * sent: a socket path in a shared directory, or one another user took over, must not get this
     * client's database or hand it a file to take.
     */
    private SocketChannel connect() throws Failure, IOException {
        SocketChannel socket = open(socketAddress());
        try {
            checkServerRunsAsThisUser(socket);
            return socket;
        } catch (Failure | RuntimeException e) {
            closeQuietly(socket);
            throw e;
        }
    }

    /**
     * The socket's absolute path; where that is longer than a socket address holds, the same path
     * relative to this process's working directory, which is what the kernel resolves a relative
     * address against (not the {@code cwd} an in-process caller passed).
     */
    private UnixDomainSocketAddress socketAddress() throws Failure {
        if (fitsAnAddress(socketPath)) {
            return UnixDomainSocketAddress.of(socketPath);
        }
        Path relative = Path.of("").toAbsolutePath().relativize(socketPath);
        if (fitsAnAddress(relative)) {
            return UnixDomainSocketAddress.of(relative);
        }
        throw new Failure("the socket path " + socketPath + " is too long: a Unix socket address holds at most "
                + MAX_SOCKET_PATH_BYTES + " bytes, and that path has " + bytes(socketPath) + " (" + bytes(relative)
                + " relative to this directory); nothing was sent. Run hotswap from the app's directory, or point "
                + "--socket (or HOTSWAP_SOCKET) at a shorter path");
    }

    private static boolean fitsAnAddress(Path path) {
        return bytes(path) <= MAX_SOCKET_PATH_BYTES;
    }

    private static int bytes(Path path) {
        return path.toString().getBytes(StandardCharsets.UTF_8).length;
    }

    private SocketChannel open(UnixDomainSocketAddress address) throws Failure, IOException {
        try {
            return SocketChannel.open(address);
        } catch (java.net.ConnectException | NoSuchFileException e) {
            throw new Failure("no hotswap server at " + socketPath + "; start the app, or point --socket "
                    + "(or HOTSWAP_SOCKET) at the socket it listens on");
        } catch (java.net.SocketException e) {
            String why = String.valueOf(e.getMessage());
            if (why.contains("Permission denied")) {
                throw new Failure("permission denied connecting to " + socketPath + "; run hotswap as the app's user");
            }
            if (why.contains("No such file") || why.contains("Connection refused")) {
                throw new Failure("no hotswap server at " + socketPath + "; start the app, or point --socket "
                        + "(or HOTSWAP_SOCKET) at the socket it listens on");
            }
            throw new Failure("cannot connect to " + socketPath + ": " + why);
        } catch (IllegalArgumentException e) {
            throw new Failure("socket path " + socketPath + " is not usable: " + e.getMessage());
        }
    }

    /** Root is refused too: a server of another user, root included, is not the app this user runs. */
    private void checkServerRunsAsThisUser(SocketChannel socket) throws Failure {
        UserPrincipal me;
        UserPrincipal server;
        try {
            me = OwnUser.principal();
            server = socket.getOption(ExtendedSocketOptions.SO_PEERCRED).user();
        } catch (IOException | UnsupportedOperationException e) {
            throw new Failure("cannot tell which user the server at " + socketPath + " runs as (" + e.getMessage()
                    + "); nothing was sent. hotswap runs only where it can check that (Linux)");
        }
        if (!server.equals(me)) {
            throw new Failure("the server at " + socketPath + " runs as user " + server.getName() + ", which is not you ("
                    + me.getName() + "); nothing was sent. hotswap talks only to an app of its own user: run it as the "
                    + "app's user, or point --socket (or HOTSWAP_SOCKET) at your app's socket");
        }
    }

    private int converse(SocketChannel socket, Frames frames, CopyRequest request) throws Failure, IOException {
        PullSink sink = null;
        OfferedSnapshot offer = null;
        boolean taken = false;
        Thread uploader = null;
        try {
            while (true) {
                Frames.Frame frame;
                try {
                    frame = frames.read();
                } catch (AsynchronousCloseException e) {
                    frame = null;
                }
                if (frame == null) {
                    if (localFailure != null) {
                        throw new Failure(localFailure);
                    }
                    throw new Failure("the app closed the connection before the command finished; see the app's log");
                }
                switch (frame.channel()) {
                    case STDOUT -> {
                        progress.close(); // the server's stdout text is its final word
                        write(stdout, frame.payload());
                    }
                    case STDERR -> progress.println(frame.text());
                    case CONTROL -> {
                        List<String> message = Strings.decode(frame.payload());
                        if (message.size() == 2 && message.get(0).equals("phase")) {
                            progress.phase(message.get(1));
                        } else if (message.equals(List.of("push")) && uploader == null && sink == null) {
                            // Checked now, not before connecting: until the app says which side it manages,
                            // the source may be its live database, whose -wal is in use. Hanging up ends the push.
                            // "< new.sqlite3" is a push from a file too.
                            String redirected = request.source().equals(CopyRequest.STDIO) && stdin == System.in ? LocalPaths.stdinFile() : null;
                            LocalPaths.refuseUnfinishedTransactions(cwd, redirected != null ? redirected : options.source(),
                                    redirected != null ? redirected : request.source());
                            progress.total(request.sourceSize());
                            progress.phase("sending");
                            uploader = startUpload(socket, frames, request.source());
                        } else if (message.size() == 5 && message.get(0).equals("pull") && offer == null && uploader == null) {
                            LocalPaths.refuseJournalsBeside(request.destination()); // hanging up ends the pull
                            long size = size(message.get(1));
                            progress.total(size);
                            progress.phase("receiving");
                            sink = openSink(request, mode(message.get(4)));
                            offer = new OfferedSnapshot(message.get(2), message.get(3), size);
                            String how = sink.take(offer);
                            frames.writeStrings(Channel.CONTROL, how == null ? List.of("stream") : List.of("took", how));
                            if (how != null) {
                                taken = true;
                                sink.finishTaken(offer, progress);
                            }
                        } else {
                            throw new ProtocolException("unexpected message from the app: " + message);
                        }
                    }
                    case DATA_OUT -> {
                        if (sink == null || taken) {
                            throw new ProtocolException(sink == null ? "the app sent database bytes before saying it would"
                                    : "the app streamed a snapshot this client had taken as a file");
                        }
                        if (frame.isEndOfStream()) {
                            sink.finish();
                        } else {
                            progress.add(frame.payload().remaining());
                            sink.write(frame.payload());
                        }
                    }
                    case EXIT -> {
                        int status = Protocol.exitStatus(frame);
                        progress.close();
                        if (status == 0 && sink != null) {
                            sink.commit();
                            if (!request.destination().equals(CopyRequest.STDIO)) {
                                progress.println("OK");
                            }
                        }
                        return status;
                    }
                    default -> throw new ProtocolException("unexpected " + frame.channel() + " frame from the app");
                }
            }
        } catch (ProtocolException e) {
            throw new Failure("protocol error: " + e.getMessage() + "; use the same hotswap jar for the command and the app");
        } finally {
            if (sink != null) {
                sink.discard();
            }
            if (discardOnExit != null) {
                try {
                    Runtime.getRuntime().removeShutdownHook(discardOnExit);
                } catch (IllegalStateException e) {
                    // Already shutting down: the hook finds nothing left to remove.
                }
            }
            if (offer != null) {
                offer.close();
            }
            if (uploader != null) {
                uploader.interrupt();
            }
        }
    }

    /**
     * Opens where the pull goes, and has what it writes removed if the JVM is stopped (Ctrl-C,
     * SIGTERM) before it ends, as after a failure; otherwise a stopped pull left its temp file
     * beside the destination, up to the whole database.
     */
    private PullSink openSink(CopyRequest request, Set<PosixFilePermission> mode) throws IOException {
        PullSink sink = PullSink.open(request.destination(), stdout, mode);
        discardOnExit = new Thread(sink::discard, "hotswap-discard");
        Runtime.getRuntime().addShutdownHook(discardOnExit);
        return sink;
    }

    private static long size(String text) throws ProtocolException {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new ProtocolException("malformed snapshot size: " + text);
        }
    }

    /** The live database's permission bits, which the app sends in octal ("640"). */
    private static Set<PosixFilePermission> mode(String octal) throws ProtocolException {
        if (!octal.matches("[0-7]{1,4}")) {
            throw new ProtocolException("malformed file mode: " + octal);
        }
        int bits = Integer.parseInt(octal, 8);
        Set<PosixFilePermission> mode = EnumSet.noneOf(PosixFilePermission.class);
        for (PosixFilePermission p : PosixFilePermission.values()) { // OWNER_READ is 0400, each next one half of it
            if ((bits & (0400 >> p.ordinal())) != 0) {
                mode.add(p);
            }
        }
        return mode;
    }

    private static void write(OutputStream out, ByteBuffer payload) throws IOException {
        out.write(payload.array(), payload.arrayOffset() + payload.position(), payload.remaining());
        out.flush();
    }

    /** Streams the source to the app on its own thread, so the app's replies are read meanwhile. */
    private Thread startUpload(SocketChannel socket, Frames frames, String source) {
        Thread t = new Thread(() -> {
            try {
                if (source.equals(CopyRequest.STDIO)) {
                    uploadStream(frames, stdin);
                } else {
                    uploadFile(frames, Path.of(source));
                }
                frames.writeEnd(Channel.DATA_IN);
            } catch (LocalReadError e) {
                localFailure = e.getMessage() + "; nothing changed";
                closeQuietly(socket);
            } catch (IOException e) {
                // The app stopped reading: it has sent, or is sending, its reason and exit status.
            }
        }, "hotswap-upload");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private void uploadFile(Frames frames, Path source) throws IOException {
        FileChannel in;
        try {
            in = FileChannel.open(source, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new LocalReadError("cannot read " + source + ": " + Failures.describe(e));
        }
        try (in) {
            long size = in.size();
            for (long pos = 0; pos < size; pos += Protocol.DATA_CHUNK_BYTES) {
                int n = (int) Math.min(Protocol.DATA_CHUNK_BYTES, size - pos);
                frames.transferFrom(Channel.DATA_IN, in, pos, n);
                progress.add(n);
            }
        }
    }

    private void uploadStream(Frames frames, InputStream in) throws IOException {
        byte[] chunk = new byte[Protocol.DATA_CHUNK_BYTES];
        while (true) {
            int n;
            try {
                n = in.readNBytes(chunk, 0, chunk.length);
            } catch (IOException e) {
                throw new LocalReadError("cannot read standard input: " + Failures.describe(e));
            }
            if (n == 0) {
                return;
            }
            frames.write(Channel.DATA_IN, chunk, 0, n);
            progress.add(n);
        }
    }

    private static void closeQuietly(SocketChannel socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // Closing is all we wanted.
        }
    }

    /** Reading the local source failed, as opposed to sending it. */
    private static final class LocalReadError extends IOException {
        LocalReadError(String message) {
            super(message);
        }
    }
}
