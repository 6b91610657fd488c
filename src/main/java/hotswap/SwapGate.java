package hotswap;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Logger;

/**
 * The gate every request passes while it uses a managed database. Any number of requests may be
 * inside at once; a swap closes the gate, waits (bounded) until the requests inside have left,
 * replaces the database while new requests wait at the gate, then opens it again.
 *
 * <p>HTTP requests pass it through {@link Hotswap#filter()}. Other code that uses a managed
 * database, such as a background job, passes it the same way:
 * <pre>{@code
 * try (SwapGate.Pass pass = hotswap.gate().enter()) {
 *     // use the database; no swap happens until the pass is closed
 * }
 * }</pre>
 *
 * <p>A thread that is already inside may enter again without waiting, so nested use cannot
 * deadlock against a swap that is waiting for that thread.
 */
public final class SwapGate {
    private static final Logger LOG = Logger.getLogger(SwapGate.class.getName());

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ThreadLocal<int[]> depth = ThreadLocal.withInitial(() -> new int[1]);
    private int inside;
    private int waiting;
    private Thread closedBy;

    SwapGate() {
    }

    /** Proof of passage: close it when the work on the database is done. */
    public interface Pass extends AutoCloseable {
        /** Leaves the gate. Closing a pass twice has no further effect. */
        @Override
        void close();
    }

    /**
     * Enters the gate, waiting while a swap is in progress.
     *
     * @return the pass to close when the work is done
     */
    public Pass enter() {
        return enter(null);
    }

    /**
     * Enters the gate like {@link #enter()}, logging the wait for the request {@code what}.
     */
    Pass enter(String what) {
        int[] mine = depth.get();
        boolean waited = false;
        lock.lock();
        try {
            if (mine[0] == 0 && closedBy != null && closedBy != Thread.currentThread()) {
                waiting++;
                try {
                    if (what != null) {
                        // Logging is I/O: never while holding the lock every request needs when the gate opens.
                        lock.unlock();
                        try {
                            LOG.info(() -> "request queued, waiting for swap to complete: " + what);
                        } finally {
                            lock.lock();
                        }
                    }
                    while (closedBy != null) {
                        changed.awaitUninterruptibly();
                    }
                } finally {
                    waiting--;
                }
                waited = true;
            }
            inside++;
            mine[0]++;
        } finally {
            lock.unlock();
        }
        if (waited && what != null) {
            LOG.info(() -> "swap complete, resuming request: " + what);
        }
        return new Pass() {
            private boolean closed;

            @Override
            public void close() {
                if (closed) {
                    return;
                }
                closed = true;
                lock.lock();
                try {
                    inside--;
                    mine[0]--;
                    if (inside == 0) {
                        changed.signalAll();
                    }
                } finally {
                    lock.unlock();
                }
            }
        };
    }

    /** Requests inside the gate right now. */
    public int inFlight() {
        lock.lock();
        try {
            return inside;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Closes the gate for a swap: new requests wait from now on, and this call waits up to
     * {@code timeoutMillis} for the requests inside to leave. The caller must be outside the gate.
     *
     * @throws StillInFlight when requests are still inside at the deadline; the gate is open again
     */
    void close(long timeoutMillis) throws StillInFlight, InterruptedException {
        lock.lock();
        try {
            if (closedBy != null) {
                throw new IllegalStateException("gate already closed by " + closedBy.getName());
            }
            if (depth.get()[0] > 0) {
                throw new IllegalStateException("a thread inside the gate cannot close it");
            }
            closedBy = Thread.currentThread();
            long remaining = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
            try {
                while (inside > 0) {
                    if (remaining <= 0) {
                        throw new StillInFlight(inside, timeoutMillis);
                    }
                    remaining = changed.awaitNanos(remaining);
                }
            } catch (StillInFlight | InterruptedException | RuntimeException e) {
                closedBy = null;
                changed.signalAll();
                throw e;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Opens the gate after a swap and lets the waiting requests go. Returns how many waited. */
    int open() {
        lock.lock();
        try {
            closedBy = null;
            changed.signalAll();
            return waiting;
        } finally {
            lock.unlock();
        }
    }

    /** Thrown when requests are still inside the gate when a swap's wait runs out. */
    static final class StillInFlight extends Exception {
        final int requests;

        StillInFlight(int requests, long timeoutMillis) {
            super(requests + " request(s) still in flight after " + timeoutMillis + " ms");
            this.requests = requests;
        }
    }
}
