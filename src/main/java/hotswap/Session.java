package hotswap;

import hotswap.wire.Channel;
import hotswap.wire.CopyRequest;
import hotswap.wire.Failures;
import hotswap.wire.Frames;
import hotswap.wire.Protocol;
import hotswap.wire.ProtocolException;
import hotswap.wire.StatusReport;
import hotswap.wire.Strings;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.attribute.UserPrincipal;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * One client connection: checks who is calling, exchanges protocol versions, reads one command,
 * runs it and sends its exit status.
 *
 * <p>When the server stops, a session that has begun swapping finishes and tells its client the
 * outcome; any other is aborted. {@link #beginSwap()} and {@link #abortUnlessSwapping()} decide
 * that race atomically, so no swap begins once stopping has started.
 */
final class Session implements Runnable {
    private static final Logger LOG = Logger.getLogger(Session.class.getName());

    private static final int RUNNING = 0;
    private static final int SWAPPING = 1;
    private static final int ABORTED = 2;

    private final Hotswap hotswap;
    private final SocketChannel client;
    private final UserPrincipal owner;
    private final Set<Session> sessions;
    private final BooleanSupplier stopping;
    private final Frames frames;
    private final AtomicInteger state = new AtomicInteger(RUNNING);
    /** Whether {@link #beginSwap()} moved the session to swapping, whatever happened after. */
    private volatile boolean swapBegan;
    /** The thread serving this session, once it runs. */
    private volatile Thread thread;
    /** A statement the command runs now that a stopping server cancels (a push's integrity check), or null; guarded by cancellableLock. */
    private java.sql.Statement cancellable;
    private final Object cancellableLock = new Object();

    /**
     * @param sessions the server's running sessions, which this one joins while it runs
     * @param stopping true once the server has begun to stop: no swap may begin after that
     */
    Session(Hotswap hotswap, SocketChannel client, UserPrincipal owner, Set<Session> sessions, BooleanSupplier stopping) {
        this.hotswap = hotswap;
        this.client = client;
        this.owner = owner;
        this.sessions = sessions;
        this.stopping = stopping;
        this.frames = new Frames(client);
    }

    /**
     * When the session is blocked waiting for a message from its client (its command, its answer
     * to an offer): since then, in nanoTime; else 0. Waiting for the bytes of a push does not
     * count: a slow producer is not an idle client.
     */
    long waitingForClientSinceNanos() {
        return frames.readingSinceNanos();
    }

    /** When a write to the client stopped making progress, in nanoTime; 0 when no write is under way. */
    long writeStalledSinceNanos() {
        return frames.writeStalledSinceNanos();
    }

    /**
     * Marks the session as swapping, so that a stopping server lets it finish.
     *
     * @return false when the server is stopping (or stopped this session): do not swap
     */
    boolean beginSwap() {
        if (!state.compareAndSet(RUNNING, SWAPPING)) {
            return false;
        }
        swapBegan = true;
        return !stopping.getAsBoolean();
    }

    /**
     * Aborts the session unless it has begun swapping.
     *
     * @return false when it is swapping and was left to finish
     */
    boolean abortUnlessSwapping() {
        if (state.compareAndSet(RUNNING, ABORTED) || state.get() == ABORTED) {
            closeConnection();
            // Closing the socket ends a wait for the client, not a check of a large file nor a wait for another
            // command's lock: the server waits for this session to end, so end those too. No swap follows.
            cancelRunning();
            Thread t = thread;
            if (t != null) {
                t.interrupt();
            }
            return true;
        }
        return false;
    }

    /**
     * Whether the server stopped this session as it stopped, before it began swapping: the command
     * failed for that, and nothing else. A swap the server gave up waiting for failed for its own
     * reason, which its message keeps.
     */
    boolean stoppedByServer() {
        return aborted() && stopping.getAsBoolean() && !swapBegan;
    }

    /**
     * The statement the command is about to run, or null once it has ended, before its connection
     * closes. SQLite forgets a cancel that comes before a statement starts, so one given after the
     * abort has its connection closed here instead, and fails as it runs; and the stopping server cancels again
     * while it waits ({@link #cancelRunning}), for a cancel that came just before the start.
     */
    void running(java.sql.Statement statement) {
        synchronized (cancellableLock) { // a cancel never runs on a connection being closed: SQLite would use freed memory
            cancellable = statement;
            if (statement != null && aborted() && stopping.getAsBoolean()) {
                cancellable = null;
                try {
                    statement.getConnection().close(); // on this thread, before it runs: the statement then fails (a closed one alone runs)
                } catch (java.sql.SQLException e) {
                    LOG.fine(() -> "closing the connection of a stopped session's statement: " + e);
                }
            }
        }
    }

    /** Cancels the statement the session runs now, if it was stopped and runs one. */
    void cancelRunning() {
        synchronized (cancellableLock) {
            if (cancellable == null || !aborted()) {
                return;
            }
            try {
                cancellable.cancel();
            } catch (java.sql.SQLException | RuntimeException e) {
                LOG.fine(() -> "cancelling a statement of a stopped session: " + e);
            }
        }
    }

    /** Whether the session was stopped: a swap that has not begun must not begin. */
    boolean aborted() {
        return state.get() == ABORTED;
    }

    /**
     * Whether the client has gone (stopped with Ctrl-C, killed, its transport cut) while it waits
     * for the outcome of its command, when it sends nothing more: a push whose client is gone
     * before the rename is abandoned. Something it sends at that point breaks the protocol, and
     * counts as gone too.
     */
    boolean clientHungUp() {
        try {
            client.configureBlocking(false);
            try {
                return client.read(ByteBuffer.allocate(1)) != 0;
            } finally {
                client.configureBlocking(true);
            }
        } catch (IOException | RuntimeException e) { // closed by abort(), or reset
            return true;
        }
    }

    /** Closes the connection, which ends whatever the session was waiting for, swap or not. */
    void abort() {
        state.set(ABORTED);
        closeConnection();
    }

    private void closeConnection() {
        try {
            // Closing alone does not wake a thread blocked in transferTo (sendfile) to this socket; a shutdown does.
            client.shutdownInput();
            client.shutdownOutput();
        } catch (IOException ignored) {
            // Already closed, or never connected: the close below is what counts.
        }
        try {
            client.close();
        } catch (IOException ignored) {
            // Closing is all we wanted.
        }
    }

    @Override
    public void run() {
        thread = Thread.currentThread();
        sessions.add(this);
        if (stopping.getAsBoolean()) {
            abortUnlessSwapping(); // accepted as the server began to stop, after it aborted the others
        }
        try (client) {
            serve();
        } catch (java.io.EOFException e) {
            // A client that hangs up before saying anything (a liveness probe) is no cause for alarm.
            LOG.fine(() -> "control connection closed before the handshake");
        } catch (IOException e) {
            LOG.warning(() -> "control connection ended: " + describe(e));
        } catch (RuntimeException | Error e) {
            LOG.log(Level.SEVERE, "unexpected internal error in a control session", e);
            fail("unexpected internal error: " + e + "; see the app's log");
        } finally {
            thread = null; // the pool's thread goes on to other work: no abort may interrupt that
            sessions.remove(this);
        }
    }

    private void serve() throws IOException {
        UnixDomainPrincipal peer = client.getOption(ExtendedSocketOptions.SO_PEERCRED);
        try {
            Protocol.sayHello(frames);
        } catch (IOException e) {
            LOG.fine(() -> "control connection closed before the handshake: " + describe(e));
            return;
        }
        if (!owner.equals(peer.user())) {
            LOG.warning(() -> "refused a control connection from user " + peer.user().getName()
                    + ": only " + owner.getName() + " may use this socket");
            fail("permission denied: user " + peer.user().getName() + " may not use this hotswap server; "
                    + "run the command as " + owner.getName());
            return;
        }
        List<String> command;
        try {
            int version = Protocol.readHello(frames);
            if (version != Protocol.VERSION) {
                fail("client speaks protocol version " + version + ", this server speaks " + Protocol.VERSION
                        + "; use the same hotswap jar for the command and the app");
                return;
            }
            Frames.Frame frame = frames.read();
            if (frame == null) {
                return;
            }
            if (frame.channel() != Channel.CONTROL) {
                throw new ProtocolException("expected a command, got a " + frame.channel() + " frame");
            }
            command = Strings.decode(frame.payload());
        } catch (ProtocolException e) {
            LOG.warning(() -> "refused a control connection: " + e.getMessage());
            fail("protocol error: " + e.getMessage());
            return;
        }
        boolean status = command.equals(List.of(StatusReport.REQUEST));
        // A monitor may ask for the status every few seconds: that is no news for the log.
        LOG.log(status ? Level.FINE : Level.INFO, () -> "command: " + String.join(" ", command));
        try {
            if (status) {
                new Status(hotswap).send(frames);
                frames.writeExit(0);
                return;
            }
            if (command.isEmpty() || !CopyRequest.COMMAND.equals(command.get(0))) {
                throw new CommandFailure(command.isEmpty() || !StatusReport.REQUEST.equals(command.get(0))
                        ? "unknown command " + (command.isEmpty() ? "(none)" : command.get(0)) + "; this server knows: cp, status"
                        : "malformed status request: it takes no arguments");
            }
            CopyRequest request;
            try {
                request = CopyRequest.decode(command);
            } catch (ProtocolException e) {
                throw new CommandFailure("malformed cp request: " + e.getMessage());
            }
            AutoCloseable afterExit = new CopyCommand(hotswap, request, frames, this).run();
            try {
                frames.writeExit(0);
            } finally {
                closeQuietly(afterExit);
            }
        } catch (CommandFailure e) {
            LOG.warning(() -> "command failed: " + e.getMessage().lines().findFirst().orElse(""));
            fail(e.getMessage());
        } catch (RuntimeException | Error e) { // the client hears of it rather than of a dropped connection
            LOG.log(Level.SEVERE, "unexpected internal error running " + String.join(" ", command), e);
            fail(String.join(" ", command.subList(0, Math.min(3, command.size()))) + " failed: unexpected internal error: "
                    + e.getClass().getSimpleName() + ": " + Failures.describe(e) + "; see the app's log");
        }
    }

    /** Tells the client what went wrong and exits 1; a client that is gone is not an error. */
    private void fail(String message) {
        try {
            frames.writeText(Channel.STDERR, "ERROR: " + message + "\n");
            frames.writeExit(1);
        } catch (IOException ignored) {
            // The client went away; the log has the story.
        }
    }

    private static void closeQuietly(AutoCloseable resource) {
        try {
            resource.close();
        } catch (Exception e) {
            LOG.warning(() -> "cleaning up after a command: " + e);
        }
    }

    private static String describe(IOException e) {
        return Failures.describe(e);
    }
}
