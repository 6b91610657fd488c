package hotswap;

import hotswap.wire.Channel;
import hotswap.wire.Failures;
import hotswap.wire.Frames;
import hotswap.wire.OpenHandles;
import hotswap.wire.OwnUser;
import hotswap.wire.Protocol;
import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Listens on the control socket: one thread accepts, a bounded pool runs one {@link Session} per
 * connection, and a watchdog closes connections whose client has sent no command (or answer) for
 * the idle timeout, or has read nothing of what the session writes for the write timeout.
 *
 * <p>The socket is bound, probed and removed by the path as configured, which may be relative:
 * its absolute form can be longer than the ~107 bytes a socket address holds.
 */
final class ControlServer {
    private static final Logger LOG = Logger.getLogger(ControlServer.class.getName());
    private static final Set<PosixFilePermission> OWNER_ONLY_DIR = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> OWNER_ONLY_FILE = PosixFilePermissions.fromString("rw-------");
    /**
     * Beyond the swap timeout, how long stopping waits for a swap in progress: the listeners, the
     * checkpoint's end and the reopen come after the wait for in-flight requests.
     */
    static final long STOP_MARGIN_MILLIS = 10_000;

    private final Hotswap hotswap;
    /** The socket's path for file operations (mode, owner, removal): any length works there. */
    private final Path socketPath;
    /** The socket's address as configured, for bind and probe alike. */
    private final UnixDomainSocketAddress address;
    private volatile boolean stopping;
    private final Set<Session> sessions = ConcurrentHashMap.newKeySet();
    private final AtomicInteger threadIds = new AtomicInteger();
    private ServerSocketChannel listener;
    private ThreadPoolExecutor pool;
    private ScheduledExecutorService watchdog;
    private Thread acceptor;
    private UserPrincipal owner;
    private final List<DatabaseClaim> claims = new ArrayList<>();
    /**
     * The socket file this server bound (its device and inode): once it stops listening, another
     * app may take the path for a stale socket and bind its own there, which stopping must not remove.
     */
    private Object boundFile;

    ControlServer(Hotswap hotswap) {
        this.hotswap = hotswap;
        this.socketPath = hotswap.socket().toAbsolutePath();
        this.address = UnixDomainSocketAddress.of(hotswap.socket());
    }

    void start() throws IOException {
        owner = processUser();
        prepareDirectory(socketPath.getParent(), owner);
        removeStaleSocket();
        ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.bind(address);
            Files.setPosixFilePermissions(socketPath, OWNER_ONLY_FILE);
            boundFile = fileKey(socketPath);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw new IOException("could not listen on " + socketPath + ": " + Failures.describe(e), e);
        }
        listener = ch;
        // Only now: while another server answered here, its commands' files were not leftovers. Nor are they
        // while another app that manages the same database runs: the claim removes them only where none does.
        for (ManagedDatabase db : hotswap.databases()) {
            claims.add(DatabaseClaim.take(db.path()));
        }
        pool = new ThreadPoolExecutor(hotswap.maxSessions(), hotswap.maxSessions(), 60, TimeUnit.SECONDS,
                new SynchronousQueue<>(), r -> daemon(r, "hotswap-session-" + threadIds.incrementAndGet()));
        pool.allowCoreThreadTimeOut(true);
        watchdog = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "hotswap-watchdog"));
        long shortest = Math.min(hotswap.idleTimeoutMillis(), hotswap.writeTimeoutMillis());
        long period = Math.max(50, Math.min(1000, shortest / 4));
        watchdog.scheduleWithFixedDelay(this::closeStalledSessions, period, period, TimeUnit.MILLISECONDS);
        acceptor = daemon(this::acceptLoop, "hotswap-accept");
        acceptor.start();
        LOG.info(() -> "hotswap " + Protocol.RELEASE + " listening on " + socketPath + " for "
                + hotswap.databases().size() + " database(s): " + hotswap.databases());
    }

    /**
     * Stops accepting, lets sessions that have begun swapping finish, aborts the others, waits for
     * them to clean up (their temp files), all for at most the swap timeout plus
     * {@link #STOP_MARGIN_MILLIS}, and removes the socket file.
     */
    void stop() {
        stopping = true;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(hotswap.swapTimeoutMillis() + STOP_MARGIN_MILLIS);
        try {
            if (listener != null) {
                listener.close();
            }
        } catch (IOException e) {
            LOG.warning(() -> "closing the control socket: " + e.getMessage());
        }
        if (acceptor != null) {
            try {
                acceptor.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        List<Session> swapping = new ArrayList<>();
        for (Session s : sessions) {
            if (!s.abortUnlessSwapping()) {
                swapping.add(s);
            }
        }
        awaitSwaps(swapping, deadline);
        sessions.forEach(Session::abort);
        if (pool != null) {
            pool.shutdown();
            awaitSessionsEnded(deadline);
        }
        if (watchdog != null) {
            watchdog.shutdownNow();
        }
        try {
            Object there = fileKey(socketPath);
            if (there != null && there.equals(boundFile)) {
                Files.deleteIfExists(socketPath);
            } else if (there != null) {
                LOG.info(() -> "left " + socketPath + " in place: another server has bound it since this one stopped listening");
            }
        } catch (IOException e) {
            LOG.warning(() -> "could not remove " + socketPath + ": " + e.getMessage());
        }
        claims.forEach(DatabaseClaim::close);
        claims.clear();
        LOG.info(() -> "hotswap stopped listening on " + socketPath);
    }

    /** The device and inode of the file at {@code path}, not following a link; null when there is none. */
    private static Object fileKey(Path path) throws IOException {
        try {
            return OpenHandles.inodeOf(path);
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        }
    }

    /** Sessions running now. */
    int sessionsInUse() {
        return sessions.size();
    }

    /**
     * Waits for the aborted sessions to end: a push's check cancelled, or a pull's snapshot that
     * SQLite finishes, removes its temp file as it ends, and close() returns with none left.
     */
    private void awaitSessionsEnded(long deadline) {
        try {
            // Cancelled again and again: SQLite forgets a cancel that came just before its statement started.
            while (!pool.awaitTermination(Math.min(10_000_000, Math.max(0, deadline - System.nanoTime())), TimeUnit.NANOSECONDS)) {
                if (deadline - System.nanoTime() <= 0) {
                    LOG.warning(() -> "stopping: " + sessions.size() + " command(s) did not end in time; each removes its temp "
                            + "files when it ends, or the next start does");
                    return;
                }
                sessions.forEach(Session::cancelRunning);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits for swapping sessions to end, so that their clients learn the true outcome. */
    private void awaitSwaps(List<Session> swapping, long deadline) {
        if (swapping.isEmpty()) {
            return;
        }
        LOG.info(() -> "stopping: waiting for " + swapping.size() + " swap(s) in progress to finish");
        try {
            while (swapping.stream().anyMatch(sessions::contains)) {
                if (System.nanoTime() > deadline) {
                    LOG.warning(() -> "stopping: a swap in progress did not finish within "
                            + (hotswap.swapTimeoutMillis() + STOP_MARGIN_MILLIS) + " ms; its client is cut off");
                    return;
                }
                Thread.sleep(10);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The user this process runs as: the only one its sessions serve. Taken from the process, not
     * from the socket file, which another user could replace between the bind and a look at it.
     */
    private static UserPrincipal processUser() throws IOException {
        try {
            return OwnUser.principal();
        } catch (IOException e) { // no /proc: the name the JVM was started under
            return FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByName(System.getProperty("user.name"));
        }
    }

    /**
     * Creates the socket's directory owner-only; refuses one that other users could write into:
     * writable by group or others, or owned by another user (its owner can write it whatever its mode).
     */
    private static void prepareDirectory(Path dir, UserPrincipal me) throws IOException {
        if (!Files.exists(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR));
            return;
        }
        UserPrincipal dirOwner = Files.getOwner(dir);
        if (!dirOwner.equals(me)) {
            throw new IOException("socket directory " + dir + " belongs to user " + dirOwner.getName() + ", not to "
                    + me.getName() + " who runs the app; use a directory of the app's user, e.g. chown "
                    + me.getName() + " " + dir);
        }
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dir);
        if (mode.contains(PosixFilePermission.OTHERS_WRITE) || mode.contains(PosixFilePermission.GROUP_WRITE)) {
            throw new IOException("socket directory " + dir + " is writable by other users (mode "
                    + PosixFilePermissions.toString(mode) + "); use a directory only the app's user can write, "
                    + "e.g. chmod 700 " + dir);
        }
    }

    /**
     * A socket file from a crashed run would make bind fail; a live server's must not be taken
     * over. Only a socket that refuses connections is stale: one that cannot be probed at all is
     * left alone.
     */
    private void removeStaleSocket() throws IOException {
        if (!Files.exists(socketPath, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Object type = Files.getAttribute(socketPath, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        boolean isSocket = (((Integer) type) & 0170000) == 0140000;
        if (!isSocket) {
            throw new IOException(socketPath + " exists and is not a socket; remove it or configure another socket path");
        }
        if (answers()) {
            throw new IOException("another hotswap server is already listening on " + socketPath
                    + "; stop it first or configure another socket path");
        }
        Files.delete(socketPath);
        LOG.info(() -> "removed stale socket " + socketPath);
    }

    /** Whether a server accepts connections at the socket's address; false only when the connection is refused. */
    private boolean answers() throws IOException {
        try (SocketChannel probe = SocketChannel.open(address)) {
            return true;
        } catch (ConnectException e) {
            return false;
        } catch (IOException | RuntimeException e) {
            throw new IOException("could not tell whether a server still listens on " + socketPath + " ("
                    + Failures.describe(e) + "); the socket was left in place and this server did not start. "
                    + "Stop the other server or remove the socket, or configure another socket path", e);
        }
    }

    private void acceptLoop() {
        while (true) {
            SocketChannel client;
            try {
                client = listener.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!listener.isOpen()) {
                    return;
                }
                LOG.log(Level.WARNING, "accepting a control connection failed", e);
                continue;
            }
            Session session = new Session(hotswap, client, owner, sessions, () -> stopping);
            try {
                pool.execute(session);
            } catch (RejectedExecutionException e) {
                refuseBusy(client);
            }
        }
    }

    private void refuseBusy(SocketChannel client) {
        LOG.warning(() -> "refused a control connection: " + hotswap.maxSessions() + " commands already running");
        try (client) {
            Frames frames = new Frames(client);
            Protocol.sayHello(frames);
            frames.writeText(Channel.STDERR, "ERROR: server busy: " + hotswap.maxSessions()
                    + " hotswap commands are already running (the app's maxSessions); nothing changed. Try again when they finish\n");
            frames.writeExit(1);
        } catch (IOException ignored) {
            // The client went away; nothing to tell it.
        }
    }

    private void closeStalledSessions() {
        long now = System.nanoTime();
        long idleLimit = TimeUnit.MILLISECONDS.toNanos(hotswap.idleTimeoutMillis());
        long writeLimit = TimeUnit.MILLISECONDS.toNanos(hotswap.writeTimeoutMillis());
        for (Session s : sessions) {
            long waiting = s.waitingForClientSinceNanos();
            long stalled = s.writeStalledSinceNanos();
            if (waiting != 0 && now - waiting > idleLimit) {
                LOG.warning(() -> "closing a control connection: the client sent nothing for "
                        + hotswap.idleTimeoutMillis() + " ms");
                s.abort();
            } else if (stalled != 0 && now - stalled > writeLimit) {
                LOG.warning(() -> "closing a control connection: the client read nothing for "
                        + hotswap.writeTimeoutMillis() + " ms");
                s.abort();
            }
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }
}
