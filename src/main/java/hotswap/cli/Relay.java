package hotswap.cli;

import hotswap.wire.Channel;
import hotswap.wire.CopyRequest;
import hotswap.wire.Failures;
import hotswap.wire.Frames;
import hotswap.wire.Protocol;
import hotswap.wire.ProtocolException;
import hotswap.wire.StatusReport;
import hotswap.wire.Strings;
import hotswap.wire.Writes;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code hotswap relay}: the remote end of a remote {@code cp}, run by the transport on the app's
 * machine. It speaks the control protocol on its stdin and stdout, resolves the copy's remote path
 * here as a local {@code cp} would ({@link LocalPaths}, from its working directory), connects to
 * the app as a local client does ({@link AppSocket}: only an app of its own user), forwards the
 * request with that path put in, and then passes bytes both ways until the app hangs up.
 *
 * <p>Sequence: client → relay: hello, {@link RelayRequest}, cp request (the remote side {@code -})
 * or status request; relay → client: hello. Then relay → app: hello, the completed cp request (or
 * the status request as it came); app → relay: hello, which ends there. From then on every byte is passed through unchanged. A failure before that is
 * reported to the client as the app reports one: {@code ERROR: ...} on stderr and exit status 1.
 */
final class Relay {
    private static final int BUFFER_BYTES = 256 * 1024;

    private final ReadableByteChannel in;
    private final WritableByteChannel out;
    private final Frames client;
    private final Path cwd;
    private final Path defaultSocket;

    /**
     * @param defaultSocket the socket used unless the client names one: {@code --socket} given to
     *                      the relay, else {@code HOTSWAP_SOCKET} here, else the default; relative to {@code cwd}
     *                      unless absolute
     */
    Relay(InputStream in, OutputStream out, Path cwd, Path defaultSocket) {
        this.in = Channels.newChannel(in);
        this.out = Channels.newChannel(out);
        this.client = new Frames(this.in, this.out);
        this.cwd = cwd;
        this.defaultSocket = defaultSocket;
    }

    int run() throws IOException {
        Protocol.sayHello(client);
        RelayRequest relay;
        CopyRequest request;
        List<String> status = null;
        try {
            int version = Protocol.readHello(client);
            if (version != Protocol.VERSION) {
                return fail("the client speaks protocol version " + version + ", this hotswap " + Protocol.VERSION
                        + "; nothing changed. Use the same hotswap version on both machines");
            }
            relay = RelayRequest.decode(control());
            if (relay.side() == RelayRequest.Side.STATUS) {
                status = control();
                if (!status.equals(List.of(StatusReport.REQUEST))) {
                    throw new ProtocolException("expected a status request");
                }
                request = null;
            } else {
                request = CopyRequest.decode(control());
            }
        } catch (ProtocolException e) {
            return fail("protocol error: " + e.getMessage() + "; nothing changed. Use the same hotswap version on both machines");
        }
        SocketChannel app;
        List<String> forward = status;
        try {
            if (request != null) {
                // A word with nothing at its path may name one of the app's databases: the app decides.
                String remotePath = inHome(relay.path());
                String name = LocalPaths.name(cwd, remotePath);
                String path = name != null ? cwd.toAbsolutePath().resolve(name).toString()
                        : relay.push() ? LocalPaths.destination(cwd, remotePath, CopyRequest.STDIO)
                        : LocalPaths.source(cwd, remotePath);
                // The client's side is always this connection's stdio: the app here cannot see the client's files.
                CopyRequest relayed = relay.push() ? request.relayed(CopyRequest.STDIO, path) : request.relayed(path, CopyRequest.STDIO);
                if (relay.sample() != null && name == null && relayed.deltaSource() != null) {
                    String note = ReuseSample.wholeInstead(Path.of(path), relayed.deltaSource(), relay.sample());
                    if (note != null) {
                        relayed = relayed.withoutDelta();
                        client.writeText(Channel.STDERR, note + "\n");
                    }
                }
                forward = (relay.push() ? relayed.withNames(null, name) : relayed.withNames(name, null)).encode();
            }
            app = connect(relay.socket());
        } catch (Failure e) {
            return fail(e.getMessage());
        } catch (IllegalArgumentException e) {
            return fail("protocol error: " + e.getMessage() + "; nothing changed. Use the same hotswap version on both machines");
        }
        try (app) {
            return relay(app, forward);
        }
    }

    /**
     * The app's socket; where nothing listens at one named relative, says where it was looked for:
     * the remote directory, which without --remote-dir is the login directory, not the app's.
     */
    private SocketChannel connect(String socket) throws Failure, IOException {
        Path named = socket != null ? Path.of(socket) : defaultSocket;
        try {
            return AppSocket.connect(cwd.resolve(named));
        } catch (AppSocket.NoServer e) {
            if (named.isAbsolute()) {
                throw e; // named outright, wherever it is: --remote-dir does not move it
            }
            throw new Failure(e.getMessage() + ". Here the socket is looked for from " + cwd.toAbsolutePath() + " (--remote-dir, "
                    + "by default the login directory): if the app runs in another directory, name that one with --remote-dir");
        }
    }

    /**
     * The remote PATH with a leading {@code ~}, {@code ~/} or {@code ~USER/} in a home, as scp and
     * a login shell read it ({@code HOST:~/app/db/x.sqlite3}); it travels in the protocol, past any
     * shell. Only this user's own home can hold an app the relay may reach: another's is refused.
     */
    private static String inHome(String path) throws Failure {
        if (!path.startsWith("~")) {
            return path;
        }
        int slash = path.indexOf('/');
        String user = path.substring(1, slash < 0 ? path.length() : slash);
        String me = System.getProperty("user.name");
        if (!user.isEmpty() && !user.equals(me)) {
            throw new Failure("~" + user + " names the home of user " + user + ", and hotswap reaches only an app of its own user ("
                    + me + "); nothing changed. Name the path from your own home (~/...) or from --remote-dir (for a file named ~"
                    + user + " there, write ./" + path + ")");
        }
        String home = System.getenv("HOME");
        if (home == null || home.isEmpty()) {
            home = System.getProperty("user.home");
        }
        return home + (slash < 0 ? "" : path.substring(slash));
    }

    private int relay(SocketChannel app, List<String> request) throws IOException {
        Frames frames = new Frames(app);
        String refused = null;
        try {
            Protocol.sayHello(frames);
            frames.writeStrings(Channel.CONTROL, request);
        } catch (IOException e) {
            // An app that turns us away has already replied and hung up: its reply is passed on below.
            refused = Failures.describe(e);
        }
        int version;
        try {
            version = Protocol.readHello(frames);
        } catch (IOException e) {
            return fail("the app closed the connection during the handshake ("
                    + (refused != null ? refused : Failures.describe(e)) + "); nothing changed. See the app's log");
        }
        if (version != Protocol.VERSION) {
            return fail("the app's hotswap speaks protocol version " + version + ", the hotswap here " + Protocol.VERSION
                    + "; nothing changed. Use the same hotswap jar for the command and the app");
        }
        Thread upstream = new Thread(() -> pass(in, app, true), "hotswap-relay-in");
        upstream.setDaemon(true);
        upstream.start();
        pass(app, out, false);
        return 0;
    }

    /**
     * Copies {@code from} to {@code to} until either ends. When the client's side ends, the app
     * sees end of input (a push cut short is abandoned there, the live database untouched); when
     * the app's or the client's output ends, the connection to the app closes.
     */
    private void pass(ReadableByteChannel from, WritableByteChannel to, boolean toApp) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER_BYTES);
        SocketChannel app = (SocketChannel) (toApp ? to : from);
        try {
            while (from.read(buffer) >= 0) {
                Writes.writeFully(to, buffer.flip());
                buffer.clear();
            }
            if (toApp) {
                app.shutdownOutput();
                return;
            }
        } catch (IOException e) {
            // One side is gone: closing the app's connection ends the other direction too.
        }
        AppSocket.closeQuietly(app);
    }

    private List<String> control() throws IOException {
        Frames.Frame frame = client.read();
        if (frame == null) {
            throw new java.io.EOFException("the client hung up before its request");
        }
        if (frame.channel() != Channel.CONTROL) {
            throw new ProtocolException("expected a control message, got a " + frame.channel() + " frame");
        }
        return Strings.decode(frame.payload());
    }

    private int fail(String message) {
        try {
            client.writeText(Channel.STDERR, "ERROR: " + message + "\n");
            client.writeExit(1);
        } catch (IOException ignored) {
            // The client is gone; there is no one left to tell.
        }
        return 1;
    }
}
