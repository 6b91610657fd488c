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
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
    private final Properties properties;
    private final Set<Connection> open = ConcurrentHashMap.newKeySet();
    private final Object suspendLock = new Object();
    private boolean suspended;
    private int opening;
    /** Keeps the database's WAL and shared memory open between requests; guarded by suspendLock. */
    private Connection anchor;
    private volatile int loginTimeout;

    SwappableDataSource(String url, Properties properties) {
        this.url = url;
        this.properties = properties;
    }

    @Override
    public Connection getConnection() throws SQLException {
        synchronized (suspendLock) {
            while (suspended) {
                try {
                    suspendLock.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SQLException("interrupted while waiting for a database swap to finish", e);
                }
            }
            if (anchor == null) {
                anchor = openAnchor(); // once per swap: requests after the first find it open
            }
            opening++;
        }
        try {
            Connection physical = DriverManager.getConnection(url, properties);
            Connection tracked = (Connection) Proxy.newProxyInstance(
                    Connection.class.getClassLoader(), new Class<?>[] {Connection.class}, new Tracker(physical));
            open.add(tracked);
            return tracked;
        } finally {
            synchronized (suspendLock) {
                opening--;
                suspendLock.notifyAll();
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
            if (anchor == null) {
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

    /** Connections handed out and not yet closed. */
    int openConnections() {
        return open.size();
    }

    /**
     * Stops handing out connections and closes every open one. New {@link #getConnection()} calls
     * wait until {@link #resume()}.
     *
     * @return how many connections were closed
     */
    int suspendAndCloseAll() throws SQLException {
        synchronized (suspendLock) {
            suspended = true;
            // A connection being opened right now must be registered before we close them all.
            while (opening > 0) {
                try {
                    suspendLock.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SQLException("interrupted while closing connections for a swap", e);
                }
            }
        }
        List<Connection> toClose = new ArrayList<>(open);
        SQLException failure = null;
        try {
            closeAnchor();
        } catch (SQLException e) {
            failure = e;
        }
        for (Connection c : toClose) {
            try {
                c.close();
            } catch (SQLException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
        return toClose.size();
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

    /** Lets {@link #getConnection()} open connections again, now on whatever file is at the path. */
    void resume() {
        synchronized (suspendLock) {
            suspended = false;
            suspendLock.notifyAll();
        }
    }

    private final class Tracker implements InvocationHandler {
        private final Connection physical;

        Tracker(Connection physical) {
            this.physical = physical;
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            switch (method.getName()) {
                case "close":
                    open.remove(proxy);
                    physical.close();
                    return null;
                case "equals":
                    return proxy == args[0];
                case "hashCode":
                    return System.identityHashCode(proxy);
                case "toString":
                    return "hotswap connection to " + url + (open.contains(proxy) ? "" : " (closed)");
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
