package hotswap;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Level;
import java.util.logging.LogRecord;
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

    /*
     * No lock on the request path. A request counts itself in, then looks at the gate; a swap closes
     * the gate, then looks at the count. Both are volatile, so at least one of the two sees the other:
     * either the swap waits for the request, or the request sees the gate closed, counts itself out
     * and waits. Waiting requests park, and opening the gate unparks each of them directly: a
     * Condition would wake them one lock hand-off at a time, so the last of a burst would start
     * well after the gate opened.
     */
    private final AtomicInteger inside = new AtomicInteger();
    /**
     * Passes handed out and not yet closed. {@link #inside} also counts, for a moment, a request that
     * arrives at a closed gate before it counts itself out again, so it cannot say who is inside.
     */
    private final AtomicInteger admitted = new AtomicInteger();
    private final AtomicReference<Closure> closure = new AtomicReference<>();
    /**
     * Passes each thread holds. Atomic, though each thread has its own: a pass may be closed on
     * another thread than its own, at the moment its own thread enters again.
     */
    private final ThreadLocal<AtomicInteger> depth = ThreadLocal.withInitial(AtomicInteger::new);

    SwapGate() {
    }

    /** One closing of the gate: who closed it, and the requests that wait for it to open. */
    private static final class Closure {
        final Thread owner;
        final ConcurrentLinkedQueue<Waiter> waiters = new ConcurrentLinkedQueue<>();
        volatile boolean opened;

        Closure(Thread owner) {
            this.owner = owner;
        }

        /** Parks the calling thread until this closure ends, ignoring (but keeping) interrupts. */
        void awaitOpen(String what) {
            Waiter w = new Waiter(Thread.currentThread(), what);
            waiters.add(w);
            boolean interrupted = false;
            while (!opened) { // set before the waiters are unparked, so a late arrival sees it
                LockSupport.park(this);
                if (Thread.interrupted()) {
                    interrupted = true;
                }
            }
            if (w.claim()) { // the opener had already looked at the waiters when this one came: log its own lines
                for (LogRecord r : w.records(Instant.now())) {
                    LOG.log(r);
                }
            }
            if (interrupted) {
                w.thread.interrupt();
            }
        }
    }

    /** A request parked at the closed gate. */
    private static final class Waiter {
        final Thread thread;
        /** The line that says it waits, made (not written) when it began to wait; null when nothing is logged. */
        private final LogRecord queued;
        private final String what;
        /** Whether someone has taken on this waiter's log lines: the opener, or the request itself. */
        private final AtomicBoolean claimed = new AtomicBoolean();

        Waiter(Thread thread, String what) {
            this.thread = thread;
            this.what = what;
            this.queued = what == null || !LOG.isLoggable(Level.INFO) ? null
                    : record("request queued, waiting for swap to complete: " + what);
        }

        boolean claim() {
            return claimed.compareAndSet(false, true);
        }

        /** Its two lines: queued (at the time it was), resuming (at {@code resumedAt}). */
        List<LogRecord> records(Instant resumedAt) {
            if (queued == null) {
                return List.of();
            }
            LogRecord resumed = record("swap complete, resuming request: " + what);
            resumed.setInstant(resumedAt);
            return List.of(queued, resumed);
        }

        private static LogRecord record(String message) {
            LogRecord r = new LogRecord(Level.INFO, message);
            r.setLoggerName(LOG.getName());
            r.setSourceClassName(SwapGate.class.getName());
            r.setSourceMethodName("enter");
            return r;
        }
    }

    /** Proof of passage: close it when the work on the database is done, on whatever thread that is. */
    public interface Pass extends AutoCloseable {
        /** Leaves the gate. Closing a pass twice has no further effect. */
        @Override
        void close();
    }

    /** What opening the gate did: how many requests waited, and when they were let go. */
    static final class Released {
        private final List<Waiter> waiters;
        private final long atNanos;
        private final Instant at;

        private Released(List<Waiter> waiters, long atNanos, Instant at) {
            this.waiters = waiters;
            this.atNanos = atNanos;
            this.at = at;
        }

        int waited() {
            return waiters.size();
        }

        /** {@link System#nanoTime()} when the waiting requests were unparked. */
        long atNanos() {
            return atNanos;
        }

        /** The wall-clock time they were unparked. */
        Instant at() {
            return at;
        }

        /**
         * The waiting requests' log lines, each with the time it happened: queued, and resuming. The
         * opener writes them once the requests are on their way, so that no request waits for the log
         * handler (requests queueing for it to log would be let go one after another).
         */
        List<LogRecord> records() {
            List<LogRecord> all = new ArrayList<>();
            for (Waiter w : waiters) {
                all.addAll(w.records(at));
            }
            return all;
        }

        /** Writes {@link #records()}. */
        void announce() {
            for (LogRecord r : records()) {
                LOG.log(r);
            }
        }
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
     * Enters the gate like {@link #enter()}; a wait for the request {@code what} is logged.
     */
    Pass enter(String what) {
        AtomicInteger mine = depth.get();
        Thread me = Thread.currentThread();
        while (true) {
            inside.incrementAndGet();
            Closure c = closure.get();
            if (c == null || mine.get() > 0 || c.owner == me) {
                break;
            }
            leave(); // the swap is waiting for the count to drop: do not hold it up
            c.awaitOpen(what);
        }
        return admit(mine);
    }

    /**
     * Enters the gate unless a swap has closed it, without waiting: for a look at the database
     * (the status) that must not wait for a swap.
     *
     * @return the pass, or null when a swap holds the gate
     */
    Pass tryEnter() {
        AtomicInteger mine = depth.get();
        inside.incrementAndGet();
        Closure c = closure.get();
        if (c != null && mine.get() == 0 && c.owner != Thread.currentThread()) {
            leave();
            return null;
        }
        return admit(mine);
    }

    private Pass admit(AtomicInteger mine) {
        mine.incrementAndGet();
        admitted.incrementAndGet();
        return new Pass() {
            private final AtomicBoolean closed = new AtomicBoolean();

            @Override
            public void close() {
                if (!closed.compareAndSet(false, true)) {
                    return;
                }
                mine.decrementAndGet();
                admitted.decrementAndGet();
                leave();
            }
        };
    }

    private void leave() {
        if (inside.decrementAndGet() == 0) {
            Closure c = closure.get();
            if (c != null) {
                LockSupport.unpark(c.owner);
            }
        }
    }

    /** Requests waiting at the closed gate right now; 0 while it is open. */
    int waiting() {
        Closure c = closure.get();
        return c == null ? 0 : c.waiters.size();
    }

    /** Requests inside the gate right now. */
    public int inFlight() {
        return admitted.get();
    }

    /**
     * Closes the gate for a swap: new requests wait from now on, and this call waits up to
     * {@code timeoutMillis} for the requests inside to leave. The caller must be outside the gate.
     *
     * @throws StillInFlight when requests are still inside at the deadline; the gate is open again
     */
    void close(long timeoutMillis) throws StillInFlight, InterruptedException {
        if (depth.get().get() > 0) {
            throw new IllegalStateException("a thread inside the gate cannot close it");
        }
        Closure mine = new Closure(Thread.currentThread());
        if (!closure.compareAndSet(null, mine)) {
            throw new IllegalStateException("gate already closed by " + closure.get().owner.getName());
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (inside.get() > 0) {
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                int requests = admitted.get();
                open().announce();
                throw new StillInFlight(requests, timeoutMillis);
            }
            LockSupport.parkNanos(this, remaining);
            if (Thread.interrupted()) {
                open().announce();
                throw new InterruptedException("interrupted while waiting for in-flight requests");
            }
        }
    }

    /**
     * Opens the gate after a swap and lets the waiting requests go, all at once. Write their log
     * lines next ({@link Released#records()}). Opening an open gate does nothing.
     */
    Released open() {
        Closure c = closure.getAndSet(null);
        if (c == null) {
            return new Released(List.of(), System.nanoTime(), Instant.now());
        }
        c.opened = true;
        List<Waiter> woken = new ArrayList<>();
        for (Waiter w : c.waiters) {
            if (w.claim()) {
                woken.add(w);
            }
        }
        for (Waiter w : woken) {
            LockSupport.unpark(w.thread);
        }
        return new Released(woken, System.nanoTime(), Instant.now());
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
