package hotswap;

import hotswap.wire.Channel;
import hotswap.wire.Frames;
import hotswap.wire.Protocol;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
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
 * connection, and a watchdog closes connections whose client has been silent too long.
 */
final class ControlServer {
    private static final Logger LOG = Logger.getLogger(ControlServer.class.getName());
    private static final Set<PosixFilePermission> OWNER_ONLY_DIR = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> OWNER_ONLY_FILE = PosixFilePermissions.fromString("rw-------");

    private final Hotswap hotswap;
    private final Path socketPath;
    private final Set<Session> sessions = ConcurrentHashMap.newKeySet();
    private final AtomicInteger threadIds = new AtomicInteger();
    private ServerSocketChannel listener;
    private ThreadPoolExecutor pool;
    private ScheduledExecutorService watchdog;
    private Thread acceptor;
    private UserPrincipal owner;

    ControlServer(Hotswap hotswap) {
        this.hotswap = hotswap;
        this.socketPath = hotswap.socket().toAbsolutePath().normalize();
    }

    void start() throws IOException {
        prepareDirectory(socketPath.getParent());
        removeStaleSocket();
        ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.bind(UnixDomainSocketAddress.of(hotswap.socket()));
            Files.setPosixFilePermissions(socketPath, OWNER_ONLY_FILE);
            owner = Files.getOwner(socketPath, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw new IOException("could not listen on " + socketPath + ": " + e.getMessage(), e);
        }
        listener = ch;
        pool = new ThreadPoolExecutor(hotswap.maxSessions(), hotswap.maxSessions(), 60, TimeUnit.SECONDS,
                new SynchronousQueue<>(), r -> daemon(r, "hotswap-session-" + threadIds.incrementAndGet()));
        pool.allowCoreThreadTimeOut(true);
        watchdog = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "hotswap-watchdog"));
        long period = Math.max(50, Math.min(1000, hotswap.idleTimeoutMillis() / 4));
        watchdog.scheduleWithFixedDelay(this::closeIdleSessions, period, period, TimeUnit.MILLISECONDS);
        acceptor = daemon(this::acceptLoop, "hotswap-accept");
        acceptor.start();
        LOG.info(() -> "hotswap " + Protocol.RELEASE + " listening on " + socketPath + " for "
                + hotswap.databases().size() + " database(s): " + hotswap.databases());
    }

    void stop() {
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
        sessions.forEach(Session::abort);
        if (pool != null) {
            pool.shutdown();
        }
        if (watchdog != null) {
            watchdog.shutdownNow();
        }
        try {
            Files.deleteIfExists(socketPath);
        } catch (IOException e) {
            LOG.warning(() -> "could not remove " + socketPath + ": " + e.getMessage());
        }
        LOG.info(() -> "hotswap stopped listening on " + socketPath);
    }

    /** Creates the socket's directory owner-only; refuses one that other users could write into. */
    private static void prepareDirectory(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR));
            return;
        }
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dir);
        if (mode.contains(PosixFilePermission.OTHERS_WRITE) || mode.contains(PosixFilePermission.GROUP_WRITE)) {
            throw new IOException("socket directory " + dir + " is writable by other users (mode "
                    + PosixFilePermissions.toString(mode) + "); use a directory only the app's user can write, "
                    + "e.g. chmod 700 " + dir);
        }
    }

    /** A socket file from a crashed run would make bind fail; a live server's must not be taken over. */
    private void removeStaleSocket() throws IOException {
        if (!Files.exists(socketPath, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Object type = Files.getAttribute(socketPath, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        boolean isSocket = (((Integer) type) & 0170000) == 0140000;
        if (!isSocket) {
            throw new IOException(socketPath + " exists and is not a socket; remove it or configure another socket path");
        }
        if (answers(socketPath)) {
            throw new IOException("another hotswap server is already listening on " + socketPath
                    + "; stop it first or configure another socket path");
        }
        Files.delete(socketPath);
        LOG.info(() -> "removed stale socket " + socketPath);
    }

    private static boolean answers(Path socket) {
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            return true;
        } catch (IOException e) {
            return false;
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
            Session session = new Session(hotswap, client, owner, sessions);
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
                    + " hotswap commands are already running; try again when they finish\n");
            frames.writeExit(1);
        } catch (IOException ignored) {
            // The client went away; nothing to tell it.
        }
    }

    private void closeIdleSessions() {
        long now = System.nanoTime();
        long limit = TimeUnit.MILLISECONDS.toNanos(hotswap.idleTimeoutMillis());
        for (Session s : sessions) {
            long since = s.waitingForClientSinceNanos();
            if (since != 0 && now - since > limit) {
                LOG.warning(() -> "closing a control connection: the client sent nothing for "
                        + hotswap.idleTimeoutMillis() + " ms");
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
