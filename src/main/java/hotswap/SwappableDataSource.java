package hotswap;

import java.io.PrintWriter;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A {@link DataSource} for one managed database that follows swaps: every connection it hands out
 * is tracked, all of them are closed before the file is replaced, and connections asked for after
 * the swap open the new file. While a swap runs, {@link #getConnection()} waits for it to end.
 *
 * <p>Connections are not pooled: opening a SQLite connection is a local file open. One more
 * connection, never handed out, stays open while the database is in service: without it, every
 * time the last connection closes SQLite checkpoints the WAL and deletes it, so that each request
 * would pay for a checkpoint and an fsync.
 */
final class SwappableDataSource implements DataSource {
    private static final Logger LOG = Logger.getLogger(SwappableDataSource.class.getName());

    private final String url;
    /** The database's path, for messages. */
    private final String path;
    private final Properties properties;
    /** Connections handed out and not yet closed: each handle, with what it stands for. */
    private final Map<Connection, Tracker> open = new ConcurrentHashMap<>();
    private final Object suspendLock = new Object();
    private boolean suspended;
    /** The swap's thread while suspended: it must not wait for itself. */
    private Thread suspendedBy;
    /** Connections being opened now, and on which threads (for a message); guarded by suspendLock. */
    private int opening;
    private final Map<String, Integer> openingOn = new TreeMap<>();
    /** Keeps the database's WAL and shared memory open between requests; guarded by suspendLock. */
    private Connection anchor;
    /** Whether a thread is opening the anchor now; guarded by suspendLock. */
    private boolean anchorOpening;
    /** Set once its Hotswap is closed: no anchor is opened again, so nothing of ours keeps the file open. */
    private boolean retired;
    private volatile int loginTimeout;

    SwappableDataSource(String url, Properties properties) {
        this.url = url;
        this.path = url.startsWith("jdbc:sqlite:") ? url.substring("jdbc:sqlite:".length()) : url;
        this.properties = properties;
    }

    @Override
    public Connection getConnection() throws SQLException {
        boolean opensAnchor;
        String thread = Thread.currentThread().getName();
        synchronized (suspendLock) {
            while (suspended) {
                if (suspendedBy == Thread.currentThread()) {
                    throw new SQLException("a connection was asked for on the swap's own thread while the swap holds "
                            + "connections back (a SwapListener's beforeSwap); it would wait for itself. Use the database "
                            + "in afterSwap instead");
                }
                try {
                    suspendLock.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SQLException("interrupted while waiting for a database swap to finish", e);
                }
            }
            opensAnchor = anchor == null && !retired && !anchorOpening; // once per swap: later requests find it open
            anchorOpening |= opensAnchor;
            opening++;
            openingOn.merge(thread, 1, Integer::sum);
        }
        // Opened without the lock: an open may wait for another process's lock on the file (the busy
        // timeout), and suspend() must still be able to give up on it at the swap's deadline.
        try {
            if (opensAnchor) {
                keepAnchor();
            }
            Connection physical = DriverManager.getConnection(url, properties);
            Tracker tracker = new Tracker(physical, thread);
            Connection tracked = (Connection) Proxy.newProxyInstance(
                    Connection.class.getClassLoader(), new Class<?>[] {Connection.class}, tracker);
            open.put(tracked, tracker);
            return tracked;
        } finally {
            synchronized (suspendLock) {
                opening--;
                openingOn.computeIfPresent(thread, (t, n) -> n == 1 ? null : n - 1);
                suspendLock.notifyAll();
            }
        }
    }

    /** Opens the anchor and keeps it, unless another took its place or its Hotswap was closed meanwhile. */
    private void keepAnchor() throws SQLException {
        Connection c = null;
        try {
            c = openAnchor();
        } finally {
            synchronized (suspendLock) {
                anchorOpening = false;
                if (c != null && anchor == null && !retired) {
                    anchor = c;
                    c = null;
                }
            }
            if (c != null) {
                c.close();
            }
        }
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        return getConnection();
    }

    /**
     * Opens the database again after {@link #resume()}, before any request asks: the anchor
     * connection reads the schema, which proves the file at the path is a database SQLite can open.
     */
    void reopen() throws SQLException {
        synchronized (suspendLock) {
            if (anchor == null && !retired) {
                anchor = openAnchor();
            }
        }
    }

    private Connection openAnchor() throws SQLException {
        Connection c = DriverManager.getConnection(url, properties);
        try (java.sql.Statement s = c.createStatement()) {
            // A read opens the WAL, which the anchor then holds; reading the schema proves the file is sound.
            s.executeQuery("SELECT count(*) FROM sqlite_master").close();
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /**
     * Forgets connections closed without their handle: through {@code Statement.getConnection()},
     * {@code DatabaseMetaData.getConnection()} or {@code unwrap()}, which give the driver's
     * connection, so the handle's close() never runs. Such a connection holds nothing open.
     */
    private void forgetClosed() {
        open.values().removeIf(Tracker::physicalClosed);
    }

    /** Connections handed out and not yet closed. */
    int openConnections() {
        forgetClosed();
        return open.size();
    }

    /**
     * Waits until every connection handed out is closed, polling, for at most until
     * {@code deadlineNanos} ({@link System#nanoTime()}): a pool evicts on a thread of its own.
     *
     * @return true when none is open
     */
    boolean awaitAllClosed(long deadlineNanos) throws InterruptedException {
        while (openConnections() > 0) {
            if (System.nanoTime() - deadlineNanos >= 0) {
                return false;
            }
            Thread.sleep(1);
        }
        return true;
    }

    /** The connections still open, for a message: how many, and the threads that opened them. */
    String describeOpen() {
        forgetClosed();
        StringBuilder b = new StringBuilder();
        countByThread(open.values()).forEach((thread, n) -> b.append(b.length() == 0 ? "" : ", ").append(n).append(" opened on thread ").append(thread));
        return b.toString();
    }

    /**
     * Stops handing out connections: {@link #getConnection()} on other threads waits until
     * {@link #resume()}, so a pool refilling meanwhile opens whatever file is there then. Returns
     * once connections being opened now are registered, so that {@link #closeAll(long)} sees them;
     * call {@link #resume()} whatever it throws.
     *
     * @throws StillOpening when some are still being opened at {@code deadlineNanos} ({@link System#nanoTime()}):
     *                      an open waits while another process holds a lock on the file
     */
    void suspend(long deadlineNanos) throws SQLException, StillOpening {
        synchronized (suspendLock) {
            suspended = true;
            suspendedBy = Thread.currentThread();
            while (opening > 0) {
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    throw new StillOpening(opening, byThread("", openingOn));
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(suspendLock, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SQLException("interrupted while holding connections back for a swap", e);
                }
            }
        }
    }

    /** Connections still being opened when a swap's wait for them ran out. */
    static final class StillOpening extends Exception {
        final int connections;

        StillOpening(int connections, String threads) {
            super(threads);
            this.connections = connections;
        }
    }

    /**
     * A connection that is neither tracked nor held back, for the swap's own checkpoint while
     * {@link #suspend(long)}ed, waiting for another process's lock at most {@code busyMillis}: the
     * app's properties may set pragmas (journal_mode) that read the file as it opens, under the app's
     * own busy timeout, which could hold the gate closed past the swap's timeout.
     */
    Connection openBounded(long busyMillis) throws SQLException {
        Properties bounded = new Properties();
        bounded.putAll(properties);
        // SQLite holds a busy timeout in an int: a longer swap timeout (days) waits as long as it can.
        bounded.setProperty("busy_timeout", Long.toString(Math.min(busyMillis, Integer.MAX_VALUE)));
        return DriverManager.getConnection(url, bounded);
    }

    /**
     * Closes every open connection, then the one kept between requests. Call it {@link #suspend(long)}ed.
     * A statement running on a connection is interrupted first. An interrupt does not end a statement
     * that waits in SQLite's busy handler for a lock another connection holds, and closing its
     * connection waits for it: so each connection closes on a thread of its own, and one that waits
     * for another's lock ends once that one is closed, in whatever order; this waits for them until
     * {@code deadlineNanos} ({@link System#nanoTime()}). Should some still be open then, the one kept
     * between requests stays open.
     *
     * @return the connections handed out that were closed
     * @throws StillRunning when some are not closed by the deadline; each closes once its statement ends
     * @throws CloseFailed  when closing one failed
     */
    Closed closeAll(long deadlineNanos) throws CloseFailed, StillRunning, InterruptedException {
        forgetClosed();
        Map<Connection, Tracker> toClose = new LinkedHashMap<>(open);
        for (Tracker tracker : toClose.values()) {
            tracker.closedBySwap = true;
            tracker.inTransaction = tracker.inTransaction();
            tracker.interruptRunning();
        }
        List<SQLException> failures = Collections.synchronizedList(new ArrayList<>());
        Map<Thread, Tracker> closers = new LinkedHashMap<>();
        toClose.forEach((c, tracker) -> {
            Thread closer = new Thread(() -> {
                try {
                    c.close();
                } catch (SQLException e) {
                    failures.add(e);
                }
            }, "hotswap-close (a connection opened on " + tracker.thread + ")");
            closer.setDaemon(true);
            closer.start();
            closers.put(closer, tracker);
        });
        Map<String, Integer> running = new TreeMap<>();
        for (Map.Entry<Thread, Tracker> e : closers.entrySet()) {
            TimeUnit.NANOSECONDS.timedJoin(e.getKey(), deadlineNanos - System.nanoTime());
            if (e.getKey().isAlive()) {
                running.merge(e.getValue().thread, 1, Integer::sum);
            }
        }
        Closed closed = Closed.of(toClose.values().stream().filter(Tracker::physicalClosed).toList());
        if (!running.isEmpty()) {
            throw new StillRunning(running, closed);
        }
        // Last, on this thread: the last connection to close checkpoints the WAL into the file and removes it,
        // which takes as long as the WAL is long, not as long as some statement runs.
        SQLException failure = null;
        try {
            closeAnchor();
        } catch (SQLException e) {
            failure = e;
        }
        for (SQLException e : failures) {
            if (failure == null) {
                failure = e;
            } else {
                failure.addSuppressed(e);
            }
        }
        if (failure != null) {
            throw new CloseFailed(failure, closed);
        }
        return closed;
    }

    /**
     * Connections handed out that a swap closed: how many, how many of them were in a transaction
     * (which closing rolled back), and the threads that opened them.
     */
    record Closed(int connections, int inTransaction, String threads) {
        static final Closed NONE = new Closed(0, 0, "");

        static Closed of(List<Tracker> trackers) {
            return new Closed(trackers.size(), (int) trackers.stream().filter(t -> t.inTransaction).count(),
                    byThread("opened ", countByThread(trackers)));
        }

        /** What happened to them, for a swap that is refused after closing them. */
        String describe() {
            boolean one = connections == 1;
            String rolledBack = inTransaction == 0 ? ""
                    : one ? ", and its open transaction rolled back"
                    : ", and the transactions open on " + (inTransaction == connections ? "them" : inTransaction + " of them") + " rolled back";
            return connections + (one ? " connection" : " connections") + " from dataSource() held outside the gate (" + threads + ") "
                    + (one ? "was" : "were") + " closed" + rolledBack + ": " + (one ? "its" : "their") + " next use fails with SQLState 08003";
        }
    }

    /** Connections a swap could not close in time, as their statements had not ended; and those it did close. */
    static final class StillRunning extends Exception {
        final int connections;
        final Closed closed;

        StillRunning(Map<String, Integer> byThread, Closed closed) {
            super(byThread("opened ", byThread));
            this.connections = byThread.values().stream().mapToInt(Integer::intValue).sum();
            this.closed = closed;
        }
    }

    /** Closing a connection failed; those that did close are closed. */
    static final class CloseFailed extends Exception {
        final Closed closed;

        CloseFailed(SQLException cause, Closed closed) {
            super(cause);
            this.closed = closed;
        }
    }

    /** How many of {@code trackers} each thread opened, by the thread's name. */
    private static Map<String, Integer> countByThread(java.util.Collection<Tracker> trackers) {
        Map<String, Integer> counts = new TreeMap<>();
        trackers.forEach(t -> counts.merge(t.thread, 1, Integer::sum));
        return counts;
    }

    /** Threads and how many connections each, for a message: {@code opened on thread a, 2 opened on thread b}. */
    private static String byThread(String verb, Map<String, Integer> counts) {
        StringBuilder b = new StringBuilder();
        counts.forEach((thread, n) -> b.append(b.length() == 0 ? "" : ", ").append(n > 1 ? n + " " : "")
                .append(verb).append("on thread ").append(thread));
        return b.toString();
    }

    /**
     * Closes the connection kept open between requests, if there is one; the next
     * {@link #getConnection()} opens it again.
     */
    void closeAnchor() throws SQLException {
        synchronized (suspendLock) {
            if (anchor != null) {
                try {
                    anchor.close();
                } finally {
                    anchor = null;
                }
            }
        }
    }

    /**
     * Closes the connection kept open between requests for good: after its Hotswap is closed,
     * connections still work, but none is kept open once the app's own are closed.
     */
    void retire() throws SQLException {
        synchronized (suspendLock) {
            retired = true;
        }
        closeAnchor();
    }

    /** Lets {@link #getConnection()} open connections again, now on whatever file is at the path. */
    void resume() {
        synchronized (suspendLock) {
            suspended = false;
            suspendedBy = null;
            suspendLock.notifyAll();
        }
    }

    /** A connection handed out: the driver's own, the thread that asked for it, and whether a swap closed it. */
    private final class Tracker implements InvocationHandler {
        private final Connection physical;
        final String thread;
        /** Set before a swap closes the connection, so that using it afterwards says why it is closed. */
        volatile boolean closedBySwap;
        /** Whether it was in a transaction when a swap began to close it, which closing rolls back. */
        volatile boolean inTransaction;
        /** Set, under this tracker's lock, before the connection is closed through its handle. */
        private boolean closing;

        Tracker(Connection physical, String thread) {
            this.physical = physical;
            this.thread = thread;
        }

        /**
         * Stops the statement running on the connection now, if any (a background job's, outside the
         * gate): the driver runs one call at a time on a connection, so closing it would wait until that
         * statement ends, however long, while requests wait at the gate. The statement fails with
         * SQLITE_INTERRUPT; on an idle connection this does nothing. Under the tracker's lock, so
         * that a close through the handle never frees the connection while this runs.
         */
        synchronized void interruptRunning() {
            if (closing || physicalClosed()) {
                return;
            }
            // sqlite-jdbc's cancel() is sqlite3_interrupt() on the statement's connection, whatever runs on it; a
            // statement never executed needs none of the locks the running one holds, to be made or closed.
            try (Statement any = physical.createStatement()) {
                any.cancel();
            } catch (SQLException | RuntimeException e) {
                LOG.fine(() -> "cannot interrupt a statement running on " + path + " (" + e + "); closing waits for it");
            }
        }

        /** A JDBC transaction is open: auto-commit is off (sqlite-jdbc then has begun one). */
        boolean inTransaction() {
            try {
                return !physical.isClosed() && !physical.getAutoCommit();
            } catch (SQLException e) {
                return false;
            }
        }

        boolean physicalClosed() {
            try {
                return physical.isClosed();
            } catch (SQLException e) {
                return false;
            }
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            switch (method.getName()) {
                case "close":
                    synchronized (this) {
                        closing = true;
                    }
                    open.remove(proxy);
                    physical.close();
                    return null;
                case "isClosed":
                case "isValid":
                case "abort":
                    break;
                case "equals":
                    return proxy == args[0];
                case "hashCode":
                    return System.identityHashCode(proxy);
                case "toString":
                    return "hotswap connection to " + url + (open.containsKey(proxy) ? "" : " (closed)");
                case "unwrap":
                    if (((Class<?>) args[0]).isInstance(proxy)) {
                        return proxy;
                    }
                    break;
                case "isWrapperFor":
                    if (((Class<?>) args[0]).isInstance(proxy)) {
                        return true;
                    }
                    break;
                default:
                    if (closedBySwap) {
                        // JDBC's "connection does not exist"; the driver's own message would not say why.
                        throw new SQLException("this connection to " + path + " was closed by a swap (hotswap closes the "
                                + "connections open outside its gate before it replaces the database), and any transaction open "
                                + "on it was rolled back. Take a new connection from dataSource(), and use it inside "
                                + "hotswap.gate().enter() or a request behind hotswap.filter(), where no swap happens", "08003");
                    }
                    break;
            }
            try {
                return method.invoke(physical, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }
    }

    @Override
    public PrintWriter getLogWriter() {
        return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {
        // Logging goes through java.util.logging.
    }

    @Override
    public void setLoginTimeout(int seconds) {
        loginTimeout = seconds;
    }

    @Override
    public int getLoginTimeout() {
        return loginTimeout;
    }

    @Override
    public Logger getParentLogger() {
        return LOG;
    }

    @Override
    public <T> T unwrap(Class<T> type) throws SQLException {
        if (type.isInstance(this)) {
            return type.cast(this);
        }
        throw new SQLFeatureNotSupportedException("not a wrapper for " + type.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> type) {
        return type.isInstance(this);
    }
}
