package hotswap;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;

/**
 * A connection pool that behaves as HikariCP does where a swap can tell (HikariCP is no dependency
 * of hotswap's): it keeps {@code size} connections drawn from a DataSource, refilling on a thread of
 * its own; {@link #suspendPool()} makes borrowers wait and closes nothing; {@link #softEvictConnections()}
 * takes idle connections out at once but closes them on another thread up to 8 ms after it returns
 * (busy ones when they come back); a connection being created when the pool is suspended or evicted
 * still joins it.
 */
final class TinyPool implements AutoCloseable {
    private final DataSource source;
    private final int size;
    private final Object lock = new Object();
    private final Deque<Entry> idle = new ArrayDeque<>();
    private final Set<Entry> all = new HashSet<>();
    private final ExecutorService adder = Executors.newSingleThreadExecutor(r -> daemon(r, "tiny-pool-adder"));
    private final ScheduledExecutorService closer = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "tiny-pool-closer"));
    /** What went wrong on the pool's own threads; a test asserts it stays empty. */
    final List<String> failures = Collections.synchronizedList(new ArrayList<>());
    private int creating;
    private boolean suspended;
    private boolean closed;

    private static final class Entry {
        final Connection physical;
        boolean evicted;
        boolean inUse;

        Entry(Connection physical) {
            this.physical = physical;
        }
    }

    TinyPool(DataSource source, int size) {
        this.source = source;
        this.size = size;
        synchronized (lock) {
            fill();
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Borrows a connection, waiting while the pool is suspended or empty (10 s at most); closing it gives it back. */
    Connection getConnection() throws SQLException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        synchronized (lock) {
            while (true) {
                if (closed) {
                    throw new SQLException("pool closed");
                }
                if (!suspended) {
                    Entry e = idle.pollFirst();
                    if (e != null) {
                        e.inUse = true;
                        return lend(e);
                    }
                    fill();
                }
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    throw new SQLException("pool timed out (total=" + all.size() + ", idle=" + idle.size() + ", creating="
                            + creating + ", suspended=" + suspended + ")");
                }
                try {
                    lock.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SQLException("interrupted", e);
                }
            }
        }
    }

    /** As HikariCP's suspendPool(): borrowers wait; no connection is closed. */
    void suspendPool() {
        synchronized (lock) {
            suspended = true;
        }
    }

    /** As HikariCP's resumePool(): refills, and lets borrowers go. */
    void resumePool() {
        synchronized (lock) {
            suspended = false;
            fill();
            lock.notifyAll();
        }
    }

    /** As HikariCP's softEvictConnections(): every connection goes, idle ones now, busy ones when given back, closed later on another thread. */
    void softEvictConnections() {
        synchronized (lock) {
            for (Entry e : new ArrayList<>(all)) {
                e.evicted = true;
                if (!e.inUse) {
                    idle.remove(e);
                    retire(e);
                }
            }
        }
    }

    /** Connections in the pool, idle or lent, and being created. */
    int total() {
        synchronized (lock) {
            return all.size() + creating;
        }
    }

    private void retire(Entry e) {
        all.remove(e);
        closer.schedule(() -> {
            try {
                e.physical.close();
            } catch (SQLException ex) {
                failures.add("closing: " + ex);
            }
            synchronized (lock) {
                fill();
            }
        }, ThreadLocalRandom.current().nextInt(9), TimeUnit.MILLISECONDS);
    }

    /** Starts creating connections up to the pool's size, unless suspended; call it holding the lock. */
    private void fill() {
        while (!closed && !suspended && all.size() + creating < size) {
            creating++;
            adder.execute(this::create);
        }
    }

    private void create() {
        Connection c;
        try {
            c = source.getConnection();
        } catch (SQLException e) {
            failures.add("creating: " + e);
            synchronized (lock) {
                creating--;
            }
            return;
        }
        synchronized (lock) {
            creating--;
            if (closed) {
                quietlyClose(c);
                return;
            }
            Entry e = new Entry(c); // joins even when the pool was suspended or evicted meanwhile, as HikariCP's does
            all.add(e);
            idle.addLast(e);
            lock.notifyAll();
        }
    }

    private void giveBack(Entry e) {
        synchronized (lock) {
            e.inUse = false;
            if (e.evicted) {
                retire(e);
            } else {
                idle.addFirst(e);
                lock.notifyAll();
            }
        }
    }

    private Connection lend(Entry e) {
        boolean[] returned = new boolean[1];
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class},
                (proxy, method, args) -> {
                    switch (method.getName()) {
                        case "close":
                            if (!returned[0]) {
                                returned[0] = true;
                                giveBack(e);
                            }
                            return null;
                        case "isClosed":
                            return returned[0] || e.physical.isClosed();
                        case "equals":
                            return proxy == args[0];
                        case "hashCode":
                            return System.identityHashCode(proxy);
                        default:
                            if (returned[0]) {
                                throw new SQLException("connection given back to the pool");
                            }
                            try {
                                return method.invoke(e.physical, args);
                            } catch (InvocationTargetException ex) {
                                throw ex.getCause();
                            }
                    }
                });
    }

    private static void quietlyClose(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            all.forEach(e -> quietlyClose(e.physical));
            all.clear();
            idle.clear();
            lock.notifyAll();
        }
        adder.shutdownNow();
        closer.shutdownNow();
    }
}
